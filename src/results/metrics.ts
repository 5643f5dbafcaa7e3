/**
 * Every metric the suite reports, under one name: the snake_case name of
 * summary.csv is also the key in results.json, the column of the terminal
 * tables and the name in the report. One table, so that a metric is spelled
 * one way everywhere.
 *
 * A metric is one of three kinds:
 *
 *   measured  a time, estimated in each of several fresh processes; its
 *             value is the mean of the per-process estimates and its 95%
 *             interval comes from them (the process is the unit of
 *             replication); it carries the per-process values and spread
 *   exact     a deterministic count (bytes, pages, lines, objects): the same
 *             in every process and on every machine; no interval
 *   model     the machine model's figure (src/model): deterministic, so
 *             exact too, but a model: it says which CPU it models
 *
 * Lower is better for every metric here except the workload's own size
 * (`folios`, `preserved_bytes`), which describe the scenario.
 */
import type { FamilyMember, TimingComparison } from '../stats/comparison.ts';

export type MetricKind = 'measured' | 'exact' | 'model';
export type MetricUnit = 'ns' | 'ms' | 'bytes' | 'pages' | 'lines' | 'objects' | 'folios' | 'accesses' | 'count';

export interface MetricDef {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: MetricUnit;
  /** One line: what it is. */
  readonly description: string;
  /** Whether it describes the scenario rather than a structure's cost (never ranked). */
  readonly descriptive?: boolean;
  /**
   * The measured metrics this one is computed from, per process (a total
   * over the folios, a sum of steps). A comparison does not test it as a
   * hypothesis of its own: it follows the tests of these (adjustFamily).
   */
  readonly derivedFrom?: readonly string[];
}

function def(name: string, kind: MetricKind, unit: MetricUnit, description: string, extra: Pick<MetricDef, 'descriptive' | 'derivedFrom'> = {}): MetricDef {
  return { name, kind, unit, description, ...extra };
}

/** A measured total per restored folio. */
function perFolio(name: string, total: string): MetricDef {
  return def(name, 'measured', 'ns', `${total} per restored folio`, { derivedFrom: [total] });
}

/** The metrics of a (structure, scenario) pair, in order of importance. */
export const PAIR_METRICS: readonly MetricDef[] = [
  def('preserve_ns_per_folio', 'measured', 'ns', 'time to mark one folio preserved'),
  def('unpreserve_ns_per_folio', 'measured', 'ns', 'time to clear one preserved folio'),
  def('serialize_ms', 'measured', 'ms', 'the serialization step at kexec (finalize); stateless trackers only publish their root'),
  def('restore_ms', 'measured', 'ms', "the next kernel's restore: the walk with memblock reservations and head struct pages, plus deferred struct page init when the scenario's kernel defers it"),
  perFolio('restore_ns_per_folio', 'restore_ms'),
  def('restore_walk_ms', 'measured', 'ms', 'the bare walk of the metadata (a sink that only counts); per process, the median of its timed walks'),
  perFolio('restore_walk_ns_per_folio', 'restore_walk_ms'),
  def('restore_memblock_ms', 'measured', 'ms', "memblock_reserve and memblock_reserved_mark_noinit of every folio (the place found by binary search; the model runs the kernel's linear scan)"),
  perFolio('restore_memblock_ns_per_folio', 'restore_memblock_ms'),
  def('restore_struct_pages_ms', 'measured', 'ms', 'struct pages with deferred struct page init: every struct page of every folio, then its head (priced from runs capped at 1 and 64 struct pages per folio)'),
  perFolio('restore_struct_pages_ns_per_folio', 'restore_struct_pages_ms'),
  def('restore_struct_pages_eager_ms', 'measured', 'ms', 'struct pages without deferred init: the head struct page of every folio only'),
  perFolio('restore_struct_pages_eager_ns_per_folio', 'restore_struct_pages_eager_ms'),
  def('blackout_ms', 'measured', 'ms', 'serialization plus restore, per process: what the hand-over adds to the kexec', {
    derivedFrom: ['serialize_ms', 'restore_ms'],
  }),
  def('preserve_ns_per_folio_benny', 'measured', 'ns', 'preserve latency as benny (benchmark.js) measures it (--cross-check)'),
  def('preserve_model_ns', 'model', 'ns', 'modeled time of one preserve per folio on the model CPU'),
  def('unpreserve_model_ns', 'model', 'ns', 'modeled time of one unpreserve per folio'),
  def('serialize_model_ms', 'model', 'ms', 'modeled time of the serialization step'),
  def('restore_model_ns_per_folio', 'model', 'ns', "modeled restore per folio: walk plus the kernel's per-folio work"),
  def('restore_walk_model_ns_per_folio', 'model', 'ns', 'modeled bare walk per restored folio'),
  def('restore_model_ms', 'model', 'ms', "modeled restore of the whole hand-over: walk plus the kernel's per-folio work"),
  def('blackout_model_ms', 'model', 'ms', 'modeled serialization plus restore'),
  def('dram_per_preserve', 'model', 'accesses', 'modeled DRAM line fetches per preserved folio'),
  def('dram_per_restored_folio', 'model', 'accesses', 'modeled DRAM line fetches per restored folio (walk and per-folio work)'),
  def('serialize_bytes', 'exact', 'bytes', 'metadata written by the serialization step'),
  def('serialize_pages', 'exact', 'pages', 'pages written by the serialization step'),
  def('metadata_bytes_handover', 'exact', 'bytes', 'tracker metadata at hand-over (after finalize)'),
  def('metadata_pages_handover', 'exact', 'pages', 'pages of tracker metadata at hand-over'),
  def('metadata_bytes_peak', 'exact', 'bytes', 'peak tracker metadata over the scenario, finalize included'),
  def('metadata_pages_peak', 'exact', 'pages', 'peak pages of tracker metadata'),
  def('metadata_bytes_per_folio', 'exact', 'bytes', 'metadata_bytes_handover per preserved folio'),
  def('metadata_bytes_per_gib', 'exact', 'bytes', 'metadata_bytes_handover per GiB preserved'),
  def('pages_per_preserve', 'exact', 'pages', 'distinct 4 KiB pages touched per preserved folio'),
  def('lines_per_preserve', 'exact', 'lines', 'distinct 64-byte lines touched per preserved folio'),
  def('pages_per_restored_folio', 'exact', 'pages', 'distinct pages the bare walk touched per restored folio'),
  def('lines_per_restored_folio', 'exact', 'lines', 'distinct lines the bare walk touched per restored folio'),
  def('restore_metadata_objects', 'exact', 'objects', 'metadata objects (pages, nodes, chunks, bitmaps) the restore entered'),
  def('restore_metadata_bytes', 'exact', 'bytes', 'metadata bytes the restore entered'),
  def('restore_metadata_pages', 'exact', 'pages', 'distinct pages the restore read'),
  def('memblock_regions', 'exact', 'count', 'regions in memblock.reserved after the restore'),
  def('memblock_moved', 'exact', 'count', 'region slots moved by out-of-order inserts (the memmove cost)'),
  def('memblock_scanned', 'exact', 'count', "regions memblock's linear scans visit over the restore (quadratic in disjoint regions; the model prices them, the timed runs search)"),
  def('lost_folios', 'exact', 'folios', 'folios the format cannot represent (RFC v1: orders above 9), which the kernel would lose'),
  def('folios', 'exact', 'folios', 'folios preserved at hand-over', { descriptive: true }),
  def('preserved_bytes', 'exact', 'bytes', 'bytes those folios cover', { descriptive: true }),
];

/** The key of a job's `unavailable` that stands for every metric of the pair (the workload cannot be built at all). */
export const ALL_METRICS = '*';

const BY_NAME = new Map(PAIR_METRICS.map((m) => [m.name, m]));

/** The definition of a metric; throws for a name not in the table (a programming error). */
export function metricDef(name: string): MetricDef {
  const m = BY_NAME.get(name);
  if (!m) throw new Error(`unknown metric ${name}`);
  return m;
}

export function isMetricName(name: string): boolean {
  return BY_NAME.has(name);
}

/**
 * A measured metric's comparison as a member of its family (adjustFamily):
 * a derived metric carries the metrics it is computed from; a name newer
 * than this table is tested on its own.
 */
export function familyMember(group: string, name: string, comparison: TimingComparison): FamilyMember {
  const derivedFrom = BY_NAME.get(name)?.derivedFrom;
  return { group, metric: name, comparison, ...(derivedFrom ? { derivedFrom } : {}) };
}
