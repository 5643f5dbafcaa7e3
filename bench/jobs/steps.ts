/**
 * A job is a list of steps. A step reads what earlier steps put in the job's
 * context (`need` says which, and fails loudly if a step is missing) and
 * adds its figures to the job's output; running the list times each step
 * and nothing else, so a new measurement is one more step, not new
 * orchestration.
 *
 * A step that finds the structure cannot do what it measures (an operation
 * its kernel lacks, a folio its format cannot represent: KhoError EOPNOTSUPP
 * or ERANGE) records the metrics it would have produced as unavailable, with
 * the error's message as the reason, and the job goes on; a `stopsJob` step
 * (one every later step depends on: building the workload's tracker) ends
 * the job there and makes every metric of the pair unavailable (the key
 * ALL_METRICS).
 */
import { ALL_METRICS } from '../../src/results/metrics.ts';
import { isKhoError } from '../../src/tracker/errors.ts';

export interface Step<C> {
  readonly name: string;
  /** Metrics this step produces (recorded as unavailable if the structure cannot do it). */
  readonly metrics?: readonly string[];
  /** Whether every later step depends on this one (a failure to represent ends the job, every metric unavailable). */
  readonly stopsJob?: boolean;
  run(ctx: C): void | Promise<void>;
}

/** What every job context has: where unavailable metrics and step times go. */
export interface StepContext {
  readonly unavailable: Record<string, string>;
  readonly stepsMs: Record<string, number>;
}

/** The value an earlier step left in the context; a missing one is a bug in the job's step list. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`job step order: ${what} is needed before it is made`);
  return value;
}

/** Whether an error says the structure cannot do this (rather than that something broke). */
export function isNotRepresentable(e: unknown): boolean {
  return isKhoError(e, 'EOPNOTSUPP') || isKhoError(e, 'ERANGE');
}

/** Runs the steps in order; returns false if a step that stops the job could not be done. */
export async function runSteps<C extends StepContext>(ctx: C, steps: readonly Step<C>[]): Promise<boolean> {
  for (const step of steps) {
    const t0 = performance.now();
    try {
      await step.run(ctx);
    } catch (e) {
      if (!isNotRepresentable(e)) throw e;
      const reason = (e as Error).message.replace(/^\w+: /, '');
      for (const m of step.stopsJob ? [ALL_METRICS] : (step.metrics ?? [])) ctx.unavailable[m] ??= reason;
      if (step.stopsJob) {
        ctx.stepsMs[step.name] = performance.now() - t0;
        return false;
      }
    }
    ctx.stepsMs[step.name] = (ctx.stepsMs[step.name] ?? 0) + performance.now() - t0;
  }
  return true;
}
