/**
 * Host calibration: a fixed piece of integer work every job process times
 * once at its start and once at its end. The work never changes, so its
 * time tracks the host alone (frequency scaling, a noisy neighbour on the
 * VM, thermal limits), and hostSlowdown reads a run's calibrations for a
 * host that slowed down during the run or differs from the baseline's.
 *
 * The work: an xorshift32 stream steering a walk over a 256 KiB Int32Array
 * (dependent loads and stores, like a tracker's table walks, beyond L1 and
 * inside L2), folded into a checksum that is returned, so V8 cannot drop
 * the loop. 2,000,000 steps take 15 to 19 ms on this project's 2-core VM
 * in the quieter processes; measured in 8 fresh processes while other work
 * shared the host, 12.7 to 34 ms, with consecutive calls in one process
 * mostly within 10% of each other: the host's speed, not the code's,
 * moved by 2x, which is what this is here to catch.
 */
import { type Interval, bootstrapRatio } from '../stats/bootstrap.ts';
import { mannWhitneyU } from '../stats/mann-whitney.ts';
import { quantile } from '../stats/percentile.ts';

/** Steps of the walk: about 5 ms here (every job pays it twice). Fixed, never adapted to the host, or it would hide what it measures. */
export const CALIBRATION_STEPS = 500_000;

/** The walk's table: 256 KiB. */
export const CALIBRATION_TABLE_BYTES = 1 << 18;

/** One timed calibration. */
export interface Calibration {
  /** Wall time of the walk, ns. */
  ns: number;
  /** The work size: steps of the walk. */
  steps: number;
  /** The walk's result: the same for every call with the same steps. */
  checksum: number;
}

function freshTable(): Int32Array {
  const table = new Int32Array(CALIBRATION_TABLE_BYTES / 4);
  for (let i = 0; i < table.length; i++) table[i] = Math.imul(i, 0x9e3779b1);
  return table;
}

function walk(table: Int32Array, steps: number): number {
  const mask = table.length - 1;
  let x = 0x2545f491;
  let idx = 0;
  let acc = 0;
  for (let i = 0; i < steps; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    idx = (idx ^ x ^ table[idx]) & mask;
    table[idx] = (table[idx] + x) | 0;
    acc ^= table[idx];
  }
  return acc;
}

/**
 * Times the calibration walk once. An untimed walk of 1/16 of the steps
 * first gets the loop optimized, so that the first call of a process (at
 * its start) times the same machine code as the last (at its end).
 */
export function runCalibration(steps = CALIBRATION_STEPS): Calibration {
  walk(freshTable(), steps >> 4);
  const table = freshTable();
  const t0 = process.hrtime.bigint();
  const checksum = walk(table, steps);
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, steps, checksum };
}

/** The two calibrations of one job process. */
export interface ProcessCalibration {
  startNs: number;
  endNs: number;
}

/**
 * A process counts as slow when one of its calibrations is more than this
 * fraction above the run's median of that calibration (start, or end):
 * 0.20, twice the call-to-call variation within one process here (10%),
 * and large enough to matter: one process
 * 20% slow moves the mean of 10 by 2%, close to half the 5% noise threshold.
 */
export const SLOW_PROCESS_THRESHOLD = 0.2;

/**
 * A drift (the later half of the processes against the earlier half) or a
 * difference from the baseline counts when it exceeds 0.05: the noise
 * threshold of the comparisons, since a host that changed by that much can
 * by itself produce a change the comparison would flag.
 */
export const HOST_DRIFT_THRESHOLD = 0.05;

/** What the calibrations say about the host. */
export interface HostSlowdown {
  flagged: boolean;
  /** One line for a person, when flagged. */
  message: string | undefined;
  /** Median of all the run's calibrations, ns. */
  medianNs: number;
  /** Processes (indices, in run order) with a start (end) calibration more than SLOW_PROCESS_THRESHOLD above the median start (end). */
  slowProcesses: number[];
  /**
   * Median calibration of the later half of the processes over that of the
   * earlier half, − 1 (the middle process of an odd count left out), and
   * the Mann–Whitney p of the two halves; a drift counts when it exceeds
   * HOST_DRIFT_THRESHOLD with p < 0.05, which needs at least 4 processes.
   */
  drift: number;
  driftP: number;
  /**
   * Against the baseline: median per-process calibration (mean of its two)
   * of this run over the baseline's, with a bootstrap interval over
   * processes; flagged beyond HOST_DRIFT_THRESHOLD either way when the
   * interval excludes 1 (a faster host skews a comparison as much).
   */
  baseline?: { ratio: Interval; flagged: boolean };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/**
 * Reads a run's calibrations (processes in the order they started), and
 * optionally compares them with the baseline run's.
 */
export function hostSlowdown(run: readonly ProcessCalibration[], baseline?: readonly ProcessCalibration[]): HostSlowdown {
  const all = run.flatMap((c) => [c.startNs, c.endNs]);
  const medianNs = quantile(all, 0.5);
  // Each calibration against the median of its own kind: a process's first and last run in different company (its
  // own start-up; the restore just done), and their medians differ (7.1 and 9.3 ms in one run of 932 processes),
  // so against the median of both, one kind looked slow in most processes.
  const startLimit = quantile(run.map((c) => c.startNs), 0.5) * (1 + SLOW_PROCESS_THRESHOLD);
  const endLimit = quantile(run.map((c) => c.endNs), 0.5) * (1 + SLOW_PROCESS_THRESHOLD);
  const slowProcesses = run.flatMap((c, i) => (c.startNs > startLimit || c.endNs > endLimit ? [i] : []));

  const half = Math.floor(run.length / 2);
  const early = run.slice(0, half).flatMap((c) => [c.startNs, c.endNs]);
  const late = run.slice(run.length - half).flatMap((c) => [c.startNs, c.endNs]);
  const drift = half > 0 ? quantile(late, 0.5) / quantile(early, 0.5) - 1 : 0;
  const driftP = half > 0 ? mannWhitneyU(late, early).p : 1;
  const drifted = Math.abs(drift) > HOST_DRIFT_THRESHOLD && driftP < 0.05;

  const parts: string[] = [];
  if (drifted) {
    parts.push(`host ${drift > 0 ? 'slowed down' : 'sped up'} during the run: calibration ${pct(Math.abs(drift))} ${drift > 0 ? 'slower' : 'faster'} in the later half of the processes (p = ${driftP.toPrecision(2)})`);
  }
  if (slowProcesses.length > 0) {
    parts.push(
      `${slowProcesses.length} of ${run.length} processes ran a calibration more than ${pct(SLOW_PROCESS_THRESHOLD)} above the run's median of that calibration (${slowProcesses.map((i) => `#${i}`).join(', ')})`,
    );
  }

  let base: HostSlowdown['baseline'];
  if (baseline && baseline.length > 0 && run.length > 0) {
    const perProcess = (cs: readonly ProcessCalibration[]) => cs.map((c) => (c.startNs + c.endNs) / 2);
    const ratio = bootstrapRatio(perProcess(baseline), perProcess(run), { statistic: 'median' });
    const flagged = Math.abs(ratio.value - 1) > HOST_DRIFT_THRESHOLD && (ratio.low > 1 || ratio.high < 1);
    base = { ratio, flagged };
    if (flagged) {
      const d = ratio.value - 1;
      parts.push(`host ${pct(Math.abs(d))} ${d > 0 ? 'slower' : 'faster'} than during the baseline [${pct(ratio.low - 1)}, ${pct(ratio.high - 1)}]`);
    }
  }
  const flagged = parts.length > 0;
  return {
    flagged,
    message: flagged ? `${parts.join('; ')}: timings may reflect the host, not the code` : undefined,
    medianNs,
    slowProcesses,
    drift,
    driftP,
    ...(base ? { baseline: base } : {}),
  };
}
