/**
 * Timing of an operation that takes microseconds to seconds and can be run
 * again on the same state: finalize (with abort between samples for the
 * serializing trackers), and restore. tinybench runs it; when one call is
 * short enough for the timer overhead to matter, a sample times `k` calls
 * in a row (only for operations marked repeatable) and records the mean.
 * A sample far above the median is timed again, hooks and all, and a
 * stall that did not recur is replaced (stalls.ts).
 */
import { Bench } from 'tinybench';
import type { RepeatBudget } from './budgets.ts';
import { type SampleSummary, summarize } from '../stats/summary.ts';
import { replaceStalls, rerunStalls } from './stalls.ts';
import { BATCH_OVERHEAD_TARGET } from './timer.ts';

const hr = process.hrtime.bigint;

export interface RepeatOptions {
  readonly budget: RepeatBudget;
  /** Timer overhead per sample, ns. */
  readonly regionNs: number;
  /** Whether `fn` may be called several times in a row without the hooks between. */
  readonly repeatable: boolean;
  /** A known estimate of one call, ns (skips the pilot calls that size a batch). */
  readonly estimateNs?: number;
  /** Untimed, before each sample. */
  readonly beforeEach?: () => void;
  /** Untimed, after each sample. */
  readonly afterEach?: () => void;
}

export interface RepeatResult {
  /** ms per call, one sample per tinybench iteration. */
  readonly summary: SampleSummary;
  /** Calls timed together in one sample. */
  readonly callsPerSample: number;
  /** Timer overhead / median sample. */
  readonly overheadFraction: number;
  /** Samples far above the median that were timed again, and those whose first timing the re-run replaced. */
  readonly retimedSamples: number;
  readonly replacedSamples: number;
  /** The summary's mean (ms per call) as it was before the replacements. */
  readonly meanWithStalls: number;
}

export function measureRepeat(name: string, fn: () => void, options: RepeatOptions): RepeatResult {
  const { budget, regionNs } = options;
  let k = 1;
  // Pilot: calls timed here, not by tinybench, to size k and the sample count; one call sizes the sample count
  // alone (k is 1 when the hooks must run between calls), and each may cost a rebuild in beforeEach.
  let best = options.estimateNs ?? Infinity;
  const pilotCalls = options.estimateNs !== undefined ? 0 : options.repeatable ? 3 : 1;
  for (let i = 0; i < pilotCalls; i++) {
    options.beforeEach?.();
    const t0 = hr();
    fn();
    best = Math.min(best, Number(hr() - t0));
    options.afterEach?.();
  }
  if (options.repeatable) k = Math.max(1, Math.min(1 << 20, Math.ceil(regionNs / (BATCH_OVERHEAD_TARGET * Math.max(best, 1)))));
  const estimateMs = (options.estimateNs ?? best) / 1e6;
  const iterations = Math.max(budget.minSamples, Math.min(budget.samples, Math.floor(budget.maxMs / Math.max(estimateMs * k, 1e-6))));
  const bench = new Bench({
    name,
    timestampProvider: 'hrtimeNow',
    iterations,
    time: 0,
    warmup: budget.warmupSamples > 0,
    warmupIterations: budget.warmupSamples,
    warmupTime: budget.warmupMs,
    retainSamples: true,
    throws: true,
  });
  /** One sample: k calls, ms. */
  const timeCalls = () => {
    const t0 = hr();
    for (let i = 0; i < k; i++) fn();
    return Number(hr() - t0) / 1e6;
  };
  bench.add(
    name,
    () => {
      const ms = timeCalls();
      return { overriddenDuration: ms / k, overriddenIterationCost: ms };
    },
    // async declared, or tinybench would call the task once (outside the hooks) to see whether it returns a promise.
    { async: false, beforeEach: options.beforeEach, afterEach: options.afterEach },
  );
  const [task] = bench.runSync();
  const result = task.result;
  if (result.state !== 'completed') {
    throw result.state === 'errored' ? result.error : new Error(`tinybench task ended ${result.state}`);
  }
  const samples = Float64Array.from(result.latency.samples ?? []);
  const again = () => {
    options.beforeEach?.();
    const start = Number(hr()) / 1e6;
    const ms = timeCalls();
    options.afterEach?.();
    return { value: ms / k, start, end: start + ms };
  };
  const stalls = replaceStalls(samples, rerunStalls(samples, again, budget.maxMs));
  const summary = summarize(samples);
  const medianMs = summary.sketch[summary.sketch.length >> 1];
  return {
    summary,
    callsPerSample: k,
    overheadFraction: regionNs / (medianMs * 1e6 * k),
    retimedSamples: stalls.retimed,
    replacedSamples: stalls.replaced,
    meanWithStalls: stalls.meanBefore,
  };
}
