/**
 * One tracker's kernel heap: whole zeroed pages (alloc_page / get_zeroed_page)
 * and slab objects (kmalloc, kmem_cache), both carved from the machine's
 * heap region, with exact accounting and injectable failure.
 *
 * A slab cache packs floor(4096 / size) objects into each page it takes,
 * as SLUB does for order-0 slabs: 7 xa_nodes of 576 bytes, 8 kmalloc-512
 * bitmaps, 32 IDA bitmaps of 128 bytes. Objects are zeroed on allocation
 * (kzalloc, and xa_node constructors). Freed objects are reused; slab
 * pages are kept once taken, which the accounting shows as pages held.
 *
 * Accounting: `pages` counts pages held (whole pages plus slab pages),
 * `bytes` counts bytes the tracker asked for (4096 per whole page, the
 * object size per slab object); both keep their peak.
 *
 * Failure injection: every allocation call (page or object) is numbered
 * from 1; `failNth` makes exactly that call fail with ENOMEM, and
 * `pageLimit` fails any call that would hold more pages than the limit.
 */
import { KhoError } from '../tracker/errors.ts';
import type { Machine } from './machine.ts';
import { PAGE_SIZE } from './phys-mem.ts';

export interface HeapStats {
  pages: number;
  bytes: number;
  peakPages: number;
  peakBytes: number;
  /** Allocation calls so far (pages and objects). */
  allocations: number;
}

export interface FaultPlan {
  /** Fail exactly the Nth allocation call from now (1 = the next one). */
  failNth?: number;
  /** Fail any allocation that would hold more than this many pages. */
  pageLimit?: number;
}

export class KernelHeap {
  readonly stats: HeapStats = { pages: 0, bytes: 0, peakPages: 0, peakBytes: 0, allocations: 0 };
  private readonly ownerId: number;
  private readonly slabs = new Map<number, SlabCache>();
  private failAt = 0;
  private pageLimit = Infinity;

  constructor(readonly machine: Machine) {
    this.ownerId = machine.pages.newOwner();
  }

  /** Arms (or, with {}, disarms) allocation failures. */
  injectFaults(plan: FaultPlan): void {
    this.failAt = plan.failNth === undefined ? 0 : this.stats.allocations + plan.failNth;
    this.pageLimit = plan.pageLimit ?? Infinity;
  }

  /** A zeroed 4 KiB page; returns its physical address. */
  allocPage(): number {
    const pa = this.takePage();
    this.charge(PAGE_SIZE);
    return pa;
  }

  /** `n` physically contiguous zeroed pages, one allocation call; returns the lowest address. */
  allocPages(n: number): number {
    this.countAllocation(n);
    const pa = this.machine.pages.allocContiguous(n, this.ownerId);
    if (pa < 0) throw new KhoError('ENOMEM', `no ${n} contiguous pages left in the kernel heap region`);
    this.stats.pages += n;
    if (this.stats.pages > this.stats.peakPages) this.stats.peakPages = this.stats.pages;
    this.charge(n * PAGE_SIZE);
    return pa;
  }

  freePage(pa: number): void {
    this.machine.pages.release(pa, this.ownerId);
    this.stats.pages--;
    this.stats.bytes -= PAGE_SIZE;
  }

  /** The slab cache for objects of `size` bytes (one per size, shared by callers). */
  slab(size: number): SlabCache {
    let cache = this.slabs.get(size);
    if (!cache) {
      cache = new SlabCache(this, size);
      this.slabs.set(size, cache);
    }
    return cache;
  }

  /** Page frames this heap holds, ascending: the tracker's metadata in RAM. */
  ownedPfns(): number[] {
    return this.machine.pages.ownedPfns(this.ownerId);
  }

  /** Counts one allocation call and fails it if a fault is armed for it. */
  countAllocation(newPages: number): void {
    const n = ++this.stats.allocations;
    if (n === this.failAt) throw new KhoError('ENOMEM', `injected failure of allocation #${n}`);
    if (this.stats.pages + newPages > this.pageLimit) {
      throw new KhoError('ENOMEM', `page limit of ${this.pageLimit} reached`);
    }
  }

  /** Takes a page from the region without counting bytes (slabs count their objects). */
  takePage(): number {
    this.countAllocation(1);
    const pa = this.machine.pages.alloc(this.ownerId);
    if (pa < 0) throw new KhoError('ENOMEM', 'kernel heap region exhausted');
    this.stats.pages++;
    if (this.stats.pages > this.stats.peakPages) this.stats.peakPages = this.stats.pages;
    return pa;
  }

  charge(bytes: number): void {
    this.stats.bytes += bytes;
    if (this.stats.bytes > this.stats.peakBytes) this.stats.peakBytes = this.stats.bytes;
  }
}

export class SlabCache {
  readonly perPage: number;
  private readonly freeObjects: number[] = [];

  constructor(
    private readonly heap: KernelHeap,
    readonly size: number,
  ) {
    if (size <= 0 || size > PAGE_SIZE || size % 8 !== 0) throw new KhoError('EINVAL', `bad slab object size ${size}`);
    this.perPage = Math.floor(PAGE_SIZE / size);
  }

  /** A zeroed object; returns its physical address. */
  alloc(): number {
    let pa = this.freeObjects.pop();
    if (pa === undefined) {
      const page = this.heap.takePage();
      for (let i = this.perPage - 1; i >= 1; i--) this.freeObjects.push(page + i * this.size);
      pa = page;
    } else {
      try {
        this.heap.countAllocation(0);
      } catch (e) {
        this.freeObjects.push(pa);
        throw e;
      }
      const mem = this.heap.machine.mem;
      const first = mem.wbase(pa) + ((pa & 4095) >>> 2);
      for (let i = first, end = first + (this.size >>> 2); i < end; i++) mem.st(i, 0);
    }
    this.heap.charge(this.size);
    return pa;
  }

  free(pa: number): void {
    this.freeObjects.push(pa);
    this.heap.charge(-this.size);
  }
}
