/**
 * From raw job outputs to the results file.
 *
 *   measured metrics  each timing process gives one estimate per metric (its
 *                     mean over batches or samples; blackout is the same
 *                     process's serialize + restore); the pair's value is
 *                     their mean, its 95% interval a t-interval over the
 *                     processes (never below zero), with their spread (CV)
 *                     and Tukey's outlier classes, and a warning when the
 *                     spread is above SPREAD_WARNING_CV or a process is a
 *                     severe outlier;
 *   exact and model   from the pair's exact job;
 *   unavailable       what any job of the pair could not measure, with why.
 *
 * An A/A run's halves are pooled here as one run; `compareHalves` compares
 * them. Sweep points are fitted with growth exponents and their intervals.
 */
import { hostSlowdown } from '../measure/calibration.ts';
import { deferredFull } from '../measure/restore.ts';
import {
  type SampleSummary,
  type FamilyMember,
  aaSummary,
  adjustFamily,
  compareProcessSamples,
  fitPowerLaw,
  poolSummaries,
  processInterval,
  processSpread,
  spreadWarning,
  summaryQuantile,
  tCritical95,
  tukeyOutliers,
} from '../stats/index.ts';
import type { MetricComparison } from '../stats/index.ts';
import type { ExactJobOutput, JobOutput, ModelOutput, SweepJobOutput, TimingJobOutput } from './job.ts';
import { ALL_METRICS, PAIR_METRICS, familyMember, metricDef } from './metrics.ts';
import {
  type Calibration,
  type Distribution,
  type MetricValue,
  type PairResult,
  RESULTS_SCHEMA_VERSION,
  type Results,
  type SweepFit,
  type SweepPoint,
} from './schema.ts';

export const GIB = 2 ** 30;
/** Per-batch values kept in the results file, per distribution. */
export const MAX_BATCHES = 1001;

/** Everything of a run except the measurements. */
export type RunFrame = Omit<Results, 'pairs' | 'sweeps' | 'fits' | 'schemaVersion' | 'metricDefs'>;

export function distributionOf(s: SampleSummary): Distribution {
  const batches = s.sketch.length <= MAX_BATCHES ? s.sketch : s.sketch.filter((_, i) => i % Math.ceil(s.sketch.length / MAX_BATCHES) === 0);
  return { p50: summaryQuantile(s, 0.5), p99: summaryQuantile(s, 0.99), min: s.min, max: s.max, batches };
}

/** Each timing process's estimate of every measured metric it has. */
export function processEstimates(t: TimingJobOutput): Record<string, number> {
  const out: Record<string, number> = {};
  const perFolio = t.folios > 0 ? 1e6 / t.folios : 0;
  const ms = (name: string, v: number | undefined) => {
    if (v === undefined) return;
    out[`${name}_ms`] = v;
    out[`${name}_ns_per_folio`] = v * perFolio;
  };
  if (t.preserve) out.preserve_ns_per_folio = t.preserve.summary.mean;
  if (t.unpreserve) out.unpreserve_ns_per_folio = t.unpreserve.summary.mean;
  // The median of the process's finalizes, as for the walk: a serializing tracker is rebuilt before each, and the
  // collection of the machines it drops lands in some samples (kho-array random-4k: one of six at 3.8 ms among
  // 0.04-0.09; xarray-6.16: one of six at 2.5-3.2 among 0.9-1.3 in five of six processes).
  if (t.serialize) out.serialize_ms = summaryQuantile(t.serialize.summary, 0.5);
  const r = t.restore;
  if (r) {
    // Deferred init of every struct page (priced from the two capped runs), less the head stores it includes.
    const heads = r.heads.summary.mean;
    const sample = r.deferredSample.summary.mean;
    const init = Math.max(0, deferredFull(r.deferredOne?.summary.mean ?? sample, sample, r.deferredCounts) - heads);
    const restore = r.total.summary.mean + (r.deferredInit ? init : 0);
    ms('restore', restore);
    // The median of the process's walks: every run does the same work, and one of them in most processes
    // carries a one-off stall of V8's (30-130 ns per folio against 4-7 on radix dense-4k), not the walk's.
    ms('restore_walk', summaryQuantile(r.walk.summary, 0.5));
    ms('restore_memblock', r.memblock.summary.mean);
    ms('restore_struct_pages', heads + init);
    ms('restore_struct_pages_eager', heads);
    if (out.serialize_ms !== undefined) out.blackout_ms = out.serialize_ms + restore;
  }
  if (t.crossCheck) out.preserve_ns_per_folio_benny = t.crossCheck.preserveNsPerFolio.value;
  return out;
}

/** A measured metric from its per-process values (in process order). */
export function measuredValue(perProcess: number[]): MetricValue {
  const spread = processSpread(perProcess);
  if (perProcess.length < 2) return { value: spread.mean, processes: perProcess.length, perProcess };
  const ci = processInterval(perProcess);
  const t = tukeyOutliers(perProcess);
  return {
    value: ci.value,
    ciLow: Math.max(0, ci.ciLow),
    ciHigh: ci.ciHigh,
    processes: perProcess.length,
    perProcess,
    cv: spread.cv,
    outliers: t.counts,
  };
}

function warningsOf(metrics: Record<string, MetricValue>): string[] {
  const out: string[] = [];
  for (const [name, m] of Object.entries(metrics)) {
    // A derived metric's spread is its bases' (a per-folio time's exactly): warning again would repeat them.
    if (m.cv === undefined || metricDef(name).derivedFrom || (!name.endsWith('_ms') && !name.endsWith('_ns_per_folio'))) continue;
    const spread = spreadWarning(m.cv);
    if (spread) out.push(`${name}: ${spread}`);
    if (m.outliers && m.outliers.highSevere + m.outliers.lowSevere > 0) {
      out.push(`${name}: ${m.outliers.highSevere + m.outliers.lowSevere} of ${m.processes} processes are severe outliers (beyond 3 IQR)`);
    }
  }
  return out;
}

function exactMetrics(e: ExactJobOutput): Record<string, MetricValue> {
  const m: Record<string, MetricValue> = {};
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value) && e.unavailable[name] === undefined) m[name] = { value };
  };
  const folios = e.folios;
  put('serialize_bytes', e.serialized.bytes);
  put('serialize_pages', e.serialized.pages);
  put('metadata_bytes_handover', e.atHandover.bytes);
  put('metadata_pages_handover', e.atHandover.pages);
  put('metadata_bytes_peak', e.peak.bytes);
  put('metadata_pages_peak', e.peak.pages);
  put('metadata_bytes_per_folio', folios > 0 ? e.atHandover.bytes / folios : undefined);
  put('metadata_bytes_per_gib', e.preservedBytes > 0 ? e.atHandover.bytes / (e.preservedBytes / GIB) : undefined);
  put('pages_per_preserve', e.touches.pagesPerPreserve);
  put('lines_per_preserve', e.touches.linesPerPreserve);
  const restored = Math.max(1, e.restore.folios);
  put('pages_per_restored_folio', e.restore.pages / restored);
  put('lines_per_restored_folio', e.restore.lines / restored);
  put('restore_metadata_objects', e.restore.metadataObjects);
  put('restore_metadata_bytes', e.restore.metadataBytes);
  put('restore_metadata_pages', e.restore.pages);
  put('memblock_regions', e.restore.memblock.regions);
  put('memblock_moved', e.restore.memblock.moved);
  put('memblock_scanned', e.restore.memblock.scanned);
  if (e.lostFolios > 0) m.lost_folios = { value: e.lostFolios };
  put('folios', e.folios);
  put('preserved_bytes', e.preservedBytes);
  const model = e.model;
  if (model) {
    put('preserve_model_ns', model.preserve?.ns);
    put('unpreserve_model_ns', model.unpreserve?.ns);
    put('serialize_model_ms', model.finalize.ns / 1e6);
    put('dram_per_preserve', model.preserve?.dram);
    const r = e.restore.model;
    if (r) {
      put('restore_walk_model_ns_per_folio', r.walk.ns);
      put('restore_model_ns_per_folio', r.total.ns);
      put('dram_per_restored_folio', r.total.dram);
      put('restore_model_ms', (r.total.ns * e.restore.folios) / 1e6);
      put('blackout_model_ms', model.finalize.ns / 1e6 + (r.total.ns * e.restore.folios) / 1e6);
    }
  }
  return m;
}

function modelOf(e: ExactJobOutput | undefined): PairResult['model'] {
  if (!e?.model) return undefined;
  const r = e.restore.model;
  return { preserve: e.model.preserve, unpreserve: e.model.unpreserve, finalize: e.model.finalize, restoreWalk: r?.walk, restore: r?.total };
}

/** What a job found it cannot measure, with "every metric" (ALL_METRICS) spelled out. */
function unavailableOf(jobs: readonly (TimingJobOutput | ExactJobOutput)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const j of jobs) {
    for (const [name, why] of Object.entries(j.unavailable)) {
      if (name !== ALL_METRICS) out[name] ??= why;
      else for (const m of PAIR_METRICS) if (!m.descriptive && m.name !== 'lost_folios') out[m.name] ??= why;
    }
  }
  return out;
}

export function assemblePair(timing: readonly TimingJobOutput[], exact: ExactJobOutput | undefined): PairResult {
  const first = timing[0] ?? exact!;
  const unavailable = unavailableOf([...timing, ...(exact ? [exact] : [])]);
  const metrics: Record<string, MetricValue> = {};
  for (const [name, m] of Object.entries(exact ? exactMetrics(exact) : {})) if (unavailable[name] === undefined) metrics[name] = m;
  const perProcess = new Map<string, number[]>();
  for (const t of timing) {
    for (const [name, v] of Object.entries(processEstimates(t))) {
      const list = perProcess.get(name);
      if (list) list.push(v);
      else perProcess.set(name, [v]);
    }
  }
  for (const def of PAIR_METRICS) {
    const values = perProcess.get(def.name);
    if (values && unavailable[def.name] === undefined) metrics[def.name] = measuredValue(values);
  }
  const latencies = (k: 'preserve' | 'unpreserve') => timing.map((t) => t[k]).filter((x) => x !== undefined);
  const dist = (k: 'preserve' | 'unpreserve') => {
    const ls = latencies(k);
    return ls.length ? distributionOf(poolSummaries(ls.map((l) => l.summary))) : undefined;
  };
  const maxOf = (k: 'preserve' | 'unpreserve', f: (l: NonNullable<TimingJobOutput['preserve']>) => number) =>
    Math.max(0, ...latencies(k).map(f));
  const warnings = warningsOf(metrics);
  return {
    structure: first.structure,
    scenario: first.scenario,
    ramBytes: first.ramBytes,
    folios: first.folios,
    preservedBytes: first.preservedBytes,
    metrics,
    ...(Object.keys(unavailable).length ? { unavailable } : {}),
    ...(warnings.length ? { warnings } : {}),
    distributions: { preserve: dist('preserve'), unpreserve: dist('unpreserve') },
    model: modelOf(exact),
    memblock: exact?.restore.memblock,
    batchSize: { preserve: maxOf('preserve', (l) => l.batchSize), unpreserve: maxOf('unpreserve', (l) => l.batchSize) },
    timerOverheadFraction: {
      preserve: maxOf('preserve', (l) => l.overheadFractionMax),
      unpreserve: maxOf('unpreserve', (l) => l.overheadFractionMax),
    },
    hostMaxRssBytes: Math.max(...[...timing, ...(exact ? [exact] : [])].map((j) => j.maxRssBytes)),
  };
}

function modelMetrics(m: { preserve: ModelOutput; restore: ModelOutput } | undefined, folios: number): Record<string, MetricValue> {
  if (!m) return {};
  return {
    preserve_model_ns: { value: m.preserve.ns },
    restore_model_ns_per_folio: { value: m.restore.ns },
    dram_per_preserve: { value: m.preserve.dram },
    restore_model_ms: { value: (m.restore.ns * folios) / 1e6 },
  };
}

/** The sweep points a sweep job measured: one per sweep it belongs to. */
export function assembleSweepPoints(s: SweepJobOutput): SweepPoint[] {
  const metrics: Record<string, MetricValue> = {
    preserve_ns_per_folio: measuredValue([s.preserve.summary.mean]),
    serialize_ms: measuredValue([s.serialize.summary.mean]),
    restore_ms: measuredValue([s.restore.total.summary.mean]),
    metadata_bytes_handover: { value: s.atHandover.bytes },
    ...modelMetrics(s.model, s.folios),
  };
  return s.axes.map((axis) => ({ structure: s.structure, axis, x: axis === 'folios' ? s.folios : s.ramBytes, folios: s.folios, ramBytes: s.ramBytes, metrics }));
}

/** The metrics fitted on every sweep. */
export const FIT_METRICS = ['preserve_ns_per_folio', 'restore_ms', 'serialize_ms', 'metadata_bytes_handover', 'preserve_model_ns', 'restore_model_ms'] as const;

/** Growth exponents with a 95% interval of the slope (t with points - 2 degrees of freedom). */
export function fitSweeps(points: readonly SweepPoint[]): SweepFit[] {
  const fits: SweepFit[] = [];
  const keys = [...new Set(points.map((p) => `${p.structure}\u0000${p.axis}`))].sort();
  for (const key of keys) {
    const [structure, axis] = key.split('\u0000') as [string, 'folios' | 'ram'];
    const pts = points.filter((p) => p.structure === structure && p.axis === axis).sort((a, b) => a.x - b.x);
    for (const metric of FIT_METRICS) {
      const usable = pts.filter((p) => p.metrics[metric] !== undefined);
      const fit = fitPowerLaw(
        usable.map((p) => p.x),
        usable.map((p) => p.metrics[metric].value),
      );
      if (!fit) continue;
      const interval = fit.points >= 3 && fit.slopeSe !== undefined ? tCritical95(fit.points - 2) * fit.slopeSe : undefined;
      fits.push({
        structure,
        axis,
        metric,
        exponent: fit.exponent,
        ...(interval !== undefined ? { ciLow: fit.exponent - interval, ciHigh: fit.exponent + interval } : {}),
        r2: fit.r2,
        points: fit.points,
      });
    }
  }
  return fits;
}

function metricDefsTable(): Results['metricDefs'] {
  return Object.fromEntries(PAIR_METRICS.map((m) => [m.name, { kind: m.kind, unit: m.unit, description: m.description }]));
}

/** The results file of a run from its frame and every job output so far. */
export function assembleResults(frame: RunFrame, jobs: readonly JobOutput[]): Results {
  const timing = new Map<string, TimingJobOutput[]>();
  const exact = new Map<string, ExactJobOutput>();
  const sweeps: SweepPoint[] = [];
  const calibrations: Calibration[] = [];
  for (const j of jobs) {
    if (j.kind === 'sweep') {
      sweeps.push(...assembleSweepPoints(j));
      continue;
    }
    if (j.kind === 'exact' && j.calibration !== undefined) {
      const c = calibrationOfJob(j);
      if (c) calibrations.push(c);
      continue;
    }
    const key = `${j.structure}\u0000${j.scenario}`;
    if (j.kind === 'exact') exact.set(key, j);
    else (timing.get(key) ?? timing.set(key, []).get(key)!).push(j);
  }
  const structureOrder = frame.plan?.structures ?? [];
  const scenarioOrder = frame.scenarios.map((s) => s.id);
  const rank = (list: readonly string[], x: string) => {
    const i = list.indexOf(x);
    return i < 0 ? list.length : i;
  };
  const keys = [...new Set([...timing.keys(), ...exact.keys()])];
  const pairs = keys
    .map((k) => assemblePair((timing.get(k) ?? []).sort((a, b) => a.process - b.process || (a.half ?? 0) - (b.half ?? 0)), exact.get(k)))
    .sort(
      (a, b) =>
        rank(scenarioOrder, a.scenario) - rank(scenarioOrder, b.scenario) ||
        rank(structureOrder, a.structure) - rank(structureOrder, b.structure),
    );
  sweeps.sort((a, b) => rank(structureOrder, a.structure) - rank(structureOrder, b.structure) || a.axis.localeCompare(b.axis) || a.x - b.x);
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    ...frame,
    metricDefs: metricDefsTable(),
    pairs,
    sweeps,
    fits: fitSweeps(sweeps),
    ...(calibrations.length ? { calibrations } : {}),
  };
}

/** A calibration experiment's modeled figure beside the published one. */
function calibrationOfJob(j: ExactJobOutput): Calibration | undefined {
  const experiment = j.calibration;
  if (!experiment || !j.model) return undefined;
  const folios = j.folios;
  const walk = j.restore.model?.walk.ns ?? 0;
  const total = j.restore.model?.total.ns ?? 0;
  const part: Record<(typeof experiment.measures)[number], number> = {
    preserve: ((j.model.preserve?.ns ?? 0) * folios) / 1e6,
    serialize: j.model.finalize.ns / 1e6,
    'restore-walk': (walk * folios) / 1e6,
    restore: (total * folios) / 1e6,
  };
  const modelMs = experiment.measures.reduce((a, m) => a + part[m], 0);
  return {
    id: experiment.id,
    source: experiment.source,
    assumptions: [...experiment.assumptions],
    structure: j.structure,
    publishedMs: experiment.publishedMs,
    modelMs,
    ratio: modelMs / experiment.publishedMs,
  };
}

/** Calibration-loop times of every timing process, in the order they ran (by job completion order of `jobs`). */
export function calibrationOf(jobs: readonly JobOutput[], baseline?: Results['context']['calibration']): NonNullable<Results['context']['calibration']> {
  const runs = jobs.filter((j): j is TimingJobOutput => j.kind === 'timing').map((t) => t.calibration);
  const base = baseline ? baseline.startNs.map((s, i) => ({ startNs: s, endNs: baseline.endNs[i] })) : undefined;
  const slow = runs.length ? hostSlowdown(runs, base) : undefined;
  return { startNs: runs.map((r) => r.startNs), endNs: runs.map((r) => r.endNs), ...(slow?.flagged ? { warning: slow.message } : {}) };
}

/** One metric of one pair in an A/A comparison. */
export interface HalvesRow {
  readonly structure: string;
  readonly scenario: string;
  readonly metric: string;
  readonly comparison: MetricComparison;
}

/**
 * An A/A run: the processes of half 1 against those of half 2, per pair and
 * measured metric, Benjamini–Hochberg across all of them (the derived ones
 * follow their bases: adjustFamily); the exact metrics
 * come from one job and so agree by construction (they are not compared).
 */
export function compareHalves(jobs: readonly JobOutput[]): { rows: HalvesRow[]; summary: ReturnType<typeof aaSummary> } {
  const halves = new Map<string, [Map<string, number[]>, Map<string, number[]>]>();
  for (const j of jobs) {
    if (j.kind !== 'timing' || j.half === undefined) continue;
    const key = `${j.structure}\u0000${j.scenario}`;
    const h = halves.get(key) ?? halves.set(key, [new Map(), new Map()]).get(key)!;
    const side = h[j.half === 1 ? 0 : 1];
    for (const [name, v] of Object.entries(processEstimates(j))) (side.get(name) ?? side.set(name, []).get(name)!).push(v);
  }
  const raw: (FamilyMember & { structure: string; scenario: string })[] = [];
  for (const [key, [a, b]] of halves) {
    const [structure, scenario] = key.split('\u0000');
    for (const [metric, va] of a) {
      const vb = b.get(metric);
      if (!vb || va.length < 2 || vb.length < 2 || metricDef(metric).kind !== 'measured') continue;
      raw.push({ structure, scenario, ...familyMember(key, metric, compareProcessSamples(va, vb)) });
    }
  }
  const adjusted = adjustFamily(raw);
  const rows = raw.map((r, i) => ({ structure: r.structure, scenario: r.scenario, metric: r.metric, comparison: adjusted[i] }));
  return { rows, summary: aaSummary(adjusted) };
}
