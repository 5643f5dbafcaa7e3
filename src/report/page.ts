/**
 * The HTML page of one run: one self-contained file (inline CSS, charts as
 * PNG data URIs, the structures' READMEs rendered in, optional inline
 * Chart.js), every string from a results file escaped through the `html`
 * template. No link leaves the file, except to `linksBase` when given.
 */
import type { HostSlowdown } from '../measure/calibration.ts';
import type { MetricValue, PairResult, Results } from '../results/schema.ts';
import type { AaSummary } from '../stats/index.ts';
import {
  type Answer,
  type Decision,
  type FitRow,
  type HeadToHead,
  type ModelCheck,
  MIN_FIT_POINTS,
  describeCalibrations,
  describeModelChecks,
  describeWhere,
} from './analysis.ts';
import { CHART_PLUGINS_SOURCE } from './chart-plugins.ts';
import {
  BASELINE,
  DESIGN_SPACE_COMMAND,
  type DesignSpace,
  FRONTIER_AXES,
  type FrontierAxis,
  METADATA,
  NO_DESIGN_SPACE,
  type ScenarioFrontier,
  type Versus,
  familyParams,
  isDesignSpaceOnly,
  pointKind,
} from './design-space.ts';
import { type ChartSpec, type ReportCharts, allCharts, structureColor } from './charts.ts';
import { type ChangeRow, type Comparison, describeChange, hostLine } from './compare.ts';
import {
  formatBounds,
  formatCount,
  formatDate,
  formatNumberInterval,
  formatP,
  formatPct,
  formatPercent,
  formatRatio,
  formatRatioInterval,
  formatValue,
  formatWithInterval,
  sig,
} from './format.ts';
import { type SafeHtml, html, join, jsonForScript, raw } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import {
  ASPECTS,
  KNOWN_SCENARIOS,
  PAIR_METRICS,
  REFERENCE_STRUCTURES,
  findPair,
  kindOf,
  measuredScenarios,
  modelCpuName,
  scenariosOf,
  structuresOf,
  unitOf,
} from './metrics.ts';
import type { StructureInfo } from './structures-info.ts';

export interface PageInput {
  results: Results;
  /** The results file's name (shown, never linked). */
  resultsName: string;
  threshold: number;
  decisions: Decision[];
  answers: Answer[];
  headToHead: HeadToHead[];
  modelChecks: ModelCheck[];
  fits: FitRow[];
  /** The design-space section's analysis; absent when the run has none. */
  designSpace?: DesignSpace;
  aa?: AaSummary;
  /** The run's own calibration loops. */
  host?: HostSlowdown;
  comparison?: { data: Comparison; baselineName: string; baseline: Results };
  charts: ReportCharts;
  pngs: Map<string, Buffer>;
  structures: Map<string, StructureInfo | undefined>;
  knownStructures: readonly string[];
  /** Where the structures' READMEs are published (absolute URL of the repository root), if given. */
  linksBase?: string;
  /** Names of the files written beside the report. */
  exports: string[];
  /** Inline Chart.js source to make the charts interactive; absent: PNG only. */
  chartJsSource?: string;
  generatedAt: string;
}

const CSS = `
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9dce1; --bg:#fff; --soft:#f5f6f8; --accent:#0b57d0; --good:#137333; --bad:#b3261e; --nav:44px; }
* { box-sizing: border-box; }
html { scroll-padding-top: calc(var(--nav) + 12px); }
body { margin:0; color:var(--fg); background:var(--bg); font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main { max-width:1180px; margin:0 auto; padding:0 20px 60px; }
header.top { background:#0f2540; color:#fff; padding:9px 0 8px; }
header.top .inner { max-width:1180px; margin:0 auto; padding:0 20px; }
header.top h1 { margin:0 0 2px; font-size:19px; font-weight:650; }
header.top p { margin:0; color:#cfd8e3; font-size:12.5px; }
header.top code { color:#fff; }
nav.toc { position:sticky; top:0; height:var(--nav); background:rgba(255,255,255,.97); border-bottom:1px solid var(--line); z-index:5; overflow-x:auto; }
nav.toc ul { max-width:1180px; margin:0 auto; padding:0 20px; height:100%; list-style:none; display:flex; align-items:center; gap:0 16px; font-size:13.5px; white-space:nowrap; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
h2 { font-size:20px; margin:30px 0 8px; padding-bottom:4px; border-bottom:2px solid var(--line); }
h3 { font-size:16.5px; margin:20px 0 6px; }
p.lead { color:var(--muted); margin-top:0; }
code, .mono { font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace; font-size:12.5px; overflow-wrap:anywhere; }
table { border-collapse:collapse; width:100%; margin:8px 0 14px; font-size:13px; }
th, td { border:1px solid var(--line); padding:4px 7px; text-align:left; vertical-align:top; overflow-wrap:anywhere; }
th { background:var(--soft); font-weight:600; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
td .sub, th .sub { display:block; color:var(--muted); font-size:11.5px; font-weight:400; }
tbody tr:nth-child(even) td { background:#fbfbfc; }
.table-wrap { max-width:100%; overflow-x:auto; }
table.fixed { table-layout:fixed; }
table.decisions td.cell { border-left:5px solid transparent; }
table.decisions td.cell strong { font-size:13.5px; }
table.decisions .rest { display:block; color:#333; font-size:12px; }
table.decisions .check { display:block; font-size:11.5px; margin-top:2px; }
table.decisions td.tie { background:#fafafa !important; }
.agrees { color:var(--good); } .contradicts { color:var(--bad); font-weight:600; } .noise { color:var(--muted); }
.basis { color:var(--muted); font-size:11px; }
.swatch { display:inline-block; width:11px; height:11px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.banner { border-radius:6px; padding:8px 12px; margin:12px 0; font-size:14px; }
.banner.warn { background:#fff4e5; border:1px solid #f5c16c; }
.banner.info { background:#eef4fd; border:1px solid #b6cdf3; }
.banner ul { margin:4px 0 0; padding-left:20px; }
section#answers { margin-top:6px; } h2.first { margin:8px 0 4px; font-size:17px; padding-bottom:2px; }
article.answer { border:1px solid var(--line); border-left:4px solid #0f2540; border-radius:6px; padding:0 14px 2px; margin:6px 0; background:#fcfcfd; }
article.answer h3 { margin:6px 0 1px; font-size:15px; }
article.answer p { margin:2px 0 4px; font-size:14px; }
article.answer p.headline { font-size:14.5px; font-weight:600; }
article.answer ul { margin:2px 0 4px; padding-left:18px; font-size:13px; } article.answer li { margin:1px 0; }
article.answer p.why { color:#3c4043; font-size:13.5px; }
article.answer details { margin:2px 0 4px; }
.missing { color:#8a5300; font-size:13.5px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:12px; }
figure { margin:0; border:1px solid var(--line); border-radius:6px; padding:6px; background:#fff; min-width:0; }
figure img { display:block; width:100%; height:auto; }
figure canvas { display:block; width:100% !important; }
figure.wide { grid-column:1 / -1; }
figcaption { font-size:12.5px; color:var(--muted); padding:4px 4px 0; }
figcaption button { float:right; font-size:12px; }
.facts { color:var(--muted); font-size:14px; margin:0 0 8px; }
.verdict-regression { color:var(--bad); font-weight:600; }
.verdict-improvement { color:var(--good); font-weight:600; }
.verdict-noise { color:var(--muted); }
details { margin:6px 0 14px; } details > summary { cursor:pointer; color:var(--accent); font-weight:500; }
dl.ctx { display:grid; grid-template-columns:max-content minmax(0,1fr); gap:3px 18px; font-size:14px; }
dl.ctx dt { color:var(--muted); } dl.ctx dd { margin:0; overflow-wrap:anywhere; }
.md { border-left:3px solid var(--line); padding:0 0 0 14px; margin:6px 0 14px; font-size:14px; }
.md pre { background:var(--soft); padding:8px; overflow-x:auto; font-size:12.5px; }
.md h4 { font-size:16px; margin:10px 0 4px; } .md h5 { font-size:14.5px; margin:10px 0 4px; } .md h6 { font-size:13.5px; margin:8px 0 4px; }
section#next article.answer ul { font-size:13.5px; }
section#next .better { color:var(--good); } section#next .worse { color:var(--bad); }
footer { color:var(--muted); font-size:13px; border-top:1px solid var(--line); margin-top:40px; padding-top:10px; }
@media print { nav.toc { position:static; } .grid { grid-template-columns:1fr 1fr; } figcaption button { display:none; } }
`;

function shortCommit(c: string): string {
  return /^[0-9a-f]{12,}$/i.test(c) ? c.slice(0, 12) : c;
}

function swatch(structure: string, all: readonly string[]): SafeHtml {
  // The colour comes from the report's own palette (never from the results file).
  return raw(`<span class="swatch" style="background:${structureColor(structure, all)}"></span>`);
}

function scenarioAnchor(results: Results, scenario: string): string {
  return `scenario-${scenariosOf(results).indexOf(scenario) + 1}`;
}

/** Where the family's README is embedded. */
const FAMILY_ANCHOR = 'structure-family';

function structureAnchor(input: PageInput, structure: string): string {
  return `structure-${[...new Set([...input.knownStructures, ...structuresOf(input.results)])].indexOf(structure) + 1}`;
}

function measuredCell(m: MetricValue | undefined, unit: string, why?: string): SafeHtml {
  if (!m) return why ? html`<td class="num" title="${why}">n/a<span class="sub">${why}</span></td>` : html`<td class="num">—</td>`;
  const measured = m.processes !== undefined;
  const sub = measured ? `${formatBounds(m.value, m.ciLow, m.ciHigh, unit)} n ${m.processes}${m.cv !== undefined ? `, cv ${formatPct(m.cv)}` : ''}` : '';
  return html`<td class="num">${formatValue(m.value, unit)}${sub ? html`<span class="sub">${sub}</span>` : ''}</td>`;
}

// ---------------------------------------------------------------------------
// The answers, head to head

function answersSection(input: PageInput): SafeHtml {
  const cards = input.answers.map(
    (a, k) => html`<article class="answer" id="q-${a.id}">
<h3>${k + 1}. ${a.question}</h3>
${a.headline ? html`<p class="headline">${a.headline}</p>` : ''}
${a.points.length ? html`<ul>${a.points.map((x) => html`<li>${x}</li>`)}</ul>` : ''}
${a.why.length ? html`<p class="why"><strong>Why:</strong> ${join(a.why, ' ')}</p>` : ''}
${a.missing.length ? html`<p class="missing">${join(a.missing, ' ')}</p>` : ''}
${a.table && a.table.rows.length ? html`<details><summary>Details and per-scenario numbers</summary>${a.more.length ? html`<ul>${a.more.map((x) => html`<li>${x}</li>`)}</ul>` : ''}${simpleTable(a.table.head, a.table.rows)}</details>` : ''}
</article>`,
  );
  return html`<section id="answers">
<h2 class="first">The list's questions, answered from this run</h2>
${cards}
${headToHeadSection(input)}
</section>`;
}

function simpleTable(head: readonly string[], rows: readonly (readonly string[])[]): SafeHtml {
  return html`<div class="table-wrap"><table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<td>${c}</td>` : html`<td class="num">${c}</td>`))}</tr>`)}</tbody></table></div>`;
}

function headToHeadSection(input: PageInput): SafeHtml {
  const cpu = modelCpuName(input.results);
  const all = structuresOf(input.results);
  const labels = ['preserve', 'restore per folio', 'blackout', 'metadata per GiB, sparse', 'metadata per GiB, dense'];
  const cell = (h: HeadToHead, label: string): SafeHtml => {
    const r = h.rows.find((x) => x.label === label);
    const s = r?.summary;
    if (!s || !s.spread) return html`<td class="num">—${s?.skipped.length ? html`<span class="sub">${s.skipped.join('; ')}</span>` : ''}</td>`;
    const range = s.spread.n > 1 ? `${formatRatio(s.spread.min)} (${s.spread.minAt}) to ${formatRatio(s.spread.max)} (${s.spread.maxAt}), ${s.spread.n} scenarios` : `on ${s.spread.minAt}`;
    const measured = s.measured ? `measured ${formatRatioInterval(s.measured.value, s.measured.low, s.measured.high)}, n ≥ ${s.processes}` : '';
    const kind = kindOf(s.metric) === 'model' ? 'model' : 'exact';
    return html`<td class="num"><strong>${formatRatio(s.spread.value)}</strong> <span class="basis">${kind}</span><span class="sub">${range}</span>${measured ? html`<span class="sub">${measured}</span>` : ''}</td>`;
  };
  if (input.headToHead.length === 0) return html`<p class="missing">No stateless tree and serializing tracker were both measured: no head-to-head comparison.</p>`;
  return html`<h3 id="head-to-head">Head to head: each stateless tree against the xarray tracker of its time</h3>
<p class="lead">Ratio stateless / serializing (below 1: the stateless tree is cheaper), as a geometric mean over the scenarios with its range, never one chosen scenario. Times are the model's (${cpu}), sizes exact; the measured ratio below each is JavaScript on this machine, with its 95% interval over processes.</p>
<div class="table-wrap"><table class="fixed"><thead><tr><th style="width:22%">pair, and why this pair</th>${labels.map((l) => html`<th>${l}</th>`)}</tr></thead>
<tbody>${input.headToHead.map(
    (h) => html`<tr><td>${swatch(h.pairing.stateless, all)}<strong>${h.pairing.stateless}</strong> vs ${swatch(h.pairing.serializing, all)}${h.pairing.serializing}<span class="sub">${h.pairing.reason}</span></td>${
      h.missing ? html`<td colspan="${labels.length}" class="missing">${h.missing}</td>` : labels.map((l) => cell(h, l))
    }</tr>`,
  )}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------
// Decision table

function decisionCell(d: Decision | undefined, input: PageInput): SafeHtml {
  if (!d) return html`<td class="cell tie">—</td>`;
  const all = structuresOf(input.results);
  const unit = String(unitOf(d.metric, input.results));
  const tip = [
    `${d.metric} (${d.basis}${d.basis === 'model' ? `, ${modelCpuName(input.results)}` : ''})`,
    ...d.ranking.map((e) => `${e.structure}: ${formatValue(e.value, unit)} (${formatRatio(e.ratio)})${e.check ? `; ${d.aspect.check} ${formatWithInterval(e.check.value, e.check.ciLow, e.check.ciHigh, String(unitOf(d.aspect.check!)))}, n ${e.check.processes ?? '?'}` : ''}`),
    ...d.reference.map((e) => `${e.structure} (lower bound, not ranked): ${formatValue(e.value, unit)} (${formatRatio(e.ratio)})`),
    ...d.excluded.map((e) => `${e.structure}: ${e.reason}`),
  ].join('\n');
  if (d.verdict === 'not measured') {
    return html`<td class="cell tie" title="${tip}">${d.reference.length ? `only the lower bound ${d.reference[0].structure}` : 'not measured'}</td>`;
  }
  const rest = d.ranking.filter((e) => !d.tied.includes(e.structure)).map((e) => `${e.structure} ${formatRatio(e.ratio)}`);
  const c = d.confirmation;
  const cls = c.verdict === 'agrees' ? 'agrees' : c.verdict === 'contradicts' ? 'contradicts' : 'noise';
  const check = c.comparison
    ? html`<span class="check ${cls}">measured: ${c.verdict} (${formatPct(c.comparison.change.value, true)}, n ${c.processes!.join('/')})</span>`
    : d.aspect.check
      ? html`<span class="check noise">measured: no per-process values</span>`
      : '';
  const head =
    d.verdict === 'tie'
      ? html`<strong>${d.tied.join(' = ')}</strong>`
      : d.verdict === 'only one'
        ? html`<strong>only ${d.tied[0]}</strong>`
        : html`<strong>${d.tied[0]}</strong>`;
  const color = d.verdict === 'winner' ? structureColor(d.tied[0], all) : undefined;
  const style = color ? raw(` style="border-left-color:${color}"`) : '';
  // Structures that cannot have the figure are named (the reasons are in the tooltip); lost folios are said.
  const lost = d.excluded.filter((e) => e.reason.startsWith('loses '));
  const na = d.excluded.filter((e) => !lost.includes(e));
  const excluded = html`${lost.length ? html`<span class="check noise">not ranked: ${lost.map((e) => `${e.structure} (${e.reason})`).join('; ')}</span>` : ''}${
    na.length ? html`<span class="check noise">n/a: ${na.map((e) => e.structure).join(', ')}</span>` : ''
  }`;
  const refs = d.reference.length ? html`<span class="check noise">lower bound ${d.reference.map((e) => `${e.structure} ${formatRatio(e.ratio)}`).join(', ')}</span>` : '';
  return html`<td class="cell${d.verdict === 'winner' ? '' : ' tie'}"${style} title="${tip}">${head} <span class="basis">${d.basis}</span>${
    rest.length ? html`<span class="rest">${rest.join(' · ')}</span>` : ''
  }${check}${refs}${excluded}</td>`;
}

function decisionSection(input: PageInput): SafeHtml {
  const { results, decisions } = input;
  const cpu = modelCpuName(results);
  const t = formatPercent(input.threshold);
  const rows = measuredScenarios(results).map(
    (sc) =>
      html`<tr><th><a href="#${scenarioAnchor(results, sc)}">${sc}</a></th>${ASPECTS.map((a) => decisionCell(decisions.find((d) => d.scenario === sc && d.aspect.id === a.id), input))}</tr>`,
  );
  const wins = new Map<string, number>();
  for (const d of decisions) if (d.verdict === 'winner') wins.set(d.tied[0], (wins.get(d.tied[0]) ?? 0) + 1);
  const all = structuresOf(results);
  const tally = [...wins.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => html`${swatch(s, all)}${s}: ${n}`);
  const contradictions = decisions.filter((d) => d.confirmation.verdict === 'contradicts').length;
  const refs = all.filter((s) => REFERENCE_STRUCTURES.includes(s));
  return html`<section id="decisions">
<h2>Decision table</h2>
<p class="lead">Per scenario and aspect (lower is better everywhere): the lowest structure on the <em>model</em> figure (the machine model on ${cpu}: deterministic) or the <em>exact</em> count, then every other structure as a ratio to it. A structure within ${t} of the lowest ties with it: the cell names every tied structure. Below, the <em>measured</em> timing of this run as a check: <span class="agrees">agrees</span> (the per-process values differ the same way, by more than ${t}, Mann–Whitney with Benjamini–Hochberg over the table), <span class="contradicts">contradicts</span> (they differ the other way, or differ where the model ties), or <span class="noise">within noise</span>; with the change and the processes on each side. ${
    refs.length ? `${refs.join(', ')} is a lower bound: shown as "lower bound", never ranked.` : ''
  } Hover a cell for every value.</p>
<div class="table-wrap"><table class="decisions fixed"><thead><tr><th style="width:9%">scenario</th>${ASPECTS.map(
    (a) => html`<th>${a.label}<span class="sub">${a.primary}${a.check ? html` · check ${a.check}` : ''}</span></th>`,
  )}</tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="facts">Lowest alone: ${tally.length ? join(tally, ' · ') : 'none'} (of ${decisions.length} cells; ${decisions.filter((d) => d.verdict === 'tie').length} ties within ${t}; the measurement contradicts ${contradictions}).</p>
</section>`;
}

// ---------------------------------------------------------------------------
// What should come next: the design space

const KIND_WORDS = { family: 'family point', built: 'built', proposal: 'never built', reference: 'lower bound' } as const;

/** A ratio to radix, coloured when it is beyond the threshold either way. */
function ratioSpan(ratio: number, t: number, difference?: { value: number; unit: string }): SafeHtml {
  const cls = ratio > 1 + t ? 'worse' : ratio * (1 + t) < 1 ? 'better' : '';
  const diff = difference ? ` (${difference.value < 0 ? '−' : '+'}${formatValue(Math.abs(difference.value), difference.unit)})` : '';
  return html`<span class="${cls}">${formatRatio(ratio)}${diff}</span>`;
}

/** Where a point stands on one frontier, in words. */
function frontierStatus(f: ScenarioFrontier | undefined, id: string): string {
  if (!f) return '—';
  const p = f.points.find((q) => q.id === id);
  const names = (ids: readonly string[]) => (ids.length <= 3 ? ids.join(', ') : `${ids.slice(0, 2).join(', ')} and ${ids.length - 2} more`);
  if (p) return p.onFrontier ? `on${p.tiedWith.length ? `, tied with ${names(p.tiedWith)}` : ''}` : `dominated by ${names(p.dominatedBy)}`;
  if (f.reference.some((q) => q.id === id)) return 'lower bound, not ranked';
  const e = f.excluded.find((q) => q.id === id);
  return e ? `left out: ${e.reason}` : '—';
}

/** A few tied points by name; a large tie group by its size, the names in the tooltip (the group's rows are beside it). */
function tiedCell(ids: readonly string[]): SafeHtml {
  if (ids.length <= 3) return html`<td>${ids.join(', ')}</td>`;
  return html`<td title="${ids.join(', ')}">${ids.length} points${ids.some((id) => pointKind(id) !== 'family') ? html`, among them ${ids.filter((id) => pointKind(id) !== 'family').join(', ')}` : ''}</td>`;
}

function pointCell(id: string, all: readonly string[]): SafeHtml {
  return html`<td>${pointKind(id) === 'family' ? '' : swatch(id, all)}<code>${id}</code></td>`;
}

function paramCells(input: PageInput, id: string): SafeHtml {
  const p = familyParams(id);
  if (p) return html`<td class="num">${p.leafBytes} B</td><td class="num">${p.fanout}</td><td>${p.encoding === 'key' ? 'order-bit key' : 'per order'}</td><td>${p.leafKind}</td>`;
  return html`<td colspan="4">${KIND_WORDS[pointKind(id)]}: ${input.structures.get(id)?.title ?? id}</td>`;
}

function frontierTable(input: PageInput, ds: DesignSpace, axis: FrontierAxis): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const yUnit = String(unitOf(axis.y, results));
  const rows = ds.scenarios.flatMap((sc) => {
    const f = ds.frontiers.find((x) => x.scenario === sc && x.axis.id === axis.id)!;
    const on = f.points.filter((p) => p.onFrontier);
    const base = f.points.find((p) => p.id === BASELINE);
    return on.map(
      (p, i) => html`<tr>${i === 0 ? html`<th rowspan="${on.length}">${sc}</th>` : ''}${pointCell(p.id, all)}${paramCells(input, p.id)}
<td class="num">${formatValue(p.x, 'bytes')}</td><td class="num">${formatValue(p.y, yUnit)}</td>
<td class="num">${base ? html`${ratioSpan(p.x / base.x, ds.threshold)} · ${ratioSpan(p.y / base.y, ds.threshold)}` : '—'}</td>${tiedCell(p.tiedWith)}</tr>`,
    );
  });
  return html`<div class="table-wrap"><table class="fixed"><thead><tr><th style="width:9%">scenario</th><th style="width:19%">point</th><th style="width:6%">leaf</th><th style="width:6%">fanout</th><th style="width:8%">order encoding</th><th style="width:7%">leaf kind</th><th><code>${METADATA}</code></th><th><code>${axis.y}</code></th><th>against ${BASELINE}<span class="sub">metadata · ${axis.label}</span></th><th style="width:16%">tied with</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function versusTable(ds: DesignSpace): SafeHtml {
  const compared = [...(ds.bestVsBaseline ? [ds.bestVsBaseline] : []), ...ds.proposals.filter((p) => p.id !== ds.best?.id).flatMap((p) => (p.versus ? [p.versus] : []))];
  if (compared.length === 0) return html``;
  const figures = ['metadata', 'blackout', 'preserve'];
  const cell = (r: Versus | undefined) =>
    r ? html`<td class="num">${ratioSpan(r.ratio, ds.threshold, { value: r.difference, unit: r.unit })}<span class="sub">${formatValue(r.value, r.unit)} against ${formatValue(r.baseline, r.unit)}</span></td>` : html`<td class="num">—</td>`;
  return html`<h3>Against the merged radix tree</h3>
<p class="lead">Ratio to ${BASELINE} and the difference, per scenario (below 1, and green: less than radix beyond ${formatPercent(ds.threshold)}; red: more).</p>
<div class="table-wrap"><table class="fixed"><thead><tr><th style="width:22%">point</th><th style="width:12%">scenario</th>${figures.map((f) => html`<th>${f}</th>`)}</tr></thead><tbody>${compared.flatMap((v) =>
    ds.scenarios
      .filter((sc) => v.rows.some((r) => r.scenario === sc))
      .map((sc, i, scs) => html`<tr>${i === 0 ? html`<th rowspan="${scs.length}"><code>${v.id}</code>${v.id === ds.best?.id ? html`<span class="sub">the best point</span>` : ''}</th>` : ''}<td>${sc}</td>${figures.map((f) => cell(v.rows.find((r) => r.scenario === sc && r.label === f)))}</tr>`),
  )}</tbody></table></div>`;
}

function everyPoint(input: PageInput, ds: DesignSpace): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const measured = (p: PairResult | undefined, name: string) => {
    const m = p?.metrics[name];
    return m ? html`<td class="num">${formatValue(m.value, String(unitOf(name, results)))}<span class="sub">n ${m.processes ?? '?'}</span></td>` : html`<td class="num">—</td>`;
  };
  const exact = (p: PairResult | undefined, name: string) => {
    const m = p?.metrics[name];
    return html`<td class="num">${m ? formatValue(m.value, String(unitOf(name, results))) : '—'}</td>`;
  };
  return html`${ds.scenarios.map((sc) => {
    const ids = [...ds.named, ...ds.points].filter((id) => findPair(results, id, sc));
    const fs = FRONTIER_AXES.map((a) => ds.frontiers.find((f) => f.scenario === sc && f.axis.id === a.id));
    return html`<details><summary>Every point on ${sc} (${ids.length})</summary><div class="table-wrap"><table class="fixed"><thead><tr><th style="width:19%">point</th><th><code>${METADATA}</code></th>${FRONTIER_AXES.map(
      (a) => html`<th><code>${a.y}</code></th>`,
    )}<th><code>blackout_ms</code><span class="sub">measured</span></th><th><code>preserve_ns_per_folio</code><span class="sub">measured</span></th>${FRONTIER_AXES.map((a) => html`<th style="width:15%">${a.label} frontier</th>`)}</tr></thead><tbody>${ids.map((id) => {
      const p = findPair(results, id, sc);
      return html`<tr>${pointCell(id, all)}${exact(p, METADATA)}${FRONTIER_AXES.map((a) => exact(p, a.y))}${measured(p, 'blackout_ms')}${measured(p, 'preserve_ns_per_folio')}${fs.map((f) => html`<td>${frontierStatus(f, id)}</td>`)}</tr>`;
    })}</tbody></table></div></details>`;
  })}`;
}

function designSpaceSection(input: PageInput): SafeHtml {
  const ds = input.designSpace;
  if (!ds) {
    return html`<section id="next">
<h2>What should come next</h2>
<p class="missing">${NO_DESIGN_SPACE.before}<code>${DESIGN_SPACE_COMMAND}</code>${NO_DESIGN_SPACE.after}</p>
</section>`;
  }
  const cpu = modelCpuName(input.results);
  const t = formatPercent(ds.threshold);
  const [headline, ...rest] = ds.conclusions;
  const charts = input.charts.designSpace.flatMap((s) => s.charts);
  return html`<section id="next">
<h2>What should come next</h2>
<p class="lead">${ds.points.length} of the tracker family's points (${
    input.structures.get(ds.points[0] ?? '')?.readme ? html`<a href="#${FAMILY_ANCHOR}">structures/family</a>` : 'structures/family'
  }, whose 32 points combine leaves of 64 B to 4 KiB, tables of 64 or 512 entries, one order-bit key or a tree per order, and bitmap or extent-list leaves), the named structures and the two designs offered on the list but never built, on ${ds.scenarios.length} scenario(s). Each scenario has two frontiers of the metadata handed over (<code>${METADATA}</code>, exact) against a time modeled on ${cpu}: the blackout (<code>blackout_model_ms</code>) and the preserve (<code>preserve_model_ns</code>). Lower is better on both. A point is on the frontier unless a frontier point is within ${t} of it or below on both axes and below it by more than ${t} on one; points within ${t} of each other on both axes tie: neither is better. The best point is the one on the most frontiers, then the closest to each scenario's lowest figures. flat-bitmap is drawn as the lower bound and never ranked; a format that loses folios is left out where it does.</p>
<article class="answer">
<h3>Conclusions</h3>
${headline ? html`<p class="headline">${headline}</p>` : ''}
${rest.length ? html`<ul>${rest.map((c) => html`<li>${c}</li>`)}</ul>` : ''}
</article>
${charts.length ? html`<h3>The frontiers, scenario by scenario</h3><div class="grid">${charts.map((c) => figure(c, input))}</div>` : ''}
${FRONTIER_AXES.map((a) => html`<h3>Frontier points: metadata against ${a.label}</h3>${frontierTable(input, ds, a)}`)}
${versusTable(ds)}
<h3>Caveats</h3>
<ul>${ds.caveats.map((c) => html`<li><strong>${c.title}.</strong> ${c.text}</li>`)}</ul>
${everyPoint(input, ds)}
</section>`;
}

// ---------------------------------------------------------------------------
// Baseline comparison

function changeCells(r: ChangeRow): SafeHtml {
  const cls = r.verdict === 'regression' ? 'verdict-regression' : r.verdict === 'improvement' ? 'verdict-improvement' : 'verdict-noise';
  const unit = String(unitOf(r.metric));
  return html`<td>${describeWhere(r.scenario)}</td><td>${r.structure}</td><td><code>${r.metric}</code> <span class="basis">${r.kind}</span></td>
<td class="num">${formatValue(r.baseline, unit)}</td><td class="num">${formatValue(r.current, unit)}</td>
<td class="num">${describeChange(r)}</td><td class="num">${r.processes ? `${r.processes.baseline}/${r.processes.current}` : '—'}</td><td class="num">${r.pAdjusted !== undefined ? formatP(r.pAdjusted) : 'exact'}${r.derivedFrom ? html` <span class="basis">of ${r.derivedFrom.join(', ')}</span>` : ''}</td>
<td class="${cls}">${r.verdict}</td>`;
}

function comparisonSection(input: PageInput): SafeHtml {
  const c = input.comparison;
  if (!c) return html``;
  const { data } = c;
  const notable = data.rows.filter((r) => r.verdict === 'regression' || r.verdict === 'improvement').sort((a, b) => b.change.value - a.change.value);
  const count = (v: string) => data.rows.filter((r) => r.verdict === v).length;
  const head = html`<thead><tr><th>scenario</th><th>structure</th><th>metric</th><th>baseline</th><th>this run</th><th>change</th><th>processes</th><th>adjusted p</th><th>verdict</th></tr></thead>`;
  const base = c.baseline.context;
  const host = hostLine(data);
  return html`<section id="baseline">
<h2>Comparison with the baseline run</h2>
${host ? html`<div class="banner warn"><strong>Host:</strong> ${host}. Every timing below may reflect that, not the code.</div>` : ''}
<p class="lead">Baseline: <code>${c.baselineName}</code>, ${base.profile} profile, ${formatDate(base.date)}, commit <code>${shortCommit(base.gitCommit)}</code>.
A measured metric changed only if its per-process values differ (Mann–Whitney U, p adjusted by Benjamini–Hochberg over ${data.rows.filter((r) => r.kind === 'measured' && !r.derivedFrom).length} measured metrics, α = ${data.alpha}) and the change of the means exceeds ${formatPercent(data.noise)}; its interval is a bootstrap over processes. A metric computed from others (a time per folio, the blackout) is not tested again: it takes the adjusted p of the metrics it is computed from, and its own change decides. Exact and model metrics compare exactly: any change is listed. Change = this run / baseline − 1: positive is slower or bigger.</p>
${data.contextWarnings.length ? html`<div class="banner warn"><strong>The runs differ:</strong><ul>${data.contextWarnings.map((w) => html`<li>${w}</li>`)}</ul></div>` : ''}
<p><strong>${count('regression')}</strong> regression(s), <strong>${count('improvement')}</strong> improvement(s), ${count('within noise')} within noise, ${count('unchanged')} exact metrics unchanged${
    data.notCompared ? html`; ${data.notCompared} measured metric(s) without per-process values were not compared` : ''
  }.${data.added.length ? html` New in this run: ${data.added.map((a) => `${a.structure}/${a.scenario}`).join(', ')}.` : ''}${
    data.removed.length ? html` Missing from this run: ${data.removed.map((a) => `${a.structure}/${a.scenario}`).join(', ')}.` : ''
  }</p>
${notable.length ? html`<div class="table-wrap"><table>${head}<tbody>${notable.map((r) => html`<tr>${changeCells(r)}</tr>`)}</tbody></table></div>` : html`<p>No metric changed beyond noise.</p>`}
<details><summary>All ${data.rows.length} comparisons</summary><div class="table-wrap"><table>${head}<tbody>${data.rows.map((r) => html`<tr>${changeCells(r)}</tr>`)}</tbody></table></div></details>
</section>`;
}

// ---------------------------------------------------------------------------
// How to read

function howToRead(input: PageInput): SafeHtml {
  const t = formatPercent(input.threshold);
  const cpu = input.results.context.modelCpu ?? 'the model CPU';
  return html`<section id="how-to-read">
<h2>How to read this report</h2>
<ul>
<li><strong>Three kinds of figure.</strong> <em>Model</em> figures are the machine model (src/model) replaying each operation's exact memory accesses on ${cpu}: deterministic, the same on every machine, and the basis of every ranking. <em>Exact</em> figures are counts (bytes, pages, lines): no interval, no noise. <em>Measured</em> figures are this JavaScript simulation timed on the machine below: they confirm or contradict the model, they are not kernel times.</li>
<li><strong>The process is the unit.</strong> Every measured time is the mean of one estimate per fresh process (n, shown beside it); its 95% interval is Student's t over those processes, never below zero; cv is their spread. A run with fewer than 4 processes a side cannot show a significant difference with a rank test.</li>
<li><strong>Ties.</strong> Two figures within ${t} (the <code>--threshold</code> of the report) are a tie, for model and exact figures as for measured ones: a 3-byte or 2% difference is not a win.</li>
<li><strong>Summaries over scenarios</strong> are geometric means of the per-scenario values or ratios, with the range; the interval of a geometric mean of measured values combines the per-scenario intervals (delta method on the log scale, Welch–Satterthwaite degrees of freedom).</li>
<li><strong>Head to head</strong> pairs each stateless tree with the serializing tracker it was offered against (the table says why), so no ratio compares two stateless trees when the question is serialization.</li>
<li><strong>Charts.</strong> Each value axis names the metric and the unit its ticks are in. Bars start at zero on a linear axis; only the metadata chart, the sweeps and the model-against-measurement chart are logarithmic, and say so. Box plots show per-process values: box from the first to the third quartile, line at the median, whiskers to the furthest value within 1.5 IQR, every process a dot. Stacked bars carry each part's own interval. With the interactive button, the tooltips give every value with its unit, interval and n.</li>
<li><strong>Growth exponents</strong> (slope of log cost on log size over a sweep) are shown with their 95% interval, and only from ${MIN_FIT_POINTS} points or more.</li>
<li><strong>Metric names</strong> are those of <code>summary.csv</code> and <code>results.json</code>; the list is in the last section.</li>
<li><strong>Files beside this report:</strong> ${join(
    input.exports.map((f) => html`<code>${f}</code>`),
    ', ',
  )} (src/report/README.md describes them). Rebuild with <code>npm run report -- ${input.resultsName}</code>.</li>
</ul>
</section>`;
}

// ---------------------------------------------------------------------------
// Model against measurement, calibrations

function figure(spec: ChartSpec, input: PageInput): SafeHtml {
  const png = input.pngs.get(spec.id);
  const src = png ? `data:image/png;base64,${png.toString('base64')}` : '';
  const interactive = input.chartJsSource ? html`<button type="button" data-chart="${spec.id}" class="make-live">interactive</button>` : '';
  return html`<figure${spec.wide ? raw(' class="wide"') : ''} id="${spec.id}" data-x-title="${spec.axes.x}" data-y-title="${spec.axes.y}">
<img src="${raw(src)}" alt="${spec.alt}" width="${spec.width}" height="${spec.height}" data-chart="${spec.id}">
${interactive || spec.caption ? html`<figcaption>${interactive}${spec.caption ?? ''}</figcaption>` : ''}
</figure>`;
}

function modelSection(input: PageInput): SafeHtml {
  const checks = input.modelChecks;
  const cpu = modelCpuName(input.results);
  return html`<section id="model">
<h2>The model against the measurement</h2>
<p class="lead">Where memory sets the cost (the sparse scenarios, and the sweeps to large sizes), the measurement of this JavaScript simulation can see what the model models. For each head-to-head pair, the model's ratio (${cpu}) beside the measured ratio with its 95% interval: <em>agree</em> when the model's ratio lies in the interval (or both are within ${formatPercent(input.threshold)} of 1), <em>same direction</em> when both say the same structure is cheaper by different amounts, <em>disagree</em> otherwise. Elsewhere JavaScript's own work dominates the measurement, and the two are not expected to agree.</p>
${checks.length ? html`<ul>${describeModelChecks(checks).map((s) => html`<li>${s}</li>`)}</ul>
${input.charts.modelCheck ? html`<div class="grid">${figure(input.charts.modelCheck, input)}</div>` : ''}
<details><summary>All ${checks.length} ratios</summary><div class="table-wrap"><table><thead><tr><th>pair</th><th>where</th><th>measured metric</th><th>model metric</th><th>model ratio</th><th>measured ratio [95%]</th><th>n</th><th>verdict</th></tr></thead><tbody>${checks.map(
  (c) => html`<tr><td>${c.pair.b} / ${c.pair.a}</td><td>${describeWhere(c.where)}</td><td><code>${c.measuredMetric}</code></td><td><code>${c.modelMetric}</code></td><td class="num">${formatRatio(c.modelRatio)}</td><td class="num">${formatRatioInterval(c.measured.value, c.measured.low, c.measured.high)}</td><td class="num">${c.processes}</td><td>${c.verdict}</td></tr>`,
)}</tbody></table></div></details>` : html`<p class="missing">No memory-bound case with both a model figure and per-process measurements for a head-to-head pair: nothing to compare.</p>`}
</section>`;
}

function calibrationSection(input: PageInput): SafeHtml {
  const cs = input.results.calibrations ?? [];
  const summary = describeCalibrations(input.results);
  return html`<section id="calibration">
<h2>Calibration: the model against published kernel figures</h2>
<p class="lead">The machine model run on the experiments kernel developers published a figure for, rebuilt as closely as their description allows and never tuned to them. Ratio = model / published.</p>
${summary ? html`<p>${summary}</p>` : ''}
${cs.length ? html`<div class="table-wrap"><table class="fixed"><thead><tr><th style="width:30%">published</th><th>structure</th><th>published</th><th>model</th><th>ratio</th><th style="width:34%">assumptions</th></tr></thead><tbody>${cs.map(
  (c) => html`<tr><td>${c.source}<span class="sub">${c.id}</span></td><td>${c.structure}</td><td class="num">${formatValue(c.publishedMs, 'ms')}</td><td class="num">${formatValue(c.modelMs, 'ms')}</td><td class="num">${formatRatio(c.ratio)}</td><td><ul>${c.assumptions.map((a) => html`<li>${a}</li>`)}</ul></td></tr>`,
)}</tbody></table></div>` : html`<p class="missing">This run has no calibrations.</p>`}
</section>`;
}

// ---------------------------------------------------------------------------
// Scenarios, metadata, scaling

function scenarioFacts(input: PageInput, scenario: string): SafeHtml {
  const { results } = input;
  const decl = results.scenarios.find((s) => s.id === scenario);
  const pairs = results.pairs.filter((p) => p.scenario === scenario);
  const any = pairs[0];
  const parts: SafeHtml[] = [];
  if (decl) parts.push(html`${decl.description}`);
  const ram = decl?.ramBytes ?? any?.ramBytes;
  if (ram !== undefined) parts.push(html`RAM ${formatValue(ram, 'bytes')}`);
  if (any) parts.push(html`${formatCount(any.folios)} folios, ${formatValue(any.preservedBytes, 'bytes')} preserved`);
  const seed = decl?.seed ?? results.context.seeds?.[scenario];
  if (seed !== undefined) parts.push(html`seed ${seed}`);
  const n = pairs.map((p) => p.metrics.preserve_ns_per_folio?.processes).filter((x): x is number => x !== undefined);
  if (n.length) parts.push(html`${Math.min(...n)}${Math.max(...n) !== Math.min(...n) ? `–${Math.max(...n)}` : ''} processes per structure`);
  const missing = structuresOf(results).filter((s) => !pairs.some((p) => p.structure === s));
  if (missing.length) parts.push(html`<span class="missing">not measured here: ${missing.join(', ')}</span>`);
  const warnings = pairs.flatMap((p) => (p.warnings ?? []).map((w) => `${p.structure}: ${w}`));
  return html`<p class="facts">${join(parts, ' · ')}</p>${warnings.length ? html`<div class="banner info"><strong>Warnings</strong><ul>${warnings.map((w) => html`<li>${w}</li>`)}</ul></div>` : ''}`;
}

function scenariosSection(input: PageInput): SafeHtml {
  const { results } = input;
  return html`<section id="scenarios">
<h2>Scenarios</h2>
<p class="lead">Per scenario: per-process values of preserve and restore per folio; the restore split into its parts; the blackout as serialization plus restore; pages and lines touched (exact) and the model's DRAM fetches, per preserved and per restored folio.</p>
${input.charts.perScenario.map(
  ({ scenario, charts }) => html`<h3 id="${scenarioAnchor(results, scenario)}">${scenario}</h3>
${scenarioFacts(input, scenario)}
${charts.length ? html`<div class="grid">${charts.map((c) => figure(c, input))}</div>` : html`<p class="missing">Nothing measured in this scenario.</p>`}`,
)}
</section>`;
}

function metadataSection(input: PageInput): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const cell = (p: PairResult | undefined) => {
    const per = p?.metrics.metadata_bytes_per_gib;
    const handover = p?.metrics.metadata_bytes_handover;
    const peak = p?.metrics.metadata_bytes_peak;
    if (!p || !per) return html`<td class="num">—</td>`;
    return html`<td class="num"><strong>${formatValue(per.value, 'bytes')}</strong><span class="sub">${handover ? formatValue(handover.value, 'bytes') : '—'} · peak ${peak ? formatValue(peak.value, 'bytes') : '—'}</span></td>`;
  };
  return html`<section id="metadata">
<h2>Metadata per GiB preserved</h2>
<p class="lead"><code>metadata_bytes_per_gib</code>: bytes the next kernel receives (serialized copy included), per GiB preserved; exact. Below each: <code>metadata_bytes_handover</code> · <code>metadata_bytes_peak</code> (the running kernel's peak).</p>
${input.charts.metadata ? html`<div class="grid">${figure(input.charts.metadata, input)}</div>` : html`<p class="missing">No pairs measured.</p>`}
<div class="table-wrap"><table class="fixed"><thead><tr><th>scenario</th>${all.map((s) => html`<th>${swatch(s, all)}${s}</th>`)}</tr></thead>
<tbody>${measuredScenarios(results).map((sc) => html`<tr><td>${sc}</td>${all.map((st) => cell(findPair(results, st, sc)))}</tr>`)}</tbody></table></div>
</section>`;
}

function scalingSection(input: PageInput): SafeHtml {
  const { results, fits } = input;
  const all = structuresOf(results);
  const tables = (['folios', 'ram'] as const).map((axis) => {
    const rows = fits.filter((f) => f.axis === axis);
    if (rows.length === 0) return html``;
    const metrics = [...new Set(rows.map((f) => f.metric))];
    const structures = all.filter((st) => rows.some((f) => f.structure === st));
    if (rows.every((f) => f.problem)) {
      const problems = [...new Set(rows.map((f) => f.problem))];
      return html`<p class="missing">Against ${axis === 'ram' ? 'RAM size' : 'the number of folios'}: no exponent: ${problems.join('; ')}.</p>`;
    }
    return html`<h3>Growth exponents against ${axis === 'ram' ? 'RAM size' : 'the number of preserved folios'}</h3>
<div class="table-wrap"><table class="fixed"><thead><tr><th>structure</th>${metrics.map((m) => html`<th><code>${m}</code></th>`)}</tr></thead><tbody>${structures.map(
      (st) => html`<tr><td>${swatch(st, all)}${st}</td>${metrics.map((m) => {
        const f = rows.find((x) => x.structure === st && x.metric === m);
        if (!f) return html`<td class="num">—</td>`;
        if (!f.exponent) return html`<td class="num" title="${f.problem ?? ''}">—<span class="sub">${f.problem ?? ''}</span></td>`;
        return html`<td class="num">${formatNumberInterval(f.exponent.value, f.exponent.low, f.exponent.high)}<span class="sub">${f.points} points, r² ${sig(f.r2 ?? NaN)}</span></td>`;
      })}</tr>`,
    )}</tbody></table></div>`;
  });
  return html`<section id="scaling">
<h2>Scaling</h2>
<p class="lead">Cost against the number of preserved folios (fixed RAM) and against RAM size (fixed folios), log-log; the exponent is the slope of a least-squares line of log(cost) on log(x), with its 95% interval (1: linear, 0: constant). Error bars are 95% intervals over processes.</p>
${input.charts.scaling.length ? html`<div class="grid">${input.charts.scaling.map((c) => figure(c, input))}</div>` : html`<p class="missing">This run has no scaling sweeps.</p>`}
${tables}
</section>`;
}

// ---------------------------------------------------------------------------
// Structures, context, numbers

function structuresSection(input: PageInput): SafeHtml {
  const all = structuresOf(input.results);
  const listed = [...new Set([...input.knownStructures, ...all])];
  const shown = new Set<string>();
  const docs = listed.flatMap((id) => {
    const info = input.structures.get(id);
    if (!info?.readme || shown.has(info.folder)) return [];
    shown.add(info.folder);
    const sharing = listed.filter((x) => input.structures.get(x)?.folder === info.folder);
    const base = input.linksBase ? `${input.linksBase.replace(/\/+$/, '')}/${info.folder}/` : undefined;
    return [
      html`<details id="${structureAnchor(input, id)}"><summary>${sharing.join(', ')}: format and departures from the kernel</summary><div class="md">${raw(
        renderMarkdown(info.readme, { topHeading: 4, ...(base ? { linksBase: base } : {}) }),
      )}</div>${base ? html`<p class="facts">Published at <a href="${`${base}README.md`}">${`${base}README.md`}</a>.</p>` : ''}</details>`,
    ];
  });
  // The family's points, one row and one README for all of them.
  const points = input.designSpace?.points ?? [];
  const family = points.length ? input.structures.get(points[0]) : undefined;
  const familyRow = points.length
    ? html`<tr><td><code>fam-…</code> (${points.length} points)</td><td>the tracker family: one stateless tracker, four parameters (<a href="#next">What should come next</a>)</td><td>${
        family?.readme ? html`<a href="#${FAMILY_ANCHOR}">${family.folder}/README.md</a>` : html`<span class="missing">no README</span>`
      }</td><td>${input.results.pairs.filter((p) => points.includes(p.structure)).length} pairs</td></tr>`
    : '';
  const familyBase = family && input.linksBase ? `${input.linksBase.replace(/\/+$/, '')}/${family.folder}/` : undefined;
  const familyDoc = family?.readme
    ? html`<details id="${FAMILY_ANCHOR}"><summary>the tracker family (fam-…): format and departures from the kernel</summary><div class="md">${raw(
        renderMarkdown(family.readme, { topHeading: 4, ...(familyBase ? { linksBase: familyBase } : {}) }),
      )}</div>${familyBase ? html`<p class="facts">Published at <a href="${`${familyBase}README.md`}">${`${familyBase}README.md`}</a>.</p>` : ''}</details>`
    : '';
  return html`<section id="structures">
<h2>Structures</h2>
<div class="table-wrap"><table class="fixed"><thead><tr><th>id</th><th>what it is</th><th>format</th><th>in this run</th></tr></thead><tbody>
${listed.map((id) => {
  const info = input.structures.get(id);
  const doc = info?.readme ? html`<a href="#${structureAnchor(input, input.knownStructures.find((k) => input.structures.get(k)?.folder === info.folder) ?? id)}">${info.folder}/README.md</a>` : info ? html`<span class="missing">no README</span>` : html`<span class="missing">unknown to this version of kho-bench</span>`;
  const pairs = input.results.pairs.filter((p) => p.structure === id).length;
  return html`<tr><td>${swatch(id, all)}<code>${id}</code></td><td>${info?.title ?? '—'}</td><td>${doc}</td><td>${pairs ? `${pairs} scenario(s)` : html`<span class="missing">not measured</span>`}</td></tr>`;
})}
${familyRow}
</tbody></table></div>
${docs}
${familyDoc}
</section>`;
}

function contextSection(input: PageInput): SafeHtml {
  const { results } = input;
  const c = results.context;
  const items: [string, string][] = [
    ['profile', c.profile],
    ['date', formatDate(c.date)],
    ['commit', c.gitCommit],
    ['seed', String(c.seed)],
    ['CPU', c.cpuModel],
    ['cores', String(c.cores)],
    ['memory', formatValue(c.memoryBytes, 'bytes')],
    ['platform', c.platform],
    ['Node.js', c.node],
    ['V8', c.v8],
  ];
  if (c.modelCpu) items.push(['model CPU', c.modelCpu]);
  if (c.runner) {
    items.push([
      'runner',
      `${c.runner.jobs} job(s) at once${c.runner.pinned ? ', each on a CPU of its own' : ''}, ${c.runner.processes} fresh process(es) per pair, launcher ${c.runner.launcher}, tinybench ${c.runner.tinybench}${c.runner.benny ? `, benny ${c.runner.benny}` : ''}`,
    ]);
  }
  if (c.timer) items.push(['timer', `${c.timer.provider}: ${c.timer.callNs} ns per call, ${c.timer.regionNs} ns per timed region`]);
  if (input.host) {
    const n = c.calibration?.startNs.length ?? 0;
    items.push([
      'host calibration',
      `${n} processes, median ${formatValue(input.host.medianNs, 'ns')}; drift ${formatPct(input.host.drift, true)} (later half against earlier, ${formatP(input.host.driftP)}); ${input.host.slowProcesses.length} slow process(es)${c.calibration?.warning ? `; ${c.calibration.warning}` : ''}`,
    ]);
  }
  if (c.seeds && Object.keys(c.seeds).length) items.push(['scenario seeds', Object.entries(c.seeds).map(([k, v]) => `${k}: ${v}`).join(', ')]);
  if (c.peakRssBytes) items.push(['peak memory', `${formatValue(c.peakRssBytes.job, 'bytes')} per job, ${formatValue(c.peakRssBytes.runner, 'bytes')} runner`]);
  if (c.wallSeconds !== undefined) items.push(['wall time', `${c.wallSeconds.toFixed(1)} s`]);
  if (results.plan) {
    const p = results.plan;
    items.push([
      'plan',
      `${p.structures.length} structure(s), ${p.scenarios.length} scenario(s)${p.filtered ? ' (filtered)' : ''}, ${p.processes} process(es) per pair, sweeps ${p.sweeps ? 'yes' : 'no'}, cross-check ${p.crossCheck ? 'yes' : 'no'}${p.aa ? ', A/A' : ''}; ${p.doneJobs} of ${p.totalJobs} jobs done`,
    ]);
  }
  items.push(['results file', input.resultsName], ['complete', results.complete ? 'yes' : 'no: the run stopped before every measurement was written'], ['report generated', formatDate(input.generatedAt)]);
  return html`<section id="context">
<h2>Run context</h2>
<dl class="ctx">${items.map(([k, v]) => html`<dt>${k}</dt><dd>${k === 'commit' ? html`<code>${v}</code>` : v}</dd>`)}</dl>
</section>`;
}

function numbersSection(input: PageInput): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const names = (pairs: readonly PairResult[]) => {
    const present = new Set(pairs.flatMap((p) => [...Object.keys(p.metrics), ...Object.keys(p.unavailable ?? {})]));
    return [...PAIR_METRICS.map((m) => m.name).filter((n) => present.has(n)), ...[...present].filter((n) => !PAIR_METRICS.some((m) => m.name === n)).sort()];
  };
  return html`<section id="numbers">
<h2>All numbers</h2>
<p class="lead">Every metric of every pair, under its <code>summary.csv</code> name. Measured: mean, then the 95% interval, the processes and their spread (cv). "n/a": the structure cannot have it, with the reason.${
    input.designSpace ? html` The family's points are in <a href="#next">What should come next</a> (every figure of theirs is in <code>${input.resultsName}</code>).` : ''
  }</p>
<details><summary>Metric definitions (${PAIR_METRICS.length})</summary><div class="table-wrap"><table class="fixed"><thead><tr><th style="width:30%">metric</th><th style="width:10%">kind</th><th style="width:10%">unit</th><th>what</th></tr></thead><tbody>${PAIR_METRICS.map(
    (m) => html`<tr><td><code>${m.name}</code></td><td>${m.kind}</td><td>${m.unit}</td><td>${m.description}</td></tr>`,
  )}</tbody></table></div></details>
${measuredScenarios(results).map((sc) => {
  const pairs = all.map((st) => findPair(results, st, sc)).filter((p): p is PairResult => p !== undefined);
  return html`<details><summary>${sc} (${pairs.length} structures)</summary><div class="table-wrap"><table class="fixed"><thead><tr><th style="width:24%">metric</th>${pairs.map((p) => html`<th>${swatch(p.structure, all)}${p.structure}</th>`)}</tr></thead><tbody>
${names(pairs).map((n) => html`<tr><td><code>${n}</code></td>${pairs.map((p) => measuredCell(p.metrics[n], String(unitOf(n, results)), p.unavailable?.[n]))}</tr>`)}
</tbody></table></div></details>`;
})}
</section>`;
}

// ---------------------------------------------------------------------------
// Banners, script, page

function banners(input: PageInput): SafeHtml {
  const { results } = input;
  const warn: SafeHtml[] = [];
  const info: SafeHtml[] = [];
  const plan = results.plan;
  if (!results.complete) {
    warn.push(
      html`<strong>Partial run:</strong> the benchmark stopped before every planned measurement was written${plan ? html` (${plan.doneJobs} of ${plan.totalJobs} jobs)` : ''}; ${results.pairs.length} pair(s) are in this file.`,
    );
  }
  if (results.context.profile === 'smoke') {
    warn.push(html`<strong>Smoke run:</strong> small scenarios and ${plan?.processes ?? 'few'} processes per pair, to check that the suite runs. Read the numbers of a default or full run.`);
  }
  if (input.aa) warn.push(html`<strong>A/A run</strong> (the same code twice, interleaved): ${input.aa.flagged} of ${input.aa.timing} timing metrics flagged (${formatPct(input.aa.flaggedShare)}); more than the odd one means the intervals understate the noise.`);
  const hostWarning = results.context.calibration?.warning ?? (input.host?.flagged ? input.host.message : undefined);
  if (hostWarning) warn.push(html`<strong>Host:</strong> ${hostWarning}.`);
  const failures = results.failures ?? [];
  if (failures.length) {
    warn.push(
      html`<strong>${failures.length} job(s) failed</strong>, so their numbers are missing:<ul>${failures
        .slice(0, 20)
        .map((f) => html`<li><code>${f.structure}</code>${f.scenario ? html` on <code>${f.scenario}</code>` : ''}: ${f.message}</li>`)}${
        failures.length > 20 ? html`<li>… and ${failures.length - 20} more (see results.json)</li>` : ''
      }</ul>`,
    );
  }
  const structures = structuresOf(results);
  const scenarios = scenariosOf(results);
  const skipped = results.skipped ?? [];
  const missingStructures = input.knownStructures.filter((s) => !structures.includes(s) && !skipped.some((k) => k.structure === s));
  const missingScenarios = KNOWN_SCENARIOS.filter((s) => !scenarios.includes(s));
  if (plan?.filtered) info.push(html`<strong>Filtered run:</strong> it asked for fewer structures or scenarios than the suite has.`);
  if (plan?.designSpace && isDesignSpaceOnly(plan)) {
    info.push(
      html`<strong>Design-space run:</strong> ${plan.designSpace.points.length} family points and the named structures on ${plan.designSpace.scenarios.length} scenario(s), ${plan.processes} timing process(es) per pair: its answer is <a href="#next">What should come next</a>; elsewhere the measured checks have too few processes to test.`,
    );
  }
  if (skipped.length) info.push(html`Skipped: ${join(skipped.map((k) => html`<code>${k.structure}</code> (${k.reason})`), '; ')}.`);
  if (missingStructures.length) info.push(html`Structures not in this run: ${missingStructures.join(', ')}.`);
  if (missingScenarios.length) info.push(html`Scenarios not in this run: ${missingScenarios.join(', ')}.`);
  return html`${warn.length ? html`<div class="banner warn">${join(warn, '<br>')}</div>` : ''}${info.length ? html`<div class="banner info">${join(info, ' ')}</div>` : ''}`;
}

function interactiveScript(input: PageInput): SafeHtml {
  if (!input.chartJsSource) return html``;
  const configs: Record<string, unknown> = {};
  for (const c of allCharts(input.charts)) configs[c.id] = c.config;
  // Chart.js itself, then the same plugins the PNGs were drawn with, then the JSON configs (escaped for <script>).
  const chartJs = input.chartJsSource.replace(/<\/script/gi, '<\\/script');
  return raw(`<script>${chartJs}</script>
<script>
(function () {
  var kho = ${CHART_PLUGINS_SOURCE};
  var configs = ${jsonForScript(configs)};
  document.querySelectorAll('button.make-live').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var id = btn.getAttribute('data-chart');
      var fig = document.getElementById(id);
      var img = fig.querySelector('img');
      var canvas = document.createElement('canvas');
      canvas.width = img.width; canvas.height = img.height;
      img.replaceWith(canvas);
      var cfg = kho.prepare(JSON.parse(JSON.stringify(configs[id])));
      cfg.plugins = kho.plugins;
      cfg.options.responsive = true;
      cfg.options.maintainAspectRatio = true;
      new Chart(canvas.getContext('2d'), cfg);
      btn.remove();
    });
  });
})();
</script>`);
}

export function renderPage(input: PageInput): string {
  const { results } = input;
  const c = results.context;
  const title = `kho-bench report: ${c.profile} run of ${formatDate(c.date)}`;
  const status = [results.complete ? 'complete' : 'partial', ...(results.plan?.filtered ? ['filtered'] : []), ...(results.plan?.aa ? ['A/A'] : [])].join(', ');
  const nav: [string, string][] = [
    ['answers', 'Answers'],
    ['decisions', 'Decision table'],
    ['next', 'What next'],
    ...(input.comparison ? ([['baseline', 'Baseline']] as [string, string][]) : []),
    ['how-to-read', 'How to read'],
    ['model', 'Model vs measured'],
    ['calibration', 'Calibration'],
    ['scenarios', 'Scenarios'],
    ['metadata', 'Metadata'],
    ['scaling', 'Scaling'],
    ['structures', 'Structures'],
    ['context', 'Context'],
    ['numbers', 'All numbers'],
  ];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="generator" content="kho-bench src/report">
<title>${title}</title>
<style>${raw(CSS)}</style>
</head>
<body>
<header class="top"><div class="inner">
<h1>kho-bench: the trackers of memory preserved across kexec, compared</h1>
<p><strong>${c.profile}</strong> run, ${status} · ${formatDate(c.date)} · <code>${shortCommit(c.gitCommit)}</code> · measured on ${c.cpuModel} (${c.cores} cores, Node.js ${c.node})${c.modelCpu ? ` · modeled on ${modelCpuName(results)}` : ''} · ${results.plan?.processes ?? c.runner?.processes ?? '?'} processes per pair · ties within ${formatPercent(input.threshold)}</p>
</div></header>
<nav class="toc" aria-label="sections"><ul>${nav.map(([id, label]) => html`<li><a href="#${id}">${label}</a></li>`)}</ul></nav>
<main>
${banners(input)}
${answersSection(input)}
${decisionSection(input)}
${designSpaceSection(input)}
${comparisonSection(input)}
${howToRead(input)}
${modelSection(input)}
${calibrationSection(input)}
${scenariosSection(input)}
${metadataSection(input)}
${scalingSection(input)}
${structuresSection(input)}
${contextSection(input)}
${numbersSection(input)}
<footer>Generated by kho-bench <code>src/report</code> on ${formatDate(input.generatedAt)} from <code>${input.resultsName}</code> (schema version ${results.schemaVersion}). Self-contained: nothing here needs the network or a checkout.</footer>
</main>
${interactiveScript(input)}
</body>
</html>
`.value;
}
