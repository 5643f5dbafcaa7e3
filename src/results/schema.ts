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
});
export type MachineContext = z.infer<typeof MachineContext>;

/** Machine-independent counts from an instrumented (untimed) run. */
export const TouchCounts = z.object({
  pagesPerPreserve: z.number(),
  linesPerPreserve: z.number(),
  pagesPerRestoredFolio: z.number(),
  linesPerRestoredFolio: z.number(),
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
});
export type SweepPoint = z.infer<typeof SweepPoint>;

/** A fitted growth exponent: cost ~ x^exponent over a sweep. */
export const SweepFit = z.object({
  structure: z.string(),
  axis: z.enum(['folios', 'ram']),
  metric: z.string(),
  exponent: z.number(),
  r2: z.number(),
});

export const Results = z.object({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  context: MachineContext,
  scenarios: z.array(z.object({ id: z.string(), description: z.string(), ramBytes: z.number() })),
  pairs: z.array(PairResult),
  sweeps: z.array(SweepPoint),
  fits: z.array(SweepFit),
  /** True once every planned measurement has been written. */
  complete: z.boolean(),
});
export type Results = z.infer<typeof Results>;
