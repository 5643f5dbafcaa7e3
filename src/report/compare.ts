/**
 * Comparison of a run with a baseline run, metric by metric, on the same
 * unit of replication as the run itself: the process.
 *
 *  - A measured metric is flagged only when its per-process values differ
 *    (Mann–Whitney U, p-values Benjamini–Hochberg-adjusted across every
 *    measured metric compared) and the change of the means exceeds the
 *    noise threshold (compareProcessSamples). A derived one (per folio, a
 *    sum) follows the tests of its bases (adjustFamily).
 *  - Exact and model metrics have no noise: any change is reported, as an
 *    exact change (compareExact). Lower is better for all of them.
 *  - A host that was slower or faster than during the baseline (the
 *    calibration loop every process ran, hostSlowdown) is said first: it
 *    can make every timing move by itself.
 *
 * Pure functions over two Results.
 */
import { type HostSlowdown, type ProcessCalibration, hostSlowdown } from '../measure/calibration.ts';
import type { MetricValue, Results } from '../results/schema.ts';
import { DEFAULT_ALPHA, type FamilyMember, adjustFamily, compareExact, compareProcessSamples } from '../stats/index.ts';
import { formatPct, formatValue } from './format.ts';
import { type MetricKind, PAIR_METRICS, familyMember, findPair, kindOf, scenariosOf, structuresOf, unitOf } from './metrics.ts';
import type { Interval } from './stats.ts';

export interface ComparisonOptions {
  /** Changes of at most this fraction are "within noise" (default 0.05). */
  noise?: number;
  /** Significance level of the adjusted p-values (default 0.05). */
  alpha?: number;
}

export type ChangeVerdict = 'regression' | 'improvement' | 'within noise' | 'unchanged';

export interface ChangeRow {
  /** A scenario, or a sweep point as summary.csv names it (sweep-<axis>-<x>). */
  scenario: string;
  structure: string;
  metric: string;
  kind: MetricKind;
  baseline: number;
  current: number;
  /** current / baseline − 1: with its bootstrap interval over processes for a measured metric, exact otherwise. */
  change: Interval;
  test: 'Mann–Whitney U' | 'exact';
  /** Measured metrics: raw and adjusted two-sided p, and the processes on each side. */
  p?: number;
  /** A derived measured metric: the metrics whose tests it follows (adjustFamily); its adjusted p is theirs. */
  derivedFrom?: readonly string[];
  pAdjusted?: number;
  processes?: { baseline: number; current: number };
  verdict: ChangeVerdict;
}

export interface Comparison {
  rows: ChangeRow[];
  /** Pairs only in one of the runs. */
  added: { structure: string; scenario: string }[];
  removed: { structure: string; scenario: string }[];
  /** Differences in the machine or the workload that make the comparison suspect. */
  contextWarnings: string[];
  /** The two runs' calibration loops, when both have them. */
  host?: HostSlowdown;
  /** Measured metrics that could not be compared (fewer than 2 processes on a side). */
  notCompared: number;
  noise: number;
  alpha: number;
}

interface Side {
  scenario: string;
  structure: string;
  metrics: Record<string, MetricValue>;
}

function sidesOf(results: Results): Side[] {
  return [
    ...results.pairs.map((p) => ({ scenario: p.scenario, structure: p.structure, metrics: p.metrics })),
    ...results.sweeps.map((s) => ({ scenario: `sweep-${s.axis}-${s.x}`, structure: s.structure, metrics: s.metrics })),
  ];
}

/** The metrics of a pair in the suite's order, then any newer ones in the file's order. */
function metricNames(a: Record<string, MetricValue>, b: Record<string, MetricValue>): string[] {
  const known = PAIR_METRICS.map((m) => m.name).filter((n) => n in a && n in b);
  const extra = Object.keys(b).filter((n) => n in a && !known.includes(n));
  return [...known, ...extra];
}

function calibrationsOf(results: Results): ProcessCalibration[] | undefined {
  const c = results.context.calibration;
  if (!c || c.startNs.length === 0 || c.startNs.length !== c.endNs.length) return undefined;
  return c.startNs.map((startNs, i) => ({ startNs, endNs: c.endNs[i] }));
}

export function compareRuns(current: Results, baseline: Results, options: ComparisonOptions = {}): Comparison {
  const noise = options.noise ?? 0.05;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const timing: { row: Omit<ChangeRow, 'verdict' | 'change' | 'p' | 'pAdjusted'>; index: number }[] = [];
  const comparisons: FamilyMember[] = [];
  const exactRows: ChangeRow[] = [];
  const contextWarnings: string[] = [];
  let notCompared = 0;
  const baseSides = sidesOf(baseline);
  const curSides = sidesOf(current);
  // Rows keep the order of the pairs and of the metrics, measured and exact interleaved as they come.
  const order = new Map<string, number>();
  const key = (scenario: string, structure: string, metric: string) => `${scenario}\u0000${structure}\u0000${metric}`;
  for (const cur of curSides) {
    const base = baseSides.find((b) => b.scenario === cur.scenario && b.structure === cur.structure);
    if (!base) continue;
    for (const metric of metricNames(base.metrics, cur.metrics)) {
      const b = base.metrics[metric];
      const c = cur.metrics[metric];
      const kind = kindOf(metric, c);
      const common = { scenario: cur.scenario, structure: cur.structure, metric, kind, baseline: b.value, current: c.value };
      if (kind === 'measured') {
        if (!b.perProcess || !c.perProcess || b.perProcess.length < 2 || c.perProcess.length < 2) {
          notCompared++;
          continue;
        }
        order.set(key(cur.scenario, cur.structure, metric), order.size);
        const member = familyMember(
          key(cur.scenario, cur.structure, ''),
          metric,
          compareProcessSamples(b.perProcess, c.perProcess, { noisePct: noise * 100, alpha, seed: comparisons.length + 1 }),
        );
        comparisons.push(member);
        timing.push({
          row: {
            ...common,
            test: 'Mann–Whitney U',
            processes: { baseline: b.perProcess.length, current: c.perProcess.length },
            ...(member.derivedFrom ? { derivedFrom: member.derivedFrom } : {}),
          },
          index: comparisons.length - 1,
        });
        continue;
      }
      const e = compareExact(b.value, c.value);
      if (isDescriptive(metric)) {
        // The workload itself changed: every cost of that pair moves with it.
        if (e.changed) contextWarnings.push(`${cur.structure} on ${cur.scenario}: ${metric} ${b.value} in the baseline, ${c.value} here (a different workload)`);
        continue;
      }
      order.set(key(cur.scenario, cur.structure, metric), order.size);
      exactRows.push({
        ...common,
        change: { value: e.change, low: e.change, high: e.change },
        test: 'exact',
        verdict: !e.changed ? 'unchanged' : c.value > b.value ? 'regression' : 'improvement',
      });
    }
  }
  const adjusted = adjustFamily(comparisons);
  const timingRows: ChangeRow[] = timing.map(({ row, index }) => {
    const c = adjusted[index];
    return { ...row, change: c.change, p: c.p, pAdjusted: c.pAdjusted, verdict: c.verdict };
  });
  const rank = (r: ChangeRow) => order.get(key(r.scenario, r.structure, r.metric)) ?? 0;
  const rows = [...timingRows, ...exactRows].sort((x, y) => rank(x) - rank(y));

  const added: Comparison['added'] = [];
  const removed: Comparison['removed'] = [];
  for (const sc of scenariosOf(current)) {
    for (const st of structuresOf(current)) if (findPair(current, st, sc) && !findPair(baseline, st, sc)) added.push({ structure: st, scenario: sc });
  }
  for (const p of baseline.pairs) if (!findPair(current, p.structure, p.scenario)) removed.push({ structure: p.structure, scenario: p.scenario });

  const a = baseline.context;
  const b = current.context;
  if (a.cpuModel !== b.cpuModel) contextWarnings.push(`different CPU: baseline "${a.cpuModel}", this run "${b.cpuModel}"`);
  if (a.profile !== b.profile) contextWarnings.push(`different profile: baseline ${a.profile}, this run ${b.profile}`);
  if (a.node !== b.node) contextWarnings.push(`different Node.js: baseline ${a.node}, this run ${b.node}`);
  if (a.cores !== b.cores) contextWarnings.push(`different core count: baseline ${a.cores}, this run ${b.cores}`);
  if ((a.modelCpu ?? '') !== (b.modelCpu ?? '')) contextWarnings.push(`different model CPU: baseline "${a.modelCpu ?? 'none'}", this run "${b.modelCpu ?? 'none'}"`);
  for (const sc of current.scenarios) {
    const old = baseline.scenarios.find((s) => s.id === sc.id);
    if (old && old.ramBytes !== sc.ramBytes) contextWarnings.push(`scenario ${sc.id} has a different RAM size than in the baseline`);
  }
  const cur = calibrationsOf(current);
  const base = calibrationsOf(baseline);
  const host = cur && base ? hostSlowdown(cur, base) : undefined;
  return { rows, added, removed, contextWarnings, ...(host ? { host } : {}), notCompared, noise, alpha };
}

function isDescriptive(metric: string): boolean {
  return PAIR_METRICS.some((m) => m.name === metric && m.descriptive === true);
}

/**
 * The rows that got worse by more than `thresholdPct` percent: measured
 * metrics flagged as regressions, and exact or model metrics that grew
 * (certain, so the threshold alone decides). A derived metric is not one
 * more regression: its bases are counted.
 */
export function regressions(comparison: Comparison, thresholdPct: number): ChangeRow[] {
  return comparison.rows.filter((r) => r.verdict === 'regression' && !r.derivedFrom && r.change.value * 100 > thresholdPct);
}

/** "+12.3% [+8.10%, +16.5%]" for a measured metric, "4 KiB → 8 KiB (+100%, exact)" for an exact one. */
export function describeChange(r: ChangeRow): string {
  if (r.test === 'exact') {
    const unit = String(unitOf(r.metric));
    return `${formatValue(r.baseline, unit)} → ${formatValue(r.current, unit)} (${Number.isFinite(r.change.value) ? formatPct(r.change.value, true) : 'from 0'}, exact)`;
  }
  return `${formatPct(r.change.value, true)} [${formatPct(r.change.low, true)}, ${formatPct(r.change.high, true)}]`;
}

/** The host's line for the top of a comparison, when the calibrations say the host changed. */
export function hostLine(c: Comparison): string | undefined {
  return c.host?.flagged ? c.host.message : undefined;
}
