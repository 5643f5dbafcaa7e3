/**
 * summary.csv: one row per (structure, scenario, metric), columns
 * structure,scenario,metric,unit,value,ci_low,ci_high,samples.
 *
 * Estimates carry their 95% CI and sample count; exact figures (bytes,
 * pages, counts) leave ci_low, ci_high and samples empty. Sweep points use
 * the scenario name sweep-<axis>-<x> and fitted exponents fit-<axis>, with
 * metrics <metric>_exponent and <metric>_r2.
 */
import type { Estimate } from '../stats/summary.ts';
import type { PairResult, Results } from './schema.ts';

export const CSV_COLUMNS = ['structure', 'scenario', 'metric', 'unit', 'value', 'ci_low', 'ci_high', 'samples'] as const;

export interface CsvRow {
  structure: string;
  scenario: string;
  metric: string;
  unit: string;
  value: number;
  ciLow?: number;
  ciHigh?: number;
  samples?: number;
}

/** The metrics of every pair, in column order of importance. */
export function pairRows(p: PairResult): CsvRow[] {
  const rows: CsvRow[] = [];
  const est = (metric: string, unit: string, e: Estimate) =>
    rows.push({ structure: p.structure, scenario: p.scenario, metric, unit, value: e.value, ciLow: e.ciLow, ciHigh: e.ciHigh, samples: e.samples });
  const num = (metric: string, unit: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) rows.push({ structure: p.structure, scenario: p.scenario, metric, unit, value });
  };
  est('preserve_ns_per_folio', 'ns', p.preserveNsPerFolio);
  num('preserve_p50_ns', 'ns', p.preserveBatches.p50);
  num('preserve_p99_ns', 'ns', p.preserveBatches.p99);
  est('unpreserve_ns_per_folio', 'ns', p.unpreserveNsPerFolio);
  num('unpreserve_p50_ns', 'ns', p.unpreserveBatches.p50);
  num('unpreserve_p99_ns', 'ns', p.unpreserveBatches.p99);
  est('serialize_ms', 'ms', p.serializeMs);
  num('serialize_bytes', 'bytes', p.serializeBytes);
  num('serialize_pages', 'pages', p.serializePages);
  est('restore_ms', 'ms', p.restoreMs);
  est('restore_ns_per_folio', 'ns', p.restoreNsPerFolio);
  est('restore_walk_ms', 'ms', p.restoreWalkMs);
  if (p.restoreWalkNsPerFolio) est('restore_walk_ns_per_folio', 'ns', p.restoreWalkNsPerFolio);
  num('restore_metadata_objects', 'objects', p.restoreMetadataObjects);
  num('restore_metadata_bytes', 'bytes', p.restoreMetadataBytes);
  num('restore_metadata_pages', 'pages', p.touches?.restorePages);
  est('blackout_ms', 'ms', p.blackoutMs);
  num('metadata_bytes_handover', 'bytes', p.metadataBytesHandover);
  num('metadata_pages_handover', 'pages', p.metadataPagesHandover);
  num('metadata_bytes_peak', 'bytes', p.metadataBytesPeak);
  num('metadata_pages_peak', 'pages', p.metadataPagesPeak);
  num('metadata_bytes_per_folio', 'bytes', p.metadataBytesPerFolio);
  num('metadata_bytes_per_gib', 'bytes', p.metadataBytesPerGiB);
  num('pages_per_preserve', 'pages', p.touches?.pagesPerPreserve);
  num('lines_per_preserve', 'lines', p.touches?.linesPerPreserve);
  num('pages_per_restored_folio', 'pages', p.touches?.pagesPerRestoredFolio);
  num('lines_per_restored_folio', 'lines', p.touches?.linesPerRestoredFolio);
  num('folios', 'folios', p.folios);
  num('preserved_bytes', 'bytes', p.preservedBytes);
  if (p.crossCheck) est('preserve_ns_per_folio_benny', 'ns', p.crossCheck.preserveNsPerFolio);
  return rows;
}

export function summaryRows(results: Results): CsvRow[] {
  const rows = results.pairs.flatMap(pairRows);
  for (const s of results.sweeps) {
    const scenario = `sweep-${s.axis}-${s.x}`;
    const add = (metric: string, unit: string, value: number, e?: Estimate) =>
      rows.push({ structure: s.structure, scenario, metric, unit, value, ciLow: e?.ciLow, ciHigh: e?.ciHigh, samples: e?.samples });
    add('preserve_ns_per_folio', 'ns', s.preserveNsPerFolio, s.preserve);
    add('serialize_ms', 'ms', s.serializeMs, s.serialize);
    add('restore_ms', 'ms', s.restoreMs, s.restore);
    add('metadata_bytes_handover', 'bytes', s.metadataBytesHandover);
  }
  for (const f of results.fits) {
    const scenario = `fit-${f.axis}`;
    const metric = f.metric.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    rows.push({ structure: f.structure, scenario, metric: `${metric}_exponent`, unit: 'exponent', value: f.exponent, samples: f.points });
    rows.push({ structure: f.structure, scenario, metric: `${metric}_r2`, unit: 'r2', value: f.r2, samples: f.points });
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
    lines.push([r.structure, r.scenario, r.metric, r.unit, r.value, r.ciLow, r.ciHigh, r.samples].map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
