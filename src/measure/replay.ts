/**
 * Replays a workload on trackers, batch by batch, so that any batch of one
 * kind can be timed with fresh, honest state: everything before it is run
 * untimed first, and when the workload is used up a fresh tracker (on a
 * fresh machine) replaces the old one outside the timed part.
 *
 * A batch is a slice of one phase holding about `batch` folios: a fixed
 * number of operations for folio phases (the last slice of a phase is
 * merged into the one before when it is shorter than half a batch), and
 * whole preserveRange calls for range phases (added until the batch holds
 * at least `batch` folios).
 */
import { Machine } from '../ram/machine.ts';
import type { PhysMem, Bank } from '../ram/phys-mem.ts';
import type { Tracker } from '../tracker/tracker.ts';
import { type OpKind, type Phase, type Workload, isPreserveKind } from './workload.ts';

export interface Batch {
  readonly phase: Phase;
  readonly from: number;
  readonly to: number;
  /** Folios in the batch. */
  readonly folios: number;
  /** True for preserve and range batches, false for unpreserve. */
  readonly preserve: boolean;
}

export type TrackerFactory = (machine: Machine) => Tracker;

/** Batch sizes (folios) for preserve-kind and unpreserve batches. */
export interface BatchSizes {
  readonly preserve: number;
  readonly unpreserve: number;
}

/** Cuts the phases into batches. */
export function planBatches(phases: readonly Phase[], sizes: BatchSizes): Batch[] {
  const out: Batch[] = [];
  for (const phase of phases) {
    const preserve = isPreserveKind(phase.kind);
    const b = preserve ? sizes.preserve : sizes.unpreserve;
    const n = phase.a.length;
    if (n === 0) continue;
    if (!phase.folios) {
      const starts: number[] = [];
      for (let i = 0; i < n; i += b) starts.push(i);
      if (starts.length > 1 && n - starts[starts.length - 1] < b / 2) starts.pop();
      starts.forEach((from, k) => {
        const to = k + 1 < starts.length ? starts[k + 1] : n;
        out.push({ phase, from, to, folios: to - from, preserve });
      });
      continue;
    }
    let from = 0;
    let folios = 0;
    for (let i = 0; i < n; i++) {
      folios += phase.folios[i];
      if (folios >= b) {
        out.push({ phase, from, to: i + 1, folios, preserve });
        from = i + 1;
        folios = 0;
      }
    }
    if (from < n) {
      const last = out[out.length - 1];
      if (last && last.phase === phase && folios < b / 2) {
        out[out.length - 1] = { ...last, to: n, folios: last.folios + folios };
      } else {
        out.push({ phase, from, to: n, folios, preserve });
      }
    }
  }
  return out;
}

export function preserveBatch(t: Tracker, a: Float64Array, b: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) t.preserve(a[i], b[i]);
}

export function unpreserveBatch(t: Tracker, a: Float64Array, b: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) t.unpreserve(a[i], b[i]);
}

export function rangeBatch(t: Tracker, a: Float64Array, b: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) t.preserveRange(a[i], b[i]);
}

/** Runs one batch (the timed part: nothing but the tracker calls). */
export function runBatch(t: Tracker, batch: Batch): void {
  const p = batch.phase;
  const kind: OpKind = p.kind;
  if (kind === 'preserve') preserveBatch(t, p.a, p.b, batch.from, batch.to);
  else if (kind === 'unpreserve') unpreserveBatch(t, p.a, p.b, batch.from, batch.to);
  else rangeBatch(t, p.a, p.b, batch.from, batch.to);
}

export interface ReplayOptions {
  /** Builds the machine's memory (e.g. a counting PhysMem); default plain. */
  readonly mem?: (banks: readonly Bank[]) => PhysMem;
  /**
   * Called, outside any timed part, once the machines dropped since the
   * last call held more than GC_THRESHOLD bytes of host memory (e.g. a
   * forced garbage collection, so that the next timed batches do not pay
   * for the old machines).
   */
  readonly onGarbage?: () => void;
  /** Pages to pre-fault on each fresh machine (see `prefault`); grows to the most pages a dropped machine had backed. */
  readonly warmPages?: number;
}

/**
 * Makes host memory for `pages` pages resident in a fresh machine's PhysMem
 * before the tracker exists. PhysMem gives a page a host slot when it is
 * allocated or first written, and first touching host memory (or growing
 * the backing array) costs page faults and copies (a host page fault takes
 * about 15 us on the VM this suite was built on) that the kernel, whose
 * memory is already mapped, never pays. Reserving the slots leaves the
 * tracker's first store to a page paying a 4 KiB clear, as the kernel's
 * zeroed-page allocation does, and nothing else. `pages` should be the
 * pages the tracker will write (backed), not all it allocates: a flat
 * bitmap allocates gigabytes it never touches.
 */
export function prefault(machine: Machine, pages: number): void {
  machine.mem.reserve(pages);
}

function lastIndexOf(batches: readonly Batch[], preserve: boolean): number {
  for (let i = batches.length - 1; i >= 0; i--) if (batches[i].preserve === preserve) return i;
  return -1;
}

/** Host bytes of dropped machines that trigger onGarbage. */
export const GC_THRESHOLD = 32 * 2 ** 20;

/** Walks the batches of build + teardown over and over, a fresh tracker per pass. */
export class Replay {
  readonly batches: readonly Batch[];
  tracker!: Tracker;
  /** Completed and started passes over the workload. */
  passes = 0;
  /** Wall time of the last fresh() (machine and tracker construction), ms. */
  freshMs = 0;
  private next = 0;
  private garbage = 0;
  private warmPages: number;
  /** Index of the last batch of each kind (-1: none): past it, a pass is over for that kind. */
  private readonly lastPreserve: number;
  private readonly lastUnpreserve: number;

  constructor(
    readonly workload: Workload,
    private readonly create: TrackerFactory,
    readonly sizes: BatchSizes,
    private readonly options: ReplayOptions = {},
  ) {
    this.warmPages = options.warmPages ?? 64;
    this.batches = planBatches([...workload.build, ...workload.teardown], sizes);
    this.lastPreserve = lastIndexOf(this.batches, true);
    this.lastUnpreserve = lastIndexOf(this.batches, false);
    this.fresh();
  }

  /** A fresh machine and tracker, at the start of the workload. */
  fresh(): void {
    const old = this.tracker?.heap.machine;
    if (old) {
      this.warmPages = Math.max(this.warmPages, Math.ceil((old.mem.backedBytes / 4096) * 1.1) + 16);
      // Page contents, the page allocator's owner map, the directory leaves (roughly).
      this.garbage += old.mem.backedBytes + old.heap.size / 4096 + old.mem.size / 2 ** 20;
      this.tracker = undefined as unknown as Tracker;
    }
    if (this.garbage > GC_THRESHOLD) {
      this.garbage = 0;
      this.options.onGarbage?.();
    }
    const t0 = performance.now();
    const machine = new Machine({ banks: this.workload.banks, heapSize: this.workload.heapSize, mem: this.options.mem });
    prefault(machine, this.warmPages);
    this.tracker = this.create(machine);
    this.freshMs = performance.now() - t0;
    this.next = 0;
    this.passes++;
  }

  /** Pages pre-faulted on each fresh machine now. */
  get prefaultPages(): number {
    return this.warmPages;
  }

  /** Folios run per pass when only batches of one kind are wanted (the pass ends after the last of them). */
  passFolios(preserve: boolean): number {
    const last = preserve ? this.lastPreserve : this.lastUnpreserve;
    let n = 0;
    for (let i = 0; i <= last; i++) n += this.batches[i].folios;
    return n;
  }

  /** Batches of the given kind in one pass. */
  count(preserve: boolean): number {
    return this.batches.filter((b) => b.preserve === preserve).length;
  }

  /**
   * Advances, untimed, to the next batch of the given kind and returns it
   * without running it; starts a fresh pass when the workload is used up.
   */
  advance(preserve: boolean): Batch {
    const last = preserve ? this.lastPreserve : this.lastUnpreserve;
    if (last < 0) throw new Error(`workload has no ${preserve ? 'preserve' : 'unpreserve'} batches`);
    for (;;) {
      if (this.next > last) this.fresh();
      const b = this.batches[this.next++];
      if (b.preserve === preserve) return b;
      runBatch(this.tracker, b);
    }
  }

  /**
   * A fresh machine and tracker with every batch before `batch` (one of
   * this workload's, of the given kind) run, untimed: the state `batch`
   * meets whenever it is timed, for timing it again.
   */
  replayTo(preserve: boolean, batch: Batch): void {
    this.fresh();
    const pass = this.passes;
    for (let b = this.advance(preserve); b !== batch; b = this.advance(preserve)) {
      if (this.passes !== pass) throw new Error('replayTo: the batch is not in this workload');
      runBatch(this.tracker, b);
    }
  }

  /** Runs the whole build on the current (fresh) tracker, untimed. */
  runBuild(): void {
    const buildBatches = planBatches(this.workload.build, { preserve: 1 << 16, unpreserve: 1 << 16 });
    for (const b of buildBatches) runBatch(this.tracker, b);
    this.next = this.batches.length;
  }
}
