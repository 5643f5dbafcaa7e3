import { describe, expect, it } from 'vitest';
import { type ProcessIntervalMethod, SPREAD_WARNING_CV, processInterval, processSpread, spreadWarning, tukeyOutliers } from './replicates.ts';
import { type Uniform, normalDeviate, seededUniform } from './rng.ts';

/** Per-process means of one simulated experiment: log-normal around `median` with log-sd `sigma`. */
function logNormals(rnd: Uniform, n: number, median: number, sigma: number): number[] {
  return Array.from({ length: n }, () => median * Math.exp(sigma * normalDeviate(rnd)));
}

/** The share of `experiments` simulated experiments whose interval covers `truth`. */
function coverage(
  experiments: number,
  draw: () => number[],
  truth: number,
  method: ProcessIntervalMethod,
  iterations?: number,
): number {
  let covered = 0;
  for (let e = 0; e < experiments; e++) {
    const r = processInterval(draw(), { method, iterations, seed: e });
    if (r.ciLow <= truth && truth <= r.ciHigh) covered++;
  }
  return covered / experiments;
}

// Binomial sd of a coverage from 2000 experiments at 95%: 0.5%, so ±1.5% is three sd.
const NOMINAL = [0.935, 0.965] as const;

describe('processInterval: coverage over 2000 simulated 10-process experiments', () => {
  it('t (the default) covers the true mean of normal process means in ~95%', () => {
    const rnd = seededUniform(101);
    const c = coverage(2000, () => Array.from({ length: 10 }, () => 100 * (1 + 0.1 * normalDeviate(rnd))), 100, 't');
    expect(c).toBeGreaterThan(NOMINAL[0]);
    expect(c).toBeLessThan(NOMINAL[1]);
    expect(processInterval([1, 2, 3]).method).toBe('t');
  });

  it('t covers the true mean of skewed (log-normal, CV 30%) process means in ~95%', () => {
    const rnd = seededUniform(102);
    const sigma = Math.sqrt(Math.log(1 + 0.3 ** 2));
    const c = coverage(2000, () => logNormals(rnd, 10, 100, sigma), 100 * Math.exp(sigma ** 2 / 2), 't');
    expect(c).toBeGreaterThan(0.93);
    expect(c).toBeLessThan(NOMINAL[1]);
  });

  it('log covers the true geometric mean of log-normal process means in ~95%, with 3 processes too', () => {
    const rnd = seededUniform(103);
    for (const n of [3, 10]) {
      const c = coverage(2000, () => logNormals(rnd, n, 100, 0.3), 100, 'log');
      expect(c).toBeGreaterThan(NOMINAL[0]);
      expect(c).toBeLessThan(NOMINAL[1]);
    }
  });

  it('the bootstrap undercovers with few processes, as documented (about 90% at n = 10, 75% at n = 3)', () => {
    const rnd = seededUniform(104);
    const draw = (n: number) => () => Array.from({ length: n }, () => 100 * (1 + 0.1 * normalDeviate(rnd)));
    const at10 = coverage(1000, draw(10), 100, 'percentile', 500);
    const at3 = coverage(1000, draw(3), 100, 'bca', 500);
    expect(at10).toBeGreaterThan(0.86);
    expect(at10).toBeLessThan(0.93);
    expect(at3).toBeLessThan(0.82);
  });
});

describe('processInterval', () => {
  it('the log-scale interval never goes below zero, even for wildly spread values; t is clamped at zero', () => {
    const rnd = seededUniform(105);
    let tClamped = 0;
    for (let e = 0; e < 2000; e++) {
      const xs = logNormals(rnd, 3, 100, 1.5);
      const log = processInterval(xs, { method: 'log' });
      expect(log.ciLow).toBeGreaterThan(0);
      expect(log.ciLow).toBeLessThanOrEqual(log.value);
      const t = processInterval(xs, { method: 't' });
      expect(t.ciLow).toBeGreaterThanOrEqual(0);
      if (t.ciLow === 0) tClamped++;
    }
    expect(tClamped).toBeGreaterThan(0);
  });

  it('returns the mean (t, bootstrap) or the geometric mean (log), with the t(n−1) width', () => {
    const xs = [90, 100, 110];
    const t = processInterval(xs);
    expect(t).toEqual({ value: 100, ciLow: expect.any(Number), ciHigh: expect.any(Number), processes: 3, method: 't' });
    // sd = 10, t(0.975, 2) = 4.3027
    expect(t.ciHigh - 100).toBeCloseTo((4.302652729749752 * 10) / Math.sqrt(3), 9);
    expect(processInterval(xs, { method: 'log' }).value).toBeCloseTo(Math.cbrt(90 * 100 * 110), 9);
    const wide = processInterval(xs, { confidence: 0.99 });
    expect(wide.ciHigh).toBeGreaterThan(t.ciHigh);
    for (const method of ['percentile', 'bca'] as const) {
      const b = processInterval(xs, { method, seed: 1, iterations: 500 });
      expect(b.value).toBe(100);
      expect(b.ciLow).toBeGreaterThanOrEqual(90);
      expect(b.ciHigh).toBeLessThanOrEqual(110);
      expect(processInterval(xs, { method, seed: 1, iterations: 500 })).toEqual(b);
    }
  });

  it('refuses fewer than 2 processes, and non-positive values on the log scale', () => {
    expect(() => processInterval([5])).toThrow(RangeError);
    expect(() => processInterval([5, 0], { method: 'log' })).toThrow(RangeError);
    expect(() => processInterval([5, 6], { confidence: 1 })).toThrow(RangeError);
    expect(processInterval([-1, 1]).ciLow).toBeLessThan(0);
  });
});

describe('between-process spread', () => {
  it('CV and robust CV: one wild process moves the first, barely the second', () => {
    const rnd = seededUniform(106);
    const xs = Array.from({ length: 10 }, () => 100 * (1 + 0.05 * normalDeviate(rnd)));
    const calm = processSpread(xs);
    expect(calm.cv).toBeGreaterThan(0.02);
    expect(calm.cv).toBeLessThan(0.1);
    const wild = processSpread([...xs.slice(1), 190]);
    expect(wild.cv).toBeGreaterThan(0.25);
    expect(wild.robustCv).toBeLessThan(0.1);
    expect(processSpread([1, 2, 3, 4, 100])).toMatchObject({ median: 3, mad: 1, robustCv: 1.4826 / 3 });
  });

  it('warns above the threshold only', () => {
    expect(SPREAD_WARNING_CV).toBe(0.15);
    expect(spreadWarning(0.1)).toBeUndefined();
    expect(spreadWarning(0.2)).toMatch(/^processes differ by 20\.0% \(CV\), above 15%/);
    expect(spreadWarning(0.2, 0.25)).toBeUndefined();
    expect(spreadWarning(NaN)).toBeUndefined();
  });
});

describe('Tukey fences, as criterion.rs', () => {
  it('classifies planted outliers as mild or severe, low or high, by index', () => {
    const xs = [100, 103, 98, 101, 190, 99, 102, 97, 100, 112, 101, 90];
    const t = tukeyOutliers(xs);
    // q1 = 98.75, q3 = 102.25, IQR = 3.5
    expect(t.fences).toEqual({ lowSevere: 88.25, lowMild: 93.5, highMild: 107.5, highSevere: 112.75 });
    expect(t.indices).toEqual({ lowSevere: [], lowMild: [11], highMild: [9], highSevere: [4] });
    expect(t.counts).toEqual({ lowSevere: 0, lowMild: 1, highMild: 1, highSevere: 1 });
  });

  it('finds no severe outlier in a clean sample (mild ones are common with 10 values), and a slow process among ten', () => {
    const rnd = seededUniform(107);
    const xs = Array.from({ length: 10 }, () => 100 * (1 + 0.03 * normalDeviate(rnd)));
    const clean = tukeyOutliers(xs).counts;
    expect(clean.lowSevere + clean.highSevere).toBe(0);
    xs[6] *= 1.9;
    expect(tukeyOutliers(xs).indices.highSevere).toEqual([6]);
  });
});
