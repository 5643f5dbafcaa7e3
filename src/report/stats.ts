/**
 * The small statistics the report needs beyond src/stats (whose
 * percentiles and power-law fit it reuses), as pure functions: the normal
 * distribution, Mann–Whitney U, a seeded bootstrap of a ratio of medians,
 * interval arithmetic on 95% confidence intervals, box-plot summaries.
 * (Benjamini–Hochberg is with its only user, compare.ts.)
 */
import { quantile, quantileSorted } from '../stats/percentile.ts';
import { fitPowerLaw as fitXY } from '../stats/fit.ts';

export const Z95 = 1.959963984540054;

export { quantile, quantileSorted } from '../stats/percentile.ts';

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erfc, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (a, b) with a > b, ties counting 1/2. */
  u: number;
  /** min(U1, U2), the statistic tables report. */
  uMin: number;
  /** Normal-approximation z (tie-corrected, continuity-corrected); 0 with the exact method. */
  z: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
  /** Probability that a random value of `a` exceeds one of `b` (ties 1/2): U / (n1 n2). */
  effect: number;
}

/** Number of arrangements with U = u, for each u in 0..n1*n2 (no ties). */
function exactUDistribution(n1: number, n2: number): Float64Array {
  // counts[m][n][u] by the recurrence f(m,n,u) = f(m-1,n,u-n) + f(m,n-1,u).
  const max = n1 * n2;
  let prev: Float64Array[] = [];
  for (let n = 0; n <= n2; n++) {
    const row = new Float64Array(max + 1);
    row[0] = 1;
    prev.push(row);
  }
  for (let m = 1; m <= n1; m++) {
    const cur: Float64Array[] = [];
    const first = new Float64Array(max + 1);
    first[0] = 1;
    cur.push(first);
    for (let n = 1; n <= n2; n++) {
      const row = new Float64Array(max + 1);
      for (let u = 0; u <= m * n; u++) row[u] = (u >= n ? prev[n][u - n] : 0) + cur[n - 1][u];
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n2];
}

/**
 * Two-sided Mann–Whitney U test of `a` against `b`. Exact (as SciPy's
 * method="exact") when both samples are small and have no ties, otherwise
 * the normal approximation with tie and continuity corrections (as SciPy's
 * method="asymptotic", use_continuity=True).
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, uMin: NaN, z: 0, p: 1, method: 'normal', effect: NaN };
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const n = n1 + n2;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1].v === all[i].v) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k].g === 0) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const uMin = Math.min(u, n1 * n2 - u);
  const effect = u / (n1 * n2);
  if (tieTerm === 0 && n1 <= 30 && n2 <= 30) {
    const dist = exactUDistribution(n1, n2);
    let total = 0;
    for (const c of dist) total += c;
    let tail = 0;
    for (let k = 0; k <= Math.floor(uMin + 1e-9); k++) tail += dist[k];
    return { u, uMin, z: 0, p: Math.min(1, (2 * tail) / total), method: 'exact', effect };
  }
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sd === 0) return { u, uMin, z: 0, p: 1, method: 'normal', effect };
  const diff = u - mean;
  const z = (diff - Math.sign(diff) * 0.5) / sd;
  return { u, uMin, z, p: twoSidedP(z), method: 'normal', effect };
}

/** A small seeded PRNG (mulberry32), so reports are reproducible. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Interval {
  value: number;
  low: number;
  high: number;
}

/**
 * Percentile-bootstrap 95% interval of median(b) / median(a) from two
 * independent samples.
 */
export function bootstrapRatio(
  a: readonly number[],
  b: readonly number[],
  options: { iterations?: number; seed?: number } = {},
): Interval {
  if (a.length === 0 || b.length === 0) return { value: NaN, low: NaN, high: NaN };
  const iterations = options.iterations ?? 2000;
  const rnd = mulberry32(options.seed ?? 0x5eed);
  const value = median(b) / median(a);
  // Typed arrays sort numerically and fast: the resampling loop dominates the comparison's time.
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  const med = (v: Float64Array) => {
    v.sort();
    const pos = (v.length - 1) / 2;
    return (v[Math.floor(pos)] + v[Math.ceil(pos)]) / 2;
  };
  const ratios = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < a.length; i++) ra[i] = a[Math.floor(rnd() * a.length)];
    for (let i = 0; i < b.length; i++) rb[i] = b[Math.floor(rnd() * b.length)];
    ratios[it] = med(rb) / med(ra);
  }
  ratios.sort();
  const sorted = Array.from(ratios);
  return { value, low: quantileSorted(sorted, 0.025), high: quantileSorted(sorted, 0.975) };
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
