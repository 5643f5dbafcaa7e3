/**
 * The report's view of a run: which structures and scenarios it holds and
 * in what order, which structure is compared with which, and the aspects
 * the decision table decides. Metric names and kinds come from
 * src/results/metrics.ts, so every table, chart and export spells a metric
 * the way summary.csv does. Pure data and lookups, no rendering.
 */
import type { MetricValue, PairResult, Results } from '../results/schema.ts';
import { type MetricDef, type MetricKind, type MetricUnit, PAIR_METRICS, familyMember, isMetricName, metricDef } from '../results/metrics.ts';
import { SCENARIO_IDS } from '../../bench/scenarios.ts';
import { STRUCTURE_IDS } from '../tracker/tracker.ts';

export { type MetricDef, type MetricKind, type MetricUnit, PAIR_METRICS, familyMember, metricDef };

export const KNOWN_STRUCTURES: readonly string[] = STRUCTURE_IDS;
export const KNOWN_SCENARIOS: readonly string[] = SCENARIO_IDS;

/**
 * Measured as a reference, never ranked: the flat bitmap is the least work
 * a tracker can do per folio, but its size grows with RAM, so no kernel
 * would ship it.
 */
export const REFERENCE_STRUCTURES: readonly string[] = ['flat-bitmap'];

export function isReference(structure: string): boolean {
  return REFERENCE_STRUCTURES.includes(structure);
}

/**
 * Each stateless tree against the serializing xarray tracker of its time:
 * the one it was offered to replace, so that a ratio answers the question
 * the list asked then. The first candidate measured in the run is used. A
 * stateless structure not listed here is compared with the newest
 * serializing tracker of the run (see pairings()).
 */
export const ERA_PAIRING: readonly { stateless: string; serializing: readonly string[]; reason: string }[] = [
  {
    stateless: 'ida',
    serializing: ['xarray-6.16'],
    reason: 'suggested on the RFC v1 thread (Sep 2025), when Linux 6.16 and 6.17 tracked with 512-byte bitmaps',
  },
  {
    stateless: 'radix-rfc',
    serializing: ['xarray-6.16'],
    reason: 'RFC v1 (16 Sep 2025) was posted against 6.17, whose tracker is the 6.16 one',
  },
  {
    stateless: 'radix',
    serializing: ['xarray-6.19', 'xarray-6.18'],
    reason: 'merged in 2026 (v9, 5 Apr 2026) in place of the page-bitmap tracker of 6.18 and 6.19',
  },
];

export interface Pairing {
  stateless: string;
  serializing: string;
  reason: string;
}

function orderBy(known: readonly string[], ids: Iterable<string>): string[] {
  const set = [...new Set(ids)];
  const rank = (id: string) => {
    const i = known.indexOf(id);
    return i < 0 ? known.length : i;
  };
  return set.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * A point of the design-space family (structures/family, ids `fam-…`). Its pairs belong to the
 * design-space section (design-space.ts): in the tables of the named structures 32 more columns
 * would bury the designs the list discussed.
 */
export function isDesignPoint(structure: string): boolean {
  return structure.startsWith('fam-');
}

/** Every named structure that appears in the run, in suite order (unknown ids last, sorted); the family's points are not among them. */
export function structuresOf(results: Results): string[] {
  return orderBy(KNOWN_STRUCTURES, [...results.pairs.map((p) => p.structure), ...results.sweeps.map((s) => s.structure)].filter((s) => !isDesignPoint(s)));
}

/** The family points with pairs in the run, sorted by id. */
export function designPointsOf(results: Results): string[] {
  return [...new Set(results.pairs.map((p) => p.structure).filter(isDesignPoint))].sort();
}

/** Every scenario of the run (declared or measured), in suite order. */
export function scenariosOf(results: Results): string[] {
  return orderBy(KNOWN_SCENARIOS, [...results.scenarios.map((s) => s.id), ...results.pairs.map((p) => p.scenario)]);
}

/** Scenarios with at least one measured pair. */
export function measuredScenarios(results: Results): string[] {
  return scenariosOf(results).filter((sc) => results.pairs.some((p) => p.scenario === sc));
}

export function findPair(results: Results, structure: string, scenario: string): PairResult | undefined {
  return results.pairs.find((p) => p.structure === structure && p.scenario === scenario);
}

/** A metric of a pair, if measured and finite. */
export function metricOf(pair: PairResult | undefined, name: string): MetricValue | undefined {
  const m = pair?.metrics[name];
  return m && Number.isFinite(m.value) ? m : undefined;
}

/** Why a pair has no value for a metric: the results' own reason, or "not measured". */
export function whyMissing(pair: PairResult | undefined, name: string): string {
  if (!pair) return 'pair not measured';
  return pair.unavailable?.[name] ?? 'not measured';
}

/** The kind of a metric; names from newer code than the report read as measured when they carry processes, else exact. */
export function kindOf(name: string, value?: MetricValue): MetricKind {
  if (isMetricName(name)) return metricDef(name).kind;
  return value?.perProcess ? 'measured' : 'exact';
}

export function unitOf(name: string, results?: Results): MetricUnit | string {
  if (isMetricName(name)) return metricDef(name).unit;
  return results?.metricDefs[name]?.unit ?? '';
}

/** The per-process values of a measured metric, when there are at least two. */
export function samplesOf(m: MetricValue | undefined): readonly number[] | undefined {
  return m?.perProcess && m.perProcess.length >= 2 ? m.perProcess : undefined;
}

/** Structures that serialize at kexec: those that wrote serialization metadata in some scenario. */
export function serializingStructures(results: Results): string[] {
  return structuresOf(results).filter((st) => results.pairs.some((p) => p.structure === st && (metricOf(p, 'serialize_bytes')?.value ?? 0) > 0));
}

/**
 * The head-to-head pairs of this run: every stateless tree measured, with
 * the serializing tracker of its time (ERA_PAIRING), or with the newest
 * serializing tracker of the run if it is not in that table.
 */
export function pairings(results: Results): Pairing[] {
  const all = structuresOf(results);
  const serializing = serializingStructures(results);
  const newest = serializing[serializing.length - 1];
  const out: Pairing[] = [];
  for (const st of all) {
    if (isReference(st) || serializing.includes(st)) continue;
    const era = ERA_PAIRING.find((p) => p.stateless === st);
    if (era) out.push({ stateless: st, serializing: era.serializing.find((x) => all.includes(x)) ?? era.serializing[0], reason: era.reason });
    else if (newest) {
      out.push({ stateless: st, serializing: newest, reason: 'not in the pairing table: compared with the newest serializing tracker of the run' });
    }
  }
  return out;
}

/** The first words of the model CPU's name ("AMD EPYC 9654"), for labels. */
export function modelCpuName(results: Results): string {
  const full = results.context.modelCpu;
  if (!full) return 'the model CPU';
  return full.split(/ \(|,/)[0].trim() || full;
}

/**
 * What the decision table decides. Each aspect ranks on its model or exact
 * metric (deterministic, the same on every machine) and checks the ranking
 * against the measured timing of this run, where there is one.
 */
export interface Aspect {
  id: string;
  label: string;
  /** The metric the ranking is on: a model or exact metric. */
  primary: string;
  /** The measured timing that confirms it, if any. */
  check?: string;
  /** Structures that lose folios are not ranked on this aspect (their restore is not comparable). */
  needsAllFolios?: boolean;
}

export const ASPECTS: readonly Aspect[] = [
  { id: 'preserve', label: 'preserve', primary: 'preserve_model_ns', check: 'preserve_ns_per_folio' },
  { id: 'unpreserve', label: 'unpreserve', primary: 'unpreserve_model_ns', check: 'unpreserve_ns_per_folio' },
  { id: 'serialize', label: 'serialization at kexec', primary: 'serialize_model_ms', check: 'serialize_ms' },
  { id: 'restore', label: 'restore', primary: 'restore_model_ns_per_folio', check: 'restore_ns_per_folio', needsAllFolios: true },
  { id: 'blackout', label: 'blackout', primary: 'blackout_model_ms', check: 'blackout_ms', needsAllFolios: true },
  { id: 'memory', label: 'metadata per GiB', primary: 'metadata_bytes_per_gib' },
];

/**
 * The model metric whose ratio between two structures is comparable with
 * the ratio of a measured one (same quantity, possibly per folio: at equal
 * folios a ratio of totals is a ratio per folio).
 */
export const MODEL_OF: Readonly<Record<string, string>> = {
  preserve_ns_per_folio: 'preserve_model_ns',
  unpreserve_ns_per_folio: 'unpreserve_model_ns',
  serialize_ms: 'serialize_model_ms',
  restore_ns_per_folio: 'restore_model_ns_per_folio',
  restore_ms: 'restore_model_ms',
  restore_walk_ns_per_folio: 'restore_walk_model_ns_per_folio',
  blackout_ms: 'blackout_model_ms',
};

/** Scenarios in which the tracker's memory, not JavaScript's own work, sets the cost: where measurement can see what the model models. */
export function isMemoryBound(scenario: string): boolean {
  return scenario.startsWith('sparse-');
}

export const DENSE_SCENARIO = 'dense-4k';
