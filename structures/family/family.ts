/**
 * A parameterized family of stateless, page-backed trackers: one
 * implementation whose four parameters span the shapes of `radix`,
 * `radix-rfc` and (as a page-backed counterpart) `ida`. README.md has the
 * format; this comment is its summary.
 *
 * Parameters:
 *   leafBytes  L = 64, 128, 512 or 4096: a leaf holds 8L bits, i.e. resolves
 *              LB = log2(8L) = 9, 10, 12 or 15 key bits
 *   fanout     F = 64 or 512 u64 entries per table (512 B or 4 KiB), i.e.
 *              TB = 6 or 9 key bits per table level
 *   encoding   'key': one tree, key = (1 << (52 - o)) | (pa >> (12 + o)), the
 *              merged radix tree's order bit; 'perorder': one tree per
 *              order, key = pa >> (12 + o), under an order table (RFC v1)
 *   leafKind   'bitmap', or 'extent': a sorted list of runs that becomes a
 *              bitmap in place when it outgrows the leaf (Roaring's rule)
 *
 * Height (fixed per order; tables above the leaf):
 *   'key'       T = ceil((53 - LB) / TB) for every order: the 53-bit key
 *   'perorder'  T(o) = ceil((52 - o - LB) / TB): the tree indexes a u64
 *               address, as RFC v1's page tables do (64 - 12 - o key bits)
 *
 * Objects: every table and leaf is carved from pages the tracker takes
 * whole (heap.allocPage) and hands over whole. Tables and leaves live in
 * separate pages ("table pages", "leaf pages"); each kind is bump-allocated:
 * object k of a page sits at byte k * size, the pointer to it is its full
 * physical address (page | offset), and a new page of that kind is taken
 * when the current one has no free slot left (4096 / size objects per
 * page: 8 tables of 512 B, 64/32/8/1 leaves of 64/128/512/4096 B; 1 table
 * of 4 KiB). Nothing is ever freed, except by a failed add.
 *
 * The root table (the key tree's top table, or the per-order order table
 * whose entry o points at order o's top table, entries 19.. zero) is the
 * first table the tracker carves, when it is created.
 *
 * A table at level t (1 = just above the leaves) holds F little-endian u64
 * entries indexed by key bits [LB + TB(t - 1), LB + TB t); an entry is 0
 * (empty) or the physical address of the child. Entries of level 1 point at
 * leaves; for extent-kind points bit 0 of such an entry says what the leaf
 * holds: 1 = an extent list, 0 = a bitmap (leaf addresses are 64-byte
 * aligned, so the low 6 bits are free).
 *
 * Leaves: bitmap: key bit b = key & (8L - 1) is bit b & 63 of u64 word
 * b >> 6. Extent list: L / 4 little-endian u32 words, each start | (length
 * << 16) for the run of bits [start, start + length), length >= 1, sorted
 * by start, runs neither overlapping nor touching, unused words 0 after the
 * last run. When an insert (or a split by a removal) would need run L/4 + 1,
 * the list is rewritten in place as the bitmap of the same bits and the
 * entry's bit 0 cleared; a bitmap never goes back to a list.
 *
 * Locking and failure, as the merged radix tree: every add and delete takes
 * a mutex word (kernel static data) and stores bits plainly under it; an add
 * that meets ENOMEM frees the pages it took, zeroes every entry it wrote
 * (the first is where its new branch began) and returns the slots it carved
 * to their pages, so the tracker is byte for byte as before the call.
 *
 * FDT: compatible "kho-family-v1"; u32 (4 raw little-endian bytes, as
 * test_kho's u32s) leaf-bytes, fanout, order-encoding (0 key, 1 per-order),
 * leaf-kind (0 bitmap, 1 extents); u64 preserved-memory-map = the root
 * table's address. One restore reads any point from the image alone.
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { FROM_FDT, type RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { INV_TWO32, PAGE_SIZE, PHYS_LIMIT } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import type { KhoAbi } from '../../src/tracker/kho-abi.ts';
import {
  FOLIO_BYTES,
  INV_FOLIO_BYTES,
  MAX_ORDER,
  TrackerBase,
  log2Floor,
  statelessLifecycle,
  type Lifecycle,
  type StructureId,
} from '../../src/tracker/tracker.ts';

// ---------------------------------------------------------------------------
// Parameters.

export const LEAF_BYTES = [64, 128, 512, 4096] as const;
export const FANOUTS = [64, 512] as const;
export const ENCODINGS = ['key', 'perorder'] as const;
export const LEAF_KINDS = ['bitmap', 'extent'] as const;

export type LeafBytes = (typeof LEAF_BYTES)[number];
export type Fanout = (typeof FANOUTS)[number];
export type OrderEncoding = (typeof ENCODINGS)[number];
export type LeafKind = (typeof LEAF_KINDS)[number];

export interface FamilyParams {
  readonly leafBytes: LeafBytes;
  readonly fanout: Fanout;
  readonly encoding: OrderEncoding;
  readonly leafKind: LeafKind;
}

export type FamilyId = `fam-l${LeafBytes}-f${Fanout}-${OrderEncoding}-${LeafKind}`;

export function familyId(p: FamilyParams): FamilyId {
  return `fam-l${p.leafBytes}-f${p.fanout}-${p.encoding}-${p.leafKind}`;
}

/** Every point, in id order: leaf bytes, fanout, encoding, leaf kind. */
export const ALL_PARAMS: readonly FamilyParams[] = LEAF_BYTES.flatMap((leafBytes) =>
  FANOUTS.flatMap((fanout) => ENCODINGS.flatMap((encoding) => LEAF_KINDS.map((leafKind) => ({ leafBytes, fanout, encoding, leafKind })))),
);

export const FAMILY_COMPATIBLE = 'kho-family-v1';
/** Not a kernel ABI: its own compatible, with mainline's client subnodes (preserved-data, blob-size). */
export const FAMILY_ABI: KhoAbi = { compatible: FAMILY_COMPATIBLE, subtree: 'preserved-data+blob-size' };
export const PROP_ROOT = 'preserved-memory-map';
export const PROP_LEAF_BYTES = 'leaf-bytes';
export const PROP_FANOUT = 'fanout';
export const PROP_ENCODING = 'order-encoding';
export const PROP_LEAF_KIND = 'leaf-kind';
/** FDT values of order-encoding and leaf-kind. */
export const ENCODING_CODE: Readonly<Record<OrderEncoding, number>> = { key: 0, perorder: 1 };
export const LEAF_KIND_CODE: Readonly<Record<LeafKind, number>> = { bitmap: 0, extent: 1 };

export function familyLifecycle(id: string): Lifecycle {
  return statelessLifecycle('mainline lifecycle (not a kernel tracker)', id);
}

/** Key bits of the order-bit key: bit 52 is order 0's order bit. */
const KEY_BITS = 53;
/** Key bits of a per-order tree's index over a u64 address: 64 - 12 - order. */
const PER_ORDER_KEY_BITS_0 = 64 - 12;
const ORDER_BIT_0 = 52;
const NR_ORDERS = MAX_ORDER + 1;
const TWO32 = 4294967296;
/** Low bits of a leaf entry that may carry a tag (objects are at least 64-byte aligned). */
const TAG_MASK = 63;
const EXTENT_TAG = 1;
/** The in-page offset bits of an object pointer's low half, tag bits dropped. */
const OFFSET_MASK = 0xfc0;

/** Table levels above the leaves that order `order`'s folios cross (the per-order order table not counted). */
export function tableLevels(p: FamilyParams, order: number): number {
  const lb = Math.log2(8 * p.leafBytes);
  const tb = Math.log2(p.fanout);
  const bits = p.encoding === 'key' ? KEY_BITS : PER_ORDER_KEY_BITS_0 - order;
  return Math.ceil((bits - lb) / tb);
}

/** Levels of order `order`'s path counting the leaf (RFC v1 and the merged tree count so: 6 for order 0 at 4 KiB / 512). */
export function familyLevels(p: FamilyParams, order: number): number {
  return tableLevels(p, order) + 1;
}

/** What follows from the parameters, computed once per point. */
export class Geometry {
  readonly leafBits: number;
  readonly tableBits: number;
  readonly tableBytes: number;
  readonly leafWords: number;
  readonly leafMask: number;
  readonly tableMask: number;
  readonly tablesPerPage: number;
  readonly leavesPerPage: number;
  readonly perOrder: boolean;
  readonly extents: boolean;
  /** Table levels per order. */
  readonly tables: Int32Array;
  /** The most table levels any order has. */
  readonly maxTables: number;
  /** shift[t]: the lowest key bit a table at level t indexes. */
  readonly shift: Int32Array;
  /** span[t]: keys under one entry of a table at level t. */
  readonly span: Float64Array;

  constructor(readonly params: FamilyParams) {
    this.leafBits = Math.log2(8 * params.leafBytes);
    this.tableBits = Math.log2(params.fanout);
    this.tableBytes = 8 * params.fanout;
    this.leafWords = params.leafBytes / 4;
    this.leafMask = 8 * params.leafBytes - 1;
    this.tableMask = params.fanout - 1;
    this.tablesPerPage = PAGE_SIZE / this.tableBytes;
    this.leavesPerPage = PAGE_SIZE / params.leafBytes;
    this.perOrder = params.encoding === 'perorder';
    this.extents = params.leafKind === 'extent';
    this.tables = Int32Array.from({ length: NR_ORDERS }, (_, o) => tableLevels(params, o));
    this.maxTables = Math.max(...this.tables);
    this.shift = Int32Array.from({ length: this.maxTables + 2 }, (_, t) => this.leafBits + this.tableBits * (t - 1));
    this.span = Float64Array.from({ length: this.maxTables + 2 }, (_, t) => 2 ** (this.leafBits + this.tableBits * (t - 1)));
  }
}

const GEOMETRIES = new Map<string, Geometry>();

export function geometryOf(p: FamilyParams): Geometry {
  const id = familyId(p);
  let g = GEOMETRIES.get(id);
  if (!g) GEOMETRIES.set(id, (g = new Geometry(p)));
  return g;
}

/** Per order: the order bit's value. */
const ORDER_BIT_VALUE = Float64Array.from({ length: NR_ORDERS }, (_, o) => 2 ** (ORDER_BIT_0 - o));

/** Entry number at the table level whose lowest key bit is `s` (9..57), of the key hi:lo. */
function tableIndex(hi: number, lo: number, s: number, mask: number): number {
  return s < 32 ? ((lo >>> s) | (hi << (32 - s))) & mask : (hi >>> (s - 32)) & mask;
}

/** Bits 0..b of an int32 (b in 0..31). */
function upTo(b: number): number {
  return b === 31 ? -1 : ((1 << (b + 1)) - 1) | 0;
}

// ---------------------------------------------------------------------------
// The old kernel's side.

export class FamilyTracker extends TrackerBase {
  readonly id: StructureId;
  readonly serializes = false;
  readonly params: FamilyParams;
  readonly geometry: Geometry;
  /** Physical address of the root table. */
  readonly root: number;
  private readonly rootBase: number;
  private readonly mutex: number;
  private readonly perOrder: boolean;
  private readonly extents: boolean;
  private readonly leafWords: number;
  private readonly leafMask: number;
  private readonly tableMask: number;
  private readonly shift: Int32Array;
  private readonly tables: Int32Array;
  private readonly keyTables: number;
  private readonly tableBytes: number;
  private readonly leafBytes: number;
  private readonly tablesPerPage: number;
  private readonly leavesPerPage: number;
  /** The bump pointers: the next free table and leaf, and how many are left in their page. */
  private tNext = 0;
  private tLeft = 0;
  private lNext = 0;
  private lLeft = 0;
  /** The current add's undo log: entries it wrote, pages it took, the bump pointers before its first carve. */
  private readonly written = new Int32Array(16);
  private nWritten = 0;
  private readonly fresh = new Float64Array(16);
  private nFresh = 0;
  private sTNext = 0;
  private sTLeft = 0;
  private sLNext = 0;
  private sLLeft = 0;
  /** Scratch for rewriting an extent list as a bitmap. */
  private readonly scratch: Int32Array;

  constructor(machine: Machine, params: FamilyParams, id: FamilyId, lifecycle: Lifecycle) {
    super(machine, lifecycle, FAMILY_ABI);
    this.id = id;
    this.params = params;
    const g = geometryOf(params);
    this.geometry = g;
    this.perOrder = g.perOrder;
    this.extents = g.extents;
    this.leafWords = g.leafWords;
    this.leafMask = g.leafMask;
    this.tableMask = g.tableMask;
    this.shift = g.shift;
    this.tables = g.tables;
    this.keyTables = g.tables[0];
    this.tableBytes = g.tableBytes;
    this.leafBytes = params.leafBytes;
    this.tablesPerPage = g.tablesPerPage;
    this.leavesPerPage = g.leavesPerPage;
    this.scratch = new Int32Array(g.leafWords);
    this.root = this.carveTable();
    this.nFresh = 0;
    this.rootBase = this.mem.wbase(this.root) + ((this.root & 4095) >>> 2);
    this.mutex = this.mem.allocStatic(1);
    this.khoInit();
  }

  protected insert(phys: number, order: number): void {
    this.mem.atomicCas(this.mutex, 0, 1);
    try {
      this.set(phys, order);
    } finally {
      this.mem.atomicCas(this.mutex, 1, 0);
    }
  }

  protected remove(phys: number, order: number): void {
    this.mem.atomicCas(this.mutex, 0, 1);
    this.clear(phys, order);
    this.mem.atomicCas(this.mutex, 1, 0);
  }

  protected handover(): Record<string, FdtValue> {
    const p = this.params;
    return {
      [PROP_LEAF_BYTES]: u32Prop(p.leafBytes),
      [PROP_FANOUT]: u32Prop(p.fanout),
      [PROP_ENCODING]: u32Prop(ENCODING_CODE[p.encoding]),
      [PROP_LEAF_KIND]: u32Prop(LEAF_KIND_CODE[p.leafKind]),
      [PROP_ROOT]: u64Prop(this.root),
    };
  }

  /** Marks a validated folio: walks its path (building what is missing, see grow), then sets its bit in the leaf. */
  private set(phys: number, order: number): void {
    const mem = this.mem;
    const mask = this.tableMask;
    const shift = this.shift;
    let key: number;
    let t: number;
    let e: number;
    let hi: number;
    let lo: number;
    if (this.perOrder) {
      key = phys * INV_FOLIO_BYTES[order];
      hi = (key * INV_TWO32) | 0;
      lo = key | 0;
      t = this.tables[order] + 1;
      e = this.rootBase + 2 * order;
    } else {
      key = ORDER_BIT_VALUE[order] + phys * INV_FOLIO_BYTES[order];
      hi = (key * INV_TWO32) | 0;
      lo = key | 0;
      t = this.keyTables;
      e = this.rootBase + 2 * tableIndex(hi, lo, shift[t], mask);
    }
    // e is an entry of a table at level t, pointing at level t - 1 (a leaf when t = 1).
    while (t > 1) {
      const a = mem.ld(e);
      const b = mem.ld(e + 1);
      const table = (a | b) !== 0 ? mem.follow(a, b) + ((a & OFFSET_MASK) >>> 2) : this.grow(e, false);
      t--;
      e = table + 2 * tableIndex(hi, lo, shift[t], mask);
    }
    let a = mem.ld(e);
    const b = mem.ld(e + 1);
    let leaf: number;
    if ((a | b) !== 0) {
      leaf = mem.follow(a, b) + ((a & OFFSET_MASK) >>> 2);
    } else {
      leaf = this.grow(e, true);
      a = mem.ld(e);
    }
    this.nWritten = 0;
    this.nFresh = 0;
    const bit = lo & this.leafMask;
    if ((a & EXTENT_TAG) === 0) {
      const w = leaf + (bit >>> 5);
      mem.st(w, mem.ld(w) | (1 << (bit & 31)));
    } else {
      this.extentInsert(leaf, e, bit);
    }
  }

  /** Clears a folio's bit; a no-op where its path was never built. Frees nothing. */
  private clear(phys: number, order: number): void {
    const mem = this.mem;
    const mask = this.tableMask;
    const shift = this.shift;
    let key: number;
    let t: number;
    if (this.perOrder) {
      key = phys * INV_FOLIO_BYTES[order];
      t = this.tables[order] + 1;
    } else {
      key = ORDER_BIT_VALUE[order] + phys * INV_FOLIO_BYTES[order];
      t = this.keyTables;
    }
    const hi = (key * INV_TWO32) | 0;
    const lo = key | 0;
    let e = this.perOrder ? this.rootBase + 2 * order : this.rootBase + 2 * tableIndex(hi, lo, shift[t], mask);
    while (t > 1) {
      const a = mem.ld(e);
      const b = mem.ld(e + 1);
      if ((a | b) === 0) return;
      t--;
      e = mem.follow(a, b) + ((a & OFFSET_MASK) >>> 2) + 2 * tableIndex(hi, lo, shift[t], mask);
    }
    const a = mem.ld(e);
    const b = mem.ld(e + 1);
    if ((a | b) === 0) return;
    const leaf = mem.follow(a, b) + ((a & OFFSET_MASK) >>> 2);
    const bit = lo & this.leafMask;
    if ((a & EXTENT_TAG) === 0) {
      const w = leaf + (bit >>> 5);
      mem.st(w, mem.ld(w) & ~(1 << (bit & 31)));
    } else {
      this.extentRemove(leaf, e, bit);
    }
  }

  // -- Allocation: carving tables and leaves from whole pages, and the undo of a failed add.

  /**
   * Carves a table (or a leaf) for the empty entry at word index `e`, links
   * it and returns its word index. On ENOMEM undoes the whole add first.
   */
  private grow(e: number, leaf: boolean): number {
    if (this.nWritten === 0) {
      this.sTNext = this.tNext;
      this.sTLeft = this.tLeft;
      this.sLNext = this.lNext;
      this.sLLeft = this.lLeft;
    }
    let pa: number;
    try {
      pa = leaf ? this.carveLeaf() : this.carveTable();
    } catch (err) {
      this.undo();
      throw err;
    }
    const mem = this.mem;
    mem.st64(e, leaf && this.extents ? pa + EXTENT_TAG : pa);
    this.written[this.nWritten++] = e;
    return mem.wbase(pa) + ((pa & 4095) >>> 2);
  }

  private carveTable(): number {
    if (this.tLeft === 0) {
      const page = this.takePage();
      this.tNext = page + this.tableBytes;
      this.tLeft = this.tablesPerPage - 1;
      return page;
    }
    const pa = this.tNext;
    this.tNext += this.tableBytes;
    this.tLeft--;
    return pa;
  }

  private carveLeaf(): number {
    if (this.lLeft === 0) {
      const page = this.takePage();
      this.lNext = page + this.leafBytes;
      this.lLeft = this.leavesPerPage - 1;
      return page;
    }
    const pa = this.lNext;
    this.lNext += this.leafBytes;
    this.lLeft--;
    return pa;
  }

  private takePage(): number {
    const pa = this.heap.allocPage();
    this.fresh[this.nFresh++] = pa;
    return pa;
  }

  /** A failed add: every entry it wrote back to 0, the pages it took freed, the slots it carved given back. */
  private undo(): void {
    const mem = this.mem;
    for (let k = this.nWritten - 1; k >= 0; k--) mem.st64(this.written[k], 0);
    for (let k = this.nFresh - 1; k >= 0; k--) this.heap.freePage(this.fresh[k]);
    if (this.nWritten > 0 || this.nFresh > 0) {
      this.tNext = this.sTNext;
      this.tLeft = this.sTLeft;
      this.lNext = this.sLNext;
      this.lLeft = this.sLLeft;
    }
    this.nWritten = 0;
    this.nFresh = 0;
  }

  // -- Extent lists.

  /** The first run index whose start is above `bit` (unused words count as above everything). */
  private upper(leaf: number, bit: number): number {
    const mem = this.mem;
    let lo = 0;
    let hi = this.leafWords;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = mem.ld(leaf + mid);
      if (x !== 0 && (x & 0xffff) <= bit) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private extentInsert(leaf: number, e: number, bit: number): void {
    const mem = this.mem;
    const cap = this.leafWords;
    const p = this.upper(leaf, bit);
    const next = p < cap ? mem.ld(leaf + p) : 0;
    if (p > 0) {
      const prev = mem.ld(leaf + p - 1);
      const ps = prev & 0xffff;
      const pl = prev >>> 16;
      const pe = ps + pl;
      if (bit < pe) return;
      if (bit === pe) {
        if (next !== 0 && (next & 0xffff) === bit + 1) {
          mem.st(leaf + p - 1, ps | ((pl + 1 + (next >>> 16)) << 16));
          this.deleteRun(leaf, p);
        } else {
          mem.st(leaf + p - 1, ps | ((pl + 1) << 16));
        }
        return;
      }
    }
    if (next !== 0 && (next & 0xffff) === bit + 1) {
      mem.st(leaf + p, bit | (((next >>> 16) + 1) << 16));
      return;
    }
    if (mem.ld(leaf + cap - 1) !== 0) {
      // Run cap + 1: the list becomes the bitmap of the same bits, in place.
      this.toBitmap(leaf, e);
      const w = leaf + (bit >>> 5);
      mem.st(w, mem.ld(w) | (1 << (bit & 31)));
      return;
    }
    this.insertRun(leaf, p, bit | 0x10000);
  }

  private extentRemove(leaf: number, e: number, bit: number): void {
    const mem = this.mem;
    const p = this.upper(leaf, bit);
    if (p === 0) return;
    const prev = mem.ld(leaf + p - 1);
    const ps = prev & 0xffff;
    const pl = prev >>> 16;
    const pe = ps + pl;
    if (bit >= pe) return;
    if (pl === 1) {
      this.deleteRun(leaf, p - 1);
    } else if (bit === ps) {
      mem.st(leaf + p - 1, (ps + 1) | ((pl - 1) << 16));
    } else if (bit === pe - 1) {
      mem.st(leaf + p - 1, ps | ((pl - 1) << 16));
    } else if (mem.ld(leaf + this.leafWords - 1) !== 0) {
      // The split needs run cap + 1.
      this.toBitmap(leaf, e);
      const w = leaf + (bit >>> 5);
      mem.st(w, mem.ld(w) & ~(1 << (bit & 31)));
    } else {
      mem.st(leaf + p - 1, ps | ((bit - ps) << 16));
      this.insertRun(leaf, p, (bit + 1) | ((pe - bit - 1) << 16));
    }
  }

  /** Inserts run word `x` at index p, shifting the later runs up (the list has room). */
  private insertRun(leaf: number, p: number, x: number): void {
    const mem = this.mem;
    let n = p;
    while (mem.ld(leaf + n) !== 0) n++;
    mem.copyWords(leaf + p + 1, leaf + p, n - p);
    mem.st(leaf + p, x);
  }

  /** Deletes run p, shifting the later runs down. */
  private deleteRun(leaf: number, p: number): void {
    const mem = this.mem;
    const cap = this.leafWords;
    let k = p;
    for (; k + 1 < cap; k++) {
      const x = mem.ld(leaf + k + 1);
      mem.st(leaf + k, x);
      if (x === 0) return;
    }
    mem.st(leaf + k, 0);
  }

  /** Rewrites the extent list at `leaf` as the bitmap of its bits and clears the tag of its entry `e`. */
  private toBitmap(leaf: number, e: number): void {
    const mem = this.mem;
    const cap = this.leafWords;
    const bits = this.scratch;
    bits.fill(0);
    for (let k = 0; k < cap; k++) {
      const x = mem.ld(leaf + k);
      if (x === 0) break;
      const s = x & 0xffff;
      const end = s + (x >>> 16);
      let w = s >>> 5;
      const last = (end - 1) >>> 5;
      if (w === last) {
        bits[w] |= upTo((end - 1) & 31) & (-1 << (s & 31));
      } else {
        bits[w] |= -1 << (s & 31);
        for (w++; w < last; w++) bits[w] = -1;
        bits[last] |= upTo((end - 1) & 31);
      }
    }
    for (let k = 0; k < cap; k++) mem.st(leaf + k, bits[k]);
    mem.st(e, mem.ld(e) & ~EXTENT_TAG);
  }
}

/** A u32 FDT property: 4 raw little-endian bytes (native u32, as test_kho's). */
export function u32Prop(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

// ---------------------------------------------------------------------------
// The next kernel: one restore for every point, its parameters from the FDT.

function getU32(fdt: FdtNode, name: string): number {
  const v = fdt.props.get(name);
  if (!v) throw new KhoError('ENOEXEC', `FDT property "${name}" is missing`);
  if (v.length !== 4) throw new KhoError('ENOEXEC', `FDT property "${name}" is ${v.length} bytes, not 4`);
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
}

function pick<T>(fdt: FdtNode, name: string, values: readonly T[], code: (v: T) => number): T {
  const got = getU32(fdt, name);
  const v = values.find((x) => code(x) === got);
  if (v === undefined) throw new KhoError('ENOEXEC', `FDT property "${name}" is ${got}, not one of ${values.map(code).join(', ')}`);
  return v;
}

/** The parameters an image's FDT declares (ENOEXEC when one is missing, malformed or not a family value). */
export function paramsOfFdt(fdt: FdtNode): FamilyParams {
  expectCompatible(fdt, FAMILY_COMPATIBLE);
  return {
    leafBytes: pick(fdt, PROP_LEAF_BYTES, LEAF_BYTES, (v) => v),
    fanout: pick(fdt, PROP_FANOUT, FANOUTS, (v) => v),
    encoding: pick(fdt, PROP_ENCODING, ENCODINGS, (v) => ENCODING_CODE[v]),
    leafKind: pick(fdt, PROP_LEAF_KIND, LEAF_KINDS, (v) => LEAF_KIND_CODE[v]),
  };
}

export function restoreFamily(walk: RestoreWalk, fdt: FdtNode): void {
  const g = geometryOf(paramsOfFdt(fdt));
  const rootPa = getU64(fdt, PROP_ROOT);
  const root = enterObject(walk, rootPa, g.tableBytes, 'root table', FROM_FDT);
  const mem = walk.mem;
  if (!g.perOrder) {
    visitTable(walk, g, root, rootPa, g.tables[0], 0, -1);
    return;
  }
  for (let o = 0; o < NR_ORDERS; o++) {
    const lo = mem.ld(root + 2 * o);
    const hi = mem.ld(root + 2 * o + 1);
    if ((lo | hi) === 0) continue;
    const top = mem.ld64(root + 2 * o);
    visitTable(walk, g, enterObject(walk, top, g.tableBytes, 'table', rootPa + 8 * o), top, g.tables[o], 0, o);
  }
  for (let i = NR_ORDERS; i < g.params.fanout; i++) {
    if ((mem.ld(root + 2 * i) | mem.ld(root + 2 * i + 1)) !== 0) noSuchOrder(i, rootPa + 8 * i);
  }
}

/**
 * Depth-first, in key order, over the table at word index `table` (address
 * `tablePa`, level `t`, first key `keyBase`) of order `order` (-1 in the
 * key tree). An entry whose keys cannot be valid (at or above 2^53 in the
 * key tree, or above 2^52 bytes in a per-order tree) is rejected where it
 * is found, so every key computed stays exact.
 */
function visitTable(walk: RestoreWalk, g: Geometry, table: number, tablePa: number, t: number, keyBase: number, order: number): void {
  const mem = walk.mem;
  const span = g.span[t];
  const n = g.params.fanout;
  const keyLimit = order < 0 ? 2 ** KEY_BITS : PHYS_LIMIT * INV_FOLIO_BYTES[order];
  for (let i = 0; i < n; i++) {
    const lo = mem.ld(table + 2 * i);
    const hi = mem.ld(table + 2 * i + 1);
    if ((lo | hi) === 0) continue;
    const first = keyBase + i * span;
    const from = tablePa + 8 * i;
    if (first >= keyLimit) badKeys(first, order, from);
    const entry = (lo >>> 0) + (hi >>> 0) * TWO32;
    if (t > 1) {
      visitTable(walk, g, enterObject(walk, entry, g.tableBytes, 'table', from), entry, t - 1, first, order);
      continue;
    }
    const tag = lo & TAG_MASK;
    if (tag !== 0 && !(tag === EXTENT_TAG && g.extents)) badTag(entry, from);
    const leafPa = entry - tag;
    const leaf = enterObject(walk, leafPa, g.params.leafBytes, tag ? 'extent leaf' : 'bitmap leaf', from);
    let o = order;
    let firstPhys: number;
    if (o >= 0) {
      firstPhys = first * FOLIO_BYTES[o];
    } else {
      if (first === 0) badLeafKey(leafPa, first);
      const orderBit = log2Floor(first);
      o = ORDER_BIT_0 - orderBit;
      if (o < 0 || o > MAX_ORDER) badLeafKey(leafPa, first);
      firstPhys = (first - 2 ** orderBit) * FOLIO_BYTES[o];
    }
    if (tag === 0) walk.reportBits(leaf, g.leafWords, firstPhys, o);
    else reportExtents(walk, g, leaf, leafPa, firstPhys, o);
  }
}

/**
 * Reports the runs of an extent list, checking that they are sorted,
 * neither overlap nor touch, stay inside the leaf, and that every word
 * after the last run is 0: so no folio is reported twice.
 */
function reportExtents(walk: RestoreWalk, g: Geometry, leaf: number, leafPa: number, firstPhys: number, order: number): void {
  const mem = walk.mem;
  const cap = g.leafWords;
  const bits = 8 * g.params.leafBytes;
  const folio = FOLIO_BYTES[order];
  let prevEnd = -1;
  let k = 0;
  for (; k < cap; k++) {
    const x = mem.ld(leaf + k);
    if (x === 0) break;
    const s = x & 0xffff;
    const len = x >>> 16;
    const end = s + len;
    if (len === 0 || s <= prevEnd || end > bits) badRun(leafPa, k, s, len);
    prevEnd = end;
    let w = s >>> 5;
    const last = (end - 1) >>> 5;
    if (w === last) {
      walk.reportWord(upTo((end - 1) & 31) & (-1 << (s & 31)), firstPhys + 32 * w * folio, order);
    } else {
      walk.reportWord(-1 << (s & 31), firstPhys + 32 * w * folio, order);
      for (w++; w < last; w++) walk.reportWord(-1, firstPhys + 32 * w * folio, order);
      walk.reportWord(upTo((end - 1) & 31), firstPhys + 32 * last * folio, order);
    }
  }
  for (; k < cap; k++) if (mem.ld(leaf + k) !== 0) pastTheList(leafPa, k);
}

/** Enters an object of `size` bytes at `pa` (read at `from`), which must be aligned to its size. */
function enterObject(walk: RestoreWalk, pa: number, size: number, what: string, from: number): number {
  if (!Number.isSafeInteger(pa) || pa % size !== 0) misaligned(what, pa, from);
  return walk.enter(pa, size, what, from);
}

// Cold helpers: error messages are built only here.

function corrupt(why: string): never {
  throw new KhoError('ECORRUPT', why);
}

function where(from: number): string {
  return from === FROM_FDT ? 'the FDT' : hex(from);
}

function misaligned(what: string, pa: number, from: number): never {
  corrupt(`${what} pointer ${hex(pa)} (read at ${where(from)}) is not aligned to its size`);
}

function badTag(entry: number, from: number): never {
  corrupt(`leaf entry ${hex(entry)} at ${hex(from)} has tag bits this format does not use`);
}

function badKeys(first: number, order: number, from: number): never {
  corrupt(`entry at ${hex(from)} covers keys from ${hex(first)}, ${order < 0 ? 'at or above 2^53' : `above 2^52 bytes of order ${order}`}`);
}

function noSuchOrder(i: number, at: number): never {
  corrupt(`order table entry ${i} at ${hex(at)} is set: orders stop at ${MAX_ORDER}`);
}

function badLeafKey(leafPa: number, first: number): never {
  const why = first === 0 ? 'has no order bit' : `has order ${ORDER_BIT_0 - log2Floor(first)}, not 0..${MAX_ORDER}`;
  corrupt(`leaf ${hex(leafPa)} under key ${hex(first)} ${why}`);
}

function pastTheList(leafPa: number, k: number): never {
  corrupt(`extent leaf ${hex(leafPa)}: word ${k} follows the end of its list and is not 0`);
}

function badRun(leafPa: number, k: number, start: number, len: number): never {
  corrupt(`extent leaf ${hex(leafPa)}: run ${k} (start ${start}, length ${len}) is empty, out of order, touching the previous one or past the leaf`);
}
