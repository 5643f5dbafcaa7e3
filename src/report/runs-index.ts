/**
 * reports/index.html: every run folder under reports/ (one holding a
 * results.json or a report.html), newest first, with profile, date and
 * commit. Results files are read leniently here (an old schema version is
 * still listed), and every string from them is escaped.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatDate } from './format.ts';
import { html } from './html.ts';

export const RESULTS_FILE = 'results.json';
export const REPORT_FILE = 'report.html';

export interface RunEntry {
  folder: string;
  hasReport: boolean;
  hasResults: boolean;
  profile?: string;
  date?: string;
  commit?: string;
  schemaVersion?: unknown;
  complete?: boolean;
  structures?: number;
  scenarios?: number;
  /** Why the results could not be read, if they could not. */
  problem?: string;
  /** Sort key: the run's date, else the folder's modification time. */
  time: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

async function readEntry(root: string, folder: string): Promise<RunEntry | undefined> {
  const dir = path.join(root, folder);
  const hasResults = existsSync(path.join(dir, RESULTS_FILE));
  const hasReport = existsSync(path.join(dir, REPORT_FILE));
  if (!hasResults && !hasReport) return undefined;
  const entry: RunEntry = { folder, hasReport, hasResults, time: (await stat(dir)).mtimeMs };
  if (hasResults) {
    try {
      const json = JSON.parse(await readFile(path.join(dir, RESULTS_FILE), 'utf8')) as Record<string, unknown>;
      const ctx = (json.context ?? {}) as Record<string, unknown>;
      entry.profile = str(ctx.profile);
      entry.date = str(ctx.date);
      entry.commit = str(ctx.gitCommit);
      entry.schemaVersion = json.schemaVersion;
      entry.complete = typeof json.complete === 'boolean' ? json.complete : undefined;
      if (Array.isArray(json.pairs)) {
        const pairs = json.pairs as { structure?: unknown; scenario?: unknown }[];
        entry.structures = new Set(pairs.map((p) => p.structure)).size;
        entry.scenarios = new Set(pairs.map((p) => p.scenario)).size;
      }
      const t = entry.date ? Date.parse(entry.date) : NaN;
      if (Number.isFinite(t)) entry.time = t;
    } catch {
      entry.problem = 'results.json is not valid JSON';
    }
  }
  return entry;
}

export async function listRuns(root: string): Promise<RunEntry[]> {
  if (!existsSync(root)) return [];
  const dirents = await readdir(root, { withFileTypes: true });
  const entries = await Promise.all(dirents.filter((d) => d.isDirectory()).map((d) => readEntry(root, d.name)));
  return entries.filter((e): e is RunEntry => e !== undefined).sort((a, b) => b.time - a.time || b.folder.localeCompare(a.folder));
}

export function renderIndex(runs: readonly RunEntry[], generatedAt: string): string {
  const href = (folder: string, file: string) => `${encodeURIComponent(folder)}/${file}`;
  const rows = runs.map(
    (r) => html`<tr>
<td>${r.hasReport ? html`<a href="${href(r.folder, REPORT_FILE)}">${r.folder}</a>` : html`${r.folder} <span class="muted">(no report yet)</span>`}</td>
<td>${r.profile ?? '—'}</td>
<td>${r.date ? formatDate(r.date) : '—'}</td>
<td><code>${r.commit ? r.commit.slice(0, 12) : '—'}</code></td>
<td class="num">${r.structures ?? '—'}</td>
<td class="num">${r.scenarios ?? '—'}</td>
<td>${r.problem ? html`<span class="warn">${r.problem}</span>` : r.complete === false ? html`<span class="warn">incomplete</span>` : r.hasResults ? 'complete' : '—'}${
      r.schemaVersion !== undefined && r.schemaVersion !== 1 ? html` <span class="warn">(schema ${String(r.schemaVersion)})</span>` : ''
    }</td>
<td>${r.hasResults ? html`<a href="${href(r.folder, RESULTS_FILE)}">results.json</a>` : '—'}</td>
</tr>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>kho-bench runs</title>
<style>
body { margin:0 auto; max-width:1100px; padding:20px; color:#1d1d1f; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
h1 { font-size:24px; margin:0 0 4px; } p { color:#5f6368; margin-top:0; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { border:1px solid #d9dce1; padding:6px 9px; text-align:left; } th { background:#f5f6f8; }
td.num { text-align:right; } a { color:#0b57d0; text-decoration:none; } a:hover { text-decoration:underline; }
code { font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace; font-size:13px; }
.muted { color:#5f6368; } .warn { color:#b3261e; }
</style>
</head>
<body>
<h1>kho-bench runs</h1>
<p>Every benchmark run under <code>reports/</code>, newest first. Each report is a single self-contained HTML file.</p>
${runs.length ? html`<table><thead><tr><th>run</th><th>profile</th><th>date</th><th>commit</th><th>structures</th><th>scenarios</th><th>status</th><th>raw</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No runs yet: <code>npm run bench</code> writes one.</p>`}
<p class="muted">Updated ${formatDate(generatedAt)}.</p>
</body>
</html>
`.value;
}

/** Rewrites `<root>/index.html` from the run folders under `root`; returns its path. */
export async function writeIndex(root: string, generatedAt = new Date().toISOString()): Promise<string> {
  const file = path.join(root, 'index.html');
  await writeFile(file, renderIndex(await listRuns(root), generatedAt));
  return file;
}
