/**
 * The jobs, each run in its own fresh process, each a list of steps
 * (./steps.ts): what a step needs it takes from the job's context, what it
 * measures it adds to the job's output.
 *
 *   timing  calibrate, build the tracker to hand over (untimed), pilot,
 *           preserve, unpreserve, [cross-check], hand over, serialize,
 *           restore (in the next kernel's worker), calibrate again;
 *   exact   the deterministic pass (src/measure/exact.ts): accounting,
 *           touches and the model of preserve and finalize, the model of
 *           unpreserve, then the restore's exact pass in the worker;
 *   sweep   one sweep point: preserve, serialize and restore timed, and the
 *           model of preserve and restore.
 *
 * In a timing job the untimed build comes first and the traced memory is
 * never used, so the timed code only ever sees the plain PhysMem.
 */
import { readFileSync } from 'node:fs';
import { crossCheckPreserve } from '../../src/measure/cross-check.ts';
import { opsWorkload, parseOps } from '../../src/measure/ops-file.ts';
import { runCalibration } from '../../src/measure/calibration.ts';
import { type ExactFigures, measureExact, measureTeardownModel } from '../../src/measure/exact.ts';
import type { LatencyBudget } from '../../src/measure/budgets.ts';
import { GcPauses } from '../../src/measure/gc-pauses.ts';
import { type LatencyResult, batchSizeFor, enlargedBatch, measureLatency, pilotCost } from '../../src/measure/latency.ts';
import { type BatchSizes, Replay, type TrackerFactory } from '../../src/measure/replay.ts';
import { type HandoverAccount, measureFinalize, takeHandover } from '../../src/measure/serialize.ts';
import { type TimerInfo, measureTimer } from '../../src/measure/timer.ts';
import { type Workload, foliosAbove, isPreserveKind, phaseFolios, withFolio } from '../../src/measure/workload.ts';
import { type CpuParams, DEFAULT_CPU } from '../../src/model/cpu.ts';
import type {
  ExactJobOutput,
  ExactJobSpec,
  JobOutput,
  JobSpec,
  ModelOutput,
  RestoreTiming,
  SweepJobOutput,
  SweepJobSpec,
  TimingJobOutput,
  TimingJobSpec,
} from '../../src/results/job.ts';
import { JOB_SCHEMA_VERSION } from '../../src/results/job-version.ts';
import { MAX_ORDER, type Tracker } from '../../src/tracker/tracker.ts';
import { structureSpec } from '../../structures/index.ts';
import { PROFILES, type Profile, type ProfileName } from '../profiles.ts';
import { calibrationById } from '../calibrations.ts';
import { SCENARIOS, type ScenarioId, sweepWorkload } from '../scenarios.ts';
import { type RestoreWorker, startRestoreWorker } from './restore-client.ts';
import { scenarioSeed } from './seeds.ts';
import { type Step, type StepContext, need, runSteps } from './steps.ts';

const gc = (globalThis as { gc?: () => void }).gc;

export async function executeJob(spec: JobSpec): Promise<JobOutput> {
  // The next kernel's worker boots before anything is timed (see restore-client.ts).
  const next = startRestoreWorker();
  try {
    await next.ready;
    if (spec.kind === 'timing') return await executeTiming(spec, next);
    if (spec.kind === 'exact') return await executeExact(spec, next);
    return await executeSweep(spec, next);
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

/** A fresh tracker with the workload's build run on it (untimed). */
function buildOnce(workload: Workload, create: TrackerFactory): Tracker {
  const replay = new Replay(workload, create, { preserve: 1 << 16, unpreserve: 1 << 16 });
  replay.runBuild();
  return replay.tracker;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** The model's CPU; the validator is loaded only for a --cpu file (see src/model/cpu.ts). */
async function cpuOf(file: string | undefined): Promise<CpuParams> {
  return file ? (await import('../../src/model/cpu-file.ts')).loadCpu(file) : DEFAULT_CPU;
}

/** What every job knows once its workload is built. */
interface JobBase extends StepContext {
  readonly profile: Profile;
  readonly workload: Workload;
  readonly create: TrackerFactory;
  readonly next: RestoreWorker;
  readonly deferredInit: boolean;
}

function jobBase(profileName: string, workload: Workload, structure: string, next: RestoreWorker, deferredInit: boolean): JobBase {
  return {
    profile: PROFILES[profileName as ProfileName],
    workload,
    create: factoryOf(structure),
    next,
    deferredInit,
    unavailable: {},
    stepsMs: {},
  };
}

function common(spec: JobSpec, ctx: JobBase, t0: number) {
  return {
    schemaVersion: JOB_SCHEMA_VERSION,
    id: spec.id,
    structure: spec.structure,
    ramBytes: ramOf(ctx.workload),
    folios: ctx.workload.live.folios,
    preservedBytes: ctx.workload.live.bytes,
    unavailable: ctx.unavailable,
    maxRssBytes: maxRss(),
    cpuMs: cpuMs(),
    wallMs: performance.now() - t0,
    stepsMs: ctx.stepsMs,
  };
}

// ---------------------------------------------------------------------------
// Timing: the shared steps of timing and sweep jobs.

interface Pilot {
  readonly sizes: BatchSizes;
  /** ns per folio of preserve and unpreserve (the pilot's fastest batch). */
  readonly preserveNs: number;
  readonly unpreserveNs: number;
}

interface TimedContext extends JobBase {
  timer?: TimerInfo;
  /** The tracker handed over at the end, built first (untimed). */
  handoverTracker?: Tracker;
  /** Heap pages each fresh machine reserves (see prefault in src/measure/replay.ts). */
  warm?: { pages: number };
  pilot?: Pilot;
  preserve?: LatencyResult;
  unpreserve?: LatencyResult;
  account?: HandoverAccount;
  serialize?: TimingJobOutput['serialize'];
  restore?: RestoreTiming;
}

/** Re-measure with bigger batches above this timer overhead (the rule is < 1% of every sample; this keeps a margin). */
const OVERHEAD_RETRY = 0.005;

async function latency(ctx: TimedContext, preserve: boolean, budget: LatencyBudget): Promise<LatencyResult> {
  const p = need(ctx.pilot, 'pilot');
  const warm = need(ctx.warm, 'warm pages');
  const regionNs = need(ctx.timer, 'timer').regionNs;
  // The pass cost estimate: a pass of unpreserve batches runs the build first.
  const opNs = preserve ? p.preserveNs : Math.max(p.preserveNs, p.unpreserveNs);
  const pauses = new GcPauses();
  const run = async (sizes: BatchSizes) => {
    const replay = new Replay(ctx.workload, ctx.create, sizes, { onGarbage: gc, warmPages: warm.pages });
    const result = await measureLatency(replay, preserve, budget, regionNs, opNs, pauses);
    warm.pages = replay.prefaultPages;
    return result;
  };
  try {
    const result = await run(p.sizes);
    if (result.overheadFractionMax <= OVERHEAD_RETRY) return result;
    const bigger = enlargedBatch(result, batchCap(ctx.workload, preserve));
    if (bigger <= result.batchSize) return result;
    return await run(preserve ? { ...p.sizes, preserve: bigger } : { ...p.sizes, unpreserve: bigger });
  } finally {
    pauses.stop();
  }
}

const timerStep: Step<TimedContext> = {
  name: 'timer',
  run(ctx) {
    ctx.timer = measureTimer();
  },
};

const buildStep: Step<TimedContext> = {
  name: 'build',
  stopsJob: true,
  run(ctx) {
    // Its size sets how much host memory each fresh machine reserves.
    ctx.handoverTracker = buildOnce(ctx.workload, ctx.create);
    ctx.warm = { pages: Math.ceil((ctx.handoverTracker.heap.machine.mem.backedBytes / 4096) * 1.1) + 16 };
  },
};

function pilotStep(withUnpreserve: boolean): Step<TimedContext> {
  return {
    name: 'pilot',
    run(ctx) {
      const regionNs = need(ctx.timer, 'timer').regionNs;
      const warmPages = need(ctx.warm, 'warm pages').pages;
      const w = ctx.workload;
      const provisional = { preserve: 256, unpreserve: 256 };
      if (!ctx.profile.pilot) {
        const cap = (pres: boolean) => Math.min(256, batchCap(w, pres));
        // Without a pilot the pass-cost estimate assumes 1 us per operation.
        ctx.pilot = { sizes: { preserve: cap(true), unpreserve: cap(false) }, preserveNs: 1000, unpreserveNs: 1000 };
        return;
      }
      const preserveNs = pilotCost(new Replay(w, ctx.create, provisional, { warmPages }), true);
      let unpreserveNs = preserveNs;
      if (withUnpreserve && w.teardown.length > 0) {
        try {
          unpreserveNs = pilotCost(new Replay(w, ctx.create, provisional, { warmPages }), false);
        } catch {
          // A structure without unpreserve: the unpreserve step records it.
        }
      }
      ctx.pilot = {
        sizes: {
          preserve: batchSizeFor(regionNs, preserveNs, batchCap(w, true)),
          unpreserve: batchSizeFor(regionNs, unpreserveNs, batchCap(w, false)),
        },
        preserveNs,
        unpreserveNs,
      };
    },
  };
}

function preserveStep(budget: (p: Profile) => LatencyBudget): Step<TimedContext> {
  return {
    name: 'preserve',
    metrics: ['preserve_ns_per_folio'],
    async run(ctx) {
      ctx.preserve = await latency(ctx, true, budget(ctx.profile));
    },
  };
}

const unpreserveStep: Step<TimedContext> = {
  name: 'unpreserve',
  metrics: ['unpreserve_ns_per_folio'],
  async run(ctx) {
    ctx.unpreserve = await latency(ctx, false, ctx.profile.latency);
  },
};

const handoverStep: Step<TimedContext> = {
  name: 'handover',
  run(ctx) {
    ctx.account = takeHandover(need(ctx.handoverTracker, 'the built tracker'));
  },
};

function serializeStep(budget: (p: Profile) => TimedContext['profile']['serialize']): Step<TimedContext> {
  return {
    name: 'serialize',
    metrics: ['serialize_ms'],
    run(ctx) {
      const build = (w: Workload) => buildOnce(w, ctx.create);
      ctx.serialize = measureFinalize(need(ctx.handoverTracker, 'the built tracker'), ctx.workload, build, budget(ctx.profile), need(ctx.timer, 'timer').regionNs);
    },
  };
}

function restoreStep(budget: (p: Profile) => TimedContext['profile']['restore']): Step<TimedContext> {
  return {
    name: 'restore',
    metrics: ['restore_ms'],
    async run(ctx) {
      const handover = need(ctx.account, 'the hand-over').handover;
      const fdtPage = need(ctx.handoverTracker, 'the built tracker').fdtPage;
      ctx.handoverTracker = undefined;
      gc?.();
      ctx.restore = await ctx.next.timing({
        kind: 'timing',
        structure: handover.structure,
        image: handover.image,
        fdt: handover.fdt,
        live: withFolio(ctx.workload.live, fdtPage, 0),
        budget: budget(ctx.profile),
        regionNs: need(ctx.timer, 'timer').regionNs,
        deferredInit: ctx.deferredInit,
      });
    },
  };
}

// ---------------------------------------------------------------------------

interface TimingContext extends TimedContext {
  calibrationStart?: number;
  calibrationEnd?: number;
  crossCheck?: TimingJobOutput['crossCheck'];
  crossCheckWanted: boolean;
}

const calibrateStart: Step<TimingContext> = {
  name: 'calibrate',
  run(ctx) {
    ctx.calibrationStart = runCalibration().ns;
  },
};

const calibrateEnd: Step<TimingContext> = {
  name: 'calibrate-end',
  run(ctx) {
    ctx.calibrationEnd = runCalibration().ns;
  },
};

const crossCheckStep: Step<TimingContext> = {
  name: 'cross-check',
  metrics: ['preserve_ns_per_folio_benny'],
  async run(ctx) {
    if (!ctx.crossCheckWanted) return;
    const p = need(ctx.pilot, 'pilot');
    ctx.crossCheck = await crossCheckPreserve(ctx.workload, ctx.create, p.sizes, {
      minSamples: ctx.profile.crossCheck.minSamples,
      maxTimeS: ctx.profile.crossCheck.maxTimeS,
      expectedNsPerFolio: need(ctx.preserve, 'preserve').summary.mean,
      warmPages: need(ctx.warm, 'warm pages').pages,
      gc,
    });
  },
};

const TIMING_STEPS: readonly Step<TimingContext>[] = [
  calibrateStart,
  timerStep,
  buildStep,
  pilotStep(true),
  preserveStep((p) => p.latency),
  unpreserveStep,
  crossCheckStep,
  handoverStep,
  serializeStep((p) => p.serialize),
  restoreStep((p) => p.restore),
  calibrateEnd,
];

/** The workload of a pair job: its scenario's, or the user's operations file; and whether the next kernel defers struct page init. */
function pairWorkload(spec: TimingJobSpec | ExactJobSpec): { workload: Workload; deferredInit: boolean } {
  const experiment = spec.kind === 'exact' && spec.calibration !== undefined ? calibrationById(spec.calibration) : undefined;
  if (experiment) return { workload: experiment.workload(), deferredInit: true };
  if (spec.custom) {
    const ops = parseOps(readFileSync(spec.custom.opsFile, 'utf8'), spec.custom.opsFile);
    return { workload: opsWorkload(ops, spec.custom.banks), deferredInit: true };
  }
  const scenario = SCENARIOS[spec.scenario as ScenarioId];
  return { workload: scenario.workload(spec.profile as ProfileName, scenarioSeed(spec.seed, spec.scenario)), deferredInit: scenario.deferredInit ?? true };
}

async function executeTiming(spec: TimingJobSpec, next: RestoreWorker): Promise<TimingJobOutput> {
  const t0 = performance.now();
  const { workload, deferredInit } = pairWorkload(spec);
  const ctx: TimingContext = { ...jobBase(spec.profile, workload, spec.structure, next, deferredInit), crossCheckWanted: spec.crossCheck };
  await runSteps(ctx, TIMING_STEPS);
  return {
    kind: 'timing',
    ...common(spec, ctx, t0),
    scenario: spec.scenario,
    process: spec.process,
    ...(spec.half !== undefined ? { half: spec.half } : {}),
    timer: ctx.timer ?? { callNs: 0, regionNs: 0 },
    calibration: { startNs: ctx.calibrationStart ?? 0, endNs: ctx.calibrationEnd ?? runCalibration().ns },
    preserve: ctx.preserve,
    unpreserve: ctx.unpreserve,
    serialize: ctx.serialize,
    restore: ctx.restore,
    crossCheck: ctx.crossCheck,
  };
}

// ---------------------------------------------------------------------------
// Exact: deterministic, once per pair.

/**
 * The restore's exact pass in a next kernel's worker, on the hand-over the
 * exact build produced. `fresh`: the job's own worker already ran the timed
 * restore (a sweep point), so the exact pass gets a worker of its own.
 */
function exactRestoreStep<C extends JobBase & { readonly cpu: CpuParams; figures?: ExactFigures }>(
  store: (ctx: C, r: ExactJobOutput['restore']) => void,
  fresh: boolean,
): Step<C> {
  return {
    name: 'exact-restore',
    async run(ctx) {
      const h = need(ctx.figures, 'exact figures').handover;
      const worker = fresh ? startRestoreWorker() : ctx.next;
      try {
        store(ctx, await worker.exact({ kind: 'exact', structure: h.structure, image: h.image, fdt: h.fdt, cpu: ctx.cpu, deferredInit: ctx.deferredInit }));
      } finally {
        if (fresh) worker.stop();
      }
    },
  };
}

interface ExactContext extends JobBase {
  readonly cpu: CpuParams;
  figures?: ExactFigures;
  unpreserveModel?: ModelOutput;
  restore?: ExactJobOutput['restore'];
}

const EXACT_STEPS: readonly Step<ExactContext>[] = [
  {
    name: 'exact-build',
    stopsJob: true,
    run(ctx) {
      ctx.figures = measureExact(ctx.workload, ctx.create, ctx.cpu);
    },
  },
  {
    name: 'exact-teardown',
    metrics: ['unpreserve_model_ns'],
    run(ctx) {
      ctx.unpreserveModel = measureTeardownModel(ctx.workload, ctx.create, ctx.cpu);
    },
  },
  exactRestoreStep((ctx, r) => {
    ctx.restore = r;
  }, false),
];

async function executeExact(spec: ExactJobSpec, next: RestoreWorker): Promise<ExactJobOutput> {
  const t0 = performance.now();
  const { workload, deferredInit } = pairWorkload(spec);
  const cpu = await cpuOf(spec.cpuFile);
  const ctx: ExactContext = { ...jobBase(spec.profile, workload, spec.structure, next, deferredInit), cpu };
  const experiment = spec.calibration === undefined ? undefined : calibrationById(spec.calibration);
  // An experiment needs only the parts its published figure covers.
  const steps = experiment
    ? EXACT_STEPS.filter((s) => s.name === 'exact-build' || (s.name === 'exact-restore' && experiment.measures.some((m) => m.startsWith('restore'))))
    : EXACT_STEPS;
  const complete = await runSteps(ctx, steps);
  const none = { bytes: 0, pages: 0 };
  const f = ctx.figures;
  return {
    kind: 'exact',
    ...common(spec, ctx, t0),
    scenario: spec.scenario,
    serialized: f?.serialized ?? none,
    built: f?.built ?? none,
    atHandover: f?.atHandover ?? none,
    peak: f?.peak ?? none,
    touches: f?.touches ?? { pagesPerPreserve: 0, linesPerPreserve: 0 },
    restore: ctx.restore ?? { folios: 0, metadataObjects: 0, metadataBytes: 0, pages: 0, lines: 0, memblock: {} },
    model: f ? { cpu: cpu.name, preserve: f.model.preserve, unpreserve: ctx.unpreserveModel, finalize: f.model.finalize } : undefined,
    lostFolios: complete ? 0 : foliosAbove(workload, structureSpec(spec.structure).maxOrder ?? MAX_ORDER),
    ...(experiment
      ? {
          calibration: {
            id: experiment.id,
            source: experiment.source,
            publishedMs: experiment.publishedMs,
            measures: [...experiment.measures],
            assumptions: [...experiment.assumptions],
          },
        }
      : {}),
  };
}

// ---------------------------------------------------------------------------
// Sweep points: timed once, costed by the model.

interface SweepContext extends TimedContext {
  readonly cpu: CpuParams;
  figures?: ExactFigures;
  restoreModel?: ExactJobOutput['restore'];
}

const SWEEP_STEPS: readonly Step<SweepContext>[] = [
  timerStep,
  buildStep,
  pilotStep(false),
  preserveStep((p) => p.sweepLatency),
  handoverStep,
  serializeStep((p) => ({ ...p.sweepRepeat, warmup: p.serialize.warmup, inPlaceWarmupMs: p.serialize.inPlaceWarmupMs })),
  restoreStep((p) => ({ walk: p.sweepRepeat, parts: p.sweepRepeat, partsWarmup: p.restore.partsWarmup, total: p.sweepRepeat })),
  {
    name: 'exact',
    run(ctx) {
      ctx.figures = measureExact(ctx.workload, ctx.create, ctx.cpu);
    },
  },
  exactRestoreStep((ctx, r) => {
    ctx.restoreModel = r;
  }, true),
];

async function executeSweep(spec: SweepJobSpec, next: RestoreWorker): Promise<SweepJobOutput> {
  const t0 = performance.now();
  const workload = sweepWorkload(spec.folios, spec.ramBytes, scenarioSeed(spec.seed, `sweep-${spec.folios}-${spec.ramBytes}`));
  const cpu = await cpuOf(spec.cpuFile);
  const ctx: SweepContext = { ...jobBase(spec.profile, workload, spec.structure, next, true), cpu };
  await runSteps(ctx, SWEEP_STEPS);
  const f = ctx.figures;
  const restoreModel = ctx.restoreModel?.model?.total;
  return {
    kind: 'sweep',
    ...common(spec, ctx, t0),
    axes: [...spec.axes],
    timer: need(ctx.timer, 'timer'),
    preserve: need(ctx.preserve, 'preserve'),
    serialize: need(ctx.serialize, 'serialize'),
    atHandover: need(ctx.account, 'the hand-over').atHandover,
    restore: need(ctx.restore, 'restore'),
    model: f && restoreModel ? { cpu: cpu.name, preserve: f.model.preserve, restore: restoreModel } : undefined,
  };
}
