import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture } from './fixture.ts';
import { csvField, escapeHtml, escapeMarkdown, html, jsonForScript } from './html.ts';
import { ReportInputError, buildRunReport, loadResults, parseResults, writeRunReport } from './index.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kho-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeRun(name: string, results: unknown): Promise<string> {
  const runDir = path.join(dir, 'reports', name);
  await mkdir(runDir, { recursive: true });
  const file = path.join(runDir, 'results.json');
  await writeFile(file, typeof results === 'string' ? results : JSON.stringify(results));
  return file;
}

describe('escaping helpers', () => {
  it('html template escapes interpolated strings but not nested templates', () => {
    const name = '<script>alert("x")</script>';
    expect(html`<td>${name}</td>`.value).toBe('<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>');
    expect(html`<tr>${html`<td>${'a&b'}</td>`}</tr>`.value).toBe('<tr><td>a&amp;b</td></tr>');
    expect(html`${['<a>', html`<b>`]}`.value).toBe('&lt;a&gt;<b>');
    expect(escapeHtml(`'"\``)).toBe('&#39;&quot;&#96;');
  });

  it('script JSON cannot close the script element', () => {
    expect(jsonForScript({ s: '</script><script>' })).not.toContain('</script');
    expect(JSON.parse(jsonForScript({ s: '</script>&' }))).toEqual({ s: '</script>&' });
  });

  it('markdown and CSV', () => {
    expect(escapeMarkdown('a|b <x> *y*')).toBe('a\\|b \\<x\\> \\*y\\*');
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField('=cmd()')).toBe("'=cmd()");
    expect(csvField(1.5)).toBe('1.5');
  });
});

describe('reading results', () => {
  it('wrong schema version gives a clear error', async () => {
    const bad = { ...makeFixture({ scenarios: ['vm-2m'] }), schemaVersion: 2 };
    expect(() => parseResults(bad, 'r.json')).toThrow(ReportInputError);
    expect(() => parseResults(bad, 'r.json')).toThrow(
      'r.json: results schema version 2 is not supported: this report reads schema version 1 (the file is newer than this report code: update kho-bench)',
    );
    const file = await writeRun('wrong-version', bad);
    await expect(writeRunReport(file)).rejects.toThrow(/schema version 2 is not supported/);
  });

  it('missing, empty, truncated and foreign files', async () => {
    await expect(loadResults(path.join(dir, 'nope.json'))).rejects.toThrow(/cannot read results file \(no such file\)/);
    await expect(loadResults(await writeRun('empty', ''))).rejects.toThrow(/the file is empty/);
    const truncated = JSON.stringify(makeFixture({ scenarios: ['vm-2m'] })).slice(0, 500);
    await expect(loadResults(await writeRun('truncated', truncated))).rejects.toThrow(/invalid JSON, truncated or not a results file/);
    await expect(loadResults(await writeRun('foreign', { name: 'package' }))).rejects.toThrow(/no "schemaVersion" field/);
    await expect(loadResults(await writeRun('array', [1, 2]))).rejects.toThrow(/expected a JSON object/);
    const broken = makeFixture({ scenarios: ['vm-2m'] }) as unknown as { pairs: { folios: unknown }[] };
    broken.pairs[0].folios = 'many';
    await expect(loadResults(await writeRun('broken', broken))).rejects.toThrow(/invalid results file: pairs\.0\.folios/);
  });
});

describe('writeRunReport', () => {
  it('writes the report, the summaries and the index; escapes every results string', async () => {
    const evil = '<script>alert("structure")</script>';
    const results = makeFixture({ scenarios: ['vm-2m', 'sparse-4k-128m'], structures: ['flat-bitmap', 'xarray-6.18', 'radix', evil] });
    results.scenarios[0].description = '</p><img src=x onerror=alert(1)>';
    results.context.cpuModel = '"><script>alert("cpu")</script>';
    results.context.gitCommit = '<b>commit</b>';
    results.failures = [{ job: 'j1', structure: '<i>ida</i>', scenario: 'vm-2m', message: 'restore <u>mismatch</u>' }];
    results.skipped = [{ structure: 'radix-rfc', reason: '<em>not implemented</em>' }];
    const file = await writeRun('run-evil', results);
    const report = await buildRunReport(file, { generatedAt: '2026-02-01T00:00:00Z' });
    expect(report.html).toBe(path.join(path.dirname(file), 'report.html'));
    const page = await readFile(report.html, 'utf8');
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<b>commit</b>');
    expect(page).toContain('&lt;script&gt;alert(&quot;structure&quot;)&lt;/script&gt;');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const tag of ['<i>ida', '<u>mismatch', '<em>not implemented']) expect(page).not.toContain(tag);
    expect(page).toContain('1 job(s) failed');
    expect(page).toContain('restore &lt;u&gt;mismatch&lt;/u&gt;');
    // Only the report's own two scripts (Chart.js, and the interactive wiring).
    expect(page.match(/<\/script>/g)).toHaveLength(2);
    // No external resource of any kind.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);

    const md = await readFile(report.markdown, 'utf8');
    expect(md).not.toContain('<script>');
    expect(md).toContain('\\<script\\>');
    const csv = await readFile(report.csv, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^scenario,metric,unit,verdict,winner,/);
    expect(csv.trim().split('\n')).toHaveLength(1 + 2 * 7);

    const index = await readFile(report.index!, 'utf8');
    expect(index).toContain('href="run-evil/report.html"');
    expect(index).not.toContain('<b>commit</b>');
  });

  it('lists runs newest first in reports/index.html', async () => {
    const older = await writeRun('run-old', makeFixture({ scenarios: ['vm-2m'], structures: ['radix'], date: '2026-01-01T00:00:00Z', sweeps: false }));
    const newer = await writeRun('run-new', makeFixture({ scenarios: ['vm-2m'], structures: ['radix'], date: '2026-03-01T00:00:00Z', profile: 'full', sweeps: false }));
    await writeRunReport(older, { interactive: false });
    await writeRunReport(newer, { interactive: false });
    const index = await readFile(path.join(dir, 'reports', 'index.html'), 'utf8');
    expect(index.indexOf('run-new')).toBeGreaterThan(-1);
    expect(index.indexOf('run-new')).toBeLessThan(index.indexOf('run-old'));
    expect(index).toContain('<td>full</td>');
  });

  it('with a baseline, writes the comparison', async () => {
    const base = await writeRun('base', makeFixture({ scenarios: ['vm-2m'], structures: ['ida', 'radix'], seed: 1 }));
    const cur = await writeRun('cur', makeFixture({ scenarios: ['vm-2m'], structures: ['ida', 'radix'], seed: 2, slowdown: { ida: 1.4 } }));
    const report = await buildRunReport(cur, { baseline: base, interactive: false });
    expect(report.comparison!.rows.some((r) => r.verdict === 'regression' && r.structure === 'ida')).toBe(true);
    const page = await readFile(report.html, 'utf8');
    expect(page).toContain('Comparison with the baseline run');
    expect(await readFile(report.comparisonCsv!, 'utf8')).toMatch(/^scenario,structure,metric,baseline,current,change/);
  });
});
