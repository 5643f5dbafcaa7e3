/**
 * KHO's tracker of Linux 6.16 .. 6.19: two levels of xarrays with bitmaps at
 * the leaves, serialized into a chunk list at finalize. One class for the
 * three structures; what differs is PRESERVE_BITS and the lifecycle
 * (see index.ts):
 *
 *   xarray-6.16  6.16 and 6.17, 512-byte bitmaps: no unpreserve, abort is
 *                destructive, preserve is EBUSY while finalized
 *   xarray-6.18  the same lifecycle, page-sized bitmaps
 *   xarray-6.19  page-sized bitmaps; unpreserve exists, abort does not,
 *                finalize may run again (re-serializing, freeing the old
 *                chunk list), no finalized state
 *
 * Live layout in RAM (the running kernel; all little-endian):
 *
 *   struct kho_mem_track (16 bytes, kmalloc-16)        = struct xarray orders
 *     orders[o]    -> struct kho_mem_phys (16 bytes, kmalloc-16, made on the
 *                     first preserve of order o) = struct xarray phys_bits
 *     phys_bits[i] -> bitmap of PRESERVE_BITS bits (zeroed on allocation)
 *
 *   A folio at pfn p with order o sets bit (p >> o) % PRESERVE_BITS of
 *   phys_bits[(p >> o) / PRESERVE_BITS] of orders[o].
 *
 *   PRESERVE_BITS = 4096 (6.16, 6.17): 512-byte bitmaps from kmalloc-512,
 *                   one per 16 MiB of order-0 memory.
 *   PRESERVE_BITS = 32768 (6.18, 6.19): one whole zeroed page per bitmap,
 *                   one per 128 MiB of order-0 memory.
 *
 *   The xarrays and their 576-byte nodes are the kernel's (see xarray.ts).
 *   Preserve is xa_load (lockless), and on a miss allocate + xa_store (under
 *   xa_lock), at both levels, then an atomic set_bit. Clearing a bit
 *   (6.19's unpreserve, and every version's rollback of a failed range
 *   preserve) is clear_bit and frees nothing. A bit set twice or cleared
 *   twice is harmless, as in the kernel.
 *
 * Serialized form (written by finalize; the next kernel reads only this,
 * the bitmaps, and the FDT):
 *
 *   chunk = one zeroed 4096-byte page
 *     0x00  u64 next          physical address of the next chunk, 0 ends
 *     0x08  u32 order
 *     0x0c  u32 num_elms      0..255
 *     0x10  255 x { u64 phys_start = (index * PRESERVE_BITS) << (order + 12),
 *                   u64 bitmap     = physical address of the live bitmap }
 *
 *   Orders ascending, each order's bitmaps in ascending index; a new chunk
 *   starts at each order and when the current one is full. Every bitmap the
 *   xarray holds is emitted, even one whose bits were all cleared.
 *
 * Abort (6.16..6.18, and a finalize that fails part-way): frees the chunk
 * list, every bitmap, every kho_mem_phys and every xarray node (xa_destroy
 * of each phys_bits and of orders); the tracker is empty afterwards, the
 * root FDT's page included, and the clients must preserve again.
 *
 * FDT root: compatible = "kho-v1", preserved-memory-map = u64 address of the
 * first chunk; client subnodes carry `fdt` (kho-abi.ts).
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { KHO_V1 } from '../../src/tracker/kho-abi.ts';
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { SlabCache } from '../../src/ram/kernel-heap.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SHIFT, PAGE_SIZE } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { FOLIO_BYTES, INV_FOLIO_BYTES, type Lifecycle, MAX_ORDER, type RestoreFn, TrackerBase } from '../../src/tracker/tracker.ts';
import { FROM_FDT } from '../../src/kexec/restore-walk.ts';
import { XARRAY_SIZE, XA_HEAD, XA_NODE_SIZE, XArrayOps, followEntry, wordOf } from './xarray.ts';

/** The trackers built on this class (xarray-prealloc is ../xarray-prealloc's subclass). */
export type XarrayId = 'xarray-6.16' | 'xarray-6.18' | 'xarray-6.19' | 'xarray-prealloc';

export const KHO_V1_COMPATIBLE = KHO_V1.compatible;
export const PRESERVED_MEMORY_MAP = 'preserved-memory-map';

/** Chunk layout: 16-byte header, then 16-byte {phys_start, bitmap} entries. */
export const CHUNK_NEXT = 0;
export const CHUNK_ORDER = 8;
export const CHUNK_NUM_ELMS = 12;
export const CHUNK_HDR_SIZE = 16;
export const CHUNK_ENTRY_SIZE = 16;
export const BITMAPS_PER_CHUNK = (PAGE_SIZE - CHUNK_HDR_SIZE) / CHUNK_ENTRY_SIZE;


export class XarrayTracker extends TrackerBase {
  readonly serializes = true;
  readonly bitmapBytes: number;
  /** 1 / PRESERVE_BITS (a power of two: exact). */
  private readonly invPreserveBits: number;
  private readonly xa: XArrayOps;
  /** kmalloc-16: struct kho_mem_track and every struct kho_mem_phys. */
  private readonly small: SlabCache;
  /** kmalloc-512 for 6.16's bitmaps; null when bitmaps are whole pages. */
  private readonly bitmapSlab: SlabCache | null;
  /** struct kho_mem_track, whose only member is the `orders` xarray. */
  private readonly orders: number;
  /** Word index of its xa_head (a slab object keeps its host slot while allocated). */
  private readonly ordersHead: number;
  /** First chunk of the published chunk list (0: none). */
  private firstChunk = 0;
  /** First chunk of a list handover() wrote that is not yet published (0: none). */
  private pendingChunk = 0;

  constructor(
    machine: Machine,
    readonly id: XarrayId,
    readonly preserveBits: number,
    lifecycle: Lifecycle,
  ) {
    super(machine, lifecycle, KHO_V1);
    this.bitmapBytes = preserveBits / 8;
    this.invPreserveBits = 1 / preserveBits;
    if (!Number.isInteger(this.bitmapBytes) || this.bitmapBytes % 8 !== 0 || this.bitmapBytes > PAGE_SIZE) {
      throw new KhoError('EINVAL', `PRESERVE_BITS ${preserveBits} is not a whole number of u64 words within a page`);
    }
    this.xa = new XArrayOps(this.mem, this.heap.slab(XA_NODE_SIZE));
    this.small = this.heap.slab(XARRAY_SIZE);
    this.bitmapSlab = this.bitmapBytes === PAGE_SIZE ? null : this.heap.slab(this.bitmapBytes);
    this.orders = this.small.alloc();
    this.ordersHead = wordOf(this.mem, this.orders + XA_HEAD);
    this.khoInit();
  }

  protected insert(phys: number, order: number): void {
    const mem = this.mem;
    const xa = this.xa;
    const pfnHigh = phys * INV_FOLIO_BYTES[order];
    const index = Math.floor(pfnHigh * this.invPreserveBits);
    // xa_load(orders, order): the order's struct kho_mem_phys, made on first use.
    let p = xa.lookupAt(this.ordersHead, order);
    let lo = p < 0 ? 0 : mem.ld(p);
    let hi = p < 0 ? 0 : mem.ld(p + 1);
    let physHead: number;
    if ((lo | hi) !== 0) {
      physHead = followEntry(mem, lo, hi) + XA_HEAD / 4;
    } else {
      const physxa = this.addOrder(order);
      physHead = wordOf(mem, physxa + XA_HEAD);
    }
    // xa_load(phys_bits, index): the bitmap, made on first use.
    p = xa.lookupAt(physHead, index);
    lo = p < 0 ? 0 : mem.ld(p);
    hi = p < 0 ? 0 : mem.ld(p + 1);
    let bits: number;
    if ((lo | hi) !== 0) {
      bits = followEntry(mem, lo, hi);
    } else {
      const bitmap = this.addBitmap(order, this.xa.load(this.orders, order), index);
      bits = wordOf(mem, bitmap);
    }
    const bit = (pfnHigh - index * this.preserveBits) | 0;
    mem.atomicOr(bits + (bit >>> 5), 1 << (bit & 31));
  }

  protected remove(phys: number, order: number): void {
    const mem = this.mem;
    const xa = this.xa;
    const pfnHigh = phys * INV_FOLIO_BYTES[order];
    const index = Math.floor(pfnHigh * this.invPreserveBits);
    let p = xa.lookupAt(this.ordersHead, order);
    if (p < 0) return;
    let lo = mem.ld(p);
    let hi = mem.ld(p + 1);
    if ((lo | hi) === 0) return;
    p = xa.lookupAt(followEntry(mem, lo, hi) + XA_HEAD / 4, index);
    if (p < 0) return;
    lo = mem.ld(p);
    hi = mem.ld(p + 1);
    if ((lo | hi) === 0) return;
    const bit = (pfnHigh - index * this.preserveBits) | 0;
    mem.atomicAnd(followEntry(mem, lo, hi) + (bit >>> 5), ~(1 << (bit & 31)));
  }

  /** kho_mem_serialize: the chunk list, pending until published. Frees what it wrote if an allocation fails. */
  protected handover(): Record<string, FdtValue> {
    const xa = this.xa;
    const mem = this.mem;
    let first = 0;
    let chunk = 0;
    try {
      let from = 0;
      while (xa.find(this.orders, from)) {
        // The inner finds overwrite xa.found*, so keep this order's values.
        const order = xa.foundIndex;
        const physxa = xa.foundEntry;
        const folio = FOLIO_BYTES[order];
        chunk = this.newChunk(chunk, order);
        if (first === 0) first = chunk;
        let n = 0;
        let index = 0;
        while (xa.find(physxa, index)) {
          if (n === BITMAPS_PER_CHUNK) {
            chunk = this.newChunk(chunk, order);
            n = 0;
          }
          const c = wordOf(mem, chunk);
          const elm = c + (CHUNK_HDR_SIZE + n * CHUNK_ENTRY_SIZE) / 4;
          mem.st64(elm, xa.foundIndex * this.preserveBits * folio);
          mem.st64(elm + 2, xa.foundEntry);
          mem.st(c + CHUNK_NUM_ELMS / 4, ++n);
          index = xa.foundIndex + 1;
        }
        from = order + 1;
      }
    } catch (e) {
      this.releaseChunks(first);
      throw e;
    }
    this.pendingChunk = first;
    return { [PRESERVED_MEMORY_MAP]: u64Prop(first) };
  }

  /** 6.19's kho_update_memory_map: the new list replaces the published one, which is freed. */
  protected override commitHandover(): void {
    this.releaseChunks(this.firstChunk);
    this.firstChunk = this.pendingChunk;
    this.pendingChunk = 0;
  }

  protected override dropPendingHandover(): void {
    this.releaseChunks(this.pendingChunk);
    this.pendingChunk = 0;
  }

  /**
   * kho_abort (6.16..6.18): the chunks, every bitmap, every kho_mem_phys,
   * and the nodes of every xarray. kho_mem_track stays (a static in the
   * kernel), with an empty `orders`.
   */
  protected override destroy(): void {
    this.dropPendingHandover();
    this.releaseChunks(this.firstChunk);
    this.firstChunk = 0;
    const xa = this.xa;
    for (let from = 0; xa.find(this.orders, from); ) {
      const order = xa.foundIndex;
      const physxa = xa.foundEntry;
      from = order + 1;
      for (let i = 0; xa.find(physxa, i); ) {
        i = xa.foundIndex + 1;
        if (this.bitmapSlab) this.bitmapSlab.free(xa.foundEntry);
        else this.heap.freePage(xa.foundEntry);
      }
      xa.destroy(physxa);
      this.small.free(physxa);
    }
    xa.destroy(this.orders);
  }

  /** xarray nodes of `orders` plus those of every phys_bits (or of one order's). */
  countNodes(order?: number): number {
    if (order !== undefined) {
      const physxa = this.xa.load(this.orders, order);
      return physxa === 0 ? 0 : this.xa.countNodes(physxa);
    }
    let n = this.xa.countNodes(this.orders);
    for (let from = 0; this.xa.find(this.orders, from); ) {
      from = this.xa.foundIndex + 1;
      n += this.xa.countNodes(this.xa.foundEntry);
    }
    return n;
  }

  /** Bitmaps held for `order`. */
  countBitmaps(order: number): number {
    const physxa = this.xa.load(this.orders, order);
    let n = 0;
    if (physxa !== 0) for (let i = 0; this.xa.find(physxa, i); i = this.xa.foundIndex + 1) n++;
    return n;
  }

  /** The first order's struct kho_mem_phys: creating it on first use (the kernel's xa_cmpxchg path). */
  protected addOrder(order: number): number {
    const physxa = this.small.alloc();
    try {
      this.xa.store(this.orders, order, physxa);
    } catch (e) {
      this.small.free(physxa);
      throw e;
    }
    return physxa;
  }

  /** xa_load_or_alloc's miss: a zeroed bitmap for `order`, stored at `index` of its phys_bits. */
  protected addBitmap(order: number, physxa: number, index: number): number {
    const bits = this.bitmapSlab ? this.bitmapSlab.alloc() : this.heap.allocPage();
    try {
      this.xa.store(physxa, index, bits);
    } catch (e) {
      if (this.bitmapSlab) this.bitmapSlab.free(bits);
      else this.heap.freePage(bits);
      throw e;
    }
    return bits;
  }

  /** new_chunk: a chunk page for `order`, linked after `prev`. */
  private newChunk(prev: number, order: number): number {
    const chunk = this.allocChunk();
    this.mem.store32(chunk + CHUNK_ORDER, order);
    if (prev !== 0) this.mem.store64(prev + CHUNK_NEXT, chunk);
    return chunk;
  }

  /** A page for the chunk list, its next and num_elms zero (a hook: xarray-prealloc hands out pages it already holds). */
  protected allocChunk(): number {
    return this.heap.allocPage();
  }

  /** Frees the chunk list starting at `first` (a hook: xarray-prealloc keeps its pages for the next finalize). */
  protected releaseChunks(first: number): void {
    for (let chunk = first; chunk !== 0; ) {
      const next = this.mem.load64(chunk + CHUNK_NEXT);
      this.heap.freePage(chunk);
      chunk = next;
    }
  }
}

/**
 * The next kernel's kho_mem_deserialize for a given PRESERVE_BITS: follows
 * the chunk list and reports every set bit of every listed bitmap.
 * Unlike the kernel it validates what it reads: num_elms <= 255, order <=
 * MAX_ORDER; a chunk list that loops enters a chunk twice, which the walk
 * refuses (see RestoreWalk).
 */
export function restoreXarray(preserveBits: number): RestoreFn {
  const bitmapBytes = preserveBits / 8;
  const words = preserveBits / 32;
  return (walk: RestoreWalk, fdt: FdtNode): void => {
    expectCompatible(fdt, KHO_V1_COMPATIBLE);
    const mem = walk.mem;
    let chunk = getU64(fdt, PRESERVED_MEMORY_MAP);
    let from = FROM_FDT;
    // The serializer emits orders ascending and each order's bitmaps by ascending index, so in a
    // valid list every span starts past the last one of its order: no folio can be listed twice.
    let lastOrder = -1;
    let spanEnd = 0;
    while (chunk !== 0) {
      const c = walk.enter(chunk, PAGE_SIZE, 'chunk', from);
      const order = mem.ld(c + CHUNK_ORDER / 4);
      const n = mem.ld(c + CHUNK_NUM_ELMS / 4);
      if (n < 0 || n > BITMAPS_PER_CHUNK) throw new KhoError('ECORRUPT', `chunk ${hex(chunk)} claims ${n >>> 0} bitmaps`);
      if (order < 0 || order > MAX_ORDER) throw new KhoError('ECORRUPT', `chunk ${hex(chunk)} has order ${order >>> 0}`);
      if (order < lastOrder) throw new KhoError('ECORRUPT', `chunk ${hex(chunk)} of order ${order} follows order ${lastOrder}`);
      if (order > lastOrder) spanEnd = 0;
      lastOrder = order;
      const span = preserveBits * FOLIO_BYTES[order];
      for (let i = 0; i < n; i++) {
        const elm = c + (CHUNK_HDR_SIZE + i * CHUNK_ENTRY_SIZE) / 4;
        const start = mem.ld64(elm);
        if (start < spanEnd || start % span !== 0) badSpan(chunk, i, start, spanEnd);
        spanEnd = start + span;
        const bitmapPa = mem.ld64(elm + 2);
        const bitmap = walk.enter(bitmapPa, bitmapBytes, 'bitmap', chunk + CHUNK_HDR_SIZE + i * CHUNK_ENTRY_SIZE + 8);
        walk.reportBits(bitmap, words, start, order);
      }
      from = chunk + CHUNK_NEXT;
      chunk = mem.ld64(c + CHUNK_NEXT / 4);
    }
  };
}

function badSpan(chunk: number, i: number, start: number, spanEnd: number): never {
  throw new KhoError(
    'ECORRUPT',
    `chunk ${hex(chunk)} entry ${i}: bitmap at ${hex(start)} is not a bitmap-aligned span after ${hex(spanEnd)} (folios listed twice?)`,
  );
}
