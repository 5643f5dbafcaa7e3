import { describe, expect, it } from 'vitest';
import { type Phase, type Workload, folioHash } from '../../src/measure/workload.ts';
import { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE } from '../../src/ram/phys-mem.ts';
import { checkFolio, splitRange } from '../../src/tracker/tracker.ts';
import { planJobs, sweepPoints } from '../plan.ts';
import { SCENARIOS, SCENARIO_IDS, type ScenarioId, sweepWorkload } from '../scenarios.ts';
import { PROFILES } from '../profiles.ts';
import { CALIBRATIONS } from '../calibrations.ts';

function digest(w: Workload): string {
  let h = 0;
  const mix = (x: number) => {
    h = (Math.imul(h ^ (x >>> 0), 0x01000193) + Math.floor(x / 2 ** 32)) >>> 0;
  };
  for (const p of [...w.build, ...w.teardown]) {
    mix(p.a.length);
    for (let i = 0; i < p.a.length; i++) {
      mix(p.a[i]);
      mix(p.b[i]);
    }
  }
  return `${h}:${w.live.folios}:${w.live.bytes}:${w.live.hash}`;
}

/** Every folio a phase names, as [phys, order]. */
function* foliosOf(p: Phase): Generator<[number, number]> {
  for (let i = 0; i < p.a.length; i++) {
    if (p.kind === 'range') yield* splitRange(p.a[i], p.b[i]);
    else yield [p.a[i], p.b[i]];
  }
}

describe.each(SCENARIO_IDS)('scenario %s', (id) => {
  const scenario = SCENARIOS[id];

  it('is deterministic for a seed', () => {
    expect(digest(scenario.workload('smoke', 11))).toBe(digest(scenario.workload('smoke', 11)));
  });

  it('states its RAM and what it preserves', () => {
    const d = scenario.description('default');
    expect(d).toMatch(/(KiB|MiB|GiB|TiB|PiB)/);
    expect(d.length).toBeGreaterThan(30);
    const w = scenario.workload('smoke', 1);
    expect(w.banks.reduce((a, b) => a + b.size, 0)).toBe(scenario.ramBytes('smoke'));
  });

  it('names valid, distinct folios in workload RAM, and its live set adds up', () => {
    const w = scenario.workload('smoke', 5);
    const machine = new Machine({ banks: w.banks, heapSize: w.heapSize });
    const live = new Map<number, number>();
    for (const p of w.build) {
      for (const [pa, order] of foliosOf(p)) {
        checkFolio(machine.mem, pa, order);
        expect(machine.isWorkload(pa, PAGE_SIZE * 2 ** order)).toBe(true);
        if (p.kind === 'unpreserve') {
          expect(live.get(pa)).toBe(order);
          live.delete(pa);
        } else {
          expect(live.has(pa)).toBe(false);
          live.set(pa, order);
        }
      }
    }
    let bytes = 0;
    let hash = 0;
    for (const [pa, order] of live) {
      bytes += PAGE_SIZE * 2 ** order;
      hash = (hash + folioHash(pa, order)) >>> 0;
    }
    expect(w.live).toEqual({ folios: live.size, bytes, hash });
    // The teardown unpreserves exactly the live set.
    const torn = new Set<number>();
    for (const p of w.teardown) for (const [pa] of foliosOf(p)) torn.add(pa);
    expect(torn.size).toBe(live.size);
    for (const pa of live.keys()) expect(torn.has(pa)).toBe(true);
  });

  it('stays small in the smoke profile', () => {
    const n = scenario.workload('smoke', 1).live.folios;
    expect(n).toBeGreaterThan(10);
    expect(n).toBeLessThanOrEqual(10_000);
  });
});

describe('seeds', () => {
  it('change the random scenarios', () => {
    for (const id of ['vm-2m', 'random-4k', 'mixed-test-kho', 'ranges', 'churn', 'high-mem', 'sparse-4k-16m'] as const) {
      expect(digest(SCENARIOS[id].workload('smoke', 1))).not.toBe(digest(SCENARIOS[id].workload('smoke', 2)));
    }
  });

  it('give sweep points that are deterministic', () => {
    const a = sweepWorkload(1000, 2 ** 34, 9);
    expect(digest(a)).toBe(digest(sweepWorkload(1000, 2 ** 34, 9)));
    expect(a.live.folios).toBe(1000);
  });

  it('measure a point shared by both sweeps once', () => {
    for (const profile of ['smoke', 'default', 'full'] as const) {
      const points = sweepPoints(profile);
      const keys = points.map((p) => `${p.folios}-${p.ramBytes}`);
      expect(new Set(keys).size).toBe(keys.length);
      // Five points per axis to fit a growth exponent; smoke's sweep is only a glance (too few to fit).
      const fewest = profile === 'smoke' ? 1 : 5;
      expect(points.filter((p) => p.axes.includes('folios')).length).toBeGreaterThanOrEqual(Math.max(2, fewest));
      expect(points.filter((p) => p.axes.includes('ram')).length).toBeGreaterThanOrEqual(fewest);
    }
    expect(sweepPoints('smoke').some((p) => p.axes.length === 2)).toBe(true);
  });

  it('are the same workloads in default and full, which adds scenarios, sweeps and sections to the default', () => {
    const defaults = PROFILES.default.scenarios!;
    expect(PROFILES.full.scenarios ?? SCENARIO_IDS).toEqual(SCENARIO_IDS);
    for (const id of defaults) {
      expect(SCENARIO_IDS).toContain(id);
      expect(digest(SCENARIOS[id as ScenarioId].workload('full', 5))).toBe(digest(SCENARIOS[id as ScenarioId].workload('default', 5)));
    }
    const { name: _d, scenarios: _s, sweepsByDefault: _w, calibrations: dc, designSpace: _x, ...measured } = PROFILES.default;
    const { name: _f, scenarios: _t, sweepsByDefault: fw, calibrations: fc, designSpace: fd, ...fullMeasured } = PROFILES.full;
    expect(fullMeasured).toEqual(measured);
    expect(PROFILES.default.processes).toBeGreaterThanOrEqual(10);
    expect(fw && fd !== undefined).toBe(true);
    expect(fc).toEqual(CALIBRATIONS.map((c) => c.id));
    expect(dc.every((id) => fc.includes(id))).toBe(true);
  });

  it('give a job order that is deterministic, interleaved and complete', () => {
    const plan = {
      profile: 'default' as const,
      seed: 3,
      structures: ['flat-bitmap', 'radix'],
      scenarios: ['dense-4k', 'churn', 'ranges'],
      processes: 3,
      sweeps: false,
      crossCheck: false,
      aa: false,
    };
    const jobs = planJobs(plan);
    expect(jobs.map((j) => j.id)).toEqual(planJobs(plan).map((j) => j.id));
    // 6 pairs x 3 processes, plus one exact job per pair.
    expect(new Set(jobs.map((j) => j.id)).size).toBe(6 * 3 + 6);
    expect(jobs.filter((j) => j.kind === 'exact')).toHaveLength(6);
    // Round p holds every pair's p-th process, shuffled; rounds follow one another.
    const rounds = [jobs.slice(0, 12), jobs.slice(12, 18), jobs.slice(18)];
    rounds.forEach((round, i) => expect(round.filter((j) => j.kind === 'timing').every((j) => j.kind === 'timing' && j.process === i + 1)).toBe(true));
    const pairOf = (ids: typeof jobs) => new Set(ids.filter((j) => j.kind === 'timing').map((j) => `${j.structure}/${j.kind === 'timing' ? j.scenario : ''}`));
    expect(pairOf(rounds[1])).toEqual(pairOf(rounds[2]));
    expect(planJobs({ ...plan, seed: 4 }).map((j) => j.id)).not.toEqual(jobs.map((j) => j.id));
  });

  it('run every timing job twice, in the same round, for an A/A run', () => {
    const jobs = planJobs({ profile: 'smoke', seed: 1, structures: ['radix'], scenarios: ['dense-4k'], processes: 2, sweeps: false, crossCheck: false, aa: true });
    const timing = jobs.filter((j) => j.kind === 'timing');
    expect(timing.map((j) => j.id).sort()).toEqual(['radix__dense-4k__p1-a', 'radix__dense-4k__p1-b', 'radix__dense-4k__p2-a', 'radix__dense-4k__p2-b']);
  });
});
