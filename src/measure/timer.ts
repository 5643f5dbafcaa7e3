/**
 * The timer and its overhead. Batches are timed with process.hrtime.bigint()
 * (tinybench's 'hrtimeNow' provider): two reads around the batch, a BigInt
 * subtraction, one conversion. `regionNs` is what that costs on its own,
 * i.e. the overhead inside every batch sample; batch sizes are chosen so
 * that it stays far below 1% of a sample.
 */
import { calibrateTimerOverhead, hrtimeNowTimestampProvider } from 'tinybench';

export interface TimerInfo {
  /** tinybench's estimate of one timestamp read (median of back-to-back pairs), ns. */
  readonly callNs: number;
  /** Median duration of an empty timed region, measured exactly as batches are timed, ns. */
  readonly regionNs: number;
}

const hr = process.hrtime.bigint;

/** Timer overhead aimed for, as a fraction of one sample (the rule is < 1%; a pilot's estimate is only an estimate). */
export const BATCH_OVERHEAD_TARGET = 0.002;

/** Measures the timer overhead (a few milliseconds). */
export function measureTimer(trials = 5000): TimerInfo {
  const callNs = calibrateTimerOverhead(hrtimeNowTimestampProvider, { pairs: 2048, warmupPairs: 256 }) * 1e6;
  const d = new Float64Array(trials);
  for (let warm = 0; warm < 2; warm++) {
    for (let i = 0; i < trials; i++) {
      const t0 = hr();
      d[i] = Number(hr() - t0);
    }
  }
  d.sort();
  return { callNs, regionNs: d[trials >> 1] };
}

/**
 * The smallest power-of-two batch whose expected duration makes the timer
 * overhead at most `fraction` of it, within [min, max].
 */
export function chooseBatchSize(regionNs: number, opNs: number, fraction: number, min = 16, max = 1 << 16): number {
  const want = regionNs / (fraction * Math.max(opNs, 0.01));
  let b = min;
  while (b < want && b < max) b *= 2;
  return b;
}
