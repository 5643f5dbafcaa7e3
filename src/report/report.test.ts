import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GbDocument, googleBenchmarkJson } from './benchmark-json.ts';
import { makeFixture } from './fixture.ts';
import { csvField, escapeHtml, escapeMarkdown, html, jsonForScript } from './html.ts';
import { ReportInputError, buildRunReport, loadResults, parseResults, writeRunReport } from './index.ts';
import { listRuns, renderIndex, runKind } from './runs-index.ts';

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
  it('another schema version gives a clear error', async () => {
    const v1 = { ...makeFixture({ scenarios: ['vm-2m'] }), schemaVersion: 1 };
    expect(() => parseResults(v1, 'r.json')).toThrow(ReportInputError);
    expect(() => parseResults(v1, 'r.json')).toThrow(
      'r.json: results schema version 1 is not supported: this report reads schema version 2 (re-run the benchmark to produce a current file)',
    );
    const v3 = { ...v1, schemaVersion: 3 };
    await expect(writeRunReport(await writeRun('wrong-version', v3))).rejects.toThrow(/schema version 3 is not supported: .*\(the file is newer than this report code: update kho-bench\)/);
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
  it('writes the report and its exports; escapes every results string; links nothing outside the file', async () => {
    const evil = '<script>alert("structure")</script>';
    const results = makeFixture({ scenarios: ['vm-2m', 'sparse-4k-128m'], structures: ['flat-bitmap', 'xarray-6.19', 'radix', evil] });
    results.scenarios[0].description = '</p><img src=x onerror=alert(1)>';
    results.context.cpuModel = '"><script>alert("cpu")</script>';
    results.context.gitCommit = '<b>commit</b>';
    results.pairs[0].warnings = ['<i>warned</i>'];
    results.pairs[1].unavailable = { restore_ms: '<u>cannot</u>' };
    results.failures = [{ job: 'j1', structure: '<i>ida</i>', scenario: 'vm-2m', message: 'restore <u>mismatch</u>' }];
    results.skipped = [{ structure: 'radix-rfc', reason: '<em>not implemented</em>' }];
    results.calibrations![0].source = '<a href="http://evil">published</a>';
    const file = await writeRun('run-evil', results);
    const report = await buildRunReport(file, { generatedAt: '2026-02-01T00:00:00Z' });
    expect(report.html).toBe(path.join(path.dirname(file), 'report.html'));
    const page = await readFile(report.html, 'utf8');
    for (const bad of ['<script>alert', '<img src=x', '<b>commit</b>', '<i>ida', '<i>warned', '<u>cannot', '<u>mismatch', '<em>not implemented', 'href="http://evil']) {
      expect(page).not.toContain(bad);
    }
    expect(page).toContain('&lt;script&gt;alert(&quot;structure&quot;)&lt;/script&gt;');
    expect(page).toContain('1 job(s) failed');
    // Only the report's own two scripts (Chart.js, and the interactive wiring).
    expect(page.match(/<\/script>/g)).toHaveLength(2);
    // Every link stays in the file: no external resource, no relative path into a folder or checkout.
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.length).toBeGreaterThan(10);
    expect(hrefs.filter((h) => !h.startsWith('#'))).toEqual([]);
    expect(page).not.toMatch(/src="(?!data:)/);
    // The structures' READMEs are in the page.
    expect(page).toContain('<h4>radix: the KHO radix tree (as merged)</h4>');

    const md = await readFile(report.markdown, 'utf8');
    expect(md).not.toContain('<script>');
    expect(md).toContain('\\<script\\>');
    expect(md).toMatch(/^## 1\. What does serialization cost at kexec/m);
    const csv = (await readFile(report.csv, 'utf8')).trim().split('\n');
    expect(csv[0]).toMatch(/^scenario,aspect,metric,basis,unit,threshold,verdict,lowest,tied,ranking,/);
    expect(csv).toHaveLength(1 + 2 * 6);

    const index = await readFile(report.index!, 'utf8');
    expect(index).toContain('href="run-evil/report.html"');
    expect(index).not.toContain('<b>commit</b>');
  });

  it('links the structure READMEs to --links-base when given, and refuses a relative one', async () => {
    const file = await writeRun('links', makeFixture({ scenarios: ['vm-2m'], structures: ['radix'], sweeps: false }));
    const report = await buildRunReport(file, { interactive: false, linksBase: 'https://example.org/kho-bench/blob/v1.0/' });
    const page = await readFile(report.html, 'utf8');
    expect(page).toContain('href="https://example.org/kho-bench/blob/v1.0/structures/radix/README.md"');
    await expect(buildRunReport(file, { linksBase: '../checkout' })).rejects.toThrow(ReportInputError);
  });

  it('with a baseline, writes the comparison, the host line first', async () => {
    const small = { scenarios: ['vm-2m'], structures: ['ida', 'radix'], sweeps: false };
    const base = await writeRun('base', makeFixture({ ...small, seed: 1 }));
    const cur = await writeRun('cur', makeFixture({ ...small, seed: 2, slowdown: { ida: 1.4 }, hostSpeed: 1.3 }));
    const report = await buildRunReport(cur, { baseline: base, interactive: false });
    expect(report.comparison!.rows.some((r) => r.verdict === 'regression' && r.structure === 'ida')).toBe(true);
    const page = await readFile(report.html, 'utf8');
    expect(page).toContain('Comparison with the baseline run');
    expect(page).toMatch(/<strong>Host:<\/strong> host 30% slower than during the baseline/);
    expect(await readFile(report.comparisonCsv!, 'utf8')).toMatch(/^scenario,structure,metric,kind,baseline,current,change/);
  });
});

describe('benchmarks.json (Google Benchmark format)', () => {
  it("has Google Benchmark's context and one benchmark per structure, scenario and time metric: repetitions, then mean, median, stddev, cv", async () => {
    const results = makeFixture({ scenarios: ['vm-2m'], structures: ['radix-rfc', 'radix'] });
    results.context.host = { name: 'bench-host', mhzPerCpu: 2450.4, cpuScalingEnabled: false, caches: [{ type: 'Data', level: 1, size: 32768, numSharing: 1 }] };
    const doc: GbDocument = googleBenchmarkJson(results);
    expect(doc.context).toMatchObject({
      date: '2026-01-15T12:00:00.000Z',
      host_name: 'bench-host',
      num_cpus: 2,
      mhz_per_cpu: 2450,
      cpu_scaling_enabled: false,
      caches: [{ type: 'Data', level: 1, size: 32768, num_sharing: 1 }],
      library_build_type: 'release',
      kho_bench_profile: 'default',
    });
    expect(doc.context.executable).toMatch(/^kho-bench 0123456789ab/);
    const name = 'radix/vm-2m/preserve_ns_per_folio';
    const mine = doc.benchmarks.filter((b) => b.run_name === name);
    expect(mine.map((b) => b.name)).toEqual([...Array(10).fill(name), `${name}_mean`, `${name}_median`, `${name}_stddev`, `${name}_cv`]);
    const reps = mine.filter((b) => b.run_type === 'iteration');
    expect(reps.map((b) => b.repetition_index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(reps.every((b) => b.repetitions === 10 && b.threads === 1 && b.time_unit === 'ns' && b.real_time === b.cpu_time)).toBe(true);
    const per = results.pairs.find((p) => p.structure === 'radix')!.metrics.preserve_ns_per_folio;
    expect(reps.map((b) => b.real_time)).toEqual(per.perProcess);
    const mean = mine.find((b) => b.aggregate_name === 'mean')!;
    expect(mean).toMatchObject({ run_type: 'aggregate', aggregate_unit: 'time', repetitions: 10 });
    expect(mean.real_time).toBeCloseTo(per.value, 9);
    expect(mine.find((b) => b.aggregate_name === 'cv')).toMatchObject({ aggregate_unit: 'percentage' });
    expect(mean).not.toHaveProperty('repetition_index');
    // A model time is one deterministic iteration; exact counts are not times and are left out.
    const model = doc.benchmarks.filter((b) => b.run_name === 'radix/vm-2m/serialize_model_ms');
    expect(model).toHaveLength(1);
    expect(model[0]).toMatchObject({ run_type: 'iteration', repetitions: 1, time_unit: 'ms', label: 'model, AMD EPYC 9654' });
    expect(doc.benchmarks.some((b) => b.name.includes('metadata_bytes'))).toBe(false);
    // What the structure cannot have is not invented.
    expect(doc.benchmarks.some((b) => b.run_name === 'radix-rfc/vm-2m/unpreserve_ns_per_folio')).toBe(false);
    expect(doc.benchmarks.some((b) => b.run_name.startsWith('radix/sweep-folios-1000/'))).toBe(true);
    // Families are numbered in order, as compare.py sorts by them.
    const families = [...new Set(doc.benchmarks.map((b) => b.family_index))];
    expect(families).toEqual(families.map((_, i) => i));
  });
});

describe('runs index', () => {
  it('says what each run is, and lists only complete, unfiltered, non-smoke runs as complete', async () => {
    const root = path.join(dir, 'idx', 'reports');
    const put = async (name: string, results: unknown) => {
      await mkdir(path.join(root, name), { recursive: true });
      await writeFile(path.join(root, name, 'results.json'), JSON.stringify(results));
    };
    const small = { scenarios: ['vm-2m'], structures: ['radix'], sweeps: false };
    await put('full', makeFixture({ ...small, profile: 'full', date: '2026-03-01T00:00:00Z' }));
    await put('smoke', makeFixture({ ...small, profile: 'smoke', date: '2026-02-01T00:00:00Z' }));
    const partial = makeFixture({ ...small, date: '2026-01-01T00:00:00Z' });
    partial.complete = false;
    partial.plan!.doneJobs = 3;
    await put('partial', partial);
    const aa = makeFixture({ ...small, date: '2025-12-01T00:00:00Z' });
    aa.plan!.aa = true;
    await put('aa', aa);
    await put('v1', { schemaVersion: 1, complete: true, context: { profile: 'default', date: '2025-11-01T00:00:00Z' }, pairs: [] });
    const runs = await listRuns(root);
    expect(runs.map((r) => r.folder)).toEqual(['full', 'smoke', 'partial', 'aa', 'v1']);
    expect(runKind(runs[0])).toEqual(['filtered (a subset of structures or scenarios)']);
    expect(runKind(runs[1])).toContain('smoke (too small to read)');
    expect(runKind(runs[2])).toContain(`partial (3 of ${partial.plan!.totalJobs} jobs)`);
    expect(runKind(runs[3])).toContain('A/A (the same code twice)');
    expect(runKind(runs[4])).toEqual(['schema version 1 (this report reads 2)']);
    const page = renderIndex(runs, '2026-03-02T00:00:00Z');
    expect(page).toContain('<h2>Complete runs</h2>\n<p>None yet');
    expect(page).toContain('Partial, filtered, smoke and A/A runs');
    const full = makeFixture({ profile: 'full', sweeps: false });
    await put('all', full);
    expect(runKind((await listRuns(root)).find((r) => r.folder === 'all')!)).toEqual([]);
  });
});
