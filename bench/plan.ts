/**
 * The jobs of a run and their order: every (structure, scenario) pair once
 * per repetition, plus the sweep points, each a separate process. The
 * order is shuffled (seeded) within each repetition, and repetitions follow
 * one another, so the pairs are interleaved: no structure runs all its
 * scenarios back to back, and drifts of the machine spread over all of them.
 */
import type { JobSpec } from '../src/results/job.ts';
import type { ProfileName } from './profiles.ts';
import { PROFILES } from './profiles.ts';
import { Rng, deriveSeed } from './rng.ts';
import type { SweepAxis } from './scenarios.ts';

export interface RunPlan {
  readonly profile: ProfileName;
  readonly seed: number;
  readonly structures: readonly string[];
  readonly scenarios: readonly string[];
  readonly repetitions: number;
  readonly sweeps: boolean;
  readonly crossCheck: boolean;
}

export function pairJobId(structure: string, scenario: string, rep: number): string {
  return `${structure}__${scenario}__r${rep}`;
}

export function sweepJobId(structure: string, folios: number, ramBytes: number): string {
  return `${structure}__sweep-${folios}-${ramBytes}`;
}

/**
 * The sweep points of a profile: (folios, RAM) pairs, each with the sweeps it
 * belongs to. A point on both sweeps (when the folio sweep's RAM is one of
 * the RAM sweep's sizes and vice versa) is measured once.
 */
export function sweepPoints(profile: ProfileName): { folios: number; ramBytes: number; axes: SweepAxis[] }[] {
  const s = PROFILES[profile].sweeps;
  const points = new Map<string, { folios: number; ramBytes: number; axes: SweepAxis[] }>();
  const add = (folios: number, ramBytes: number, axis: SweepAxis) => {
    const key = `${folios}-${ramBytes}`;
    const p = points.get(key);
    if (p) p.axes.push(axis);
    else points.set(key, { folios, ramBytes, axes: [axis] });
  };
  for (const f of s.folios) add(f, s.foliosRam, 'folios');
  for (const r of s.ram) add(s.ramFolios, r, 'ram');
  return [...points.values()];
}

export function planJobs(plan: RunPlan): JobSpec[] {
  const out: JobSpec[] = [];
  for (let rep = 1; rep <= plan.repetitions; rep++) {
    const round: JobSpec[] = [];
    for (const structure of plan.structures) {
      for (const scenario of plan.scenarios) {
        round.push({
          kind: 'pair',
          id: pairJobId(structure, scenario, rep),
          structure,
          scenario,
          rep,
          profile: plan.profile,
          seed: plan.seed,
          crossCheck: plan.crossCheck,
        });
      }
      if (plan.sweeps && rep === 1) {
        for (const { folios, ramBytes, axes } of sweepPoints(plan.profile)) {
          round.push({
            kind: 'sweep',
            id: sweepJobId(structure, folios, ramBytes),
            structure,
            folios,
            ramBytes,
            axes,
            profile: plan.profile,
            seed: plan.seed,
          });
        }
      }
    }
    const rng = new Rng(deriveSeed(plan.seed, `plan-${rep}`));
    const order = Float64Array.from(round, (_, i) => i);
    rng.shuffle(order);
    for (const i of order) out.push(round[i]);
  }
  return out;
}

/** A rough relative cost of a job, for the ETA. */
export function jobWeight(spec: JobSpec): number {
  if (spec.kind === 'pair') return 1;
  return 0.5 + spec.folios / 1e6 + spec.ramBytes / 2 ** 42;
}
