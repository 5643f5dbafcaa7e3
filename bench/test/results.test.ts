import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleResults, type RunFrame } from '../../src/results/assemble.ts';
import { summaryRows, toCsv } from '../../src/results/csv.ts';
import { ResultsError, readJobOutputs, readResults, writeJobOutput, writeResults } from '../../src/results/io.ts';
import { JOB_SCHEMA_VERSION, type PairJobOutput, type SweepJobOutput } from '../../src/results/job.ts';
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
  timer: { callNs: 50, regionNs: 30 },
  maxRssBytes: 1e8,
  wallMs: 100,
};
const restore = (ms: number[]) => ({
  total: repeat(ms),
  walk: repeat(ms.map((m) => m / 2)),
  folios: 1000,
  metadataObjects: 3,
  metadataBytes: 12288,
  memblock: { reserves: 1000, regions: 10, outOfOrder: 0, moved: 0, merged: 990, doublings: 0, bytes: 4096000 },
  touches: { pages: 3, lines: 100, pagesPerRestoredFolio: 0.003, linesPerRestoredFolio: 0.1 },
});

function pair(rep: number, preserve: number[]): PairJobOutput {
  return {
    ...common,
    kind: 'pair',
    id: `radix__dense-4k__r${rep}`,
    structure: 'radix',
    scenario: 'dense-4k',
    rep,
    preserve: latency(preserve),
    unpreserve: latency([50, 60]),
    serialize: repeat([0.01, 0.012]),
    serialized: { bytes: 0, pages: 0 },
    built: { bytes: 8192, pages: 2 },
    atHandover: { bytes: 8192, pages: 2 },
    peak: { bytes: 8192, pages: 2 },
    restore: restore([1, 1.2, 1.1]),
    touches: { pagesPerPreserve: 1.5, linesPerPreserve: 3 },
  };
}

function sweep(folios: number, ramBytes: number, axes: ('folios' | 'ram')[], ms: number): SweepJobOutput {
  return {
    ...common,
    kind: 'sweep',
    id: `radix__sweep-${folios}-${ramBytes}`,
    structure: 'radix',
    folios,
    ramBytes,
    axes,
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
    pair(1, [100, 110, 120]),
    pair(2, [130, 140, 150]),
    sweep(1000, 2 ** 30, ['folios', 'ram'], 1),
    sweep(10000, 2 ** 30, ['folios'], 10),
    sweep(1000, 2 ** 32, ['ram'], 1),
  ];
  const results = assembleResults(frame, jobs);

  it('pools the repetitions of a pair', () => {
    expect(Results.safeParse(results).success).toBe(true);
    expect(results.pairs).toHaveLength(1);
    const p = results.pairs[0];
    expect(p.repetitions).toBe(2);
    expect(p.preserveNsPerFolio.value).toBeCloseTo(125, 10);
    expect(p.preserveNsPerFolio.samples).toBe(6);
    expect(p.preserveBatches.min).toBe(100);
    expect(p.preserveBatches.max).toBe(150);
    expect(p.restoreMs.value).toBeCloseTo(1.1, 10);
    expect(p.restoreNsPerFolio.value).toBeCloseTo(1100, 6);
    expect(p.blackoutMs.value).toBeCloseTo(1.1 + 0.011, 10);
    expect(p.metadataBytesPerGiB).toBeCloseTo(8192 / (4096000 / 2 ** 30), 6);
    expect(p.touches?.linesPerRestoredFolio).toBe(0.1);
  });

  it('puts a point shared by both sweeps on both, and fits each', () => {
    expect(results.sweeps.filter((s) => s.axis === 'folios').map((s) => s.x)).toEqual([1000, 10000]);
    expect(results.sweeps.filter((s) => s.axis === 'ram').map((s) => s.x)).toEqual([2 ** 30, 2 ** 32]);
    const restoreFit = results.fits.find((f) => f.axis === 'folios' && f.metric === 'restoreMs')!;
    expect(restoreFit.exponent).toBeCloseTo(1, 10);
    const flat = results.fits.find((f) => f.axis === 'ram' && f.metric === 'restoreMs')!;
    expect(flat.exponent).toBeCloseTo(0, 10);
  });

  it('writes one CSV row per (structure, scenario, metric)', () => {
    const csv = toCsv(summaryRows(results)).trim().split('\n');
    expect(csv[0]).toBe('structure,scenario,metric,unit,value,ci_low,ci_high,samples');
    const keys = csv.slice(1).map((l) => l.split(',').slice(0, 3).join(','));
    expect(new Set(keys).size).toBe(keys.length);
    expect(csv).toContain('radix,dense-4k,serialize_bytes,bytes,0,,,');
    expect(keys).toContain('radix,fit-folios,restore_ms_exponent');
    expect(keys).toContain('radix,sweep-ram-4294967296,restore_ms');
  });

  it('round-trips through the files, and rejects a broken one with one line', () => {
    writeResults(dir, results);
    expect(readResults(join(dir, 'results.json'))).toEqual(results);
    for (const j of jobs) writeJobOutput(dir, j);
    writeFileSync(join(dir, 'jobs', 'broken.json'), '{"kind":"pair"');
    expect(readJobOutputs(dir).map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...results, schemaVersion: 2 }));
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
