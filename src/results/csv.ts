/**
 * summary.csv: one row per (structure, scenario, metric), columns
 * structure,scenario,metric,kind,unit,value,ci_low,ci_high,processes,cv.
 *
 * Metric names and kinds are those of src/results/metrics.ts. A measured
 * metric carries its 95% interval over processes, the number of processes
 * and their coefficient of variation; exact and model figures leave those
 * empty. A metric a structure cannot have has no row (results.json lists it
 * under `unavailable`, with the reason). Sweep points use the
 * scenario name sweep-<axis>-<x> and fitted exponents fit-<axis>, with
 * metrics <metric>_exponent (with its interval) and <metric>_r2.
 */
import { isMetricName, metricDef } from './metrics.ts';
import type { MetricValue, PairResult, Results } from './schema.ts';

export const CSV_COLUMNS = ['structure', 'scenario', 'metric', 'kind', 'unit', 'value', 'ci_low', 'ci_high', 'processes', 'cv'] as const;

export interface CsvRow {
  structure: string;
  scenario: string;
  metric: string;
  kind: string;
  unit: string;
  value: number;
  ciLow?: number;
  ciHigh?: number;
  processes?: number;
  cv?: number;
}

function row(structure: string, scenario: string, metric: string, m: MetricValue): CsvRow {
  const d = isMetricName(metric) ? metricDef(metric) : undefined;
  return {
    structure,
    scenario,
    metric,
    kind: d?.kind ?? 'measured',
    unit: d?.unit ?? (metric.endsWith('_ms') ? 'ms' : 'ns'),
    value: m.value,
    ciLow: m.ciLow,
    ciHigh: m.ciHigh,
    processes: m.processes,
    cv: m.cv,
  };
}

/** The metrics of a pair, in the order of src/results/metrics.ts. */
export function pairRows(p: PairResult): CsvRow[] {
  const names = Object.keys(p.metrics);
  const order = (n: string) => (isMetricName(n) ? 0 : 1);
  return names
    .sort((a, b) => order(a) - order(b))
    .map((name) => row(p.structure, p.scenario, name, p.metrics[name]));
}

export function summaryRows(results: Results): CsvRow[] {
  const rows = results.pairs.flatMap(pairRows);
  for (const s of results.sweeps) {
    const scenario = `sweep-${s.axis}-${s.x}`;
    for (const [name, m] of Object.entries(s.metrics)) rows.push(row(s.structure, scenario, name, m));
  }
  for (const f of results.fits) {
    const scenario = `fit-${f.axis}`;
    rows.push({ structure: f.structure, scenario, metric: `${f.metric}_exponent`, kind: 'fit', unit: 'exponent', value: f.exponent, ciLow: f.ciLow, ciHigh: f.ciHigh, processes: f.points });
    rows.push({ structure: f.structure, scenario, metric: `${f.metric}_r2`, kind: 'fit', unit: 'r2', value: f.r2, processes: f.points });
  }
  return rows;
}

function cell(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(+v.toPrecision(10)) : '';
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(rows: readonly CsvRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([r.structure, r.scenario, r.metric, r.kind, r.unit, r.value, r.ciLow, r.ciHigh, r.processes, r.cv].map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
