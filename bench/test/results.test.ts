import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleResults, type RunFrame } from '../../src/results/assemble.ts';
import { summaryRows, toCsv } from '../../src/results/csv.ts';
import { ResultsError, readJobOutputs, readResults, writeJobOutput, writeResults } from '../../src/results/io.ts';
import { type ExactJobOutput, JOB_SCHEMA_VERSION, type SweepJobOutput, type TimingJobOutput } from '../../src/results/job.ts';
import { Results } from '../../src/results/schema.ts';
import { summarize } from '../../src/stats/summary.ts';

const dir = mkdtempSync(join(tmpdir(), 'kho-results-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const repeat = (values: number[]) => ({ summary: summarize(values), callsPerSample: 1, overheadFraction: 0.001 });
const latency = (values: number[]) => ({ summary: summarize(values), batchSize: 256, passes: 2, overheadFractionP50: 0.001, overheadFractionMax: 0.002 });
const common = {
  schemaVersion: JOB_SCHEMA_VERSION,
  ramBytes: 2 ** 36,
  folios: 1000,
  preservedBytes: 1000 * 4096,
  unavailable: {},
  maxRssBytes: 1e8,
  wallMs: 100,
};
const timer = { callNs: 50, regionNs: 30 };
const restore = (ms: number[]) => ({
  total: repeat(ms),
  walk: repeat(ms.map((m) => m / 2)),
  memblock: repeat(ms.map((m) => m / 4)),
  heads: repeat(ms.map((m) => m / 16)),
  deferredOne: repeat(ms.map((m) => m / 16)),
  deferredSample: repeat(ms.map((m) => m / 16)),
  deferredCounts: { one: 1000, sample: 1000, all: 1000 },
  deferredInit: true,
  folios: 1000,
});
const model = (ns: number) => ({ ops: 1000, l1: 5, l2: 1, llc: 0.5, dram: 0.25, tlbMisses: 0, maxChain: 6, chain: 6, atomics: 2, instructions: 40, ns });

function timing(process: number, preserve: number[], restoreMs: number): TimingJobOutput {
  return {
    ...common,
    kind: 'timing',
    id: `radix__dense-4k__p${process}`,
    structure: 'radix',
    scenario: 'dense-4k',
    process,
    timer,
    calibration: { startNs: 1.5e7, endNs: 1.5e7 },
    preserve: latency(preserve),
    unpreserve: latency([50, 60]),
    serialize: repeat([0.01, 0.012]),
    restore: restore([restoreMs]),
  };
}

const exact: ExactJobOutput = {
  ...common,
  kind: 'exact',
  id: 'radix__dense-4k__exact',
  structure: 'radix',
  scenario: 'dense-4k',
  serialized: { bytes: 0, pages: 0 },
  built: { bytes: 8192, pages: 2 },
  atHandover: { bytes: 8192, pages: 2 },
  peak: { bytes: 8192, pages: 2 },
  touches: { pagesPerPreserve: 1.5, linesPerPreserve: 3 },
  restore: { folios: 1000, metadataObjects: 3, metadataBytes: 12288, pages: 3, lines: 100, memblock: { regions: 1, moved: 0 }, model: { walk: model(2), total: model(20) } },
  model: { cpu: 'test', preserve: model(10), unpreserve: model(9), finalize: { ...model(500), ops: 1 } },
  lostFolios: 0,
};

function sweep(folios: number, ramBytes: number, axes: ('folios' | 'ram')[], ms: number): SweepJobOutput {
  return {
    ...common,
    kind: 'sweep',
    id: `radix__sweep-${folios}-${ramBytes}`,
    structure: 'radix',
    folios,
    ramBytes,
    axes,
    timer,
    preserve: latency([100, 110]),
    serialize: repeat([0.01]),
    atHandover: { bytes: folios * 8, pages: folios / 512 },
    restore: restore([ms]),
  };
}

const frame: RunFrame = {
  context: {
    cpuModel: 'test',
    cores: 2,
    memoryBytes: 2 ** 34,
    platform: 'test',
    node: process.version,
    v8: process.versions.v8,
    gitCommit: 'unknown',
    date: new Date(0).toISOString(),
    profile: 'smoke',
    seed: 1,
  },
  scenarios: [{ id: 'dense-4k', description: 'test', ramBytes: 2 ** 36 }],
  complete: false,
};

describe('assembling results', () => {
  const jobs = [
    timing(1, [100, 110, 120], 1.0),
    timing(2, [130, 140, 150], 1.2),
    timing(3, [120, 120, 120], 1.1),
    exact,
    sweep(1000, 2 ** 30, ['folios', 'ram'], 1),
    sweep(10000, 2 ** 30, ['folios'], 10),
    sweep(100000, 2 ** 30, ['folios'], 100),
    sweep(1000, 2 ** 32, ['ram'], 1),
  ];
  const results = assembleResults(frame, jobs);

  it('takes each process as one sample: the mean and interval of the per-process estimates', () => {
    expect(Results.safeParse(results).success).toBe(true);
    expect(results.pairs).toHaveLength(1);
    const p = results.pairs[0];
    const preserve = p.metrics.preserve_ns_per_folio;
    expect(preserve.perProcess).toEqual([110, 140, 120]);
    expect(preserve.value).toBeCloseTo(370 / 3, 10);
    expect(preserve.processes).toBe(3);
    // t-interval on 2 degrees of freedom: mean ± 4.303 sd / sqrt(3).
    const sd = Math.sqrt(((110 - 370 / 3) ** 2 + (140 - 370 / 3) ** 2 + (120 - 370 / 3) ** 2) / 2);
    expect(preserve.ciHigh! - preserve.value).toBeCloseTo((4.302652729911275 * sd) / Math.sqrt(3), 6);
    expect(preserve.cv).toBeCloseTo(sd / (370 / 3), 10);
    expect(p.metrics.restore_ms.value).toBeCloseTo(1.1, 10);
    expect(p.metrics.restore_ns_per_folio.value).toBeCloseTo(1100, 6);
    expect(p.metrics.restore_walk_ms.value).toBeCloseTo(0.55, 10);
    // Blackout per process (serialize + restore of the same process), then over processes.
    expect(p.metrics.blackout_ms.perProcess).toEqual([1.011, 1.211, 1.111].map((x) => expect.closeTo(x, 10)));
    expect(p.distributions?.preserve?.min).toBe(100);
    expect(p.distributions?.preserve?.max).toBe(150);
  });

  it('takes exact and model figures from the exact job, with no interval', () => {
    const m = results.pairs[0].metrics;
    expect(m.metadata_bytes_per_gib.value).toBeCloseTo(8192 / (4096000 / 2 ** 30), 6);
    expect(m.metadata_bytes_per_gib.ciLow).toBeUndefined();
    expect(m.lines_per_restored_folio.value).toBe(0.1);
    expect(m.preserve_model_ns.value).toBe(10);
    expect(m.restore_model_ns_per_folio.value).toBe(20);
    expect(m.blackout_model_ms.value).toBeCloseTo(500 / 1e6 + (20 * 1000) / 1e6, 12);
    expect(results.metricDefs.preserve_model_ns.kind).toBe('model');
  });

  it('puts a point shared by both sweeps on both, and fits each with an interval', () => {
    expect(results.sweeps.filter((s) => s.axis === 'folios').map((s) => s.x)).toEqual([1000, 10000, 100000]);
    expect(results.sweeps.filter((s) => s.axis === 'ram').map((s) => s.x)).toEqual([2 ** 30, 2 ** 32]);
    const restoreFit = results.fits.find((f) => f.axis === 'folios' && f.metric === 'restore_ms')!;
    expect(restoreFit.exponent).toBeCloseTo(1, 10);
    expect(restoreFit.points).toBe(3);
    expect(restoreFit.ciLow).toBeCloseTo(1, 6);
    const flat = results.fits.find((f) => f.axis === 'ram' && f.metric === 'restore_ms')!;
    expect(flat.exponent).toBeCloseTo(0, 10);
    expect(flat.ciLow).toBeUndefined();
  });

  it('writes one CSV row per (structure, scenario, metric), under the names of the metric table', () => {
    const csv = toCsv(summaryRows(results)).trim().split('\n');
    expect(csv[0]).toBe('structure,scenario,metric,kind,unit,value,ci_low,ci_high,processes,cv');
    const keys = csv.slice(1).map((l) => l.split(',').slice(0, 3).join(','));
    expect(new Set(keys).size).toBe(keys.length);
    expect(csv).toContain('radix,dense-4k,serialize_bytes,exact,bytes,0,,,,');
    expect(csv.some((l) => l.startsWith('radix,dense-4k,preserve_ns_per_folio,measured,ns,123.33'))).toBe(true);
    expect(keys).toContain('radix,fit-folios,restore_ms_exponent');
    expect(keys).toContain('radix,sweep-ram-4294967296,restore_ms');
  });

  it('round-trips through the files, and rejects a broken one with one line', () => {
    writeResults(dir, results);
    expect(readResults(join(dir, 'results.json'))).toEqual(results);
    for (const j of jobs) writeJobOutput(dir, j);
    writeFileSync(join(dir, 'jobs', 'broken.json'), '{"kind":"timing"');
    expect(readJobOutputs(dir).map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...results, schemaVersion: 1 }));
    expect(() => readResults(bad)).toThrow(ResultsError);
    try {
      readResults(bad);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message).toContain('schemaVersion');
    }
    expect(readFileSync(join(dir, 'results.json'), 'utf8').endsWith('\n')).toBe(true);
  });
});
