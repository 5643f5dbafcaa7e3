/**
 * The small statistics the report needs beyond src/stats, as pure
 * functions: interval arithmetic on 95% confidence intervals, box-plot
 * summaries. The normal distribution, Mann–Whitney U, the seeded bootstrap
 * of a ratio and the PRNG moved to src/stats and are re-exported here for
 * the report's modules.
 */
import { quantile, quantileSorted } from '../stats/percentile.ts';
import { fitPowerLaw as fitXY } from '../stats/fit.ts';
import { Z95, twoSidedP } from '../stats/distributions.ts';
import { seededUniform } from '../stats/rng.ts';
import type { Interval } from '../stats/bootstrap.ts';

export { quantile, quantileSorted } from '../stats/percentile.ts';
export { Z95, normalCdf, twoSidedP } from '../stats/distributions.ts';
export { type MannWhitneyResult, mannWhitneyU } from '../stats/mann-whitney.ts';
export { type Interval, bootstrapRatio } from '../stats/bootstrap.ts';

/** @deprecated Not mulberry32 any more: the project's one seeded PRNG, src/stats/rng.ts; import `seededUniform` from there. */
export const mulberry32 = seededUniform;

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Standard error implied by a symmetric-ish 95% interval. */
export function seFromCi(ciLow: number, ciHigh: number): number {
  return Math.max(0, ciHigh - ciLow) / (2 * Z95);
}

export interface EstimateLike {
  value: number;
  ciLow: number;
  ciHigh: number;
}

/** 95% interval of b - a from two independent estimates (normal approximation). */
export function differenceInterval(a: EstimateLike, b: EstimateLike): Interval {
  const se = Math.hypot(seFromCi(a.ciLow, a.ciHigh), seFromCi(b.ciLow, b.ciHigh));
  const value = b.value - a.value;
  return { value, low: value - Z95 * se, high: value + Z95 * se };
}

/**
 * 95% interval of b / a from two independent positive estimates, by the
 * delta method on the log scale. NaN bounds when an estimate is not positive.
 */
export function ratioInterval(a: EstimateLike, b: EstimateLike): Interval {
  const value = b.value / a.value;
  if (!(a.value > 0 && b.value > 0)) return { value, low: NaN, high: NaN };
  const relA = seFromCi(a.ciLow, a.ciHigh) / a.value;
  const relB = seFromCi(b.ciLow, b.ciHigh) / b.value;
  const se = Math.hypot(relA, relB);
  return { value, low: value * Math.exp(-Z95 * se), high: value * Math.exp(Z95 * se) };
}

/** Two-sided p-value of "a and b differ", from their intervals (normal approximation). */
export function zTestFromIntervals(a: EstimateLike, b: EstimateLike): { z: number; p: number } {
  const se = Math.hypot(seFromCi(a.ciLow, a.ciHigh), seFromCi(b.ciLow, b.ciHigh));
  if (se === 0) return a.value === b.value ? { z: 0, p: 1 } : { z: Infinity, p: 0 };
  const z = (b.value - a.value) / se;
  return { z, p: twoSidedP(z) };
}

export function intervalsOverlap(a: { ciLow: number; ciHigh: number }, b: { ciLow: number; ciHigh: number }): boolean {
  return a.ciLow <= b.ciHigh && b.ciLow <= a.ciHigh;
}

export interface PowerFit {
  exponent: number;
  r2: number;
  points: number;
}

/** Least-squares fit of log(y) on log(x) over the positive points (src/stats's fit). */
export function fitPowerLaw(points: readonly { x: number; y: number }[]): PowerFit | undefined {
  const fit = fitXY(
    points.map((p) => p.x),
    points.map((p) => p.y),
  );
  return fit ? { exponent: fit.exponent, r2: fit.r2, points: fit.points } : undefined;
}

/** Tukey box-plot summary: quartiles, whiskers at the furthest data within 1.5 IQR, and outliers. */
export interface BoxSummary {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  whiskerLow: number;
  whiskerHigh: number;
  outliers: number[];
  n: number;
}

export function boxSummary(values: readonly number[]): BoxSummary | undefined {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const q1 = quantileSorted(v, 0.25);
  const q3 = quantileSorted(v, 0.75);
  const iqr = q3 - q1;
  const lowFence = q1 - 1.5 * iqr;
  const highFence = q3 + 1.5 * iqr;
  const inside = v.filter((x) => x >= lowFence && x <= highFence);
  return {
    min: v[0],
    q1,
    median: quantileSorted(v, 0.5),
    q3,
    max: v[v.length - 1],
    whiskerLow: inside.length ? inside[0] : q1,
    whiskerHigh: inside.length ? inside[inside.length - 1] : q3,
    outliers: v.filter((x) => x < lowFence || x > highFence),
    n: v.length,
  };
}
