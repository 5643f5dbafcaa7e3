/**
 * `npm run kho -- time`: times a user's own workload (an operations file,
 * src/measure/ops-file.ts) the way the benchmark times a scenario: the same
 * timing jobs, each in a fresh process (the process is the unit of
 * replication), and one exact job for the deterministic figures and the
 * machine model. Prints one JSON object per structure on stdout.
 *
 * Each time is {mean, ci_low, ci_high, processes}: the mean of the
 * per-process estimates and its 95% t-interval over processes (never below
 * zero). Exact counts are plain numbers; the model's figures are under
 * `model`, with the CPU they model.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, joinNegativeValues } from '../src/cli/guard.ts';
import { readTextInput } from '../src/cli/input-file.ts';
import { parseRam } from '../src/cli/sizes.ts';
import { checkBanks } from '../src/kexec/dump.ts';
import { type Op, parseOps } from '../src/measure/ops-file.ts';
import { DEFAULT_CPU } from '../src/model/cpu.ts';
import { loadCpu } from '../src/model/cpu-file.ts';
import { PhysMem } from '../src/ram/phys-mem.ts';
import { assemblePair } from '../src/results/assemble.ts';
import { type CustomWorkload, type ExactJobOutput, type JobSpec, JobOutput, type TimingJobOutput } from '../src/results/job.ts';
import type { MetricValue, PairResult } from '../src/results/schema.ts';
import { STRUCTURE_IDS, checkFolio } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';
import { prepareLauncher } from './jobs/bundle.ts';
import { launchJob } from './jobs/launch.ts';

const TIME_USAGE = 'npm run kho -- time --structure <id> | --structures <ids|all> --ops <file> [--ram <size>] [--processes N] [--cpu <file.json>]';

/** Traces of millions of operations: a text line is ~30 bytes. */
const MAX_TRACE_BYTES = 512 * 2 ** 20;
const DEFAULT_PROCESSES = 5;

const TIMES = ['preserve_ns_per_folio', 'unpreserve_ns_per_folio', 'serialize_ms', 'restore_ns_per_folio', 'restore_walk_ns_per_folio', 'blackout_ms'];
const EXACT = [
  'metadata_bytes_handover',
  'metadata_bytes_peak',
  'pages_per_preserve',
  'lines_per_preserve',
  'pages_per_restored_folio',
  'lines_per_restored_folio',
  'lost_folios',
];
const MODEL = [
  'preserve_model_ns',
  'unpreserve_model_ns',
  'serialize_model_ms',
  'restore_model_ns_per_folio',
  'restore_walk_model_ns_per_folio',
  'blackout_model_ms',
  'dram_per_preserve',
  'dram_per_restored_folio',
];

/** Every operation checked as the tracker API checks it, with the index of the first bad one. */
function checkOps(ops: readonly Op[], mem: PhysMem, path: string): void {
  ops.forEach((op, i) => {
    try {
      if (op.kind !== 'range') checkFolio(mem, op.phys, op.arg);
      else if (op.phys % 4096 || op.arg % 4096 || !mem.contains(op.phys, op.arg)) throw new Error(`range 0x${op.phys.toString(16)}+0x${op.arg.toString(16)} is not page-aligned RAM`);
    } catch (e) {
      throw new UsageError(`${path}: operation ${i + 1}: ${(e as Error).message.replace(/^\w+: /, '')}`);
    }
  });
}

function timeJson(m: MetricValue | undefined): Record<string, number> | undefined {
  if (!m) return undefined;
  return { mean: m.value, ci_low: m.ciLow ?? m.value, ci_high: m.ciHigh ?? m.value, processes: m.processes ?? 1 };
}

/** The printed object of one structure. */
export function timeReport(pair: PairResult, cpu: string): Record<string, unknown> {
  const pick = (names: readonly string[], f: (m: MetricValue) => unknown) =>
    Object.fromEntries(names.filter((n) => pair.metrics[n]).map((n) => [n, f(pair.metrics[n])]));
  return {
    structure: pair.structure,
    folios: pair.folios,
    ...pick(TIMES, timeJson),
    ...pick(EXACT, (m) => m.value),
    model: { cpu, ...pick(MODEL, (m) => m.value) },
    ...(pair.unavailable ? { unavailable: pair.unavailable } : {}),
    ...(pair.warnings ? { warnings: pair.warnings } : {}),
  };
}

async function runJob(spec: JobSpec, launcher: Awaited<ReturnType<typeof prepareLauncher>>): Promise<JobOutput> {
  const outcome = await launchJob(spec, launcher).done;
  if (!outcome.ok) throw new UsageError(`${spec.structure}: ${outcome.message.split('\n')[0]}`);
  const parsed = JobOutput.safeParse(outcome.output);
  if (!parsed.success) throw new Error(`malformed job output: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function runTime(args: readonly string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: joinNegativeValues([...args]),
    options: {
      structure: { type: 'string' },
      structures: { type: 'string' },
      ops: { type: 'string' },
      ram: { type: 'string', default: '64G' },
      processes: { type: 'string' },
      cpu: { type: 'string' },
    },
  });
  if (!values.ops || (!values.structure && !values.structures)) throw new UsageError(`time needs --structure (or --structures) and --ops: ${TIME_USAGE}`);
  const wanted = values.structures === 'all' ? [...STRUCTURE_IDS] : (values.structures ?? values.structure!).split(',').map((s) => s.trim());
  for (const id of wanted) {
    try {
      structureSpec(id);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const processes = values.processes === undefined ? DEFAULT_PROCESSES : Number(values.processes);
  if (!Number.isInteger(processes) || processes < 1 || processes > 100) {
    throw new UsageError(`--processes must be an integer from 1 to 100, got "${values.processes}"`);
  }
  let cpuName = DEFAULT_CPU.name;
  const cpuFile = values.cpu === undefined ? undefined : resolve(values.cpu);
  if (cpuFile) {
    try {
      cpuName = loadCpu(cpuFile).name;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const banks = checkBanks(parseRam(values.ram), '--ram');
  const opsFile = resolve(values.ops);
  const ops = parseOps(await readTextInput(opsFile, { maxBytes: MAX_TRACE_BYTES, why: 'a trace of about 15 million operations' }), values.ops);
  if (ops.length === 0) throw new UsageError(`${values.ops} holds no operations`);
  checkOps(ops, new PhysMem(banks), values.ops);

  const custom: CustomWorkload = { opsFile, banks };
  const launcher = await prepareLauncher();
  try {
    const timing = new Map<string, TimingJobOutput[]>(wanted.map((id) => [id, []]));
    const exact = new Map<string, ExactJobOutput>();
    const common = { scenario: 'custom', custom, profile: 'default', seed: 1 };
    for (let p = 1; p <= processes; p++) {
      // Interleaved: every structure's p-th process before any structure's (p+1)-th.
      for (const structure of wanted) {
        const o = await runJob({ kind: 'timing', id: `${structure}__custom__p${p}`, structure, process: p, crossCheck: false, ...common }, launcher);
        if (o.kind === 'timing') timing.get(structure)!.push(o);
      }
    }
    for (const structure of wanted) {
      const o = await runJob({ kind: 'exact', id: `${structure}__custom__exact`, structure, cpuFile, ...common }, launcher);
      if (o.kind === 'exact') exact.set(structure, o);
    }
    for (const structure of wanted) out(`${JSON.stringify(timeReport(assemblePair(timing.get(structure)!, exact.get(structure)), cpuName))}\n`);
  } finally {
    launcher.cleanup();
  }
  return 0;
}
