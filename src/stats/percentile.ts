/**
 * Percentiles of a sorted sample, by linear interpolation between order
 * statistics (Hyndman & Fan type 7, the default of R and of tinybench).
 */

/** The `p`-quantile (0 <= p <= 1) of an ascending sample; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0];
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** An ascending copy of `values`. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values as ArrayLike<number>).sort();
}

/** The `p`-quantile of an unsorted sample. */
export function quantile(values: ArrayLike<number>, p: number): number {
  return quantileSorted(sortedCopy(values), p);
}
