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

/**
 * Distinct pages and lines touched between `begin()` and `end()`, and
 * running totals. Accesses outside begin/end are not counted (so a run can
 * count a sample of its operations).
 *
 * Each touched page gets a 64-bit mask of its 64 lines (two u32 words);
 * consecutive accesses to one page (a scan) skip the page lookup, so a
 * restore that reads gigabytes of bitmap costs a few ns per access.
 */
export class TouchCounter {
  /** Page number -> index of its mask in `masks`. */
  private readonly index = new Map<number, number>();
  private masks = new Uint32Array(2 * 1024);
  private used = 0;
  private lineCount = 0;
  private active = false;
  private lastPage = -1;
  private lastMask = -1;
  /** Sums over completed operations (see `end`). */
  totalPages = 0;
  totalLines = 0;
  operations = 0;

  /** Starts counting one operation. */
  begin(): void {
    this.index.clear();
    this.masks.fill(0, 0, 2 * this.used);
    this.used = 0;
    this.lineCount = 0;
    this.lastPage = -1;
    this.active = true;
  }

  /** Ends one operation and adds its distinct counts to the totals. */
  end(): void {
    this.active = false;
    this.totalPages += this.pages;
    this.totalLines += this.lineCount;
    this.operations++;
  }

  /** Distinct pages touched since begin(). */
  get pages(): number {
    return this.index.size;
  }

  /** Distinct cache lines touched since begin(). */
  get lines(): number {
    return this.lineCount;
  }

  /** Records an access of `bytes` bytes at `pa`. */
  touch(pa: number, bytes: number): void {
    if (!this.active) return;
    const page = Math.floor(pa / PAGE_SIZE);
    const offset = pa - page * PAGE_SIZE;
    if (offset + bytes > PAGE_SIZE) {
      this.touch(pa, PAGE_SIZE - offset);
      this.touch((page + 1) * PAGE_SIZE, offset + bytes - PAGE_SIZE);
      return;
    }
    if (page !== this.lastPage) {
      let m = this.index.get(page);
      if (m === undefined) {
        m = this.used++;
        if (2 * this.used > this.masks.length) {
          const grown = new Uint32Array(this.masks.length * 2);
          grown.set(this.masks);
          this.masks = grown;
        }
        this.index.set(page, m);
      }
      this.lastPage = page;
      this.lastMask = m;
    }
    const first = offset >>> 6;
    const last = (offset + bytes - 1) >>> 6;
    for (let line = first; line <= last; line++) {
      const w = 2 * this.lastMask + (line >>> 5);
      const bit = 1 << (line & 31);
      if ((this.masks[w] & bit) === 0) {
        this.masks[w] |= bit;
        this.lineCount++;
      }
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
