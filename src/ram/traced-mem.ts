/**
 * Observed memory: a PhysMem that reports every access to a `MemTracer`
 * before doing it, for the untimed passes that count what an operation
 * touches (`TouchCounter`) and replay it through the machine model
 * (src/model). The timed runs never see this class, so their call sites on
 * PhysMem stay monomorphic.
 *
 * What a tracer is told:
 *   load / store / atomic (pa, bytes)  a word or u64 access at a physical
 *                          address; zeroing a page is one 4096-byte store
 *   deref()                the next access's address came from the value
 *                          of the most recent load (PhysMem.follow and
 *                          followAddress: a tree level's child pointer), so
 *                          it cannot start before that load completes
 *   alu(kind, n)           instructions a bulk event stands for (optional)
 *
 * A memmove (`copyWords`) is reported in bulk: per source cache line, one
 * load of its bytes and one store of them at the destination, in the
 * copy's direction (reportCopy); the rest of its accesses (the kernel's
 * memmove moves 8 bytes at a time) are charged as instructions
 * (repeatCharger). It reaches the same lines, in the same order, as the
 * copy done word by word.
 *
 * Every page an observed walk reads gets a host slot (a read of a page that
 * reads as zero backs it with zeros), so that each word index maps back to
 * its physical address; the contents read are the same.
 */
import type { AluKind } from '../model/cpu.ts';
import { type Bank, PAGE_SIZE, PhysMem, type RamImage, type UnbackedPolicy } from './phys-mem.ts';

export const CACHE_LINE = 64;

export interface MemTracer {
  load(pa: number, bytes: number): void;
  store(pa: number, bytes: number): void;
  /** A lock-prefixed read-modify-write (set_bit, a mutex's cmpxchg). */
  atomic(pa: number, bytes: number): void;
  /** The next access depends on the most recent load (a pointer was followed). */
  deref(): void;
  /**
   * ALU work a caller knows it does, or accesses a bulk event stands for
   * (src/kexec reports a run of repeated loads of one hot line once, and
   * charges the rest here): the machine model costs it, counters ignore it.
   */
  alu?(kind: AluKind, count: number): void;
}

/** A tracer that also takes ALU work, as MachineModel does (and a fan-out that forwards it). */
type AluTracer = MemTracer & {
  cpu?: { readonly implied?: Readonly<Record<string, Readonly<Partial<Record<AluKind, number>>>>> };
};

const NO_CHARGE = (_loads: number, _stores: number): void => {};

/**
 * The instructions of accesses a bulk event stands for. A bulk event (one
 * load or store over a run of sequential accesses) reaches every line the
 * kernel's word accesses reach, in the same order; what it leaves out are
 * the further accesses to a line just touched (the rest of a struct page's
 * 13 stores, the rest of a region's base and size, the loads of hot kernel
 * data every struct page repeats, the rest of a memmove's 8-byte moves). In
 * the model those are L1 hits on lines already in L1 (so they add no
 * latency, no bandwidth, and no step of their own: the bulk reporter keeps
 * at least one load in every step that had one), and each costs the
 * instructions the model implies for a load or a store event. This charges
 * those instructions through the tracer's alu(), per the tracer's CPU when
 * it exposes one (a MachineModel), else 1 'alu' per access (the implied mix
 * of the CPU files). A tracer without alu() (a TouchCounter) is not
 * charged: lines and pages are the same either way. Only the model's L1 hit
 * count differs: it counts line touches, not the word accesses within a
 * line.
 */
export function repeatCharger(tracer: MemTracer | null): (loads: number, stores: number) => void {
  if (tracer === null) return NO_CHARGE;
  const t = tracer as AluTracer;
  const alu = t.alu;
  if (typeof alu !== 'function') return NO_CHARGE;
  const implied = t.cpu?.implied;
  const mix = (ev: string): [AluKind, number][] => {
    const m = implied?.[ev];
    return m === undefined ? [['alu', 1]] : (Object.entries(m) as [AluKind, number][]).filter(([, n]) => n > 0);
  };
  const load = mix('load');
  const store = mix('store');
  return (loads, stores) => {
    if (loads > 0) for (const [kind, n] of load) alu.call(t, kind, loads * n);
    if (stores > 0) for (const [kind, n] of store) alu.call(t, kind, stores * n);
  };
}

/**
 * The bulk events of a memmove of bytes [from, to) after `pa` (64-byte
 * aligned) by d bytes: per source line, its load then the store of its
 * bytes, from the top down when moving up (d > 0) and from the bottom up
 * otherwise, as a copy that never overwrites bytes still to be moved goes;
 * returns the lines (events of each kind).
 */
export function reportCopy(tracer: MemTracer, pa: number, from: number, to: number, d: number): number {
  let events = 0;
  if (d > 0) {
    for (let e = to; e > from; events++) {
      const a = Math.max(from, (e - 1) & ~(CACHE_LINE - 1));
      tracer.load(pa + a, e - a);
      tracer.store(pa + a + d, e - a);
      e = a;
    }
  } else {
    for (let a = from; a < to; events++) {
      const e = Math.min(to, (a & ~(CACHE_LINE - 1)) + CACHE_LINE);
      tracer.load(pa + a, e - a);
      tracer.store(pa + a + d, e - a);
      a = e;
    }
  }
  return events;
}

/** Sends every event to each of several tracers, in order. */
export class TracerFanout implements MemTracer {
  constructor(private readonly tracers: readonly MemTracer[]) {}
  load(pa: number, bytes: number): void {
    for (const t of this.tracers) t.load(pa, bytes);
  }
  store(pa: number, bytes: number): void {
    for (const t of this.tracers) t.store(pa, bytes);
  }
  atomic(pa: number, bytes: number): void {
    for (const t of this.tracers) t.atomic(pa, bytes);
  }
  deref(): void {
    for (const t of this.tracers) t.deref();
  }
  alu(kind: AluKind, count: number): void {
    for (const t of this.tracers) t.alu?.(kind, count);
  }
}

export class TracedPhysMem extends PhysMem {
  /** The instructions of `loads` and `stores` accesses a bulk event stands for (see repeatCharger). */
  readonly repeats: (loads: number, stores: number) => void;

  constructor(
    banks: readonly Bank[],
    readonly tracer: MemTracer,
    unbacked: UnbackedPolicy = 'zero',
  ) {
    super(banks, unbacked);
    this.repeats = repeatCharger(tracer);
  }

  /** A machine memory that reports to `tracer` (for MachineConfig.mem). */
  static factory(tracer: MemTracer): (banks: readonly Bank[]) => PhysMem {
    return (banks) => new TracedPhysMem(banks, tracer);
  }

  /** The next kernel's memory rebuilt from `image`, reporting to `tracer`. */
  static ofImage(image: RamImage, tracer: MemTracer): TracedPhysMem {
    return PhysMem.fromImage(image, (banks, unbacked) => new TracedPhysMem(banks, tracer, unbacked)) as TracedPhysMem;
  }

  /** The physical address of word index i. */
  private pa(i: number): number {
    return this.pfnOfWord(i) * PAGE_SIZE + (i & 1023) * 4;
  }

  override base(pa: number): number {
    return this.wbase(pa);
  }

  override follow(lo: number, hi: number): number {
    this.tracer.deref();
    return this.wbase((lo >>> 0) + (hi >>> 0) * 4294967296);
  }

  override followAddress(pa: number): number {
    this.tracer.deref();
    return this.wbase(pa);
  }

  override ld(i: number): number {
    this.tracer.load(this.pa(i), 4);
    return super.ld(i);
  }

  override st(i: number, v: number): void {
    this.tracer.store(this.pa(i), 4);
    super.st(i, v);
  }

  override ld64(i: number): number {
    this.tracer.load(this.pa(i), 8);
    return super.ld64(i);
  }

  override st64(i: number, v: number): void {
    this.tracer.store(this.pa(i), 8);
    super.st64(i, v);
  }

  override atomicOr(i: number, mask: number): void {
    this.tracer.atomic(this.pa(i), 4);
    super.atomicOr(i, mask);
  }

  override atomicAnd(i: number, mask: number): void {
    this.tracer.atomic(this.pa(i), 4);
    super.atomicAnd(i, mask);
  }

  override atomicCas(i: number, expected: number, value: number): number {
    this.tracer.atomic(this.pa(i), 4);
    return super.atomicCas(i, expected, value);
  }

  override copyWords(dst: number, src: number, n: number): void {
    if (n <= 0) return;
    const srcPa = this.pa(src);
    const page = srcPa - (srcPa % PAGE_SIZE);
    const from = srcPa - page;
    const lines = reportCopy(this.tracer, page, from, from + 4 * n, this.pa(dst) - srcPa);
    const moves = Math.ceil(n / 2);
    if (moves > lines) this.repeats(moves - lines, moves - lines);
    super.copyWords(dst, src, n);
  }

  override zeroPage(pfn: number): void {
    this.tracer.store(pfn * PAGE_SIZE, PAGE_SIZE);
    super.zeroPage(pfn);
  }
}

/**
 * Machine-independent cost counts: how many distinct 4 KiB pages and
 * 64-byte cache lines an operation touches, between `begin()` and `end()`,
 * and running totals. Accesses outside begin/end are not counted (so a run
 * can count a sample of its operations).
 *
 * Each touched page gets a 64-bit mask of its 64 lines (two u32 words);
 * consecutive accesses to one page (a scan) skip the page lookup, so a
 * restore that reads gigabytes of bitmap costs a few ns per access.
 */
export class TouchCounter implements MemTracer {
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

  load(pa: number, bytes: number): void {
    this.touch(pa, bytes);
  }

  store(pa: number, bytes: number): void {
    this.touch(pa, bytes);
  }

  atomic(pa: number, bytes: number): void {
    this.touch(pa, bytes);
  }

  deref(): void {}

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
