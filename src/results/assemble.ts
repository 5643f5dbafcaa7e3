/**
 * From raw job outputs to the results file: the repetitions of each
 * (structure, scenario) pair are pooled (exact pooled mean and variance,
 * mixture percentiles; see src/stats/summary.ts), derived metrics are
 * computed (ns per restored folio, blackout, metadata per folio and per
 * GiB), and each structure's sweep points are fitted with growth exponents.
 */
import {
  type Estimate,
  type SampleSummary,
  estimateOf,
  fitPowerLaw,
  poolSummaries,
  scaleEstimate,
  sumEstimates,
  summaryQuantile,
} from '../stats/index.ts';
import type { JobOutput, PairJobOutput, SweepJobOutput } from './job.ts';
import { RESULTS_SCHEMA_VERSION, type Distribution, type PairResult, type Results, type SweepPoint } from './schema.ts';

export const GIB = 2 ** 30;
/** Per-batch values kept in the results file, per distribution. */
export const MAX_BATCHES = 1001;

/** Everything of a run except the measurements. */
export type RunFrame = Omit<Results, 'pairs' | 'sweeps' | 'fits' | 'schemaVersion'>;

export function distributionOf(s: SampleSummary): Distribution {
  const batches = s.sketch.length <= MAX_BATCHES ? s.sketch : s.sketch.filter((_, i) => i % Math.ceil(s.sketch.length / MAX_BATCHES) === 0);
  return { p50: summaryQuantile(s, 0.5), p99: summaryQuantile(s, 0.99), min: s.min, max: s.max, batches };
}

function pool(parts: SampleSummary[]): SampleSummary {
  return poolSummaries(parts);
}

/** Averages independent estimates of one quantity (e.g. benny's, one per repetition). */
function averageEstimates(es: Estimate[]): Estimate {
  if (es.length === 1) return es[0];
  const k = es.length;
  const value = es.reduce((a, e) => a + e.value, 0) / k;
  const lo = Math.sqrt(es.reduce((a, e) => a + (e.value - e.ciLow) ** 2, 0)) / k;
  const hi = Math.sqrt(es.reduce((a, e) => a + (e.ciHigh - e.value) ** 2, 0)) / k;
  return { value, ciLow: value - lo, ciHigh: value + hi, samples: es.reduce((a, e) => a + e.samples, 0) };
}

export function assemblePair(reps: readonly PairJobOutput[]): PairResult {
  const first = reps[0];
  const preserve = pool(reps.map((r) => r.preserve.summary));
  const unpreserve = pool(reps.map((r) => r.unpreserve.summary));
  const serializeMs = estimateOf(pool(reps.map((r) => r.serialize.summary)));
  const restoreMs = estimateOf(pool(reps.map((r) => r.restore.total.summary)));
  const restoreWalkMs = estimateOf(pool(reps.map((r) => r.restore.walk.summary)));
  const perFolio = first.folios > 0 ? 1e6 / first.folios : 0;
  const touches = first.touches && first.restore.touches;
  const checks = reps.map((r) => r.crossCheck).filter((c) => c !== undefined);
  const { bytes: _bytes, ...memblock } = first.restore.memblock;
  return {
    structure: first.structure,
    scenario: first.scenario,
    ramBytes: first.ramBytes,
    folios: first.folios,
    preservedBytes: first.preservedBytes,
    preserveNsPerFolio: estimateOf(preserve),
    preserveBatches: distributionOf(preserve),
    unpreserveNsPerFolio: estimateOf(unpreserve),
    unpreserveBatches: distributionOf(unpreserve),
    serializeMs,
    serializeBytes: first.serialized.bytes,
    serializePages: first.serialized.pages,
    restoreMs,
    restoreNsPerFolio: scaleEstimate(restoreMs, perFolio),
    restoreWalkMs,
    restoreMetadataObjects: first.restore.metadataObjects,
    restoreMetadataBytes: first.restore.metadataBytes,
    blackoutMs: sumEstimates(serializeMs, restoreMs),
    metadataBytesHandover: first.atHandover.bytes,
    metadataPagesHandover: first.atHandover.pages,
    metadataBytesPeak: first.peak.bytes,
    metadataPagesPeak: first.peak.pages,
    touches: touches
      ? {
          pagesPerPreserve: first.touches!.pagesPerPreserve,
          linesPerPreserve: first.touches!.linesPerPreserve,
          pagesPerRestoredFolio: first.restore.touches!.pagesPerRestoredFolio,
          linesPerRestoredFolio: first.restore.touches!.linesPerRestoredFolio,
          restorePages: first.restore.touches!.pages,
          restoreLines: first.restore.touches!.lines,
        }
      : undefined,
    crossCheck: checks.length
      ? { preserveNsPerFolio: averageEstimates(checks.map((c) => c.preserveNsPerFolio)), engine: checks[0].engine }
      : undefined,
    repetitions: reps.length,
    batchSize: { preserve: first.preserve.batchSize, unpreserve: first.unpreserve.batchSize },
    timerOverheadFraction: {
      preserve: Math.max(...reps.map((r) => r.preserve.overheadFractionMax)),
      unpreserve: Math.max(...reps.map((r) => r.unpreserve.overheadFractionMax)),
    },
    restoreWalkNsPerFolio: scaleEstimate(restoreWalkMs, perFolio),
    metadataBytesPerFolio: first.folios > 0 ? first.atHandover.bytes / first.folios : 0,
    metadataBytesPerGiB: first.preservedBytes > 0 ? first.atHandover.bytes / (first.preservedBytes / GIB) : 0,
    memblock,
    hostMaxRssBytes: Math.max(...reps.map((r) => r.maxRssBytes)),
  };
}

/** The sweep points a sweep job measured: one per sweep it belongs to. */
export function assembleSweepPoints(s: SweepJobOutput): SweepPoint[] {
  const preserve = estimateOf(s.preserve.summary);
  const restore = estimateOf(s.restore.total.summary);
  const serialize = estimateOf(s.serialize.summary);
  return s.axes.map((axis) => ({
    structure: s.structure,
    axis,
    x: axis === 'folios' ? s.folios : s.ramBytes,
    preserveNsPerFolio: preserve.value,
    restoreMs: restore.value,
    serializeMs: serialize.value,
    metadataBytesHandover: s.atHandover.bytes,
    folios: s.folios,
    ramBytes: s.ramBytes,
    preserve,
    restore,
    serialize,
  }));
}

/** The metrics fitted on every sweep. */
export const FIT_METRICS = ['preserveNsPerFolio', 'restoreMs', 'serializeMs', 'metadataBytesHandover'] as const;

export function fitSweeps(points: readonly SweepPoint[]): Results['fits'] {
  const fits: Results['fits'] = [];
  const keys = [...new Set(points.map((p) => `${p.structure}\u0000${p.axis}`))].sort();
  for (const key of keys) {
    const [structure, axis] = key.split('\u0000') as [string, 'folios' | 'ram'];
    const pts = points.filter((p) => p.structure === structure && p.axis === axis).sort((a, b) => a.x - b.x);
    for (const metric of FIT_METRICS) {
      const fit = fitPowerLaw(
        pts.map((p) => p.x),
        pts.map((p) => p[metric]),
      );
      if (fit) fits.push({ structure, axis, metric, exponent: fit.exponent, r2: fit.r2, points: fit.points });
    }
  }
  return fits;
}

/** The results file of a run from its frame and every job output so far. */
export function assembleResults(frame: RunFrame, jobs: readonly JobOutput[]): Results {
  const groups = new Map<string, PairJobOutput[]>();
  const sweeps: SweepPoint[] = [];
  for (const j of jobs) {
    if (j.kind === 'pair') {
      const key = `${j.structure}\u0000${j.scenario}`;
      const g = groups.get(key);
      if (g) g.push(j);
      else groups.set(key, [j]);
    } else {
      sweeps.push(...assembleSweepPoints(j));
    }
  }
  const structureOrder = frame.plan?.structures ?? [];
  const scenarioOrder = frame.scenarios.map((s) => s.id);
  const rank = (list: readonly string[], x: string) => {
    const i = list.indexOf(x);
    return i < 0 ? list.length : i;
  };
  const pairs = [...groups.values()]
    .map((g) => assemblePair(g.sort((a, b) => a.rep - b.rep)))
    .sort(
      (a, b) =>
        rank(scenarioOrder, a.scenario) - rank(scenarioOrder, b.scenario) ||
        rank(structureOrder, a.structure) - rank(structureOrder, b.structure),
    );
  sweeps.sort((a, b) => rank(structureOrder, a.structure) - rank(structureOrder, b.structure) || a.axis.localeCompare(b.axis) || a.x - b.x);
  return { schemaVersion: RESULTS_SCHEMA_VERSION, ...frame, pairs, sweeps, fits: fitSweeps(sweeps) };
}
