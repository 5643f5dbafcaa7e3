/**
 * The statistics the report needs beyond src/stats: summaries over
 * scenarios (a geometric mean with the range it summarizes and, for
 * measured quantities, a 95% interval from the per-process values), and
 * box-plot summaries. Pure functions.
 */
import type { Interval } from '../stats/bootstrap.ts';
import { tQuantile } from '../stats/distributions.ts';
import { quantileSorted, sortedCopy } from '../stats/percentile.ts';

export type { Interval };

/** One factor of a product of per-process means: the quantity itself (power 1) or a divisor (power −1). */
export interface LogFactor {
  samples: readonly number[];
  power: 1 | -1;
}

/** A value per scenario and what summarizes them: their geometric mean and where the extremes are. */
export interface Spread {
  /** Geometric mean of the values. */
  value: number;
  min: number;
  minAt: string;
  max: number;
  maxAt: string;
  /** Number of scenarios (or points) summarized. */
  n: number;
}

/**
 * The geometric mean of positive values with their range. Geometric,
 * because the values are ratios or costs that differ by orders of magnitude
 * between scenarios: an arithmetic mean would be the largest scenario's.
 */
export function spreadOf(entries: readonly { at: string; value: number }[]): Spread | undefined {
  const ok = entries.filter((e) => e.value > 0 && Number.isFinite(e.value));
  if (ok.length === 0) return undefined;
  let min = ok[0];
  let max = ok[0];
  let logSum = 0;
  for (const e of ok) {
    logSum += Math.log(e.value);
    if (e.value < min.value) min = e;
    if (e.value > max.value) max = e;
  }
  return { value: Math.exp(logSum / ok.length), min: min.value, minAt: min.at, max: max.value, maxAt: max.at, n: ok.length };
}

function logTerm(samples: readonly number[]): { log: number; v: number; df: number } | undefined {
  const n = samples.length;
  if (n < 2) return undefined;
  let mean = 0;
  for (const x of samples) mean += x;
  mean /= n;
  if (!(mean > 0)) return undefined;
  let ss = 0;
  for (const x of samples) ss += (x - mean) ** 2;
  // Delta method: var(log mean) ≈ var(mean) / mean² = sd² / (n · mean²).
  return { log: Math.log(mean), v: ss / (n - 1) / (n * mean * mean), df: n - 1 };
}

/**
 * The geometric mean over scenarios of a product of per-process means (one
 * factor for a quantity; two, b and a with powers 1 and −1, for a ratio
 * b / a), with a 95% interval. On the log scale each factor is an
 * independent sample mean whose variance the delta method gives as
 * sd² / (n · mean²); the average over k scenarios has the sum of those
 * over k², and its degrees of freedom come from Welch–Satterthwaite, so a
 * smoke run's three processes per pair give the wide t they should. The
 * interval is positive by construction. Undefined when a factor has fewer
 * than two processes or a mean that is not positive.
 */
export function geometricMeanInterval(scenarios: readonly (readonly LogFactor[])[]): Interval | undefined {
  if (scenarios.length === 0) return undefined;
  let logSum = 0;
  let v = 0;
  let dfDen = 0;
  for (const factors of scenarios) {
    for (const f of factors) {
      const t = logTerm(f.samples);
      if (!t) return undefined;
      logSum += f.power * t.log;
      v += t.v;
      dfDen += (t.v * t.v) / t.df;
    }
  }
  const k = scenarios.length;
  const value = Math.exp(logSum / k);
  if (v === 0) return { value, low: value, high: value };
  const df = (v * v) / dfDen;
  const half = (tQuantile(0.975, df) * Math.sqrt(v)) / k;
  return { value, low: value * Math.exp(-half), high: value * Math.exp(half) };
}

/** The ratio of the mean of `b` to the mean of `a`, with the interval of geometricMeanInterval for one scenario. */
export function ratioInterval(a: readonly number[], b: readonly number[]): Interval | undefined {
  return geometricMeanInterval([
    [
      { samples: b, power: 1 },
      { samples: a, power: -1 },
    ],
  ]);
}

/** Tukey box-plot summary: quartiles, whiskers at the furthest values within 1.5 IQR, and the values beyond. */
export interface BoxSummary {
  q1: number;
  median: number;
  q3: number;
  whiskerLow: number;
  whiskerHigh: number;
  outliers: number[];
  n: number;
}

export function boxSummary(values: readonly number[]): BoxSummary | undefined {
  const v = sortedCopy(values.filter(Number.isFinite));
  if (v.length === 0) return undefined;
  const q1 = quantileSorted(v, 0.25);
  const q3 = quantileSorted(v, 0.75);
  const iqr = q3 - q1;
  const inside = Array.from(v).filter((x) => x >= q1 - 1.5 * iqr && x <= q3 + 1.5 * iqr);
  return {
    q1,
    median: quantileSorted(v, 0.5),
    q3,
    whiskerLow: inside.length ? inside[0] : q1,
    whiskerHigh: inside.length ? inside[inside.length - 1] : q3,
    outliers: Array.from(v).filter((x) => x < q1 - 1.5 * iqr || x > q3 + 1.5 * iqr),
    n: v.length,
  };
}
