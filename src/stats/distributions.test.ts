import { describe, expect, it } from 'vitest';
import { Z95, normalCdf, normalQuantile, tCdf, tQuantile } from './distributions.ts';
import { tCritical95 } from './t-dist.ts';

describe('Student t (values from SciPy 1.17 scipy.stats.t)', () => {
  it('quantiles', () => {
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262157162798205, 10);
    expect(tQuantile(0.995, 9)).toBeCloseTo(3.249835541592126, 10);
    expect(tQuantile(0.95, 3.5)).toBeCloseTo(2.2224334936496004, 10);
    expect(tQuantile(0.9995, 1)).toBeCloseTo(636.6192487687897, 6);
    expect(tQuantile(0.025, 9)).toBeCloseTo(-2.262157162798205, 10);
    expect(tQuantile(0.5, 4)).toBe(0);
  });

  it('quantiles have closed forms for 1 and 2 degrees of freedom', () => {
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      expect(tQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 8);
      expect(tQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 8);
    }
  });

  it('agree with the 95% table to its three decimals', () => {
    for (let df = 1; df <= 30; df++) expect(Math.abs(tQuantile(0.975, df) - tCritical95(df))).toBeLessThan(6e-4);
  });

  it('CDF', () => {
    expect(tCdf(2.5, 7.5)).toBeCloseTo(0.9805898708631873, 12);
    expect(tCdf(-1.3, 4)).toBeCloseTo(0.13172579823561206, 12);
    expect(tCdf(0, 3)).toBe(0.5);
    expect(tCdf(Infinity, 3)).toBe(1);
  });
});

describe('normal quantile', () => {
  it('inverts the CDF (values from SciPy scipy.stats.norm.ppf)', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(Z95, 8);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 7);
    expect(normalQuantile(0.3)).toBeCloseTo(-0.5244005127080409, 8);
    for (const p of [0.001, 0.05, 0.5, 0.8, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });
});
