/**
 * The metrics the report decides on and compares, and the order in which
 * structures and scenarios are shown. Pure data, no rendering.
 */
import type { Estimate, PairResult, Results } from '../results/schema.ts';
import { SCENARIO_IDS } from '../../bench/scenarios.ts';
import { STRUCTURE_IDS } from '../tracker/tracker.ts';

export const GiB = 2 ** 30;

/** The structures in the order of the suite (registry order); unknown ids follow, sorted. */
export const KNOWN_STRUCTURES = STRUCTURE_IDS;
export const KNOWN_SCENARIOS = SCENARIO_IDS;

/**
 * Structures that are measured as a reference but do not compete for
 * "winner": the flat bitmap is a lower bound no kernel would ship.
 */
export const REFERENCE_STRUCTURES: readonly string[] = ['flat-bitmap'];

export type Unit = 'ns' | 'ms' | 'bytes';

export type MetricId =
  | 'preserveNsPerFolio'
  | 'unpreserveNsPerFolio'
  | 'serializeMs'
  | 'restoreMs'
  | 'blackoutMs'
  | 'metadataPerGiB'
  | 'metadataPeakPerGiB';

export interface MetricDef {
  id: MetricId;
  /** Column heading. */
  label: string;
  /** What it measures, for the "how to read" section and tooltips. */
  description: string;
  unit: Unit;
  /** 'estimate': measured with a 95% interval; 'exact': a deterministic count (no interval). */
  kind: 'estimate' | 'exact';
  /** The field of PairResult holding the per-batch distribution, if any. */
  batches?: 'preserveBatches' | 'unpreserveBatches';
  get(pair: PairResult): Estimate | undefined;
}

function exact(value: number): Estimate | undefined {
  return Number.isFinite(value) ? { value, ciLow: value, ciHigh: value, samples: 1 } : undefined;
}

function perGiB(bytes: number, pair: PairResult): Estimate | undefined {
  return pair.preservedBytes > 0 ? exact(bytes / (pair.preservedBytes / GiB)) : undefined;
}

export const METRICS: readonly MetricDef[] = [
  {
    id: 'preserveNsPerFolio',
    label: 'preserve',
    description: 'time to mark one folio preserved, ns per folio',
    unit: 'ns',
    kind: 'estimate',
    batches: 'preserveBatches',
    get: (p) => p.preserveNsPerFolio,
  },
  {
    id: 'unpreserveNsPerFolio',
    label: 'unpreserve',
    description: 'time to clear one preserved folio, ns per folio',
    unit: 'ns',
    kind: 'estimate',
    batches: 'unpreserveBatches',
    get: (p) => p.unpreserveNsPerFolio,
  },
  {
    id: 'serializeMs',
    label: 'serialization',
    description: 'time of the serialization step at kexec (finalize), ms; stateless trackers only publish their root',
    unit: 'ms',
    kind: 'estimate',
    get: (p) => p.serializeMs,
  },
  {
    id: 'restoreMs',
    label: 'restore',
    description: 'time for the next kernel to walk the metadata and reserve every preserved folio, ms',
    unit: 'ms',
    kind: 'estimate',
    get: (p) => p.restoreMs,
  },
  {
    id: 'blackoutMs',
    label: 'blackout',
    description: 'serialization plus restore: the time the kexec hand-over adds, ms',
    unit: 'ms',
    kind: 'estimate',
    get: (p) => p.blackoutMs,
  },
  {
    id: 'metadataPerGiB',
    label: 'metadata / GiB',
    description: 'metadata handed over to the next kernel, bytes per GiB preserved',
    unit: 'bytes',
    kind: 'exact',
    get: (p) => perGiB(p.metadataBytesHandover, p),
  },
  {
    id: 'metadataPeakPerGiB',
    label: 'peak metadata / GiB',
    description: 'peak metadata in the running kernel (live structure plus serialized copy), bytes per GiB preserved',
    unit: 'bytes',
    kind: 'exact',
    get: (p) => perGiB(p.metadataBytesPeak, p),
  },
];

export function metricDef(id: MetricId): MetricDef {
  const def = METRICS.find((m) => m.id === id);
  if (!def) throw new Error(`unknown metric ${id}`);
  return def;
}

function orderBy(known: readonly string[], ids: Iterable<string>): string[] {
  const set = [...new Set(ids)];
  const rank = (id: string) => {
    const i = known.indexOf(id);
    return i < 0 ? known.length : i;
  };
  return set.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Every structure that appears in the run, in suite order. */
export function structuresOf(results: Results): string[] {
  return orderBy(KNOWN_STRUCTURES, [...results.pairs.map((p) => p.structure), ...results.sweeps.map((s) => s.structure)]);
}

/** Every scenario of the run (declared or measured), in suite order. */
export function scenariosOf(results: Results): string[] {
  return orderBy(KNOWN_SCENARIOS, [...results.scenarios.map((s) => s.id), ...results.pairs.map((p) => p.scenario)]);
}

export function findPair(results: Results, structure: string, scenario: string): PairResult | undefined {
  return results.pairs.find((p) => p.structure === structure && p.scenario === scenario);
}

export function isReference(structure: string): boolean {
  return REFERENCE_STRUCTURES.includes(structure);
}
