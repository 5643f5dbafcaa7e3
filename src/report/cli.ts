/**
 * npm run report -- <results.json> [--baseline <older.json>] [--fail-on-regression <pct>]
 *                   [--threshold <pct>] [--noise <pct>] [--links-base <url>] [--no-interactive]
 *
 * Exit codes: 0 written; 1 regression beyond --fail-on-regression;
 * 2 bad input (missing or malformed file, wrong schema version, bad flag);
 * 3 internal error. Errors are one line on stderr, without a stack trace
 * (set KHO_DEBUG=1 for one).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeChange, hostLine, regressions } from './compare.ts';
import { ReportInputError, loadResults } from './load.ts';

const USAGE = `usage: npm run report -- <results.json> [options]

Writes report.html, summary.md, decisions.csv and benchmarks.json beside
<results.json> (and comparison.csv with --baseline), and regenerates
reports/index.html when the run folder is under reports/.

options:
  --baseline <older.json>       compare every metric with an older run
  --fail-on-regression <pct>    exit 1 if any metric got worse by more than <pct> percent: a measured
                                metric flagged beyond noise, or an exact or model metric that grew
                                (needs --baseline)
  --threshold <pct>             differences below <pct> percent are ties in the decision table and
                                the answers, for model and exact figures too (default 5)
  --noise <pct>                 baseline changes below <pct> percent read "within noise" (default 5)
  --links-base <url>            absolute URL of the repository at a stable location (a tag or commit):
                                the structures' READMEs are linked there as well as embedded
  --no-interactive              do not inline Chart.js (PNG charts only; smaller file)
  -h, --help                    show this help

exit status: 0 written, 1 regression beyond the threshold, 2 bad input, 3 internal error`;

class UsageError extends ReportInputError {}

function percent(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/%$/, ''));
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} needs a non-negative number of percent, got "${value}"`);
  return n;
}

export interface Output {
  write(text: string): unknown;
}

/** The CLI without error handling: resolves to the exit status, throws on bad input. */
export async function main(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        baseline: { type: 'string' },
        'fail-on-regression': { type: 'string' },
        threshold: { type: 'string' },
        noise: { type: 'string' },
        'links-base': { type: 'string' },
        'no-interactive': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing <results.json> (see --help)' : `expected one results file, got ${positionals.length}`);
  }
  const failPct = percent('--fail-on-regression', values['fail-on-regression']);
  const noisePct = percent('--noise', values.noise);
  const thresholdPct = percent('--threshold', values.threshold);
  if (failPct !== undefined && values.baseline === undefined) throw new UsageError('--fail-on-regression needs --baseline <older.json>');

  // Validate the inputs before loading the chart renderer, so bad input fails fast.
  await loadResults(positionals[0]);
  if (values.baseline !== undefined) await loadResults(values.baseline);
  const { buildRunReport, checkLinksBase } = await import('./index.ts');
  if (values['links-base'] !== undefined) checkLinksBase(values['links-base']);
  const report = await buildRunReport(positionals[0], {
    ...(values.baseline !== undefined ? { baseline: values.baseline } : {}),
    interactive: !values['no-interactive'],
    ...(noisePct !== undefined ? { comparison: { noise: noisePct / 100 } } : {}),
    ...(thresholdPct !== undefined ? { threshold: thresholdPct / 100 } : {}),
    ...(values['links-base'] !== undefined ? { linksBase: values['links-base'] } : {}),
  });
  const rel = (f: string) => {
    const r = path.relative(process.cwd(), f);
    return r && !r.startsWith('..') ? r : f;
  };
  out.write(`report: ${rel(report.html)} (${report.charts} charts)\n`);
  out.write(`also: ${[report.markdown, report.csv, report.benchmarks, ...(report.comparisonCsv ? [report.comparisonCsv] : [])].map(rel).join(', ')}\n`);
  if (report.index) out.write(`index: ${rel(report.index)}\n`);
  if (report.comparison) {
    const c = report.comparison;
    const host = hostLine(c);
    if (host) out.write(`host: ${host}\n`);
    const count = (v: string) => c.rows.filter((r) => r.verdict === v).length;
    out.write(`baseline: ${count('regression')} regression(s), ${count('improvement')} improvement(s), ${count('within noise')} within noise, ${count('unchanged')} exact unchanged\n`);
    if (failPct !== undefined) {
      const bad = regressions(c, failPct).sort((a, b) => b.change.value - a.change.value);
      if (bad.length) {
        err.write(`regression beyond ${failPct}% in ${bad.length} metric(s):\n`);
        for (const r of bad) err.write(`  ${r.scenario} ${r.structure} ${r.metric}: ${describeChange(r)}\n`);
        return 1;
      }
      out.write(`no regression beyond ${failPct}%\n`);
    }
  }
  return 0;
}

/** The CLI as a process sees it: exit status, and a one-line error on stderr for any failure. */
export async function run(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  try {
    return await main(argv, out, err);
  } catch (e) {
    const input = e instanceof ReportInputError;
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    err.write(`report: ${input ? '' : 'internal error: '}${message}\n`);
    if (process.env.KHO_DEBUG && e instanceof Error) err.write(`${e.stack}\n`);
    return input ? 2 : 3;
  }
}

const isMain =
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') === fileURLToPath(import.meta.url).replace(/\.[cm]?[jt]s$/, '');

if (isMain) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
