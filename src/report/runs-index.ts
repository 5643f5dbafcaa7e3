/**
 * reports/index.html: every run folder under reports/ (one holding a
 * results.json or a report.html), newest first, in two tables: the
 * complete, unfiltered default and full runs, and the others (partial,
 * filtered, smoke, A/A, design space only, unreadable), each saying what
 * it is. Results files are read leniently here (an old schema version is
 * still listed), and every string from them is escaped.
 *
 * The index is generated, never tracked (.gitignore): a benchmark run
 * writes it, and must not modify tracked files.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDesignSpaceOnly } from './design-space.ts';
import { formatDate } from './format.ts';
import { html } from './html.ts';
import { isDesignPoint } from './metrics.ts';

export const RESULTS_FILE = 'results.json';
export const REPORT_FILE = 'report.html';
export const INDEX_FILE = 'index.html';

export interface RunEntry {
  folder: string;
  hasReport: boolean;
  hasResults: boolean;
  profile?: string;
  date?: string;
  commit?: string;
  schemaVersion?: unknown;
  complete?: boolean;
  filtered?: boolean;
  aa?: boolean;
  jobs?: { done: number; total: number };
  /** Named structures; the family's points are counted apart. */
  structures?: number;
  scenarios?: number;
  /** Family points with pairs (structures/family). */
  points?: number;
  /** A `--design-space` run: the section alone, with its points, scenarios and timing processes per pair. */
  designSpaceOnly?: { points: number; scenarios: number; processes: number };
  /** Why the results could not be read, if they could not. */
  problem?: string;
  /** Sort key: the run's date, else the folder's modification time. */
  time: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

async function readEntry(root: string, folder: string): Promise<RunEntry | undefined> {
  const dir = path.join(root, folder);
  const hasResults = existsSync(path.join(dir, RESULTS_FILE));
  const hasReport = existsSync(path.join(dir, REPORT_FILE));
  if (!hasResults && !hasReport) return undefined;
  const entry: RunEntry = { folder, hasReport, hasResults, time: (await stat(dir)).mtimeMs };
  if (!hasResults) return entry;
  try {
    const json = JSON.parse(await readFile(path.join(dir, RESULTS_FILE), 'utf8')) as Record<string, unknown>;
    const ctx = (json.context ?? {}) as Record<string, unknown>;
    const plan = (json.plan ?? {}) as Record<string, unknown>;
    entry.profile = str(ctx.profile);
    entry.date = str(ctx.date);
    entry.commit = str(ctx.gitCommit);
    entry.schemaVersion = json.schemaVersion;
    entry.complete = bool(json.complete);
    entry.filtered = bool(plan.filtered);
    entry.aa = bool(plan.aa);
    if (typeof plan.doneJobs === 'number' && typeof plan.totalJobs === 'number') entry.jobs = { done: plan.doneJobs, total: plan.totalJobs };
    if (Array.isArray(json.pairs)) {
      const pairs = json.pairs as { structure?: unknown; scenario?: unknown }[];
      const point = (p: { structure?: unknown }) => typeof p.structure === 'string' && isDesignPoint(p.structure);
      entry.structures = new Set(pairs.filter((p) => !point(p)).map((p) => p.structure)).size;
      entry.scenarios = new Set(pairs.map((p) => p.scenario)).size;
      const points = new Set(pairs.filter(point).map((p) => p.structure)).size;
      if (points) entry.points = points;
    }
    if (isDesignSpaceOnly(plan as { designSpace?: unknown; sweeps?: unknown })) {
      const ds = plan.designSpace as Record<string, unknown>;
      const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
      entry.designSpaceOnly = { points: count(ds.points), scenarios: count(ds.scenarios), processes: typeof plan.processes === 'number' ? plan.processes : 0 };
    }
    const t = entry.date ? Date.parse(entry.date) : NaN;
    if (Number.isFinite(t)) entry.time = t;
  } catch {
    entry.problem = 'results.json is not valid JSON';
  }
  return entry;
}

export async function listRuns(root: string): Promise<RunEntry[]> {
  if (!existsSync(root)) return [];
  const dirents = await readdir(root, { withFileTypes: true });
  const entries = await Promise.all(dirents.filter((d) => d.isDirectory()).map((d) => readEntry(root, d.name)));
  return entries.filter((e): e is RunEntry => e !== undefined).sort((a, b) => b.time - a.time || b.folder.localeCompare(a.folder));
}

/** What a run is, in words: "complete", or every way it is not a full run. */
export function runKind(r: RunEntry): string[] {
  const kinds: string[] = [];
  if (r.problem) return [r.problem];
  if (!r.hasResults) return ['no results.json'];
  if (r.complete === false) kinds.push(r.jobs ? `partial (${r.jobs.done} of ${r.jobs.total} jobs)` : 'partial');
  if (r.filtered) kinds.push('filtered (a subset of structures or scenarios)');
  if (r.aa) kinds.push('A/A (the same code twice)');
  const ds = r.designSpaceOnly;
  if (ds) kinds.push(`design space only (${ds.points} family points on ${ds.scenarios} scenarios, ${ds.processes} timing process${ds.processes === 1 ? '' : 'es'} per pair)`);
  if (r.profile === 'smoke') kinds.push('smoke (too small to read)');
  if (r.schemaVersion !== undefined && r.schemaVersion !== 2) kinds.push(`schema version ${String(r.schemaVersion)} (this report reads 2)`);
  if (r.complete === undefined) kinds.push('completeness unknown');
  return kinds;
}

function isFullRun(r: RunEntry): boolean {
  return r.hasResults && runKind(r).length === 0;
}

export function renderIndex(runs: readonly RunEntry[], generatedAt: string): string {
  const href = (folder: string, file: string) => `${encodeURIComponent(folder)}/${file}`;
  const row = (r: RunEntry) => {
    const kinds = runKind(r);
    return html`<tr>
<td>${r.hasReport ? html`<a href="${href(r.folder, REPORT_FILE)}">${r.folder}</a>` : html`${r.folder} <span class="muted">(no report)</span>`}</td>
<td>${r.profile ?? '—'}</td>
<td>${r.date ? formatDate(r.date) : '—'}</td>
<td><code>${r.commit ? r.commit.slice(0, 12) : '—'}</code></td>
<td class="num">${r.structures ?? '—'} × ${r.scenarios ?? '—'}${r.points ? html`<span class="muted"> + ${r.points} family points</span>` : ''}</td>
<td>${kinds.length ? html`<span class="warn">${kinds.join('; ')}</span>` : 'complete'}</td>
<td>${r.hasResults ? html`<a href="${href(r.folder, RESULTS_FILE)}">results.json</a>` : '—'}</td>
</tr>`;
  };
  const head = html`<thead><tr><th>run</th><th>profile</th><th>date</th><th>commit</th><th>structures × scenarios</th><th>what it is</th><th>raw</th></tr></thead>`;
  const full = runs.filter(isFullRun);
  const other = runs.filter((r) => !isFullRun(r));
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>kho-bench runs</title>
<style>
body { margin:0 auto; max-width:1100px; padding:20px; color:#1d1d1f; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
h1 { font-size:24px; margin:0 0 4px; } h2 { font-size:18px; margin:24px 0 6px; } p { color:#5f6368; margin-top:0; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { border:1px solid #d9dce1; padding:6px 9px; text-align:left; } th { background:#f5f6f8; }
td.num { text-align:right; } a { color:#0b57d0; text-decoration:none; } a:hover { text-decoration:underline; }
code { font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace; font-size:13px; }
.muted { color:#5f6368; } .warn { color:#b3261e; }
</style>
</head>
<body>
<h1>kho-bench runs</h1>
<p>Every benchmark run under this folder, newest first. Each report is a single self-contained HTML file.</p>
<h2>Complete runs</h2>
${full.length ? html`<table>${head}<tbody>${full.map(row)}</tbody></table>` : html`<p>None yet: <code>npm run bench</code> (default or full profile, all structures and scenarios) writes one.</p>`}
${other.length ? html`<h2>Partial, filtered, smoke and A/A runs</h2><p>Not comparable with the complete runs: each says why.</p><table>${head}<tbody>${other.map(row)}</tbody></table>` : ''}
<p class="muted">Generated ${formatDate(generatedAt)}; not tracked by git.</p>
</body>
</html>
`.value;
}

/** Rewrites `<root>/index.html` from the run folders under `root`; returns its path. */
export async function writeIndex(root: string, generatedAt = new Date().toISOString()): Promise<string> {
  const file = path.join(root, INDEX_FILE);
  await writeFile(file, renderIndex(await listRuns(root), generatedAt));
  return file;
}
