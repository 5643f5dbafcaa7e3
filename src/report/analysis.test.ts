import { describe, expect, it } from 'vitest';
import { answerIda, answerPageBitmaps, answerRfc, answerSerialization, answers, decide, decisionTable, describeDecision } from './analysis.ts';
import { compareRuns, regressions } from './compare.ts';
import { makeFixture, setEstimate } from './fixture.ts';
import { metricDef } from './metrics.ts';
import { Results } from '../results/schema.ts';

const restore = metricDef('restoreMs');

describe('decision table', () => {
  it('names the winner and the ratio over the runner-up when intervals do not overlap', () => {
    const r = makeFixture({ scenarios: ['vm-2m'] });
    setEstimate(r, 'radix', 'vm-2m', 'restoreMs', 10, 9, 11);
    setEstimate(r, 'ida', 'vm-2m', 'restoreMs', 20, 18, 22);
    for (const st of ['xarray-6.16', 'xarray-6.18', 'radix-rfc']) setEstimate(r, st, 'vm-2m', 'restoreMs', 50, 45, 55);
    // The lower bound is faster still, but is not ranked.
    setEstimate(r, 'flat-bitmap', 'vm-2m', 'restoreMs', 1, 0.9, 1.1);
    const d = decide(r, restore, 'vm-2m');
    expect(d.verdict).toBe('winner');
    expect(d.winner!.structure).toBe('radix');
    expect(d.runnerUp!.structure).toBe('ida');
    expect(d.ratio!.value).toBe(2);
    expect(d.ratio!.low).toBeGreaterThan(1);
    expect(d.ratio!.high).toBeGreaterThan(2);
    expect(d.difference!.value).toBe(10);
    expect(d.reference.map((e) => e.structure)).toEqual(['flat-bitmap']);
    expect(describeDecision(d)).toMatch(/^radix wins by 2× \[[\d.]+, [\d.]+\] over ida$/);
  });

  it('says "no clear winner" when the two lowest intervals overlap, and lists the overlapping set', () => {
    const r = makeFixture({ scenarios: ['vm-2m'] });
    setEstimate(r, 'radix', 'vm-2m', 'restoreMs', 10, 8, 12);
    setEstimate(r, 'ida', 'vm-2m', 'restoreMs', 11, 9, 13);
    setEstimate(r, 'radix-rfc', 'vm-2m', 'restoreMs', 11.5, 11.9, 14);
    setEstimate(r, 'xarray-6.16', 'vm-2m', 'restoreMs', 30, 29, 31);
    setEstimate(r, 'xarray-6.18', 'vm-2m', 'restoreMs', 40, 39, 41);
    const d = decide(r, restore, 'vm-2m');
    expect(d.verdict).toBe('no clear winner');
    expect(d.winner!.structure).toBe('radix');
    expect(d.tied).toEqual(['radix', 'ida', 'radix-rfc']);
    expect(describeDecision(d)).toBe('no clear winner: radix ≈ ida ≈ radix-rfc (intervals overlap)');
  });

  it('touching intervals count as overlapping', () => {
    const r = makeFixture({ scenarios: ['vm-2m'], structures: ['radix', 'ida'] });
    setEstimate(r, 'radix', 'vm-2m', 'restoreMs', 10, 9, 11);
    setEstimate(r, 'ida', 'vm-2m', 'restoreMs', 12, 11, 13);
    expect(decide(r, restore, 'vm-2m').verdict).toBe('no clear winner');
  });

  it('handles missing structures and scenarios', () => {
    const r = makeFixture({ scenarios: ['vm-2m'], structures: ['radix', 'flat-bitmap'] });
    expect(decide(r, restore, 'vm-2m').verdict).toBe('only one measured');
    expect(decide(r, restore, 'dense-4k').verdict).toBe('not measured');
    const only = makeFixture({ scenarios: ['vm-2m'], structures: ['flat-bitmap'] });
    expect(decide(only, restore, 'vm-2m').verdict).toBe('not measured');
    const table = decisionTable(r);
    expect(table).toHaveLength(7); // one scenario × seven metrics
  });

  it('exact metrics: strictly lowest wins, equal values tie', () => {
    const r = makeFixture({ scenarios: ['sparse-4k-128m', 'vm-2m'] });
    const meta = metricDef('metadataPerGiB');
    const d = decide(r, meta, 'sparse-4k-128m');
    expect(d.verdict).toBe('winner');
    expect(d.winner!.structure).toBe('ida');
    const pairs = r.pairs.filter((p) => p.scenario === 'vm-2m' && (p.structure === 'radix' || p.structure === 'ida'));
    for (const p of pairs) p.metadataBytesHandover = 4096;
    const t = decide(r, meta, 'vm-2m');
    expect(t.verdict).toBe('no clear winner');
    expect(describeDecision(t)).toMatch(/\(equal\)$/);
  });
});

describe('plain-language answers', () => {
  it('computes the serialization saving from the blackout numbers', () => {
    const r = makeFixture({ scenarios: ['vm-2m', 'dense-4k'] });
    setEstimate(r, 'xarray-6.18', 'vm-2m', 'blackoutMs', 100, 95, 105);
    setEstimate(r, 'radix', 'vm-2m', 'blackoutMs', 40, 38, 42);
    setEstimate(r, 'xarray-6.18', 'dense-4k', 'blackoutMs', 50, 45, 55);
    setEstimate(r, 'radix', 'dense-4k', 'blackoutMs', 48, 44, 52);
    const a = answerSerialization(r);
    expect(a.missing).toEqual([]);
    expect(a.sentences[0]).toMatch(/^Removing serialization saves 60 ms of blackout on vm-2m \[95% CI [\d.]+ ms to [\d.]+ ms\] \(xarray-6.18 vs radix\), 60.0% of xarray-6.18's blackout of 100 ms\.$/);
    expect(a.sentences.join(' ')).toContain('no clear difference on 1 (dense-4k)');
    expect(a.table!.rows).toHaveLength(2);
  });

  it('says when serialization saves nothing', () => {
    const r = makeFixture({ scenarios: ['vm-2m'] });
    setEstimate(r, 'xarray-6.18', 'vm-2m', 'blackoutMs', 40, 38, 42);
    setEstimate(r, 'radix', 'vm-2m', 'blackoutMs', 60, 58, 62);
    expect(answerSerialization(r).sentences[0]).toMatch(/^Removing serialization saves no blackout time in this run/);
  });

  it('says what is missing instead of failing', () => {
    const r = makeFixture({ structures: ['flat-bitmap', 'radix'], scenarios: ['vm-2m', 'dense-4k'] });
    const all = answers(r);
    expect(all).toHaveLength(5);
    expect(answerSerialization(r).missing[0]).toBe('Cannot answer: xarray-6.18 was not measured in this run.');
    expect(answerIda(r).missing[0]).toBe('Cannot answer: ida was not measured in this run.');
    expect(answerRfc(r).missing[0]).toBe('Cannot answer: radix-rfc was not measured in this run.');
    const pb = answerPageBitmaps(r);
    expect(pb.missing).toContain('Scenario(s) sparse-4k-16m, sparse-4k-128m not in this run.');
    expect(pb.missing).toContain('Cannot answer: no sparse scenario was measured.');
    // A pair missing in one scenario only is named.
    const partial = makeFixture({ scenarios: ['vm-2m', 'dense-4k'] });
    partial.pairs = partial.pairs.filter((p) => !(p.structure === 'radix' && p.scenario === 'dense-4k'));
    expect(answerSerialization(partial).missing.join(' ')).toContain('dense-4k (radix not measured)');
  });

  it('page-sized bitmaps: compares 6.18 with 6.16 on the sparse scenarios', () => {
    const r = makeFixture({ scenarios: ['dense-4k', 'sparse-4k-128m'] });
    const a = answerPageBitmaps(r);
    expect(a.sentences.some((s) => s.startsWith('On sparse-4k-128m, page-sized bitmaps make xarray-6.18 hand over'))).toBe(true);
    expect(a.sentences.some((s) => s.startsWith('For scale: on dense-4k'))).toBe(true);
  });
});

describe('comparison with a baseline', () => {
  it('a run against itself is within noise everywhere', () => {
    const r = makeFixture({ scenarios: ['vm-2m', 'dense-4k'] });
    const c = compareRuns(r, r);
    expect(c.rows.length).toBe(2 * 6 * 7);
    expect(c.rows.every((x) => x.verdict === 'within noise')).toBe(true);
    expect(regressions(c, 0)).toEqual([]);
  });

  it('finds a slowdown of one structure, with Mann–Whitney on batches and z-tests on CIs', () => {
    const base = makeFixture({ scenarios: ['vm-2m', 'dense-4k'], seed: 1 });
    const cur = makeFixture({ scenarios: ['vm-2m', 'dense-4k'], seed: 2, slowdown: { radix: 1.5 } });
    const c = compareRuns(cur, base);
    const reg = c.rows.filter((x) => x.verdict === 'regression');
    expect(reg.length).toBeGreaterThan(0);
    expect(new Set(reg.map((x) => x.structure))).toEqual(new Set(['radix']));
    const preserve = reg.find((x) => x.metric === 'preserveNsPerFolio')!;
    expect(preserve.test).toBe('Mann–Whitney U');
    expect(preserve.change.value).toBeGreaterThan(0.3);
    expect(preserve.change.low).toBeGreaterThan(0);
    expect(reg.find((x) => x.metric === 'restoreMs')!.test).toBe('z (from CIs)');
    // Threshold: everything regressed by ~50%, nothing by 80%.
    expect(regressions(c, 20).length).toBe(reg.length);
    expect(regressions(c, 80)).toEqual([]);
  });

  it('small changes are within noise even when significant', () => {
    const base = makeFixture({ scenarios: ['vm-2m'], ciWidth: 0.001 });
    const cur = structuredClone(base);
    const p = cur.pairs.find((x) => x.structure === 'radix')!;
    p.restoreMs = { ...p.restoreMs, value: p.restoreMs.value * 1.02, ciLow: p.restoreMs.ciLow * 1.02, ciHigh: p.restoreMs.ciHigh * 1.02 };
    const row = compareRuns(cur, base).rows.find((x) => x.structure === 'radix' && x.metric === 'restoreMs')!;
    expect(row.significant).toBe(true);
    expect(row.verdict).toBe('within noise');
    expect(compareRuns(cur, base, { noise: 0.01 }).rows.find((x) => x.structure === 'radix' && x.metric === 'restoreMs')!.verdict).toBe('regression');
  });

  it('reports added and removed pairs and context differences', () => {
    const base = makeFixture({ scenarios: ['vm-2m'], structures: ['radix', 'ida'] });
    const cur = makeFixture({ scenarios: ['vm-2m'], structures: ['radix', 'radix-rfc'], profile: 'full' });
    const c = compareRuns(cur, base);
    expect(c.added).toEqual([{ structure: 'radix-rfc', scenario: 'vm-2m' }]);
    expect(c.removed).toEqual([{ structure: 'ida', scenario: 'vm-2m' }]);
    expect(c.contextWarnings.join(' ')).toContain('different profile');
  });
});

describe('fixture', () => {
  it('is schema-valid', () => {
    expect(Results.safeParse(makeFixture()).success).toBe(true);
  });
});
