/**
 * A simulated machine: physical memory plus the page allocator that backs
 * the kernel heap.
 *
 * The kernel heap is a contiguous region at the top of the highest RAM
 * bank (`heap`), handed out one zeroed 4 KiB page at a time, top-down, with
 * freed pages reused first. The workload (the folios being preserved) lives
 * in the rest of RAM (`workloadBanks`). The real kernel interleaves both in
 * the buddy allocator; keeping them apart changes no tracker's layout or
 * walk, and lets a 16 TiB machine be simulated without a buddy allocator
 * over all of it. Each page remembers which heap owns it, so every tracker
 * is accounted exactly and its pages can be listed for the hand-over image.
 */
import { KhoError, hex } from '../tracker/errors.ts';
import { type Bank, PAGE_SIZE, PhysMem } from './phys-mem.ts';

export interface MachineConfig {
  readonly banks: readonly Bank[];
  /** Bytes reserved for the kernel heap at the top of the highest bank. */
  readonly heapSize?: number;
  /** Builds the machine's memory (default: a plain PhysMem); e.g. an instrumented subclass for counting runs. */
  readonly mem?: (banks: readonly Bank[]) => PhysMem;
}

const MIN_HEAP = 64 * 2 ** 20;
const MAX_HEAP = 64 * 2 ** 30;

/** The default heap: 1/16 of RAM, at least 64 MiB, at most 64 GiB, at most half the top bank. */
export function defaultHeapSize(banks: readonly Bank[]): number {
  const total = banks.reduce((s, b) => s + b.size, 0);
  const top = banks.reduce((a, b) => (b.start > a.start ? b : a));
  const want = Math.min(MAX_HEAP, Math.max(MIN_HEAP, total / 16), top.size / 2);
  return Math.floor(want / PAGE_SIZE) * PAGE_SIZE;
}

export class Machine {
  readonly mem: PhysMem;
  readonly heap: Bank;
  /** RAM that the workload may use: every bank, less the heap. */
  readonly workloadBanks: readonly Bank[];
  readonly pages: PageAllocator;

  constructor(config: MachineConfig) {
    this.mem = config.mem ? config.mem(config.banks) : new PhysMem(config.banks);
    const top = this.mem.banks[this.mem.banks.length - 1];
    const heapSize = config.heapSize ?? defaultHeapSize(this.mem.banks);
    if (heapSize % PAGE_SIZE !== 0 || heapSize <= 0 || heapSize >= top.size) {
      throw new KhoError('EINVAL', `heap of ${hex(heapSize)} bytes does not fit the top RAM bank`);
    }
    this.heap = { start: top.start + top.size - heapSize, size: heapSize };
    this.workloadBanks = this.mem.banks.map((b) => (b === top ? { start: b.start, size: b.size - heapSize } : b));
    this.pages = new PageAllocator(this.mem, this.heap);
  }

  static ofSize(size: number, heapSize?: number): Machine {
    return new Machine({ banks: [{ start: 0, size }], heapSize });
  }

  /** Whether [pa, pa + len) is workload RAM (in a bank and outside the heap). */
  isWorkload(pa: number, len: number): boolean {
    return this.mem.contains(pa, len) && (pa + len <= this.heap.start || pa >= this.heap.start + this.heap.size);
  }
}

/**
 * Top-down page allocator over the heap region. `owner[i]` is the heap id
 * (1..255) holding page i of the region, 0 when free.
 */
export class PageAllocator {
  private readonly owner: Uint8Array;
  private readonly free: number[] = [];
  private readonly basePfn: number;
  private bump: number;
  private nextOwnerId = 1;

  constructor(
    private readonly mem: PhysMem,
    readonly region: Bank,
  ) {
    this.basePfn = region.start / PAGE_SIZE;
    this.owner = new Uint8Array(region.size / PAGE_SIZE);
    this.bump = this.owner.length;
  }

  /** A fresh owner id for one heap's accounting. */
  newOwner(): number {
    if (this.nextOwnerId > 255) throw new KhoError('EINVAL', 'too many kernel heaps on one machine');
    return this.nextOwnerId++;
  }

  /** A zeroed page for `ownerId`, or -1 when the region is exhausted. */
  alloc(ownerId: number): number {
    let i = this.free.pop();
    if (i === undefined) {
      if (this.bump === 0) return -1;
      i = --this.bump;
    }
    this.owner[i] = ownerId;
    const pfn = this.basePfn + i;
    this.mem.zeroPage(pfn);
    return pfn * PAGE_SIZE;
  }

  /**
   * `n` physically contiguous zeroed pages (memblock_alloc-like); lowest
   * address, or -1. They get host memory only when written: a flat bitmap
   * of a 16 TiB machine takes a gigabyte it mostly never touches.
   */
  allocContiguous(n: number, ownerId: number): number {
    if (n > this.bump) return -1;
    this.bump -= n;
    this.owner.fill(ownerId, this.bump, this.bump + n);
    for (let i = 0; i < n; i++) this.mem.dropPage(this.basePfn + this.bump + i);
    return (this.basePfn + this.bump) * PAGE_SIZE;
  }

  release(pa: number, ownerId: number): void {
    const i = pa / PAGE_SIZE - this.basePfn;
    if (!Number.isInteger(i) || i < 0 || i >= this.owner.length || this.owner[i] !== ownerId) {
      throw new KhoError('EINVAL', `free of page ${hex(pa)} not held by this heap`);
    }
    this.owner[i] = 0;
    this.free.push(i);
  }

  /** Page frame numbers held by `ownerId`, ascending. */
  ownedPfns(ownerId: number): number[] {
    const out: number[] = [];
    for (let i = this.bump; i < this.owner.length; i++) if (this.owner[i] === ownerId) out.push(this.basePfn + i);
    return out;
  }
}
