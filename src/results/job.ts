/**
 * The raw output of one job: one (structure, scenario, repetition) or one
 * sweep point, measured in its own process. A run keeps one file per
 * finished job (jobs/<id>.json beside results.json); results.json and
 * summary.csv are derived from them, so that a run can be resumed and its
 * repetitions pooled. Validated with zod when read.
 */
import { z } from 'zod';

import { JOB_SCHEMA_VERSION } from './job-version.ts';

export { JOB_SCHEMA_VERSION };

/** A sample reduced for storage and pooling (see src/stats/summary.ts). */
export const SampleSummarySchema = z.object({
  n: z.number().int().nonnegative(),
  mean: z.number(),
  variance: z.number(),
  min: z.number(),
  max: z.number(),
  sketch: z.array(z.number()),
});

export const LatencyOutput = z.object({
  /** ns per folio, one sample per batch. */
  summary: SampleSummarySchema,
  batchSize: z.number().int(),
  passes: z.number().int(),
  overheadFractionP50: z.number(),
  overheadFractionMax: z.number(),
});
export type LatencyOutput = z.infer<typeof LatencyOutput>;

export const RepeatOutput = z.object({
  /** ms per call. */
  summary: SampleSummarySchema,
  callsPerSample: z.number().int(),
  overheadFraction: z.number(),
});
export type RepeatOutput = z.infer<typeof RepeatOutput>;

const Figures = z.object({ bytes: z.number(), pages: z.number() });

export const MemblockOutput = z.object({
  reserves: z.number(),
  regions: z.number(),
  outOfOrder: z.number(),
  moved: z.number(),
  merged: z.number(),
  doublings: z.number(),
  bytes: z.number(),
});

export const RestoreOutput = z.object({
  total: RepeatOutput,
  walk: RepeatOutput,
  folios: z.number().int(),
  metadataObjects: z.number(),
  metadataBytes: z.number(),
  memblock: MemblockOutput,
  /** Counting mode (pairs only). */
  touches: z
    .object({ pages: z.number(), lines: z.number(), pagesPerRestoredFolio: z.number(), linesPerRestoredFolio: z.number() })
    .optional(),
  /** Wall time of the worker's steps (rebuilding memory, timed restores, counting). */
  stepsMs: z.record(z.string(), z.number()).optional(),
});
export type RestoreOutput = z.infer<typeof RestoreOutput>;

const Timer = z.object({ callNs: z.number(), regionNs: z.number() });

const Common = {
  schemaVersion: z.literal(JOB_SCHEMA_VERSION),
  id: z.string(),
  structure: z.string(),
  ramBytes: z.number(),
  folios: z.number().int(),
  preservedBytes: z.number(),
  timer: Timer,
  /** Peak resident memory of the job's process (the restore worker included). */
  maxRssBytes: z.number(),
  wallMs: z.number(),
  /** CPU time of the job process (all its threads: JIT, GC, the restore worker), from its start. */
  cpuMs: z.number().optional(),
  /** Wall time of each step of the job (setup, preserve, ..., restore). */
  stepsMs: z.record(z.string(), z.number()).optional(),
};

export const PairJobOutput = z.object({
  kind: z.literal('pair'),
  ...Common,
  scenario: z.string(),
  rep: z.number().int(),
  preserve: LatencyOutput,
  unpreserve: LatencyOutput,
  serialize: RepeatOutput,
  serialized: Figures,
  built: Figures,
  atHandover: Figures,
  peak: Figures,
  restore: RestoreOutput,
  touches: z.object({ pagesPerPreserve: z.number(), linesPerPreserve: z.number() }).optional(),
  crossCheck: z
    .object({
      preserveNsPerFolio: z.object({ value: z.number(), ciLow: z.number(), ciHigh: z.number(), samples: z.number().int() }),
      engine: z.string(),
      inlineRebuilds: z.number().int(),
    })
    .optional(),
});
export type PairJobOutput = z.infer<typeof PairJobOutput>;

export const SweepJobOutput = z.object({
  kind: z.literal('sweep'),
  ...Common,
  /** The sweeps this point belongs to (a point can sit on both: their shared corner). */
  axes: z.array(z.enum(['folios', 'ram'])).min(1),
  preserve: LatencyOutput,
  serialize: RepeatOutput,
  atHandover: Figures,
  restore: RestoreOutput,
});
export type SweepJobOutput = z.infer<typeof SweepJobOutput>;

export const JobOutput = z.discriminatedUnion('kind', [PairJobOutput, SweepJobOutput]);
export type JobOutput = z.infer<typeof JobOutput>;

/** What a job process is asked to do. */
export interface PairJobSpec {
  readonly kind: 'pair';
  readonly id: string;
  readonly structure: string;
  readonly scenario: string;
  readonly rep: number;
  readonly profile: string;
  readonly seed: number;
  readonly crossCheck: boolean;
}

export interface SweepJobSpec {
  readonly kind: 'sweep';
  readonly id: string;
  readonly structure: string;
  /** Random order-0 pages preserved, on a machine of ramBytes. */
  readonly folios: number;
  readonly ramBytes: number;
  readonly axes: readonly ('folios' | 'ram')[];
  readonly profile: string;
  readonly seed: number;
}

export type JobSpec = PairJobSpec | SweepJobSpec;
