/**
 * Comparison of a run with a baseline run: per (scenario, structure,
 * metric) the change with its 95% interval, a significance test, and a
 * verdict that is "within noise" unless the change is both significant and
 * larger than the noise threshold. Pure functions over two Results.
 */
import type { Results } from '../results/schema.ts';
import { formatPct } from './format.ts';
import { METRICS, type MetricDef, type MetricId, findPair, scenariosOf, structuresOf } from './metrics.ts';
import { benjaminiHochberg } from '../stats/benjamini-hochberg.ts';
import { type Interval, bootstrapRatio, mannWhitneyU, ratioInterval, zTestFromIntervals } from './stats.ts';

export { benjaminiHochberg } from '../stats/benjamini-hochberg.ts';

export interface ComparisonOptions {
  /** Changes smaller than this fraction are "within noise" whatever the test says (default 0.05). */
  noise?: number;
  /** Significance level for the tests, after multiple-comparison adjustment (default 0.05). */
  alpha?: number;
  /** Bootstrap iterations for ratio intervals on batch samples (default 1000). */
  iterations?: number;
}

export type ChangeVerdict = 'regression' | 'improvement' | 'within noise';

export interface ChangeRow {
  scenario: string;
  structure: string;
  metric: MetricId;
  baseline: number;
  current: number;
  /** current / baseline − 1, with its 95% interval. */
  change: Interval;
  test: 'Mann–Whitney U' | 'z (from CIs)' | 'exact';
  /** Raw two-sided p-value, and the Benjamini–Hochberg adjusted one. */
  p: number;
  pAdjusted: number;
  significant: boolean;
  verdict: ChangeVerdict;
}

export interface Comparison {
  rows: ChangeRow[];
  /** Pairs only in one of the runs. */
  added: { structure: string; scenario: string }[];
  removed: { structure: string; scenario: string }[];
  /** Differences in the machine context that make the comparison suspect. */
  contextWarnings: string[];
  noise: number;
  alpha: number;
}

function changeFromRatio(r: Interval): Interval {
  return { value: r.value - 1, low: r.low - 1, high: r.high - 1 };
}

function compareMetric(
  def: MetricDef,
  base: Results['pairs'][number],
  cur: Results['pairs'][number],
  iterations: number,
  seed: number,
): Omit<ChangeRow, 'pAdjusted' | 'significant' | 'verdict'> | undefined {
  const eb = def.get(base);
  const ec = def.get(cur);
  if (!eb || !ec) return undefined;
  const common = { scenario: cur.scenario, structure: cur.structure, metric: def.id, baseline: eb.value, current: ec.value };
  if (def.kind === 'exact') {
    const ratio = eb.value === 0 ? (ec.value === 0 ? 1 : Infinity) : ec.value / eb.value;
    return { ...common, change: { value: ratio - 1, low: ratio - 1, high: ratio - 1 }, test: 'exact', p: ec.value === eb.value ? 1 : 0 };
  }
  const bb = def.batches ? base[def.batches].batches : [];
  const cb = def.batches ? cur[def.batches].batches : [];
  if (bb.length >= 3 && cb.length >= 3) {
    const mw = mannWhitneyU(cb, bb);
    const boot = bootstrapRatio(bb, cb, { iterations, seed });
    // Centre the change on the point estimates; the interval's relative width from the bootstrap of medians.
    const point = eb.value > 0 ? ec.value / eb.value : boot.value;
    const scale = point / boot.value;
    return {
      ...common,
      change: changeFromRatio({ value: point, low: boot.low * scale, high: boot.high * scale }),
      test: 'Mann–Whitney U',
      p: mw.p,
    };
  }
  const z = zTestFromIntervals(eb, ec);
  return { ...common, change: changeFromRatio(ratioInterval(eb, ec)), test: 'z (from CIs)', p: z.p };
}

export function compareRuns(current: Results, baseline: Results, options: ComparisonOptions = {}): Comparison {
  const noise = options.noise ?? 0.05;
  const alpha = options.alpha ?? 0.05;
  const iterations = options.iterations ?? 1000;
  const partial: Omit<ChangeRow, 'pAdjusted' | 'significant' | 'verdict'>[] = [];
  const added: Comparison['added'] = [];
  const removed: Comparison['removed'] = [];
  const scenarios = scenariosOf(current);
  const structures = structuresOf(current);
  let seed = 1;
  for (const scenario of scenarios) {
    for (const structure of structures) {
      const cur = findPair(current, structure, scenario);
      const base = findPair(baseline, structure, scenario);
      if (!cur) continue;
      if (!base) {
        added.push({ structure, scenario });
        continue;
      }
      for (const def of METRICS) {
        const row = compareMetric(def, base, cur, iterations, seed++);
        if (row) partial.push(row);
      }
    }
  }
  for (const p of baseline.pairs) {
    if (!findPair(current, p.structure, p.scenario)) removed.push({ structure: p.structure, scenario: p.scenario });
  }
  const adjusted = benjaminiHochberg(partial.map((r) => r.p));
  const rows: ChangeRow[] = partial.map((r, i) => {
    const excludesZero = r.change.low > 0 || r.change.high < 0 || (r.test === 'exact' && r.change.value !== 0);
    const significant = r.test === 'exact' ? r.p === 0 : adjusted[i] < alpha && excludesZero;
    const big = Math.abs(r.change.value) >= noise;
    const verdict: ChangeVerdict = significant && big ? (r.change.value > 0 ? 'regression' : 'improvement') : 'within noise';
    return { ...r, pAdjusted: adjusted[i], significant, verdict };
  });

  const contextWarnings: string[] = [];
  const a = baseline.context;
  const b = current.context;
  if (a.cpuModel !== b.cpuModel) contextWarnings.push(`different CPU: baseline "${a.cpuModel}", this run "${b.cpuModel}"`);
  if (a.profile !== b.profile) contextWarnings.push(`different profile: baseline ${a.profile}, this run ${b.profile}`);
  if (a.node !== b.node) contextWarnings.push(`different Node.js: baseline ${a.node}, this run ${b.node}`);
  if (a.cores !== b.cores) contextWarnings.push(`different core count: baseline ${a.cores}, this run ${b.cores}`);
  for (const sc of current.scenarios) {
    const old = baseline.scenarios.find((s) => s.id === sc.id);
    if (old && old.ramBytes !== sc.ramBytes) contextWarnings.push(`scenario ${sc.id} has a different RAM size than in the baseline`);
  }
  return { rows, added, removed, contextWarnings, noise, alpha };
}

/** The rows that regressed by more than `thresholdPct` percent (significant changes only). */
export function regressions(comparison: Comparison, thresholdPct: number): ChangeRow[] {
  return comparison.rows.filter((r) => r.significant && r.change.value * 100 > thresholdPct);
}

export function describeChange(r: ChangeRow): string {
  const ci = r.test === 'exact' ? '' : ` [${formatPct(r.change.low, true)}, ${formatPct(r.change.high, true)}]`;
  return `${formatPct(r.change.value, true)}${ci}`;
}
