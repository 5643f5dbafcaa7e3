/**
 * One job, run in its own fresh process: every measurement of one
 * (structure, scenario, repetition), or of one sweep point.
 *
 * Order inside the job: timer calibration, the build of the tracker to hand
 * over (untimed; its size sets how much host memory each fresh machine
 * pre-faults), pilot and batch sizes, preserve latency, unpreserve latency,
 * the optional benny cross-check, then the hand-over (finalize once, account
 * the metadata, take the image), finalize timing, the restore in a fresh
 * worker (timed, then counted), and last the untimed counting pass of
 * preserve, so that the counting PhysMem is never seen by code before it
 * has been timed.
 */
import type { Tracker } from '../../src/tracker/tracker.ts';
import { crossCheckPreserve } from '../../src/measure/cross-check.ts';
import { countPreserveTouches } from '../../src/measure/counting.ts';
import type { LatencyBudget } from '../../src/measure/budgets.ts';
import { type LatencyResult, batchSizeFor, enlargedBatch, measureLatency, pilotCost } from '../../src/measure/latency.ts';
import { type BatchSizes, Replay, type TrackerFactory } from '../../src/measure/replay.ts';
import { measureFinalize, takeHandover } from '../../src/measure/serialize.ts';
import { measureTimer } from '../../src/measure/timer.ts';
import { type Workload, isPreserveKind, phaseFolios } from '../../src/measure/workload.ts';
import type { JobOutput, JobSpec, PairJobOutput, PairJobSpec, SweepJobOutput, SweepJobSpec } from '../../src/results/job.ts';
import { JOB_SCHEMA_VERSION } from '../../src/results/job-version.ts';
import { structureSpec } from '../../structures/index.ts';
import { PROFILES, type ProfileName } from '../profiles.ts';
import { scenarioSeed } from './seeds.ts';
import { SCENARIOS, type ScenarioId, sweepWorkload } from '../scenarios.ts';
import { type RestoreWorker, startRestoreWorker } from './restore-client.ts';

const gc = (globalThis as { gc?: () => void }).gc;

export async function executeJob(spec: JobSpec): Promise<JobOutput> {
  // The next kernel's worker boots while this process sets up (see restore-client.ts).
  const next = startRestoreWorker();
  try {
    return await (spec.kind === 'pair' ? executePair(spec, next) : executeSweep(spec, next));
  } finally {
    next.stop();
  }
}

function factoryOf(structure: string): TrackerFactory {
  const spec = structureSpec(structure);
  return (machine) => spec.create(machine);
}

function ramOf(w: Workload): number {
  return w.banks.reduce((a, b) => a + b.size, 0);
}

/** The largest phase of each kind: the most folios a batch can hold. */
function batchCap(workload: Workload, preserve: boolean): number {
  const phases = [...workload.build, ...workload.teardown];
  return Math.max(1, ...phases.filter((p) => isPreserveKind(p.kind) === preserve).map(phaseFolios));
}

interface Pilot {
  readonly sizes: BatchSizes;
  /** ns per folio of preserve and unpreserve (the pilot's fastest batch). */
  readonly preserveNs: number;
  readonly unpreserveNs: number;
}

/** Batch sizes from a pilot run (or 256 without one), capped at the largest phase of each kind. */
function pilot(workload: Workload, create: TrackerFactory, regionNs: number, unpreserve: boolean, warmPages: number, run: boolean): Pilot {
  const provisional = { preserve: 256, unpreserve: 256 };
  if (!run) {
    const cap = (pres: boolean) => Math.min(256, batchCap(workload, pres));
    // Without a pilot the pass-cost estimate assumes 1 us per operation.
    return { sizes: { preserve: cap(true), unpreserve: cap(false) }, preserveNs: 1000, unpreserveNs: 1000 };
  }
  const preserveNs = pilotCost(new Replay(workload, create, provisional, { warmPages }), true);
  const unpreserveNs = unpreserve ? pilotCost(new Replay(workload, create, provisional, { warmPages }), false) : preserveNs;
  return {
    sizes: {
      preserve: batchSizeFor(regionNs, preserveNs, batchCap(workload, true)),
      unpreserve: batchSizeFor(regionNs, unpreserveNs, batchCap(workload, false)),
    },
    preserveNs,
    unpreserveNs,
  };
}

/** Re-measure with bigger batches above this timer overhead (the rule is < 1% of every sample; this keeps a margin). */
const OVERHEAD_RETRY = 0.005;

/**
 * Latency of one kind; measured again, once, with bigger batches if the
 * worst-case timer overhead came out above OVERHEAD_RETRY (the pilot misjudged).
 */
function latency(
  workload: Workload,
  create: TrackerFactory,
  p: Pilot,
  preserve: boolean,
  budget: LatencyBudget,
  regionNs: number,
  warm: { pages: number },
): LatencyResult {
  // The pass cost estimate: a pass of unpreserve batches runs the build first.
  const opNs = preserve ? p.preserveNs : Math.max(p.preserveNs, p.unpreserveNs);
  const run = (sizes: BatchSizes) => {
    const replay = new Replay(workload, create, sizes, { onGarbage: gc, warmPages: warm.pages });
    const result = measureLatency(replay, preserve, budget, regionNs, opNs);
    warm.pages = replay.prefaultPages;
    return result;
  };
  const result = run(p.sizes);
  if (result.overheadFractionMax <= OVERHEAD_RETRY) return result;
  const bigger = enlargedBatch(result, batchCap(workload, preserve));
  if (bigger <= result.batchSize) return result;
  return run(preserve ? { ...p.sizes, preserve: bigger } : { ...p.sizes, unpreserve: bigger });
}

/** A fresh tracker with the workload's build run on it (untimed). */
function buildOnce(workload: Workload, create: TrackerFactory): Tracker {
  const replay = new Replay(workload, create, { preserve: 1 << 16, unpreserve: 1 << 16 });
  replay.runBuild();
  return replay.tracker;
}

/** Wall time of each step of a job, for budgeting. */
class Laps {
  readonly ms: Record<string, number> = {};
  private t = performance.now();
  lap(name: string): void {
    const now = performance.now();
    this.ms[name] = (this.ms[name] ?? 0) + (now - this.t);
    this.t = now;
  }
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function executePair(spec: PairJobSpec, next: RestoreWorker): Promise<PairJobOutput> {
  const t0 = performance.now();
  const laps = new Laps();
  const profile = PROFILES[spec.profile as ProfileName];
  const workload = SCENARIOS[spec.scenario as ScenarioId].workload(profile.name, scenarioSeed(spec.seed, spec.scenario));
  const create = factoryOf(spec.structure);
  const timer = measureTimer();
  // The tracker handed over at the end, built first (untimed): it tells how many heap pages a pass
  // needs, which every fresh machine then pre-faults (see prefault in src/measure/replay.ts).
  const handoverTracker = buildOnce(workload, create);
  const warm = { pages: Math.ceil((handoverTracker.heap.machine.mem.backedBytes / 4096) * 1.1) + 16 };
  const p = pilot(workload, create, timer.regionNs, true, warm.pages, profile.pilot);
  const sizes = p.sizes;
  laps.lap('setup');
  const preserve = latency(workload, create, p, true, profile.latency, timer.regionNs, warm);
  laps.lap('preserve');
  const unpreserve = latency(workload, create, p, false, profile.latency, timer.regionNs, warm);
  laps.lap('unpreserve');
  const crossCheck = spec.crossCheck
    ? await crossCheckPreserve(workload, create, sizes, {
        minSamples: profile.crossCheck.minSamples,
        maxTimeS: profile.crossCheck.maxTimeS,
        expectedNsPerFolio: preserve.summary.mean,
        warmPages: warm.pages,
        gc,
      })
    : undefined;
  laps.lap('crossCheck');
  const account = takeHandover(handoverTracker);
  laps.lap('handover');
  const serialize = measureFinalize(handoverTracker, profile.serialize, timer.regionNs);
  laps.lap('serialize');
  gc?.();
  const restore = await next.run({
    structure: spec.structure,
    image: account.handover.image,
    fdt: account.handover.fdt,
    live: workload.live,
    budget: profile.restore,
    regionNs: timer.regionNs,
    walk: true,
    count: true,
  });
  laps.lap('restore');
  const touches = countPreserveTouches(workload, create);
  laps.lap('counting');
  return {
    schemaVersion: JOB_SCHEMA_VERSION,
    kind: 'pair',
    id: spec.id,
    structure: spec.structure,
    scenario: spec.scenario,
    rep: spec.rep,
    ramBytes: ramOf(workload),
    folios: workload.live.folios,
    preservedBytes: workload.live.bytes,
    timer,
    preserve,
    unpreserve,
    serialize,
    serialized: account.serialized,
    built: account.built,
    atHandover: account.atHandover,
    peak: account.peak,
    restore,
    touches: { pagesPerPreserve: touches.pagesPerPreserve, linesPerPreserve: touches.linesPerPreserve },
    crossCheck,
    maxRssBytes: maxRss(),
    cpuMs: cpuMs(),
    wallMs: performance.now() - t0,
    stepsMs: laps.ms,
  };
}

async function executeSweep(spec: SweepJobSpec, next: RestoreWorker): Promise<SweepJobOutput> {
  const t0 = performance.now();
  const laps = new Laps();
  const profile = PROFILES[spec.profile as ProfileName];
  const workload = sweepWorkload(spec.folios, spec.ramBytes, scenarioSeed(spec.seed, `sweep-${spec.folios}-${spec.ramBytes}`));
  const create = factoryOf(spec.structure);
  const timer = measureTimer();
  const tracker = buildOnce(workload, create);
  const warm = { pages: Math.ceil((tracker.heap.machine.mem.backedBytes / 4096) * 1.1) + 16 };
  const p = pilot(workload, create, timer.regionNs, false, warm.pages, profile.pilot);
  laps.lap('setup');
  const preserve = latency(workload, create, p, true, profile.sweepLatency, timer.regionNs, warm);
  laps.lap('preserve');
  const account = takeHandover(tracker);
  laps.lap('handover');
  const serialize = measureFinalize(tracker, profile.sweepRepeat, timer.regionNs);
  laps.lap('serialize');
  gc?.();
  const restore = await next.run({
    structure: spec.structure,
    image: account.handover.image,
    fdt: account.handover.fdt,
    live: workload.live,
    budget: profile.sweepRepeat,
    regionNs: timer.regionNs,
    walk: false,
    count: false,
  });
  laps.lap('restore');
  return {
    schemaVersion: JOB_SCHEMA_VERSION,
    kind: 'sweep',
    id: spec.id,
    structure: spec.structure,
    axes: [...spec.axes],
    ramBytes: ramOf(workload),
    folios: workload.live.folios,
    preservedBytes: workload.live.bytes,
    timer,
    preserve,
    serialize,
    atHandover: account.atHandover,
    restore,
    maxRssBytes: maxRss(),
    cpuMs: cpuMs(),
    wallMs: performance.now() - t0,
    stepsMs: laps.ms,
  };
}
