/**
 * The analysis layer: pure functions from Results to the decision table,
 * the head-to-head comparisons, the three answers at the top of the
 * report, the model against the measurement, the calibrations and the
 * growth exponents. Nothing here renders; sentences are plain text.
 *
 * Two kinds of evidence, kept apart:
 *  - model and exact figures (the machine model's times on a named CPU,
 *    byte and line counts) are deterministic: a difference is real, and
 *    the practical threshold alone says whether it matters;
 *  - measured timings (JavaScript on this machine, one value per fresh
 *    process) confirm or contradict them; a difference counts only when
 *    the per-process values differ (Mann–Whitney, Benjamini–Hochberg over
 *    the table) and by more than the threshold.
 */
import type { MetricValue, PairResult, Results } from '../results/schema.ts';
import {
  type AaSummary,
  type FamilyMember,
  type TimingComparison,
  aaSummary,
  adjustAcrossMetrics,
  adjustFamily,
  compareProcessSamples,
} from '../stats/index.ts';
import { formatCount, formatPct, formatPercent, formatRatio, formatRatioInterval, formatValue, formatWithInterval, listWords, sig } from './format.ts';
import {
  ASPECTS,
  type Aspect,
  DENSE_SCENARIO,
  MODEL_OF,
  type Pairing,
  familyMember,
  findPair,
  isMemoryBound,
  isReference,
  kindOf,
  measuredScenarios,
  metricOf,
  modelCpuName,
  pairings,
  samplesOf,
  serializingStructures,
  structuresOf,
  whyMissing,
} from './metrics.ts';
import { type Interval, type Spread, geometricMeanInterval, ratioInterval, spreadOf } from './stats.ts';

/** Differences below this fraction are ties, for model, exact and measured figures alike. */
export const DEFAULT_THRESHOLD = 0.05;

/** Growth exponents need this many sweep points: fewer cannot tell a power law from a bend. */
export const MIN_FIT_POINTS = 5;

export interface AnalysisOptions {
  /** The practical threshold, a fraction (default DEFAULT_THRESHOLD). */
  threshold?: number;
}

function thresholdOf(o: AnalysisOptions): number {
  return o.threshold ?? DEFAULT_THRESHOLD;
}

/** Folios the format lost in this pair (RFC v1 above order 9). */
function lostFolios(pair: PairResult | undefined): number {
  return metricOf(pair, 'lost_folios')?.value ?? 0;
}

// ---------------------------------------------------------------------------
// Decision table

export type Confirmation = 'agrees' | 'contradicts' | 'within noise' | 'not measured';

export interface Ranked {
  structure: string;
  /** The primary (model or exact, else measured) value. */
  value: number;
  /** value / the lowest ranked value. */
  ratio: number;
  /** The measured timing of the same aspect, if any. */
  check?: MetricValue;
}

export interface Decision {
  aspect: Aspect;
  scenario: string;
  /** What the ranking rests on. */
  basis: 'model' | 'exact' | 'measured';
  /** The metric ranked on (the aspect's primary, or its check when the model is missing). */
  metric: string;
  verdict: 'winner' | 'tie' | 'only one' | 'not measured';
  /** Lowest first. */
  ranking: Ranked[];
  /** The lowest, and every structure within the threshold of it. */
  tied: string[];
  /** flat-bitmap and other lower bounds: shown, never ranked (ratio to the lowest ranked). */
  reference: Ranked[];
  /** Structures left out, and why. */
  excluded: { structure: string; reason: string }[];
  /** The measured check of the verdict: the lowest against the next one (winner) or the last tied one (tie). */
  confirmation: {
    verdict: Confirmation;
    /** Compared: the lowest and the other one. */
    lowest?: string;
    other?: string;
    /** lowest / other − 1 of the measured means, with its bootstrap interval; adjusted p. */
    comparison?: TimingComparison;
    processes?: [number, number];
    note?: string;
  };
}

interface Pending {
  decision: Decision;
  /** Index into the run's list of comparisons, adjusted together. */
  index?: number;
  /** For a measured basis: comparisons of each other contender against the lowest. */
  basisIndices?: number[];
}

function prepare(results: Results, aspect: Aspect, scenario: string, t: number, comparisons: TimingComparison[]): Pending {
  const structures = structuresOf(results);
  const excluded: Decision['excluded'] = [];
  const candidates: { structure: string; pair: PairResult }[] = [];
  for (const st of structures) {
    const pair = findPair(results, st, scenario);
    if (!pair) continue;
    const lost = lostFolios(pair);
    if (aspect.needsAllFolios && lost > 0) {
      excluded.push({ structure: st, reason: `loses ${lost} of ${pair.folios} folios` });
      continue;
    }
    if (!metricOf(pair, aspect.primary) && !(aspect.check && metricOf(pair, aspect.check))) {
      excluded.push({ structure: st, reason: whyMissing(pair, aspect.primary) });
      continue;
    }
    candidates.push({ structure: st, pair });
  }
  // Rank on the model or exact metric when every contender has it; otherwise on the measured one.
  const contenders = candidates.filter((c) => !isReference(c.structure));
  const useModel = contenders.length > 0 && contenders.every((c) => metricOf(c.pair, aspect.primary));
  const metric = useModel || !aspect.check ? aspect.primary : aspect.check;
  const basis: Decision['basis'] = useModel ? (kindOf(aspect.primary) === 'model' ? 'model' : 'exact') : 'measured';
  const entries = candidates
    .filter((c) => metricOf(c.pair, metric))
    .map((c) => ({
      structure: c.structure,
      value: metricOf(c.pair, metric)!.value,
      check: aspect.check ? metricOf(c.pair, aspect.check) : undefined,
    }))
    .sort((a, b) => a.value - b.value);
  const ranked = entries.filter((e) => !isReference(e.structure));
  const lowest = ranked[0]?.value;
  const withRatio = (e: (typeof entries)[number]): Ranked => ({ ...e, ratio: lowest > 0 ? e.value / lowest : e.value === lowest ? 1 : Infinity });
  const decision: Decision = {
    aspect,
    scenario,
    basis,
    metric,
    verdict: 'not measured',
    ranking: ranked.map(withRatio),
    tied: [],
    reference: entries.filter((e) => isReference(e.structure)).map(withRatio),
    excluded,
    confirmation: { verdict: 'not measured' },
  };
  if (ranked.length === 0) return { decision };
  if (ranked.length === 1) {
    decision.verdict = 'only one';
    decision.tied = [ranked[0].structure];
    return { decision };
  }
  const pending: Pending = { decision };
  const compare = (lowestE: Ranked, other: Ranked): number | undefined => {
    const a = samplesOf(lowestE.check);
    const b = samplesOf(other.check);
    if (!a || !b) return undefined;
    comparisons.push(compareProcessSamples(b, a, { noisePct: t * 100 }));
    return comparisons.length - 1;
  };
  if (basis === 'measured') {
    pending.basisIndices = decision.ranking.slice(1).map((e) => compare(decision.ranking[0], e) ?? -1);
    return pending;
  }
  decision.tied = decision.ranking.filter((e) => e.ratio <= 1 + t).map((e) => e.structure);
  decision.verdict = decision.tied.length > 1 ? 'tie' : 'winner';
  const other = decision.verdict === 'winner' ? decision.ranking[1] : decision.ranking[decision.tied.length - 1];
  decision.confirmation = { verdict: 'not measured', lowest: decision.ranking[0].structure, other: other.structure };
  if (aspect.check) pending.index = compare(decision.ranking[0], other);
  return pending;
}

function finish(p: Pending, adjusted: readonly TimingComparison[]): Decision {
  const d = p.decision;
  if (p.basisIndices) {
    // Measured basis: tied are those the rank test cannot tell from the lowest, or that differ by less than the threshold.
    const flags = p.basisIndices.map((i) => (i >= 0 ? adjusted[i].flagged && adjusted[i].change.value < 0 : false));
    d.tied = [d.ranking[0].structure, ...d.ranking.slice(1).filter((_, i) => !flags[i]).map((e) => e.structure)];
    d.verdict = d.tied.length > 1 ? 'tie' : 'winner';
    const i = p.basisIndices[0];
    d.confirmation = {
      verdict: 'not measured',
      lowest: d.ranking[0].structure,
      other: d.ranking[1].structure,
      note: 'no model figure for every structure: ranked on the measurement',
      ...(i >= 0 ? { comparison: adjusted[i], processes: processesOf(adjusted[i]) } : {}),
    };
    return d;
  }
  if (p.index === undefined) return d;
  const c = adjusted[p.index];
  let verdict: Confirmation;
  if (d.verdict === 'tie') verdict = c.flagged ? 'contradicts' : 'agrees';
  else verdict = !c.flagged ? 'within noise' : c.change.value < 0 ? 'agrees' : 'contradicts';
  const processes = processesOf(c);
  const note = Math.min(...processes) < 4 ? 'fewer than 4 processes a side: the rank test cannot reach p < 0.05' : undefined;
  d.confirmation = { ...d.confirmation, verdict, comparison: c, processes, ...(note ? { note } : {}) };
  return d;
}

function processesOf(c: TimingComparison): [number, number] {
  // compareProcessSamples(other, lowest): baseline is the other structure.
  return [c.processes.current, c.processes.baseline];
}

/** Every (aspect, scenario) cell, measured checks adjusted together (Benjamini–Hochberg over the table). */
export function decisionTable(results: Results, options: AnalysisOptions = {}): Decision[] {
  const t = thresholdOf(options);
  const comparisons: TimingComparison[] = [];
  const pending = measuredScenarios(results).flatMap((sc) => ASPECTS.map((a) => prepare(results, a, sc, t, comparisons)));
  const adjusted = adjustAcrossMetrics(comparisons);
  return pending.map((p) => finish(p, adjusted));
}

/** One line for a cell: the verdict, the others' ratios, the measured check. */
export function describeDecision(d: Decision, t = DEFAULT_THRESHOLD): string {
  if (d.verdict === 'not measured') return d.reference.length ? `only the lower bound (${d.reference[0].structure})` : 'not measured';
  const head =
    d.verdict === 'only one'
      ? `only ${d.tied[0]}`
      : d.verdict === 'tie'
        ? `tie: ${d.tied.join(' = ')} (within ${formatPercent(t)})`
        : `${d.tied[0]} lowest`;
  const rest = d.ranking.filter((e) => !d.tied.includes(e.structure)).map((e) => `${e.structure} ${formatRatio(e.ratio)}`);
  const c = d.confirmation;
  const check = c.comparison ? `; measured: ${c.verdict} (n = ${c.processes!.join('/')})` : '';
  return `${head}${rest.length ? `; ${rest.join(', ')}` : ''}${check}`;
}

// ---------------------------------------------------------------------------
// Head to head: each stateless tree against the serializing tracker of its time

export interface RatioSummary {
  /** The model or exact metric, and the per-scenario ratios stateless / serializing. */
  metric: string;
  spread?: Spread;
  perScenario: { scenario: string; ratio: number; measured?: Interval }[];
  /** The measured metric, its ratio summarized over the same scenarios (geometric mean with a 95% interval). */
  measuredMetric?: string;
  measured?: Interval;
  /** Fewest processes behind any measured value used. */
  processes?: number;
  /** Scenarios left out, and why. */
  skipped: string[];
}

function ratioSummary(results: Results, a: string, b: string, metric: string, scenarios: readonly string[], measuredMetric?: string, needsAllFolios = false): RatioSummary {
  const perScenario: RatioSummary['perScenario'] = [];
  const skipped: string[] = [];
  const factors: { samples: readonly number[]; power: 1 | -1 }[][] = [];
  let processes: number | undefined;
  for (const sc of scenarios) {
    const pa = findPair(results, a, sc);
    const pb = findPair(results, b, sc);
    if (!pa || !pb) {
      skipped.push(`${sc} (${!pa ? a : b} not measured)`);
      continue;
    }
    if (needsAllFolios && (lostFolios(pa) > 0 || lostFolios(pb) > 0)) {
      const who = lostFolios(pa) > 0 ? pa : pb;
      skipped.push(`${sc} (${who.structure} loses ${lostFolios(who)} folios)`);
      continue;
    }
    const ma = metricOf(pa, metric);
    const mb = metricOf(pb, metric);
    if (!ma || !mb || !(ma.value > 0)) {
      skipped.push(`${sc} (${!ma ? whyMissing(pa, metric) : !mb ? whyMissing(pb, metric) : `${a} is 0`})`);
      continue;
    }
    const sa = measuredMetric ? samplesOf(metricOf(pa, measuredMetric)) : undefined;
    const sb = measuredMetric ? samplesOf(metricOf(pb, measuredMetric)) : undefined;
    const measured = sa && sb ? ratioInterval(sa, sb) : undefined;
    if (sa && sb) {
      factors.push([
        { samples: sb, power: 1 },
        { samples: sa, power: -1 },
      ]);
      processes = Math.min(processes ?? Infinity, sa.length, sb.length);
    }
    perScenario.push({ scenario: sc, ratio: mb.value / ma.value, ...(measured ? { measured } : {}) });
  }
  const spread = spreadOf(perScenario.map((r) => ({ at: r.scenario, value: r.ratio })));
  const measured = factors.length === perScenario.length && factors.length > 0 ? geometricMeanInterval(factors) : undefined;
  return {
    metric,
    ...(spread ? { spread } : {}),
    perScenario,
    ...(measuredMetric ? { measuredMetric } : {}),
    ...(measured ? { measured, processes } : {}),
    skipped,
  };
}

export interface HeadToHead {
  pairing: Pairing;
  /** Either side missing from the run. */
  missing?: string;
  rows: { id: string; label: string; summary: RatioSummary }[];
}

export function headToHead(results: Results): HeadToHead[] {
  const scenarios = measuredScenarios(results);
  const sparse = scenarios.filter(isMemoryBound);
  const dense = scenarios.filter((s) => s === DENSE_SCENARIO);
  const all = structuresOf(results);
  return pairings(results).map((pairing) => {
    const { serializing: a, stateless: b } = pairing;
    if (!all.includes(a)) return { pairing, missing: `${a} was not measured in this run`, rows: [] };
    return {
      pairing,
      rows: [
        { id: 'preserve', label: 'preserve', summary: ratioSummary(results, a, b, 'preserve_model_ns', scenarios, 'preserve_ns_per_folio') },
        { id: 'restore', label: 'restore per folio', summary: ratioSummary(results, a, b, 'restore_model_ns_per_folio', scenarios, 'restore_ns_per_folio', true) },
        { id: 'blackout', label: 'blackout', summary: ratioSummary(results, a, b, 'blackout_model_ms', scenarios, 'blackout_ms', true) },
        { id: 'memory-sparse', label: 'metadata per GiB, sparse', summary: ratioSummary(results, a, b, 'metadata_bytes_per_gib', sparse) },
        { id: 'memory-dense', label: 'metadata per GiB, dense', summary: ratioSummary(results, a, b, 'metadata_bytes_per_gib', dense) },
      ],
    };
  });
}

/** "1.31× (geometric mean over 10 scenarios; 0.98× on hugetlb-1g to 6.2× on sparse-4k-128m)" */
export function describeSpreadRatio(s: Spread, what = 'scenarios'): string {
  if (s.n === 1) return `${formatRatio(s.value)} on ${s.minAt}`;
  return `${formatRatio(s.value)} (geometric mean over ${s.n} ${what}; ${formatRatio(s.min)} on ${s.minAt} to ${formatRatio(s.max)} on ${s.maxAt})`;
}

// ---------------------------------------------------------------------------
// The three answers

export interface Answer {
  id: 'serialization' | 'restore' | 'memory';
  question: string;
  /** The answer in one sentence: the figure, with its interval or its exactness. */
  headline?: string;
  /** Short supporting facts: ranges, measurements, head to head. */
  points: string[];
  /** The cause, from the numbers. */
  why: string[];
  missing: string[];
  /** More detail, shown with the table. */
  more: string[];
  /** The per-scenario numbers behind it. */
  table?: { head: string[]; rows: string[][] };
}

function valueSpread(results: Results, st: string, metric: string, scenarios: readonly string[]): Spread | undefined {
  return spreadOf(scenarios.map((sc) => ({ at: sc, value: metricOf(findPair(results, st, sc), metric)?.value ?? NaN })));
}

function measuredGeomean(results: Results, st: string, metric: string, scenarios: readonly string[]): { interval: Interval; processes: number } | undefined {
  const samples = scenarios.map((sc) => samplesOf(metricOf(findPair(results, st, sc), metric)));
  if (samples.length === 0 || samples.some((s) => !s)) return undefined;
  const interval = geometricMeanInterval(samples.map((s) => [{ samples: s!, power: 1 }]));
  return interval ? { interval, processes: Math.min(...samples.map((s) => s!.length)) } : undefined;
}

/** "2.23 µs on hugetlb-1g to 47.7 µs on sparse-4k-128m" */
function rangeOf(s: Spread, format: (v: number) => string): string {
  return s.n === 1 ? `${format(s.min)} on ${s.minAt}` : `${format(s.min)} on ${s.minAt} to ${format(s.max)} on ${s.maxAt}`;
}

function emptyAnswer(id: Answer['id'], question: string): Answer {
  return { id, question, points: [], why: [], missing: [], more: [] };
}

export function answerSerialization(results: Results): Answer {
  const answer = emptyAnswer('serialization', 'What does serialization cost at kexec, and what does removing it save?');
  const serializing = serializingStructures(results);
  if (serializing.length === 0) {
    answer.missing.push('Cannot answer: no serializing tracker (xarray-6.16, xarray-6.18, xarray-6.19) was measured in this run.');
    return answer;
  }
  const scenarios = measuredScenarios(results);
  const cpu = modelCpuName(results);
  const ms = (v: number) => formatValue(v, 'ms');
  const modeled = serializing
    .map((st) => ({ st, s: valueSpread(results, st, 'serialize_model_ms', scenarios) }))
    .filter((x): x is { st: string; s: Spread } => x.s !== undefined)
    .reverse();
  const roots = pairings(results)
    .map((p) => valueSpread(results, p.stateless, 'serialize_model_ms', scenarios)?.max)
    .filter((x): x is number => x !== undefined);
  if (modeled.length) {
    const n = Math.max(...modeled.map((m) => m.s.n));
    answer.headline =
      `Serialization at kexec costs ${listWords(modeled.map((m) => `${ms(m.s.value)} on ${m.st}`))} ` +
      `(modeled on ${cpu}, exact; geometric mean over ${n} scenario${n === 1 ? '' : 's'}), and removing it saves all of it` +
      `${roots.length ? `: a stateless tree's finalize only publishes its root (${ms(Math.max(...roots))} at most)` : ''}.`;
    // Trackers with the same range (6.18 and 6.19 share a format) are named together.
    const ranges = new Map<string, string[]>();
    for (const m of modeled) ranges.set(rangeOf(m.s, ms), [...(ranges.get(rangeOf(m.s, ms)) ?? []), m.st]);
    answer.points.push(`Range over the scenarios: ${[...ranges.entries()].map(([r, sts]) => `${listWords(sts)} ${r}`).join('; ')}.`);
  } else {
    answer.missing.push('No modeled serialization (serialize_model_ms) in this run.');
  }
  const measured = [...serializing]
    .reverse()
    .map((st) => ({ st, m: measuredGeomean(results, st, 'serialize_ms', scenarios) }))
    .filter((x): x is { st: string; m: NonNullable<ReturnType<typeof measuredGeomean>> } => x.m !== undefined);
  if (measured.length) {
    answer.points.push(
      `Measured here (JavaScript on this machine, geometric mean with its 95% interval, n = ${Math.min(...measured.map((x) => x.m.processes))} processes per pair): ` +
        `${measured.map((x) => `${x.st} ${formatWithInterval(x.m.interval.value, x.m.interval.low, x.m.interval.high, 'ms')}`).join(', ')}.`,
    );
  }
  const main = serializing[serializing.length - 1];
  const share = spreadOf(
    scenarios.map((sc) => {
      const p = findPair(results, main, sc);
      const s = metricOf(p, 'serialize_model_ms')?.value;
      const b = metricOf(p, 'blackout_model_ms')?.value;
      return { at: sc, value: s !== undefined && b ? s / b : NaN };
    }),
  );
  if (share) {
    answer.why.push(
      `It is ${formatPct(share.value)} of ${main}'s modeled blackout (${rangeOf(share, formatPct)}); the rest is the next kernel's restore, ` +
        `which removing serialization does not shorten: a blackout difference between the designs is a restore difference (question 2).`,
    );
  }
  const bytes = valueSpread(results, main, 'serialize_bytes', scenarios);
  if (bytes) {
    answer.more.push(`It grows with the bitmaps it lists, 16 bytes each in 4 KiB chunks: serialize_bytes of ${main} from ${rangeOf(bytes, (v) => formatValue(v, 'bytes'))}.`);
  }
  answer.table = {
    head: ['scenario', ...serializing.flatMap((st) => [`${st} serialize_model_ms`, `${st} serialize_ms [95%] (n)`, `${st} serialize_bytes`])],
    rows: scenarios.map((sc) => [
      sc,
      ...serializing.flatMap((st) => {
        const p = findPair(results, st, sc);
        const m = metricOf(p, 'serialize_model_ms');
        const s = metricOf(p, 'serialize_ms');
        const b = metricOf(p, 'serialize_bytes');
        return [m ? ms(m.value) : '—', s ? `${formatWithInterval(s.value, s.ciLow, s.ciHigh, 'ms')} (${s.processes ?? '?'})` : '—', b ? formatValue(b.value, 'bytes') : '—'];
      }),
    ]),
  };
  return answer;
}

const RESTORE_PARTS = [
  { name: 'walk', metric: 'restore_walk_ns_per_folio' },
  { name: 'memblock', metric: 'restore_memblock_ns_per_folio' },
  { name: 'struct pages', metric: 'restore_struct_pages_ns_per_folio' },
] as const;

function counts(s: RatioSummary, t: number): string {
  const slower = s.perScenario.filter((r) => r.ratio > 1 + t).length;
  const faster = s.perScenario.filter((r) => r.ratio < 1 / (1 + t)).length;
  const ties = s.perScenario.length - slower - faster;
  return [slower ? `slower on ${slower}` : '', faster ? `faster on ${faster}` : '', ties ? `within ${formatPercent(t)} on ${ties}` : ''].filter(Boolean).join(', ');
}

export function answerRestore(results: Results, options: AnalysisOptions = {}): Answer {
  const t = thresholdOf(options);
  const answer = emptyAnswer('restore', "How does the next kernel's restore differ between the designs, and why?");
  const cpu = modelCpuName(results);
  const scenarios = measuredScenarios(results);
  const pairs = pairings(results);
  if (pairs.length === 0) answer.missing.push('Cannot answer: no stateless tree and serializing tracker were both measured.');
  const tableRows: string[][] = [];
  const summaries: { p: Pairing; s: RatioSummary; top?: string }[] = [];
  for (const p of pairs) {
    const { serializing: a, stateless: b } = p;
    if (!structuresOf(results).includes(a)) {
      answer.missing.push(`${b} vs ${a}: ${a} was not measured in this run.`);
      continue;
    }
    const s = ratioSummary(results, a, b, 'restore_model_ns_per_folio', scenarios, 'restore_ns_per_folio', true);
    if (!s.spread) {
      answer.missing.push(`${b} vs ${a}: no scenario with a modeled restore for both${s.skipped.length ? ` (${s.skipped.join('; ')})` : ''}.`);
      continue;
    }
    // Which part of the measured restore carries the difference, scenario by scenario.
    const used = s.perScenario.map((r) => r.scenario);
    const dominant = new Map<string, string[]>();
    for (const sc of used) {
      const diffs = RESTORE_PARTS.map((part) => {
        const va = metricOf(findPair(results, a, sc), part.metric)?.value;
        const vb = metricOf(findPair(results, b, sc), part.metric)?.value;
        return { name: part.name, d: va !== undefined && vb !== undefined ? Math.abs(vb - va) : -1 };
      }).sort((x, y) => y.d - x.d);
      if (diffs[0].d >= 0) dominant.set(diffs[0].name, [...(dominant.get(diffs[0].name) ?? []), sc]);
    }
    const ranked = [...dominant.entries()].sort((x, y) => y[1].length - x[1].length);
    const partRatios = RESTORE_PARTS.map((part) => ({ part, r: ratioSummary(results, a, b, part.metric, used).spread }))
      .filter((x) => x.r)
      .map((x) => `${x.part.name} ${formatRatio(x.r!.value)}`);
    const geo = (st: string, metric: string) => valueSpread(results, st, metric, used)?.value;
    const lines = [geo(b, 'lines_per_restored_folio'), geo(a, 'lines_per_restored_folio')];
    const dram = [geo(b, 'dram_per_restored_folio'), geo(a, 'dram_per_restored_folio')];
    const measured = s.measured ? `; measured ${formatRatioInterval(s.measured.value, s.measured.low, s.measured.high)}, n ≥ ${s.processes}` : '';
    const bits = [`${b} vs ${a}: ${formatRatio(s.spread.value)} (${rangeOf(s.spread, formatRatio)})${measured}`];
    if (ranked.length) {
      const [top, where] = ranked[0];
      bits.push(`mostly the ${top} (${where.length} of ${used.length} scenarios)`);
    }
    answer.points.push(`${bits.join('; ')}.`);
    const others = ranked.slice(1).map(([name, sc]) => `the ${name} on ${sc.join(', ')}`);
    answer.more.push(
      `${b} vs ${a}: ${counts(s, t)}` +
        `${ranked.length ? `; the ${ranked[0][0]} carries most of the difference on ${ranked[0][1].length} of ${used.length} scenarios${others.length ? `, ${listWords(others)}` : ''}` : ''}` +
        `${partRatios.length ? `; measured ${partRatios.join(', ')}` : ''}` +
        `${lines.every((x) => x !== undefined) ? `; ${sig(lines[0]!)} vs ${sig(lines[1]!)} lines read per restored folio (exact)` : ''}` +
        `${dram.every((x) => x !== undefined) ? `, ${sig(dram[0]!)} vs ${sig(dram[1]!)} DRAM fetches (model)` : ''} (geometric means).`,
    );
    summaries.push({ p, s, ...(ranked.length ? { top: ranked[0][0] } : {}) });
    for (const r of s.perScenario) {
      tableRows.push([
        `${b} / ${a}`,
        r.scenario,
        formatRatio(r.ratio),
        r.measured ? formatRatioInterval(r.measured.value, r.measured.low, r.measured.high) : '—',
        ...RESTORE_PARTS.map((part) => {
          const va = metricOf(findPair(results, a, r.scenario), part.metric)?.value;
          const vb = metricOf(findPair(results, b, r.scenario), part.metric)?.value;
          return va !== undefined && vb !== undefined && va > 0 ? formatRatio(vb / va) : '—';
        }),
      ]);
    }
  }
  if (summaries.length) {
    const sorted = [...summaries].sort((x, y) => x.s.spread!.value - y.s.spread!.value);
    const lo = sorted[0];
    const hi = sorted[sorted.length - 1];
    const tops = [...new Set(summaries.map((x) => x.top).filter((x): x is string => x !== undefined))];
    const span =
      summaries.length === 1
        ? `${formatRatio(lo.s.spread!.value)} that of ${lo.p.serializing} (${lo.p.stateless})`
        : `${formatRatio(lo.s.spread!.value)} (${lo.p.stateless}) to ${formatRatio(hi.s.spread!.value)} (${hi.p.stateless}) that of the xarray tracker of its time`;
    answer.headline =
      `Per restored folio, a stateless tree's restore takes ${span} (modeled on ${cpu}, geometric means over the scenarios)` +
      `${tops.length === 1 ? `, and the difference is in the ${tops[0]}` : tops.length ? `; the difference is in the ${listWords(tops)}` : ''}.`;
    // The largest difference, and what the walk read there.
    const top = [...summaries].sort((x, y) => Math.max(y.s.spread!.max, 1 / y.s.spread!.min) - Math.max(x.s.spread!.max, 1 / x.s.spread!.min))[0];
    const extreme = top.s.spread!.max >= 1 / top.s.spread!.min ? { r: top.s.spread!.max, at: top.s.spread!.maxAt } : { r: top.s.spread!.min, at: top.s.spread!.minAt };
    const at = (st: string, metric: string) => metricOf(findPair(results, st, extreme.at), metric)?.value;
    const lb = at(top.p.stateless, 'lines_per_restored_folio');
    const la = at(top.p.serializing, 'lines_per_restored_folio');
    const pb = at(top.p.stateless, 'pages_per_restored_folio');
    const pa = at(top.p.serializing, 'pages_per_restored_folio');
    if (lb !== undefined && la !== undefined) {
      answer.why.push(
        `The largest gap, ${top.p.stateless} ${formatRatio(extreme.r)} ${top.p.serializing} on ${extreme.at}, is what the walk reads: ${sig(lb)} lines${pb !== undefined ? ` in ${sig(pb)} page${sig(pb) === '1' ? '' : 's'}` : ''} per restored folio against ${sig(la)}${pa !== undefined ? ` in ${sig(pa)}` : ''}.`,
      );
    }
    // memblock costs the same per folio unless the walk order makes it move its tail.
    const moved = summaries.flatMap((x) =>
      x.s.perScenario.flatMap((r) => {
        const mb = metricOf(findPair(results, x.p.stateless, r.scenario), 'memblock_moved')?.value;
        const ma = metricOf(findPair(results, x.p.serializing, r.scenario), 'memblock_moved')?.value;
        return mb !== undefined && ma !== undefined && ma > 0 && Math.abs(mb / ma - 1) > t ? [`${x.p.stateless} ${formatRatio(mb / ma)} on ${r.scenario}`] : [];
      }),
    );
    if (moved.length) answer.more.push(`memblock differs where the walk order makes it move more of its array (memblock_moved, stateless / serializing: ${moved.join(', ')}).`);
  }
  // Folios a format loses are a restore that does not happen: say so, and where.
  const lost = results.pairs.filter((p) => lostFolios(p) > 0);
  for (const st of [...new Set(lost.map((p) => p.structure))]) {
    const where = lost.filter((p) => p.structure === st).map((p) => `${formatCount(lostFolios(p))} of ${formatCount(p.folios)} on ${p.scenario}`);
    answer.points.push(`${st} loses folios its format cannot hold (lost_folios: ${listWords(where)}): not compared there.`);
  }
  answer.table = {
    head: ['pair', 'scenario', 'restore_model_ns_per_folio ratio', 'restore_ns_per_folio ratio [95%]', ...RESTORE_PARTS.map((p) => `${p.metric} ratio`)],
    rows: tableRows,
  };
  return answer;
}

export function answerMemory(results: Results): Answer {
  const answer = emptyAnswer('memory', 'What does each design cost in memory, on sparse against dense memory?');
  const scenarios = measuredScenarios(results);
  const sparse = scenarios.filter(isMemoryBound);
  const dense = scenarios.includes(DENSE_SCENARIO) ? DENSE_SCENARIO : undefined;
  const structures = structuresOf(results).filter((s) => !isReference(s));
  if (!dense) answer.missing.push(`${DENSE_SCENARIO} (dense memory) is not in this run.`);
  if (!sparse.length) answer.missing.push('No sparse scenario (sparse-4k-16m, sparse-4k-128m) is in this run.');
  const per = (st: string, sc: string) => metricOf(findPair(results, st, sc), 'metadata_bytes_per_gib')?.value;
  const bytes = (v: number) => formatValue(v, 'bytes');
  const parts: string[] = [];
  if (dense) {
    const vals = structures.map((st) => ({ st, v: per(st, dense) })).filter((x): x is { st: string; v: number } => x.v !== undefined).sort((x, y) => x.v - y.v);
    if (vals.length) parts.push(`${bytes(vals[0].v)} (${vals[0].st}) to ${bytes(vals[vals.length - 1].v)} (${vals[vals.length - 1].st}) per GiB preserved on dense memory (${dense})`);
  }
  const sparseVals = structures
    .map((st) => ({ st, s: spreadOf(sparse.map((sc) => ({ at: sc, value: per(st, sc) ?? NaN }))) }))
    .filter((x): x is { st: string; s: Spread } => x.s !== undefined && x.s.n === sparse.length)
    .sort((x, y) => x.s.value - y.s.value);
  if (sparseVals.length) {
    const lo = sparseVals[0];
    const hi = sparseVals[sparseVals.length - 1];
    parts.push(`${bytes(lo.s.value)} (${lo.st}) to ${bytes(hi.s.value)} (${hi.st}) on sparse memory (${listWords(sparse)}${sparse.length > 1 ? ', geometric mean' : ''})`);
  }
  if (parts.length) answer.headline = `The designs hand over ${parts.join(', against ')}: metadata_bytes_per_gib, exact.`;
  const h2h = headToHead(results)
    .filter((h) => !h.missing)
    .map((h) => {
      const sp = h.rows.find((r) => r.id === 'memory-sparse')?.summary.spread;
      const de = h.rows.find((r) => r.id === 'memory-dense')?.summary.spread;
      if (!sp && !de) return undefined;
      return `${h.pairing.stateless} needs ${[sp ? `${formatRatio(sp.value)} ${h.pairing.serializing}'s metadata on sparse memory` : '', de ? `${formatRatio(de.value)} on dense` : ''].filter(Boolean).join(' and ')}`;
    })
    .filter((x): x is string => x !== undefined);
  if (h2h.length) answer.points.push(`Head to head: ${h2h.join('; ')}.`);
  // Why: on the sparsest scenario, what one folio costs.
  const spacing = (id: string) => {
    const sc = results.scenarios.find((s) => s.id === id);
    return (sc?.ramBytes ?? 0) / (sc?.folios ?? findPair(results, structures[0] ?? '', id)?.folios ?? 1);
  };
  const sparsest = [...sparse].sort((x, y) => spacing(y) - spacing(x))[0];
  if (sparsest) {
    const perFolio = structures
      .map((st) => ({ st, v: metricOf(findPair(results, st, sparsest), 'metadata_bytes_per_folio')?.value }))
      .filter((x): x is { st: string; v: number } => x.v !== undefined)
      .sort((x, y) => y.v - x.v);
    if (perFolio.length) {
      answer.why.push(
        `Spread-out folios share no leaf: on ${sparsest} each folio costs ${perFolio.map((x) => `${bytes(x.v)} (${x.st})`).join(', ')} (metadata_bytes_per_folio), ` +
          `a leaf and the nodes above it of its own; on dense memory thousands of folios share each leaf.`,
      );
    }
  }
  answer.table = {
    head: ['scenario', ...structuresOf(results).map((st) => `${st} metadata_bytes_per_gib`)],
    rows: scenarios.map((sc) => [sc, ...structuresOf(results).map((st) => {
      const v = per(st, sc);
      return v === undefined ? '—' : bytes(v);
    })]),
  };
  return answer;
}

export function answers(results: Results, options: AnalysisOptions = {}): Answer[] {
  return [answerSerialization(results), answerRestore(results, options), answerMemory(results)];
}

// ---------------------------------------------------------------------------
// The model against the measurement

export type Agreement = 'agree' | 'same direction' | 'disagree';

export interface ModelCheck {
  pair: { a: string; b: string };
  /** A memory-bound scenario, or a sweep point (sweep-<axis>-<x>). */
  where: string;
  measuredMetric: string;
  modelMetric: string;
  /** b / a. */
  modelRatio: number;
  measured: Interval;
  processes: number;
  verdict: Agreement;
}

function direction(low: number, high: number, t: number): number {
  if (low > 1 + t) return 1;
  if (high < 1 / (1 + t)) return -1;
  return 0;
}

function agreement(model: number, measured: Interval, t: number): Agreement {
  if (model >= measured.low && model <= measured.high) return 'agree';
  const dm = direction(model, model, t);
  const dx = direction(measured.low, measured.high, t);
  if (dm !== 0 && dm === dx) return 'same direction';
  if (dm === 0 && dx === 0) return 'agree';
  return 'disagree';
}

/**
 * The model's ratio between the two structures of each head-to-head pair
 * beside the measured ratio, where measurement can see what the model
 * models: the memory-bound scenarios and the sweep points.
 */
export function modelVsMeasured(results: Results, options: AnalysisOptions = {}): ModelCheck[] {
  const t = thresholdOf(options);
  const out: ModelCheck[] = [];
  const pairs = pairings(results).filter((p) => structuresOf(results).includes(p.serializing));
  const check = (a: string, b: string, where: string, ma: Record<string, MetricValue> | undefined, mb: Record<string, MetricValue> | undefined) => {
    if (!ma || !mb) return;
    for (const [measuredMetric, modelMetric] of Object.entries(MODEL_OF)) {
      const sa = samplesOf(ma[measuredMetric]);
      const sb = samplesOf(mb[measuredMetric]);
      const xa = ma[modelMetric]?.value;
      const xb = mb[modelMetric]?.value;
      if (!sa || !sb || !(xa! > 0) || xb === undefined) continue;
      // restore_ms and restore_ns_per_folio say the same at equal folios: keep the per-folio one where both exist.
      if (measuredMetric === 'restore_ms' && ma.restore_ns_per_folio) continue;
      const measured = ratioInterval(sa, sb);
      if (!measured) continue;
      const modelRatio = xb / xa!;
      out.push({ pair: { a, b }, where, measuredMetric, modelMetric, modelRatio, measured, processes: Math.min(sa.length, sb.length), verdict: agreement(modelRatio, measured, t) });
    }
  };
  for (const p of pairs) {
    for (const sc of measuredScenarios(results).filter(isMemoryBound)) {
      const pa = findPair(results, p.serializing, sc);
      const pb = findPair(results, p.stateless, sc);
      if (lostFolios(pa) > 0 || lostFolios(pb) > 0) continue;
      check(p.serializing, p.stateless, sc, pa?.metrics, pb?.metrics);
    }
    for (const pt of results.sweeps.filter((s) => s.structure === p.serializing)) {
      const other = results.sweeps.find((s) => s.structure === p.stateless && s.axis === pt.axis && s.x === pt.x);
      check(p.serializing, p.stateless, `sweep-${pt.axis}-${pt.x}`, pt.metrics, other?.metrics);
    }
  }
  return out;
}

/** A scenario as is; a sweep point as "the RAM sweep at 256 GiB" or "the folio sweep at 10,000 folios". */
export function describeWhere(where: string): string {
  const m = /^sweep-(folios|ram)-(\d+(?:\.\d+)?)$/.exec(where);
  if (!m) return where;
  const x = Number(m[2]);
  return m[1] === 'ram' ? `the RAM sweep at ${formatValue(x, 'bytes')}` : `the folio sweep at ${formatCount(x)} folios`;
}

/** One sentence per pair: how often the model and the measurement agree, and the cases where they do not. */
export function describeModelChecks(checks: readonly ModelCheck[]): string[] {
  const byPair = new Map<string, ModelCheck[]>();
  for (const c of checks) byPair.set(`${c.pair.b} against ${c.pair.a}`, [...(byPair.get(`${c.pair.b} against ${c.pair.a}`) ?? []), c]);
  return [...byPair.entries()].map(([label, cs]) => {
    const n = (v: Agreement) => cs.filter((c) => c.verdict === v).length;
    const bad = cs.filter((c) => c.verdict === 'disagree');
    const worst = bad
      .slice(0, 3)
      .map((c) => `${c.measuredMetric} on ${describeWhere(c.where)} (model ${formatRatio(c.modelRatio)}, measured ${formatRatioInterval(c.measured.value, c.measured.low, c.measured.high)})`);
    return (
      `${label}: of ${cs.length} ratios, ${n('agree')} agree (the model's ratio inside the measured interval, or both within the threshold), ` +
      `${n('same direction')} point the same way with a different size, ${n('disagree')} disagree${worst.length ? `: ${worst.join('; ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''}` : ''}.`
    );
  });
}

// ---------------------------------------------------------------------------
// Calibrations and growth exponents

export function describeCalibrations(results: Results): string | undefined {
  const cs = results.calibrations ?? [];
  const s = spreadOf(cs.map((c) => ({ at: c.id, value: c.ratio })));
  if (!s) return undefined;
  return (
    `Against the ${cs.length} published figure${cs.length === 1 ? '' : 's'}, the model gives ${describeSpreadRatio(s, 'figures')} of the published time ` +
    `(model / published): ${s.max < 1 ? 'it is faster than every published figure' : s.min > 1 ? 'it is slower than every published figure' : 'it is on both sides of them'}, ` +
    `so read its times as relative, not absolute.`
  );
}

export interface FitRow {
  structure: string;
  axis: 'folios' | 'ram';
  metric: string;
  points: number;
  exponent?: Interval;
  r2?: number;
  /** Why there is no exponent to show. */
  problem?: string;
}

/** The growth exponents worth showing: with an interval and at least MIN_FIT_POINTS points; the others say why not. */
export function fitRows(results: Results): FitRow[] {
  const rows: FitRow[] = [];
  const keys = new Set<string>();
  for (const p of results.sweeps) {
    for (const metric of Object.keys(p.metrics)) keys.add(`${p.structure}\u0000${p.axis}\u0000${metric}`);
  }
  for (const key of keys) {
    const [structure, axis, metric] = key.split('\u0000') as [string, 'folios' | 'ram', string];
    const points = results.sweeps.filter((p) => p.structure === structure && p.axis === axis && p.metrics[metric]).length;
    const fit = results.fits.find((f) => f.structure === structure && f.axis === axis && f.metric === metric);
    const base = { structure, axis, metric, points };
    if (points < MIN_FIT_POINTS) rows.push({ ...base, problem: `${points} point${points === 1 ? '' : 's'}: too few to fit (at least ${MIN_FIT_POINTS})` });
    else if (!fit) rows.push({ ...base, problem: 'no fit in the results' });
    else if (fit.ciLow === undefined || fit.ciHigh === undefined) rows.push({ ...base, problem: 'the fit has no interval' });
    else rows.push({ ...base, exponent: { value: fit.exponent, low: fit.ciLow, high: fit.ciHigh }, r2: fit.r2 });
  }
  return rows;
}

// ---------------------------------------------------------------------------
// A/A runs

/**
 * An A/A run measures every timing job twice, interleaved: each measured
 * metric's processes alternate between the two copies (even positions one,
 * odd positions the other). The same code against itself should flag at
 * most the odd metric; more means the intervals understate the noise.
 */
export function aaCheck(results: Results, options: AnalysisOptions = {}): AaSummary | undefined {
  if (!results.plan?.aa) return undefined;
  const t = thresholdOf(options);
  const members: FamilyMember[] = [];
  for (const p of results.pairs) {
    for (const [name, m] of Object.entries(p.metrics)) {
      if (kindOf(name, m) !== 'measured' || !m.perProcess || m.perProcess.length < 4) continue;
      const a = m.perProcess.filter((_, i) => i % 2 === 0);
      const b = m.perProcess.filter((_, i) => i % 2 === 1);
      members.push(familyMember(`${p.structure}\u0000${p.scenario}`, name, compareProcessSamples(a, b, { noisePct: t * 100, seed: members.length + 1 })));
    }
  }
  return members.length ? aaSummary(adjustFamily(members)) : undefined;
}
