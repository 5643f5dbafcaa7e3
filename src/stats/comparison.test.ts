import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NOISE_PCT,
  type MetricComparison,
  type TimingComparison,
  aaSummary,
  adjustAcrossMetrics,
  adjustFamily,
  compareExact,
  compareProcessSamples,
} from './comparison.ts';
import { type Uniform, normalDeviate, seededUniform } from './rng.ts';

/** Per-process means: log-normal with the given median and CV. */
function processes(rnd: Uniform, n: number, median: number, cv: number): number[] {
  const sigma = Math.sqrt(Math.log(1 + cv * cv));
  return Array.from({ length: n }, () => median * Math.exp(sigma * normalDeviate(rnd)));
}

describe('compareProcessSamples', () => {
  it('flags a real 10% slowdown measured in 10 processes each with 3% noise, and its interval covers it', () => {
    const rnd = seededUniform(201);
    const c = compareProcessSamples(processes(rnd, 10, 100, 0.03), processes(rnd, 10, 110, 0.03));
    expect(c.flagged).toBe(true);
    expect(c.verdict).toBe('regression');
    expect(c.test).toBe('exact');
    expect(c.p).toBeLessThan(0.001);
    expect(c.change.low).toBeLessThan(0.1);
    expect(c.change.high).toBeGreaterThan(0.1);
    expect(c.processes).toEqual({ baseline: 10, current: 10 });
    expect(c.noisePct).toBe(DEFAULT_NOISE_PCT);
  });

  it('flags it in nearly every repetition, also after BH among 49 unchanged metrics', () => {
    const rnd = seededUniform(202);
    let found = 0;
    let falseFlags = 0;
    const repetitions = 200;
    for (let r = 0; r < repetitions; r++) {
      const family: TimingComparison[] = [compareProcessSamples(processes(rnd, 10, 100, 0.03), processes(rnd, 10, 110, 0.03), { iterations: 200 })];
      for (let m = 0; m < 49; m++) family.push(compareProcessSamples(processes(rnd, 10, 50, 0.03), processes(rnd, 10, 50, 0.03), { iterations: 200 }));
      const adjusted = adjustAcrossMetrics(family);
      if (adjusted[0].flagged) found++;
      falseFlags += adjusted.slice(1).filter((c) => c.flagged).length;
    }
    expect(found / repetitions).toBeGreaterThan(0.95);
    expect(falseFlags / (repetitions * 49)).toBeLessThan(0.005);
  });

  it('improvements are flagged as such; significant changes within the noise threshold are not flagged', () => {
    const rnd = seededUniform(203);
    const faster = compareProcessSamples(processes(rnd, 10, 100, 0.02), processes(rnd, 10, 80, 0.02));
    expect(faster.verdict).toBe('improvement');
    const small = compareProcessSamples(processes(rnd, 10, 100, 0.005), processes(rnd, 10, 103, 0.005));
    expect(small.significant).toBe(true);
    expect(small.flagged).toBe(false);
    expect(small.verdict).toBe('within noise');
    expect(compareProcessSamples(processes(rnd, 10, 100, 0.005), processes(rnd, 10, 103, 0.005), { noisePct: 2 }).flagged).toBe(true);
  });

  it('cannot flag anything with 3 processes a side: the smallest exact p is 0.1', () => {
    const c = compareProcessSamples([1, 1.01, 1.02], [2, 2.01, 2.02]);
    expect(c.p).toBeCloseTo(0.1, 12);
    expect(c.flagged).toBe(false);
    expect(() => compareProcessSamples([1], [1, 2])).toThrow(RangeError);
  });

  it('is reproducible from its seed', () => {
    const a = [10, 11, 12, 10.5, 11.5];
    const b = [12, 13, 12.5, 13.5, 12.2];
    expect(compareProcessSamples(a, b, { seed: 4 })).toEqual(compareProcessSamples(a, b, { seed: 4 }));
  });
});

describe('A/A: the same distribution twice', () => {
  it('flags at most ~2% of many timing metrics after BH and the 5% threshold (in fact none)', () => {
    const rnd = seededUniform(204);
    const comparisons: MetricComparison[] = [];
    const timing: TimingComparison[] = [];
    let rawFlagged = 0;
    for (let m = 0; m < 600; m++) {
      const cv = [0.03, 0.1, 0.2][m % 3];
      const median = 10 ** (1 + (m % 5));
      const c = compareProcessSamples(processes(rnd, 10, median, cv), processes(rnd, 10, median, cv), { iterations: 200, seed: m });
      if (c.flagged) rawFlagged++;
      timing.push(c);
    }
    comparisons.push(...adjustAcrossMetrics(timing));
    for (let m = 0; m < 100; m++) comparisons.push(compareExact(4096 * m, 4096 * m));
    const summary = aaSummary(comparisons);
    expect(summary.timing).toBe(600);
    expect(summary.flaggedShare).toBeLessThanOrEqual(0.02);
    // Without BH, the test alone would flag ~5%; the noise threshold removes most of those.
    expect(rawFlagged / 600).toBeLessThan(0.05);
    expect(summary).toMatchObject({ exact: 100, exactChanged: 0 });
    expect(summary.message).toBe(`A/A: ${summary.flagged} of 600 timing metrics flagged (${(summary.flaggedShare * 100).toFixed(1)}%); 0 of 100 exact metrics differ`);
  });
});

describe('adjustAcrossMetrics', () => {
  it('replaces p by its BH adjustment and redoes the verdicts', () => {
    const rnd = seededUniform(205);
    const real = compareProcessSamples(processes(rnd, 6, 100, 0.05), processes(rnd, 6, 120, 0.05));
    expect(real.flagged).toBe(true);
    const nulls = Array.from({ length: 40 }, () => compareProcessSamples(processes(rnd, 6, 100, 0.05), processes(rnd, 6, 100, 0.05)));
    const [adjusted] = adjustAcrossMetrics([real, ...nulls]);
    expect(adjusted.p).toBe(real.p);
    expect(adjusted.pAdjusted).toBeGreaterThan(real.p);
    // 6 vs 6: the smallest p, 0.0022, times 41 metrics is no longer below 0.05.
    expect(adjusted.flagged).toBe(false);
    expect(adjusted.verdict).toBe('within noise');
  });
});

describe('adjustFamily', () => {
  // A total whose 10 processes a side overlap in 6 of 100 orderings (exact p = 60/184756), among 199 unchanged metrics.
  const rnd = seededUniform(206);
  const lucky = compareProcessSamples([11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [15.5, 19.5, 21, 22, 23, 24, 25, 26, 27, 28]);
  const nulls = Array.from({ length: 199 }, () => compareProcessSamples(processes(rnd, 10, 100, 0.1), processes(rnd, 10, 100, 0.1), { iterations: 200 }));
  const family = (copies: number, derived: boolean) => [
    { group: 'x', metric: 'restore_ms', comparison: lucky },
    ...Array.from({ length: copies }, (_, k) => ({ group: 'x', metric: `per_folio_${k}`, comparison: lucky, ...(derived ? { derivedFrom: ['restore_ms'] } : {}) })),
    ...nulls.map((comparison, k) => ({ group: `n${k}`, metric: 'restore_ms', comparison })),
  ];

  it('does not let copies of one test loosen BH: tested as three hypotheses, one finding passes; followed, it does not', () => {
    expect(lucky.p).toBeCloseTo(60 / 184756, 12);
    // Three tied p-values among 202 are adjusted by 202/3; one among 200 by 200.
    expect((lucky.p * 202) / 3).toBeLessThan(0.05);
    expect(lucky.p * 200).toBeGreaterThan(0.05);
    expect(adjustFamily(family(2, false))[0].flagged).toBe(true);
    const followed = adjustFamily(family(2, true));
    expect(followed[0].flagged).toBe(false);
    expect(followed[1].pAdjusted).toBe(followed[0].pAdjusted);
    expect(followed[1].derivedFrom).toEqual(['restore_ms']);
    expect(aaSummary(followed)).toMatchObject({ timing: 200, flagged: 0 });
  });

  it('a derived metric is flagged with its base, on its own change, and never without a base in the family', () => {
    const real = compareProcessSamples(processes(rnd, 10, 100, 0.02), processes(rnd, 10, 130, 0.02));
    const tiny = compareProcessSamples(processes(rnd, 10, 100, 0.001), processes(rnd, 10, 101, 0.001));
    const [base, follows, belowNoise, orphan] = adjustFamily([
      { group: 'p', metric: 'restore_ms', comparison: real },
      { group: 'p', metric: 'restore_ns_per_folio', comparison: real, derivedFrom: ['restore_ms'] },
      { group: 'p', metric: 'blackout_ms', comparison: tiny, derivedFrom: ['serialize_ms', 'restore_ms'] },
      { group: 'q', metric: 'restore_ns_per_folio', comparison: real, derivedFrom: ['restore_ms'] },
    ]);
    expect(base.verdict).toBe('regression');
    expect(follows.verdict).toBe('regression');
    expect(belowNoise).toMatchObject({ significant: true, flagged: false });
    expect(orphan).toMatchObject({ pAdjusted: 1, flagged: false });
  });
});

describe('compareExact', () => {
  it('any difference is a change', () => {
    expect(compareExact(4096, 4096)).toEqual({ kind: 'exact', baseline: 4096, current: 4096, change: 0, changed: false });
    expect(compareExact(4096, 8192)).toMatchObject({ change: 1, changed: true });
    expect(compareExact(0, 0)).toMatchObject({ change: 0, changed: false });
    expect(compareExact(0, 3)).toMatchObject({ change: Infinity, changed: true });
  });

  it('a differing exact metric shows in the A/A summary', () => {
    expect(aaSummary([compareExact(1, 1), compareExact(1, 2)])).toMatchObject({ exact: 2, exactChanged: 1, timing: 0, flaggedShare: 0 });
  });
});
