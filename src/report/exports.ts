/**
 * The summary as Markdown (for a mail or a pull request) and CSV (for a
 * spreadsheet or a script). Results-file strings are escaped for each format.
 */
import type { Results } from '../results/schema.ts';
import { type Answer, type Decision, describeDecision } from './analysis.ts';
import { type Comparison, describeChange } from './compare.ts';
import { formatDate, formatP, formatPct, formatValue } from './format.ts';
import { csvLine, escapeMarkdown as md } from './html.ts';
import { METRICS, metricDef, scenariosOf } from './metrics.ts';

export const SUMMARY_MARKDOWN = 'summary.md';
/** Not summary.csv: the benchmark runner writes its own summary.csv (one row per metric) in the run folder. */
export const SUMMARY_CSV = 'decisions.csv';
export const COMPARISON_CSV = 'comparison.csv';

export function decisionsCsv(decisions: readonly Decision[]): string {
  const head = [
    'scenario',
    'metric',
    'unit',
    'verdict',
    'winner',
    'winner_value',
    'winner_ci_low',
    'winner_ci_high',
    'runner_up',
    'runner_up_value',
    'runner_up_ci_low',
    'runner_up_ci_high',
    'ratio',
    'ratio_ci_low',
    'ratio_ci_high',
    'difference',
    'difference_ci_low',
    'difference_ci_high',
    'tied',
    'reference',
    'reference_value',
    'not_measured',
  ];
  const lines = [csvLine(head)];
  for (const d of decisions) {
    const m = metricDef(d.metric);
    const unit = m.unit === 'bytes' ? 'bytes per GiB preserved' : m.unit === 'ns' ? 'ns per folio' : 'ms';
    const ref = d.reference[0];
    lines.push(
      csvLine([
        d.scenario,
        d.metric,
        unit,
        d.verdict,
        d.winner?.structure,
        d.winner?.estimate.value,
        d.winner?.estimate.ciLow,
        d.winner?.estimate.ciHigh,
        d.runnerUp?.structure,
        d.runnerUp?.estimate.value,
        d.runnerUp?.estimate.ciLow,
        d.runnerUp?.estimate.ciHigh,
        d.ratio?.value,
        d.ratio?.low,
        d.ratio?.high,
        d.difference?.value,
        d.difference?.low,
        d.difference?.high,
        d.tied.join(' '),
        ref?.structure,
        ref?.estimate.value,
        d.missing.join(' '),
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

export function comparisonCsv(c: Comparison): string {
  const lines = [
    csvLine([
      'scenario',
      'structure',
      'metric',
      'baseline',
      'current',
      'change',
      'change_ci_low',
      'change_ci_high',
      'test',
      'p',
      'p_adjusted',
      'significant',
      'verdict',
    ]),
  ];
  for (const r of c.rows) {
    lines.push(
      csvLine([
        r.scenario,
        r.structure,
        r.metric,
        r.baseline,
        r.current,
        r.change.value,
        r.change.low,
        r.change.high,
        r.test,
        r.p,
        r.pAdjusted,
        r.significant ? 'yes' : 'no',
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

export function summaryMarkdown(
  results: Results,
  decisions: readonly Decision[],
  answers: readonly Answer[],
  comparison?: { data: Comparison; baselineLabel: string },
): string {
  const c = results.context;
  const out: string[] = [];
  out.push(`# kho-bench summary: ${md(c.profile)} run of ${md(formatDate(c.date))}`);
  out.push('');
  out.push(
    `Commit \`${c.gitCommit.replace(/`/g, "'")}\`, seed ${c.seed}, ${md(c.cpuModel)} (${c.cores} cores), Node.js ${md(c.node)}.` +
      (results.complete ? '' : ' **Incomplete run**: not every planned measurement was written.'),
  );
  out.push('');
  out.push('## Decision table');
  out.push('');
  out.push(
    'Lower is better. Winner and its ratio over the runner-up with the 95% interval; "no clear winner" where the two lowest intervals overlap. The flat bitmap is a lower bound and is not ranked.',
  );
  out.push('');
  const scenarios = scenariosOf(results);
  out.push(
    mdTable(
      ['scenario', ...METRICS.map((m) => m.label)],
      scenarios.map((sc) => [
        sc,
        ...METRICS.map((m) => {
          const d = decisions.find((x) => x.scenario === sc && x.metric === m.id);
          return d ? describeDecision(d) : '';
        }),
      ]),
    ),
  );
  out.push('');
  out.push('## What the numbers say');
  for (const a of answers) {
    out.push('');
    out.push(`### ${md(a.question)}`);
    out.push('');
    out.push(`_${md(a.context)}_`);
    out.push('');
    for (const s of a.sentences) out.push(`- ${md(s)}`);
    for (const m of a.missing) out.push(`- (missing) ${md(m)}`);
    if (a.table && a.table.rows.length) {
      out.push('');
      out.push(mdTable(a.table.head, a.table.rows));
    }
  }
  if (comparison) {
    const { data } = comparison;
    const notable = data.rows.filter((r) => r.verdict !== 'within noise').sort((a, b) => b.change.value - a.change.value);
    out.push('');
    out.push(`## Comparison with ${md(comparison.baselineLabel)}`);
    out.push('');
    out.push(
      `${notable.filter((r) => r.verdict === 'regression').length} regression(s), ${notable.filter((r) => r.verdict === 'improvement').length} improvement(s); ` +
        `everything else within noise (threshold ${formatPct(data.noise)}, Benjamini–Hochberg adjusted α = ${data.alpha}).`,
    );
    for (const w of data.contextWarnings) out.push(`- warning: ${md(w)}`);
    if (notable.length) {
      out.push('');
      out.push(
        mdTable(
          ['scenario', 'structure', 'metric', 'baseline', 'this run', 'change [95% CI]', 'test', 'adjusted p', 'verdict'],
          notable.map((r) => {
            const unit = metricDef(r.metric).unit;
            return [
              r.scenario,
              r.structure,
              metricDef(r.metric).label,
              formatValue(r.baseline, unit),
              formatValue(r.current, unit),
              describeChange(r),
              r.test,
              r.test === 'exact' ? '—' : formatP(r.pAdjusted),
              r.verdict,
            ];
          }),
        ),
      );
    }
  }
  out.push('');
  return out.join('\n');
}
