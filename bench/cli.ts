/**
 * Command-line options of `npm run bench`. Bad input is a UsageError: the
 * entry prints its one-line message and exits with code 2.
 */
import { parseArgs } from 'node:util';
import { STRUCTURE_IDS } from '../src/tracker/tracker.ts';
import { PROFILES, PROFILE_NAMES, type ProfileName, isProfileName } from './profiles.ts';
import { SCENARIO_IDS, isScenarioId } from './scenarios.ts';
import { UsageError, joinNegativeValues } from '../src/cli/guard.ts';

export { UsageError };

export const DEFAULT_SEED = 1;

export const USAGE = `usage: npm run bench -- [options]

Measures every tracker on the profile's scenarios (each pair in its own processes),
writes <out>/results.json and <out>/summary.csv as each measurement
finishes, prints a summary per scenario, and writes the HTML report.

options:
  --profile <name>      ${PROFILE_NAMES.join(' | ')} (default: default)
  --structures <ids>    comma-separated, or "all" (default); known: ${STRUCTURE_IDS.join(', ')}
  --scenarios <ids>     comma-separated, or "all" (default: the profile's: smoke 2, default 6, full all); known:
                        ${SCENARIO_IDS.join(', ')}
  --out <dir>           the run folder (default: reports/<timestamp>-<profile>, or -design-space)
  --seed <n>            the run seed, an integer 0..4294967295 (default: ${DEFAULT_SEED})
  --processes <n>       fresh timing processes per pair (default: the profile's; smoke 3, default and full 10)
  --cross-check         re-measure preserve latency with benny (benchmark.js) too
  --sweeps              run the scaling sweeps (the default in full, unless --scenarios is given)
  --skip-sweeps         leave out the scaling sweeps
  --design-space        only the design-space sweep: every point of the tracker family (structures/family)
                        and every named structure on the scenarios, exact and modeled, one timing process each
  --cpu <file.json>     the machine model's CPU (default: src/model/cpus/, see src/model/README.md)
  --aa                  A/A run: every timing job twice, interleaved; compares the two halves
  --fail-on-regression <pct>
                        with --aa: exit 1 if a flagged timing metric differs by more than pct
  --jobs <n>            job processes at once (default: the profile's, 2)
  --resume <dir>        continue an interrupted run in <dir> with its own options
  --skip-report         do not write the HTML report at the end
  --help                this text`;

export interface BenchOptions {
  readonly help: boolean;
  readonly profile: ProfileName;
  readonly structures: readonly string[];
  readonly scenarios: readonly string[];
  readonly out?: string;
  readonly seed: number;
  readonly crossCheck: boolean;
  readonly sweeps: boolean;
  readonly processes?: number;
  readonly cpuFile?: string;
  readonly aa: boolean;
  readonly designSpace: boolean;
  readonly failOnRegression?: number;
  readonly jobs?: number;
  readonly resume?: string;
  readonly report: boolean;
}

function list(value: string | undefined, known: readonly string[], what: string, isKnown: (s: string) => boolean): string[] {
  if (value === undefined || value === 'all') return [...known];
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what} needs at least one id`);
  for (const item of items) {
    if (!isKnown(item)) throw new UsageError(`unknown ${what.replace(/s$/, '')} "${item}" (known: ${known.join(', ')})`);
  }
  return [...new Set(items)];
}

function integer(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${what} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

function percent(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0 && n < 1000)) throw new UsageError(`${what} must be a percentage above 0, got "${value}"`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        profile: { type: 'string' },
        structures: { type: 'string' },
        scenarios: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        'cross-check': { type: 'boolean' },
        sweeps: { type: 'boolean' },
        'skip-sweeps': { type: 'boolean' },
        processes: { type: 'string' },
        cpu: { type: 'string' },
        aa: { type: 'boolean' },
        'design-space': { type: 'boolean' },
        'fail-on-regression': { type: 'string' },
        jobs: { type: 'string' },
        resume: { type: 'string' },
        'skip-report': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message.split('\n')[0] : String(e));
  }
  const v = parsed.values;
  if (v.help) {
    return { help: true, profile: 'default', structures: [], scenarios: [], seed: DEFAULT_SEED, crossCheck: false, sweeps: true, aa: false, designSpace: false, report: false };
  }
  if (v.resume !== undefined) {
    const conflicting = ['profile', 'structures', 'scenarios', 'out', 'seed', 'cross-check', 'sweeps', 'skip-sweeps', 'processes', 'cpu', 'aa', 'design-space'].filter(
      (k) => (v as Record<string, unknown>)[k] !== undefined,
    );
    if (conflicting.length) throw new UsageError(`--resume continues a run with its own options; drop --${conflicting.join(', --')}`);
    if (!v.resume.trim()) throw new UsageError('--resume needs the run folder');
  }
  const profile = v.profile ?? 'default';
  if (!isProfileName(profile)) throw new UsageError(`unknown profile "${profile}" (known: ${PROFILE_NAMES.join(', ')})`);
  if (v.sweeps && v['skip-sweeps']) throw new UsageError('--sweeps and --skip-sweeps contradict each other');
  if (v['fail-on-regression'] !== undefined && !v.aa) throw new UsageError('--fail-on-regression compares the halves of an A/A run: add --aa');
  if (v['design-space'] && v.aa) throw new UsageError('--design-space and --aa are separate runs');
  // A run narrowed to some scenarios is about those scenarios: sweeps only when asked.
  const sweeps = v.sweeps ?? (!v['skip-sweeps'] && v.scenarios === undefined && PROFILES[profile].sweepsByDefault);
  return {
    help: false,
    profile,
    structures: list(v.structures, STRUCTURE_IDS, 'structures', (s) => (STRUCTURE_IDS as readonly string[]).includes(s)),
    scenarios: v.scenarios === undefined ? [...(PROFILES[profile].scenarios ?? SCENARIO_IDS)] : list(v.scenarios, SCENARIO_IDS, 'scenarios', isScenarioId),
    out: v.out,
    seed: v.seed === undefined ? DEFAULT_SEED : integer(v.seed, '--seed', 0, 2 ** 32 - 1),
    crossCheck: v['cross-check'] ?? false,
    sweeps,
    processes: v.processes === undefined ? undefined : integer(v.processes, '--processes', 1, 1000),
    cpuFile: v.cpu,
    aa: v.aa ?? false,
    designSpace: v['design-space'] ?? false,
    failOnRegression: v['fail-on-regression'] === undefined ? undefined : percent(v['fail-on-regression'], '--fail-on-regression'),
    jobs: v.jobs === undefined ? undefined : integer(v.jobs, '--jobs', 1, 64),
    resume: v.resume,
    report: !(v['skip-report'] ?? false),
  };
}
