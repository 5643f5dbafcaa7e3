/**
 * Growth exponents: a least-squares line through (log x, log y), so that
 * y ~ coefficient * x^exponent. r2 is the coefficient of determination of
 * that line in log-log space (1 for an exact power law).
 */

export interface PowerLawFit {
  exponent: number;
  coefficient: number;
  r2: number;
  /** Points used (those with x > 0 and y > 0). */
  points: number;
  /** Standard error of the exponent (the slope), from the residuals; undefined below 3 points. */
  slopeSe?: number;
}

/** Fits y = c * x^k; null when fewer than two usable points or x does not vary. */
export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerLawFit | null {
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    if (xs[i] > 0 && ys[i] > 0 && Number.isFinite(xs[i]) && Number.isFinite(ys[i])) {
      lx.push(Math.log(xs[i]));
      ly.push(Math.log(ys[i]));
    }
  }
  const n = lx.length;
  if (n < 2) return null;
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i] - mx) ** 2;
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) ** 2;
  }
  if (sxx === 0) return null;
  const exponent = sxy / sxx;
  const intercept = my - exponent * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  // Residual variance on n - 2 degrees of freedom; the slope's variance is that over sxx.
  const rss = Math.max(0, syy - exponent * sxy);
  const slopeSe = n >= 3 ? Math.sqrt(rss / (n - 2) / sxx) : undefined;
  return { exponent, coefficient: Math.exp(intercept), r2, points: n, ...(slopeSe !== undefined ? { slopeSe } : {}) };
}
