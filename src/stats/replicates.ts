/**
 * Statistics over per-process estimates. The process is the unit of
 * replication: each fresh process measures a quantity once (its mean ns
 * per folio, or its ms) and the run's estimate, its interval and its
 * spread come from those n per-process values (n >= 2; 3 in smoke, 10 or
 * more otherwise), never from the batches inside a process, which share
 * the process's JIT decisions, heap layout and host state and so vary much
 * less than processes do.
 */
import { bootstrapInterval, meanStatistic } from './bootstrap.ts';
import { tQuantile } from './distributions.ts';
import { quantileSorted, sortedCopy } from './percentile.ts';

/**
 * How the interval is computed:
 *  - 't': mean ± t(n−1)·sd/√n, the lower bound clamped at 0 for positive data;
 *  - 'log': the same on log x, back-transformed: an interval for the geometric mean,
 *    positive by construction and longer upwards;
 *  - 'percentile', 'bca': bootstrap of the mean over processes (src/stats/bootstrap.ts).
 */
export type ProcessIntervalMethod = 't' | 'log' | 'percentile' | 'bca';

/**
 * The default: Student's t on the process means. With 3 to 10 processes
 * it is the honest choice: exact for normal process means and close to
 * nominal for the mildly skewed ones measured here (simulated in
 * replicates.test.ts), with the full t(n−1) width (4.30 at n = 3), where
 * the bootstrap undercovers (about 90% at n = 10, 75% at n = 3). Its value
 * is the arithmetic mean, the same quantity the comparisons take the ratio
 * of. The clamp at 0 only bites when sd/mean exceeds √n / t(n−1) (40% at
 * n = 3, 140% at n = 10), far beyond SPREAD_WARNING_CV; 'log' is the
 * choice when such spread is expected. No method is honest about a rare
 * slow process (one in ten running 1.3 to 1.9x slower takes every one of
 * them to about 85% at n = 10, simulated): tukeyOutliers and
 * spreadWarning are there to say so.
 */
export const DEFAULT_INTERVAL_METHOD: ProcessIntervalMethod = 't';

export interface ProcessIntervalOptions {
  /** Coverage aimed for (default 0.95). */
  confidence?: number;
  /** Default DEFAULT_INTERVAL_METHOD. */
  method?: ProcessIntervalMethod;
  /** Bootstrap methods only: resamples (default 2000) and seed (default 0x5eed). */
  iterations?: number;
  seed?: number;
}

/** A quantity estimated from per-process values. */
export interface ProcessEstimate {
  /** The arithmetic mean of the processes ('t', bootstrap), or their geometric mean ('log'). */
  value: number;
  ciLow: number;
  ciHigh: number;
  /** The number of processes (n). */
  processes: number;
  method: ProcessIntervalMethod;
}

function meanAndSd(xs: ArrayLike<number>): { mean: number; sd: number } {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/** The estimate and interval of a positive quantity from its per-process values x_1..x_n (n >= 2). */
export function processInterval(xs: ArrayLike<number>, options: ProcessIntervalOptions = {}): ProcessEstimate {
  const n = xs.length;
  const method = options.method ?? DEFAULT_INTERVAL_METHOD;
  const confidence = options.confidence ?? 0.95;
  if (n < 2) throw new RangeError(`an interval over processes needs at least 2 of them, got ${n}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const positive = Array.prototype.every.call(xs, (x: number) => x > 0);
  if (method === 'log') {
    if (!positive) throw new RangeError('the log-scale interval needs positive values');
    const { mean, sd } = meanAndSd(Float64Array.from(xs, Math.log));
    const half = (tQuantile((1 + confidence) / 2, n - 1) * sd) / Math.sqrt(n);
    return { value: Math.exp(mean), ciLow: Math.exp(mean - half), ciHigh: Math.exp(mean + half), processes: n, method };
  }
  if (method === 't') {
    const { mean, sd } = meanAndSd(xs);
    const half = (tQuantile((1 + confidence) / 2, n - 1) * sd) / Math.sqrt(n);
    const low = mean - half;
    return { value: mean, ciLow: positive ? Math.max(0, low) : low, ciHigh: mean + half, processes: n, method };
  }
  const boot = bootstrapInterval(xs, meanStatistic, { confidence, method, iterations: options.iterations, seed: options.seed });
  return { value: boot.value, ciLow: boot.low, ciHigh: boot.high, processes: n, method };
}

/** How much processes differ from one another. */
export interface ProcessSpread {
  mean: number;
  /** Sample standard deviation (n − 1). */
  sd: number;
  /** sd / mean. */
  cv: number;
  median: number;
  /** Median absolute deviation from the median (unscaled). */
  mad: number;
  /**
   * 1.4826 · MAD / median: the CV again for normal data, but one wild
   * process (a 1.9x outlier) barely moves it, so a large CV with a small
   * robust CV points at a few processes rather than at general noise.
   */
  robustCv: number;
}

/** The between-process spread of per-process values (n >= 2 for a finite sd). */
export function processSpread(xs: ArrayLike<number>): ProcessSpread {
  const sorted = sortedCopy(xs);
  const { mean, sd } = meanAndSd(sorted);
  const median = quantileSorted(sorted, 0.5);
  const mad = quantileSorted(sortedCopy(Array.from(sorted, (x) => Math.abs(x - median))), 0.5);
  return { mean, sd, cv: sd / mean, median, mad, robustCv: (1.4826 * mad) / median };
}

/** Tukey's fences from the quartiles (type 7) and the interquartile range. */
export interface TukeyFences {
  /** q1 − 3·IQR */
  lowSevere: number;
  /** q1 − 1.5·IQR */
  lowMild: number;
  /** q3 + 1.5·IQR */
  highMild: number;
  /** q3 + 3·IQR */
  highSevere: number;
}

/** Per class of outlier (as criterion.rs labels them; mild excludes severe). */
export interface TukeyClasses<T> {
  lowSevere: T;
  lowMild: T;
  highMild: T;
  highSevere: T;
}

export interface TukeyOutliers {
  fences: TukeyFences;
  counts: TukeyClasses<number>;
  /** Indices into the input, ascending. */
  indices: TukeyClasses<number[]>;
}

/**
 * Classifies values by Tukey's fences as criterion.rs does: beyond 3 IQR
 * severe, beyond 1.5 IQR mild, on either side. Informative, not a filter:
 * a slow process is part of what the code costs, and dropping it would
 * narrow the interval dishonestly.
 */
export function tukeyOutliers(xs: ArrayLike<number>): TukeyOutliers {
  const sorted = sortedCopy(xs);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  const fences: TukeyFences = { lowSevere: q1 - 3 * iqr, lowMild: q1 - 1.5 * iqr, highMild: q3 + 1.5 * iqr, highSevere: q3 + 3 * iqr };
  const indices: TukeyClasses<number[]> = { lowSevere: [], lowMild: [], highMild: [], highSevere: [] };
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (x < fences.lowSevere) indices.lowSevere.push(i);
    else if (x < fences.lowMild) indices.lowMild.push(i);
    else if (x > fences.highSevere) indices.highSevere.push(i);
    else if (x > fences.highMild) indices.highMild.push(i);
  }
  const counts: TukeyClasses<number> = {
    lowSevere: indices.lowSevere.length,
    lowMild: indices.lowMild.length,
    highMild: indices.highMild.length,
    highSevere: indices.highSevere.length,
  };
  return { fences, counts, indices };
}

/**
 * Between-process CV above which a quantity is flagged as noisy: 0.15.
 * Two processes of one pair differ here by a median of 9%, which for
 * normal process means is a CV of about 9.4% (the median |x1 − x2| is
 * 0.954·sd); 15% is 1.5x that typical spread, and the point where the 95%
 * interval of 10 processes (t·CV/√10 = ±10.7%) grows past twice the 5%
 * noise threshold of the comparisons, so changes of that size stop being
 * resolvable.
 */
export const SPREAD_WARNING_CV = 0.15;

/** A one-line warning when the between-process CV exceeds `threshold`, else undefined. */
export function spreadWarning(cv: number, threshold = SPREAD_WARNING_CV): string | undefined {
  if (!(cv > threshold)) return undefined;
  return `processes differ by ${(cv * 100).toFixed(1)}% (CV), above ${(threshold * 100).toFixed(0)}%: the host was noisy or the code's speed depends on the process (layout, JIT); rerun or add processes`;
}
