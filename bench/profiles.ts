/**
 * Run profiles: how big the scenarios are, how long each measurement runs,
 * how many fresh processes measure each pair, and which sweep points.
 * `smoke` is for tests and a quick look (45 s); `default` is `npm run bench`
 * (10 minutes on two cores): every structure on the six scenarios the list
 * argued about, with the measurement budgets of `full`, which adds the other
 * four scenarios, the scaling sweeps, the design-space section and the 48 GiB
 * experiment (40 minutes). The budgets are the same so that a pair measured
 * by both profiles means the same thing in both.
 *
 * Where the time goes: a timing process spends most of its 1 to 4 s on code
 * V8 has not compiled yet and on its own start (~0.3 s), whatever the
 * scenario's size, so the profile's time is set by how many processes it
 * starts, and the default buys its ten processes a pair with fewer pairs.
 */
import type { LatencyBudget, RepeatBudget, RestoreBudget, SerializeBudget } from '../src/measure/budgets.ts';
import { GiB, TiB } from './placement.ts';
import { CALIBRATIONS } from './calibrations.ts';

export const PROFILE_NAMES = ['smoke', 'default', 'full'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * The sweeps. Where the folio sweep's RAM is one of the RAM sweep's sizes
 * and the RAM sweep's folio count one of the folio sweep's counts, the
 * shared point is measured once (bench/plan.ts).
 */
export interface SweepPlan {
  /** Folio counts of the folio sweep (random order-0 pages on `foliosRam` of RAM). */
  readonly folios: readonly number[];
  readonly foliosRam: number;
  /** RAM sizes of the RAM sweep (`ramFolios` random order-0 pages each). */
  readonly ram: readonly number[];
  readonly ramFolios: number;
}

/**
 * The design-space section: points of the tracker family (structures/family)
 * on scenarios, each with its exact job (metadata, the model) and timing
 * processes as a confirmation.
 */
export interface DesignSpacePlan {
  /** Family point ids, or 'all' (the 32). */
  readonly points: 'all' | readonly string[];
  /** Scenario ids, or 'all'. */
  readonly scenarios: 'all' | readonly string[];
  readonly processes: number;
}

/** The small section of the default profile: bitmap leaves of 128 B and 4 KiB, both fanouts and both order encodings. */
const SMALL_DESIGN_SPACE: DesignSpacePlan = {
  points: ['l128-f64', 'l128-f512', 'l4096-f64', 'l4096-f512'].flatMap((lf) => [`fam-${lf}-key-bitmap`, `fam-${lf}-perorder-bitmap`]),
  scenarios: ['dense-4k', 'sparse-4k-128m', 'random-4k', 'vm-2m'],
  processes: 1,
};

/** `--design-space`, and the full profile's section: every point on every scenario. */
export const FULL_DESIGN_SPACE: DesignSpacePlan = { points: 'all', scenarios: 'all', processes: 1 };

export interface Profile {
  readonly name: ProfileName;
  /**
   * Fresh processes that time every (structure, scenario) pair: the unit of
   * replication, so the intervals reflect process-to-process variation.
   * Each process measures briefly; more processes beat longer ones.
   */
  readonly processes: number;
  /** The scenarios run when --scenarios is not given (default: all). */
  readonly scenarios?: readonly string[];
  /** Run the sweeps when neither --sweeps nor --skip-sweeps nor --scenarios says (smoke's two points fit nothing). */
  readonly sweepsByDefault: boolean;
  /** The published kernel experiments the machine model is run on (ids in bench/calibrations.ts). */
  readonly calibrations: readonly string[];
  /** The design-space section run with the profile (none in smoke). */
  readonly designSpace?: DesignSpacePlan;
  /** Jobs run at once. */
  readonly jobs: number;
  /**
   * Size batches from a pilot run (else start at 256 folios and rely on the
   * check after the measurement, which re-measures with bigger batches if
   * the timer overhead exceeded 1% of any batch).
   */
  readonly pilot: boolean;
  readonly latency: LatencyBudget;
  readonly serialize: SerializeBudget;
  readonly restore: RestoreBudget;
  /** Sweep points are measured more briefly. */
  readonly sweepLatency: LatencyBudget;
  readonly sweepRepeat: RepeatBudget;
  readonly sweeps: SweepPlan;
  /** benny (benchmark.js) settings for --cross-check. */
  readonly crossCheck: { readonly minSamples: number; readonly maxTimeS: number };
}

/** The six scenarios of the default profile. */
const DEFAULT_SCENARIOS = ['vm-2m', 'hugetlb-1g', 'dense-4k', 'sparse-4k-16m', 'random-4k', 'mixed-test-kho'] as const;

/** How default and full measure: one set of budgets, so that their figures of a pair compare. */
const MEASUREMENT = {
  jobs: 2,
  pilot: true,
  // Warm-up in passes: on dense-4k and random-4k (5 structures, 10 processes, two runs each way) eight passes
  // instead of 16 batches took random-4k's preserve from 87.6-165.9 to 62.0-130.8 ns per folio and ida's
  // unpreserve from 289-313 to 119-141, left dense-4k within its spread, and cost the jobs 16% of their time.
  latency: { targetFolios: 5e4, minPasses: 1, maxPasses: 10, maxMs: 30, warmupBatches: 16, warmupPasses: 8, warmupMs: 200 },
  serialize: { samples: 6, minSamples: 3, maxMs: 10, warmupSamples: 1, warmupMs: 0, warmup: { folios: 4096, rounds: 8 }, inPlaceWarmupMs: 5 },
  restore: {
    // The walk (0.4-30 ms a run): after the pilot's three runs and four warm-ups, up to eight timed runs, within
    // 20 ms. A fresh process's walk settles by its sixth to tenth run (radix random-4k: 180, 50, 99, 44, 128,
    // 42, then 36-39 ns per folio).
    walk: { samples: 8, minSamples: 3, maxMs: 20, warmupSamples: 4, warmupMs: 0 },
    // One timed run of each other part per process (they were 70-80% of a job's time; ten processes of one run
    // each give the interval), after two untimed runs of each on 8192 of the list's folios: a full warm-up run
    // left deferred init capped at one struct page 1.6-4x above its settled time (vm-2m 20 ms against 5), the
    // sample leaves it within the runs' spread. The total keeps one full warm-up: without it the timed run
    // is the one that deoptimizes the walk for its new sink and recompiles it.
    parts: { samples: 1, minSamples: 1, maxMs: 10, warmupSamples: 0, warmupMs: 0 },
    partsWarmup: { folios: 8192, rounds: 2 },
    total: { samples: 1, minSamples: 1, maxMs: 10, warmupSamples: 1, warmupMs: 0 },
  },
  sweepLatency: { targetFolios: 5e4, minPasses: 1, maxPasses: 5, maxMs: 50, warmupBatches: 16, warmupPasses: 4, warmupMs: 100 },
  sweepRepeat: { samples: 1, minSamples: 1, maxMs: 20, warmupSamples: 1, warmupMs: 0 },
  // Five points per axis: the fewest a growth exponent is fitted on (with its interval).
  sweeps: { folios: [1e3, 3e3, 1e4, 3e4, 1e5], foliosRam: 64 * GiB, ram: [1 * GiB, 4 * GiB, 64 * GiB, 1 * TiB, 4 * TiB], ramFolios: 1e4 },
  crossCheck: { minSamples: 10, maxTimeS: 1 },
} as const satisfies Partial<Profile>;

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  smoke: {
    name: 'smoke',
    processes: 3,
    // A quick look within 45 s on two cores: dense order-0 pages, and test_kho's mixed orders (up to 10: past RFC v1's 9).
    scenarios: ['dense-4k', 'mixed-test-kho'],
    sweepsByDefault: false,
    calibrations: [],
    jobs: 2,
    pilot: false,
    latency: { targetFolios: 5e3, minPasses: 1, maxPasses: 2, maxMs: 20, warmupBatches: 4, warmupPasses: 2, warmupMs: 20 },
    serialize: { samples: 2, minSamples: 1, maxMs: 5, warmupSamples: 1, warmupMs: 0, warmup: { folios: 2048, rounds: 4 }, inPlaceWarmupMs: 1 },
    restore: {
      walk: { samples: 3, minSamples: 2, maxMs: 5, warmupSamples: 1, warmupMs: 0 },
      parts: { samples: 1, minSamples: 1, maxMs: 5, warmupSamples: 0, warmupMs: 0 },
      partsWarmup: { folios: 2048, rounds: 2 },
      total: { samples: 1, minSamples: 1, maxMs: 5, warmupSamples: 0, warmupMs: 0 },
    },
    sweepLatency: { targetFolios: 2e3, minPasses: 1, maxPasses: 1, maxMs: 20, warmupBatches: 2, warmupPasses: 1, warmupMs: 10 },
    sweepRepeat: { samples: 2, minSamples: 2, maxMs: 5, warmupSamples: 0, warmupMs: 0 },
    // Too few points to fit a growth exponent: the report says so.
    sweeps: { folios: [1e3, 4e3], foliosRam: 1 * GiB, ram: [1 * GiB], ramFolios: 1e3 },
    crossCheck: { minSamples: 5, maxTimeS: 0.5 },
  },
  default: {
    name: 'default',
    processes: 10,
    // VM memory in 2 MiB and 1 GiB folios (the case KHO was built for), order-0 pages dense, sparse (the report's
    // question 3) and at random, and lib/test_kho.c's mixed orders: with 9 structures, 540 timing processes (the
    // ten scenarios, 900, were 24 min here; five were 6 min 53 s).
    scenarios: DEFAULT_SCENARIOS,
    sweepsByDefault: false,
    // The 48 GiB experiment alone is 100 s of one core (12.6 million folios through the model).
    calibrations: ['yadav-2026-radix-small', 'yadav-2026-radix-large'],
    ...MEASUREMENT,
  },
  full: {
    name: 'full',
    processes: 10,
    sweepsByDefault: true,
    calibrations: CALIBRATIONS.map((c) => c.id),
    designSpace: SMALL_DESIGN_SPACE,
    ...MEASUREMENT,
  },
};

export function isProfileName(s: string): s is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(s);
}
