/**
 * V8's garbage-collection pauses, as the engine reports them (perf_hooks
 * "gc" entries), on the process.hrtime clock the timed batches read.
 *
 * The simulator allocates (a number of 2^31 or more passed to a call that
 * V8 did not inline becomes a 16-byte heap number), so a scavenge or a
 * mark-compact (0.2 to 14 ms each, seen here) now and then stops a timed
 * batch: in 32 processes of radix, xarray-6.16 and the flat bitmap, 15 of
 * 11,904 batches, among them 6 of the 8 that read over 20 times their
 * process's median batch. The kernel has no collector: a batch a pause
 * overlapped timed the simulator's heap, not the tracker, and is left out
 * (src/measure/latency.ts), and counted.
 *
 * Entries arrive on a timer after the pause, so reading them is async.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';

/**
 * How far each pause is widened on either side: the offset between
 * performance.now() and process.hrtime, read twice, differed by up to 16 µs,
 * and a reported pause started up to 5 µs before the hrtime reading taken
 * just before the gc() that caused it.
 */
const CLOCK_MARGIN_MS = 0.05;

export class GcPauses {
  /** [start, end) of each pause, in performance.now() ms, in the order reported. */
  private readonly spans: number[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.spans.push(e.startTime, e.startTime + e.duration);
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Every pause so far as [start, end) pairs in process.hrtime ms (widened by CLOCK_MARGIN_MS), once the engine has delivered them. */
  async soFar(): Promise<Float64Array> {
    // Two timer turns: the entries of a pause are queued for the next one.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
    return Float64Array.from(this.spans, (t, i) => t + offset + (i % 2 === 0 ? -CLOCK_MARGIN_MS : CLOCK_MARGIN_MS));
  }

  stop(): void {
    this.observer.disconnect();
  }
}

/** Whether [start, end) overlaps one of the pauses ([start, end) pairs, in the same clock). */
export function overlapsPause(start: number, end: number, pauses: Float64Array): boolean {
  for (let i = 0; i + 1 < pauses.length; i += 2) if (pauses[i] < end && pauses[i + 1] > start) return true;
  return false;
}
