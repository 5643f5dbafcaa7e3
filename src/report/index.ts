/**
 * The report of one benchmark run.
 *
 * writeRunReport(<dir>/results.json) writes, beside the results file:
 *   report.html       the self-contained report (charts as inline PNG)
 *   summary.md        decision table, answers (and baseline comparison) as Markdown
 *   decisions.csv     the decision table, one row per scenario × metric (not
 *                     summary.csv: the runner writes that one, per metric)
 *   comparison.csv    with a baseline: one row per scenario × structure × metric
 * and refreshes <reports>/index.html, where <reports> is the run folder's
 * parent when that is named "reports" (or options.reportsRoot).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Results } from '../results/schema.ts';
import { type Answer, type Decision, answers, decisionTable } from './analysis.ts';
import { allCharts, buildCharts, renderAll } from './charts.ts';
import { type Comparison, type ComparisonOptions, compareRuns } from './compare.ts';
import { COMPARISON_CSV, SUMMARY_CSV, SUMMARY_MARKDOWN, comparisonCsv, decisionsCsv, summaryMarkdown } from './exports.ts';
import { loadResults } from './load.ts';
import { KNOWN_STRUCTURES, structuresOf } from './metrics.ts';
import { renderPage } from './page.ts';
import { REPORT_FILE, writeIndex } from './runs-index.ts';
import { structureInfos } from './structures-info.ts';

export { ReportInputError, loadResults, parseResults } from './load.ts';
export { regressions } from './compare.ts';

export interface RunReportOptions {
  /** An older results file to compare with. */
  baseline?: string;
  /** Where reports/index.html lives; default: the run folder's parent if it is named "reports", else no index. */
  reportsRoot?: string;
  /** Noise threshold and significance level of the baseline comparison. */
  comparison?: ComparisonOptions;
  /** Inline Chart.js so each chart can be made interactive (default true; the PNGs are always there). */
  interactive?: boolean;
  /** Timestamp written into the report (default: now). */
  generatedAt?: string;
}

export interface RunReport {
  html: string;
  markdown: string;
  csv: string;
  comparisonCsv?: string;
  index?: string;
  results: Results;
  decisions: Decision[];
  answers: Answer[];
  comparison?: Comparison;
  charts: number;
}

/** The runner's own per-metric table, linked from the report when it is there. */
const RUNNER_SUMMARY_CSV = 'summary.csv';

let chartJsSource: string | undefined;
async function chartJs(): Promise<string> {
  if (chartJsSource === undefined) {
    const require = createRequire(import.meta.url);
    // The UMD build is not in chart.js's "exports": find it beside the CommonJS entry (dist/chart.cjs).
    chartJsSource = await readFile(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  }
  return chartJsSource;
}

/** Builds and writes every file of one run's report; see the module comment. */
export async function buildRunReport(resultsFile: string, options: RunReportOptions = {}): Promise<RunReport> {
  const results = await loadResults(resultsFile);
  const baseline = options.baseline !== undefined ? await loadResults(options.baseline) : undefined;
  const dir = path.dirname(path.resolve(resultsFile));
  const generatedAt = options.generatedAt ?? new Date().toISOString();

  const decisions = decisionTable(results);
  const qa = answers(results);
  const comparison = baseline ? compareRuns(results, baseline, options.comparison) : undefined;
  const charts = buildCharts(results);
  const specs = allCharts(charts);
  const pngs = await renderAll(specs);
  const knownStructures = [...KNOWN_STRUCTURES];
  const structures = await structureInfos([...new Set([...knownStructures, ...structuresOf(results)])]);

  const files = {
    html: path.join(dir, REPORT_FILE),
    markdown: path.join(dir, SUMMARY_MARKDOWN),
    csv: path.join(dir, SUMMARY_CSV),
    comparisonCsv: comparison ? path.join(dir, COMPARISON_CSV) : undefined,
  };
  const page = renderPage({
    results,
    resultsFile,
    decisions,
    answers: qa,
    comparison: comparison && baseline ? { data: comparison, baselineFile: options.baseline!, baseline } : undefined,
    charts,
    pngs,
    structures,
    knownStructures,
    htmlDir: dir,
    exports: {
      markdown: SUMMARY_MARKDOWN,
      csv: SUMMARY_CSV,
      comparisonCsv: comparison ? COMPARISON_CSV : undefined,
      runnerCsv: existsSync(path.join(dir, RUNNER_SUMMARY_CSV)) ? RUNNER_SUMMARY_CSV : undefined,
    },
    chartJsSource: options.interactive === false ? undefined : await chartJs(),
    generatedAt,
  });
  const baselineLabel = options.baseline ? `baseline ${path.basename(path.dirname(path.resolve(options.baseline)))}/${path.basename(options.baseline)}` : '';
  await writeFile(files.html, page);
  await writeFile(files.markdown, summaryMarkdown(results, decisions, qa, comparison ? { data: comparison, baselineLabel } : undefined));
  await writeFile(files.csv, decisionsCsv(decisions));
  if (comparison && files.comparisonCsv) await writeFile(files.comparisonCsv, comparisonCsv(comparison));

  const parent = path.dirname(dir);
  const root = options.reportsRoot ?? (path.basename(parent) === 'reports' ? parent : undefined);
  const index = root ? await writeIndex(root, generatedAt) : undefined;
  return { ...files, index, results, decisions, answers: qa, comparison, charts: specs.length };
}

/**
 * Reads and validates `resultsFile`, writes report.html, summary.md and
 * decisions.csv (and comparison.csv with a baseline) beside it, refreshes
 * reports/index.html, and returns the HTML path. Throws ReportInputError
 * for a missing, malformed or wrong-version results file.
 */
export async function writeRunReport(resultsFile: string, options?: { baseline?: string } & RunReportOptions): Promise<string> {
  return (await buildRunReport(resultsFile, options)).html;
}
