/**
 * How long measurements run. Profiles (bench/profiles.ts) fill these in.
 */

/** One latency measurement (preserve or unpreserve). */
export interface LatencyBudget {
  /** Timed folios to aim for; whole passes over the workload are run. */
  readonly targetFolios: number;
  readonly minPasses: number;
  readonly maxPasses: number;
  /** Fewer passes (down to minPasses) when their estimated wall time would exceed this. */
  readonly maxMs: number;
  /** Warm-up (a separate tinybench phase on its own fresh tracker): at least this many batches, fewer if they would take over maxMs / 4... */
  readonly warmupBatches: number;
  /**
   * ...and whole passes over the workload, up to this many as fit in
   * warmupMs by the pass estimate. A fresh process's preserve settles over
   * passes, not batches: xarray-6.19 random-4k, one process, a fresh
   * machine a pass, read 375, 375, 300, 179, 95, 94, 152, 89, 90, 76 ns per
   * folio in its first ten passes (bench/warm-process.ts).
   */
  readonly warmupPasses: number;
  readonly warmupMs: number;
}

/** A repeatable measurement (finalize, restore). */
export interface RepeatBudget {
  /** Samples wanted... */
  readonly samples: number;
  /** ...but no more than fit in maxMs (by a pilot estimate), and never fewer than this. */
  readonly minSamples: number;
  readonly maxMs: number;
  readonly warmupSamples: number;
  readonly warmupMs: number;
}

/**
 * Finalize's. Before any timed finalize, `warmup.rounds` small trackers,
 * each built from a share of about `warmup.folios` of the build's folios
 * (blockShares), are finalized untimed: a fresh process's finalize kept
 * speeding up through its tenth full run (xarray-6.16 random-4k: 8.8, 4.7,
 * 1.1, 1.0, 3.4, ... ms, settling near 1), so timed runs five to eight read
 * up to twice their settled time; after the small rounds the first full
 * run is within the settled runs' spread.
 */
export interface SerializeBudget extends RepeatBudget {
  readonly warmup: { readonly folios: number; readonly rounds: number };
  /**
   * Then, for a finalize that runs again in place (the stateless trackers':
   * microseconds a call), this long of untimed calls on the tracker itself:
   * the rounds and tinybench's warm-up are a dozen calls, and with so few
   * whether V8 had optimized finalize by the timed samples depended on how
   * many calls the process's pilot put in a sample (ida random-4k: 0.012 to
   * 0.017 ms in the processes with two, 0.15 to 0.47 in those with one).
   */
  readonly inPlaceWarmupMs: number;
}

/**
 * The restore's budgets in the next kernel. The bare walk has its own: it
 * is the cheapest part and the slowest to settle (a fresh process's third
 * walk still read 2 to 20 times its tenth), so it gets more warm-ups and
 * runs than the other parts can afford.
 */
export interface RestoreBudget {
  readonly walk: RepeatBudget;
  /** memblock, heads and deferred init, each run on the walk's recorded folio list. */
  readonly parts: RepeatBudget;
  /**
   * Before the parts are timed, each runs `rounds` times, untimed, on
   * `folios` of the list's folios, evenly spaced: what a part's second full
   * run still paid for cold code (deferred init capped at one struct page
   * read 1.6 to 4 times its settled time there), the sample pays at a
   * fraction of a run.
   */
  readonly partsWarmup: { readonly folios: number; readonly rounds: number };
  /** The whole restore (the walk doing the kernel's work per folio). */
  readonly total: RepeatBudget;
}
