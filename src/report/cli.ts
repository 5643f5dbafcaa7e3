/**
 * npm run report -- <results.json> [--baseline <older.json>] [--fail-on-regression <pct>]
 *
 * Exit codes: 0 written; 1 regression beyond --fail-on-regression;
 * 2 bad input (missing or malformed file, wrong schema version, bad flag);
 * 3 internal error. Errors are one line on stderr, without a stack trace
 * (set KHO_DEBUG=1 for one).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeChange, regressions } from './compare.ts';
import { ReportInputError, loadResults } from './load.ts';
import { metricDef } from './metrics.ts';

const USAGE = `usage: npm run report -- <results.json> [options]

Writes report.html, summary.md and decisions.csv beside <results.json>
(and comparison.csv with --baseline), and refreshes reports/index.html.

options:
  --baseline <older.json>       compare every metric with an older run
  --fail-on-regression <pct>    exit 1 if any metric regressed significantly by more than <pct> percent
                                (needs --baseline)
  --noise <pct>                 changes below <pct> percent read "within noise" (default 5)
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
        noise: { type: 'string' },
        'no-interactive': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see --help)`);
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
  if (failPct !== undefined && values.baseline === undefined) throw new UsageError('--fail-on-regression needs --baseline <older.json>');

  // Validate the inputs before loading the chart renderer, so bad input fails fast.
  await loadResults(positionals[0]);
  if (values.baseline !== undefined) await loadResults(values.baseline);
  const { buildRunReport } = await import('./index.ts');
  const report = await buildRunReport(positionals[0], {
    baseline: values.baseline,
    interactive: !values['no-interactive'],
    comparison: noisePct !== undefined ? { noise: noisePct / 100 } : undefined,
  });
  const rel = (f: string) => {
    const r = path.relative(process.cwd(), f);
    return r && !r.startsWith('..') ? r : f;
  };
  out.write(`report: ${rel(report.html)} (${report.charts} charts)\n`);
  out.write(`summary: ${rel(report.markdown)}, ${rel(report.csv)}${report.comparisonCsv ? `, ${rel(report.comparisonCsv)}` : ''}\n`);
  if (report.index) out.write(`index: ${rel(report.index)}\n`);
  if (report.comparison) {
    const c = report.comparison;
    const reg = c.rows.filter((r) => r.verdict === 'regression').length;
    const imp = c.rows.filter((r) => r.verdict === 'improvement').length;
    out.write(`baseline: ${reg} regression(s), ${imp} improvement(s), ${c.rows.length - reg - imp} within noise\n`);
    if (failPct !== undefined) {
      const bad = regressions(c, failPct).sort((a, b) => b.change.value - a.change.value);
      if (bad.length) {
        err.write(`regression beyond ${failPct}% in ${bad.length} metric(s):\n`);
        for (const r of bad) {
          err.write(`  ${r.scenario} ${r.structure} ${metricDef(r.metric).label}: ${describeChange(r)} (${r.test})\n`);
        }
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
