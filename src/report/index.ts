/**
 * The report of one benchmark run.
 *
 * writeRunReport(<dir>/results.json) writes, beside the results file:
 *   report.html       the self-contained report (charts as inline PNG, the
 *                     structures' READMEs rendered in)
 *   summary.md        the answers, head to head, decision table, what should
 *                     come next (and the baseline comparison) as Markdown
 *   decisions.csv     the decision table, one row per scenario × aspect (not
 *                     summary.csv: the runner writes that one, per metric)
 *   benchmarks.json   the run in Google Benchmark's JSON format
 *   comparison.csv    with a baseline: one row per scenario × structure × metric
 * and regenerates <reports>/index.html (untracked), where <reports> is the
 * run folder's parent when that is named "reports" (or options.reportsRoot).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { hostSlowdown } from '../measure/calibration.ts';
import type { Results } from '../results/schema.ts';
import { type Answer, type Decision, DEFAULT_THRESHOLD, aaCheck, answers, decisionTable, fitRows, headToHead, modelVsMeasured } from './analysis.ts';
import { BENCHMARKS_JSON, googleBenchmarkJson } from './benchmark-json.ts';
import { type DesignSpace, designSpace } from './design-space.ts';
import { allCharts, buildCharts, renderAll } from './charts.ts';
import { type Comparison, type ComparisonOptions, compareRuns } from './compare.ts';
import { COMPARISON_CSV, DECISIONS_CSV, SUMMARY_MARKDOWN, comparisonCsv, decisionsCsv, summaryMarkdown } from './exports.ts';
import { ReportInputError, loadResults } from './load.ts';
import { KNOWN_STRUCTURES, designPointsOf, structuresOf } from './metrics.ts';
import { renderPage } from './page.ts';
import { REPORT_FILE, writeIndex } from './runs-index.ts';
import { structureInfos } from './structures-info.ts';

export { ReportInputError, loadResults, parseResults } from './load.ts';
export { regressions } from './compare.ts';
export { writeIndex } from './runs-index.ts';

export interface RunReportOptions {
  /** An older results file to compare with. */
  baseline?: string;
  /** Where index.html is written; default: the run folder's parent if it is named "reports", else no index. */
  reportsRoot?: string;
  /** Noise threshold and significance level of the baseline comparison. */
  comparison?: ComparisonOptions;
  /** Differences below this fraction are ties in the decision table and the answers (default 0.05). */
  threshold?: number;
  /** Absolute http(s) URL of the repository root at a stable location: the structures' READMEs are linked there as well as embedded. */
  linksBase?: string;
  /** Inline Chart.js so each chart can be made interactive (default true; the PNGs are always there). */
  interactive?: boolean;
  /** Timestamp written into the report (default: now). */
  generatedAt?: string;
}

export interface RunReport {
  html: string;
  markdown: string;
  csv: string;
  benchmarks: string;
  comparisonCsv?: string;
  index?: string;
  results: Results;
  decisions: Decision[];
  answers: Answer[];
  designSpace?: DesignSpace;
  comparison?: Comparison;
  charts: number;
}

/** The runner's own table, one row per structure × scenario × metric, named when it is there. */
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

/** Throws ReportInputError unless `url` is an absolute http(s) URL. */
export function checkLinksBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReportInputError(`--links-base needs an absolute http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ReportInputError(`--links-base needs an absolute http(s) URL, got "${url}"`);
  return parsed.href.replace(/\/+$/, '');
}

function runLabel(file: string): string {
  const abs = path.resolve(file);
  return `${path.basename(path.dirname(abs))}/${path.basename(abs)}`;
}

/** Writes benchmarks.json (Google Benchmark's format) beside the results file; returns its path. */
export async function writeBenchmarkJson(resultsFile: string, results?: Results): Promise<string> {
  const r = results ?? (await loadResults(resultsFile));
  const file = path.join(path.dirname(path.resolve(resultsFile)), BENCHMARKS_JSON);
  await writeFile(file, `${JSON.stringify(googleBenchmarkJson(r), null, 2)}\n`);
  return file;
}

/** Builds and writes every file of one run's report; see the module comment. */
export async function buildRunReport(resultsFile: string, options: RunReportOptions = {}): Promise<RunReport> {
  const results = await loadResults(resultsFile);
  const baseline = options.baseline !== undefined ? await loadResults(options.baseline) : undefined;
  const linksBase = options.linksBase !== undefined ? checkLinksBase(options.linksBase) : undefined;
  const dir = path.dirname(path.resolve(resultsFile));
  const generatedAt = options.generatedAt ?? new Date().toISOString();
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;

  const decisions = decisionTable(results, { threshold });
  const qa = answers(results, { threshold });
  const h2h = headToHead(results);
  const checks = modelVsMeasured(results, { threshold });
  const fits = fitRows(results);
  const ds = designSpace(results, { threshold });
  const aa = aaCheck(results, { threshold });
  const calib = results.context.calibration;
  const host = calib && calib.startNs.length > 0 && calib.startNs.length === calib.endNs.length ? hostSlowdown(calib.startNs.map((s, i) => ({ startNs: s, endNs: calib.endNs[i] }))) : undefined;
  const comparison = baseline ? compareRuns(results, baseline, options.comparison) : undefined;
  const baselineName = options.baseline ? runLabel(options.baseline) : '';
  const charts = buildCharts(results, checks, ds);
  const specs = allCharts(charts);
  const pngs = await renderAll(specs);
  const knownStructures = [...KNOWN_STRUCTURES];
  const structures = await structureInfos([...new Set([...knownStructures, ...structuresOf(results), ...designPointsOf(results)])]);

  const files = {
    html: path.join(dir, REPORT_FILE),
    markdown: path.join(dir, SUMMARY_MARKDOWN),
    csv: path.join(dir, DECISIONS_CSV),
    benchmarks: path.join(dir, BENCHMARKS_JSON),
    comparisonCsv: comparison ? path.join(dir, COMPARISON_CSV) : undefined,
  };
  const page = renderPage({
    results,
    resultsName: path.basename(resultsFile),
    threshold,
    decisions,
    answers: qa,
    headToHead: h2h,
    modelChecks: checks,
    fits,
    ...(ds ? { designSpace: ds } : {}),
    ...(aa ? { aa } : {}),
    ...(host ? { host } : {}),
    ...(comparison && baseline ? { comparison: { data: comparison, baselineName, baseline } } : {}),
    charts,
    pngs,
    structures,
    knownStructures,
    ...(linksBase ? { linksBase } : {}),
    exports: [SUMMARY_MARKDOWN, DECISIONS_CSV, BENCHMARKS_JSON, ...(comparison ? [COMPARISON_CSV] : []), ...(existsSync(path.join(dir, RUNNER_SUMMARY_CSV)) ? [RUNNER_SUMMARY_CSV] : []), path.basename(resultsFile)],
    ...(options.interactive === false ? {} : { chartJsSource: await chartJs() }),
    generatedAt,
  });
  await writeFile(files.html, page);
  await writeFile(
    files.markdown,
    summaryMarkdown({
      results,
      threshold,
      answers: qa,
      headToHead: h2h,
      decisions,
      ...(ds ? { designSpace: ds } : {}),
      ...(comparison ? { comparison: { data: comparison, baselineName } } : {}),
    }),
  );
  await writeFile(files.csv, decisionsCsv(decisions, threshold));
  await writeBenchmarkJson(resultsFile, results);
  if (comparison && files.comparisonCsv) await writeFile(files.comparisonCsv, comparisonCsv(comparison));

  const parent = path.dirname(dir);
  const root = options.reportsRoot ?? (path.basename(parent) === 'reports' ? parent : undefined);
  const index = root ? await writeIndex(root, generatedAt) : undefined;
  return { ...files, ...(index ? { index } : {}), results, decisions, answers: qa, ...(ds ? { designSpace: ds } : {}), ...(comparison ? { comparison } : {}), charts: specs.length };
}

/**
 * Reads and validates `resultsFile`, writes report.html, summary.md,
 * decisions.csv and benchmarks.json (and comparison.csv with a baseline)
 * beside it, regenerates reports/index.html, and returns the HTML path.
 * Throws ReportInputError for a missing, malformed or wrong-version
 * results file, or a bad option.
 */
export async function writeRunReport(resultsFile: string, options?: RunReportOptions): Promise<string> {
  return (await buildRunReport(resultsFile, options)).html;
}
