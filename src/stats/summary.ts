/**
 * A sample reduced to what the suite needs from it, in a form that can be
 * stored per run and pooled across runs:
 *
 *   n, mean, variance   enough for the mean and its t-based 95% CI,
 *                       and for pooling (Chan's parallel formula);
 *   min, max
 *   sketch              evenly spaced order statistics (q = k / (len-1)),
 *                       from which percentiles are read, exact when the
 *                       sample is no longer than the sketch.
 *
 * `Estimate` (mean with its 95% CI) is the shape the results file uses.
 */
import { quantileSorted, sortedCopy } from './percentile.ts';
import { tCritical95 } from './t-dist.ts';

export interface SampleSummary {
  n: number;
  mean: number;
  /** Unbiased sample variance (0 when n < 2). */
  variance: number;
  min: number;
  max: number;
  /** Ascending order statistics at evenly spaced quantiles 0..1 (the whole sample when short). */
  sketch: number[];
}

/** A mean with its 95% confidence interval and sample count. */
export interface Estimate {
  value: number;
  ciLow: number;
  ciHigh: number;
  samples: number;
}

/** The default sketch length: 1001 points, percentiles to 0.1%. */
export const SKETCH_POINTS = 1001;

/** Summarizes a sample; `scale` multiplies every value first (e.g. ms -> ns). */
export function summarize(values: ArrayLike<number>, scale = 1, sketchPoints = SKETCH_POINTS): SampleSummary {
  const sorted = sortedCopy(values);
  if (scale !== 1) for (let i = 0; i < sorted.length; i++) sorted[i] *= scale;
  const n = sorted.length;
  let mean = 0;
  let m2 = 0;
  // Welford: numerically stable for long samples of similar values.
  for (let i = 0; i < n; i++) {
    const d = sorted[i] - mean;
    mean += d / (i + 1);
    m2 += d * (sorted[i] - mean);
  }
  return {
    n,
    mean: n ? mean : NaN,
    variance: n > 1 ? m2 / (n - 1) : 0,
    min: n ? sorted[0] : NaN,
    max: n ? sorted[n - 1] : NaN,
    sketch: sketchOf(sorted, sketchPoints),
  };
}

function sketchOf(sorted: Float64Array, points: number): number[] {
  if (sorted.length <= points) return Array.from(sorted);
  const out = new Array<number>(points);
  for (let k = 0; k < points; k++) out[k] = quantileSorted(sorted, k / (points - 1));
  return out;
}

/** The p-quantile of the summarized sample (exact when the sketch holds the whole sample). */
export function summaryQuantile(s: SampleSummary, p: number): number {
  return quantileSorted(s.sketch, p);
}

/** The mean with a t-based 95% CI. */
export function estimateOf(s: SampleSummary): Estimate {
  const half = s.n > 1 ? tCritical95(s.n - 1) * Math.sqrt(s.variance / s.n) : 0;
  return { value: s.mean, ciLow: s.mean - half, ciHigh: s.mean + half, samples: s.n };
}

/** A single value known without sampling error (e.g. a count). */
export function exactEstimate(value: number): Estimate {
  return { value, ciLow: value, ciHigh: value, samples: 1 };
}

/** Multiplies an estimate by a constant. */
export function scaleEstimate(e: Estimate, k: number): Estimate {
  const [lo, hi] = k >= 0 ? [e.ciLow * k, e.ciHigh * k] : [e.ciHigh * k, e.ciLow * k];
  return { value: e.value * k, ciLow: lo, ciHigh: hi, samples: e.samples };
}

/**
 * The sum of independent estimates: half-widths add in quadrature
 * (asymmetric intervals are combined side by side). Samples: the smallest.
 */
export function sumEstimates(...parts: Estimate[]): Estimate {
  let value = 0;
  let lo2 = 0;
  let hi2 = 0;
  for (const e of parts) {
    value += e.value;
    lo2 += (e.value - e.ciLow) ** 2;
    hi2 += (e.ciHigh - e.value) ** 2;
  }
  return { value, ciLow: value - Math.sqrt(lo2), ciHigh: value + Math.sqrt(hi2), samples: Math.min(...parts.map((e) => e.samples)) };
}

/**
 * Pools summaries of samples of one quantity taken in separate runs: the
 * exact pooled mean and variance, and a sketch of the mixture (each run
 * weighted by its sample count).
 */
export function poolSummaries(parts: readonly SampleSummary[], sketchPoints = SKETCH_POINTS): SampleSummary {
  const live = parts.filter((s) => s.n > 0);
  if (live.length === 0) return summarize([]);
  if (live.length === 1) return live[0];
  const n = live.reduce((a, s) => a + s.n, 0);
  const mean = live.reduce((a, s) => a + s.n * s.mean, 0) / n;
  const m2 = live.reduce((a, s) => a + (s.n - 1) * s.variance + s.n * (s.mean - mean) ** 2, 0);
  // Mixture sketch: every sketch point stands for n_i / len_i samples of its run.
  const points: [number, number][] = [];
  for (const s of live) for (const v of s.sketch) points.push([v, s.n / s.sketch.length]);
  points.sort((a, b) => a[0] - b[0]);
  const total = points.reduce((a, p) => a + p[1], 0);
  const cum = new Float64Array(points.length);
  let acc = 0;
  points.forEach((p, i) => {
    // Midpoint rule: the i-th point sits at the middle of its weight.
    cum[i] = (acc + p[1] / 2) / total;
    acc += p[1];
  });
  const sketch: number[] = [];
  const m = Math.min(sketchPoints, n);
  for (let k = 0; k < m; k++) {
    const q = m === 1 ? 0.5 : k / (m - 1);
    sketch.push(interpolateAt(cum, points, q));
  }
  return {
    n,
    mean,
    variance: n > 1 ? m2 / (n - 1) : 0,
    min: Math.min(...live.map((s) => s.min)),
    max: Math.max(...live.map((s) => s.max)),
    sketch,
  };
}

function interpolateAt(cum: Float64Array, points: readonly [number, number][], q: number): number {
  if (q <= cum[0]) return points[0][0];
  const last = cum.length - 1;
  if (q >= cum[last]) return points[last][0];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] <= q) lo = mid;
    else hi = mid;
  }
  const f = (q - cum[lo]) / (cum[hi] - cum[lo]);
  return points[lo][0] + f * (points[hi][0] - points[lo][0]);
}
