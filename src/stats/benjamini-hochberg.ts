/**
 * Benjamini–Hochberg adjustment for many tests at once: rejecting every
 * adjusted p below alpha keeps the expected share of false discoveries
 * among the rejections at most alpha (for independent or positively
 * dependent tests), and when every null is true, the chance of any
 * rejection at most alpha. A run compares hundreds of metrics, so raw
 * p-values would flag about 5% of unchanged ones.
 */

/** Benjamini–Hochberg adjusted p-values, in the input order. */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  const n = ps.length;
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(n);
  let min = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = Math.min(min, (order[k].p * n) / (k + 1));
    min = v;
    adjusted[order[k].i] = Math.min(1, v);
  }
  return adjusted;
}
