/**
 * The raw output of one job, each run in its own fresh process. A run keeps
 * one file per finished job (jobs/<id>.json beside results.json);
 * results.json and summary.csv are derived from them, so that a run can be
 * resumed and its processes combined. Validated with zod when read.
 *
 *   timing  one (structure, scenario) in one fresh process: the times, each
 *           estimated in this process (its mean over batches or samples);
 *           a pair has at least `processes` of them, interleaved
 *   exact   one (structure, scenario), untimed and deterministic: metadata
 *           accounting, pages and lines touched, the machine model
 *   sweep   one point of a scaling sweep (timed and exact together)
 */
import { z } from 'zod';

import { JOB_SCHEMA_VERSION } from './job-version.ts';
import { ModelFigures } from './schema.ts';

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
  /** Timed batches left out because a garbage-collection pause of V8's overlapped them (absent in older runs). */
  pausedBatches: z.number().int().optional(),
  /** As RepeatOutput's retimedSamples and replacedSamples, for batches. */
  retimedBatches: z.number().int().optional(),
  replacedBatches: z.number().int().optional(),
  /** The mean before those replacements (ns per folio; absent in older runs). */
  meanWithStalls: z.number().optional(),
});
export type LatencyOutput = z.infer<typeof LatencyOutput>;

export const RepeatOutput = z.object({
  /** ms per call. */
  summary: SampleSummarySchema,
  callsPerSample: z.number().int(),
  overheadFraction: z.number(),
  /** Samples above STALL_FACTOR times the median timed again, and those the re-run replaced (src/measure/stalls.ts; absent in older runs). */
  retimedSamples: z.number().int().optional(),
  replacedSamples: z.number().int().optional(),
  /** The mean before those replacements (ms per call; absent in older runs). */
  meanWithStalls: z.number().optional(),
});
export type RepeatOutput = z.infer<typeof RepeatOutput>;

const Figures = z.object({ bytes: z.number(), pages: z.number() });

/** The next kernel's restore, timed in parts (ms per restore; see src/measure/restore.ts). */
export const RestoreTiming = z.object({
  /** The walk doing memblock and the head struct pages per folio, as one run. */
  total: RepeatOutput,
  /** The bare walk into a counting sink. */
  walk: RepeatOutput,
  /** memblock_reserve + mark_noinit of the recorded folios, alone. */
  memblock: RepeatOutput,
  /** The head struct page of every recorded folio, alone. */
  heads: RepeatOutput,
  /**
   * Deferred struct page init of the recorded folios, then their heads, with at most 1 and at most 64 struct
   * pages per folio; the first absent when every folio is one page (the caps then do the same work).
   */
  deferredOne: RepeatOutput.optional(),
  deferredSample: RepeatOutput,
  /** Struct pages those runs initialised, and all the folios have (see deferredFull in src/measure/restore.ts). */
  deferredCounts: z.object({ one: z.number(), sample: z.number(), all: z.number() }),
  /** Whether the scenario's next kernel defers struct page init (restore_ms includes the deferred init). */
  deferredInit: z.boolean(),
  folios: z.number().int(),
  /** Wall time of the worker's steps. */
  stepsMs: z.record(z.string(), z.number()).optional(),
});
export type RestoreTiming = z.infer<typeof RestoreTiming>;
export type DeferredCounts = RestoreTiming['deferredCounts'];

/** The machine model's figures of one kind of operation: the results file's shape (schema.ts). */
export const ModelOutput = ModelFigures;
export type ModelOutput = z.infer<typeof ModelOutput>;

/** The untimed restore of the exact job: what it read and touched, memblock's state, and the model. */
export const RestoreExact = z.object({
  folios: z.number().int(),
  metadataObjects: z.number(),
  metadataBytes: z.number(),
  /** Distinct pages and lines the bare walk touched. */
  pages: z.number(),
  lines: z.number(),
  memblock: z.record(z.string(), z.number()),
  model: z.object({ walk: ModelOutput, total: ModelOutput }).optional(),
});
export type RestoreExact = z.infer<typeof RestoreExact>;

const Timer = z.object({ callNs: z.number(), regionNs: z.number() });

const Common = {
  schemaVersion: z.literal(JOB_SCHEMA_VERSION),
  id: z.string(),
  structure: z.string(),
  ramBytes: z.number(),
  folios: z.number().int(),
  preservedBytes: z.number(),
  /** Metric name -> why this structure cannot have it here. */
  unavailable: z.record(z.string(), z.string()),
  /** Peak resident memory of the job's process (the restore worker included). */
  maxRssBytes: z.number(),
  wallMs: z.number(),
  /** CPU time of the job process (all its threads), from its start. */
  cpuMs: z.number().optional(),
  /** Wall time of each step of the job. */
  stepsMs: z.record(z.string(), z.number()).optional(),
};

export const TimingJobOutput = z.object({
  kind: z.literal('timing'),
  ...Common,
  scenario: z.string(),
  /** Which of the pair's processes this is (1-based), and for an A/A run which half. */
  process: z.number().int(),
  half: z.number().int().optional(),
  timer: Timer,
  /** The fixed calibration loop, ns, timed at the start and at the end of the process. */
  calibration: z.object({ startNs: z.number(), endNs: z.number() }),
  /** Each absent when the structure cannot do it here (see `unavailable`). */
  preserve: LatencyOutput.optional(),
  unpreserve: LatencyOutput.optional(),
  serialize: RepeatOutput.optional(),
  restore: RestoreTiming.optional(),
  crossCheck: z
    .object({
      preserveNsPerFolio: z.object({ value: z.number(), ciLow: z.number(), ciHigh: z.number(), samples: z.number().int() }),
      engine: z.string(),
      inlineRebuilds: z.number().int(),
    })
    .optional(),
});
export type TimingJobOutput = z.infer<typeof TimingJobOutput>;

export const ExactJobOutput = z.object({
  kind: z.literal('exact'),
  ...Common,
  scenario: z.string(),
  serialized: Figures,
  built: Figures,
  atHandover: Figures,
  peak: Figures,
  /** Distinct pages and lines per preserved folio (every call, or an even sample). */
  touches: z.object({ pagesPerPreserve: z.number(), linesPerPreserve: z.number() }),
  restore: RestoreExact,
  /** The machine model, per operation, and the CPU it models. */
  model: z
    .object({
      cpu: z.string(),
      preserve: ModelOutput.optional(),
      unpreserve: ModelOutput.optional(),
      finalize: ModelOutput,
    })
    .optional(),
  /** Folios the format could not take (they are not in the hand-over). */
  lostFolios: z.number().int(),
  /** Set for a calibration experiment (bench/calibrations.ts) rather than a scenario: what was published, and what it covers. */
  calibration: z
    .object({
      id: z.string(),
      source: z.string(),
      publishedMs: z.number(),
      measures: z.array(z.enum(['preserve', 'serialize', 'restore-walk', 'restore'])),
      assumptions: z.array(z.string()),
    })
    .optional(),
});
export type ExactJobOutput = z.infer<typeof ExactJobOutput>;

export const SweepJobOutput = z.object({
  kind: z.literal('sweep'),
  ...Common,
  /** The sweeps this point belongs to (a point can sit on both: their shared corner). */
  axes: z.array(z.enum(['folios', 'ram'])).min(1),
  timer: Timer,
  preserve: LatencyOutput,
  serialize: RepeatOutput,
  atHandover: Figures,
  restore: RestoreTiming,
  model: z.object({ cpu: z.string(), preserve: ModelOutput, restore: ModelOutput }).optional(),
});
export type SweepJobOutput = z.infer<typeof SweepJobOutput>;

export const JobOutput = z.discriminatedUnion('kind', [TimingJobOutput, ExactJobOutput, SweepJobOutput]);
export type JobOutput = z.infer<typeof JobOutput>;

/** A user's workload instead of a scenario (`kho time`): an operations file (src/measure/ops-file.ts) on given RAM. */
export interface CustomWorkload {
  readonly opsFile: string;
  readonly banks: readonly { readonly start: number; readonly size: number }[];
}

/** What a job process is asked to do. */
export interface TimingJobSpec {
  readonly kind: 'timing';
  readonly id: string;
  readonly structure: string;
  /** A scenario id, or "custom" with `custom` set. */
  readonly scenario: string;
  readonly custom?: CustomWorkload;
  readonly process: number;
  readonly half?: number;
  readonly profile: string;
  readonly seed: number;
  readonly crossCheck: boolean;
}

export interface ExactJobSpec {
  readonly kind: 'exact';
  readonly id: string;
  readonly structure: string;
  readonly scenario: string;
  readonly custom?: CustomWorkload;
  /** A calibration experiment (bench/calibrations.ts) instead of a scenario. */
  readonly calibration?: string;
  readonly profile: string;
  readonly seed: number;
  /** A CPU file for the model (--cpu), else the default CPU. */
  readonly cpuFile?: string;
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
  readonly cpuFile?: string;
}

export type JobSpec = TimingJobSpec | ExactJobSpec | SweepJobSpec;
