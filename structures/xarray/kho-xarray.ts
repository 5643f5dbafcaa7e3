/**
 * KHO's tracker of Linux 6.16 .. 6.18: two levels of xarrays with bitmaps at
 * the leaves, serialized into a chunk list at finalize.
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
 *   PRESERVE_BITS = 32768 (6.18): one whole zeroed page per bitmap, one per
 *                   128 MiB of order-0 memory.
 *
 *   The xarrays and their 576-byte nodes are the kernel's (see xarray.ts).
 *   Preserve is xa_load, and on a miss allocate + xa_store, at both levels,
 *   then set_bit. Unpreserve clears the bit and frees nothing. A bit set
 *   twice or cleared twice is harmless, as in the kernel.
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
 * FDT root: compatible = "kho-v1", preserved-memory-map = u64 address of the
 * first chunk (0 when nothing was ever preserved).
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { SlabCache } from '../../src/ram/kernel-heap.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SHIFT, PAGE_SIZE } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { MAX_ORDER, type RestoreFn, TrackerBase } from '../../src/tracker/tracker.ts';
import { XARRAY_SIZE, XA_NODE_SIZE, XArrayOps } from './xarray.ts';

export type XarrayId = 'xarray-6.16' | 'xarray-6.18';

export const KHO_V1_COMPATIBLE = 'kho-v1';
export const PRESERVED_MEMORY_MAP = 'preserved-memory-map';

/** Chunk layout: 16-byte header, then 16-byte {phys_start, bitmap} entries. */
export const CHUNK_NEXT = 0;
export const CHUNK_ORDER = 8;
export const CHUNK_NUM_ELMS = 12;
export const CHUNK_HDR_SIZE = 16;
export const CHUNK_ENTRY_SIZE = 16;
export const BITMAPS_PER_CHUNK = (PAGE_SIZE - CHUNK_HDR_SIZE) / CHUNK_ENTRY_SIZE;

/** Bytes of a folio of each order, so the hot path does no Math.pow. */
const FOLIO_BYTES = Float64Array.from({ length: MAX_ORDER + 1 }, (_, o) => 2 ** (PAGE_SHIFT + o));

export class XarrayTracker extends TrackerBase {
  readonly serializes = true;
  readonly bitmapBytes: number;
  private readonly xa: XArrayOps;
  /** kmalloc-16: struct kho_mem_track and every struct kho_mem_phys. */
  private readonly small: SlabCache;
  /** kmalloc-512 for 6.16's bitmaps; null when bitmaps are whole pages. */
  private readonly bitmapSlab: SlabCache | null;
  /** struct kho_mem_track, whose only member is the `orders` xarray. */
  private readonly orders: number;
  /** First chunk of the serialized list while finalized, else 0. */
  private firstChunk = 0;

  constructor(
    machine: Machine,
    readonly id: XarrayId,
    readonly preserveBits: number,
  ) {
    super(machine);
    this.bitmapBytes = preserveBits / 8;
    if (!Number.isInteger(this.bitmapBytes) || this.bitmapBytes % 8 !== 0 || this.bitmapBytes > PAGE_SIZE) {
      throw new KhoError('EINVAL', `PRESERVE_BITS ${preserveBits} is not a whole number of u64 words within a page`);
    }
    this.xa = new XArrayOps(this.mem, this.heap.slab(XA_NODE_SIZE));
    this.small = this.heap.slab(XARRAY_SIZE);
    this.bitmapSlab = this.bitmapBytes === PAGE_SIZE ? null : this.heap.slab(this.bitmapBytes);
    this.orders = this.small.alloc();
  }

  protected insert(phys: number, order: number): void {
    const pfnHigh = phys / FOLIO_BYTES[order];
    let physxa = this.xa.load(this.orders, order);
    if (physxa === 0) physxa = this.addOrder(order);
    const index = Math.floor(pfnHigh / this.preserveBits);
    let bits = this.xa.load(physxa, index);
    if (bits === 0) bits = this.addBitmap(physxa, index);
    const bit = pfnHigh - index * this.preserveBits;
    const word = bits + (bit >>> 5) * 4;
    this.mem.store32(word, this.mem.load32(word) | (1 << (bit & 31)));
  }

  protected remove(phys: number, order: number): void {
    const pfnHigh = phys / FOLIO_BYTES[order];
    const physxa = this.xa.load(this.orders, order);
    if (physxa === 0) return;
    const index = Math.floor(pfnHigh / this.preserveBits);
    const bits = this.xa.load(physxa, index);
    if (bits === 0) return;
    const bit = pfnHigh - index * this.preserveBits;
    const word = bits + (bit >>> 5) * 4;
    this.mem.store32(word, this.mem.load32(word) & ~(1 << (bit & 31)));
  }

  /** kho_mem_serialize: the chunk list. Frees what it wrote if an allocation fails. */
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
          const elm = chunk + CHUNK_HDR_SIZE + n * CHUNK_ENTRY_SIZE;
          mem.store64(elm, xa.foundIndex * this.preserveBits * folio);
          mem.store64(elm + 8, xa.foundEntry);
          mem.store32(chunk + CHUNK_NUM_ELMS, ++n);
          index = xa.foundIndex + 1;
        }
        from = order + 1;
      }
    } catch (e) {
      this.freeChunks(first);
      throw e;
    }
    this.firstChunk = first;
    return { compatible: KHO_V1_COMPATIBLE, [PRESERVED_MEMORY_MAP]: u64Prop(first) };
  }

  protected override dropHandover(): void {
    this.freeChunks(this.firstChunk);
    this.firstChunk = 0;
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
  private addOrder(order: number): number {
    const physxa = this.small.alloc();
    try {
      this.xa.store(this.orders, order, physxa);
    } catch (e) {
      this.small.free(physxa);
      throw e;
    }
    return physxa;
  }

  /** xa_load_or_alloc's miss: a zeroed bitmap, stored at `index`. */
  private addBitmap(physxa: number, index: number): number {
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

  /** new_chunk: a zeroed page for `order`, linked after `prev`. */
  private newChunk(prev: number, order: number): number {
    const chunk = this.heap.allocPage();
    this.mem.store32(chunk + CHUNK_ORDER, order);
    if (prev !== 0) this.mem.store64(prev + CHUNK_NEXT, chunk);
    return chunk;
  }

  private freeChunks(first: number): void {
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
 * MAX_ORDER, and no chunk list that loops (Brent's cycle check: one compare
 * per chunk, and any loop is caught within twice its length).
 */
export function restoreXarray(preserveBits: number): RestoreFn {
  const bitmapBytes = preserveBits / 8;
  const words = preserveBits / 32;
  return (walk: RestoreWalk, fdt: FdtNode): void => {
    expectCompatible(fdt, KHO_V1_COMPATIBLE);
    const mem = walk.mem;
    let chunk = getU64(fdt, PRESERVED_MEMORY_MAP);
    let saved = -1;
    let power = 1;
    let steps = 0;
    while (chunk !== 0) {
      if (chunk === saved) throw new KhoError('ECORRUPT', `chunk list loops back to ${hex(chunk)}`);
      walk.enter(chunk, PAGE_SIZE, 'chunk');
      const order = mem.load32(chunk + CHUNK_ORDER);
      const n = mem.load32(chunk + CHUNK_NUM_ELMS);
      if (n > BITMAPS_PER_CHUNK) throw new KhoError('ECORRUPT', `chunk ${hex(chunk)} claims ${n} bitmaps`);
      if (order > MAX_ORDER) throw new KhoError('ECORRUPT', `chunk ${hex(chunk)} has order ${order}`);
      const folio = FOLIO_BYTES[order];
      for (let i = 0; i < n; i++) {
        const elm = chunk + CHUNK_HDR_SIZE + i * CHUNK_ENTRY_SIZE;
        const start = mem.load64(elm);
        const bitmap = walk.enter(mem.load64(elm + 8), bitmapBytes, 'bitmap');
        for (let w = 0; w < words; w++) {
          let x = mem.load32(bitmap + w * 4);
          while (x !== 0) {
            const low = x & -x;
            x ^= low;
            walk.folio(start + (w * 32 + 31 - Math.clz32(low)) * folio, order);
          }
        }
      }
      const next = mem.load64(chunk + CHUNK_NEXT);
      if (++steps === power) {
        saved = chunk;
        power *= 2;
        steps = 0;
      }
      chunk = next;
    }
  };
}
