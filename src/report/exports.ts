/**
 * The report as Markdown (for a mail or a pull request) and CSV (for a
 * spreadsheet or a script). Results-file strings are escaped for each
 * format; the numbers are those of the HTML report.
 */
import type { Results } from '../results/schema.ts';
import { type Answer, type Decision, type HeadToHead, describeDecision, describeSpreadRatio } from './analysis.ts';
import { type Comparison, describeChange, hostLine } from './compare.ts';
import { DESIGN_SPACE_COMMAND, type DesignSpace, FRONTIER_AXES, METADATA, NO_DESIGN_SPACE } from './design-space.ts';
import { formatDate, formatP, formatPercent, formatRatioInterval, formatValue } from './format.ts';
import { csvLine, escapeMarkdown as md } from './html.ts';
import { ASPECTS, measuredScenarios, modelCpuName, unitOf } from './metrics.ts';

export const SUMMARY_MARKDOWN = 'summary.md';
/** Not summary.csv: the benchmark runner writes its own summary.csv (one row per metric) in the run folder. */
export const DECISIONS_CSV = 'decisions.csv';
export const COMPARISON_CSV = 'comparison.csv';

export function decisionsCsv(decisions: readonly Decision[], threshold: number): string {
  const lines = [
    csvLine([
      'scenario',
      'aspect',
      'metric',
      'basis',
      'unit',
      'threshold',
      'verdict',
      'lowest',
      'tied',
      'ranking',
      'reference',
      'not_ranked',
      'check_metric',
      'check_verdict',
      'check_change',
      'check_change_ci_low',
      'check_change_ci_high',
      'check_p_adjusted',
      'check_processes_lowest',
      'check_processes_other',
    ]),
  ];
  for (const d of decisions) {
    const c = d.confirmation;
    lines.push(
      csvLine([
        d.scenario,
        d.aspect.id,
        d.metric,
        d.basis,
        unitOf(d.metric),
        threshold,
        d.verdict,
        d.ranking[0]?.structure,
        d.tied.join(' '),
        d.ranking.map((e) => `${e.structure}:${e.value}:${e.ratio}`).join(' '),
        d.reference.map((e) => `${e.structure}:${e.value}:${e.ratio}`).join(' '),
        d.excluded.map((e) => `${e.structure} (${e.reason})`).join('; '),
        d.aspect.check,
        c.comparison ? c.verdict : '',
        c.comparison?.change.value,
        c.comparison?.change.low,
        c.comparison?.change.high,
        c.comparison?.pAdjusted,
        c.processes?.[0],
        c.processes?.[1],
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

export function comparisonCsv(c: Comparison): string {
  const lines = [
    csvLine(['scenario', 'structure', 'metric', 'kind', 'baseline', 'current', 'change', 'change_ci_low', 'change_ci_high', 'test', 'p', 'p_adjusted', 'processes_baseline', 'processes_current', 'verdict']),
  ];
  for (const r of c.rows) {
    lines.push(
      csvLine([
        r.scenario,
        r.structure,
        r.metric,
        r.kind,
        r.baseline,
        r.current,
        r.change.value,
        r.change.low,
        r.change.high,
        r.test,
        r.p,
        r.pAdjusted,
        r.processes?.baseline,
        r.processes?.current,
        r.verdict,
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

function mdTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(md).join(' | ')} |`;
  return [line(head), `|${head.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

export interface MarkdownInput {
  results: Results;
  threshold: number;
  answers: readonly Answer[];
  headToHead: readonly HeadToHead[];
  decisions: readonly Decision[];
  /** The design-space section; absent: the run has none, and the summary says so. */
  designSpace?: DesignSpace;
  comparison?: { data: Comparison; baselineName: string };
}

/** What should come next: the conclusions, the frontier points per scenario (their ids carry their parameters), the caveats. */
function designSpaceMarkdown(ds: DesignSpace | undefined, results: Results): string[] {
  const out = ['', '## What should come next', ''];
  if (!ds) return [...out, `${md(NO_DESIGN_SPACE.before)}\`${DESIGN_SPACE_COMMAND}\`${md(NO_DESIGN_SPACE.after)}`];
  const [headline, ...rest] = ds.conclusions;
  if (headline) out.push(`**${md(headline)}**`, '');
  for (const c of rest) out.push(`- ${md(c)}`);
  if (ds.scenarios.length) {
    out.push(
      '',
      `Frontier points per scenario, lowest metadata first, with \`${METADATA}\` (exact) and the modeled time; ties within ${formatPercent(ds.threshold)} are joined by "=". ` +
        'A family id is its parameters: fam-l<leaf bytes>-f<table fanout>-<key: one order-bit key | perorder: a tree per order>-<bitmap | extent leaves>.',
      '',
    );
    const rows = ds.scenarios.flatMap((sc) =>
      FRONTIER_AXES.map((axis) => {
        const f = ds.frontiers.find((x) => x.scenario === sc && x.axis.id === axis.id)!;
        const unit = String(unitOf(axis.y, results));
        const on = f.points.filter((p) => p.onFrontier);
        // A tie group is listed once, at its first member.
        const listed = new Set<string>();
        const cells = on.flatMap((p) => {
          if (listed.has(p.id)) return [];
          // Named structures first in a group: they are what a reader knows.
          const group = [p, ...on.filter((q) => p.tiedWith.includes(q.id))].sort((a, b) => Number(a.kind === 'family') - Number(b.kind === 'family') || a.x - b.x);
          for (const q of group) listed.add(q.id);
          return [`${group.map((q) => q.id).join(' = ')} (${formatValue(p.x, 'bytes')}, ${formatValue(p.y, unit)})`];
        });
        return [sc, `metadata against ${axis.label} (${axis.y})`, cells.join('; ')];
      }),
    );
    out.push(mdTable(['scenario', 'frontier', 'points on it'], rows));
  }
  out.push('', '**Caveats**', '');
  for (const c of ds.caveats) out.push(`- **${md(c.title)}.** ${md(c.text)}`);
  return out;
}

export function summaryMarkdown(input: MarkdownInput): string {
  const { results, threshold } = input;
  const c = results.context;
  const out: string[] = [];
  const status = [results.complete ? 'complete' : '**partial**', ...(results.plan?.filtered ? ['filtered'] : []), ...(results.plan?.aa ? ['A/A'] : [])].join(', ');
  out.push(`# kho-bench summary: ${md(c.profile)} run of ${md(formatDate(c.date))}`);
  out.push('');
  out.push(
    `${status}; commit \`${c.gitCommit.replace(/`/g, "'")}\`, seed ${c.seed}, ${md(c.cpuModel)} (${c.cores} cores), Node.js ${md(c.node)}; ` +
      `model: ${md(modelCpuName(results))}; ties within ${formatPercent(threshold)}.`,
  );
  if (c.calibration?.warning) out.push('', `**Host:** ${md(c.calibration.warning)}.`);
  for (const [k, a] of input.answers.entries()) {
    out.push('', `## ${k + 1}. ${md(a.question)}`, '');
    if (a.headline) out.push(`**${md(a.headline)}**`, '');
    for (const s of a.points) out.push(`- ${md(s)}`);
    if (a.points.length) out.push('');
    if (a.why.length) out.push(`**Why:** ${a.why.map(md).join(' ')}`, '');
    for (const s of a.more) out.push(`- ${md(s)}`);
    for (const m of a.missing) out.push(`- (missing) ${md(m)}`);
  }
  if (input.headToHead.length) {
    out.push('', '## Head to head', '');
    out.push('Ratio stateless / serializing: geometric mean over the scenarios, with the range; model or exact, then measured with its 95% interval.', '');
    const labels = input.headToHead.find((h) => h.rows.length)?.rows.map((r) => r.label) ?? [];
    out.push(
      mdTable(
        ['pair', 'why this pair', ...labels],
        input.headToHead.map((h) => [
          `${h.pairing.stateless} vs ${h.pairing.serializing}`,
          h.pairing.reason,
          ...labels.map((l) => {
            const s = h.rows.find((r) => r.label === l)?.summary;
            if (!s?.spread) return h.missing ?? '—';
            return `${describeSpreadRatio(s.spread)}${s.measured ? `; measured ${formatRatioInterval(s.measured.value, s.measured.low, s.measured.high)}` : ''}`;
          }),
        ]),
      ),
    );
  }
  out.push('', '## Decision table', '');
  out.push(
    `Per scenario and aspect: the lowest on the model or exact figure (ties within ${formatPercent(threshold)}), the others as ratios to it, and the measured check (agrees / contradicts / within noise, with processes per side). flat-bitmap is a lower bound and is not ranked.`,
    '',
  );
  out.push(
    mdTable(
      ['scenario', ...ASPECTS.map((a) => `${a.label} (${a.primary})`)],
      measuredScenarios(results).map((sc) => [
        sc,
        ...ASPECTS.map((a) => {
          const d = input.decisions.find((x) => x.scenario === sc && x.aspect.id === a.id);
          return d ? describeDecision(d, threshold) : '';
        }),
      ]),
    ),
  );
  out.push(...designSpaceMarkdown(input.designSpace, results));
  if (input.comparison) {
    const { data } = input.comparison;
    const notable = data.rows.filter((r) => r.verdict === 'regression' || r.verdict === 'improvement').sort((a, b) => b.change.value - a.change.value);
    out.push('', `## Comparison with ${md(input.comparison.baselineName)}`, '');
    const host = hostLine(data);
    if (host) out.push(`**Host:** ${md(host)}.`, '');
    out.push(
      `${notable.filter((r) => r.verdict === 'regression').length} regression(s), ${notable.filter((r) => r.verdict === 'improvement').length} improvement(s); ` +
        `measured metrics flagged only when the per-process values differ (Mann–Whitney, Benjamini–Hochberg, α = ${data.alpha}) by more than ${formatPercent(data.noise)}; exact and model metrics: any change.`,
    );
    for (const w of data.contextWarnings) out.push(`- warning: ${md(w)}`);
    if (notable.length) {
      out.push('');
      out.push(
        mdTable(
          ['scenario', 'structure', 'metric', 'kind', 'change', 'adjusted p', 'verdict'],
          notable.map((r) => [r.scenario, r.structure, r.metric, r.kind, describeChange(r), r.pAdjusted !== undefined ? formatP(r.pAdjusted) : 'exact', r.verdict]),
        ),
      );
    }
  }
  out.push('');
  return out.join('\n');
}
