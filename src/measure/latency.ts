/**
 * Per-folio latency of preserve (or unpreserve), timed by tinybench in
 * fixed-size batches.
 *
 * Each tinybench iteration runs one batch of about B folios. The state the
 * batch needs (a fresh tracker, the batches before it) is produced by the
 * task's beforeEach hook, outside the timed part, so every preserve lands
 * on exactly the state it would meet in the scenario, never on an
 * already-preserved folio. The task returns the batch's duration per folio
 * as tinybench's `overriddenDuration` (and the whole batch as
 * `overriddenIterationCost`), tinybench's mechanism for batched timing:
 * every tinybench sample is one batch's ns per folio. Warm-up is
 * tinybench's own phase, whole passes on fresh trackers of its own; measurement then
 * starts again from a fresh tracker and runs whole passes over the workload
 * so that every batch position is sampled equally often.
 *
 * B is the smallest power of two that keeps the timer's overhead (measured,
 * see timer.ts) at BATCH_OVERHEAD_TARGET of a batch at the cost a pilot run
 * measured; the achieved fractions are reported (and checked by the caller).
 *
 * A batch that a garbage-collection pause of V8's overlapped is left out
 * of the summary and counted (`pausedBatches`; see gc-pauses.ts); one far
 * above the median batch is timed again, and a stall that did not recur
 * (a compilation, the host) is replaced (`retimedBatches`,
 * `replacedBatches`; see stalls.ts).
 *
 * Beware when adding tasks: tinybench calls a task once at add() to see
 * whether it returns a promise unless `async` is declared.
 */
import { Bench } from 'tinybench';
import type { LatencyBudget } from './budgets.ts';
import { type GcPauses, overlapsPause } from './gc-pauses.ts';
import { type Batch, Replay, runBatch } from './replay.ts';
import { type Timed, replaceStalls, rerunStalls } from './stalls.ts';
import { type SampleSummary, summarize } from '../stats/summary.ts';
import { BATCH_OVERHEAD_TARGET, chooseBatchSize } from './timer.ts';

const hr = process.hrtime.bigint;

export interface LatencyResult {
  /** ns per folio, one sample per batch. */
  readonly summary: SampleSummary;
  /** Folios per batch (the last batch of a phase may hold up to 1.5 times as many, or fewer if the phase is short). */
  readonly batchSize: number;
  /** Passes over the workload that were timed. */
  readonly passes: number;
  /** Timer overhead / batch duration: at the median batch, and an upper bound over all batches. */
  readonly overheadFractionP50: number;
  readonly overheadFractionMax: number;
  /** Timed batches left out of the summary because a garbage-collection pause overlapped them. */
  readonly pausedBatches: number;
  /** Timed batches far above the median that were timed again, and those whose first timing the re-run replaced. */
  readonly retimedBatches: number;
  readonly replacedBatches: number;
  /** The summary's mean (ns per folio) as it was before the replacements. */
  readonly meanWithStalls: number;
}

/**
 * Times every batch of one kind. `regionNs` is the timer overhead, `opNs`
 * the pilot's cost of one operation (to fit the passes in the budget).
 */
export async function measureLatency(
  replay: Replay,
  preserve: boolean,
  budget: LatencyBudget,
  regionNs: number,
  opNs: number,
  pauses: GcPauses,
): Promise<LatencyResult> {
  const perPass = replay.count(preserve);
  if (perPass === 0) throw new Error(`workload has no ${preserve ? 'preserve' : 'unpreserve'} batches`);
  const foliosPerPass = replay.batches.filter((b) => b.preserve === preserve).reduce((a, b) => a + b.folios, 0);
  // A pass costs a fresh machine and every operation up to the last batch of this kind (x2: hooks, cold code).
  const passMs = replay.freshMs + (2 * replay.passFolios(preserve) * opNs) / 1e6;
  const passes = Math.max(
    budget.minPasses,
    Math.min(budget.maxPasses, Math.ceil(budget.targetFolios / foliosPerPass), Math.floor(budget.maxMs / passMs)),
  );
  let current: Batch = replay.batches[0];
  let tracker = replay.tracker;
  // Warm-up by count, not by tinybench's time budget: that counts the batches' own durations, not the fresh
  // trackers between them, so for a short workload it would mean thousands of rebuilds. Whole passes, as many
  // as the budget's warmupMs buys, since code settles over passes (see LatencyBudget).
  const byBatches = Math.max(1, Math.min(budget.warmupBatches, Math.floor((budget.maxMs / 4 / passMs) * perPass)));
  const warmup = Math.max(byBatches, Math.min(budget.warmupPasses, Math.floor(budget.warmupMs / passMs)) * perPass);
  // Every batch run, the warm-up's first: its [start, end) in process.hrtime ms, and its ms per folio (tinybench's
  // sample, which tinybench hands back sorted: these keep the order, to be matched with the pauses).
  const runs = warmup + passes * perPass;
  const spans = new Float64Array(2 * runs);
  const perFolio = new Float64Array(runs);
  const ranBatches: Batch[] = new Array(runs);
  let ran = 0;
  const bench = new Bench({
    name: preserve ? 'preserve' : 'unpreserve',
    timestampProvider: 'hrtimeNow',
    iterations: passes * perPass,
    time: 0,
    warmup: true,
    warmupIterations: warmup,
    warmupTime: 0,
    retainSamples: true,
    throws: true,
  });
  bench.add(
    'batch',
    () => {
      const b = current;
      const t0 = hr();
      runBatch(tracker, b);
      const t1 = hr();
      const ms = Number(t1 - t0) / 1e6;
      const msPerFolio = ms / b.folios;
      spans[2 * ran] = Number(t0) / 1e6;
      spans[2 * ran + 1] = Number(t1) / 1e6;
      ranBatches[ran] = b;
      perFolio[ran++] = msPerFolio;
      return { overriddenDuration: msPerFolio, overriddenIterationCost: ms };
    },
    {
      // Declared, or tinybench would call the task once to see whether it returns a promise.
      async: false,
      beforeAll() {
        replay.fresh();
      },
      beforeEach() {
        current = replay.advance(preserve);
        tracker = replay.tracker;
      },
    },
  );
  const [task] = bench.runSync();
  const result = task.result;
  if (result.state !== 'completed') {
    throw result.state === 'errored' ? result.error : new Error(`tinybench task ended ${result.state}`);
  }
  if (ran !== runs) throw new Error(`tinybench ran ${ran} batches, not ${runs}`);
  const paused = await pauses.soFar();
  const timed = Array.from({ length: runs - warmup }, (_, i) => warmup + i);
  const unpaused = timed.filter((r) => !overlapsPause(spans[2 * r], spans[2 * r + 1], paused));
  // Every batch when a pause overlapped them all (never seen): a summary needs samples.
  const kept = unpaused.length > 0 ? unpaused : timed;
  const samples = Float64Array.from(kept, (r) => perFolio[r]);
  const rerun = rerunStalls(samples, (i) => timeAgain(replay, preserve, ranBatches[kept[i]]), budget.maxMs);
  const stalls = replaceStalls(samples, rerun, await pauses.soFar());
  const summary = summarize(samples, 1e6);
  const kindBatches = replay.batches.filter((b) => b.preserve === preserve);
  const meanFolios = foliosPerPass / perPass;
  const minFolios = kindBatches.reduce((m, b) => Math.min(m, b.folios), Infinity);
  return {
    summary,
    batchSize: preserve ? replay.sizes.preserve : replay.sizes.unpreserve,
    passes,
    overheadFractionP50: regionNs / (summary.sketch[summary.sketch.length >> 1] * meanFolios),
    // Bounded from above: the fastest per-folio sample as if it came from the smallest batch.
    overheadFractionMax: regionNs / (summary.min * minFolios),
    pausedBatches: timed.length - kept.length,
    retimedBatches: stalls.retimed,
    replacedBatches: stalls.replaced,
    meanWithStalls: stalls.meanBefore * 1e6,
  };
}

/** `batch` timed again on the state it met (see stalls.ts): ms per folio, and the span of the batch alone. */
function timeAgain(replay: Replay, preserve: boolean, batch: Batch): Timed {
  replay.replayTo(preserve, batch);
  const t0 = hr();
  runBatch(replay.tracker, batch);
  const t1 = hr();
  return { value: Number(t1 - t0) / 1e6 / batch.folios, start: Number(t0) / 1e6, end: Number(t1) / 1e6 };
}

/**
 * A pilot: ns per folio of the batches of one kind from the start of the
 * workload (up to `maxFolios` folios, at a provisional batch size, over
 * several passes if the workload is short); the fastest batch counts, since
 * noise only ever adds time and the first batches run before the JIT has
 * optimized anything.
 * An estimate for sizing batches, nothing more: the measurement checks the
 * overhead it actually got.
 */
export function pilotCost(replay: Replay, preserve: boolean, maxFolios = 1 << 13, maxPasses = 2): number {
  let best = Infinity;
  let folios = 0;
  const first = replay.passes;
  while (folios < maxFolios) {
    const b = replay.advance(preserve);
    if (replay.passes - first >= maxPasses) break;
    const t0 = hr();
    runBatch(replay.tracker, b);
    const ns = Number(hr() - t0);
    best = Math.min(best, ns / b.folios);
    folios += b.folios;
  }
  return best;
}

/** A batch size that would bring the observed worst overhead fraction down to the target. */
export function enlargedBatch(result: LatencyResult, cap: number): number {
  let b = result.batchSize;
  while (b < cap && result.overheadFractionMax * (result.batchSize / b) > BATCH_OVERHEAD_TARGET) b *= 2;
  return Math.min(b, cap);
}

/** The batch size for an operation of `opNs` (from pilotCost), at most `cap` (the phase size). */
export function batchSizeFor(regionNs: number, opNs: number, cap: number): number {
  return Math.max(1, Math.min(chooseBatchSize(regionNs, opNs, BATCH_OVERHEAD_TARGET), cap));
}
