/**
 * The run: plan the jobs, start each in a fresh process (at most `jobs` at
 * once), write the job's raw output, results.json and summary.csv (all
 * atomically) as each job finishes, report progress, and at the end print
 * the per-scenario tables and write the HTML report.
 *
 * Jobs run one at a time by default: on a 2-core machine a second job
 * shares the caches, the memory bandwidth and the cores that V8's
 * concurrent compiler and GC threads use, which makes every number noisier;
 * the smoke profile (whose numbers nobody reads) runs two at a time.
 *
 * An interrupted run keeps every finished job; `--resume <dir>` re-plans
 * the same jobs from the run's own options and runs only the missing ones.
 * A run folder is locked while a runner works in it (a second runner on the
 * same folder is refused), and a runner whose parent died (the npm or tsx
 * wrapper killed) stops its jobs and exits rather than work on unseen.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { prepareOutDir } from '../src/cli/out-dir.ts';
import { DEFAULT_CPU } from '../src/model/cpu.ts';
import { loadCpu } from '../src/model/cpu-file.ts';
import { Machine } from '../src/ram/machine.ts';
import { assembleResults, calibrationOf, compareHalves, type RunFrame } from '../src/results/assemble.ts';
import { machineContext } from '../src/results/context.ts';
import { packageVersion } from '../src/results/versions.ts';
import { summaryRows, toCsv } from '../src/results/csv.ts';
import { RESULTS_FILE, ResultsError, SUMMARY_FILE, readJobOutputs, readResults, writeAtomic, writeJobOutput, writeResults } from '../src/results/io.ts';
import { JobOutput } from '../src/results/job.ts';
import type { JobSpec } from '../src/results/job.ts';
import type { Results } from '../src/results/schema.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { STRUCTURE_IDS } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';
import { type BenchOptions, UsageError } from './cli.ts';
import { type JobLauncher, prepareLauncher } from './jobs/bundle.ts';
import { scenarioSeed } from './jobs/seeds.ts';
import { type RunningJob, cpusToPin, launchJob } from './jobs/launch.ts';
import { type RunLock, lockRun } from './lock.ts';
import { type RunPlan, jobWeight, planJobs } from './plan.ts';
import { CALIBRATIONS } from './calibrations.ts';
import { type DesignSpacePlan, FULL_DESIGN_SPACE, PROFILES, type ProfileName, isProfileName } from './profiles.ts';
import { FAMILY_IDS } from '../structures/family/index.ts';
import { createProgress } from './progress.ts';
import { SCENARIOS, SCENARIO_IDS, type ScenarioId } from './scenarios.ts';
import { summaryTables } from './table.ts';
import { formatBytes } from './placement.ts';
import { writeBenchmarkJson, writeIndex, writeRunReport } from '../src/report/index.ts';

export interface RunIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly tty: boolean;
}

/** How often a run rewrites its results.json while it goes on (see saveNowAndThen). */
const SAVE_INTERVAL_MS = 10_000;

const defaultIo: RunIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  // The bar goes to stderr (cli-progress's default), so a bar only when stderr is a terminal.
  tty: Boolean(process.stderr.isTTY),
};

/** reports/<yyyymmdd-hhmmss>-<profile>, or -design-space for that sweep alone, under the current directory. */
export function defaultRunDir(kind: ProfileName | 'design-space', now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return resolve('reports', `${stamp}-${kind}`);
}

/** Which requested structures can be measured; the others with the reason. */
export function availableStructures(ids: readonly string[]): { ok: string[]; skipped: { structure: string; reason: string }[] } {
  const ok: string[] = [];
  const skipped: { structure: string; reason: string }[] = [];
  for (const id of ids) {
    try {
      structureSpec(id).create(Machine.ofSize(2 ** 30));
      ok.push(id);
    } catch (e) {
      const reason = isKhoError(e, 'ENOEXEC') ? 'not implemented yet' : e instanceof Error ? e.message : String(e);
      skipped.push({ structure: id, reason });
    }
  }
  return { ok, skipped };
}

interface Session {
  readonly dir: string;
  readonly plan: RunPlan;
  readonly frame: RunFrame;
  readonly specs: readonly JobSpec[];
  readonly jobs: number;
  readonly priorSeconds: number;
}

function newSession(opts: BenchOptions, io: RunIo): Session {
  const out = prepareOutDir(opts.out ?? defaultRunDir(opts.designSpace ? 'design-space' : opts.profile));
  const dir = out.path;
  if (existsSync(join(dir, RESULTS_FILE))) {
    throw new UsageError(`${dir} already holds a run; continue it with --resume ${dir} or choose another --out`);
  }
  const cpuFile = opts.cpuFile === undefined ? undefined : resolve(opts.cpuFile);
  let cpuName = DEFAULT_CPU.name;
  if (cpuFile) {
    try {
      cpuName = loadCpu(cpuFile).name;
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  }
  const { ok, skipped } = availableStructures(opts.structures);
  for (const s of skipped) io.err(`note: skipping ${s.structure}: ${s.reason}\n`);
  if (ok.length === 0) throw new UsageError(`none of the requested structures can be measured (${skipped.map((s) => s.structure).join(', ')})`);
  const profile = PROFILES[opts.profile];
  // The profile's sections (calibrations, design space) come with its whole plan: all its scenarios, not an A/A.
  const unfiltered = !opts.aa && (profile.scenarios ?? SCENARIO_IDS).every((s) => opts.scenarios.includes(s));
  // --design-space is that section alone, with the named structures measured as its reference points.
  const ds = opts.designSpace ? FULL_DESIGN_SPACE : unfiltered ? profile.designSpace : undefined;
  const plan: RunPlan = {
    profile: opts.profile,
    seed: opts.seed,
    structures: ok,
    scenarios: opts.scenarios,
    processes: opts.processes ?? (opts.designSpace ? FULL_DESIGN_SPACE.processes : profile.processes),
    sweeps: opts.sweeps && !opts.designSpace,
    crossCheck: opts.crossCheck,
    aa: opts.aa,
    calibrations: unfiltered && !opts.designSpace ? profile.calibrations : [],
    designSpace: ds && resolveDesignSpace(ds, opts.scenarios),
    cpuFile,
  };
  const jobs = opts.jobs ?? profile.jobs;
  const specs = planJobs(plan);
  const context = machineContext(opts.profile, opts.seed);
  const filtered = ok.length < STRUCTURE_IDS.length || plan.scenarios.length < (profile.scenarios ?? SCENARIO_IDS).length;
  const frame: RunFrame = {
    context: {
      ...context,
      seeds: Object.fromEntries(plan.scenarios.map((s) => [s, scenarioSeed(plan.seed, s)])),
      runner: {
        jobs,
        launcher: 'pending',
        processes: plan.processes,
        tinybench: packageVersion('tinybench') ?? '?',
        benny: plan.crossCheck ? packageVersion('benny') : undefined,
      },
      modelCpu: cpuName,
    },
    scenarios: plan.scenarios.map((id) => ({
      id,
      description: SCENARIOS[id as ScenarioId].description(plan.profile),
      ramBytes: SCENARIOS[id as ScenarioId].ramBytes(plan.profile),
      seed: scenarioSeed(plan.seed, id),
    })),
    complete: false,
    plan: {
      structures: [...plan.structures],
      scenarios: [...plan.scenarios],
      filtered,
      sweeps: plan.sweeps,
      crossCheck: plan.crossCheck,
      processes: plan.processes,
      aa: plan.aa,
      calibrations: [...(plan.calibrations ?? [])],
      ...(plan.designSpace ? { designSpace: { ...plan.designSpace, points: [...plan.designSpace.points], scenarios: [...plan.designSpace.scenarios] } } : {}),
      ...(cpuFile ? { cpuFile } : {}),
      jobs,
      totalJobs: specs.length,
      doneJobs: 0,
    },
    skipped,
    failures: [],
  };
  out.create();
  return { dir, plan, frame, specs, jobs, priorSeconds: 0 };
}

function resumeSession(opts: BenchOptions): Session {
  const dir = resolve(opts.resume!);
  let results: Results;
  try {
    results = readResults(join(dir, RESULTS_FILE));
  } catch (e) {
    throw new UsageError(`cannot resume: ${e instanceof ResultsError ? e.message : String(e)}`);
  }
  const stored = results.plan;
  if (!stored) throw new UsageError(`cannot resume: ${dir} was not written by the benchmark runner (no plan)`);
  if (!isProfileName(results.context.profile)) throw new UsageError(`cannot resume: unknown profile ${results.context.profile}`);
  const plan: RunPlan = {
    profile: results.context.profile,
    seed: results.context.seed,
    structures: stored.structures,
    scenarios: stored.scenarios,
    processes: stored.processes,
    sweeps: stored.sweeps,
    crossCheck: stored.crossCheck,
    aa: stored.aa ?? false,
    calibrations: storedCalibrations(stored.calibrations),
    designSpace: stored.designSpace,
    cpuFile: stored.cpuFile,
  };
  const jobs = opts.jobs ?? stored.jobs;
  const specs = planJobs(plan);
  const { pairs: _p, sweeps: _s, fits: _f, schemaVersion: _v, metricDefs: _m, ...frame } = results;
  return {
    dir,
    plan,
    frame: { ...frame, failures: [], plan: { ...stored, jobs } },
    specs,
    jobs,
    priorSeconds: results.context.wallSeconds ?? 0,
  };
}

/** A stored plan's experiments: ids, or (results before 2026-12-03) whether all of them ran. */
function storedCalibrations(stored: boolean | readonly string[] | undefined): readonly string[] {
  if (stored === true) return CALIBRATIONS.map((c) => c.id);
  return stored || [];
}

/** A design-space section with its ids resolved: 'all' points are the family's 32, 'all' scenarios the run's. */
function resolveDesignSpace(ds: DesignSpacePlan, scenarios: readonly string[]): NonNullable<RunPlan['designSpace']> {
  return {
    points: ds.points === 'all' ? [...FAMILY_IDS] : ds.points,
    scenarios: ds.scenarios === 'all' ? scenarios : ds.scenarios.filter((s) => scenarios.includes(s)),
    processes: ds.processes,
  };
}

function labelOf(spec: JobSpec): string {
  if (spec.kind === 'timing') return `${spec.structure} × ${spec.scenario} (process ${spec.process}${spec.half ? `, half ${spec.half}` : ''})`;
  if (spec.kind === 'exact') return `${spec.structure} × ${spec.scenario} (exact and model)`;
  return `${spec.structure} × sweep point ${spec.folios} folios on ${formatBytes(spec.ramBytes)}`;
}

function scenarioOf(spec: JobSpec): string {
  return spec.kind === 'sweep' ? `sweep-${spec.folios}-${spec.ramBytes}` : spec.scenario;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
}

/** Runs (or resumes) a benchmark; returns the exit code. Throws UsageError on bad input, before measuring anything. */
export async function runBench(opts: BenchOptions, io: RunIo = defaultIo): Promise<number> {
  const session = opts.resume ? resumeSession(opts) : newSession(opts, io);
  const { dir, specs } = session;
  const lock = lockRun(dir);
  try {
    return await runSession(session, lock, opts, io);
  } finally {
    lock.release();
  }
}

/** The job outputs in plan order (the order the processes were meant to run). */
function inPlanOrder(specs: readonly JobSpec[], outputs: ReadonlyMap<string, JobOutput>): JobOutput[] {
  return specs.map((s) => outputs.get(s.id)).filter((o): o is JobOutput => o !== undefined);
}

async function runSession(session: Session, lock: RunLock, opts: BenchOptions, io: RunIo): Promise<number> {
  const { dir, specs } = session;
  const started = Date.now();
  const planned = new Set(specs.map((s) => s.id));
  const outputs = new Map<string, JobOutput>();
  for (const o of readJobOutputs(dir)) if (planned.has(o.id)) outputs.set(o.id, o);
  const failures: NonNullable<Results['failures']> = [];
  let launcherMode = session.frame.context.runner?.launcher ?? 'pending';
  let pinned = session.frame.context.runner?.pinned ?? false;
  /** The CPUs of the job slots not running a job (none when jobs are not pinned). */
  const freeCpus: number[] = [];

  const frameNow = (): RunFrame => {
    const all = inPlanOrder(specs, outputs);
    const timed = all.filter((o) => o.kind !== 'exact');
    const scenarios = session.frame.scenarios.map((s) => {
      const any = all.find((o) => o.kind !== 'sweep' && o.scenario === s.id);
      return any ? { ...s, folios: any.folios } : s;
    });
    return {
      ...session.frame,
      context: {
        ...session.frame.context,
        timer: timed.length
          ? { provider: 'hrtimeNow', callNs: median(timed.map((o) => o.timer.callNs)), regionNs: median(timed.map((o) => o.timer.regionNs)) }
          : session.frame.context.timer,
        runner: session.frame.context.runner && { ...session.frame.context.runner, jobs: session.jobs, launcher: launcherMode, pinned },
        calibration: calibrationOf(all),
        peakRssBytes: {
          job: Math.max(0, session.frame.context.peakRssBytes?.job ?? 0, ...all.map((o) => o.maxRssBytes)),
          runner: Math.max(session.frame.context.peakRssBytes?.runner ?? 0, process.resourceUsage().maxRSS * 1024),
        },
        wallSeconds: session.priorSeconds + (Date.now() - started) / 1000,
      },
      scenarios,
      complete: outputs.size === specs.length,
      plan: session.frame.plan && { ...session.frame.plan, totalJobs: specs.length, doneJobs: outputs.size },
      failures,
    };
  };
  /** Writes results.json and summary.csv; schema-checked on the last write (checking after every job costs the jobs CPU). */
  const save = (final = false): Results => {
    const results = assembleResults(frameNow(), inPlanOrder(specs, outputs));
    writeResults(dir, results, final);
    writeAtomic(join(dir, SUMMARY_FILE), toCsv(summaryRows(results)));
    savedAt = Date.now();
    return results;
  };
  let savedAt = 0;
  /**
   * The results so far, for a look while the run goes on: at most every
   * SAVE_INTERVAL_MS. Assembling 10^3 job outputs takes ~0.2 s of a core the
   * jobs share; after every job that was a tenth of a default run. The job
   * outputs are on disk as each job ends, and a resume rebuilds from them.
   */
  const saveNowAndThen = () => {
    if (Date.now() - savedAt >= SAVE_INTERVAL_MS) save();
  };

  save();
  const todo = specs.filter((s) => !outputs.has(s.id));
  io.out(
    `kho-bench: ${session.plan.profile} profile, seed ${session.plan.seed}, ${session.plan.structures.length} structures × ` +
      `${session.plan.scenarios.length} scenarios × ${session.plan.processes} processes${session.plan.aa ? ' × 2 (A/A)' : ''}, ` +
      `${specs.length} jobs${outputs.size ? ` (${outputs.size} already done)` : ''}, ${session.jobs} at a time\n  -> ${dir}\n`,
  );

  let launcher: JobLauncher | undefined;
  let interrupted: string | undefined;
  const running = new Set<RunningJob>();
  const stop = (why: string) => {
    if (interrupted) process.exit(130);
    interrupted = why;
    for (const r of running) r.kill();
  };
  const onSignal = () => stop('interrupted');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The wrapper that started this runner (npm, tsx) died: nobody sees this run any more.
  const orphanWatch = setInterval(() => {
    if (lock.orphaned()) stop('the process that started this run is gone');
  }, 1000);
  orphanWatch.unref();
  const totalWeight = specs.reduce((a, s) => a + jobWeight(s), 0);
  const doneWeight = specs.filter((s) => outputs.has(s.id)).reduce((a, s) => a + jobWeight(s), 0);
  const progress = createProgress(io.tty, specs.length, totalWeight, outputs.size, doneWeight);
  try {
    if (todo.length) {
      launcher = await prepareLauncher();
      launcherMode = launcher.mode;
      freeCpus.push(...cpusToPin(session.jobs));
      pinned = freeCpus.length > 0;
      if (launcher.mode === 'tsx') progress.note('note: esbuild unavailable, job processes start through tsx (slower start)');
      await new Promise<void>((done) => {
        const queue = [...todo];
        const pump = () => {
          while (!interrupted && running.size < session.jobs && queue.length) start(queue.shift()!);
          if (running.size === 0 && (interrupted || queue.length === 0)) done();
        };
        const start = (spec: JobSpec) => {
          const t0 = Date.now();
          const cpu = freeCpus.shift();
          const job = launchJob(spec, launcher!, cpu);
          running.add(job);
          void job.done.then((outcome) => {
            if (cpu !== undefined) freeCpus.push(cpu);
            running.delete(job);
            if (!interrupted) {
              const seconds = (Date.now() - t0) / 1000;
              let ok = false;
              if (outcome.ok) {
                const parsed = JobOutput.safeParse(outcome.output);
                if (parsed.success) {
                  outputs.set(spec.id, parsed.data);
                  writeJobOutput(dir, parsed.data);
                  ok = true;
                } else {
                  outcome = { ok: false, message: `malformed job output: ${parsed.error.issues[0]?.message}`, killed: false };
                }
              }
              if (!outcome.ok) {
                failures.push({ job: spec.id, structure: spec.structure, scenario: scenarioOf(spec), message: outcome.message });
                progress.note(`FAILED ${labelOf(spec)}: ${outcome.message}`);
              }
              progress.done(labelOf(spec), jobWeight(spec), seconds, ok);
            }
            // The next job first: the bookkeeping below would otherwise leave its slot idle.
            pump();
            if (!interrupted) saveNowAndThen();
          });
        };
        pump();
      });
    }
  } finally {
    clearInterval(orphanWatch);
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    launcher?.cleanup();
  }
  const results = save(true);
  const resultsFile = join(dir, RESULTS_FILE);
  if (interrupted) {
    io.err(`${interrupted}: ${outputs.size} of ${specs.length} jobs are in ${resultsFile}; continue with: npm run bench -- --resume ${dir}\n`);
    return 130;
  }
  io.out(`\n${summaryTables(results)}\n`);
  const notes = [results.context.calibration?.warning, ...results.pairs.flatMap((p) => (p.warnings ?? []).map((w) => `${p.structure} × ${p.scenario}: ${w}`))];
  for (const n of notes.filter(Boolean)) io.err(`warning: ${n}\n`);
  io.out(`results: ${resultsFile}\nsummary: ${join(dir, SUMMARY_FILE)}\n`);
  let code = 0;
  if (session.plan.aa) code = reportAa(inPlanOrder(specs, outputs), opts.failOnRegression, io);
  await writeReport(resultsFile, opts.report, io);
  if (failures.length) {
    io.err(`${failures.length} job(s) failed; see "failures" in ${resultsFile}\n`);
    return 1;
  }
  return code;
}

/** Prints the A/A comparison of the two halves; 1 if --fail-on-regression is given and a flagged change exceeds it. */
function reportAa(outputs: readonly JobOutput[], failPct: number | undefined, io: RunIo): number {
  const { rows, summary } = compareHalves(outputs);
  io.out(`${summary.message}\n`);
  // A derived metric follows its bases (adjustFamily): listing it again would repeat their finding.
  const flagged = rows.filter((r) => r.comparison.kind === 'timing' && r.comparison.flagged && !r.comparison.derivedFrom);
  for (const r of flagged) {
    const c = r.comparison as Extract<typeof r.comparison, { kind: 'timing' }>;
    io.out(`  flagged: ${r.structure} × ${r.scenario} ${r.metric}: ${(100 * c.change.value).toFixed(1)}% (p adj ${c.pAdjusted.toPrecision(2)})\n`);
  }
  if (failPct === undefined) return 0;
  const over = flagged.filter((r) => r.comparison.kind === 'timing' && Math.abs(r.comparison.change.value) * 100 > failPct);
  if (over.length) io.err(`${over.length} flagged timing metric(s) differ by more than ${failPct}% between the halves of an A/A run\n`);
  return over.length ? 1 : 0;
}

/**
 * Writes the HTML report (with --skip-report, only the other tools' export,
 * benchmarks.json, and the run index). A report that fails is said in one
 * line and loses nothing: the results are already on disk.
 */
async function writeReport(resultsFile: string, html: boolean, io: RunIo): Promise<void> {
  try {
    if (html) {
      io.out(`report: ${await writeRunReport(resultsFile)}\n`);
      return;
    }
    io.out(`benchmarks: ${await writeBenchmarkJson(resultsFile)}\n`);
    const root = dirname(dirname(resultsFile));
    if (basename(root) === 'reports') await writeIndex(root);
  } catch (e) {
    io.err(`report: not written: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  }
}
