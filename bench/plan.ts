/**
 * The jobs of a run and their order.
 *
 *   timing  every (structure, scenario) in `processes` fresh processes;
 *           round r holds every pair's r-th process, shuffled (seeded), and
 *           rounds follow one another, so a pair's processes are spread
 *           over the whole run and a drift of the machine reaches every
 *           pair alike. An A/A run (`aa`) runs each timing job twice in the
 *           same round, as halves 1 and 2, so that the two halves can be
 *           compared as if they were two runs of the same code.
 *   exact   every pair once (deterministic: one process is enough), in
 *           round 1;
 *   sweep   every sweep point once, in round 1;
 *   calibration  the model on each published kernel experiment, once, in
 *           round 1 (exact jobs of bench/calibrations.ts);
 *   design space  every chosen family point on every chosen scenario: its
 *           exact job in round 1 and its timing processes in rounds 1..k.
 */
import type { JobSpec } from '../src/results/job.ts';
import type { ProfileName } from './profiles.ts';
import { PROFILES } from './profiles.ts';
import { Rng, deriveSeed } from './rng.ts';
import type { SweepAxis } from './scenarios.ts';
import { CALIBRATIONS } from './calibrations.ts';

export interface RunPlan {
  readonly profile: ProfileName;
  readonly seed: number;
  readonly structures: readonly string[];
  readonly scenarios: readonly string[];
  /** Fresh timing processes per pair. */
  readonly processes: number;
  readonly sweeps: boolean;
  readonly crossCheck: boolean;
  readonly aa: boolean;
  /** The published kernel experiments the model is run on (ids in bench/calibrations.ts). */
  readonly calibrations?: readonly string[];
  /** The design-space section: family points on scenarios (resolved ids). */
  readonly designSpace?: { readonly points: readonly string[]; readonly scenarios: readonly string[]; readonly processes: number };
  /** The machine model's CPU file (--cpu), else the default CPU. */
  readonly cpuFile?: string;
}

export function timingJobId(structure: string, scenario: string, process: number, half?: number): string {
  return `${structure}__${scenario}__p${process}${half === undefined ? '' : `-${half === 1 ? 'a' : 'b'}`}`;
}

export function exactJobId(structure: string, scenario: string): string {
  return `${structure}__${scenario}__exact`;
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
  const common = { profile: plan.profile, seed: plan.seed };
  const rounds = Math.max(plan.processes, plan.designSpace?.processes ?? 0);
  for (let p = 1; p <= rounds; p++) {
    const round: JobSpec[] = [];
    for (const structure of p <= plan.processes ? plan.structures : []) {
      for (const scenario of plan.scenarios) {
        for (const half of plan.aa ? [1, 2] : [undefined]) {
          round.push({
            kind: 'timing',
            id: timingJobId(structure, scenario, p, half),
            structure,
            scenario,
            process: p,
            ...(half === undefined ? {} : { half }),
            ...common,
            crossCheck: plan.crossCheck,
          });
        }
        if (p === 1) {
          round.push({ kind: 'exact', id: exactJobId(structure, scenario), structure, scenario, ...common, cpuFile: plan.cpuFile });
        }
      }
      if (plan.sweeps && p === 1) {
        for (const { folios, ramBytes, axes } of sweepPoints(plan.profile)) {
          round.push({
            kind: 'sweep',
            id: sweepJobId(structure, folios, ramBytes),
            structure,
            folios,
            ramBytes,
            axes,
            ...common,
            cpuFile: plan.cpuFile,
          });
        }
      }
    }
    const ds = plan.designSpace;
    if (ds && p <= ds.processes) {
      for (const structure of ds.points) {
        for (const scenario of ds.scenarios) {
          round.push({ kind: 'timing', id: timingJobId(structure, scenario, p), structure, scenario, process: p, ...common, crossCheck: false });
          if (p === 1) round.push({ kind: 'exact', id: exactJobId(structure, scenario), structure, scenario, ...common, cpuFile: plan.cpuFile });
        }
      }
    }
    if (p === 1) {
      for (const c of CALIBRATIONS.filter((e) => plan.calibrations?.includes(e.id))) {
        round.push({ kind: 'exact', id: `calibration__${c.id}`, structure: c.structure, scenario: c.id, calibration: c.id, ...common, cpuFile: plan.cpuFile });
      }
    }
    const rng = new Rng(deriveSeed(plan.seed, `plan-${p}`));
    const order = Float64Array.from(round, (_, i) => i);
    rng.shuffle(order);
    for (const i of order) out.push(round[i]);
  }
  return out;
}

/** A rough relative cost of a job, for the ETA. */
export function jobWeight(spec: JobSpec): number {
  if (spec.kind === 'timing') return 1;
  if (spec.kind === 'exact') return spec.calibration ? 10 : 1.5;
  return 0.5 + spec.folios / 1e6 + spec.ramBytes / 2 ** 42;
}
