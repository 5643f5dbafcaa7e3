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
 * and never freed (clearing a key clears its bit only).
 *
 * The radix tree uses it with key = (1 << (52 - order)) | (phys >> (12 +
 * order)) and 5 tables; each RFC v1 per-order tree uses key = phys >> (12 +
 * order) and 3..5 tables.
 *
 * Keys are JS numbers. The hot path splits a key once into its u32 halves
 * and takes every 9-bit field with integer shifts: exact for all keys below
 * 2^53, no BigInt, no allocation. A leaf's 64-bit words are handled as
 * their two u32 halves: on a little-endian machine bit b of u64 word w is
 * bit b % 32 of the u32 at byte 8w + 4 * (b >= 32), which is simply u32
 * number (key & 32767) >> 5.
 */
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { KernelHeap } from '../../src/ram/kernel-heap.ts';
import { PAGE_SIZE, type PhysMem } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';

/** Entries per table page. */
export const TABLE_ENTRIES = 512;
/** Key bits resolved by one table level. */
export const TABLE_BITS = 9;
/** Key bits resolved by a leaf: 32768 bits per 4 KiB page. */
export const LEAF_KEY_BITS = 15;

const LEAF_MASK = (1 << LEAF_KEY_BITS) - 1;
const TWO_32 = 4294967296;

/** The lowest key bit a table at level t (1 = just above the leaves) indexes. */
function tableShift(t: number): number {
  return LEAF_KEY_BITS + TABLE_BITS * (t - 1);
}

/** Entry number at table level t (1..5, so s <= 51 and every shift is in 0..31) of the key hi:lo. */
function tableIndex(hi: number, lo: number, t: number): number {
  const s = tableShift(t);
  // The field straddles the halves at s = 24; hi << (32 - s) supplies its top bits.
  return s < 32 ? ((lo >>> s) | (hi << (32 - s))) & (TABLE_ENTRIES - 1) : (hi >>> (s - 32)) & (TABLE_ENTRIES - 1);
}

/**
 * The old kernel's side: marking and clearing keys in trees whose top
 * table the caller owns, with pages from the caller's heap.
 */
export class BitmapTree {
  constructor(
    private readonly mem: PhysMem,
    private readonly heap: KernelHeap,
  ) {}

  /**
   * The page the u64 entry at `entry` points to, allocated (zeroed) and
   * linked first if the entry is empty. On ENOMEM nothing is linked here;
   * pages linked by earlier steps of the same walk stay, empty: they hold
   * no bit, so the restore passes over them.
   */
  child(entry: number): number {
    let pa = this.mem.load64(entry);
    if (pa === 0) {
      pa = this.heap.allocPage();
      this.mem.store64(entry, pa);
    }
    return pa;
  }

  /** Sets `key` in the tree under `top` (which has `tables` table levels, top included). */
  set(top: number, tables: number, key: number): void {
    const hi = (key / TWO_32) >>> 0;
    const lo = key >>> 0;
    let page = top;
    for (let t = tables; t >= 1; t--) page = this.child(page + tableIndex(hi, lo, t) * 8);
    const word = page + ((lo & LEAF_MASK) >>> 5) * 4;
    this.mem.store32(word, this.mem.load32(word) | (1 << (lo & 31)));
  }

  /** Clears `key`; a no-op where its path was never built. Frees nothing. */
  clear(top: number, tables: number, key: number): void {
    const hi = (key / TWO_32) >>> 0;
    const lo = key >>> 0;
    let page = top;
    for (let t = tables; t >= 1; t--) {
      page = this.mem.load64(page + tableIndex(hi, lo, t) * 8);
      if (page === 0) return;
    }
    const word = page + ((lo & LEAF_MASK) >>> 5) * 4;
    this.mem.store32(word, this.mem.load32(word) & ~(1 << (lo & 31)));
  }
}

/**
 * The next kernel's side: checks that a pointer read from the image (the
 * FDT or a table entry) is a page-aligned page of RAM before following it.
 * RestoreWalk.enter checks only 8-byte alignment; every page here is a
 * whole page.
 */
export function enterPage(walk: RestoreWalk, pa: number, what: string): number {
  if (!Number.isSafeInteger(pa) || pa % PAGE_SIZE !== 0) {
    throw new KhoError('ECORRUPT', `${what} pointer ${hex(pa)} is not page aligned`);
  }
  return walk.enter(pa, PAGE_SIZE, what);
}

/** Called for each leaf found: its (entered) address and the key of its bit 0. */
export type LeafVisitor = (leaf: number, firstKey: number) => void;

/**
 * Depth-first, in key order, over all 512 entries of every table under
 * `table` (already entered, at level `tables`); enters each child page and
 * hands each leaf to `onLeaf`. `keyBase` is the first key under `table`.
 *
 * The keys stay exact although they may exceed 2^53 in a corrupt image:
 * each is a multiple of 2^15 below 2^60, so it needs at most 45
 * significant bits; the visitor judges whether it is a valid key.
 */
export function visitLeaves(walk: RestoreWalk, table: number, tables: number, keyBase: number, onLeaf: LeafVisitor): void {
  const mem = walk.mem;
  const span = 2 ** tableShift(tables);
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const child = mem.load64(table + i * 8);
    if (child === 0) continue;
    const first = keyBase + i * span;
    if (tables === 1) onLeaf(enterPage(walk, child, 'bitmap'), first);
    else visitLeaves(walk, enterPage(walk, child, 'table'), tables - 1, first, onLeaf);
  }
}

/** Reports each set bit b of `leaf` as the folio of `order` at firstPhys + b * (4096 << order). */
export function reportLeafBits(walk: RestoreWalk, leaf: number, firstPhys: number, order: number): void {
  const mem = walk.mem;
  const folio = PAGE_SIZE * 2 ** order;
  for (let w = 0; w < PAGE_SIZE / 4; w++) {
    let x = mem.load32(leaf + w * 4);
    while (x !== 0) {
      const bit = 31 - Math.clz32(x & -x);
      x &= x - 1;
      walk.folio(firstPhys + (w * 32 + bit) * folio, order);
    }
  }
}
