/**
 * The statistics the report rests on: Mann–Whitney U and Benjamini–Hochberg
 * (src/stats) against SciPy's values, and the report's own summaries over
 * scenarios; and the number formatting every table uses.
 */
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, mannWhitneyU, tQuantile } from '../stats/index.ts';
import { displayUnit, formatBounds, formatRatioInterval, formatValue, formatWithInterval } from './format.ts';
import { boxSummary, geometricMeanInterval, ratioInterval, spreadOf } from './stats.ts';

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

describe('summaries over scenarios', () => {
  it('the geometric mean of the values with the range it summarizes; non-positive values are left out', () => {
    const s = spreadOf([
      { at: 'a', value: 2 },
      { at: 'b', value: 8 },
      { at: 'c', value: 0 },
    ])!;
    expect(s.value).toBeCloseTo(4, 12);
    expect([s.min, s.minAt, s.max, s.maxAt, s.n]).toEqual([2, 'a', 8, 'b', 2]);
    expect(spreadOf([])).toBeUndefined();
  });

  it('one scenario: the delta-method interval of a mean on the log scale, with n − 1 degrees of freedom', () => {
    const xs = [9, 10, 11, 10, 10];
    const mean = 10;
    const sd = Math.sqrt(0.5);
    const half = (tQuantile(0.975, 4) * sd) / Math.sqrt(5) / mean;
    const iv = geometricMeanInterval([[{ samples: xs, power: 1 }]])!;
    expect(iv.value).toBeCloseTo(10, 12);
    expect(iv.low).toBeCloseTo(10 * Math.exp(-half), 12);
    expect(iv.high).toBeCloseTo(10 * Math.exp(half), 12);
  });

  it('a ratio of two equal-variance samples: Welch–Satterthwaite gives 2(n − 1) degrees of freedom', () => {
    const a = [9, 10, 11, 10, 10];
    const b = a.map((x) => 2 * x);
    const r = ratioInterval(a, b)!;
    expect(r.value).toBeCloseTo(2, 12);
    const v = 2 * (0.5 / (5 * 100));
    const half = tQuantile(0.975, 8) * Math.sqrt(v);
    expect(Math.log(r.high / r.value)).toBeCloseTo(half, 10);
    expect(r.low).toBeGreaterThan(0);
  });

  it('averages ratios over scenarios, narrower than each; undefined without two processes', () => {
    const one = ratioInterval([10, 11, 9], [20, 22, 18])!;
    const two = geometricMeanInterval([
      [
        { samples: [20, 22, 18], power: 1 },
        { samples: [10, 11, 9], power: -1 },
      ],
      [
        { samples: [40, 44, 36], power: 1 },
        { samples: [10, 11, 9], power: -1 },
      ],
    ])!;
    expect(two.value).toBeCloseTo(Math.sqrt(8), 12);
    expect(Math.log(two.high / two.low)).toBeLessThan(Math.log(one.high / one.low));
    expect(geometricMeanInterval([[{ samples: [1], power: 1 }]])).toBeUndefined();
    const exact = geometricMeanInterval([[{ samples: [3, 3, 3], power: 1 }]])!;
    expect(exact.value).toBeCloseTo(3, 12);
    expect([exact.low, exact.high]).toEqual([exact.value, exact.value]);
  });

  it('box summary: quartiles, whiskers within 1.5 IQR, the rest as outliers', () => {
    const b = boxSummary([1, 2, 3, 4, 5, 6, 7, 8, 100])!;
    expect([b.q1, b.median, b.q3]).toEqual([3, 5, 7]);
    expect([b.whiskerLow, b.whiskerHigh, b.outliers]).toEqual([1, 8, [100]]);
  });

  it('Benjamini–Hochberg adjustment', () => {
    const adj = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.02, 12);
    expect(adj[1]).toBeCloseTo(0.04, 12);
    expect(adj[2]).toBeCloseTo(0.04, 12);
    expect(adj[3]).toBeCloseTo(0.02, 12);
  });
});

describe('formatting', () => {
  it('chooses the unit from the magnitude, so a 0.41 ms value reads 410 µs', () => {
    expect(displayUnit('ms', 0.41)).toEqual({ label: 'µs', divisor: 0.001 });
    expect(displayUnit('ms', 0.0000004)).toEqual({ label: 'ns', divisor: 1e-6 });
    expect(displayUnit('ns', 2_500_000)).toEqual({ label: 'ms', divisor: 1e6 });
    expect(displayUnit('bytes', 3 * 2 ** 20)).toEqual({ label: 'MiB', divisor: 2 ** 20 });
    expect(displayUnit('lines', 0.4)).toEqual({ label: 'lines', divisor: 1 });
    expect(formatValue(0.41, 'ms')).toBe('410 µs');
    expect(formatValue(1536, 'bytes')).toBe('1.5 KiB');
  });

  it('an interval is in the unit of its value, and never below zero for a quantity', () => {
    expect(formatWithInterval(0.41, 0.4, 0.42, 'ms')).toBe('410 µs [400, 420]');
    expect(formatWithInterval(10, -2, 22, 'ns')).toBe('10 ns [0, 22]');
    expect(formatBounds(10, -2, 22, 'ns', false)).toBe('[-2, 22]');
    expect(formatWithInterval(5, undefined, undefined, 'lines')).toBe('5 lines');
    expect(formatRatioInterval(1.31, 1.2, 1.43)).toBe('1.31× [1.2, 1.43]');
  });
});
