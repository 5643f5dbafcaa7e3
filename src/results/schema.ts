/**
 * The results file of one benchmark run (schema version 2), validated with
 * zod wherever it is read. One run = machine context + one record per
 * (structure, scenario) measured, plus the scaling sweeps.
 *
 * A pair's figures are one map, `metrics`, keyed by the metric names of
 * src/results/metrics.ts (the names of summary.csv), so that every reader
 * finds a metric under one name. A measured metric (a time) carries the
 * estimate of each process that measured it, their mean, a 95% interval
 * computed from them (the process is the unit of replication) and their
 * spread; exact and model metrics carry a value only. A metric a structure
 * cannot have (an operation its kernel lacks, a scenario its format cannot
 * represent) is absent from `metrics` and listed in `unavailable` with the
 * reason.
 *
 * Every time is in nanoseconds or milliseconds as its name says.
 */
import { z } from 'zod';

export const RESULTS_SCHEMA_VERSION = 2;

/** A point estimate with its 95% confidence interval and the number of samples (processes) behind it. */
export const Estimate = z.object({
  value: z.number(),
  ciLow: z.number(),
  ciHigh: z.number(),
  samples: z.number().int().nonnegative(),
});
export type Estimate = z.infer<typeof Estimate>;

/** Tukey's fences over the per-process values: how many lie beyond 1.5 and 3 interquartile ranges. */
export const OutlierCounts = z.object({
  lowSevere: z.number().int(),
  lowMild: z.number().int(),
  highMild: z.number().int(),
  highSevere: z.number().int(),
});

/** One metric of one pair. */
export const MetricValue = z.object({
  value: z.number(),
  /** measured: the 95% interval of the mean over processes (never below zero for a time). */
  ciLow: z.number().optional(),
  ciHigh: z.number().optional(),
  /** measured: processes that measured it, and each one's estimate (in process order). */
  processes: z.number().int().optional(),
  perProcess: z.array(z.number()).optional(),
  /** measured: between-process coefficient of variation (sd / mean). */
  cv: z.number().optional(),
  outliers: OutlierCounts.optional(),
});
export type MetricValue = z.infer<typeof MetricValue>;

/** Per-batch latencies (ns per folio) pooled over processes, for tails and distribution plots. */
export const Distribution = z.object({
  p50: z.number(),
  p99: z.number(),
  min: z.number(),
  max: z.number(),
  /** Evenly spaced order statistics of the batch values (capped in number for file size). */
  batches: z.array(z.number()),
});
export type Distribution = z.infer<typeof Distribution>;

/** The machine model's figures of one kind of operation, per operation (or per folio where said). */
export const ModelFigures = z.object({
  /** Operations (or folios) the figures are averaged over. */
  ops: z.number(),
  l1: z.number(),
  l2: z.number(),
  llc: z.number(),
  dram: z.number(),
  tlbMisses: z.number(),
  /** Longest dependent chain (dependency steps) of any one operation. */
  maxChain: z.number(),
  /** Mean dependency steps per operation. */
  chain: z.number(),
  atomics: z.number(),
  instructions: z.number(),
  ns: z.number(),
});
export type ModelFigures = z.infer<typeof ModelFigures>;

export const MachineContext = z.object({
  cpuModel: z.string(),
  cores: z.number().int(),
  memoryBytes: z.number(),
  platform: z.string(),
  node: z.string(),
  v8: z.string(),
  gitCommit: z.string(),
  date: z.string(),
  profile: z.enum(['smoke', 'default', 'full']),
  seed: z.number().int(),
  /** The seed of each scenario's workload, derived from `seed` and the scenario id. */
  seeds: z.record(z.string(), z.number().int()).optional(),
  /** Timer overhead as measured in the jobs (median over jobs), ns. */
  timer: z.object({ provider: z.string(), callNs: z.number(), regionNs: z.number() }).optional(),
  /** How the jobs were run. */
  runner: z
    .object({
      jobs: z.number().int(),
      /** 'bundle' (esbuild, plain node) or 'tsx'. */
      launcher: z.string(),
      /** Whether each job ran on a CPU of its own (bench/jobs/launch.ts, cpusToPin). */
      pinned: z.boolean().optional(),
      /** Fresh processes per (structure, scenario). */
      processes: z.number().int(),
      tinybench: z.string(),
      benny: z.string().optional(),
    })
    .optional(),
  /** The CPU the machine model models (its name; the parameters are in the model's file). */
  modelCpu: z.string().optional(),
  /** The calibration loop of every timing process: ns at its start and end, in the order the processes ran. */
  calibration: z
    .object({
      startNs: z.array(z.number()),
      endNs: z.array(z.number()),
      /** Set when the host slowed down during the run (or against a baseline): one line. */
      warning: z.string().optional(),
    })
    .optional(),
  /**
   * The host as Google Benchmark's JSON context describes it (benchmarks.json): os.hostname(),
   * the nominal MHz, whether the cpufreq governor scales the frequency, the caches (sysfs).
   */
  host: z
    .object({
      name: z.string(),
      mhzPerCpu: z.number().optional(),
      cpuScalingEnabled: z.boolean().optional(),
      caches: z.array(z.object({ type: z.string(), level: z.number().int(), size: z.number(), numSharing: z.number().int() })).optional(),
    })
    .optional(),
  /** Largest resident memory of any one job process, and of the runner. */
  peakRssBytes: z.object({ job: z.number(), runner: z.number() }).optional(),
  /** Wall time of the run so far, seconds. */
  wallSeconds: z.number().optional(),
});
export type MachineContext = z.infer<typeof MachineContext>;

export const PairResult = z.object({
  structure: z.string(),
  scenario: z.string(),
  ramBytes: z.number(),
  folios: z.number().int(),
  preservedBytes: z.number(),
  metrics: z.record(z.string(), MetricValue),
  /** Metrics this structure cannot have here, with the reason (e.g. "RFC v1 has no unpreserve"). */
  unavailable: z.record(z.string(), z.string()).optional(),
  /** One line each: spread above the threshold, outliers, a restore detail worth knowing. */
  warnings: z.array(z.string()).optional(),
  distributions: z.object({ preserve: Distribution.optional(), unpreserve: Distribution.optional() }).optional(),
  /** The machine model's per-operation figures. */
  model: z
    .object({
      preserve: ModelFigures.optional(),
      unpreserve: ModelFigures.optional(),
      finalize: ModelFigures.optional(),
      /** Per restored folio: the bare walk, and the walk with the kernel's per-folio work. */
      restoreWalk: ModelFigures.optional(),
      restore: ModelFigures.optional(),
    })
    .optional(),
  /** memblock.reserved after one restore. */
  memblock: z.record(z.string(), z.number()).optional(),
  /** Folios per timed batch, and the worst timer overhead / batch duration (the rule is < 1%). */
  batchSize: z.object({ preserve: z.number(), unpreserve: z.number() }).optional(),
  timerOverheadFraction: z.object({ preserve: z.number(), unpreserve: z.number() }).optional(),
  /** Largest resident memory of the pair's processes. */
  hostMaxRssBytes: z.number().optional(),
});
export type PairResult = z.infer<typeof PairResult>;

/** One point of a scaling sweep. */
export const SweepPoint = z.object({
  structure: z.string(),
  /** 'folios': cost against preserved folios; 'ram': against RAM size. */
  axis: z.enum(['folios', 'ram']),
  x: z.number(),
  folios: z.number(),
  ramBytes: z.number(),
  /** Keyed by metric name, as a pair's: preserve_ns_per_folio, serialize_ms, restore_ms, metadata_bytes_handover, the model's. */
  metrics: z.record(z.string(), MetricValue),
});
export type SweepPoint = z.infer<typeof SweepPoint>;

/** A fitted growth exponent: cost ~ x^exponent over a sweep. */
export const SweepFit = z.object({
  structure: z.string(),
  axis: z.enum(['folios', 'ram']),
  metric: z.string(),
  exponent: z.number(),
  /** 95% interval of the exponent (t on the slope); absent below 3 points. */
  ciLow: z.number().optional(),
  ciHigh: z.number().optional(),
  r2: z.number(),
  points: z.number().int(),
});
export type SweepFit = z.infer<typeof SweepFit>;

/** A metric's definition, copied into the file so that it reads without the code. */
export const MetricInfo = z.object({ kind: z.enum(['measured', 'exact', 'model']), unit: z.string(), description: z.string() });

/**
 * The machine model run on an experiment a kernel developer published a
 * figure for: built as closely as its description allows, never tuned.
 */
export const Calibration = z.object({
  id: z.string(),
  /** What was published, by whom and when, in one line. */
  source: z.string(),
  /** What had to be assumed to rebuild the experiment (folio orders, layout, which structure). */
  assumptions: z.array(z.string()),
  structure: z.string(),
  publishedMs: z.number(),
  modelMs: z.number(),
  /** modelMs / publishedMs. */
  ratio: z.number(),
});
export type Calibration = z.infer<typeof Calibration>;

export const Results = z.object({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  context: MachineContext,
  metricDefs: z.record(z.string(), MetricInfo),
  scenarios: z.array(
    z.object({
      id: z.string(),
      description: z.string(),
      ramBytes: z.number(),
      folios: z.number().optional(),
      seed: z.number().int().optional(),
    }),
  ),
  pairs: z.array(PairResult),
  sweeps: z.array(SweepPoint),
  fits: z.array(SweepFit),
  /** The machine model against the only published kernel figures. */
  calibrations: z.array(Calibration).optional(),
  /** True once every planned measurement has been written. */
  complete: z.boolean(),
  /** What the run set out to measure (used by --resume, and to say whether a run is partial or filtered). */
  plan: z
    .object({
      structures: z.array(z.string()),
      scenarios: z.array(z.string()),
      /** Whether the run asked for fewer structures or scenarios than the suite has. */
      filtered: z.boolean().optional(),
      sweeps: z.boolean(),
      crossCheck: z.boolean(),
      processes: z.number().int(),
      /** An A/A run: every timing job twice, interleaved, compared half against half. */
      aa: z.boolean().optional(),
      /** The machine model's CPU file, if not the default. */
      cpuFile: z.string().optional(),
      /** The published kernel experiments the model was run on (ids); `true` in results before 2026-12-03: all of them. */
      calibrations: z.union([z.boolean(), z.array(z.string())]).optional(),
      /** The design-space section: family points (structures/family) on scenarios; their pairs are in `pairs` under the point ids. */
      designSpace: z.object({ points: z.array(z.string()), scenarios: z.array(z.string()), processes: z.number().int() }).optional(),
      jobs: z.number().int(),
      totalJobs: z.number().int(),
      doneJobs: z.number().int(),
    })
    .optional(),
  /** Structures requested but not measured. */
  skipped: z.array(z.object({ structure: z.string(), reason: z.string() })).optional(),
  /** Jobs that failed (a restore that did not match is one). */
  failures: z
    .array(z.object({ job: z.string(), structure: z.string(), scenario: z.string().optional(), message: z.string() }))
    .optional(),
});
export type Results = z.infer<typeof Results>;
