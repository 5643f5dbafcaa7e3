/**
 * The design-space section, "What should come next": the family of
 * trackers (structures/family, 32 points), the named structures and the two
 * designs offered on the list but never built (xarray-prealloc, kho-array),
 * placed on the same axes, scenario by scenario: metadata handed over
 * (metadata_bytes_handover, exact) against the modeled blackout
 * (blackout_model_ms), and against the modeled preserve (preserve_model_ns).
 * Pure functions of Results; sentences are plain text.
 *
 * The frontier (paretoFrontier) uses the report's tie threshold, so that a
 * point is never called better for a difference within it:
 *  - q dominates p when q is within the threshold of p, or below it, on
 *    both axes, and below p beyond the threshold on at least one
 *    (q · (1 + t) < p);
 *  - the frontier is the set of points that no frontier point dominates.
 *    Dominance within a threshold is not transitive (a can dominate b and
 *    b dominate c while a does not dominate c), so "dominated by some point"
 *    would drop c for the sake of b, which is itself off the frontier; this
 *    rule keeps c. Every dominator has a smaller x · y, so taking the points
 *    in that order settles each one's dominators before it: the frontier is
 *    unique and every point off it is dominated by a point on it;
 *  - points within the threshold of each other on both axes tie: neither
 *    dominates the other, and frontier points that tie are named together
 *    (`tiedWith`); equal points (radix and its family twin) have the same
 *    dominators, so they are always on or off together.
 *
 * The best point is the one on the most frontiers (two per scenario), and
 * among those the one closest to the lowest figure of its scenario on the
 * three axes (geometric mean of value / lowest). Over the same scenarios,
 * ratios to any fixed point would rank the same way: the lowest is used so
 * that the ranking does not depend on radix being in the run.
 */
import type { PairResult, Results } from '../results/schema.ts';
import { type AnalysisOptions, DEFAULT_THRESHOLD } from './analysis.ts';
import { formatPercent, formatRatio, formatValue, listWords } from './format.ts';
import { designPointsOf, findPair, isDesignPoint, isReference, metricOf, modelCpuName, samplesOf, scenariosOf, structuresOf, whyMissing } from './metrics.ts';
import { type Spread, spreadOf } from './stats.ts';

/** What every point is held against: the KHO radix tree as merged. */
export const BASELINE = 'radix';

/** Offered on the list and never built in a kernel; this suite built them (structures/xarray-prealloc, structures/kho-array). */
const PROPOSALS: readonly string[] = ['xarray-prealloc', 'kho-array'];

/** The family point that is radix byte for byte (structures/family/README.md): the section checks that it is. */
export const BASELINE_TWIN = 'fam-l4096-f512-key-bitmap';

/** How to get a run with the section: said where a run has none. */
export const DESIGN_SPACE_COMMAND = 'npm run bench -- --design-space';

export const METADATA = 'metadata_bytes_handover';

export interface FrontierAxis {
  id: 'blackout' | 'preserve';
  /** "blackout": the y axis's short name in sentences. */
  label: string;
  /** The model metric on y (x is METADATA). */
  y: string;
}

export const FRONTIER_AXES: readonly FrontierAxis[] = [
  { id: 'blackout', label: 'blackout', y: 'blackout_model_ms' },
  { id: 'preserve', label: 'preserve', y: 'preserve_model_ns' },
];

/** The three figures a point is compared on, with the words for them. */
const FIGURES: readonly { metric: string; label: string; noun: string; unit: string }[] = [
  { metric: METADATA, label: 'metadata', noun: 'the metadata', unit: 'bytes' },
  { metric: 'blackout_model_ms', label: 'blackout', noun: 'the blackout', unit: 'ms' },
  { metric: 'preserve_model_ns', label: 'preserve', noun: 'the preserve cost', unit: 'ns' },
];

/** The measured timing that confirms each model figure (one process per pair in a design-space run). */
const MEASURED_OF: readonly { model: string; measured: string; label: string }[] = [
  { model: 'blackout_model_ms', measured: 'blackout_ms', label: 'blackout_ms' },
  { model: 'preserve_model_ns', measured: 'preserve_ns_per_folio', label: 'preserve_ns_per_folio' },
];

// ---------------------------------------------------------------------------
// Points

export type PointKind = 'family' | 'built' | 'proposal' | 'reference';

export interface FamilyParams {
  leafBytes: number;
  fanout: number;
  encoding: 'key' | 'perorder';
  leafKind: 'bitmap' | 'extent';
}

/** A family point's parameters, read from its id (`fam-l<leaf>-f<fanout>-<key|perorder>-<bitmap|extent>`). */
export function familyParams(id: string): FamilyParams | undefined {
  const m = /^fam-l(\d+)-f(\d+)-(key|perorder)-(bitmap|extent)$/.exec(id);
  if (!m) return undefined;
  return { leafBytes: Number(m[1]), fanout: Number(m[2]), encoding: m[3] as FamilyParams['encoding'], leafKind: m[4] as FamilyParams['leafKind'] };
}

function size(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

/** "128 B bitmap leaves, 64-entry tables, order-bit key", as the family's titles say it. */
function describeParams(p: FamilyParams): string {
  return `${size(p.leafBytes)} ${p.leafKind === 'bitmap' ? 'bitmap' : 'extent-list'} leaves, ${p.fanout}-entry tables, ${p.encoding === 'key' ? 'order-bit key' : 'per-order trees'}`;
}

export function pointKind(id: string): PointKind {
  if (isDesignPoint(id)) return 'family';
  if (isReference(id)) return 'reference';
  return PROPOSALS.includes(id) ? 'proposal' : 'built';
}

/** A point with what it is, for sentences: "kho-array (never built)", "fam-l128-… (128 B bitmap leaves, …)". */
export function describePoint(id: string): string {
  const p = familyParams(id);
  if (p) return `${id} (${describeParams(p)})`;
  const kind = pointKind(id);
  return kind === 'proposal' ? `${id} (offered on the list, never built)` : kind === 'reference' ? `${id} (lower bound)` : id;
}

// ---------------------------------------------------------------------------
// The frontier

export interface XY {
  id: string;
  x: number;
  y: number;
}

export interface Placed extends XY {
  onFrontier: boolean;
  /** The frontier points that dominate it (empty on the frontier). */
  dominatedBy: string[];
  /** The other frontier points within the threshold of it on both axes. */
  tiedWith: string[];
}

/** a below b beyond the threshold. */
function beyond(a: number, b: number, t: number): boolean {
  return a * (1 + t) < b;
}

/** a within the threshold of b, or below it. */
function notWorse(a: number, b: number, t: number): boolean {
  return a <= b * (1 + t);
}

/** q dominates p: not worse beyond the threshold on either axis, better beyond it on one. */
export function dominates(q: XY, p: XY, t: number): boolean {
  return notWorse(q.x, p.x, t) && notWorse(q.y, p.y, t) && (beyond(q.x, p.x, t) || beyond(q.y, p.y, t));
}

/** Within the threshold of each other on both axes. */
function ties(q: XY, p: XY, t: number): boolean {
  return notWorse(q.x, p.x, t) && notWorse(p.x, q.x, t) && notWorse(q.y, p.y, t) && notWorse(p.y, q.y, t);
}

/** Every point placed (see the module comment for the rules), sorted by x, then y. Ids must be unique. */
export function paretoFrontier(points: readonly XY[], t: number): Placed[] {
  // A dominator has a smaller x·y (or, at x·y = 0, a smaller x + y): in this order its dominators come first.
  const order = [...points].sort((a, b) => a.x * a.y - b.x * b.y || a.x + a.y - (b.x + b.y) || a.id.localeCompare(b.id));
  const on: XY[] = [];
  const placed: Placed[] = [];
  for (const p of order) {
    const by = on.filter((q) => dominates(q, p, t)).map((q) => q.id);
    if (by.length === 0) on.push(p);
    placed.push({ ...p, onFrontier: by.length === 0, dominatedBy: by, tiedWith: [] });
  }
  for (const p of placed) if (p.onFrontier) p.tiedWith = on.filter((q) => q.id !== p.id && ties(q, p, t)).map((q) => q.id);
  return placed.sort((a, b) => a.x - b.x || a.y - b.y || a.id.localeCompare(b.id));
}

/** The corners of the frontier's step line: the frontier points that lower y as x grows, by x. */
export function frontierLine(placed: readonly Placed[]): XY[] {
  const out: XY[] = [];
  for (const p of [...placed].filter((q) => q.onFrontier).sort((a, b) => a.x - b.x || a.y - b.y)) {
    if (out.length === 0 || p.y < out[out.length - 1].y) out.push({ id: p.id, x: p.x, y: p.y });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Per scenario

export interface PlacedPoint extends Placed {
  kind: PointKind;
}

export interface ScenarioFrontier {
  scenario: string;
  axis: FrontierAxis;
  /** Every candidate, placed, by x. */
  points: PlacedPoint[];
  /** Lower bounds (flat-bitmap): drawn, never ranked. */
  reference: (XY & { kind: PointKind })[];
  /** Points left out here, and why (a format that loses folios, a figure it cannot have). */
  excluded: { id: string; reason: string }[];
}

function lostFolios(pair: PairResult): number {
  return metricOf(pair, 'lost_folios')?.value ?? 0;
}

function frontierOf(results: Results, scenario: string, axis: FrontierAxis, ids: readonly string[], t: number): ScenarioFrontier {
  const candidates: (XY & { kind: PointKind })[] = [];
  const reference: (XY & { kind: PointKind })[] = [];
  const excluded: ScenarioFrontier['excluded'] = [];
  for (const id of ids) {
    const pair = findPair(results, id, scenario);
    if (!pair) continue;
    const lost = lostFolios(pair);
    // A format that drops folios hands over less and restores less: its point is not the same job done.
    if (lost > 0) {
      excluded.push({ id, reason: `loses ${lost} of ${pair.folios} folios` });
      continue;
    }
    const x = metricOf(pair, METADATA);
    const y = metricOf(pair, axis.y);
    if (!x || !y) {
      excluded.push({ id, reason: whyMissing(pair, !x ? METADATA : axis.y) });
      continue;
    }
    const point = { id, x: x.value, y: y.value, kind: pointKind(id) };
    (point.kind === 'reference' ? reference : candidates).push(point);
  }
  const kinds = new Map(candidates.map((c) => [c.id, c.kind]));
  return {
    scenario,
    axis,
    points: paretoFrontier(candidates, t).map((p) => ({ ...p, kind: kinds.get(p.id)! })),
    reference,
    excluded,
  };
}

// ---------------------------------------------------------------------------
// Across scenarios

export interface Membership {
  id: string;
  kind: PointKind;
  /** Per axis: the scenarios where it is on the frontier. */
  on: Record<FrontierAxis['id'], string[]>;
  /** Geometric mean of value / the scenario's lowest over its scenarios and the three figures (1: lowest everywhere). */
  score?: number;
}

export interface Versus {
  scenario: string;
  metric: string;
  label: string;
  unit: string;
  value: number;
  baseline: number;
  /** value / baseline. */
  ratio: number;
  /** value − baseline, in the metric's unit. */
  difference: number;
  verdict: 'better' | 'worse' | 'tie';
}

export interface VersusBaseline {
  id: string;
  /** Per scenario and figure. */
  rows: Versus[];
  /** Per figure: the ratios over the scenarios, and the smallest and largest difference. */
  summary: { metric: string; label: string; unit: string; spread: Spread; minDifference: number; maxDifference: number }[];
  /** Scenarios where it is worse beyond the threshold on some figure. */
  losesOn: { scenario: string; rows: Versus[] }[];
  /** The measured timings of this run, value / baseline's: confirmation of the model's direction. */
  measured: { metric: string; spread: Spread; sameDirection: number; of: number; processes: number }[];
}

export interface DesignSpace {
  threshold: number;
  /** The scenarios with family points measured, in the suite's order. */
  scenarios: string[];
  /** Scenarios the plan names that have no family point measured yet (a partial run). */
  pending: string[];
  /** Family points with pairs. */
  points: string[];
  /** Named structures placed (built, proposals, the lower bound). */
  named: string[];
  frontiers: ScenarioFrontier[];
  memberships: Membership[];
  /** Per axis: on the frontier in every scenario, and in most (more than half, not all). */
  everywhere: Record<FrontierAxis['id'], string[]>;
  most: Record<FrontierAxis['id'], string[]>;
  best?: { id: string; frontiers: number; of: number; score: number };
  /** The best point against radix (absent when radix is not measured, or is the best). */
  bestVsBaseline?: VersusBaseline;
  /** radix on the frontiers, and what dominates it where it is off. */
  baseline?: { frontiers: number; of: number; dominators: { id: string; count: number }[] };
  proposals: { id: string; frontiers: number; of: number; versus?: VersusBaseline; dominators: { id: string; count: number }[] }[];
  /** The family's radix twin, checked against radix on the bytes it hands over. */
  twin?: { identical: string[]; differs: { scenario: string; twin: number; baseline: number }[] };
  /** Timing processes per pair of the design space. */
  processes?: number;
  /** Plain-language conclusions, the first the headline. */
  conclusions: string[];
  /** What the frontier does not weigh: a title and its explanation. */
  caveats: { title: string; text: string }[];
}

/**
 * A run of `--design-space` alone: the runner plans the section with the sweeps and calibrations of a
 * profile run, and without them only for that flag. Takes the plan as read leniently (runs-index.ts).
 */
export function isDesignSpaceOnly(plan: { designSpace?: unknown; sweeps?: unknown } | undefined): boolean {
  return plan?.designSpace !== undefined && plan.designSpace !== null && plan.sweeps === false;
}

/** Whether the run has a design-space section to show. */
function hasDesignSpace(results: Results): boolean {
  return results.plan?.designSpace !== undefined || designPointsOf(results).length > 0;
}

/** The one line said where a run has no design-space section, around the command (each format sets it as code). */
export const NO_DESIGN_SPACE = {
  before: 'This run has no design-space section: ',
  after: ' (or the full profile) measures every point of the tracker family beside the named structures.',
} as const;

function verdictOf(ratio: number, t: number): Versus['verdict'] {
  if (ratio > 1 + t) return 'worse';
  if (ratio * (1 + t) < 1) return 'better';
  return 'tie';
}

/** -1, 0 or 1: below, within or above the threshold of 1. */
function direction(ratio: number, t: number): number {
  return ratio > 1 + t ? 1 : ratio * (1 + t) < 1 ? -1 : 0;
}

function versus(results: Results, id: string, scenarios: readonly string[], t: number): VersusBaseline {
  const rows: Versus[] = [];
  for (const sc of scenarios) {
    const a = findPair(results, id, sc);
    const b = findPair(results, BASELINE, sc);
    if (!a || !b || lostFolios(a) > 0 || lostFolios(b) > 0) continue;
    for (const f of FIGURES) {
      const va = metricOf(a, f.metric)?.value;
      const vb = metricOf(b, f.metric)?.value;
      if (va === undefined || vb === undefined || !(vb > 0)) continue;
      const ratio = va / vb;
      rows.push({ scenario: sc, metric: f.metric, label: f.label, unit: f.unit, value: va, baseline: vb, ratio, difference: va - vb, verdict: verdictOf(ratio, t) });
    }
  }
  const summary = FIGURES.flatMap((f) => {
    const mine = rows.filter((r) => r.metric === f.metric);
    const spread = spreadOf(mine.map((r) => ({ at: r.scenario, value: r.ratio })));
    if (!spread) return [];
    const diffs = mine.map((r) => r.difference);
    return [{ metric: f.metric, label: f.label, unit: f.unit, spread, minDifference: Math.min(...diffs), maxDifference: Math.max(...diffs) }];
  });
  const losesOn = scenarios.map((sc) => ({ scenario: sc, rows: rows.filter((r) => r.scenario === sc && r.verdict === 'worse') })).filter((x) => x.rows.length > 0);
  const measured = MEASURED_OF.flatMap((m) => {
    const per = scenarios.flatMap((sc) => {
      const a = findPair(results, id, sc);
      const b = findPair(results, BASELINE, sc);
      const ma = metricOf(a, m.measured);
      const mb = metricOf(b, m.measured);
      const xa = metricOf(a, m.model)?.value;
      const xb = metricOf(b, m.model)?.value;
      if (!a || !b || lostFolios(a) > 0 || lostFolios(b) > 0 || !ma || !mb || !(mb.value > 0) || xa === undefined || !(xb! > 0)) return [];
      return [{ at: sc, value: ma.value / mb.value, model: xa / xb!, processes: Math.min(ma.processes ?? 1, mb.processes ?? 1) }];
    });
    const spread = spreadOf(per);
    if (!spread) return [];
    const sameDirection = per.filter((r) => direction(r.value, t) === direction(r.model, t)).length;
    return [{ metric: m.label, spread, sameDirection, of: per.length, processes: Math.min(...per.map((r) => r.processes)) }];
  });
  return { id, rows, summary, losesOn, measured };
}

function dominatorsOf(frontiers: readonly ScenarioFrontier[], id: string): { id: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const f of frontiers) for (const d of f.points.find((p) => p.id === id)?.dominatedBy ?? []) counts.set(d, (counts.get(d) ?? 0) + 1);
  return [...counts.entries()].map(([d, count]) => ({ id: d, count })).sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
}

/** The section's analysis, or undefined when the run has no design space. */
export function designSpace(results: Results, options: AnalysisOptions = {}): DesignSpace | undefined {
  if (!hasDesignSpace(results)) return undefined;
  const t = options.threshold ?? DEFAULT_THRESHOLD;
  const plan = results.plan?.designSpace;
  const points = designPointsOf(results);
  const named = structuresOf(results);
  // In the suite's order, as every other section lists them.
  const suite = scenariosOf(results);
  const rank = (sc: string) => (suite.includes(sc) ? suite.indexOf(sc) : suite.length);
  const planned = [...(plan?.scenarios ?? new Set(results.pairs.filter((p) => points.includes(p.structure)).map((p) => p.scenario)))].sort((a, b) => rank(a) - rank(b));
  const scenarios = planned.filter((sc) => points.some((id) => findPair(results, id, sc)));
  const pending = planned.filter((sc) => !scenarios.includes(sc));
  const ids = [...named, ...points];
  const frontiers = scenarios.flatMap((sc) => FRONTIER_AXES.map((axis) => frontierOf(results, sc, axis, ids, t)));

  // Each figure's lowest per scenario, over the points that do the whole job (no lower bound, no lost folios).
  const lowest = new Map<string, number>();
  for (const sc of scenarios) {
    for (const f of FIGURES) {
      const vals = ids.flatMap((id) => {
        const p = findPair(results, id, sc);
        const v = metricOf(p, f.metric)?.value;
        return p && !isReference(id) && lostFolios(p) === 0 && v !== undefined && v > 0 ? [v] : [];
      });
      if (vals.length) lowest.set(`${sc}\u0000${f.metric}`, Math.min(...vals));
    }
  }
  const memberships: Membership[] = ids
    .filter((id) => !isReference(id))
    .map((id) => {
      const on = Object.fromEntries(
        FRONTIER_AXES.map((axis) => [axis.id, frontiers.filter((f) => f.axis.id === axis.id && f.points.some((p) => p.id === id && p.onFrontier)).map((f) => f.scenario)]),
      ) as Membership['on'];
      const logs = scenarios.flatMap((sc) => {
        const p = findPair(results, id, sc);
        if (!p || lostFolios(p) > 0) return [];
        return FIGURES.flatMap((f) => {
          const v = metricOf(p, f.metric)?.value;
          const lo = lowest.get(`${sc}\u0000${f.metric}`);
          return v !== undefined && v > 0 && lo ? [Math.log(v / lo)] : [];
        });
      });
      return { id, kind: pointKind(id), on, ...(logs.length ? { score: Math.exp(logs.reduce((s, x) => s + x, 0) / logs.length) } : {}) };
    });
  const n = scenarios.length;
  const everywhere = Object.fromEntries(FRONTIER_AXES.map((a) => [a.id, memberships.filter((m) => n > 0 && m.on[a.id].length === n).map((m) => m.id)])) as DesignSpace['everywhere'];
  const most = Object.fromEntries(
    FRONTIER_AXES.map((a) => [a.id, memberships.filter((m) => m.on[a.id].length > n / 2 && m.on[a.id].length < n).map((m) => m.id)]),
  ) as DesignSpace['most'];
  const count = (m: Membership) => FRONTIER_AXES.reduce((s, a) => s + m.on[a.id].length, 0);
  const of = n * FRONTIER_AXES.length;
  // Most frontiers first, then closest to the lowest; a named structure before its equal family twin.
  const ranked = memberships
    .filter((m) => m.score !== undefined && count(m) > 0)
    .sort((a, b) => count(b) - count(a) || a.score! - b.score! || Number(a.kind === 'family') - Number(b.kind === 'family') || a.id.localeCompare(b.id));
  const best = ranked[0] && { id: ranked[0].id, frontiers: count(ranked[0]), of, score: ranked[0].score! };
  const hasBaseline = named.includes(BASELINE) && scenarios.some((sc) => findPair(results, BASELINE, sc));
  const baselineMembership = memberships.find((m) => m.id === BASELINE);
  const twinPairs = scenarios.flatMap((sc) => {
    const a = metricOf(findPair(results, BASELINE_TWIN, sc), METADATA)?.value;
    const b = metricOf(findPair(results, BASELINE, sc), METADATA)?.value;
    return a !== undefined && b !== undefined ? [{ scenario: sc, twin: a, baseline: b }] : [];
  });
  const analysis: DesignSpace = {
    threshold: t,
    scenarios,
    pending,
    points,
    named,
    frontiers,
    memberships,
    everywhere,
    most,
    ...(best ? { best } : {}),
    ...(best && hasBaseline && best.id !== BASELINE ? { bestVsBaseline: versus(results, best.id, scenarios, t) } : {}),
    ...(hasBaseline && baselineMembership ? { baseline: { frontiers: count(baselineMembership), of, dominators: dominatorsOf(frontiers, BASELINE) } } : {}),
    proposals: PROPOSALS.filter((id) => named.includes(id)).map((id) => {
      const m = memberships.find((x) => x.id === id)!;
      return { id, frontiers: count(m), of, ...(hasBaseline ? { versus: versus(results, id, scenarios, t) } : {}), dominators: dominatorsOf(frontiers, id) };
    }),
    ...(twinPairs.length ? { twin: { identical: twinPairs.filter((x) => x.twin === x.baseline).map((x) => x.scenario), differs: twinPairs.filter((x) => x.twin !== x.baseline) } } : {}),
    ...(plan ? { processes: plan.processes } : {}),
    conclusions: [],
    caveats: [],
  };
  analysis.conclusions = conclusionsOf(analysis, results);
  analysis.caveats = caveatsOf(analysis, results);
  return analysis;
}

// ---------------------------------------------------------------------------
// Sentences

function signed(v: number, unit: string): string {
  if (v === 0) return '±0';
  return `${v < 0 ? '−' : '+'}${formatValue(Math.abs(v), unit)}`;
}

/** "0.12× (geometric mean over 4 scenarios; 0.004× on sparse-4k-128m to 1.2× on vm-2m), −15 MiB to +400 B" */
function describeSummary(s: VersusBaseline['summary'][number]): string {
  const diff = s.minDifference === s.maxDifference ? signed(s.minDifference, s.unit) : `${signed(s.minDifference, s.unit)} to ${signed(s.maxDifference, s.unit)}`;
  if (s.spread.n === 1) return `${s.label} ${formatRatio(s.spread.value)} on ${s.spread.minAt} (${diff})`;
  return `${s.label} ${formatRatio(s.spread.value)} (geometric mean over ${s.spread.n} scenarios; ${formatRatio(s.spread.min)} on ${s.spread.minAt} to ${formatRatio(s.spread.max)} on ${s.spread.maxAt}; ${diff})`;
}

/** "random-4k (preserve 3.1×, +52 ns)" per scenario. */
function describeLosses(v: VersusBaseline): string[] {
  return v.losesOn.map((l) => `${l.scenario} (${l.rows.map((r) => `${r.label} ${formatRatio(r.ratio)}, ${signed(r.difference, r.unit)}`).join('; ')})`);
}

function onWord(frontiers: number, of: number): string {
  return `on ${frontiers} of the ${of} frontiers`;
}

function conclusionsOf(ds: DesignSpace, results: Results): string[] {
  const out: string[] = [];
  const t = formatPercent(ds.threshold);
  const cpu = modelCpuName(results);
  const n = ds.scenarios.length;
  if (n === 0) {
    out.push(`No family point has been measured yet${ds.pending.length ? ` (planned on ${listWords(ds.pending)})` : ''}: nothing to place.`);
    return out;
  }
  const { best } = ds;
  const v = ds.bestVsBaseline;
  const where = `two per scenario, ${n} scenario${n === 1 ? '' : 's'}`;
  if (!best) {
    out.push(`No point is on a frontier: every scenario lacks the figures (${METADATA}, ${FRONTIER_AXES.map((a) => a.y).join(', ')}).`);
  } else if (best.id === BASELINE) {
    out.push(`Nothing in this design space does better than radix: it is ${onWord(best.frontiers, best.of)} (${where}), ${ranked(ds, best.id)}; modeled on ${cpu}, exact bytes, ties within ${t}.`);
  } else if (v && v.rows.length > 0 && v.rows.every((r) => r.verdict === 'tie')) {
    out.push(`Nothing in this design space does better than radix beyond ${t}: the best point, ${describePoint(best.id)}, ties with it on every figure of every scenario.`);
  } else {
    const noun = (metric: string) => FIGURES.find((f) => f.metric === metric)!.noun;
    const against = v?.summary.length
      ? ` Against radix it hands over ${listWords(v.summary.map((s) => `${formatRatio(s.spread.value)} ${noun(s.metric)}`))} (geometric means over the scenarios; times modeled on ${cpu})`
      : '';
    const losses = v ? v.losesOn.map((l) => l.scenario) : [];
    const lose = v ? (losses.length ? `, and loses on ${losses.length} of ${n} workloads: ${listWords(losses)}` : `, and loses on no workload beyond ${t}`) : '';
    out.push(`What should come next: ${describePoint(best.id)}.${against}${lose}${against || lose ? '.' : ''}`);
    out.push(`Why this point: it is ${onWord(best.frontiers, best.of)} (${where}), ${ranked(ds, best.id)}.`);
  }
  for (const axis of FRONTIER_AXES) {
    const all = ds.everywhere[axis.id];
    const most = ds.most[axis.id];
    const name = `metadata against ${axis.label} (${axis.y})`;
    out.push(
      `On the frontier of ${name} in all ${n} scenario${n === 1 ? '' : 's'}: ${all.length ? listWords(all) : 'no point'}` +
        `${n > 2 ? `; in most of them: ${most.length ? listWords(most.map((id) => `${id} (${ds.memberships.find((m) => m.id === id)!.on[axis.id].length} of ${n})`)) : 'no other point'}` : ''}.`,
    );
  }
  if (v) {
    const losses = describeLosses(v);
    out.push(`${best!.id} against radix, per figure: ${v.summary.map(describeSummary).join('; ')}.`);
    out.push(losses.length ? `It loses to radix beyond ${t} on ${listWords(losses)}.` : `It loses to radix beyond ${t} on no workload.`);
  } else if (!ds.baseline) {
    out.push('radix was not measured with the design space: no comparison with the merged tree.');
  }
  if (ds.baseline && best?.id !== BASELINE) {
    const top = ds.baseline.dominators.slice(0, 3).map((d) => `${d.id} (${d.count})`);
    out.push(`radix itself is ${onWord(ds.baseline.frontiers, ds.baseline.of)}${top.length ? `; where it is not, it is dominated most often by ${listWords(top)}` : ''}.`);
  }
  for (const p of ds.proposals) {
    if (p.id === best?.id) {
      out.push(`${p.id}, offered on the list and never built, is the best point (above).`);
      continue;
    }
    const ratios = p.versus?.summary.map((s) => `${formatRatio(s.spread.value)} radix's ${s.label}`) ?? [];
    const top = p.dominators.slice(0, 2).map((d) => `${d.id} (${d.count})`);
    out.push(
      `${p.id}, offered on the list and never built: ${onWord(p.frontiers, p.of)}${ratios.length ? `; ${listWords(ratios)} (geometric means)` : ''}` +
        `${top.length ? `; dominated most often by ${listWords(top)}` : ''}.`,
    );
  }
  const missing = PROPOSALS.filter((id) => !ds.named.includes(id));
  if (missing.length) out.push(`Not measured in this run, so not placed: ${listWords(missing)}.`);
  if (v?.measured.length) {
    const n1 = Math.min(...v.measured.map((m) => m.processes));
    out.push(
      `Measured here (JavaScript on this machine, ${n1} process${n1 === 1 ? '' : 'es'} per pair: confirmation only), ${best!.id} / radix: ` +
        `${v.measured.map((m) => `${m.metric} ${formatRatio(m.spread.value)}, in the model's direction on ${m.sameDirection} of ${m.of} scenario${m.of === 1 ? '' : 's'}`).join('; ')}.`,
    );
  }
  if (ds.twin) {
    out.push(
      ds.twin.differs.length === 0
        ? `${BASELINE_TWIN} hands over exactly radix's bytes in all ${ds.twin.identical.length} scenario${ds.twin.identical.length === 1 ? '' : 's'}, as the family's README says: it is radix's point on the charts.`
        : `${BASELINE_TWIN} should hand over exactly radix's bytes, and does not on ${listWords(ds.twin.differs.map((d) => `${d.scenario} (${formatValue(d.twin, 'bytes')} against ${formatValue(d.baseline, 'bytes')})`))}: the family's identity does not hold in this run.`,
    );
  }
  if (ds.pending.length) out.push(`Planned and not measured yet: ${listWords(ds.pending)}.`);
  return out;
}

/** Why the best point won: on more frontiers than any other, or as often as others and closer to the lowest figures; with its score. */
function ranked(ds: DesignSpace, id: string): string {
  const m = ds.memberships.find((x) => x.id === id)!;
  const count = (x: Membership) => FRONTIER_AXES.reduce((s, a) => s + x.on[a.id].length, 0);
  const peers = ds.memberships.filter((x) => x.id !== id && count(x) === count(m)).length;
  const score = `its figures are ${formatRatio(m.score!)} each scenario's lowest, geometric mean over metadata, blackout and preserve`;
  return peers ? `like ${peers} other point${peers === 1 ? '' : 's'}, and the closest of them to the lowest figures (${score})` : `more than any other point (${score})`;
}

function caveatsOf(ds: DesignSpace, results: Results): DesignSpace['caveats'] {
  const cpu = modelCpuName(results);
  const plural = (n: number) => `${n} timing process${n === 1 ? '' : 'es'}`;
  const named = results.plan?.processes;
  const points = ds.processes ?? named;
  // A profile run times its named structures more often than its family points: say both.
  const processes =
    points === undefined ? 'few timing processes per pair' : named !== undefined && named !== points ? `${plural(points)} per family point and ${named} per named structure` : `${plural(points)} per pair`;
  const samples = results.pairs.filter((p) => ds.points.includes(p.structure)).some((p) => samplesOf(p.metrics.preserve_ns_per_folio));
  return [
    {
      title: 'Format stability across kernel versions',
      text:
        'Every point is a format the next kernel must read, and that kernel may be another version. The maintainers argued on the list that a private, simple format is safer: ' +
        'each parameter a point adds (a leaf size, extent lists, a second order encoding) is one more layout to keep readable, and to check, in every kernel that may receive it. ' +
        'The frontier prices bytes and nanoseconds; it does not price that.',
    },
    {
      title: 'Locks and allocation',
      text:
        'The model sees every memory access of an operation and every atomic it issues (the compare-and-exchange that takes and releases a mutex around a preserve, for instance). ' +
        "It does not see contention between CPUs preserving at once, nor the page allocator's latency: a preserve that takes a page pays only for zeroing it.",
    },
    {
      title: 'What the model cannot see',
      text: `The CPU's frequency (it models one core of ${cpu} at a fixed clock), SMT siblings sharing that core, NUMA distance, and the cache state of a real kernel at kexec and at boot (it starts from its own).`,
    },
    {
      title: 'The measured timings are confirmation only',
      text: `JavaScript on this machine, ${processes}${samples ? '' : ' (a family point has no interval)'}. They say whether the model's direction shows; they rank nothing here.`,
    },
  ];
}
