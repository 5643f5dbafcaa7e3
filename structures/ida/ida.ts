/**
 * IDA-shaped tracker: the structure Matthew Wilcox suggested on the list
 * ("Sounds like the IDA data structure"), handed over in place.
 *
 * One IDA per order 0..18. The id of a folio at `phys` with order `o` is
 * `phys >> (12 + o)` (below 2^40 >> o); id `i` lives in xarray slot index
 * `xi = i / 1024`, bit `i % 1024` of that slot's IDA bitmap. Nothing is
 * serialized: the next kernel walks the live trees, whose entries hold
 * physical addresses.
 *
 * Layout in RAM (all little-endian, u64 words):
 *
 *   root page (one zeroed 4 KiB page, FDT property "preserved-memory-map")
 *     0x00 + 8*o   u64 xa_head of order o's xarray (0 = empty)
 *
 *   an entry (xa_head, or a node slot) is tagged by its low two bits:
 *     0                  empty
 *     ...x1  value       (bits << 1) | 1: an inline IDA bitmap whose set
 *                        bits all lie below bit 63 (bit b of the id block
 *                        is bit b + 1 of the word)
 *     ...00  pointer     physical address of a 128-byte IDA bitmap
 *                        (1024 bits, 16 u64 words, bit b in word b / 64)
 *     ...10  internal    node physical address | 2 (above 4096; the
 *                        kernel's sibling/retry/zero internal entries
 *                        0..4096 are never stored here)
 *
 *   The trees are xarrays (../xarray/xarray.ts, whose block comment gives
 *   the struct xa_node layout, growth, erase and shrink rules): one per
 *   order, each a bare head word, so a node's `array` field holds the
 *   physical address of its order's head word. Value and pointer entries
 *   sit in the head (xi 0, no node) or in shift-0 nodes; node `count` and
 *   `nr_values` are kept as the xarray keeps them; marks stay zero (no id
 *   allocation, see README). The next kernel reads each node's shift byte,
 *   so the height needs no other record; xi is below 2^30 >> o, which
 *   bounds the top shift (24 for order 0, 6 for 18).
 *
 * What is IDA-specific, and lives here: ids and 1024-bit leaves, inline
 * value bitmaps and their conversion to 128-byte bitmaps, the root page of
 * per-order heads, the all-or-nothing allocation of a preserve (it reserves
 * the nodes the xarray reports missing, and the bitmap, before changing
 * anything), and the next kernel's restore of this format.
 *
 * Freeing, as the kernel's ida_free and xa_erase do: clearing the last bit
 * of an inline value erases the slot; clearing the last bit of a 128-byte
 * bitmap frees it and erases the slot (a bitmap is never turned back into a
 * value); the xarray then frees every node the erase emptied on the way up
 * and shrinks the top while it holds only slot 0.
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { FROM_FDT, type RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { SlabCache } from '../../src/ram/kernel-heap.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { INV_TWO32, PAGE_SIZE, type PhysMem } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { FOLIO_BYTES, INV_FOLIO_BYTES, MAX_ORDER, TrackerBase, statelessLifecycle } from '../../src/tracker/tracker.ts';
import type { KhoAbi } from '../../src/tracker/kho-abi.ts';
import {
  NODE_SLOTS,
  XA_CHUNK_SHIFT,
  XA_CHUNK_SIZE,
  XA_NODE_MIN,
  XA_NODE_SIZE,
  XArrayOps,
  followEntry,
  levelsFor,
  wordOf,
} from '../xarray/xarray.ts';

export const IDA_COMPATIBLE = 'kho-ida-v1';
/** Not a kernel ABI: its own compatible, with mainline's client subnodes (preserved-data, blob-size). */
export const IDA_ABI: KhoAbi = { compatible: IDA_COMPATIBLE, subtree: 'preserved-data+blob-size' };
/** A hypothetical in-place tracker on mainline: mainline's lifecycle (unpreserve, no finalize state, no abort). */
export const IDA_LIFECYCLE = statelessLifecycle('mainline lifecycle (not a kernel tracker)', 'ida');
export const IDA_ROOT_PROP = 'preserved-memory-map';
const NR_ORDERS = MAX_ORDER + 1;

export const IDA_BITMAP_BITS = 1024;
export const IDA_CHUNK_SIZE = 128;
const INV_IDA_BITMAP_BITS = 1 / IDA_BITMAP_BITS;
const IDA_WORDS32 = IDA_CHUNK_SIZE / 4;
/** Bits an inline value entry holds: a u64 less its tag bit. */
export const BITS_PER_XA_VALUE = 63;

const TWO32 = 4294967296;
/** Page frame numbers are below 2^40 (52-bit physical addresses). */
const PFN_BITS = 40;

/** The largest top-node shift a valid tree of this order can have (ids below 2^40 >> order). */
export function maxShift(order: number): number {
  return (levelsFor(2 ** (PFN_BITS - order - 10) - 1) - 1) * XA_CHUNK_SHIFT;
}

export class IdaTracker extends TrackerBase {
  readonly id = 'ida' as const;
  readonly serializes = false;
  /** Physical address of the page of 19 xa_head words. */
  readonly root: number;
  /** The xarray operations, on bare head words (headOffset 0): `xa` is an order's head word. */
  private readonly xa: XArrayOps;
  private readonly bitmaps: SlabCache;
  /** The bitmap allocated ahead of a change, so that a change never fails half done. */
  private spareBitmap = 0;
  /** Word index of the root page. */
  private readonly rootBase: number;
  /** Word index of the IDA's xa_lock (a spinlock in kernel static data): every ida_alloc and ida_free takes it. */
  private readonly lock: number;

  constructor(machine: Machine) {
    super(machine, IDA_LIFECYCLE, IDA_ABI);
    this.root = this.heap.allocPage();
    this.rootBase = this.mem.base(this.root);
    this.xa = new XArrayOps(this.mem, this.heap.slab(XA_NODE_SIZE), 0);
    this.bitmaps = this.heap.slab(IDA_CHUNK_SIZE);
    this.lock = this.mem.allocStatic(1);
    this.khoInit();
  }

  protected insert(phys: number, order: number): void {
    const mem = this.mem;
    mem.atomicCas(this.lock, 0, 1);
    try {
      this.insertLocked(phys, order);
    } finally {
      mem.st(this.lock, 0);
    }
  }

  private insertLocked(phys: number, order: number): void {
    const mem = this.mem;
    const xa = this.xa;
    const id = phys * INV_FOLIO_BYTES[order];
    const xi = Math.floor(id * INV_IDA_BITMAP_BITS);
    const bit = (id - xi * IDA_BITMAP_BITS) | 0;
    const head = this.root + 8 * order;
    let slot = xa.lookupAt(this.rootBase + 2 * order, xi);
    if (slot >= 0) {
      // The common case: the bitmap exists and gains the bit in place.
      const lo = mem.ld(slot);
      const hi = mem.ld(slot + 1);
      if (lo & 1) {
        if (bit < BITS_PER_XA_VALUE) {
          setValueBit(mem, slot, lo, hi, bit);
          return;
        }
      } else if ((lo | hi) !== 0) {
        setBitmapBit(mem, followEntry(mem, lo, hi), bit);
        return;
      }
    }

    // A new entry (and maybe nodes), or an inline value turning into a bitmap:
    // take every object first, so that ENOMEM leaves the tree as it was.
    const newNodes = slot < 0 ? xa.missingNodes : 0;
    if (newNodes > 0) xa.reserve(newNodes);
    if (bit >= BITS_PER_XA_VALUE) {
      try {
        this.spareBitmap = this.bitmaps.alloc();
      } catch (e) {
        xa.unreserve();
        throw e;
      }
    }
    if (slot < 0) slot = xa.create(head, xi);
    this.setBit(head, slot, xa.slotNode, bit);
  }

  protected remove(phys: number, order: number): void {
    const mem = this.mem;
    mem.atomicCas(this.lock, 0, 1);
    try {
      this.removeLocked(phys, order);
    } finally {
      mem.st(this.lock, 0);
    }
  }

  private removeLocked(phys: number, order: number): void {
    const mem = this.mem;
    const id = phys * INV_FOLIO_BYTES[order];
    const xi = Math.floor(id * INV_IDA_BITMAP_BITS);
    const bit = (id - xi * IDA_BITMAP_BITS) | 0;
    const head = this.root + 8 * order;
    const slot = this.xa.lookupAt(this.rootBase + 2 * order, xi);
    if (slot < 0) return;

    const lo = mem.ld(slot);
    const hi = mem.ld(slot + 1);
    if ((lo | hi) === 0) return;
    // ida_free: a bit that is not set is left alone (the kernel warns and returns).
    if (lo & 1) {
      // A value entry: clear the bit, erase the slot once no bit is left.
      if (bit >= BITS_PER_XA_VALUE) return;
      const mask = bit < 31 ? 1 << (bit + 1) : 1 << (bit - 31);
      const half = bit < 31 ? lo : hi;
      if ((half & mask) === 0) return;
      const rest = half & ~mask;
      if (bit < 31 ? rest === 1 && hi === 0 : rest === 0 && lo === 1) this.xa.storeAt(head, slot, this.xa.slotNode, 0, 0);
      else mem.st(bit < 31 ? slot : slot + 1, rest);
      return;
    }
    // A bitmap: clear the bit; free the bitmap once it is empty.
    const bitmap = (lo >>> 0) + hi * TWO32;
    const b = followEntry(mem, lo, hi);
    const word = b + (bit >>> 5);
    const w = mem.ld(word);
    const mask = 1 << (bit & 31);
    if ((w & mask) === 0) return;
    mem.st(word, w & ~mask);
    if (bitmapEmpty(mem, b)) {
      this.bitmaps.free(bitmap);
      this.xa.storeAt(head, slot, this.xa.slotNode, 0, 0);
    }
  }

  protected handover(): Record<string, FdtValue> {
    return { [IDA_ROOT_PROP]: u64Prop(this.root) };
  }

  /**
   * Sets `bit` in the IDA bitmap at `slot` (a word index, inside `node`, or
   * the head when node is 0), storing a new entry through the xarray (which
   * keeps count and nr_values) when the slot is empty or a value must become
   * a bitmap.
   */
  private setBit(head: number, slot: number, node: number, bit: number): void {
    const mem = this.mem;
    const lo = mem.ld(slot);
    const hi = mem.ld(slot + 1);
    if ((lo | hi) === 0) {
      if (bit < BITS_PER_XA_VALUE) {
        // The value entry (1 << bit) << 1 | 1.
        if (bit < 31) this.xa.storeAt(head, slot, node, (1 << (bit + 1)) | 1, 0);
        else this.xa.storeAt(head, slot, node, 1, 1 << (bit - 31));
      } else {
        const bitmap = this.takeBitmap();
        setBitmapBit(mem, wordOf(mem, bitmap), bit);
        this.xa.storeAt(head, slot, node, bitmap | 0, (bitmap * INV_TWO32) | 0);
      }
    } else if (lo & 1) {
      if (bit < BITS_PER_XA_VALUE) {
        setValueBit(mem, slot, lo, hi, bit);
      } else {
        // A high bit: the inline bits become word 0 of a real bitmap.
        const bitmap = this.takeBitmap();
        const b = wordOf(mem, bitmap);
        mem.st(b, (lo >>> 1) | ((hi & 1) << 31));
        mem.st(b + 1, hi >>> 1);
        setBitmapBit(mem, b, bit);
        this.xa.storeAt(head, slot, node, bitmap | 0, (bitmap * INV_TWO32) | 0);
      }
    } else {
      setBitmapBit(mem, followEntry(mem, lo, hi), bit);
    }
  }

  private takeBitmap(): number {
    const bitmap = this.spareBitmap;
    this.spareBitmap = 0;
    return bitmap;
  }
}

/** Sets `bit` (< 63) in the value entry (lo, hi) at word index `slot`: bit b is word bit b + 1. */
function setValueBit(mem: PhysMem, slot: number, lo: number, hi: number, bit: number): void {
  if (bit < 31) mem.st(slot, lo | (1 << (bit + 1)));
  else mem.st(slot + 1, hi | (1 << (bit - 31)));
}

/** Sets `bit` of the 128-byte bitmap at word index `b`. */
function setBitmapBit(mem: PhysMem, b: number, bit: number): void {
  const word = b + (bit >>> 5);
  mem.st(word, mem.ld(word) | (1 << (bit & 31)));
}

/** Whether the bitmap at word index `b` has no bit set. */
function bitmapEmpty(mem: PhysMem, b: number): boolean {
  for (let w = 0; w < IDA_WORDS32; w++) if (mem.ld(b + w) !== 0) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Next kernel: walk every order's tree from the root page.

const corrupt = (why: string): never => {
  throw new KhoError('ECORRUPT', why);
};

export function restoreIda(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, IDA_COMPATIBLE);
  const rootPa = getU64(fdt, IDA_ROOT_PROP);
  const root = walk.enter(rootPa, PAGE_SIZE, 'root', FROM_FDT);
  for (let order = 0; order < NR_ORDERS; order++) restoreEntry(walk, root + 2 * order, rootPa + 8 * order, -1, 0, order);
}

/**
 * Restores the entry at word index `entry` (address `entryPa`): the head
 * (parentShift -1) or a slot of a node of `parentShift`, covering slot
 * indices from `xi`.
 */
function restoreEntry(walk: RestoreWalk, entry: number, entryPa: number, parentShift: number, xi: number, order: number): void {
  const mem = walk.mem;
  const lo = mem.ld(entry);
  const hi = mem.ld(entry + 1);
  if ((lo | hi) === 0) return;
  const tag = lo & 3;
  const pa = (lo >>> 0) + (hi >>> 0) * TWO32;
  if (tag !== 2) {
    // A bitmap: only in the head (for xi 0) or in a shift-0 node.
    if (parentShift > 0) corrupt(`order ${order}: bitmap entry ${hex(pa)} in a node of shift ${parentShift}`);
    if (tag & 1) reportValue(walk, lo, hi, xi, order);
    else walk.reportBits(walk.enter(pa, IDA_CHUNK_SIZE, 'bitmap', entryPa), IDA_WORDS32, xi * IDA_BITMAP_BITS * FOLIO_BYTES[order], order);
    return;
  }
  if (parentShift === 0) corrupt(`order ${order}: node entry below a shift-0 node`);
  if (hi === 0 && lo >= 0 && lo <= XA_NODE_MIN) corrupt(`order ${order}: internal entry ${hex(lo)} is not a node`);
  const nodePa = pa - 2;
  const node = walk.enter(nodePa, XA_NODE_SIZE, 'node', entryPa);
  const shift = mem.ld(node) & 0xff;
  if (parentShift < 0) {
    if (shift % XA_CHUNK_SHIFT !== 0 || shift > maxShift(order)) {
      corrupt(`order ${order}: top node shift ${shift} (at most ${maxShift(order)}, a multiple of 6)`);
    }
  } else if (shift !== parentShift - XA_CHUNK_SHIFT) {
    corrupt(`order ${order}: node shift ${shift} under a node of shift ${parentShift}`);
  }
  const span = 2 ** shift;
  for (let k = 0; k < XA_CHUNK_SIZE; k++) {
    restoreEntry(walk, node + NODE_SLOTS / 4 + 2 * k, nodePa + NODE_SLOTS + 8 * k, shift, xi + k * span, order);
  }
}

/** Reports the inline bits of a value entry: id bit b is word bit b + 1. */
function reportValue(walk: RestoreWalk, lo: number, hi: number, xi: number, order: number): void {
  const first = xi * IDA_BITMAP_BITS * FOLIO_BYTES[order];
  walk.reportWord(lo >>> 1, first, order);
  walk.reportWord(hi, first + 31 * FOLIO_BYTES[order], order);
}
