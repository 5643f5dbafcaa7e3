import { describe, expect, it } from 'vitest';
import { bootstrapInterval, bootstrapRatio, meanStatistic, medianStatistic } from './bootstrap.ts';

// A right-skewed sample, like process times with one slow process.
const SKEWED = [12.1, 9.8, 15.3, 10.4, 31.0, 11.7, 13.9, 10.1, 18.6, 12.5, 9.9, 14.2];

describe('bootstrap intervals', () => {
  it('match SciPy 1.17 scipy.stats.bootstrap (200000 resamples) within resampling error', () => {
    const pct = bootstrapInterval(SKEWED, meanStatistic, { iterations: 20_000, seed: 3 });
    expect(pct.value).toBeCloseTo(14.125, 12);
    expect(Math.abs(pct.low - 11.533)).toBeLessThan(0.1);
    expect(Math.abs(pct.high - 17.758)).toBeLessThan(0.25);
    const bca = bootstrapInterval(SKEWED, meanStatistic, { iterations: 20_000, seed: 3, method: 'bca' });
    expect(Math.abs(bca.low - 11.958)).toBeLessThan(0.1);
    expect(Math.abs(bca.high - 19.475)).toBeLessThan(0.25);
    // The skew moves BCa up, as it should for a right tail.
    expect(bca.low).toBeGreaterThan(pct.low);
    expect(bca.high).toBeGreaterThan(pct.high);
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const a = bootstrapInterval(SKEWED, meanStatistic, { seed: 9, iterations: 500 });
    expect(bootstrapInterval(SKEWED, meanStatistic, { seed: 9, iterations: 500 })).toEqual(a);
    expect(bootstrapInterval(SKEWED, meanStatistic, { seed: 10, iterations: 500 })).not.toEqual(a);
  });

  it('collapses on constant data, with either method', () => {
    for (const method of ['percentile', 'bca'] as const) {
      expect(bootstrapInterval([5, 5, 5, 5], meanStatistic, { method, iterations: 200 })).toEqual({ value: 5, low: 5, high: 5 });
    }
  });

  it('ratio of means and of medians of two samples', () => {
    const a = SKEWED;
    const b = SKEWED.map((x) => x * 1.5);
    for (const statistic of ['mean', 'median'] as const) {
      for (const method of ['percentile', 'bca'] as const) {
        const r = bootstrapRatio(a, b, { statistic, method, iterations: 1000, seed: 1 });
        expect(r.value).toBeCloseTo(1.5, 12);
        expect(r.low).toBeLessThan(1.5);
        expect(r.high).toBeGreaterThan(1.5);
      }
    }
    expect(medianStatistic(Float64Array.from([3, 1, 2, 10]))).toBe(2.5);
    expect(bootstrapRatio([], [1]).value).toBeNaN();
  });
});
