/**
 * Stalls: a timed sample far above its measurement's median is timed again
 * on identical state, and replaced when the second timing is back under
 * the bound.
 *
 * Since job processes run V8 single-threaded (bench/jobs/bundle.ts), an
 * optimizing compilation runs on the main thread, inside whatever sample
 * is running when a function turns hot. Rarely called functions (a slab's
 * alloc, called once a bitmap) turn hot late, in the middle of the timed
 * passes: xarray-6.16 dense-4k, batches of 512, compiled its slab alloc
 * for 6.3 ms inside batch 112 of pass 3 in each of three processes, a
 * batch whose median is 35 us. Freeing a dropped machine's host memory
 * stops the main thread too (about 1 ms, unreported as a collection). The
 * kernel does neither, nor does a host that paused the VM for a moment.
 * A sample that is costly by design (kho-array's array growth, the first
 * batch on a fresh machine) is as costly when run again on the same
 * state, so it keeps its first timing.
 *
 * Used by the batch timing (latency.ts: identical state is a fresh machine
 * with every batch before run untimed) and by the repeated operations
 * (repeat.ts: the sample's hooks, then the calls again).
 */
import { overlapsPause } from './gc-pauses.ts';


/** A sample above this multiple of its measurement's median is timed again. */
export const STALL_FACTOR = 5;

/** At most this share of the samples (at least one) is timed again, the slowest first. */
export const STALL_SHARE = 0.02;

/** A sample timed: its value in the samples' unit, and the [start, end) of its timed part alone (process.hrtime ms). */
export interface Timed {
  readonly value: number;
  readonly start: number;
  readonly end: number;
}

/** One sample timed again. */
export interface Rerun extends Timed {
  readonly index: number;
}

export interface StallRerun {
  /** STALL_FACTOR times the median sample. */
  readonly bound: number;
  readonly reruns: readonly Rerun[];
}

/** What became of the samples above the bound. */
export interface StallCheck {
  /** Samples timed again. */
  readonly retimed: number;
  /** Of those, samples whose re-run was under the bound: the first timing was replaced. */
  readonly replaced: number;
  /** The samples' mean before the replacements (in the samples' unit): what the stalls would have added. */
  readonly meanBefore: number;
}

/**
 * Times again, by `rerun(index)`, each sample above the bound, slowest
 * first, until `maxMs` of wall time is spent. Changes nothing. The span a
 * re-run reports is its timed part only: rebuilding the state before it
 * (a fresh machine, and the collection Replay forces for the machines it
 * drops) must not count as a pause that overlapped it.
 */
export function rerunStalls(samples: ArrayLike<number>, rerun: (index: number) => Timed, maxMs: number): StallRerun {
  const median = Float64Array.from(samples).sort()[samples.length >> 1];
  const bound = STALL_FACTOR * median;
  const suspects: number[] = [];
  for (let i = 0; i < samples.length; i++) if (samples[i] > bound) suspects.push(i);
  suspects.sort((x, y) => samples[y] - samples[x]);
  suspects.length = Math.min(suspects.length, Math.max(1, Math.floor(STALL_SHARE * samples.length)));
  const reruns: Rerun[] = [];
  const deadline = performance.now() + maxMs;
  for (const index of suspects) {
    if (performance.now() > deadline) break;
    reruns.push({ index, ...rerun(index) });
  }
  return { bound, reruns };
}

/**
 * Replaces in `samples` each re-run that came back under the bound and
 * that no garbage-collection pause overlapped (`paused`: [start, end)
 * pairs on the process.hrtime ms clock; see gc-pauses.ts).
 */
export function replaceStalls(samples: Float64Array, stalls: StallRerun, paused: Float64Array = new Float64Array(0)): StallCheck {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i];
  let replaced = 0;
  for (const r of stalls.reruns) {
    if (r.value > stalls.bound || overlapsPause(r.start, r.end, paused)) continue;
    samples[r.index] = r.value;
    replaced++;
  }
  return { retimed: stalls.reruns.length, replaced, meanBefore: sum / samples.length };
}
