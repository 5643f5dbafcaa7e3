/**
 * Seeded bootstrap intervals: resampling with replacement, percentile or
 * BCa (bias-corrected and accelerated, Efron 1987), of a statistic of one
 * sample or of the ratio of a statistic between two independent samples.
 *
 * The bootstrap treats the sample as the population. With the few values a
 * benchmark has per quantity (3 to 10 processes) that is optimistic: the
 * percentile interval of a mean is roughly mean ± z·sd·√((n−1)/n)/√n, so
 * it misses both Student's t and the small-sample bias of the sd, and
 * covers the truth in about 90% (n = 10) to 75% (n = 3) of experiments
 * instead of 95%. BCa corrects skew, not that. Prefer t-based intervals for
 * small n (src/stats/replicates.ts); the bootstrap earns its place for
 * statistics without a formula, such as ratios of medians of many batches.
 */
import { normalCdf, normalQuantile } from './distributions.ts';
import { quantileSorted } from './percentile.ts';
import { seededUniform } from './rng.ts';

/** A point estimate with an interval around it. */
export interface Interval {
  value: number;
  low: number;
  high: number;
}

/** 'percentile': the quantiles of the replicates; 'bca': the same, shifted for bias and skew. */
export type BootstrapMethod = 'percentile' | 'bca';

export interface BootstrapOptions {
  /** Coverage aimed for (default 0.95). */
  confidence?: number;
  /** Resamples (default 2000: the 2.5% quantile then rests on ~50 replicates). */
  iterations?: number;
  /** PRNG seed (default 0x5eed): the same seed gives the same interval. */
  seed?: number;
  /** Default 'percentile'. */
  method?: BootstrapMethod;
}

/** A statistic of a sample; it may reorder the array it is given. */
export type Statistic = (sample: Float64Array) => number;

/** The arithmetic mean. */
export const meanStatistic: Statistic = (v) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};

/** The median (sorts its argument). */
export const medianStatistic: Statistic = (v) => {
  v.sort();
  const pos = (v.length - 1) / 2;
  return (v[Math.floor(pos)] + v[Math.ceil(pos)]) / 2;
};

function resample(from: ArrayLike<number>, into: Float64Array, rnd: () => number): Float64Array {
  for (let i = 0; i < into.length; i++) into[i] = from[Math.floor(rnd() * from.length)];
  return into;
}

/** The replicates' quantiles at the interval's two tail probabilities (percentile or BCa-adjusted). */
function bounds(
  value: number,
  replicates: Float64Array,
  confidence: number,
  method: BootstrapMethod,
  jackknife: () => Float64Array,
): [number, number] {
  replicates.sort();
  const tail = (1 - confidence) / 2;
  if (method === 'percentile') return [quantileSorted(replicates, tail), quantileSorted(replicates, 1 - tail)];
  const b = replicates.length;
  let below = 0;
  let equal = 0;
  for (const r of replicates) {
    if (r < value) below++;
    else if (r === value) equal++;
  }
  // Ties count half, so a statistic that cannot move (constant data) gets no bias correction; the clamp keeps z0 finite.
  const share = Math.min(1 - 0.5 / b, Math.max(0.5 / b, (below + equal / 2) / b));
  const z0 = normalQuantile(share);
  const jk = jackknife();
  const jkMean = meanStatistic(jk);
  let num = 0;
  let den = 0;
  for (const t of jk) {
    const d = jkMean - t;
    num += d * d * d;
    den += d * d;
  }
  const accel = den > 0 ? num / (6 * den ** 1.5) : 0;
  const adjusted = (p: number) => {
    const z = normalQuantile(p);
    const denom = 1 - accel * (z0 + z);
    // A non-positive denominator means the acceleration overwhelms the tail: take the extreme replicate.
    if (!(denom > 0)) return p < 0.5 ? 0 : 1;
    return normalCdf(z0 + (z0 + z) / denom);
  };
  return [quantileSorted(replicates, adjusted(tail)), quantileSorted(replicates, adjusted(1 - tail))];
}

/** A bootstrap interval of `statistic` of one sample (at least two values). */
export function bootstrapInterval(xs: ArrayLike<number>, statistic: Statistic, options: BootstrapOptions = {}): Interval {
  const n = xs.length;
  const value = statistic(Float64Array.from(xs));
  if (n < 2) return { value, low: NaN, high: NaN };
  const iterations = options.iterations ?? 2000;
  const rnd = seededUniform(options.seed ?? 0x5eed);
  const buf = new Float64Array(n);
  const replicates = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) replicates[it] = statistic(resample(xs, buf, rnd));
  const jackknife = () => {
    const out = new Float64Array(n);
    const rest = new Float64Array(n - 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0, k = 0; j < n; j++) if (j !== i) rest[k++] = xs[j];
      out[i] = statistic(rest);
    }
    return out;
  };
  const [low, high] = bounds(value, replicates, options.confidence ?? 0.95, options.method ?? 'percentile', jackknife);
  return { value, low, high };
}

export interface RatioOptions extends BootstrapOptions {
  /** The statistic whose ratio is taken (default 'median'). */
  statistic?: 'mean' | 'median';
}

/**
 * A bootstrap interval of stat(b) / stat(a) from two independent samples,
 * each resampled on its own. BCa's acceleration comes from the jackknife
 * over both samples (each value left out in turn).
 */
export function bootstrapRatio(a: ArrayLike<number>, b: ArrayLike<number>, options: RatioOptions = {}): Interval {
  if (a.length === 0 || b.length === 0) return { value: NaN, low: NaN, high: NaN };
  const stat = options.statistic === 'mean' ? meanStatistic : medianStatistic;
  const iterations = options.iterations ?? 2000;
  const rnd = seededUniform(options.seed ?? 0x5eed);
  const value = stat(Float64Array.from(b)) / stat(Float64Array.from(a));
  // Typed arrays sort numerically and fast: the resampling loop dominates a comparison's time.
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  const replicates = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    resample(a, ra, rnd);
    resample(b, rb, rnd);
    replicates[it] = stat(rb) / stat(ra);
  }
  const jackknife = () => {
    const statA = stat(Float64Array.from(a));
    const statB = stat(Float64Array.from(b));
    const out: number[] = [];
    const leaveOut = (xs: ArrayLike<number>, i: number) => Float64Array.from(Array.from(xs).filter((_, j) => j !== i));
    if (a.length > 1) for (let i = 0; i < a.length; i++) out.push(statB / stat(leaveOut(a, i)));
    if (b.length > 1) for (let i = 0; i < b.length; i++) out.push(stat(leaveOut(b, i)) / statA);
    return Float64Array.from(out);
  };
  const [low, high] = bounds(value, replicates, options.confidence ?? 0.95, options.method ?? 'percentile', jackknife);
  return { value, low, high };
}
