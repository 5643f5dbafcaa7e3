/**
 * A second opinion on preserve latency from benny (benchmark.js's
 * statistics: cycles calibrated to a minimum time, a t-based 95% margin of
 * error over cycle means), with `--cross-check`.
 *
 * benchmark.js calls the test `count` times in one timed loop, so state
 * cannot be rebuilt between calls the way tinybench's hooks do. The test
 * runs the next batch of the scenario's first preserve phase (the same
 * batches tinybench timed) on the current tracker, and moves to a fresh
 * tracker from a pool when the phase is used up. benchmark.js's per-cycle
 * `setup` (run before the cycle's timer starts) fills the pool with exactly
 * as many fresh trackers as the cycle's `count` calls will use. benchmark.js
 * compiles setup and test into one function from their source text, so
 * both are tiny stubs calling into a global hook (closures would not
 * survive the compilation); the hook is removed afterwards.
 */
import { packageVersion } from '../results/versions.ts';
import { Machine } from '../ram/machine.ts';
import type { Tracker } from '../tracker/tracker.ts';
import { type Batch, type BatchSizes, type TrackerFactory, planBatches, prefault, runBatch } from './replay.ts';
import type { Workload } from './workload.ts';
import type { Estimate } from '../stats/summary.ts';

export interface CrossCheckResult {
  /** ns per folio. */
  readonly preserveNsPerFolio: Estimate;
  readonly engine: string;
  /** Fresh trackers that had to be built inside a timed loop (0 unless the pool was sized wrong). */
  readonly inlineRebuilds: number;
}

export interface CrossCheckOptions {
  readonly minSamples: number;
  readonly maxTimeS: number;
  /** tinybench's ns per folio, to size cycles. */
  readonly expectedNsPerFolio: number;
  /** Heap pages to pre-fault on each fresh machine (see prefault in replay.ts). */
  readonly warmPages: number;
  readonly gc?: () => void;
}

interface Hook {
  step(): void;
  refill(count: number): void;
}

const HOOK = '__khoBenchCrossCheck';

export async function crossCheckPreserve(
  workload: Workload,
  create: TrackerFactory,
  sizes: BatchSizes,
  options: CrossCheckOptions,
): Promise<CrossCheckResult> {
  const phase = workload.build.find((p) => p.kind !== 'unpreserve');
  if (!phase) throw new Error('workload has no preserve phase');
  const batches: Batch[] = planBatches([phase], sizes);
  const folios = batches.reduce((a, b) => a + b.folios, 0);
  const make = (): Tracker => {
    const machine = new Machine({ banks: workload.banks, heapSize: workload.heapSize });
    prefault(machine, options.warmPages);
    return create(machine);
  };
  const pool: Tracker[] = [];
  let tracker = make();
  let next = 0;
  let inlineRebuilds = 0;
  const hook: Hook = {
    step() {
      if (next === batches.length) {
        const fresh = pool.pop();
        if (fresh) tracker = fresh;
        else {
          inlineRebuilds++;
          tracker = make();
        }
        next = 0;
      }
      runBatch(tracker, batches[next++]);
    },
    refill(count) {
      // Calls left in the current pass, then whole passes from fresh trackers.
      const want = Math.max(0, Math.ceil((count + 1 - (batches.length - next)) / batches.length));
      while (pool.length < want) pool.push(make());
    },
  };
  // A cycle of a few passes at most (the pool's memory), 1..10 ms.
  const passS = (options.expectedNsPerFolio * folios) / 1e9;
  const minTime = Math.min(0.01, Math.max(0.001, 3 * passS));
  const g = globalThis as unknown as Record<string, Hook | undefined>;
  g[HOOK] = hook;
  options.gc?.();
  // Loaded only for --cross-check: benny pulls in benchmark.js and lodash, which every job would pay to load.
  const benny = ((await import('benny')) as unknown as { default: typeof import('benny') }).default;
  const log = console.log;
  let summary: Awaited<ReturnType<typeof benny.suite>>;
  try {
    console.log = () => {};
    const test = new Function(`${HOOK}.step();`) as () => void;
    const setup = new Function(`${HOOK}.refill(this.count);`);
    summary = await benny.suite(
      'preserve',
      benny.add('preserve', test, { minSamples: options.minSamples, maxTime: options.maxTimeS, minTime, setup } as never),
    );
  } finally {
    console.log = log;
    delete g[HOOK];
  }
  const r = summary.results[0];
  if (!r || r.samples === 0) throw new Error('benny returned no samples');
  const perBatch = folios / batches.length;
  const toNs = (s: number) => (s * 1e9) / perBatch;
  const mean = toNs(r.details.mean);
  const moe = toNs(r.details.marginOfError);
  return {
    preserveNsPerFolio: { value: mean, ciLow: mean - moe, ciHigh: mean + moe, samples: r.samples },
    engine: `benny ${packageVersion('benny') ?? '?'} (benchmark.js ${packageVersion('benchmark') ?? '?'})`,
    inlineRebuilds,
  };
}
