/** Seeds of a run's workloads: the run seed mixed with the scenario (or sweep point) name. */
import { deriveSeed } from '../rng.ts';

/** The seed of a scenario's workload (the same for every structure). */
export function scenarioSeed(runSeed: number, scenario: string): number {
  return deriveSeed(runSeed, scenario);
}
