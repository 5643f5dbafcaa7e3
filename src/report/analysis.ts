/**
 * The analysis layer: pure functions from Results to decisions, pairwise
 * comparisons and the plain-language answers. Nothing here renders HTML.
 */
import type { Estimate, Results } from '../results/schema.ts';
import { formatBytes, formatMs, formatPct, formatRatioCi, formatValue, formatWithCi } from './format.ts';
import {
  METRICS,
  type MetricDef,
  type MetricId,
  findPair,
  isReference,
  metricDef,
  scenariosOf,
  structuresOf,
} from './metrics.ts';
import { type Interval, differenceInterval, intervalsOverlap, ratioInterval } from './stats.ts';

export interface Entry {
  structure: string;
  estimate: Estimate;
}

export type Verdict = 'winner' | 'no clear winner' | 'only one measured' | 'not measured';

export interface Decision {
  metric: MetricId;
  scenario: string;
  verdict: Verdict;
  /** The lowest contender (also set for "no clear winner": the lowest point estimate). */
  winner?: Entry;
  runnerUp?: Entry;
  /** runnerUp / winner, with its 95% interval. */
  ratio?: Interval;
  /** runnerUp − winner, with its 95% interval, in the metric's unit. */
  difference?: Interval;
  /** Contenders whose intervals overlap the winner's (the "no clear winner" set, winner first). */
  tied: string[];
  /** Every contender, lowest first. */
  ranking: Entry[];
  /** The reference structures (flat bitmap lower bound) measured in this scenario. */
  reference: Entry[];
  /** Structures of the run with no usable measurement of this metric in this scenario. */
  missing: string[];
}

/** Decides one (metric, scenario): lowest wins, unless the two lowest intervals overlap. */
export function decide(results: Results, metric: MetricDef, scenario: string, structures = structuresOf(results)): Decision {
  const ranking: Entry[] = [];
  const reference: Entry[] = [];
  const missing: string[] = [];
  for (const structure of structures) {
    const pair = findPair(results, structure, scenario);
    const estimate = pair ? metric.get(pair) : undefined;
    if (!estimate || !Number.isFinite(estimate.value)) {
      missing.push(structure);
      continue;
    }
    (isReference(structure) ? reference : ranking).push({ structure, estimate });
  }
  ranking.sort((a, b) => a.estimate.value - b.estimate.value);
  const base = { metric: metric.id, scenario, ranking, reference, missing };
  if (ranking.length === 0) return { ...base, verdict: 'not measured', tied: [] };
  const winner = ranking[0];
  if (ranking.length === 1) return { ...base, verdict: 'only one measured', winner, tied: [winner.structure] };
  const runnerUp = ranking[1];
  const tied = ranking.filter((e) => e === winner || intervalsOverlap(winner.estimate, e.estimate)).map((e) => e.structure);
  const clear = winner.estimate.value < runnerUp.estimate.value && !intervalsOverlap(winner.estimate, runnerUp.estimate);
  return {
    ...base,
    verdict: clear ? 'winner' : 'no clear winner',
    winner,
    runnerUp,
    ratio: ratioInterval(winner.estimate, runnerUp.estimate),
    difference: differenceInterval(winner.estimate, runnerUp.estimate),
    tied: clear ? [winner.structure] : tied,
  };
}

/** The decision table: every metric × every scenario of the run. */
export function decisionTable(results: Results): Decision[] {
  const structures = structuresOf(results);
  const out: Decision[] = [];
  for (const scenario of scenariosOf(results)) for (const m of METRICS) out.push(decide(results, m, scenario, structures));
  return out;
}

/** One sentence for a decision, as in the table's cell. */
export function describeDecision(d: Decision): string {
  const m = metricDef(d.metric);
  switch (d.verdict) {
    case 'not measured':
      return d.reference.length
        ? `only ${d.reference.map((e) => e.structure).join(', ')} measured (lower bound, not ranked: ${formatValue(d.reference[0].estimate.value, m.unit)})`
        : 'not measured';
    case 'only one measured':
      return `only ${d.winner!.structure} measured (${formatValue(d.winner!.estimate.value, m.unit)})`;
    case 'no clear winner':
      return m.kind === 'exact'
        ? `no clear winner: ${d.tied.join(' = ')} (equal)`
        : `no clear winner: ${d.tied.join(' ≈ ')} (intervals overlap)`;
    case 'winner': {
      const r = d.ratio!;
      return `${d.winner!.structure} wins by ${formatRatioCi(r.value, r.low, r.high)} over ${d.runnerUp!.structure}`;
    }
  }
}

// ---------------------------------------------------------------------------
// Pairwise comparisons (the questions from the list)

export interface PairwiseRow {
  scenario: string;
  a: Estimate;
  b: Estimate;
  /** b / a. */
  ratio: Interval;
  /** b − a. */
  difference: Interval;
  /** 'b lower' / 'b higher' when the intervals do not overlap. */
  outcome: 'b lower' | 'b higher' | 'no clear difference';
}

export interface Pairwise {
  a: string;
  b: string;
  metric: MetricId;
  rows: PairwiseRow[];
  /** Scenarios of the run where a or b (or the metric) is missing. */
  missing: { scenario: string; absent: string[] }[];
}

/** Compares structure b against a on one metric in every scenario of the run. */
export function pairwise(results: Results, a: string, b: string, metric: MetricId): Pairwise {
  const def = metricDef(metric);
  const rows: PairwiseRow[] = [];
  const missing: Pairwise['missing'] = [];
  for (const scenario of scenariosOf(results)) {
    const pa = findPair(results, a, scenario);
    const pb = findPair(results, b, scenario);
    const ea = pa ? def.get(pa) : undefined;
    const eb = pb ? def.get(pb) : undefined;
    if (!ea || !eb) {
      missing.push({ scenario, absent: [...(ea ? [] : [a]), ...(eb ? [] : [b])] });
      continue;
    }
    const overlap = intervalsOverlap(ea, eb) || ea.value === eb.value;
    rows.push({
      scenario,
      a: ea,
      b: eb,
      ratio: ratioInterval(ea, eb),
      difference: differenceInterval(ea, eb),
      outcome: overlap ? 'no clear difference' : eb.value < ea.value ? 'b lower' : 'b higher',
    });
  }
  return { a, b, metric, rows, missing };
}

// ---------------------------------------------------------------------------
// The plain-language answers

export interface AnswerTable {
  head: string[];
  rows: string[][];
}

export interface Answer {
  id: 'serialization' | 'ida' | 'page-bitmaps' | 'rfc-vs-merged' | 'lower-bound';
  question: string;
  /** Who asked, or why it matters. */
  context: string;
  /** Sentences computed from the numbers (plain text: escape when rendering). */
  sentences: string[];
  table?: AnswerTable;
  /** What could not be answered, and why. */
  missing: string[];
}

const has = (results: Results, structure: string) => results.pairs.some((p) => p.structure === structure);

/** Notes in `answer` which of the needed structures this run lacks; true when any is missing. */
function lacksStructures(results: Results, answer: Answer, needed: readonly string[]): boolean {
  const absent = needed.filter((s) => !has(results, s));
  if (absent.length) {
    answer.missing.push(`Cannot answer: ${absent.join(' and ')} ${absent.length > 1 ? 'were' : 'was'} not measured in this run.`);
  }
  return absent.length > 0;
}

function describeMissingScenarios(p: Pairwise): string[] {
  if (p.missing.length === 0) return [];
  return [
    `No ${metricDef(p.metric).label} comparison of ${p.b} with ${p.a} on ${p.missing
      .map((m) => `${m.scenario} (${m.absent.join(', ')} not measured)`)
      .join('; ')}.`,
  ];
}

function scenarioList(rows: readonly { scenario: string }[]): string {
  return rows.map((r) => r.scenario).join(', ');
}

/** "lower on 3 (a, b, c), higher on 1 (d), no clear difference on 2 (e, f)". */
function outcomeCounts(p: Pairwise, lower: string, higher: string): string {
  const parts: string[] = [];
  const lo = p.rows.filter((r) => r.outcome === 'b lower');
  const hi = p.rows.filter((r) => r.outcome === 'b higher');
  const nd = p.rows.filter((r) => r.outcome === 'no clear difference');
  if (lo.length) parts.push(`${lower} on ${lo.length} (${scenarioList(lo)})`);
  if (hi.length) parts.push(`${higher} on ${hi.length} (${scenarioList(hi)})`);
  if (nd.length) parts.push(`no clear difference on ${nd.length} (${scenarioList(nd)})`);
  return parts.join(', ');
}

function extremeRows(p: Pairwise): { low: PairwiseRow; high: PairwiseRow } | undefined {
  const rows = p.rows.filter((r) => Number.isFinite(r.ratio.value));
  if (rows.length === 0) return undefined;
  const sorted = [...rows].sort((x, y) => x.ratio.value - y.ratio.value);
  return { low: sorted[0], high: sorted[sorted.length - 1] };
}

function ratioPhrase(r: PairwiseRow): string {
  return `${formatRatioCi(r.ratio.value, r.ratio.low, r.ratio.high)} on ${r.scenario}`;
}

/** Q1: what removing serialization saves (xarray-6.18 against the merged radix tree). */
export function answerSerialization(results: Results): Answer {
  const serializing = 'xarray-6.18';
  const stateless = 'radix';
  const answer: Answer = {
    id: 'serialization',
    question: 'What does removing serialization save?',
    context:
      'A maintainer asked on the list how much time removing serialization saves; nobody answered with a number. Compared: ' +
      `${serializing} (the last xarray tracker, serialized at kexec) against ${stateless} (the merged stateless radix tree).`,
    sentences: [],
    missing: [],
  };
  if (lacksStructures(results, answer, [serializing, stateless])) return answer;
  const blackout = pairwise(results, serializing, stateless, 'blackoutMs');
  const serialize = pairwise(results, serializing, stateless, 'serializeMs');
  const restore = pairwise(results, serializing, stateless, 'restoreMs');
  answer.missing.push(...describeMissingScenarios(blackout));
  if (blackout.rows.length === 0) return answer;

  const savings = blackout.rows.map((r) => ({
    scenario: r.scenario,
    // saving = serializing − stateless = −difference
    saving: { value: -r.difference.value, low: -r.difference.high, high: -r.difference.low },
    fraction: -r.difference.value / r.a.value,
    row: r,
  }));
  const sorted = [...savings].sort((x, y) => y.saving.value - x.saving.value);
  const best = sorted[0];
  const worst = sorted[sorted.length - 1];
  const saves = savings.filter((s) => s.row.outcome === 'b lower');
  const costs = savings.filter((s) => s.row.outcome === 'b higher');
  const unclear = savings.filter((s) => s.row.outcome === 'no clear difference');

  const clearBest = [...saves].sort((x, y) => y.saving.value - x.saving.value)[0];
  const head = clearBest ?? best;
  const ci = `[95% CI ${formatMs(head.saving.low)} to ${formatMs(head.saving.high)}]`;
  if (clearBest) {
    answer.sentences.push(
      `Removing serialization saves ${formatMs(head.saving.value)} of blackout on ${head.scenario} ${ci} (${serializing} vs ${stateless}), ` +
        `${formatPct(head.fraction)} of ${serializing}'s blackout of ${formatMs(head.row.a.value)}.`,
    );
  } else if (best.saving.value > 0) {
    answer.sentences.push(
      `Removing serialization saves no clear blackout time: the largest saving, ${formatMs(best.saving.value)} on ${best.scenario} ${ci}, is within the intervals.`,
    );
  } else {
    answer.sentences.push(
      `Removing serialization saves no blackout time in this run: ${stateless}'s blackout is at least as long as ${serializing}'s in every scenario ` +
        `(closest: ${formatMs(-best.saving.value)} longer on ${best.scenario} ${ci}).`,
    );
  }
  if (savings.length > 1) {
    const fractions = savings.map((s) => s.fraction).filter(Number.isFinite);
    answer.sentences.push(
      `Across ${savings.length} scenarios the blackout saving ranges from ${formatMs(worst.saving.value)} on ${worst.scenario} ` +
        `to ${formatMs(best.saving.value)} on ${best.scenario}, that is ${formatPct(Math.min(...fractions))} to ${formatPct(Math.max(...fractions))} of ${serializing}'s blackout` +
        `${worst.saving.value < 0 ? ` (negative: ${stateless} is slower there)` : ''}.`,
    );
  }
  const verdicts: string[] = [];
  if (saves.length) verdicts.push(`${stateless} has the shorter blackout on ${saves.length} (${scenarioList(saves)})`);
  if (costs.length) verdicts.push(`${stateless} has the longer blackout on ${costs.length} (${scenarioList(costs)})`);
  if (unclear.length) verdicts.push(`no clear difference on ${unclear.length} (${scenarioList(unclear)})`);
  if (verdicts.length) answer.sentences.push(`Beyond the intervals: ${verdicts.join(', ')}.`);

  const ser = serialize.rows.map((r) => r.a.value);
  if (ser.length) {
    const maxRow = serialize.rows.reduce((m, r) => (r.a.value > m.a.value ? r : m));
    answer.sentences.push(
      `The serialization step alone takes ${serializing} between ${formatMs(Math.min(...ser))} and ${formatMs(Math.max(...ser))} ` +
        `(most on ${maxRow.scenario}: ${formatWithCi(maxRow.a.value, maxRow.a.ciLow, maxRow.a.ciHigh, 'ms')}).`,
    );
  }
  const restoreSlower = restore.rows.filter((r) => r.outcome === 'b higher');
  if (restoreSlower.length) {
    const r = restoreSlower.reduce((m, x) => (x.ratio.value > m.ratio.value ? x : m));
    answer.sentences.push(
      `Part of the saving is given back at restore: ${stateless}'s restore is slower on ${restoreSlower.length} scenario(s), at most ${ratioPhrase(r)}.`,
    );
  } else if (restore.rows.length) {
    answer.sentences.push(`${stateless}'s restore is nowhere clearly slower than ${serializing}'s, so the saving is not given back in the next kernel.`);
  }
  answer.table = {
    head: ['scenario', `${serializing} serialization`, `${serializing} blackout`, `${stateless} blackout`, 'saving [95% CI]', 'share of blackout'],
    rows: savings.map((s) => {
      const serRow = serialize.rows.find((r) => r.scenario === s.scenario);
      return [
        s.scenario,
        serRow ? formatWithCi(serRow.a.value, serRow.a.ciLow, serRow.a.ciHigh, 'ms') : '—',
        formatWithCi(s.row.a.value, s.row.a.ciLow, s.row.a.ciHigh, 'ms'),
        formatWithCi(s.row.b.value, s.row.b.ciLow, s.row.b.ciHigh, 'ms'),
        formatWithCi(s.saving.value, s.saving.low, s.saving.high, 'ms'),
        formatPct(s.fraction),
      ];
    }),
  };
  return answer;
}

/** Ratio table of b against a over several metrics, one row per scenario. */
function ratioTable(results: Results, a: string, b: string, metrics: readonly MetricId[]): AnswerTable {
  const comparisons = metrics.map((m) => pairwise(results, a, b, m));
  const scenarios = scenariosOf(results).filter((s) => comparisons.some((c) => c.rows.some((r) => r.scenario === s)));
  return {
    head: ['scenario', ...metrics.map((m) => `${metricDef(m).label}: ${b} / ${a}`)],
    rows: scenarios.map((s) => [
      s,
      ...comparisons.map((c) => {
        const r = c.rows.find((x) => x.scenario === s);
        if (!r) return '—';
        const mark = r.outcome === 'no clear difference' ? ' (no clear difference)' : '';
        return formatRatioCi(r.ratio.value, r.ratio.low, r.ratio.high) + mark;
      }),
    ]),
  };
}

function metricSummary(p: Pairwise, bName: string, aName: string): string | undefined {
  if (p.rows.length === 0) return undefined;
  const m = metricDef(p.metric);
  const ext = extremeRows(p);
  const counts = outcomeCounts(p, 'lower', 'higher');
  let s = `${m.label[0].toUpperCase()}${m.label.slice(1)} (${m.description.split(',')[0]}): ${bName} is ${counts}`;
  if (ext && p.rows.length > 1) s += `; ${bName}/${aName} ranges from ${ratioPhrase(ext.low)} to ${ratioPhrase(ext.high)}`;
  else if (ext) s += `; ${bName}/${aName} = ${ratioPhrase(ext.low)}`;
  return `${s}.`;
}

/** Q2: what the IDA shape costs or saves against the radix tree. */
export function answerIda(results: Results): Answer {
  const a = 'radix';
  const b = 'ida';
  const metrics: MetricId[] = ['preserveNsPerFolio', 'restoreMs', 'blackoutMs', 'metadataPerGiB'];
  const answer: Answer = {
    id: 'ida',
    question: 'What does the IDA shape cost or save against the radix tree?',
    context:
      'One reviewer said the stateless design "is just a radix tree with bits as the leaf", another that it "sounds like the IDA data structure". ' +
      `Compared: ${b} (an IDA-shaped tree: xarray nodes with 128-byte bitmap leaves) against ${a} (the merged KHO radix tree with page-sized leaves). Ratios are ${b} / ${a}: below 1, the IDA shape is cheaper.`,
    sentences: [],
    missing: [],
  };
  if (lacksStructures(results, answer, [a, b])) return answer;
  for (const m of metrics) {
    const p = pairwise(results, a, b, m);
    const s = metricSummary(p, b, a);
    if (s) answer.sentences.push(s);
  }
  answer.missing.push(...describeMissingScenarios(pairwise(results, a, b, 'preserveNsPerFolio')));
  answer.sentences.push(
    'What the numbers cannot weigh: the maintainers answered that the format must stay stable across kernel versions, so a structure private to KHO is safer than the shared IDA.',
  );
  answer.table = ratioTable(results, a, b, metrics);
  return answer;
}

const SPARSE = ['sparse-4k-16m', 'sparse-4k-128m'];

/** Q3: what page-sized bitmaps cost on sparse memory. */
export function answerPageBitmaps(results: Results): Answer {
  const answer: Answer = {
    id: 'page-bitmaps',
    question: 'What do page-sized bitmaps cost on sparse memory?',
    context:
      'Linux 6.18 moved the xarray tracker from 512-byte bitmaps (kmalloc, 16 MiB of order-0 memory each) to whole zeroed pages (128 MiB each), ' +
      'and both stateless trees use page-sized leaves. On sparse memory most of each page is empty. Compared: metadata handed over per GiB preserved, on the sparse scenarios.',
    sentences: [],
    missing: [],
  };
  const scenarios = scenariosOf(results).filter((s) => SPARSE.includes(s));
  const missingSparse = SPARSE.filter((s) => !scenarios.includes(s));
  if (missingSparse.length) answer.missing.push(`Scenario(s) ${missingSparse.join(', ')} not in this run.`);
  if (scenarios.length === 0) {
    answer.missing.push('Cannot answer: no sparse scenario was measured.');
    return answer;
  }
  const structures = structuresOf(results).filter((s) => !isReference(s));
  const metric = metricDef('metadataPerGiB');
  const value = (st: string, sc: string) => {
    const p = findPair(results, st, sc);
    return p ? metric.get(p)?.value : undefined;
  };
  for (const sc of scenarios) {
    const small = value('xarray-6.16', sc);
    const page = value('xarray-6.18', sc);
    if (small !== undefined && page !== undefined) {
      const pair = findPair(results, 'xarray-6.18', sc)!;
      answer.sentences.push(
        `On ${sc}, page-sized bitmaps make xarray-6.18 hand over ${formatBytes(page)} of metadata per GiB preserved against ${formatBytes(small)} for xarray-6.16 ` +
          `(${formatRatioCi(page / small, page / small, page / small)}, ${formatBytes(pair.metadataBytesHandover)} in all for ${pair.folios.toLocaleString('en-US')} folios).`,
      );
    } else {
      answer.missing.push(`On ${sc}: xarray-6.16 and xarray-6.18 are not both measured, so the 6.18 change cannot be isolated.`);
    }
    const radix = value('radix', sc);
    const ida = value('ida', sc);
    if (radix !== undefined && ida !== undefined) {
      answer.sentences.push(
        `On ${sc}, the radix tree's page-sized leaves cost ${formatBytes(radix)} per GiB against ${formatBytes(ida)} for the IDA shape's 128-byte leaves (${formatRatioCi(radix / ida, radix / ida, radix / ida)}).`,
      );
    }
  }
  const dense = 'dense-4k';
  const radixDense = value('radix', dense);
  const radixSparse = scenarios.map((s) => ({ s, v: value('radix', s) })).filter((x) => x.v !== undefined);
  if (radixDense !== undefined && radixSparse.length) {
    const worst = radixSparse.reduce((m, x) => (x.v! > m.v! ? x : m));
    answer.sentences.push(
      `For scale: on ${dense} the radix tree needs ${formatBytes(radixDense)} per GiB; sparsity multiplies that by ${formatRatioCi(worst.v! / radixDense, worst.v! / radixDense, worst.v! / radixDense)} on ${worst.s}.`,
    );
  }
  answer.table = {
    head: ['scenario', ...structures.map((s) => `${s} / GiB`)],
    rows: scenarios.map((sc) => [sc, ...structures.map((st) => {
      const v = value(st, sc);
      return v === undefined ? '—' : formatBytes(v);
    })]),
  };
  return answer;
}

/** Q4: RFC v1's per-order tables against the merged single tree. */
export function answerRfc(results: Results): Answer {
  const a = 'radix';
  const b = 'radix-rfc';
  const metrics: MetricId[] = ['preserveNsPerFolio', 'restoreMs', 'metadataPerGiB'];
  const answer: Answer = {
    id: 'rfc-vs-merged',
    question: "How do RFC v1's per-order page tables compare with the merged single tree?",
    context:
      `RFC v1 kept one page-table-like tree per order; the merged KHO radix tree encodes the order in the key of one tree. Compared: ${b} against ${a}; ratios are ${b} / ${a}: above 1, the per-order tables cost more.`,
    sentences: [],
    missing: [],
  };
  if (lacksStructures(results, answer, [a, b])) return answer;
  for (const m of metrics) {
    const s = metricSummary(pairwise(results, a, b, m), b, a);
    if (s) answer.sentences.push(s);
  }
  const mixed = pairwise(results, a, b, 'metadataPerGiB').rows.find((r) => r.scenario === 'mixed-test-kho');
  if (mixed) {
    answer.sentences.push(
      `With many orders at once (mixed-test-kho), the per-order tables hand over ${formatBytes(mixed.b.value)} per GiB against ${formatBytes(mixed.a.value)} for one tree (${formatRatioCi(mixed.ratio.value, mixed.ratio.low, mixed.ratio.high)}).`,
    );
  }
  answer.missing.push(...describeMissingScenarios(pairwise(results, a, b, 'restoreMs')));
  answer.table = ratioTable(results, a, b, metrics);
  return answer;
}

/** Q5: how far the merged tree is from the flat-bitmap lower bound. */
export function answerLowerBound(results: Results): Answer {
  const a = 'flat-bitmap';
  const b = 'radix';
  const answer: Answer = {
    id: 'lower-bound',
    question: 'How far is the merged radix tree from the lower bound?',
    context: `${a} is one bit per page of RAM with no tree above it: the least work a tracker can do per folio (not a proposal: its size grows with RAM, not with what is preserved). Ratios are ${b} / ${a}.`,
    sentences: [],
    missing: [],
  };
  if (lacksStructures(results, answer, [a, b])) return answer;
  for (const m of ['preserveNsPerFolio', 'restoreMs'] as const) {
    const s = metricSummary(pairwise(results, a, b, m), b, a);
    if (s) answer.sentences.push(s);
  }
  answer.table = ratioTable(results, a, b, ['preserveNsPerFolio', 'restoreMs', 'metadataPerGiB']);
  return answer;
}

export function answers(results: Results): Answer[] {
  return [answerSerialization(results), answerIda(results), answerPageBitmaps(results), answerRfc(results), answerLowerBound(results)];
}
