import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../results/schema.ts';
import { seededUniform } from '../stats/index.ts';
import {
  BASELINE,
  BASELINE_TWIN,
  FRONTIER_AXES,
  METADATA,
  type Placed,
  type XY,
  designSpace,
  dominates,
  familyParams,
  frontierLine,
  paretoFrontier,
} from './design-space.ts';
import { frontierChart } from './charts.ts';
import { FIXTURE_FAMILY, makeFixture } from './fixture.ts';
import { buildRunReport } from './index.ts';
import { findPair, structuresOf } from './metrics.ts';
import { listRuns, runKind } from './runs-index.ts';

const T = 0.05;

function place(points: readonly [string, number, number][], t = T): Map<string, Placed> {
  return new Map(paretoFrontier(points.map(([id, x, y]) => ({ id, x, y })), t).map((p) => [p.id, p]));
}

function onIds(placed: Map<string, Placed>): string[] {
  return [...placed.values()].filter((p) => p.onFrontier).map((p) => p.id).sort();
}

/** Sets a figure of a pair (exact and model figures are a value). */
function set(r: Results, structure: string, scenario: string, metric: string, value: number): void {
  const p = findPair(r, structure, scenario);
  if (!p) throw new Error(`no pair ${structure}/${scenario}`);
  p.metrics[metric] = { value };
}

const SCENARIOS = ['dense-4k', 'sparse-4k-128m', 'random-4k', 'vm-2m', 'hugetlb-1g'];

function fixture(): Results {
  return makeFixture({ scenarios: SCENARIOS, designSpace: {}, processes: 1, sweeps: false });
}

describe('the frontier, on hand-built points', () => {
  it('leaves out dominated points and keeps every trade-off', () => {
    const p = place([
      ['a', 1, 10],
      ['b', 2, 5],
      ['c', 10, 1],
      ['d', 3, 6], // worse than b on both
      ['e', 11, 11], // worse than everything
    ]);
    expect(onIds(p)).toEqual(['a', 'b', 'c']);
    expect(p.get('d')!.dominatedBy).toEqual(['b']);
    expect(p.get('e')!.dominatedBy.sort()).toEqual(['a', 'b', 'c']);
    expect(frontierLine([...p.values()]).map((q) => q.id)).toEqual(['a', 'b', 'c']);
  });

  it('a difference within the threshold is not "better": such a point is dominated, and points within it on both axes tie', () => {
    // i is 1% heavier (a tie) and half the time: h offers nothing i does not.
    expect(onIds(place([['h', 100, 100], ['i', 101, 50]]))).toEqual(['i']);
    // Within 5% on both axes: both on the frontier, each tied with the other.
    const tied = place([['f', 100, 100], ['g', 103, 98]]);
    expect(onIds(tied)).toEqual(['f', 'g']);
    expect(tied.get('f')!.tiedWith).toEqual(['g']);
    // Equal points (radix and its family twin) are on or off together.
    const equal = place([['j', 5, 5], ['k', 5, 5], ['l', 4, 4]]);
    expect(onIds(equal)).toEqual(['l']);
    expect([equal.get('j')!.dominatedBy, equal.get('k')!.dominatedBy]).toEqual([['l'], ['l']]);
    expect(onIds(place([['j', 5, 5], ['k', 5, 5]]))).toEqual(['j', 'k']);
    // With no threshold it is plain Pareto dominance.
    expect(onIds(place([['h', 100, 100], ['i', 101, 50]], 0))).toEqual(['h', 'i']);
    expect(dominates({ id: 'q', x: 100, y: 100 }, { id: 'p', x: 100, y: 100 }, 0)).toBe(false);
  });

  it('a chain of dominance within the threshold drops only what a frontier point dominates', () => {
    // b dominates a (4% heavier: a tie; 10% faster), c dominates b, but c is 8% heavier than a: a trade-off that stays.
    const p = place([['a', 100, 100], ['b', 104, 90], ['c', 108.2, 80]]);
    expect(onIds(p)).toEqual(['a', 'c']);
    expect(p.get('b')!.dominatedBy).toEqual(['c']);
  });

  it('on random sets: no frontier point dominates another, and a frontier point dominates every other point', () => {
    const rnd = seededUniform(7);
    for (let k = 0; k < 200; k++) {
      const t = [0, 0.02, 0.05, 0.2][k % 4];
      const pts: XY[] = Array.from({ length: 2 + Math.floor(rnd() * 40) }, (_, i) => ({ id: `p${i}`, x: Math.round(1 + rnd() * 50), y: Math.round(1 + rnd() * 50) }));
      const placed = paretoFrontier(pts, t);
      const on = placed.filter((p) => p.onFrontier);
      expect(on.length).toBeGreaterThan(0);
      for (const p of placed) {
        const by = on.filter((q) => dominates(q, p, t)).map((q) => q.id);
        expect(by.sort(), `${p.id} at t = ${t}`).toEqual([...p.dominatedBy].sort());
        expect(p.onFrontier).toBe(by.length === 0);
      }
      const line = frontierLine(placed);
      for (let i = 1; i < line.length; i++) expect(line[i].x >= line[i - 1].x && line[i].y < line[i - 1].y).toBe(true);
    }
  });
});

describe('the design space of the fixture', () => {
  it('places every point of every scenario: the family, the built designs, the two never built; the lower bound and lost folios apart', () => {
    const r = fixture();
    const ds = designSpace(r)!;
    expect([...ds.scenarios].sort()).toEqual([...SCENARIOS].sort());
    expect(ds.points).toEqual([...FIXTURE_FAMILY].sort());
    expect(ds.frontiers).toHaveLength(SCENARIOS.length * 2);
    for (const f of ds.frontiers) {
      const ids = [...f.points, ...f.reference].map((p) => p.id).concat(f.excluded.map((e) => e.id));
      expect(ids.sort()).toEqual([...ds.named, ...FIXTURE_FAMILY].sort());
      expect(f.reference.map((p) => p.id)).toEqual(['flat-bitmap']);
      for (const p of f.points) {
        const pair = findPair(r, p.id, f.scenario)!;
        expect([p.x, p.y]).toEqual([pair.metrics[METADATA].value, pair.metrics[f.axis.y].value]);
      }
    }
    const hugetlb = ds.frontiers.find((f) => f.scenario === 'hugetlb-1g')!;
    expect(hugetlb.excluded).toEqual([{ id: 'radix-rfc', reason: 'loses 180 of 180 folios' }]);
    expect(ds.twin).toEqual({ identical: ds.scenarios, differs: [] });
    expect(ds.conclusions.at(-1)).toMatch(new RegExp(`^${BASELINE_TWIN} hands over exactly radix's bytes in all 5 scenarios`));
  });

  it('the conclusions name the points the frontiers hold, the best one and where it loses to radix', () => {
    const r = fixture();
    const ds = designSpace(r)!;
    const n = ds.scenarios.length;
    const onCount = (id: string, axis?: string) => ds.frontiers.filter((f) => (!axis || f.axis.id === axis) && f.points.some((p) => p.id === id && p.onFrontier)).length;
    const everyone = [...ds.named, ...ds.points].filter((id) => id !== 'flat-bitmap');
    for (const axis of FRONTIER_AXES) {
      const all = everyone.filter((id) => onCount(id, axis.id) === n);
      const most = everyone.filter((id) => onCount(id, axis.id) > n / 2 && onCount(id, axis.id) < n);
      expect(ds.everywhere[axis.id].sort()).toEqual(all.sort());
      expect(ds.most[axis.id].sort()).toEqual(most.sort());
      const line = ds.conclusions.find((c) => c.startsWith(`On the frontier of metadata against ${axis.label}`))!;
      for (const id of [...all, ...most]) expect(line).toContain(id);
    }
    // The best point is on the most frontiers.
    const top = Math.max(...everyone.map((id) => onCount(id)));
    expect(onCount(ds.best!.id)).toBe(top);
    expect(ds.conclusions[0]).toMatch(new RegExp(`^What should come next: ${ds.best!.id}`));
    // Where it loses: a figure above radix's by more than the threshold, from the pairs themselves.
    const loses = ds.scenarios.filter((sc) =>
      [METADATA, 'blackout_model_ms', 'preserve_model_ns'].some((m) => findPair(r, ds.best!.id, sc)!.metrics[m].value > findPair(r, BASELINE, sc)!.metrics[m].value * (1 + T)),
    );
    expect(ds.bestVsBaseline!.losesOn.map((l) => l.scenario)).toEqual(loses);
    expect(ds.conclusions[0]).toContain(`loses on ${loses.length} of ${n} workloads`);
    for (const sc of loses) expect(ds.conclusions[0]).toContain(sc);
    // Both designs never built are placed, with their ratios to radix.
    for (const id of ['xarray-prealloc', 'kho-array']) expect(ds.conclusions.some((c) => c.startsWith(`${id}, offered on the list and never built`))).toBe(true);
    expect(ds.caveats.map((c) => c.title)).toEqual([
      'Format stability across kernel versions',
      'Locks and allocation',
      'What the model cannot see',
      'The measured timings are confirmation only',
    ]);
  });

  it('a point that beats every other on every figure is named as what should come next, on every frontier, losing nowhere', () => {
    const r = fixture();
    const star = 'fam-l128-f64-key-bitmap';
    for (const sc of SCENARIOS) for (const m of [METADATA, 'blackout_model_ms', 'preserve_model_ns']) set(r, star, sc, m, 1e-3);
    const ds = designSpace(r)!;
    expect(ds.best).toMatchObject({ id: star, frontiers: 10, of: 10 });
    expect(ds.conclusions[0]).toMatch(new RegExp(`^What should come next: ${star} \\(128 B bitmap leaves, 64-entry tables, order-bit key\\)\\. Against radix it hands over [\\d.e-]+× the metadata, [\\d.e-]+× the blackout and [\\d.e-]+× the preserve cost `));
    expect(ds.conclusions[0]).toMatch(/, and loses on no workload beyond 5%\.$/);
    expect(ds.everywhere.blackout).toEqual([star]);
    expect(ds.everywhere.preserve).toEqual([star]);
    expect(ds.conclusions).toContain(`On the frontier of metadata against blackout (blackout_model_ms) in all 5 scenarios: ${star}; in most of them: no other point.`);
    expect(ds.baseline!.dominators[0]).toEqual({ id: star, count: 10 });
    expect(familyParams(star)).toEqual({ leafBytes: 128, fanout: 64, encoding: 'key', leafKind: 'bitmap' });
  });

  it('radix best everywhere: nothing in the design space does better', () => {
    const r = fixture();
    for (const sc of SCENARIOS) for (const m of [METADATA, 'blackout_model_ms', 'preserve_model_ns']) set(r, BASELINE, sc, m, 1e-3);
    const ds = designSpace(r)!;
    expect(ds.best!.id).toBe(BASELINE);
    expect(ds.bestVsBaseline).toBeUndefined();
    expect(ds.conclusions[0]).toMatch(/^Nothing in this design space does better than radix: it is on 10 of the 10 frontiers/);
  });

  it('uses the threshold: 2% less preserve cost than radix is a tie at 5% and a win at 0', () => {
    // radix and its twin alone, so that nothing else decides whether they are on the frontier.
    const r = makeFixture({ scenarios: SCENARIOS, structures: [BASELINE], designSpace: { points: [BASELINE_TWIN] }, processes: 1, sweeps: false });
    for (const sc of SCENARIOS) set(r, BASELINE_TWIN, sc, 'preserve_model_ns', findPair(r, BASELINE, sc)!.metrics.preserve_model_ns.value * 0.98);
    const status = (threshold: number) =>
      designSpace(r, { threshold })!
        .frontiers.filter((f) => f.axis.id === 'preserve')
        .map((f) => {
          const [radix, twin] = [BASELINE, BASELINE_TWIN].map((id) => f.points.find((p) => p.id === id)!);
          return { scenario: f.scenario, radixOn: radix.onFrontier, twinOn: twin.onFrontier, radixByTwin: radix.dominatedBy.includes(BASELINE_TWIN), tied: radix.tiedWith.includes(BASELINE_TWIN) };
        });
    // Within 5% they tie: both on the frontier, neither better.
    for (const s of status(0.05)) expect(s, s.scenario).toMatchObject({ radixOn: true, twinOn: true, radixByTwin: false, tied: true });
    // At 0 the twin's 2% is a win.
    for (const s of status(0)) expect(s, s.scenario).toMatchObject({ radixOn: false, twinOn: true, radixByTwin: true });
    expect(designSpace(r)!.conclusions[0]).toMatch(new RegExp(`^Nothing in this design space does better than radix beyond 5%: the best point, ${BASELINE_TWIN} \\(`));
  });

  it('a run without a design space has none, and a partial one says what is still to come', () => {
    expect(designSpace(makeFixture({ scenarios: ['vm-2m'], sweeps: false }))).toBeUndefined();
    const r = makeFixture({ scenarios: ['vm-2m', 'dense-4k'], designSpace: { points: ['fam-l128-f64-key-bitmap'] }, processes: 1, sweeps: false });
    r.pairs = r.pairs.filter((p) => !(p.scenario === 'dense-4k' && p.structure.startsWith('fam-')));
    const ds = designSpace(r)!;
    expect([ds.scenarios, ds.pending]).toEqual([['vm-2m'], ['dense-4k']]);
    expect(ds.conclusions.at(-1)).toBe('Planned and not measured yet: dense-4k.');
  });
});

describe('rendered', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kho-design-space-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, results: Results): Promise<string> {
    await mkdir(path.join(dir, 'reports', name), { recursive: true });
    const file = path.join(dir, 'reports', name, 'results.json');
    await writeFile(file, JSON.stringify(results));
    return file;
  }

  it('the page has the section, its charts, tables and caveats; summary.md the conclusions and the frontier table; the index says what the run is', async () => {
    const r = makeFixture({ scenarios: ['dense-4k', 'sparse-4k-128m'], designSpace: {}, processes: 1, sweeps: false });
    // What `npm run bench -- --design-space` plans: the section, no sweeps.
    r.plan!.sweeps = false;
    const report = await buildRunReport(await write('ds', r), { interactive: false });
    const page = await readFile(report.html, 'utf8');
    const section = page.slice(page.indexOf('<section id="next">'), page.indexOf('</section>', page.indexOf('<section id="next">')));
    const ds = report.designSpace!;
    expect(section).toContain('<h2>What should come next</h2>');
    expect(section).toContain(`<p class="headline">${ds.conclusions[0].replace(/'/g, '&#39;')}</p>`);
    expect(section.match(/<figure /g)).toHaveLength(4);
    expect(section).toContain('Frontier points: metadata against blackout');
    expect(section).toContain('<strong>Format stability across kernel versions.</strong>');
    expect(page).toContain('<a href="#next">What next</a>');
    expect(page).toContain('<strong>Design-space run:</strong> 32 family points');

    const md = await readFile(report.markdown, 'utf8');
    expect(md).toContain('## What should come next');
    expect(md).toContain(`**${ds.conclusions[0].replace(/_/g, '\\_')}**`);
    expect(md).toMatch(/^\| dense-4k \| metadata against blackout \(blackout\\_model\\_ms\) \| /m);
    expect(md).toMatch(/^\| sparse-4k-128m \| metadata against preserve \(preserve\\_model\\_ns\) \| /m);

    const entry = (await listRuns(path.join(dir, 'reports'))).find((e) => e.folder === 'ds')!;
    expect(runKind(entry)).toContain('design space only (32 family points on 2 scenarios, 1 timing process per pair)');
    expect([entry.structures, entry.points]).toEqual([9, 32]);
  });

  it('each chart marks family points, built designs, the never built and the lower bound apart, as its legend does; the frontier is a step line; log axes only across decades', () => {
    const r = fixture();
    const ds = designSpace(r)!;
    const chart = (sc: string, axis: string) => frontierChart(ds.frontiers.find((f) => f.scenario === sc && f.axis.id === axis)!, r, structuresOf(r), 'c')!;
    const sparse = chart('sparse-4k-128m', 'blackout');
    type Ds = { label: string; pointStyle: string; backgroundColor: string; stepped?: string; showLine?: boolean; data: { x: number; y: number }[] };
    const sets = sparse.config.data.datasets as unknown as Ds[];
    const style = (label: RegExp) => sets.filter((d) => label.test(d.label)).map((d) => d.pointStyle);
    expect(style(/^frontier/)).toEqual(['line']);
    expect(sets.find((d) => d.label.startsWith('frontier'))).toMatchObject({ stepped: 'after', showLine: true });
    expect(new Set(style(/\(built\)$/))).toEqual(new Set(['rectRot']));
    expect(style(/\(built\)$/)).toHaveLength(6);
    expect(style(/\(never built\)$/)).toEqual(['triangle', 'triangle']);
    expect(style(/lower bound/)).toEqual(['rect']);
    // Hollow off the frontier, filled on it: here kho-array dominates every family point.
    expect(sets.filter((d) => d.label.startsWith('family point')).map((d) => [d.label, d.backgroundColor])).toEqual([['family point off it (32)', 'rgba(255,255,255,0)']]);
    expect((sparse.config.options as { plugins: { legend: { labels: { usePointStyle: boolean } } } }).plugins.legend.labels.usePointStyle).toBe(true);
    expect(sparse.axes).toEqual({ x: 'metadata_bytes_handover (MiB, log scale)', y: 'blackout_model_ms (µs, log scale)' });
    // On vm-2m every blackout is within 1%: a linear axis, so that the points stay apart.
    expect(chart('vm-2m', 'blackout').axes.y).toBe('blackout_model_ms (ms)');
    expect(chart('hugetlb-1g', 'blackout').caption).toContain('Not drawn: radix-rfc (loses 180 of 180 folios).');
  });

  it('without a design space, one line says how to get one', async () => {
    const report = await buildRunReport(await write('plain', makeFixture({ scenarios: ['vm-2m'], sweeps: false })), { interactive: false });
    const page = await readFile(report.html, 'utf8');
    expect(page).toContain(
      '<section id="next">\n<h2>What should come next</h2>\n<p class="missing">This run has no design-space section: <code>npm run bench -- --design-space</code> (or the full profile) measures every point of the tracker family beside the named structures.</p>\n</section>',
    );
    const md = await readFile(report.markdown, 'utf8');
    expect(md).toContain('## What should come next\n\nThis run has no design-space section: `npm run bench -- --design-space` (or the full profile)');
  });
});
