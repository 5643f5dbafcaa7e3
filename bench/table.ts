/**
 * The terminal summary: one table per scenario, one row per structure.
 * Estimates show as value ±half-width of the 95% CI.
 */
import type { PairResult, Results } from '../src/results/schema.ts';
import type { Estimate } from '../src/stats/summary.ts';

function num(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '-';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4) return v.toFixed(0);
  return String(+v.toPrecision(digits));
}

function est(e: Estimate): string {
  const half = Math.max(e.value - e.ciLow, e.ciHigh - e.value);
  return half > 0 ? `${num(e.value)} ±${num(half, 2)}` : num(e.value);
}

export function bytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${num(v)} ${units[u]}`;
}

interface Column {
  readonly head: string;
  readonly cell: (p: PairResult) => string;
  readonly left?: boolean;
}

const COLUMNS: readonly Column[] = [
  { head: 'structure', cell: (p) => p.structure, left: true },
  { head: 'preserve ns/folio', cell: (p) => est(p.preserveNsPerFolio) },
  { head: 'p50', cell: (p) => num(p.preserveBatches.p50) },
  { head: 'p99', cell: (p) => num(p.preserveBatches.p99) },
  { head: 'unpreserve ns', cell: (p) => est(p.unpreserveNsPerFolio) },
  { head: 'finalize ms', cell: (p) => est(p.serializeMs) },
  { head: 'serialized', cell: (p) => bytes(p.serializeBytes) },
  { head: 'restore ms', cell: (p) => est(p.restoreMs) },
  { head: 'ns/restored', cell: (p) => num(p.restoreNsPerFolio.value) },
  { head: 'walk ms', cell: (p) => num(p.restoreWalkMs.value) },
  { head: 'blackout ms', cell: (p) => est(p.blackoutMs) },
  { head: 'metadata', cell: (p) => bytes(p.metadataBytesHandover) },
  { head: 'peak', cell: (p) => bytes(p.metadataBytesPeak) },
  { head: 'B/GiB', cell: (p) => (p.metadataBytesPerGiB === undefined ? '-' : bytes(p.metadataBytesPerGiB)) },
  { head: 'lines/preserve', cell: (p) => (p.touches ? num(p.touches.linesPerPreserve) : '-') },
  { head: 'lines/restored', cell: (p) => (p.touches ? num(p.touches.linesPerRestoredFolio) : '-') },
];

function render(rows: string[][], left: boolean[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (left[c] ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** The per-scenario tables, plus the fitted growth exponents. */
export function summaryTables(results: Results): string {
  const out: string[] = [];
  for (const s of results.scenarios) {
    const pairs = results.pairs.filter((p) => p.scenario === s.id);
    if (pairs.length === 0) continue;
    out.push(`${s.id}: ${s.description}`);
    const rows = [COLUMNS.map((c) => c.head), ...pairs.map((p) => COLUMNS.map((c) => c.cell(p)))];
    out.push(render(rows, COLUMNS.map((c) => c.left ?? false)));
    out.push('');
  }
  if (results.fits.length) {
    out.push('growth exponents (cost ~ x^k over the sweeps; r2 in brackets)');
    const metrics = [...new Set(results.fits.map((f) => `${f.axis}:${f.metric}`))];
    const structures = [...new Set(results.fits.map((f) => f.structure))];
    const rows = [
      ['structure', ...metrics.map((m) => m.replace(':', ' '))],
      ...structures.map((st) => [
        st,
        ...metrics.map((m) => {
          const f = results.fits.find((x) => x.structure === st && `${x.axis}:${x.metric}` === m);
          return f ? `${f.exponent.toFixed(2)} (${f.r2.toFixed(2)})` : '-';
        }),
      ]),
    ];
    out.push(render(rows, [true, ...metrics.map(() => false)]));
    out.push('');
  }
  return out.join('\n');
}
