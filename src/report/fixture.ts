/**
 * A synthetic, schema-valid results file for the report's tests (and for
 * looking at the report before real results exist). The numbers are made
 * up, seeded and plausible in shape: they say nothing about the kernel.
 */
import { RESULTS_SCHEMA_VERSION, type Estimate, type PairResult, type Results, type SweepPoint } from '../results/schema.ts';
import { fitPowerLaw, mulberry32 } from './stats.ts';

export const FIXTURE_STRUCTURES = ['flat-bitmap', 'xarray-6.16', 'xarray-6.18', 'ida', 'radix-rfc', 'radix'] as const;

const GiB = 2 ** 30;

interface ScenarioShape {
  id: string;
  description: string;
  ramBytes: number;
  folios: number;
  order: number;
  /** How spread out the folios are: metadata pages grow with it. */
  sparsity: number;
}

export const FIXTURE_SCENARIOS: readonly ScenarioShape[] = [
  { id: 'vm-2m', description: 'guest memory of VMs backed by 2 MiB folios', ramBytes: 64 * GiB, folios: 16384, order: 9, sparsity: 1 },
  { id: 'hugetlb-1g', description: '1 GiB hugetlb pages', ramBytes: 256 * GiB, folios: 128, order: 18, sparsity: 1 },
  { id: 'dense-4k', description: 'contiguous 4 KiB folios', ramBytes: 16 * GiB, folios: 1 << 20, order: 0, sparsity: 1 },
  { id: 'sparse-4k-16m', description: 'one 4 KiB folio every 16 MiB', ramBytes: 64 * GiB, folios: 4096, order: 0, sparsity: 4096 },
  { id: 'sparse-4k-128m', description: 'one 4 KiB folio every 128 MiB', ramBytes: 256 * GiB, folios: 2048, order: 0, sparsity: 32768 },
  { id: 'random-4k', description: 'random 4 KiB folios over all RAM', ramBytes: 32 * GiB, folios: 262144, order: 0, sparsity: 32 },
  { id: 'mixed-test-kho', description: 'random orders, as lib/test_kho.c', ramBytes: 16 * GiB, folios: 65536, order: 3, sparsity: 4 },
  { id: 'ranges', description: 'kho_preserve_pages ranges split into maximal orders', ramBytes: 16 * GiB, folios: 40000, order: 4, sparsity: 2 },
  { id: 'churn', description: 'preserve, unpreserve and preserve again', ramBytes: 16 * GiB, folios: 131072, order: 0, sparsity: 8 },
  { id: 'high-mem', description: 'folios above 4 TiB of physical address space', ramBytes: 8192 * GiB, folios: 65536, order: 0, sparsity: 64 },
];

/** Relative costs per structure: [preserve ns, serialize weight, restore weight, metadata weight]. */
const SHAPE: Record<string, { preserve: number; serialize: number; restore: number; meta: number }> = {
  'flat-bitmap': { preserve: 6, serialize: 0, restore: 0.6, meta: 0.2 },
  'xarray-6.16': { preserve: 70, serialize: 1.0, restore: 1.0, meta: 0.3 },
  'xarray-6.18': { preserve: 64, serialize: 1.3, restore: 1.0, meta: 1.0 },
  ida: { preserve: 48, serialize: 0, restore: 1.2, meta: 0.15 },
  'radix-rfc': { preserve: 44, serialize: 0, restore: 1.25, meta: 1.4 },
  radix: { preserve: 40, serialize: 0, restore: 1.1, meta: 1.1 },
};

export interface FixtureOptions {
  seed?: number;
  structures?: readonly string[];
  scenarios?: readonly string[];
  /** Multiplies every time of a structure (e.g. { radix: 1.3 } for a regression). */
  slowdown?: Readonly<Record<string, number>>;
  /** Relative half-width of the 95% intervals (default 0.04). */
  ciWidth?: number;
  /** Number of per-batch values kept in each distribution (default 48). */
  batches?: number;
  date?: string;
  gitCommit?: string;
  profile?: 'smoke' | 'default' | 'full';
  /** Include the scaling sweeps and fits (default true). */
  sweeps?: boolean;
}

function estimate(value: number, rel: number, samples: number, rnd: () => number): Estimate {
  const jitter = 1 + (rnd() - 0.5) * rel * 0.5;
  const v = value * jitter;
  return { value: v, ciLow: v * (1 - rel), ciHigh: v * (1 + rel), samples };
}

function batches(center: number, n: number, rnd: () => number) {
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    // log-normal body with an occasional slow batch.
    const g = Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
    let v = center * Math.exp(0.08 * g);
    if (rnd() < 0.04) v *= 2 + 3 * rnd();
    values.push(v);
  }
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: q(0.5), p99: q(0.99), min: sorted[0], max: sorted[sorted.length - 1], batches: values };
}

/** Builds a schema-valid results object. */
export function makeFixture(options: FixtureOptions = {}): Results {
  const rnd = mulberry32(options.seed ?? 1);
  const structures = options.structures ?? FIXTURE_STRUCTURES;
  const scenarioIds = options.scenarios ?? FIXTURE_SCENARIOS.map((s) => s.id);
  const rel = options.ciWidth ?? 0.04;
  const nBatches = options.batches ?? 48;
  const scenarios = scenarioIds.map(
    (id) =>
      FIXTURE_SCENARIOS.find((s) => s.id === id) ?? {
        id,
        description: `scenario ${id}`,
        ramBytes: 16 * GiB,
        folios: 10000,
        order: 0,
        sparsity: 1,
      },
  );
  const pairs: PairResult[] = [];
  for (const sc of scenarios) {
    for (const st of structures) {
      const shape = SHAPE[st] ?? SHAPE.radix;
      const slow = options.slowdown?.[st] ?? 1;
      const preservedBytes = sc.folios * 4096 * 2 ** sc.order;
      const metaPages = Math.max(
        1,
        Math.ceil(((sc.folios * sc.sparsity) / 32768) * shape.meta * (st === 'flat-bitmap' ? sc.ramBytes / (sc.folios * 4096 * 2 ** sc.order * sc.sparsity) : 1)),
      );
      const metaBytes = metaPages * 4096;
      const preserveNs = shape.preserve * slow * (1 + Math.log2(1 + sc.sparsity) * 0.05);
      const serializeMs = shape.serialize * slow * (0.02 + metaPages * 0.002 + sc.folios * 1e-6);
      const restoreMs = shape.restore * slow * (0.05 + sc.folios * 2.5e-5 + metaPages * 0.004);
      const serialize = st === 'xarray-6.16' || st === 'xarray-6.18' ? estimate(serializeMs, rel, 30, rnd) : estimate(0.0004, rel, 30, rnd);
      const restore = estimate(restoreMs, rel, 30, rnd);
      const blackoutValue = serialize.value + restore.value;
      const pb = batches(preserveNs, nBatches, rnd);
      const ub = batches(preserveNs * 0.8, nBatches, rnd);
      const serializeBytes = st.startsWith('xarray') ? Math.ceil(metaPages / 255) * 4096 : 0;
      pairs.push({
        structure: st,
        scenario: sc.id,
        ramBytes: sc.ramBytes,
        folios: sc.folios,
        preservedBytes,
        preserveNsPerFolio: { ...estimate(pb.p50, rel, nBatches, rnd) },
        preserveBatches: pb,
        unpreserveNsPerFolio: estimate(ub.p50, rel, nBatches, rnd),
        unpreserveBatches: ub,
        serializeMs: serialize,
        serializeBytes,
        serializePages: serializeBytes / 4096,
        restoreMs: restore,
        restoreNsPerFolio: estimate((restore.value * 1e6) / sc.folios, rel, 30, rnd),
        restoreWalkMs: estimate(restore.value * 0.7, rel, 30, rnd),
        restoreMetadataObjects: sc.folios,
        restoreMetadataBytes: sc.folios * 48,
        blackoutMs: { value: blackoutValue, ciLow: blackoutValue * (1 - rel), ciHigh: blackoutValue * (1 + rel), samples: 30 },
        metadataBytesHandover: metaBytes + serializeBytes,
        metadataPagesHandover: metaPages + serializeBytes / 4096,
        metadataBytesPeak: metaBytes + serializeBytes + 4096,
        metadataPagesPeak: metaPages + serializeBytes / 4096 + 1,
        touches: { pagesPerPreserve: 6, linesPerPreserve: 7, pagesPerRestoredFolio: 0.01, linesPerRestoredFolio: 0.2 },
      });
    }
  }
  const sweeps: SweepPoint[] = [];
  const fits: Results['fits'] = [];
  for (const st of options.sweeps === false ? [] : structures) {
    const shape = SHAPE[st] ?? SHAPE.radix;
    const slow = options.slowdown?.[st] ?? 1;
    for (const axis of ['folios', 'ram'] as const) {
      const xs = axis === 'folios' ? [1024, 4096, 16384, 65536, 262144, 1048576] : [4 * GiB, 16 * GiB, 64 * GiB, 256 * GiB, 1024 * GiB];
      for (const x of xs) {
        const folios = axis === 'folios' ? x : 65536;
        const ramFactor = axis === 'ram' ? (st === 'flat-bitmap' ? x / (4 * GiB) : 1 + Math.log2(x / (4 * GiB)) * 0.05) : 1;
        const preserveNs = shape.preserve * slow * (1 + 0.02 * Math.log2(folios) * (0.9 + 0.2 * rnd()));
        const restoreMs = shape.restore * slow * folios * 2.5e-5 * ramFactor * (0.95 + 0.1 * rnd());
        sweeps.push({
          structure: st,
          axis,
          x,
          folios,
          preserve: { value: preserveNs, ciLow: preserveNs * (1 - rel), ciHigh: preserveNs * (1 + rel), samples: 20 },
          restore: { value: restoreMs, ciLow: restoreMs * (1 - rel), ciHigh: restoreMs * (1 + rel), samples: 5 },
          preserveNsPerFolio: preserveNs,
          restoreMs,
          serializeMs: shape.serialize ? shape.serialize * slow * folios * 1.2e-6 * (0.95 + 0.1 * rnd()) : 0.0004,
          metadataBytesHandover: Math.max(4096, Math.ceil(folios / 32768) * 4096 * (1 + shape.meta)) * ramFactor,
        });
      }
      for (const metric of ['restoreMs', 'preserveNsPerFolio'] as const) {
        const fit = fitPowerLaw(
          sweeps.filter((p) => p.structure === st && p.axis === axis).map((p) => ({ x: p.x, y: p[metric] })),
        );
        if (fit) fits.push({ structure: st, axis, metric, exponent: fit.exponent, r2: fit.r2 });
      }
    }
  }
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    context: {
      cpuModel: 'Synthetic CPU @ 3.0GHz',
      cores: 16,
      memoryBytes: 64 * GiB,
      platform: 'linux x64',
      node: 'v20.0.0',
      v8: '11.3',
      gitCommit: options.gitCommit ?? '0123456789abcdef0123456789abcdef01234567',
      date: options.date ?? '2026-01-15T12:00:00.000Z',
      profile: options.profile ?? 'smoke',
      seed: options.seed ?? 1,
      seeds: Object.fromEntries(scenarios.map((s, i) => [s.id, 1000 + i])),
    },
    scenarios: scenarios.map((s) => ({ id: s.id, description: s.description, ramBytes: s.ramBytes })),
    pairs,
    sweeps,
    fits,
    complete: true,
  };
}

/** Sets one pair's estimate of one metric (tests use it to force winners and overlaps). */
export function setEstimate(
  results: Results,
  structure: string,
  scenario: string,
  metric: 'preserveNsPerFolio' | 'unpreserveNsPerFolio' | 'serializeMs' | 'restoreMs' | 'blackoutMs' | 'restoreNsPerFolio',
  value: number,
  ciLow: number,
  ciHigh: number,
): void {
  const pair = results.pairs.find((p) => p.structure === structure && p.scenario === scenario);
  if (!pair) throw new Error(`fixture has no pair ${structure}/${scenario}`);
  pair[metric] = { value, ciLow, ciHigh, samples: pair[metric].samples };
}
