import { describe, expect, it } from 'vitest';
import { benjaminiHochberg } from './compare.ts';
import {
  bootstrapRatio,
  boxSummary,
  differenceInterval,
  fitPowerLaw,
  intervalsOverlap,
  mannWhitneyU,
  normalCdf,
  quantile,
  ratioInterval,
  zTestFromIntervals,
} from './stats.ts';

describe('Mann–Whitney U (values checked against SciPy 1.17 mannwhitneyu)', () => {
  it('exact p-value for fully separated samples', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(0);
    expect(r.p).toBeCloseTo(0.007936507936507936, 12);
    expect(r.effect).toBe(0);
  });

  it('exact p-value of the SciPy documentation example', () => {
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r.u).toBe(17);
    expect(r.p).toBeCloseTo(0.1111111111111111, 12);
  });

  it('normal approximation with ties (tie and continuity corrections)', () => {
    const r = mannWhitneyU([1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 8], [3, 4, 4, 5, 6, 6, 7, 8, 9, 9, 10, 11, 12]);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(29.5);
    expect(r.p).toBeCloseTo(0.008690153557972294, 5);
  });

  it('normal approximation on larger samples', () => {
    const x = [
      10.691, 11.643, 10.661, 7.394, 11.811, 10.893, 8.926, 11.162, 10.729, 10.588, 10.057, 11.093, 8.527, 9.674, 9.036, 11.198, 10.079,
      9.415, 8.436, 9.486, 10.016, 9.449, 12.588, 12.013, 4.578, 6.222, 9.65, 9.156, 10.427, 10.435, 14.236, 7.776, 9.245, 14.086, 11.293,
      11.326, 8.972, 6.704, 10.335, 10.218,
    ];
    const y = [
      8.545, 9.634, 10.856, 9.11, 10.803, 11.191, 11.071, 9.987, 12.187, 12.782, 11.642, 9.364, 12.463, 9.997, 12.758, 8.856, 12.829, 10.96,
      8.503, 10.372, 11.108, 11.546, 9.036, 8.785, 11.399, 10.067, 11.471, 12.519, 7.702, 11.509, 13.449, 10.405, 9.378, 12.504, 11.507,
      12.792, 10.31, 8.036, 10.78, 10.108, 12.551, 11.387, 7.738, 8.61, 12.768,
    ];
    const r = mannWhitneyU(x, y);
    expect(r.u).toBe(702.5);
    expect(r.p).toBeCloseTo(0.0828299801938758, 5);
    // Symmetric in its p-value.
    expect(mannWhitneyU(y, x).p).toBeCloseTo(r.p, 12);
  });

  it('identical samples are not significant; empty ones give p = 1', () => {
    expect(mannWhitneyU([5, 5, 5, 5], [5, 5, 5, 5]).p).toBe(1);
    expect(mannWhitneyU([], [1, 2]).p).toBe(1);
  });
});

describe('other statistics', () => {
  it('normal CDF', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 6);
  });

  it('quantiles and box summary', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    const b = boxSummary([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])!;
    expect(b.median).toBe(5.5);
    expect(b.outliers).toEqual([100]);
    expect(b.whiskerHigh).toBe(9);
  });

  it('bootstrap ratio of medians is seeded and covers the true ratio', () => {
    const a = Array.from({ length: 50 }, (_, i) => 100 + (i % 10));
    const b = a.map((v) => v * 2);
    const r1 = bootstrapRatio(a, b, { seed: 7, iterations: 500 });
    const r2 = bootstrapRatio(a, b, { seed: 7, iterations: 500 });
    expect(r1).toEqual(r2);
    expect(r1.value).toBeCloseTo(2, 10);
    expect(r1.low).toBeLessThanOrEqual(2);
    expect(r1.high).toBeGreaterThanOrEqual(2);
  });

  it('intervals from 95% CIs', () => {
    const a = { value: 10, ciLow: 9, ciHigh: 11 };
    const b = { value: 20, ciLow: 18, ciHigh: 22 };
    const d = differenceInterval(a, b);
    expect(d.value).toBe(10);
    expect(d.low).toBeCloseTo(10 - Math.hypot(1, 2), 9);
    const r = ratioInterval(a, b);
    expect(r.value).toBe(2);
    expect(r.low).toBeLessThan(2);
    expect(r.high).toBeGreaterThan(2);
    expect(zTestFromIntervals(a, b).p).toBeLessThan(0.001);
    expect(zTestFromIntervals(a, a).p).toBeCloseTo(1, 6);
    expect(intervalsOverlap(a, b)).toBe(false);
    expect(intervalsOverlap(a, { ciLow: 10.5, ciHigh: 30 })).toBe(true);
  });

  it('log-log fit recovers a power law', () => {
    const fit = fitPowerLaw([1, 10, 100, 1000].map((x) => ({ x, y: 3 * x ** 1.5 })))!;
    expect(fit.exponent).toBeCloseTo(1.5, 10);
    expect(fit.r2).toBeCloseTo(1, 10);
    expect(fitPowerLaw([{ x: 1, y: 1 }])).toBeUndefined();
  });

  it('Benjamini–Hochberg adjustment', () => {
    const adj = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.02, 12);
    expect(adj[1]).toBeCloseTo(0.04, 12);
    expect(adj[2]).toBeCloseTo(0.04, 12);
    expect(adj[3]).toBeCloseTo(0.02, 12);
  });
});
