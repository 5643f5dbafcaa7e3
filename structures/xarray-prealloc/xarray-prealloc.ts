/**
 * xarray-prealloc: Mike Rapoport's proposal (25 Sep 2025, on the "Make KHO
 * Stateless" thread): keep 6.18's serialization, but run it at kexec time
 * (kernel_kexec()), into chunk pages preallocated as the bitmaps grow, so
 * that the kexec-time step allocates nothing and cannot fail for memory.
 *
 * Everything but where the chunk pages come from is XarrayTracker
 * (../xarray/kho-xarray.ts) with PRESERVE_BITS = 32768: the live structure
 * (orders -> kho_mem_phys -> page-sized bitmaps), the chunk list on the
 * wire, and the restore (6.18's restoreXarray) are byte for byte 6.18's:
 *
 *   chunk = one 4096-byte page
 *     0x00  u64 next          physical address of the next chunk, 0 ends
 *     0x08  u32 order
 *     0x0c  u32 num_elms      0..255
 *     0x10  255 x { u64 phys_start, u64 bitmap }
 *
 * The serialization needs, per order present in `orders`, max(1,
 * ceil(bitmaps / 255)) chunks. This tracker holds exactly that many at all
 * times: it takes a chunk page with an order's kho_mem_phys (the order's
 * first preserve) and with the order's 256th, 511th, ... bitmap, before the
 * object it serves, and frees it again if that object cannot be stored.
 * Bitmaps are never freed (unpreserve clears a bit; there is no abort), so
 * the count never falls and no chunk is ever given back.
 *
 * The pages are kept in allocation order (in a kernel, on a list through
 * their struct pages); finalize takes them in that order, rewriting each
 * one's header (next = 0, num_elms = 0, order) and its entries; entries
 * past num_elms keep what an earlier finalize wrote, which no restore reads.
 * Every held page is in the list finalize writes: none is spare at the
 * hand-over, and the list's head is always the first page taken, so an
 * earlier finalize's FDT stays valid.
 *
 * Lifecycle: 6.19's (unpreserve clears the bit and frees nothing; no abort;
 * no finalized state; finalize may run again and rewrites the same pages).
 * Finalize allocates nothing, so it fails only if the root FDT does not fit
 * its page (ENOSPC); the pages are then left holding the new serialization,
 * which is still a well-formed list under the published head. A preserve
 * may fail with ENOMEM at one more point than in 6.19, the chunk page, and
 * leaves nothing behind.
 */
import type { FdtValue } from '../../src/fdt/fdt.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { type Lifecycle, MAX_ORDER } from '../../src/tracker/tracker.ts';
import { LIFECYCLE_6_19, PRESERVE_BITS_6_18 } from '../xarray/index.ts';
import { BITMAPS_PER_CHUNK, CHUNK_NEXT, CHUNK_NUM_ELMS, XarrayTracker } from '../xarray/kho-xarray.ts';

/** 6.19's lifecycle: the proposal changes when chunks are allocated, not what users may do. */
export const PREALLOC_LIFECYCLE: Lifecycle = {
  ...LIFECYCLE_6_19,
  kernel: 'proposal (Rapoport, 25 Sep 2025): 6.19 with chunks preallocated, serialized at kexec',
  missing: { abort: 'xarray-prealloc has no abort: as in 6.19, finalize may simply run again' },
};

export class PreallocXarrayTracker extends XarrayTracker {
  /** Every chunk page held, in allocation order: finalize writes them all, in this order. */
  private readonly chunks: number[] = [];
  /** Bitmaps stored per order. */
  private readonly bitmaps = new Int32Array(MAX_ORDER + 1);
  /** Chunk pages handed to the finalize in progress. */
  private taken = 0;

  constructor(machine: Machine) {
    super(machine, 'xarray-prealloc', PRESERVE_BITS_6_18, PREALLOC_LIFECYCLE);
    super.khoInit();
  }

  /** Chunk pages held (all of them in the list at the next finalize). */
  get chunkPages(): number {
    return this.chunks.length;
  }

  /** XarrayTracker's constructor runs the boot step before this class's fields exist; ours runs it last. */
  protected override khoInit(): void {}

  /** An order's kho_mem_phys comes with the order's first chunk. */
  protected override addOrder(order: number): number {
    return this.withChunk(() => super.addOrder(order));
  }

  /** The 256th, 511th, ... bitmap of an order comes with one more chunk. */
  protected override addBitmap(order: number, physxa: number, index: number): number {
    const n = this.bitmaps[order];
    const bits =
      n > 0 && n % BITMAPS_PER_CHUNK === 0
        ? this.withChunk(() => super.addBitmap(order, physxa, index))
        : super.addBitmap(order, physxa, index);
    this.bitmaps[order] = n + 1;
    return bits;
  }

  /** Takes a chunk page before `store` changes anything, and gives it back if `store` fails. */
  private withChunk(store: () => number): number {
    const chunk = this.heap.allocPage();
    let stored: number;
    try {
      stored = store();
    } catch (e) {
      this.heap.freePage(chunk);
      throw e;
    }
    this.chunks.push(chunk);
    return stored;
  }

  /** kernel_kexec()'s serialization: 6.18's, into the pages held. */
  protected override handover(): Record<string, FdtValue> {
    this.taken = 0;
    return super.handover();
  }

  protected override allocChunk(): number {
    if (this.taken === this.chunks.length) throw new Error(`xarray-prealloc: finalize needs more than its ${this.chunks.length} chunk pages`);
    const chunk = this.chunks[this.taken++];
    this.mem.store64(chunk + CHUNK_NEXT, 0);
    this.mem.store32(chunk + CHUNK_NUM_ELMS, 0);
    return chunk;
  }

  /** The pages of a replaced or unpublished list are the ones the next finalize writes: nothing is freed. */
  protected override releaseChunks(): void {}
}
