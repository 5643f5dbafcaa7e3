/**
 * benchmarks.json: a run in Google Benchmark's JSON output format, so that
 * its tools (tools/compare.py) and continuous-benchmarking services that
 * read that format can read a kho-bench run.
 *
 * One benchmark per structure, scenario (or sweep point) and time metric,
 * named "<structure>/<scenario>/<metric>" with the metric's summary.csv
 * name:
 *  - a measured metric: one "iteration" entry per process (repetitions = n,
 *    repetition_index = the process), then the "aggregate" entries
 *    <name>_mean, _median, _stddev and _cv (the cv with aggregate_unit
 *    "percentage", as a fraction, as Google Benchmark writes it);
 *  - a model time: one "iteration" entry (repetitions 1), deterministic,
 *    labelled with the model CPU.
 * Exact counts (bytes, pages, lines) and the model's DRAM accesses are not
 * times: compare.py would read any real_time as one, so they stay in
 * summary.csv. cpu_time repeats real_time (the suite measures wall time,
 * in one thread), and iterations is 1 (each process contributes one
 * estimate).
 */
import type { MetricValue, Results } from '../results/schema.ts';
import { PAIR_METRICS, designPointsOf, findPair, kindOf, modelCpuName, scenariosOf, structuresOf, unitOf } from './metrics.ts';

export const BENCHMARKS_JSON = 'benchmarks.json';

export interface GbContext {
  date: string;
  host_name: string;
  executable: string;
  num_cpus: number;
  mhz_per_cpu: number;
  cpu_scaling_enabled: boolean;
  caches: { type: string; level: number; size: number; num_sharing: number }[];
  load_avg: number[];
  library_build_type: 'release';
  /** Custom context (Google Benchmark's --benchmark_context=key=value): strings. */
  [custom: `kho_bench_${string}`]: string;
}

export interface GbBenchmark {
  name: string;
  family_index: number;
  per_family_instance_index: number;
  run_name: string;
  run_type: 'iteration' | 'aggregate';
  repetitions: number;
  repetition_index?: number;
  threads: number;
  aggregate_name?: 'mean' | 'median' | 'stddev' | 'cv';
  aggregate_unit?: 'time' | 'percentage';
  iterations: number;
  real_time: number;
  cpu_time: number;
  time_unit: 'ns' | 'ms';
  label?: string;
}

export interface GbDocument {
  context: GbContext;
  benchmarks: GbBenchmark[];
}

function mhzOf(results: Results): number {
  const given = results.context.host?.mhzPerCpu;
  if (given !== undefined) return Math.round(given);
  // "… @ 2.45GHz" in the CPU's model name is the nominal frequency.
  const m = /@\s*([\d.]+)\s*GHz/i.exec(results.context.cpuModel);
  return m ? Math.round(Number(m[1]) * 1000) : 0;
}

function stats(xs: readonly number[]): { mean: number; median: number; sd: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sorted = [...xs].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, median, sd };
}

export function googleBenchmarkJson(results: Results): GbDocument {
  const c = results.context;
  const cpu = modelCpuName(results);
  const context: GbContext = {
    date: c.date,
    host_name: c.host?.name ?? 'unknown',
    executable: `kho-bench ${c.gitCommit.slice(0, 12)} (Node.js ${c.node})`,
    num_cpus: c.cores,
    mhz_per_cpu: mhzOf(results),
    cpu_scaling_enabled: c.host?.cpuScalingEnabled ?? false,
    caches: (c.host?.caches ?? []).map((k) => ({ type: k.type, level: k.level, size: k.size, num_sharing: k.numSharing })),
    load_avg: [],
    library_build_type: 'release',
    kho_bench_profile: c.profile,
    kho_bench_commit: c.gitCommit,
    kho_bench_schema_version: String(results.schemaVersion),
    kho_bench_complete: String(results.complete),
    kho_bench_cpu_model: c.cpuModel,
    ...(c.modelCpu ? { kho_bench_model_cpu: c.modelCpu } : {}),
    ...(c.calibration?.warning ? { kho_bench_host_warning: c.calibration.warning } : {}),
  };
  const benchmarks: GbBenchmark[] = [];
  let family = 0;
  const emit = (structure: string, scenario: string, metrics: Record<string, MetricValue>) => {
    for (const def of PAIR_METRICS) {
      const m = metrics[def.name];
      const unit = unitOf(def.name);
      const timeUnit: GbBenchmark['time_unit'] | undefined = unit === 'ns' ? 'ns' : unit === 'ms' ? 'ms' : undefined;
      if (!m || !timeUnit) continue;
      const name = `${structure}/${scenario}/${def.name}`;
      const base = { family_index: family++, per_family_instance_index: 0, run_name: name, threads: 1, time_unit: timeUnit };
      if (kindOf(def.name, m) === 'measured') {
        const xs = m.perProcess && m.perProcess.length ? m.perProcess : [m.value];
        xs.forEach((x, i) =>
          benchmarks.push({ name, ...base, run_type: 'iteration', repetitions: xs.length, repetition_index: i, iterations: 1, real_time: x, cpu_time: x }),
        );
        if (xs.length < 2) continue;
        const s = stats(xs);
        const aggregates: [NonNullable<GbBenchmark['aggregate_name']>, number, NonNullable<GbBenchmark['aggregate_unit']>][] = [
          ['mean', s.mean, 'time'],
          ['median', s.median, 'time'],
          ['stddev', s.sd, 'time'],
          ['cv', s.mean > 0 ? s.sd / s.mean : 0, 'percentage'],
        ];
        for (const [agg, v, aggUnit] of aggregates) {
          benchmarks.push({ name: `${name}_${agg}`, ...base, run_type: 'aggregate', repetitions: xs.length, aggregate_name: agg, aggregate_unit: aggUnit, iterations: xs.length, real_time: v, cpu_time: v });
        }
      } else {
        benchmarks.push({ name, ...base, run_type: 'iteration', repetitions: 1, repetition_index: 0, iterations: 1, real_time: m.value, cpu_time: m.value, label: `model, ${cpu}` });
      }
    }
  };
  // The family's points too: the section's figures are the run's like any other.
  for (const st of [...structuresOf(results), ...designPointsOf(results)]) {
    for (const sc of scenariosOf(results)) {
      const p = findPair(results, st, sc);
      if (p) emit(st, sc, p.metrics);
    }
    for (const s of results.sweeps.filter((x) => x.structure === st)) emit(st, `sweep-${s.axis}-${s.x}`, s.metrics);
  }
  return { context, benchmarks };
}
