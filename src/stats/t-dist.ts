/**
 * Student's t critical values for two-sided 95% confidence intervals.
 *
 * Exact to three decimals: a table for 1..30 degrees of freedom and a few
 * larger ones, linear interpolation in 1/df between them, and the normal
 * value 1.95996 as df grows without bound.
 */

/** t_{0.975, df} for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** [df, t_{0.975, df}] beyond the dense table; the last entry is the normal limit (1/df = 0). */
const T975_TAIL: readonly (readonly [number, number])[] = [
  [30, 2.042],
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
  [Infinity, 1.95996],
];

/** The two-sided 95% critical value of Student's t with `df` degrees of freedom (df >= 1). */
export function tCritical95(df: number): number {
  if (!(df >= 1)) return Infinity;
  if (df <= 30 && Number.isInteger(df)) return T975[df - 1];
  for (let i = 1; i < T975_TAIL.length; i++) {
    const [d0, t0] = T975_TAIL[i - 1];
    const [d1, t1] = T975_TAIL[i];
    if (df <= d1) {
      const x0 = 1 / d0;
      const x1 = d1 === Infinity ? 0 : 1 / d1;
      return t0 + ((1 / df - x0) * (t1 - t0)) / (x1 - x0);
    }
  }
  return 1.95996;
}
