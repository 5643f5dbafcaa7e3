/**
 * The mechanism both stateless trackers share: a 512-ary tree of 4 KiB
 * pages ("tables") above 32768-bit bitmap pages ("leaves"), indexed by a
 * non-negative integer key below 2^53, linked by physical address.
 *
 * With `tables` table levels above the leaves (1..5), numbered t = tables
 * (the top table, the one the caller owns) down to t = 1 (the table whose
 * entries point at leaves):
 *
 *   table at level t   512 little-endian u64 entries; entry i holds the
 *                      physical address of the level t-1 page (a leaf when
 *                      t = 1), 0 = empty; i = key bits (9t + 14):(9t + 6)
 *                      (t = 1: bits 23:15, t = 2: 32:24, t = 3: 41:33,
 *                      t = 4: 50:42, t = 5: 59:51)
 *   leaf               4096 bytes = 512 little-endian u64 words; key bits
 *                      14:0 give bit b = key & 32767, in word b >> 6, bit
 *                      b & 63 of that word
 *
 * Key bits above 9 * tables + 14 are not stored. Every page is a zeroed
 * page from the tracker's kernel heap; pages are allocated on first use
 * and never freed by a clear (clearing a key clears its bit only).
 *
 * The radix tree uses it with key = (1 << (52 - order)) | (phys >> (12 +
 * order)) and 5 tables; each RFC v1 per-order tree uses key = phys >> (12 +
 * order) and 4..5 tables (orders 0..9).
 *
 * The two callers differ in what a failed allocation leaves and how the
 * bit is set (`TreeMode`): the merged radix tree runs under its mutex, sets
 * the bit with a plain store, and on ENOMEM frees the pages the failed call
 * allocated and clears the entry where its new branch began; RFC v1 takes
 * no lock, sets the bit atomically (set_bit) and leaves a failed branch
 * linked (empty pages hold no bit; the restore passes over them).
 *
 * Keys are JS numbers. The hot path splits a key once into its 32-bit
 * halves and takes every 9-bit field with integer shifts: exact for all
 * keys below 2^53, no BigInt, no allocation. A leaf's 64-bit words are
 * handled as their two 32-bit halves: on a little-endian machine bit b of
 * u64 word w is bit b % 32 of the 32-bit word 2w + (b >= 32), which is
 * simply 32-bit word (key & 32767) >> 5.
 */
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { KernelHeap } from '../../src/ram/kernel-heap.ts';
import { INV_TWO32, PAGE_SIZE, PAGE_WORDS32, type PhysMem } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';

/** Entries per table page. */
export const TABLE_ENTRIES = 512;
/** Key bits resolved by one table level. */
export const TABLE_BITS = 9;
/** Key bits resolved by a leaf: 32768 bits per 4 KiB page. */
export const LEAF_KEY_BITS = 15;

const LEAF_MASK = (1 << LEAF_KEY_BITS) - 1;
/** The most table levels a tree has (the radix tree's 5). */
const MAX_TABLES = 5;

/** The lowest key bit a table at level t (1 = just above the leaves) indexes. */
function tableShift(t: number): number {
  return LEAF_KEY_BITS + TABLE_BITS * (t - 1);
}

/** Key span of one entry of a table at level t, per level (index t). */
const ENTRY_SPAN = Float64Array.from({ length: MAX_TABLES + 1 }, (_, t) => (t === 0 ? 1 : 2 ** tableShift(t)));

/** Entry number at table level t (1..5, so s <= 51 and every shift is in 0..31) of the key hi:lo. */
function tableIndex(hi: number, lo: number, t: number): number {
  const s = tableShift(t);
  // The field straddles the halves at s = 24; hi << (32 - s) supplies its top bits.
  return s < 32 ? ((lo >>> s) | (hi << (32 - s))) & (TABLE_ENTRIES - 1) : (hi >>> (s - 32)) & (TABLE_ENTRIES - 1);
}

/** Bits 63:32 of a key below 2^53, as an int32. */
export function keyHi(key: number): number {
  return (key * INV_TWO32) | 0;
}

/** Bits 31:0 of a key below 2^53, as an int32. */
export function keyLo(key: number): number {
  return key | 0;
}

/** How a tree of this mechanism behaves (see the block comment). */
export interface TreeMode {
  /** Set the leaf bit with an atomic RMW (RFC v1's set_bit) rather than a plain store under a lock. */
  readonly atomicBit: boolean;
  /** On ENOMEM, free the pages the failed call allocated and clear the entry its new branch began at. */
  readonly undoFailedBranch: boolean;
}

/**
 * The old kernel's side: marking and clearing keys in trees whose top
 * table the caller owns, with pages from the caller's heap.
 */
export class BitmapTree {
  /** Pages allocated by the current set() call, for the undo of a failed branch. */
  private readonly fresh = new Float64Array(MAX_TABLES);

  constructor(
    private readonly mem: PhysMem,
    private readonly heap: KernelHeap,
    private readonly mode: TreeMode,
  ) {}

  /**
   * The word index of the page the u64 entry at word index `entry` points
   * to, allocated (zeroed) and linked first if the entry is empty. On ENOMEM
   * nothing is linked.
   */
  child(entry: number): number {
    const mem = this.mem;
    const lo = mem.ld(entry);
    const hi = mem.ld(entry + 1);
    if ((lo | hi) !== 0) return mem.follow(lo, hi);
    const pa = this.heap.allocPage();
    mem.st64(entry, pa);
    return mem.base(pa);
  }

  /**
   * Sets the key hi:lo (its 32-bit halves, see keyHi/keyLo) in the tree whose
   * top table (with `tables` table levels, top included) is at word index
   * `top`. The key travels as two int32s: a key of 2^31 or more passed as a
   * number to a call V8 does not inline costs a 16-byte heap number.
   */
  set(top: number, tables: number, hi: number, lo: number): void {
    const mem = this.mem;
    let page = top;
    let nFresh = 0;
    let branch = -1;
    for (let t = tables; t >= 1; t--) {
      const e = page + 2 * tableIndex(hi, lo, t);
      const lo32 = mem.ld(e);
      const hi32 = mem.ld(e + 1);
      if ((lo32 | hi32) !== 0) {
        page = mem.follow(lo32, hi32);
        continue;
      }
      let pa: number;
      try {
        pa = this.heap.allocPage();
      } catch (err) {
        if (this.mode.undoFailedBranch && nFresh > 0) this.undo(branch, nFresh);
        throw err;
      }
      if (nFresh === 0) branch = e;
      this.fresh[nFresh++] = pa;
      mem.st64(e, pa);
      page = mem.base(pa);
    }
    const word = page + ((lo & LEAF_MASK) >>> 5);
    const bit = 1 << (lo & 31);
    if (this.mode.atomicBit) mem.atomicOr(word, bit);
    else mem.st(word, mem.ld(word) | bit);
  }

  /** Clears the entry where the failed branch began and frees its pages. */
  private undo(branch: number, nFresh: number): void {
    this.mem.st64(branch, 0);
    for (let k = nFresh - 1; k >= 0; k--) this.heap.freePage(this.fresh[k]);
  }

  /** Clears the key hi:lo in the tree whose top table is at word index `top`; a no-op where its path was never built. Frees nothing. */
  clear(top: number, tables: number, hi: number, lo: number): void {
    const mem = this.mem;
    let page = top;
    for (let t = tables; t >= 1; t--) {
      const e = page + 2 * tableIndex(hi, lo, t);
      const lo32 = mem.ld(e);
      const hi32 = mem.ld(e + 1);
      if ((lo32 | hi32) === 0) return;
      page = mem.follow(lo32, hi32);
    }
    const word = page + ((lo & LEAF_MASK) >>> 5);
    const bit = 1 << (lo & 31);
    if (this.mode.atomicBit) mem.atomicAnd(word, ~bit);
    else mem.st(word, mem.ld(word) & ~bit);
  }
}

/**
 * The next kernel's side: checks that a pointer read from the image (the
 * FDT or a table entry at `from`) is a whole carried page before following
 * it; returns its word index.
 */
export function enterPage(walk: RestoreWalk, pa: number, what: string, from: number): number {
  if (!Number.isSafeInteger(pa) || pa % PAGE_SIZE !== 0) notPageAligned(what, pa);
  return walk.enter(pa, PAGE_SIZE, what, from);
}

/** Called for each leaf found: its word index and the key of its bit 0. */
export type LeafVisitor = (leaf: number, firstKey: number) => void;

/**
 * Depth-first, in key order, over all 512 entries of every table under
 * `table` (the word index of a page at `tablePa`, already entered, at level
 * `tables`); enters each child page and hands each leaf to `onLeaf`.
 * `keyBase` is the first key under `table`.
 *
 * The keys stay exact although they may exceed 2^53 in a corrupt image:
 * each is a multiple of 2^15 below 2^60, so it needs at most 45
 * significant bits; the visitor judges whether it is a valid key.
 */
export function visitLeaves(walk: RestoreWalk, table: number, tablePa: number, tables: number, keyBase: number, onLeaf: LeafVisitor): void {
  const mem = walk.mem;
  const span = ENTRY_SPAN[tables];
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const child = mem.ld64(table + 2 * i);
    if (child === 0) continue;
    const first = keyBase + i * span;
    const from = tablePa + 8 * i;
    if (tables === 1) onLeaf(enterPage(walk, child, 'bitmap', from), first);
    else visitLeaves(walk, enterPage(walk, child, 'table', from), child, tables - 1, first, onLeaf);
  }
}

/** Reports each set bit b of the leaf at word index `leaf` as the folio of `order` at firstPhys + b * (4096 << order). */
export function reportLeafBits(walk: RestoreWalk, leaf: number, firstPhys: number, order: number): void {
  walk.reportBits(leaf, PAGE_WORDS32, firstPhys, order);
}

function notPageAligned(what: string, pa: number): never {
  throw new KhoError('ECORRUPT', `${what} pointer ${hex(pa)} is not page aligned`);
}
