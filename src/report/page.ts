/**
 * The HTML page of one run: self-contained (inline CSS, charts as PNG data
 * URIs, optional inline Chart.js), every results-file string escaped through
 * the `html` template.
 */
import path from 'node:path';
import type { PairResult, Results } from '../results/schema.ts';
import { type Answer, type Decision, describeDecision } from './analysis.ts';
import { CHART_PLUGINS_SOURCE } from './chart-plugins.ts';
import { type ChartSpec, type ReportCharts, type SweepMetric, scalingFit, structureColor } from './charts.ts';
import { type ChangeRow, type Comparison, describeChange } from './compare.ts';
import { formatBytes, formatDate, formatMs, formatNs, formatP, formatPct, formatRatioCi, formatValue, formatWithCi } from './format.ts';
import { type SafeHtml, html, join, jsonForScript, raw } from './html.ts';
import { GiB, KNOWN_SCENARIOS, METRICS, REFERENCE_STRUCTURES, findPair, metricDef, scenariosOf, structuresOf } from './metrics.ts';
import type { StructureInfo } from './structures-info.ts';

export interface PageInput {
  results: Results;
  resultsFile: string;
  decisions: Decision[];
  answers: Answer[];
  comparison?: { data: Comparison; baselineFile: string; baseline: Results };
  charts: ReportCharts;
  pngs: Map<string, Buffer>;
  structures: Map<string, StructureInfo | undefined>;
  knownStructures: readonly string[];
  /** Directory the HTML is written to (links are relative to it). */
  htmlDir: string;
  exports: { markdown: string; csv: string; comparisonCsv?: string; runnerCsv?: string };
  /** Inline Chart.js source to make the charts interactive; absent: PNG only. */
  chartJsSource?: string;
  generatedAt: string;
}

const CSS = `
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9dce1; --bg:#fff; --soft:#f5f6f8; --accent:#0b57d0; --good:#137333; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg); font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main { max-width:1180px; margin:0 auto; padding:0 20px 60px; }
header.top { background:#0f2540; color:#fff; padding:22px 0 18px; }
header.top .inner { max-width:1180px; margin:0 auto; padding:0 20px; }
header.top h1 { margin:0 0 6px; font-size:24px; font-weight:650; }
header.top p { margin:2px 0; color:#cfd8e3; }
header.top code { color:#fff; }
nav.toc { position:sticky; top:0; background:rgba(255,255,255,.96); border-bottom:1px solid var(--line); z-index:5; }
nav.toc ul { max-width:1180px; margin:0 auto; padding:8px 20px; list-style:none; display:flex; flex-wrap:wrap; gap:4px 18px; font-size:14px; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
h2 { font-size:21px; margin:34px 0 10px; padding-bottom:4px; border-bottom:2px solid var(--line); }
h3 { font-size:17px; margin:24px 0 6px; }
p.lead { color:var(--muted); margin-top:0; }
code, .mono { font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace; font-size:13px; }
table { border-collapse:collapse; width:100%; margin:8px 0 14px; font-size:13.5px; }
th, td { border:1px solid var(--line); padding:5px 8px; text-align:left; vertical-align:top; }
th { background:var(--soft); font-weight:600; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.meta strong { font-weight:600; } td.meta .sub { display:block; color:var(--muted); font-size:12px; }
tbody tr:nth-child(even) td { background:#fbfbfc; }
.table-wrap { overflow-x:auto; }
table.decisions td { min-width:120px; }
table.decisions td.cell { border-left:5px solid transparent; }
table.decisions td.cell strong { font-size:14px; }
table.decisions .by { display:block; color:#333; font-size:12.5px; }
table.decisions td.nc { color:var(--muted); font-style:italic; background:#fafafa !important; }
.swatch { display:inline-block; width:11px; height:11px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.banner { border-radius:6px; padding:10px 14px; margin:16px 0; }
.banner.warn { background:#fff4e5; border:1px solid #f5c16c; }
.banner.info { background:#eef4fd; border:1px solid #b6cdf3; }
article.answer { border:1px solid var(--line); border-radius:8px; padding:4px 18px 8px; margin:14px 0; background:#fcfcfd; }
article.answer h3 { margin-top:14px; }
article.answer p.ctx { color:var(--muted); font-size:14px; margin:4px 0 8px; }
article.answer ul { margin:6px 0 10px; padding-left:20px; }
article.answer li { margin:3px 0; }
.missing { color:#8a5300; font-size:13.5px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(540px,1fr)); gap:14px; }
figure { margin:0; border:1px solid var(--line); border-radius:6px; padding:6px; background:#fff; }
figure img { display:block; width:100%; height:auto; }
figure canvas { display:block; width:100% !important; }
figure.wide { grid-column:1 / -1; }
figcaption { font-size:12.5px; color:var(--muted); padding:4px 4px 0; }
figcaption button { float:right; font-size:12px; }
.facts { color:var(--muted); font-size:14px; margin:0 0 8px; }
.verdict-regression { color:var(--bad); font-weight:600; }
.verdict-improvement { color:var(--good); font-weight:600; }
.verdict-noise { color:var(--muted); }
details { margin:8px 0 16px; } details > summary { cursor:pointer; color:var(--accent); font-weight:500; }
dl.ctx { display:grid; grid-template-columns:max-content 1fr; gap:4px 18px; font-size:14px; }
dl.ctx dt { color:var(--muted); } dl.ctx dd { margin:0; }
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

function relLink(fromDir: string, target: string): string {
  return path.relative(fromDir, target).split(path.sep).join('/');
}

function scenarioAnchor(results: Results, scenario: string): string {
  return `scenario-${scenariosOf(results).indexOf(scenario) + 1}`;
}

// ---------------------------------------------------------------------------

function decisionSection(input: PageInput): SafeHtml {
  const { results, decisions } = input;
  const all = structuresOf(results);
  const scenarios = scenariosOf(results);
  const refs = all.filter((s) => REFERENCE_STRUCTURES.includes(s));
  const cell = (d: Decision): SafeHtml => {
    const m = metricDef(d.metric);
    const tip = [
      describeDecision(d),
      ...d.ranking.map((e) => `${e.structure}: ${formatWithCi(e.estimate.value, e.estimate.ciLow, e.estimate.ciHigh, m.unit)}`),
      ...d.reference.map((e) => `${e.structure} (reference, not ranked): ${formatValue(e.estimate.value, m.unit)}`),
      ...(d.missing.length ? [`not measured: ${d.missing.join(', ')}`] : []),
    ].join('\n');
    if (d.verdict === 'winner') {
      const color = structureColor(d.winner!.structure, all);
      const r = d.ratio!;
      const diff = d.difference!;
      return html`<td class="cell" title="${tip}" style="${raw(`border-left-color:${color};background:${color}1a`)}"><strong>${d.winner!.structure}</strong>
<span class="by">${formatRatioCi(r.value, r.low, r.high)} vs ${d.runnerUp!.structure}</span>
<span class="by">Δ ${formatWithCi(diff.value, diff.low, diff.high, m.unit)}</span></td>`;
    }
    if (d.verdict === 'no clear winner') {
      return html`<td class="cell nc" title="${tip}">no clear winner<span class="by">${d.tied.join(m.kind === 'exact' ? ' = ' : ' ≈ ')}</span></td>`;
    }
    if (d.verdict === 'only one measured') {
      return html`<td class="cell nc" title="${tip}">only ${d.winner!.structure} measured</td>`;
    }
    if (d.reference.length) {
      const ref = d.reference[0];
      return html`<td class="cell nc" title="${tip}">only the lower bound<span class="by">${ref.structure}: ${formatValue(ref.estimate.value, m.unit)}</span></td>`;
    }
    return html`<td class="cell nc" title="${tip}">not measured</td>`;
  };
  const rows = scenarios.map((sc) => {
    const cells = METRICS.map((m) => decisions.find((d) => d.scenario === sc && d.metric === m.id)!).map(cell);
    return html`<tr><th><a href="#${scenarioAnchor(results, sc)}">${sc}</a></th>${cells}</tr>`;
  });
  const clear = decisions.filter((d) => d.verdict === 'winner');
  const wins = new Map<string, number>();
  for (const d of clear) wins.set(d.winner!.structure, (wins.get(d.winner!.structure) ?? 0) + 1);
  const tally = [...wins.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => html`${swatch(s, all)}${s}: ${n}`);
  return html`<section id="decisions">
<h2>Decision table</h2>
<p class="lead">For each scenario and metric (lower is better everywhere), the structure with the lowest value, and by how much it beats the runner-up: the ratio runner-up / winner with its 95% interval, then the absolute difference. Where the winner's and the runner-up's 95% intervals overlap the cell says <em>no clear winner</em> and lists every structure whose interval overlaps the lowest one. Metadata sizes are exact counts, without intervals.${
    refs.length ? html` ${refs.join(', ')} is measured as a lower bound and is not ranked (its values are in the cell tooltips and in the charts).` : ''
  } Hover a cell for all values.</p>
<div class="table-wrap"><table class="decisions">
<thead><tr><th>scenario</th>${METRICS.map((m) => html`<th title="${m.description}">${m.label}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="facts">Clear wins: ${tally.length ? join(tally, ' · ') : 'none'} (of ${decisions.length} cells; ${decisions.filter((d) => d.verdict === 'no clear winner').length} with no clear winner).</p>
</section>`;
}

function answerTable(t: NonNullable<Answer['table']>): SafeHtml {
  return html`<div class="table-wrap"><table><thead><tr>${t.head.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${t.rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<td>${c}</td>` : html`<td class="num">${c}</td>`))}</tr>`)}</tbody></table></div>`;
}

function answersSection(input: PageInput): SafeHtml {
  return html`<section id="summary">
<h2>What the numbers say</h2>
<p class="lead">Plain-language answers to the questions asked on the list about the "Make KHO Stateless" series, computed from this run's numbers. Ranges are 95% confidence intervals; "clear" means the intervals do not overlap.</p>
${input.answers.map(
  (a) => html`<article class="answer" id="q-${a.id}">
<h3>${a.question}</h3>
<p class="ctx">${a.context}</p>
${a.sentences.length ? html`<ul>${a.sentences.map((s) => html`<li>${s}</li>`)}</ul>` : ''}
${a.missing.length ? html`<p class="missing">${join(a.missing, ' ')}</p>` : ''}
${a.table && a.table.rows.length ? html`<details><summary>Per-scenario numbers</summary>${answerTable(a.table)}</details>` : ''}
</article>`,
)}
</section>`;
}

function changeCells(r: ChangeRow): SafeHtml {
  const unit = metricDef(r.metric).unit;
  const cls = r.verdict === 'regression' ? 'verdict-regression' : r.verdict === 'improvement' ? 'verdict-improvement' : 'verdict-noise';
  return html`<td>${r.scenario}</td><td>${r.structure}</td><td>${metricDef(r.metric).label}</td>
<td class="num">${formatValue(r.baseline, unit)}</td><td class="num">${formatValue(r.current, unit)}</td>
<td class="num">${describeChange(r)}</td><td>${r.test}</td><td class="num">${r.test === 'exact' ? '—' : formatP(r.pAdjusted)}</td>
<td class="${cls}">${r.verdict}</td>`;
}

function comparisonSection(input: PageInput): SafeHtml {
  const c = input.comparison;
  if (!c) return html``;
  const { data } = c;
  const notable = data.rows.filter((r) => r.verdict !== 'within noise').sort((a, b) => b.change.value - a.change.value);
  const reg = data.rows.filter((r) => r.verdict === 'regression').length;
  const imp = data.rows.filter((r) => r.verdict === 'improvement').length;
  const head = html`<thead><tr><th>scenario</th><th>structure</th><th>metric</th><th>baseline</th><th>this run</th><th>change [95% CI]</th><th>test</th><th>adjusted p</th><th>verdict</th></tr></thead>`;
  const base = c.baseline.context;
  return html`<section id="baseline">
<h2>Comparison with the baseline run</h2>
<p class="lead">Baseline: <code>${path.basename(path.dirname(c.baselineFile))}/${path.basename(c.baselineFile)}</code>, ${base.profile} profile, ${formatDate(base.date)}, commit <code>${shortCommit(base.gitCommit)}</code>.
A change counts only if it is significant (Mann–Whitney U on the per-batch samples where the results keep them, otherwise a z-test from the two 95% intervals; p-values adjusted for ${data.rows.length} comparisons by Benjamini–Hochberg, α = ${data.alpha}) and at least ${formatPct(data.noise)}; anything else is <em>within noise</em>. Change = this run / baseline − 1: positive is slower or bigger.</p>
${data.contextWarnings.length ? html`<div class="banner warn"><strong>The runs differ:</strong> ${join(data.contextWarnings, '; ')}. Read the changes with care.</div>` : ''}
<p><strong>${reg}</strong> regression(s), <strong>${imp}</strong> improvement(s), ${data.rows.length - reg - imp} within noise.${
    data.added.length ? html` New in this run: ${data.added.map((a) => `${a.structure}/${a.scenario}`).join(', ')}.` : ''
  }${data.removed.length ? html` Missing from this run: ${data.removed.map((a) => `${a.structure}/${a.scenario}`).join(', ')}.` : ''}</p>
${notable.length ? html`<div class="table-wrap"><table>${head}<tbody>${notable.map((r) => html`<tr>${changeCells(r)}</tr>`)}</tbody></table></div>` : html`<p>Every metric is within noise of the baseline.</p>`}
<details><summary>All ${data.rows.length} comparisons</summary><div class="table-wrap"><table>${head}<tbody>${data.rows.map((r) => html`<tr>${changeCells(r)}</tr>`)}</tbody></table></div></details>
</section>`;
}

function howToRead(input: PageInput): SafeHtml {
  const refs = structuresOf(input.results).filter((s) => REFERENCE_STRUCTURES.includes(s));
  return html`<section id="how-to-read">
<h2>How to read this report</h2>
<ul>
<li><strong>Simulation.</strong> Every structure runs on the same simulated physical memory, with its metadata in simulated pages laid out as the kernel lays them out. Times are of this JavaScript model on the machine below, not of a kernel: compare structures with each other, not with kernel timings. Sizes (bytes, pages) are exact for the modelled format.</li>
<li><strong>Metrics</strong> (lower is better): ${join(
    METRICS.map((m) => html`<em>${m.label}</em>: ${m.description}`),
    '; ',
  )}.</li>
<li><strong>Intervals.</strong> Each time is an estimate with a 95% confidence interval (error bars on the charts, [low, high] in tables). When two intervals overlap, the report does not call a winner.</li>
<li><strong>Decision table.</strong> Ratio = runner-up / winner: "1.8× [1.6, 2.0]" means the winner is 1.8 times cheaper, and the true ratio is most likely between 1.6 and 2.0.${refs.length ? html` ${refs.join(', ')} is a lower bound, shown but never ranked.` : ''}</li>
<li><strong>Charts.</strong> Bars switch to a logarithmic axis (labelled "log scale") when values span more than about 50×. Blackout bars stack serialization (dark) and restore (structure colour); the error bar on top is the measured blackout interval. Box plots show per-batch latency: box from the first to the third quartile, thick line at the median, whiskers to the furthest batch within 1.5 IQR, dots beyond. Scaling charts are log-log: a line of slope 1 grows linearly, slope 0 is constant; the legend gives each fitted exponent.</li>
<li><strong>Baseline comparison</strong> (with <code>--baseline</code>): per metric the relative change with its 95% interval and a significance test; small or non-significant changes read "within noise".</li>
<li><strong>Files beside this report:</strong> <a href="${input.exports.markdown}">${input.exports.markdown}</a> (decisions and answers as Markdown), <a href="${input.exports.csv}">${input.exports.csv}</a> (the decision table, one row per metric × scenario)${
    input.exports.comparisonCsv ? html`, <a href="${input.exports.comparisonCsv}">${input.exports.comparisonCsv}</a> (baseline comparison)` : ''
  }${
    input.exports.runnerCsv ? html`, <a href="${input.exports.runnerCsv}">${input.exports.runnerCsv}</a> (the benchmark's own table, one row per structure × scenario × metric)` : ''
  }, and the raw <a href="${path.basename(input.resultsFile)}">${path.basename(input.resultsFile)}</a>. Rebuild with <code>npm run report -- ${path.basename(input.resultsFile)}</code>.</li>
</ul>
</section>`;
}

function figure(spec: ChartSpec, input: PageInput): SafeHtml {
  const wide = spec.wide === true;
  const png = input.pngs.get(spec.id);
  const src = png ? `data:image/png;base64,${png.toString('base64')}` : '';
  const interactive = input.chartJsSource
    ? html`<button type="button" data-chart="${spec.id}" class="make-live">interactive</button>`
    : '';
  return html`<figure${wide ? raw(' class="wide"') : ''} id="${spec.id}">
<img src="${raw(src)}" alt="${spec.alt}" width="${spec.width}" height="${spec.height}" data-chart="${spec.id}">
${interactive || spec.caption ? html`<figcaption>${interactive}${spec.caption ?? ''}</figcaption>` : ''}
</figure>`;
}

function scenarioFacts(results: Results, scenario: string): SafeHtml {
  const decl = results.scenarios.find((s) => s.id === scenario);
  const pairs = results.pairs.filter((p) => p.scenario === scenario);
  const any = pairs[0];
  const parts: SafeHtml[] = [];
  if (decl) parts.push(html`${decl.description}`);
  const ram = decl?.ramBytes ?? any?.ramBytes;
  if (ram !== undefined) parts.push(html`RAM ${formatBytes(ram)}`);
  if (any) parts.push(html`${any.folios.toLocaleString('en-US')} folios, ${formatBytes(any.preservedBytes)} preserved`);
  const seed = decl?.seed ?? results.context.seeds?.[scenario];
  if (seed !== undefined) parts.push(html`seed ${seed}`);
  const measured = pairs.map((p) => p.structure);
  const missing = structuresOf(results).filter((s) => !measured.includes(s));
  if (missing.length) parts.push(html`<span class="missing">not measured here: ${missing.join(', ')}</span>`);
  return html`<p class="facts">${join(parts, ' · ')}</p>`;
}

function scenariosSection(input: PageInput): SafeHtml {
  const { results } = input;
  return html`<section id="scenarios">
<h2>Scenarios</h2>
<p class="lead">Per scenario: preserve time per folio, serialization time, restore time, blackout (stacked), and the distribution of per-batch latencies; error bars are 95% intervals.</p>
${input.charts.perScenario.map(
  ({ scenario, charts }) => html`<h3 id="${scenarioAnchor(results, scenario)}">${scenario}</h3>
${scenarioFacts(results, scenario)}
${charts.length ? html`<div class="grid">${charts.map((c) => figure(c, input))}</div>` : html`<p class="missing">Nothing measured in this scenario.</p>`}`,
)}
</section>`;
}

function metadataSection(input: PageInput): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const scenarios = scenariosOf(results).filter((sc) => results.pairs.some((p) => p.scenario === sc));
  const cell = (p: PairResult | undefined) => {
    if (!p) return html`<td class="num">—</td>`;
    const per = p.preservedBytes > 0 ? p.metadataBytesHandover / (p.preservedBytes / GiB) : NaN;
    return html`<td class="num meta" title="${`handover ${formatBytes(p.metadataBytesHandover)} in ${p.metadataPagesHandover} pages; peak ${formatBytes(p.metadataBytesPeak)} in ${p.metadataPagesPeak} pages`}"><strong>${formatBytes(per)}</strong><span class="sub">${formatBytes(p.metadataBytesHandover)} · ${formatBytes(p.metadataBytesPeak)}</span></td>`;
  };
  return html`<section id="metadata">
<h2>Metadata per GiB preserved</h2>
<p class="lead">Bytes of metadata the next kernel receives (including any serialized copy), divided by the GiB preserved. In the table, below each: the total handed over · the peak in the running kernel.</p>
${input.charts.metadata ? html`<div class="grid">${figure(input.charts.metadata, input)}</div>` : html`<p class="missing">No pairs measured.</p>`}
<div class="table-wrap"><table><thead><tr><th>scenario</th>${all.map((s) => html`<th>${swatch(s, all)}${s}</th>`)}</tr></thead>
<tbody>${scenarios.map((sc) => html`<tr><td>${sc}</td>${all.map((st) => cell(findPair(results, st, sc)))}</tr>`)}</tbody></table></div>
</section>`;
}

function scalingSection(input: PageInput): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const combos: { axis: 'folios' | 'ram'; metric: SweepMetric; label: string }[] = [
    { axis: 'folios', metric: 'preserveNsPerFolio', label: 'preserve / folio vs folios' },
    { axis: 'folios', metric: 'restoreMs', label: 'restore vs folios' },
    { axis: 'folios', metric: 'metadataBytesHandover', label: 'metadata vs folios' },
    { axis: 'ram', metric: 'preserveNsPerFolio', label: 'preserve / folio vs RAM' },
    { axis: 'ram', metric: 'restoreMs', label: 'restore vs RAM' },
    { axis: 'ram', metric: 'metadataBytesHandover', label: 'metadata vs RAM' },
  ];
  const rows = all
    .map((st) => {
      const fits = combos.map((c) => scalingFit(results, st, c.axis, c.metric));
      return fits.some(Boolean)
        ? html`<tr><td>${swatch(st, all)}${st}</td>${fits.map((f) =>
            f ? html`<td class="num" title="${`R² ${f.r2.toFixed(3)}${f.source === 'report' ? ', fitted by the report' : ''}`}">${f.exponent.toFixed(2)}${f.source === 'report' ? '*' : ''}</td>` : html`<td class="num">—</td>`,
          )}</tr>`
        : undefined;
    })
    .filter((r): r is SafeHtml => r !== undefined);
  return html`<section id="scaling">
<h2>Scaling</h2>
<p class="lead">Cost against the number of preserved folios (fixed RAM) and against RAM size (fixed folios), on log-log axes; the exponent is the slope of a least-squares fit of log(cost) on log(x).</p>
${input.charts.scaling.length ? html`<div class="grid">${input.charts.scaling.map((c) => figure(c, input))}</div>` : html`<p class="missing">This run has no scaling sweeps.</p>`}
${rows.length ? html`<h3>Fitted exponents</h3><div class="table-wrap"><table><thead><tr><th>structure</th>${combos.map((c) => html`<th>${c.label}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div><p class="facts">* fitted by the report from the sweep points (the results file has no fit for it).</p>` : ''}
</section>`;
}

function structuresSection(input: PageInput): SafeHtml {
  const all = structuresOf(input.results);
  const listed = [...new Set([...input.knownStructures, ...all])];
  return html`<section id="structures">
<h2>Structures</h2>
<p class="lead">Each structure's folder has a README describing its format and where the model departs from the kernel.</p>
<div class="table-wrap"><table><thead><tr><th>id</th><th>what it is</th><th>format and departures</th><th>in this run</th></tr></thead><tbody>
${listed.map((id) => {
  const info = input.structures.get(id);
  const link = info
    ? html`<a href="${relLink(input.htmlDir, info.readme)}">${info.folder}/README.md</a>${info.readmeExists ? '' : html` <span class="missing">(not written yet)</span>`}`
    : html`<span class="missing">unknown to this version of kho-bench</span>`;
  const pairs = input.results.pairs.filter((p) => p.structure === id).length;
  return html`<tr><td>${swatch(id, all)}<code>${id}</code></td><td>${info?.title ?? '—'}</td><td>${link}</td><td>${pairs ? `${pairs} scenario(s)` : html`<span class="missing">not measured</span>`}</td></tr>`;
})}
</tbody></table></div>
</section>`;
}

function contextSection(input: PageInput): SafeHtml {
  const c = input.results.context;
  const items: [string, string][] = [
    ['profile', c.profile],
    ['date', formatDate(c.date)],
    ['commit', c.gitCommit],
    ['seed', String(c.seed)],
    ['CPU', c.cpuModel],
    ['cores', String(c.cores)],
    ['memory', formatBytes(c.memoryBytes)],
    ['platform', c.platform],
    ['Node.js', c.node],
    ['V8', c.v8],
    ...(c.seeds && Object.keys(c.seeds).length
      ? ([['scenario seeds', Object.entries(c.seeds).map(([k, v]) => `${k}: ${v}`).join(', ')]] as [string, string][])
      : []),
    ...(c.runner
      ? ([
          [
            'runner',
            `${c.runner.jobs} job(s) at once, ${c.runner.repetitions} repetition(s), launcher ${c.runner.launcher}, tinybench ${c.runner.tinybench}${c.runner.benny ? `, benny ${c.runner.benny}` : ''}`,
          ],
        ] as [string, string][])
      : []),
    ...(c.timer ? ([['timer', `${c.timer.provider}: ${c.timer.callNs} ns per call, ${c.timer.regionNs} ns per timed region`]] as [string, string][]) : []),
    ...(c.peakRssBytes ? ([['peak memory', `${formatBytes(c.peakRssBytes.job)} per job, ${formatBytes(c.peakRssBytes.runner)} runner`]] as [string, string][]) : []),
    ...(c.wallSeconds !== undefined ? ([['wall time', `${c.wallSeconds.toFixed(1)} s`]] as [string, string][]) : []),
    ['results file', path.basename(input.resultsFile)],
    ['complete', input.results.complete ? 'yes' : 'no: the run stopped before every measurement was written'],
    ['report generated', formatDate(input.generatedAt)],
  ];
  return html`<section id="context">
<h2>Run context</h2>
<dl class="ctx">${items.map(([k, v]) => html`<dt>${k}</dt><dd>${k === 'commit' ? html`<code>${v}</code>` : v}</dd>`)}</dl>
</section>`;
}

function numbersSection(input: PageInput): SafeHtml {
  const { results } = input;
  const all = structuresOf(results);
  const est = (e: { value: number; ciLow: number; ciHigh: number }, unit: 'ns' | 'ms') => formatWithCi(e.value, e.ciLow, e.ciHigh, unit);
  return html`<section id="numbers">
<h2>All numbers</h2>
<details><summary>Every measured pair (${results.pairs.length})</summary>
${scenariosOf(results).map((sc) => {
  const pairs = all.map((st) => findPair(results, st, sc)).filter((p): p is PairResult => p !== undefined);
  if (!pairs.length) return '';
  return html`<h3>${sc}</h3><div class="table-wrap"><table><thead><tr><th>structure</th><th>preserve / folio</th><th>batch p50 · p99</th><th>unpreserve / folio</th><th>serialization</th><th>restore</th><th>restore walk</th><th>restore / folio</th><th>blackout</th><th>handed over</th><th>serialized</th></tr></thead><tbody>
${pairs.map(
  (p) => html`<tr><td>${swatch(p.structure, all)}${p.structure}</td><td class="num">${est(p.preserveNsPerFolio, 'ns')}</td>
<td class="num">${formatNs(p.preserveBatches.p50)} · ${formatNs(p.preserveBatches.p99)}</td><td class="num">${est(p.unpreserveNsPerFolio, 'ns')}</td>
<td class="num">${est(p.serializeMs, 'ms')}</td><td class="num">${est(p.restoreMs, 'ms')}</td><td class="num">${formatMs(p.restoreWalkMs.value)}</td>
<td class="num">${formatNs(p.restoreNsPerFolio.value)}</td><td class="num">${est(p.blackoutMs, 'ms')}</td>
<td class="num">${formatBytes(p.metadataBytesHandover)} (${p.metadataPagesHandover} p)</td><td class="num">${formatBytes(p.serializeBytes)} (${p.serializePages} p)</td></tr>`,
)}</tbody></table></div>`;
})}
</details>
</section>`;
}

function coverageBanner(input: PageInput): SafeHtml {
  const { results } = input;
  const warn: SafeHtml[] = [];
  const info: SafeHtml[] = [];
  if (!results.complete) {
    const plan = results.plan;
    warn.push(
      html`<strong>Incomplete run:</strong> the benchmark stopped before every planned measurement was written${
        plan ? html` (${plan.doneJobs} of ${plan.totalJobs} jobs)` : ''
      }; ${results.pairs.length} pair(s) are in this file.`,
    );
  }
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
  if (skipped.length) info.push(html`Skipped: ${join(skipped.map((k) => html`<code>${k.structure}</code> (${k.reason})`), '; ')}.`);
  if (missingStructures.length) info.push(html`Structures not in this run: ${missingStructures.join(', ')}.`);
  if (missingScenarios.length) info.push(html`Scenarios not in this run: ${missingScenarios.join(', ')}.`);
  return html`${warn.length ? html`<div class="banner warn">${join(warn, ' ')}</div>` : ''}${info.length ? html`<div class="banner info">${join(info, ' ')}</div>` : ''}`;
}

function interactiveScript(input: PageInput): SafeHtml {
  if (!input.chartJsSource) return html``;
  const configs: Record<string, unknown> = {};
  for (const c of [...input.charts.perScenario.flatMap((s) => s.charts), ...(input.charts.metadata ? [input.charts.metadata] : []), ...input.charts.scaling])
    configs[c.id] = c.config;
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
      var cfg = kho.withTicks(JSON.parse(JSON.stringify(configs[id])));
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
  const body = html`<!doctype html>
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
<h1>kho-bench: trackers of memory preserved across kexec</h1>
<p>Kexec HandOver (KHO) preservation metadata, compared on a simulated machine: the flat-bitmap lower bound, the xarray trackers of Linux 6.16 and 6.18 (serialized at kexec), an IDA-shaped tree, RFC v1's per-order page tables and the merged KHO radix tree.</p>
<p><strong>${c.profile}</strong> profile · ${formatDate(c.date)} · commit <code>${shortCommit(c.gitCommit)}</code> · seed ${c.seed} · ${c.cpuModel}, ${c.cores} cores · Node.js ${c.node}</p>
</div></header>
<nav class="toc" aria-label="sections"><ul>
<li><a href="#decisions">Decision table</a></li><li><a href="#summary">What the numbers say</a></li>
${input.comparison ? html`<li><a href="#baseline">Baseline comparison</a></li>` : ''}
<li><a href="#how-to-read">How to read</a></li><li><a href="#scenarios">Scenarios</a></li><li><a href="#metadata">Metadata</a></li>
<li><a href="#scaling">Scaling</a></li><li><a href="#structures">Structures</a></li><li><a href="#context">Run context</a></li><li><a href="#numbers">All numbers</a></li>
</ul></nav>
<main>
${coverageBanner(input)}
${decisionSection(input)}
${answersSection(input)}
${comparisonSection(input)}
${howToRead(input)}
${scenariosSection(input)}
${metadataSection(input)}
${scalingSection(input)}
${structuresSection(input)}
${contextSection(input)}
${numbersSection(input)}
<footer>Generated by kho-bench <code>src/report</code> on ${formatDate(input.generatedAt)} from <code>${path.basename(input.resultsFile)}</code> (schema version ${results.schemaVersion}). Self-contained: no network access needed.</footer>
</main>
${interactiveScript(input)}
</body>
</html>
`;
  return body.value;
}
