import { describe, expect, it } from 'vitest';
import { PAIR_METRICS } from '../results/metrics.ts';
import { type MetricValue, Results } from '../results/schema.ts';
import {
  aaCheck,
  answerMemory,
  answerRestore,
  answerSerialization,
  answers,
  decisionTable,
  describeDecision,
  fitRows,
  headToHead,
  modelVsMeasured,
} from './analysis.ts';
import { compareRuns, regressions } from './compare.ts';
import { FIXTURE_STRUCTURES, makeFixture } from './fixture.ts';
import { findPair, pairings } from './metrics.ts';

/** Sets a pair's metric: exact (value only) or measured (per-process values around `value`). */
function set(r: Results, structure: string, scenario: string, metric: string, value: number, spread?: number): void {
  const p = findPair(r, structure, scenario);
  if (!p) throw new Error(`no pair ${structure}/${scenario}`);
  if (spread === undefined) {
    p.metrics[metric] = { value };
    return;
  }
  const perProcess = Array.from({ length: 10 }, (_, i) => value * (1 + spread * ((i % 5) - 2) / 2));
  const mean = perProcess.reduce((s, x) => s + x, 0) / perProcess.length;
  p.metrics[metric] = { value: mean, ciLow: mean * (1 - spread), ciHigh: mean * (1 + spread), processes: 10, perProcess, cv: spread } satisfies MetricValue;
}

describe('decision table', () => {
  it('ranks on the model figure, names every tied structure, and gives the others as ratios to the lowest', () => {
    const r = makeFixture({ scenarios: ['vm-2m'] });
    for (const [st, v] of [['radix', 10], ['radix-rfc', 10.3], ['ida', 13], ['xarray-6.16', 20], ['xarray-6.18', 44], ['xarray-6.19', 40], ['flat-bitmap', 2]] as const) {
      set(r, st, 'vm-2m', 'restore_model_ns_per_folio', v);
    }
    const d = decisionTable(r).find((x) => x.aspect.id === 'restore')!;
    expect(d.basis).toBe('model');
    expect(d.verdict).toBe('tie');
    expect(d.tied).toEqual(['radix', 'radix-rfc']);
    // Nothing is hidden: xarray-6.18 is 4.4x the lowest, and said so.
    expect(d.ranking.map((e) => e.structure)).toEqual(['radix', 'radix-rfc', 'ida', 'xarray-6.16', 'xarray-6.19', 'xarray-6.18']);
    expect(d.ranking.at(-1)!.ratio).toBeCloseTo(4.4, 10);
    expect(d.reference.map((e) => e.structure)).toEqual(['flat-bitmap']);
    expect(describeDecision(d)).toMatch(/^tie: radix = radix-rfc \(within 5%\); ida 1\.3×, xarray-6\.16 2×, xarray-6\.19 4×, xarray-6\.18 4\.4×; measured: \w/);
  });

  it('the threshold applies to exact counts: 3 bytes in 4 KiB is a tie, not a win', () => {
    const r = makeFixture({ scenarios: ['vm-2m'], structures: ['ida', 'radix'] });
    set(r, 'ida', 'vm-2m', 'metadata_bytes_per_gib', 4096);
    set(r, 'radix', 'vm-2m', 'metadata_bytes_per_gib', 4099);
    const d = decisionTable(r).find((x) => x.aspect.id === 'memory')!;
    expect(d.basis).toBe('exact');
    expect(d.verdict).toBe('tie');
    expect(d.confirmation.verdict).toBe('not measured');
    const strict = decisionTable(r, { threshold: 0 }).find((x) => x.aspect.id === 'memory')!;
    expect(strict.verdict).toBe('winner');
    expect(strict.tied).toEqual(['ida']);
  });

  it('the measurement agrees, contradicts or is within noise, with the processes of each side', () => {
    const r = makeFixture({ scenarios: ['vm-2m'], structures: ['ida', 'radix'] });
    set(r, 'radix', 'vm-2m', 'preserve_model_ns', 10);
    set(r, 'ida', 'vm-2m', 'preserve_model_ns', 20);
    const verdict = () => decisionTable(r).find((x) => x.aspect.id === 'preserve')!.confirmation;
    set(r, 'radix', 'vm-2m', 'preserve_ns_per_folio', 50, 0.02);
    set(r, 'ida', 'vm-2m', 'preserve_ns_per_folio', 80, 0.02);
    expect(verdict().verdict).toBe('agrees');
    expect(verdict().processes).toEqual([10, 10]);
    set(r, 'ida', 'vm-2m', 'preserve_ns_per_folio', 30, 0.02);
    expect(verdict().verdict).toBe('contradicts');
    set(r, 'ida', 'vm-2m', 'preserve_ns_per_folio', 51, 0.02);
    expect(verdict().verdict).toBe('within noise');
    // A model tie that the measurement splits beyond the threshold is contradicted.
    set(r, 'ida', 'vm-2m', 'preserve_model_ns', 10.2);
    set(r, 'ida', 'vm-2m', 'preserve_ns_per_folio', 80, 0.02);
    expect(verdict().verdict).toBe('contradicts');
  });

  it('ranks on the measurement when a structure has no model figure', () => {
    const r = makeFixture({ scenarios: ['vm-2m'], structures: ['ida', 'radix'] });
    delete findPair(r, 'ida', 'vm-2m')!.metrics.preserve_model_ns;
    set(r, 'radix', 'vm-2m', 'preserve_ns_per_folio', 50, 0.02);
    set(r, 'ida', 'vm-2m', 'preserve_ns_per_folio', 80, 0.02);
    const d = decisionTable(r).find((x) => x.aspect.id === 'preserve')!;
    expect(d.basis).toBe('measured');
    expect(d.verdict).toBe('winner');
    expect(d.tied).toEqual(['radix']);
    set(r, 'ida', 'vm-2m', 'preserve_ns_per_folio', 51, 0.02);
    expect(decisionTable(r).find((x) => x.aspect.id === 'preserve')!.verdict).toBe('tie');
  });

  it('leaves out what a structure cannot have, and a format that loses folios from restore and blackout', () => {
    const r = makeFixture({ scenarios: ['hugetlb-1g'] });
    const table = decisionTable(r);
    const unpreserve = table.find((x) => x.aspect.id === 'unpreserve')!;
    expect(unpreserve.excluded.map((e) => e.structure).sort()).toEqual(['radix-rfc', 'xarray-6.16', 'xarray-6.18']);
    expect(unpreserve.excluded.find((e) => e.structure === 'radix-rfc')!.reason).toBe('RFC v1 has no unpreserve');
    for (const id of ['restore', 'blackout']) {
      const d = table.find((x) => x.aspect.id === id)!;
      expect(d.ranking.some((e) => e.structure === 'radix-rfc')).toBe(false);
      expect(d.excluded).toContainEqual({ structure: 'radix-rfc', reason: 'loses 180 of 180 folios' });
    }
    // flat-bitmap is never ranked.
    expect(table.every((d) => !d.ranking.some((e) => e.structure === 'flat-bitmap'))).toBe(true);
  });
});

describe('head to head', () => {
  it('pairs each stateless tree with the serializing tracker of its time, with the reason', () => {
    const r = makeFixture({ scenarios: ['vm-2m'] });
    expect(pairings(r).map((p) => `${p.stateless}:${p.serializing}`)).toEqual(['ida:xarray-6.16', 'radix-rfc:xarray-6.16', 'radix:xarray-6.19']);
    expect(pairings(r).every((p) => p.reason.length > 20)).toBe(true);
    const no619 = makeFixture({ scenarios: ['vm-2m'], structures: ['xarray-6.16', 'xarray-6.18', 'radix'] });
    expect(pairings(no619).find((p) => p.stateless === 'radix')!.serializing).toBe('xarray-6.18');
    // A stateless tree the table does not know goes against the newest serializing tracker of the run.
    const future = makeFixture({ scenarios: ['vm-2m'], structures: ['xarray-6.16', 'xarray-6.18', 'btree'] });
    expect(pairings(future)).toEqual([{ stateless: 'btree', serializing: 'xarray-6.18', reason: expect.stringMatching(/not in the pairing table/) }]);
  });

  it('summarizes ratios over the scenarios as a geometric mean with its range, and the measured ratio with an interval', () => {
    const r = makeFixture({ scenarios: ['vm-2m', 'dense-4k'] });
    for (const [sc, a, b] of [['vm-2m', 10, 20], ['dense-4k', 10, 5]] as const) {
      set(r, 'xarray-6.19', sc, 'restore_model_ns_per_folio', a);
      set(r, 'radix', sc, 'restore_model_ns_per_folio', b);
    }
    const row = headToHead(r).find((h) => h.pairing.stateless === 'radix')!.rows.find((x) => x.id === 'restore')!.summary;
    expect(row.spread!.value).toBeCloseTo(1, 12);
    expect([row.spread!.min, row.spread!.minAt, row.spread!.max, row.spread!.maxAt]).toEqual([0.5, 'dense-4k', 2, 'vm-2m']);
    expect(row.measured!.low).toBeLessThan(row.measured!.value);
    expect(row.measured!.high).toBeGreaterThan(row.measured!.value);
    expect(row.processes).toBe(10);
  });
});

describe('the three answers', () => {
  it('serialization: the cost is serialize_model_ms and serialize_ms of the serializing trackers, not a blackout difference', () => {
    const r = makeFixture({ scenarios: ['vm-2m', 'ranges'] });
    // The blackout difference is all restore: it must not be called the saving.
    set(r, 'xarray-6.19', 'ranges', 'blackout_model_ms', 25);
    set(r, 'radix', 'ranges', 'blackout_model_ms', 14);
    set(r, 'xarray-6.19', 'vm-2m', 'serialize_model_ms', 0.004);
    set(r, 'xarray-6.19', 'ranges', 'serialize_model_ms', 0.016);
    const a = answerSerialization(r);
    expect(a.missing).toEqual([]);
    expect(a.headline).toMatch(/^Serialization at kexec costs 8 µs on xarray-6\.19, [\d.]+ µs on xarray-6\.18 and [\d.]+ µs on xarray-6\.16 \(modeled on AMD EPYC 9654, exact; geometric mean over 2 scenarios\), and removing it saves all of it/);
    expect(a.headline).not.toMatch(/11 ms/);
    expect(a.points.join(' ')).toMatch(/xarray-6\.19 4 µs on vm-2m to 16 µs on ranges/);
    expect(a.points.join(' ')).toMatch(/Measured here .* n = 10 processes per pair\): xarray-6\.19 [\d.]+ µs \[[\d.]+, [\d.]+\]/);
    expect(a.why[0]).toMatch(/of xarray-6\.19's modeled blackout \(.* on vm-2m to .* on ranges\); the rest is the next kernel's restore/);
  });

  it('restore: the ratio per pair over the scenarios, and the part that carries the difference', () => {
    const r = makeFixture({ scenarios: ['sparse-4k-16m', 'sparse-4k-128m', 'dense-4k'] });
    const a = answerRestore(r);
    expect(a.headline).toMatch(/^Per restored folio, a stateless tree's restore takes [\d.]+× \(\w[\w-]*\) to [\d.]+× \([\w-]+\) that of the xarray tracker of its time \(modeled on AMD EPYC 9654/);
    expect(a.points.find((p) => p.startsWith('radix vs xarray-6.19: '))).toMatch(/; measured [\d.]+× \[[\d.]+, [\d.]+\], n ≥ 10; mostly the walk/);
    expect(a.why.join(' ')).toMatch(/is what the walk reads: [\d.]+ lines/);
    expect(a.table!.rows.length).toBe(9);
  });

  it('restore: names the folios a format loses and leaves those scenarios out', () => {
    const a = answerRestore(makeFixture({ scenarios: ['hugetlb-1g', 'vm-2m'] }));
    expect(a.points.join(' ')).toContain('radix-rfc loses folios its format cannot hold (lost_folios: 180 of 180 on hugetlb-1g)');
    expect(a.table!.rows.filter((row) => row[0] === 'radix-rfc / xarray-6.16').map((row) => row[1])).toEqual(['vm-2m']);
  });

  it('memory: dense against sparse, head to head, and the cost per folio as the cause', () => {
    const a = answerMemory(makeFixture({ scenarios: ['dense-4k', 'sparse-4k-16m', 'sparse-4k-128m'] }));
    expect(a.headline).toMatch(/^The designs hand over [\d.]+ KiB \([\w.-]+\) to [\d.]+ KiB \([\w.-]+\) per GiB preserved on dense memory \(dense-4k\), against [\d.]+ MiB \(ida\) to [\d.]+ MiB \([\w.-]+\) on sparse memory/);
    expect(a.points.join(' ')).toMatch(/radix needs [\d.]+× xarray-6\.19's metadata on sparse memory and [\d.]+× on dense/);
    expect(a.why[0]).toMatch(/on sparse-4k-128m each folio costs/);
  });

  it('say what is missing instead of failing', () => {
    const r = makeFixture({ structures: ['flat-bitmap', 'radix'], scenarios: ['vm-2m'] });
    const [s, rs, m] = answers(r);
    expect(s.missing[0]).toMatch(/^Cannot answer: no serializing tracker/);
    expect(rs.missing).toEqual(['radix vs xarray-6.19: xarray-6.19 was not measured in this run.']);
    expect(m.missing).toEqual(['dense-4k (dense memory) is not in this run.', 'No sparse scenario (sparse-4k-16m, sparse-4k-128m) is in this run.']);
  });
});

describe('model against measurement, fits, A/A', () => {
  it('compares ratios on the memory-bound cases and the sweeps only', () => {
    const checks = modelVsMeasured(makeFixture({ scenarios: ['dense-4k', 'sparse-4k-128m'] }));
    expect(new Set(checks.map((c) => c.where.startsWith('sweep-') ? 'sweep' : c.where))).toEqual(new Set(['sparse-4k-128m', 'sweep']));
    expect(checks.every((c) => ['agree', 'same direction', 'disagree'].includes(c.verdict))).toBe(true);
    const r = makeFixture({ scenarios: ['sparse-4k-128m'], sweeps: false, structures: ['xarray-6.19', 'radix'] });
    set(r, 'xarray-6.19', 'sparse-4k-128m', 'preserve_model_ns', 100);
    set(r, 'radix', 'sparse-4k-128m', 'preserve_model_ns', 200);
    const verdict = () => modelVsMeasured(r).find((c) => c.measuredMetric === 'preserve_ns_per_folio')!.verdict;
    set(r, 'xarray-6.19', 'sparse-4k-128m', 'preserve_ns_per_folio', 100, 0.05);
    set(r, 'radix', 'sparse-4k-128m', 'preserve_ns_per_folio', 200, 0.05);
    expect(verdict()).toBe('agree');
    set(r, 'radix', 'sparse-4k-128m', 'preserve_ns_per_folio', 130, 0.02);
    expect(verdict()).toBe('same direction');
    set(r, 'radix', 'sparse-4k-128m', 'preserve_ns_per_folio', 70, 0.02);
    expect(verdict()).toBe('disagree');
  });

  it('growth exponents need an interval and at least 5 points', () => {
    const full = fitRows(makeFixture({ scenarios: ['vm-2m'] }));
    expect(full.length).toBeGreaterThan(0);
    expect(full.every((f) => f.points === 5 && f.exponent && f.exponent.low <= f.exponent.value && f.exponent.high >= f.exponent.value)).toBe(true);
    const smoke = fitRows(makeFixture({ scenarios: ['vm-2m'], profile: 'smoke' }));
    expect(smoke.every((f) => !f.exponent && f.problem === '2 points: too few to fit (at least 5)')).toBe(true);
    const noInterval = makeFixture({ scenarios: ['vm-2m'] });
    for (const f of noInterval.fits) delete f.ciLow;
    expect(fitRows(noInterval).every((f) => f.problem === 'the fit has no interval')).toBe(true);
  });

  it('an A/A run compares the interleaved halves of every measured metric', () => {
    const r = makeFixture({ scenarios: ['vm-2m'], sweeps: false });
    expect(aaCheck(r)).toBeUndefined();
    r.plan!.aa = true;
    const aa = aaCheck(r)!;
    expect(aa.timing).toBeGreaterThan(50);
    expect(aa.flaggedShare).toBeLessThan(0.05);
  });
});

describe('comparison with a baseline', () => {
  const small = { scenarios: ['vm-2m', 'dense-4k'], structures: ['xarray-6.19', 'radix'] };

  it('a run against itself changes nothing', () => {
    const r = makeFixture(small);
    const c = compareRuns(r, r);
    expect(c.rows.length).toBeGreaterThan(100);
    expect(c.rows.every((x) => x.verdict === 'within noise' || x.verdict === 'unchanged')).toBe(true);
    expect(regressions(c, 0)).toEqual([]);
  });

  it('flags a slower structure on the per-process samples, beyond noise; the model and exact metrics stay unchanged', () => {
    const c = compareRuns(makeFixture({ ...small, seed: 2, slowdown: { radix: 1.5 } }), makeFixture({ ...small, seed: 1 }));
    const reg = c.rows.filter((x) => x.verdict === 'regression');
    expect(new Set(reg.map((x) => x.structure))).toEqual(new Set(['radix']));
    expect(reg.every((x) => x.kind === 'measured' && x.test === 'Mann–Whitney U' && x.processes!.current >= 5)).toBe(true);
    const preserve = reg.find((x) => x.metric === 'preserve_ns_per_folio' && x.scenario === 'vm-2m')!;
    expect(preserve.change.value).toBeGreaterThan(0.4);
    expect(preserve.change.low).toBeGreaterThan(0);
    expect(c.rows.filter((x) => x.kind !== 'measured').every((x) => x.verdict === 'unchanged')).toBe(true);
    // Derived metrics (per folio, blackout) are flagged with their bases but not counted again.
    const derived = reg.filter((x) => x.derivedFrom);
    expect(derived.map((x) => x.metric)).toContain('restore_ns_per_folio');
    expect(derived.every((x) => reg.some((b) => b.scenario === x.scenario && x.derivedFrom!.includes(b.metric)))).toBe(true);
    expect(regressions(c, 20).length).toBe(reg.length - derived.length);
    expect(regressions(c, 80)).toEqual([]);
  });

  it('a significant change below the noise threshold is within noise', () => {
    const base = makeFixture({ ...small, cv: 0.002 });
    const cur = structuredClone(base);
    const m = findPair(cur, 'radix', 'vm-2m')!.metrics.restore_ms;
    m.perProcess = m.perProcess!.map((x) => x * 1.03);
    m.value *= 1.03;
    const row = (noise?: number) => compareRuns(cur, base, noise === undefined ? {} : { noise }).rows.find((x) => x.structure === 'radix' && x.scenario === 'vm-2m' && x.metric === 'restore_ms')!;
    expect(row().verdict).toBe('within noise');
    expect(row(0.01).verdict).toBe('regression');
  });

  it('reports any change of an exact or model metric, as exact', () => {
    const base = makeFixture(small);
    const cur = structuredClone(base);
    findPair(cur, 'radix', 'vm-2m')!.metrics.metadata_bytes_handover.value += 4096;
    findPair(cur, 'radix', 'dense-4k')!.metrics.preserve_model_ns.value *= 0.999;
    const c = compareRuns(cur, base);
    const grew = c.rows.find((x) => x.metric === 'metadata_bytes_handover' && x.scenario === 'vm-2m' && x.structure === 'radix')!;
    expect(grew.test).toBe('exact');
    expect(grew.verdict).toBe('regression');
    expect(c.rows.find((x) => x.metric === 'preserve_model_ns' && x.scenario === 'dense-4k' && x.structure === 'radix')!.verdict).toBe('improvement');
  });

  it('says when the host was slower than during the baseline, and when the runs differ', () => {
    const c = compareRuns(makeFixture({ ...small, hostSpeed: 1.3, profile: 'full' }), makeFixture(small));
    expect(c.host!.flagged).toBe(true);
    expect(c.host!.message).toMatch(/host 30% slower than during the baseline/);
    expect(c.contextWarnings.join(' ')).toContain('different profile');
    const removed = compareRuns(makeFixture({ ...small, structures: ['radix'] }), makeFixture(small));
    expect(removed.removed).toEqual([
      { structure: 'xarray-6.19', scenario: 'vm-2m' },
      { structure: 'xarray-6.19', scenario: 'dense-4k' },
    ]);
  });
});

describe('fixture', () => {
  it('is schema-valid and covers every metric, unavailable metrics, warnings, model figures, calibrations and fits', () => {
    const r = makeFixture();
    expect(Results.safeParse(r).success).toBe(true);
    expect(Results.safeParse(makeFixture({ profile: 'smoke' })).success).toBe(true);
    const present = new Set(r.pairs.flatMap((p) => Object.keys(p.metrics)));
    expect(PAIR_METRICS.map((m) => m.name).filter((m) => !present.has(m))).toEqual([]);
    expect(r.pairs.some((p) => p.unavailable && Object.keys(p.unavailable).length)).toBe(true);
    expect(r.pairs.some((p) => p.warnings?.length)).toBe(true);
    expect(r.pairs.every((p) => p.model?.preserve && p.model.restore)).toBe(true);
    expect(r.calibrations!.length).toBe(3);
    expect(new Set(r.pairs.map((p) => p.structure)).size).toBe(FIXTURE_STRUCTURES.length);
    const perAxis = (axis: string) => new Set(r.sweeps.filter((s) => s.axis === axis).map((s) => s.x)).size;
    expect([perAxis('folios'), perAxis('ram')]).toEqual([5, 5]);
    expect(r.fits.every((f) => f.ciLow !== undefined && f.ciHigh !== undefined)).toBe(true);
    const measured = r.pairs[0].metrics.preserve_ns_per_folio;
    expect(measured.perProcess).toHaveLength(10);
    expect(measured.ciLow! >= 0 && measured.ciLow! < measured.value && measured.ciHigh! > measured.value).toBe(true);
    expect(makeFixture({ hostDrift: 0.3 }).context.calibration!.warning).toMatch(/host slowed down during the run/);
  });
});
