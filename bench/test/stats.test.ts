import { describe, expect, it } from 'vitest';
import {
  estimateOf,
  fitPowerLaw,
  poolSummaries,
  quantile,
  quantileSorted,
  scaleEstimate,
  sumEstimates,
  summarize,
  summaryQuantile,
  tCritical95,
} from '../../src/stats/index.ts';
import { Rng } from '../rng.ts';

/** Standard normal draws (Box-Muller) from a seeded generator. */
function normals(rng: Rng, n: number, mean = 0, sd = 1): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rng.float();
    const v = rng.float();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(mean + sd * r * Math.cos(2 * Math.PI * v), mean + sd * r * Math.sin(2 * Math.PI * v));
  }
  return out.slice(0, n);
}

describe('Student t critical values', () => {
  it('match the tables', () => {
    expect(tCritical95(1)).toBeCloseTo(12.706, 3);
    expect(tCritical95(5)).toBeCloseTo(2.571, 3);
    expect(tCritical95(30)).toBeCloseTo(2.042, 3);
    expect(tCritical95(50)).toBeCloseTo(2.009, 2);
    expect(tCritical95(100)).toBeCloseTo(1.984, 2);
    expect(tCritical95(1e9)).toBeCloseTo(1.96, 3);
  });

  it('decrease with the degrees of freedom', () => {
    let prev = Infinity;
    for (let df = 1; df < 500; df++) {
      expect(tCritical95(df)).toBeLessThanOrEqual(prev);
      prev = tCritical95(df);
    }
  });
});

describe('percentiles', () => {
  it('interpolate linearly between order statistics', () => {
    const xs = [1, 2, 3, 4, 5];
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 0.5)).toBe(3);
    expect(quantileSorted(xs, 1)).toBe(5);
    expect(quantileSorted(xs, 0.125)).toBe(1.5);
    expect(quantile([5, 1, 4, 2, 3], 0.99)).toBeCloseTo(4.96, 10);
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(quantileSorted([7], 0.99)).toBe(7);
  });

  it('are read from the sketch of a long sample within its resolution', () => {
    const xs = Array.from({ length: 100_000 }, (_, i) => i);
    const s = summarize(xs);
    expect(s.sketch.length).toBe(1001);
    expect(summaryQuantile(s, 0.5)).toBeCloseTo(quantile(xs, 0.5), 6);
    expect(Math.abs(summaryQuantile(s, 0.99) - quantile(xs, 0.99))).toBeLessThan(100);
  });
});

describe('mean and 95% CI', () => {
  it('computes mean and unbiased variance', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.variance).toBeCloseTo(32 / 7, 12);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    const e = estimateOf(s);
    const half = tCritical95(7) * Math.sqrt(32 / 7 / 8);
    expect(e.ciLow).toBeCloseTo(5 - half, 12);
    expect(e.ciHigh).toBeCloseTo(5 + half, 12);
    expect(e.samples).toBe(8);
  });

  it('covers the true mean about 95% of the time', () => {
    const rng = new Rng(42);
    let covered = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      const e = estimateOf(summarize(normals(rng, 10, 100, 15)));
      if (e.ciLow <= 100 && 100 <= e.ciHigh) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.97);
  });

  it('scales and adds estimates', () => {
    const a = { value: 10, ciLow: 8, ciHigh: 12, samples: 5 };
    const b = { value: 20, ciLow: 17, ciHigh: 24, samples: 9 };
    expect(scaleEstimate(a, 2)).toEqual({ value: 20, ciLow: 16, ciHigh: 24, samples: 5 });
    const s = sumEstimates(a, b);
    expect(s.value).toBe(30);
    expect(s.ciLow).toBeCloseTo(30 - Math.sqrt(4 + 9), 12);
    expect(s.ciHigh).toBeCloseTo(30 + Math.sqrt(4 + 16), 12);
    expect(s.samples).toBe(5);
  });
});

describe('pooling runs', () => {
  it('gives the mean and variance of the concatenated sample exactly', () => {
    const rng = new Rng(7);
    const a = normals(rng, 500, 10, 2);
    const b = normals(rng, 300, 12, 3);
    const pooled = poolSummaries([summarize(a), summarize(b)]);
    const whole = summarize([...a, ...b]);
    expect(pooled.n).toBe(800);
    expect(pooled.mean).toBeCloseTo(whole.mean, 10);
    expect(pooled.variance).toBeCloseTo(whole.variance, 8);
    expect(pooled.min).toBe(whole.min);
    expect(pooled.max).toBe(whole.max);
    expect(Math.abs(summaryQuantile(pooled, 0.5) - quantile([...a, ...b], 0.5))).toBeLessThan(0.05);
    expect(Math.abs(summaryQuantile(pooled, 0.99) - quantile([...a, ...b], 0.99))).toBeLessThan(0.3);
  });

  it('returns a single run unchanged', () => {
    const s = summarize([1, 2, 3]);
    expect(poolSummaries([s])).toBe(s);
  });
});

describe('power-law fit', () => {
  it('recovers the exponent of exact power laws', () => {
    const xs = [1e3, 1e4, 1e5, 1e6, 1e7];
    for (const k of [0, 0.5, 1, 2]) {
      const fit = fitPowerLaw(
        xs,
        xs.map((x) => 3 * x ** k),
      )!;
      expect(fit.exponent).toBeCloseTo(k, 10);
      expect(fit.coefficient).toBeCloseTo(3, 6);
      expect(fit.r2).toBeCloseTo(1, 10);
    }
  });

  it('recovers it within noise from noisy data', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 40 }, (_, i) => 2 ** (10 + i / 2));
    const ys = xs.map((x) => 0.5 * x ** 1.3 * Math.exp(0.1 * normals(rng, 1)[0]));
    const fit = fitPowerLaw(xs, ys)!;
    expect(fit.exponent).toBeGreaterThan(1.27);
    expect(fit.exponent).toBeLessThan(1.33);
    expect(fit.r2).toBeGreaterThan(0.98);
  });

  it('ignores non-positive points and needs two', () => {
    expect(fitPowerLaw([1, 2], [0, 5])).toBeNull();
    expect(fitPowerLaw([4, 4], [1, 2])).toBeNull();
    expect(fitPowerLaw([1, 2, 4], [0, 2, 4])!.exponent).toBeCloseTo(1, 10);
  });
});
