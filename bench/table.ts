/**
 * The terminal summary the runner prints at the end of a run: per scenario
 * a table of the main metrics (rows, under their summary.csv names) by
 * structure (columns), then the growth exponents. Lines fit in 100
 * columns: when the structures do not, the table wraps into several
 * blocks of columns, each repeating the metric names.
 *
 * Measured values read "mean±half-width of the 95% interval" in the unit
 * the metric's name says; model and exact values are plain; "n/a" is a
 * metric the structure cannot have, "-" one that was not measured.
 */
import type { MetricValue, Results } from '../src/results/schema.ts';
import { fitRows } from '../src/report/analysis.ts';
import { formatValue, sig } from '../src/report/format.ts';
import { findPair, kindOf, measuredScenarios, structuresOf, unitOf } from '../src/report/metrics.ts';

export const TABLE_WIDTH = 100;

/** The metrics of the per-scenario tables, in this order. */
export const TABLE_METRICS = [
  'preserve_ns_per_folio',
  'preserve_model_ns',
  'unpreserve_ns_per_folio',
  'serialize_ms',
  'serialize_model_ms',
  'restore_ns_per_folio',
  'restore_model_ns_per_folio',
  'restore_walk_ns_per_folio',
  'blackout_ms',
  'blackout_model_ms',
  'metadata_bytes_per_gib',
  'lines_per_preserve',
  'lines_per_restored_folio',
  'dram_per_restored_folio',
  'lost_folios',
] as const;

function cell(m: MetricValue | undefined, metric: string, unavailable: boolean): string {
  if (!m) return unavailable ? 'n/a' : '-';
  if (unitOf(metric) === 'bytes') return formatValue(m.value, 'bytes').replace(' ', '');
  if (kindOf(metric, m) === 'measured' && m.ciLow !== undefined && m.ciHigh !== undefined) {
    const half = Math.max(m.value - Math.max(0, m.ciLow), m.ciHigh - m.value);
    return half > 0 ? `${sig(m.value)}±${sig(half, 2)}` : sig(m.value);
  }
  return sig(m.value);
}

/** Renders rows (the first column left-aligned, the others right-aligned), wrapping columns to fit `width`. */
export function renderWrapped(head: readonly string[], rows: readonly (readonly string[])[], width = TABLE_WIDTH): string {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const blocks: number[][] = [];
  let current: number[] = [];
  let used = widths[0];
  for (let c = 1; c < head.length; c++) {
    if (current.length && used + 2 + widths[c] > width) {
      blocks.push(current);
      current = [];
      used = widths[0];
    }
    current.push(c);
    used += 2 + widths[c];
  }
  if (current.length) blocks.push(current);
  return blocks
    .map((cols) => {
      const line = (r: readonly string[]) => [r[0].padEnd(widths[0]), ...cols.map((c) => r[c].padStart(widths[c]))].join('  ').trimEnd();
      const rule = [widths[0], ...cols.map((c) => widths[c])].map((w) => '-'.repeat(w)).join('  ');
      return [line(head), rule, ...rows.map(line)].join('\n');
    })
    .join('\n\n');
}

/** Cuts a line of prose at word boundaries to fit `width`. */
function wrapText(text: string, width = TABLE_WIDTH): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** The per-scenario tables, plus the growth exponents. */
export function summaryTables(results: Results): string {
  const out: string[] = [];
  const structures = structuresOf(results);
  if (results.context.calibration?.warning) out.push(wrapText(`warning: ${results.context.calibration.warning}`), '');
  for (const sc of measuredScenarios(results)) {
    const decl = results.scenarios.find((s) => s.id === sc);
    const pairs = structures.map((st) => findPair(results, st, sc)).filter((p) => p !== undefined);
    const n = pairs.map((p) => p.metrics.preserve_ns_per_folio?.processes).filter((x): x is number => x !== undefined);
    const facts = [
      decl ? `RAM ${formatValue(decl.ramBytes, 'bytes')}` : '',
      pairs[0] ? `${pairs[0].folios.toLocaleString('en-US')} folios` : '',
      n.length ? `n = ${Math.min(...n)} processes` : '',
    ].filter(Boolean);
    out.push(wrapText(`${sc}: ${facts.join(', ')}${decl?.description ? ` (${decl.description})` : ''}`));
    const metrics = TABLE_METRICS.filter((m) => pairs.some((p) => p.metrics[m] && (m !== 'lost_folios' || p.metrics[m].value > 0)));
    const rows = metrics.map((m) => [m, ...pairs.map((p) => cell(p.metrics[m], m, p.unavailable?.[m] !== undefined))]);
    out.push(renderWrapped(['metric', ...pairs.map((p) => p.structure)], rows), '');
    const warnings = pairs.flatMap((p) => (p.warnings ?? []).map((w) => `${p.structure}: ${w}`));
    for (const w of warnings) out.push(wrapText(`  warning ${w}`));
    if (warnings.length) out.push('');
  }
  const fits = fitRows(results);
  if (fits.length) {
    const shown = fits.filter((f) => f.exponent);
    if (shown.length === 0) {
      out.push(wrapText(`growth exponents: none (${[...new Set(fits.map((f) => f.problem))].join('; ')})`), '');
    } else {
      for (const axis of ['folios', 'ram'] as const) {
        const mine = shown.filter((f) => f.axis === axis);
        if (!mine.length) continue;
        const sts = structures.filter((st) => mine.some((f) => f.structure === st));
        const metrics = [...new Set(mine.map((f) => f.metric))];
        out.push(`growth exponents against ${axis === 'ram' ? 'RAM size' : 'folios'} (cost ~ x^k, k ± 95% interval)`);
        const rows = metrics.map((m) => [
          m,
          ...sts.map((st) => {
            const f = mine.find((x) => x.structure === st && x.metric === m);
            return f?.exponent ? `${sig(f.exponent.value, 2)}±${sig((f.exponent.high - f.exponent.low) / 2, 1)}` : '-';
          }),
        ]);
        out.push(renderWrapped(['metric', ...sts], rows), '');
      }
    }
  }
  return out.join('\n');
}
