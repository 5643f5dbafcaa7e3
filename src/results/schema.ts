/**
 * The results file of one benchmark run (schema version 1), validated with
 * zod wherever it is read. One run = machine context + one record per
 * (structure, scenario) measured, plus the scaling sweeps.
 *
 * Every time is in nanoseconds or milliseconds as its name says; every
 * estimate carries its 95% confidence interval and sample count, so that
 * the report can say "no clear winner" where intervals overlap.
 */
import { z } from 'zod';

export const RESULTS_SCHEMA_VERSION = 1;

/** A point estimate with its 95% confidence interval. */
export const Estimate = z.object({
  value: z.number(),
  ciLow: z.number(),
  ciHigh: z.number(),
  samples: z.number().int().nonnegative(),
});
export type Estimate = z.infer<typeof Estimate>;

/** Per-batch latencies (ns per folio), for tails and distribution plots. */
export const Distribution = z.object({
  p50: z.number(),
  p99: z.number(),
  min: z.number(),
  max: z.number(),
  /** The raw per-batch values, ns per folio (capped in number for file size). */
  batches: z.array(z.number()),
});
export type Distribution = z.infer<typeof Distribution>;

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
  /** Added (optional): the seed of each scenario's workload, derived from `seed` and the scenario id. */
  seeds: z.record(z.string(), z.number().int()).optional(),
  /** Added (optional): timer overhead as measured in the jobs (median over jobs), ns. */
  timer: z.object({ provider: z.string(), callNs: z.number(), regionNs: z.number() }).optional(),
  /** Added (optional): how the jobs were run. */
  runner: z
    .object({
      /** Jobs run at once. */
      jobs: z.number().int(),
      /** 'bundle' (esbuild, plain node) or 'tsx'. */
      launcher: z.string(),
      repetitions: z.number().int(),
      tinybench: z.string(),
      benny: z.string().optional(),
    })
    .optional(),
  /** Added (optional): largest resident memory of any one job process, and of the runner. */
  peakRssBytes: z.object({ job: z.number(), runner: z.number() }).optional(),
  /** Added (optional): wall time of the run so far, seconds. */
  wallSeconds: z.number().optional(),
});
export type MachineContext = z.infer<typeof MachineContext>;

/** Machine-independent counts from an instrumented (untimed) run. */
export const TouchCounts = z.object({
  pagesPerPreserve: z.number(),
  linesPerPreserve: z.number(),
  pagesPerRestoredFolio: z.number(),
  linesPerRestoredFolio: z.number(),
  /** Added (optional): distinct pages and lines the whole restore touched (metadata read). */
  restorePages: z.number().optional(),
  restoreLines: z.number().optional(),
});

export const PairResult = z.object({
  structure: z.string(),
  scenario: z.string(),
  ramBytes: z.number(),
  folios: z.number().int(),
  preservedBytes: z.number(),
  preserveNsPerFolio: Estimate,
  preserveBatches: Distribution,
  unpreserveNsPerFolio: Estimate,
  unpreserveBatches: Distribution,
  serializeMs: Estimate,
  serializeBytes: z.number(),
  serializePages: z.number(),
  restoreMs: Estimate,
  restoreNsPerFolio: Estimate,
  /** The bare walk without the memblock-like table. */
  restoreWalkMs: Estimate,
  restoreMetadataObjects: z.number(),
  restoreMetadataBytes: z.number(),
  blackoutMs: Estimate,
  metadataBytesHandover: z.number(),
  metadataPagesHandover: z.number(),
  metadataBytesPeak: z.number(),
  metadataPagesPeak: z.number(),
  touches: TouchCounts.optional(),
  /** benny (benchmark.js) re-measurement of preserve latency, with --cross-check. */
  crossCheck: z.object({ preserveNsPerFolio: Estimate, engine: z.string() }).optional(),
  // --- Added (optional) in the runner; derivable from the fields above or informative only.
  /** Repetitions (separate processes) pooled into the estimates. */
  repetitions: z.number().int().optional(),
  /** Folios per timed batch. */
  batchSize: z.object({ preserve: z.number(), unpreserve: z.number() }).optional(),
  /** Timer overhead / batch duration at the fastest batch (the worst case; the rule is < 1%). */
  timerOverheadFraction: z.object({ preserve: z.number(), unpreserve: z.number() }).optional(),
  /** Bare walk per restored folio. */
  restoreWalkNsPerFolio: Estimate.optional(),
  /** metadataBytesHandover per preserved folio, and per GiB preserved. */
  metadataBytesPerFolio: z.number().optional(),
  metadataBytesPerGiB: z.number().optional(),
  /** The memblock-like table after one restore. */
  memblock: z
    .object({
      reserves: z.number(),
      regions: z.number(),
      outOfOrder: z.number(),
      moved: z.number(),
      merged: z.number(),
      doublings: z.number(),
    })
    .optional(),
  /** Largest resident memory of the pair's job processes. */
  hostMaxRssBytes: z.number().optional(),
});
export type PairResult = z.infer<typeof PairResult>;

/** One point of a scaling sweep. */
export const SweepPoint = z.object({
  structure: z.string(),
  /** 'folios': cost against preserved folios; 'ram': against RAM size. */
  axis: z.enum(['folios', 'ram']),
  x: z.number(),
  preserveNsPerFolio: z.number(),
  restoreMs: z.number(),
  serializeMs: z.number(),
  metadataBytesHandover: z.number(),
  // --- Added (optional).
  /** Folios preserved and RAM size at this point. */
  folios: z.number().optional(),
  ramBytes: z.number().optional(),
  /** The estimates behind the plain numbers above. */
  preserve: Estimate.optional(),
  restore: Estimate.optional(),
  serialize: Estimate.optional(),
});
export type SweepPoint = z.infer<typeof SweepPoint>;

/** A fitted growth exponent: cost ~ x^exponent over a sweep. */
export const SweepFit = z.object({
  structure: z.string(),
  axis: z.enum(['folios', 'ram']),
  metric: z.string(),
  exponent: z.number(),
  r2: z.number(),
  /** Added (optional): points the fit used. */
  points: z.number().int().optional(),
});

export const Results = z.object({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  context: MachineContext,
  scenarios: z.array(
    z.object({
      id: z.string(),
      description: z.string(),
      ramBytes: z.number(),
      /** Added (optional): folios live at hand-over, and the workload's seed. */
      folios: z.number().optional(),
      seed: z.number().int().optional(),
    }),
  ),
  pairs: z.array(PairResult),
  sweeps: z.array(SweepPoint),
  fits: z.array(SweepFit),
  /** True once every planned measurement has been written. */
  complete: z.boolean(),
  // --- Added (optional) by the runner.
  /** What the run set out to measure (used by --resume). */
  plan: z
    .object({
      structures: z.array(z.string()),
      scenarios: z.array(z.string()),
      sweeps: z.boolean(),
      crossCheck: z.boolean(),
      repetitions: z.number().int(),
      jobs: z.number().int(),
      totalJobs: z.number().int(),
      doneJobs: z.number().int(),
    })
    .optional(),
  /** Structures requested but not measured (e.g. not implemented yet). */
  skipped: z.array(z.object({ structure: z.string(), reason: z.string() })).optional(),
  /** Jobs that failed (a restore that did not match is one). */
  failures: z
    .array(z.object({ job: z.string(), structure: z.string(), scenario: z.string().optional(), message: z.string() }))
    .optional(),
});
export type Results = z.infer<typeof Results>;
