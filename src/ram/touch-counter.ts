/**
 * Machine-independent cost counts: how many distinct 4 KiB pages and
 * 64-byte cache lines an operation touches in simulated RAM.
 *
 * `CountingPhysMem` wraps a PhysMem and records every word access before
 * forwarding it. It is a separate class used only in untimed counting runs,
 * so the timed runs keep calling the plain PhysMem (their call sites stay
 * monomorphic). Zeroing a page (a zeroed page allocation) counts as a touch
 * of the page and all 64 of its lines, as the kernel's memset would.
 *
 * Only simulated RAM is counted: a tracker's host-side bookkeeping (JS
 * arrays caching addresses, say) is not, since the kernel keeps that in RAM
 * too and each tracker documents its own departures.
 */
import { type Bank, PAGE_SIZE, PhysMem, type RamImage } from './phys-mem.ts';

export const CACHE_LINE = 64;

/** Distinct pages and lines touched since the last `begin()`, and running totals. */
export class TouchCounter {
  private readonly pageSet = new Set<number>();
  private readonly lineSet = new Set<number>();
  /** Sums over completed operations (see `end`). */
  totalPages = 0;
  totalLines = 0;
  operations = 0;

  /** Starts counting one operation. */
  begin(): void {
    this.pageSet.clear();
    this.lineSet.clear();
  }

  /** Ends one operation and adds its distinct counts to the totals. */
  end(): void {
    this.totalPages += this.pageSet.size;
    this.totalLines += this.lineSet.size;
    this.operations++;
  }

  /** Distinct pages touched since begin(). */
  get pages(): number {
    return this.pageSet.size;
  }

  /** Distinct cache lines touched since begin(). */
  get lines(): number {
    return this.lineSet.size;
  }

  /** Records an access of `bytes` bytes at `pa`. */
  touch(pa: number, bytes: number): void {
    const first = Math.floor(pa / CACHE_LINE);
    const last = Math.floor((pa + bytes - 1) / CACHE_LINE);
    for (let line = first; line <= last; line++) this.lineSet.add(line);
    this.pageSet.add(Math.floor(pa / PAGE_SIZE));
    if (Math.floor((pa + bytes - 1) / PAGE_SIZE) !== Math.floor(pa / PAGE_SIZE)) {
      this.pageSet.add(Math.floor((pa + bytes - 1) / PAGE_SIZE));
    }
  }
}

/** A PhysMem that counts what it is asked for and forwards everything to `inner`. */
export class CountingPhysMem extends PhysMem {
  constructor(
    readonly inner: PhysMem,
    readonly counter: TouchCounter,
  ) {
    super(inner.banks);
  }

  /** A counting machine memory (for MachineConfig.mem). */
  static factory(counter: TouchCounter): (banks: readonly Bank[]) => PhysMem {
    return (banks) => new CountingPhysMem(new PhysMem(banks), counter);
  }

  override get end(): number {
    return this.inner.end;
  }

  override contains(pa: number, len = 1): boolean {
    return this.inner.contains(pa, len);
  }

  override load32(pa: number): number {
    this.counter.touch(pa, 4);
    return this.inner.load32(pa);
  }

  override store32(pa: number, value: number): void {
    this.counter.touch(pa, 4);
    this.inner.store32(pa, value);
  }

  override load64(pa: number): number {
    this.counter.touch(pa, 8);
    return this.inner.load64(pa);
  }

  override store64(pa: number, value: number): void {
    this.counter.touch(pa, 8);
    this.inner.store64(pa, value);
  }

  override zeroPage(pfn: number): void {
    this.counter.touch(pfn * PAGE_SIZE, PAGE_SIZE);
    this.inner.zeroPage(pfn);
  }

  override isBacked(pfn: number): boolean {
    return this.inner.isBacked(pfn);
  }

  override get backedBytes(): number {
    return this.inner.backedBytes;
  }

  override readPage(pfn: number, out: Uint8Array, offset: number): void {
    this.inner.readPage(pfn, out, offset);
  }

  override backedPfns(): number[] {
    return this.inner.backedPfns();
  }

  override image(pfns: readonly number[]): RamImage {
    return this.inner.image(pfns);
  }
}
