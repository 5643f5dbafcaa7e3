/**
 * The runner end to end, as a user runs it: smoke runs of flat-bitmap on
 * two scenarios, an interrupted run resumed, and bad input.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResults } from '../../src/results/io.ts';
import { CSV_COLUMNS } from '../../src/results/csv.ts';
import { cpusToPin } from '../jobs/launch.ts';

const MAIN = join(process.cwd(), 'bench', 'main.ts');
/**
 * node with tsx's loader, not the tsx CLI: the CLI relays signals to its
 * child and kills it when it does not answer within 30 ms, which a loaded
 * test machine can miss.
 */
const NODE_ARGS = ['--import', 'tsx', MAIN];
const root = mkdtempSync(join(tmpdir(), 'kho-bench-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bench(args: string[]) {
  return spawnSync(process.execPath, [...NODE_ARGS, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 110_000 });
}

const REQUIRED_METRICS = [
  'preserve_ns_per_folio',
  'unpreserve_ns_per_folio',
  'serialize_ms',
  'serialize_bytes',
  'restore_ms',
  'restore_ns_per_folio',
  'blackout_ms',
  'metadata_bytes_handover',
  'metadata_bytes_peak',
];

describe('cpusToPin', () => {
  it('gives one distinct CPU per job slot, or none when the machine has fewer CPUs than slots', () => {
    const two = cpusToPin(2);
    expect([0, 2]).toContain(two.length);
    expect(new Set(two).size).toBe(two.length);
    expect(cpusToPin(cpus().length + 1)).toEqual([]);
  });
});

describe('npm run bench', () => {
  it('writes a schema-valid results.json and summary.csv for a smoke run', () => {
    const out = join(root, 'smoke');
    const r = bench(['--profile', 'smoke', '--structures', 'flat-bitmap', '--scenarios', 'dense-4k,sparse-4k-16m', '--sweeps', '--out', out, '--skip-report']);
    expect(r.status, r.stderr).toBe(0);
    const results = readResults(join(out, 'results.json'));
    expect(results.complete).toBe(true);
    expect(results.context.profile).toBe('smoke');
    expect(results.context.seed).toBe(1);
    expect(results.context.node).toBe(process.version);
    expect(results.context.cpuModel.length).toBeGreaterThan(0);
    // Smoke runs two jobs at once: each on a CPU of its own where the machine allows it.
    expect(results.context.runner?.pinned).toBe(cpusToPin(2).length === 2);
    expect(results.pairs.map((p) => `${p.structure}/${p.scenario}`).sort()).toEqual(['flat-bitmap/dense-4k', 'flat-bitmap/sparse-4k-16m']);
    for (const p of results.pairs) {
      const preserve = p.metrics.preserve_ns_per_folio;
      expect(preserve.value).toBeGreaterThan(0);
      expect(preserve.processes).toBe(3);
      expect(preserve.perProcess).toHaveLength(3);
      expect(preserve.ciLow).toBeLessThanOrEqual(preserve.value);
      expect(preserve.ciLow).toBeGreaterThanOrEqual(0);
      expect(p.distributions?.preserve?.p99).toBeGreaterThanOrEqual(p.distributions!.preserve!.p50);
      expect(p.metrics.serialize_ms.value).toBeGreaterThan(0); // measured, even for a stateless tracker
      expect(p.metrics.restore_ms.value).toBeGreaterThan(0);
      expect(p.metrics.lines_per_preserve.value).toBeGreaterThan(0);
      expect(p.metrics.preserve_model_ns.value).toBeGreaterThan(0);
    }
    expect(results.context.calibration?.startNs).toHaveLength(6);
    // Smoke's sweep: 10^3 and 4·10^3 folios on 1 GiB, the first also the RAM sweep's one point.
    expect(results.sweeps.map((s) => `${s.axis}:${s.x}`).sort()).toEqual(['folios:1000', 'folios:4000', 'ram:1073741824']);
    expect(results.fits.every((f) => f.axis === 'folios' && f.points === 2)).toBe(true);

    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    for (const scenario of ['dense-4k', 'sparse-4k-16m']) {
      const metrics = csv.filter((l) => l.startsWith(`flat-bitmap,${scenario},`)).map((l) => l.split(',')[2]);
      for (const m of REQUIRED_METRICS) expect(metrics).toContain(m);
    }
    expect(r.stdout).toContain('dense-4k');
  });

  it('runs no sweeps when the scenarios are narrowed, unless asked', () => {
    const out = join(root, 'narrow');
    const r = bench(['--profile', 'smoke', '--structures', 'radix', '--scenarios', 'dense-4k', '--processes', '2', '--out', out, '--skip-report']);
    expect(r.status, r.stderr).toBe(0);
    const results = readResults(join(out, 'results.json'));
    expect(results.sweeps).toEqual([]);
    expect(results.plan?.filtered).toBe(true);
  });

  it('compares the two halves of an A/A run and says how many timing metrics it flagged', () => {
    const out = join(root, 'aa');
    const r = bench(['--profile', 'smoke', '--structures', 'radix', '--scenarios', 'dense-4k', '--aa', '--out', out, '--skip-report']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/A\/A: \d+ of \d+ timing metrics flagged/);
    expect(readResults(join(out, 'results.json')).plan?.aa).toBe(true);
  });

  it('resumes an interrupted run without redoing finished jobs', async () => {
    const out = join(root, 'resume');
    const args = ['--profile', 'smoke', '--structures', 'flat-bitmap', '--scenarios', 'dense-4k,random-4k,churn', '--jobs', '1', '--out', out, '--skip-report'];
    const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const jobs = join(out, 'jobs');
    const deadline = Date.now() + 90_000;
    while (!(existsSync(jobs) && readdirSync(jobs).some((f) => f.endsWith('.json'))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('--resume');
    const partial = readResults(join(out, 'results.json'));
    expect(partial.complete).toBe(false);
    const done = readdirSync(jobs).filter((f) => f.endsWith('.json'));
    expect(done.length).toBeGreaterThanOrEqual(1);
    // 3 pairs x 3 processes + 3 exact jobs
    expect(done.length).toBeLessThan(12);
    expect(partial.plan?.doneJobs).toBe(done.length);
    const before = new Map(done.map((f) => [f, statSync(join(jobs, f)).mtimeMs]));

    const r = bench(['--resume', out, '--skip-report']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`(${done.length} already done)`);
    const results = readResults(join(out, 'results.json'));
    expect(results.complete).toBe(true);
    expect(results.pairs.length).toBe(3);
    for (const [f, mtime] of before) expect(statSync(join(jobs, f)).mtimeMs).toBe(mtime);
  });

  it.each([
    [['--profile', 'huge']],
    [['--structures', 'flat-bitmap,btree']],
    [['--scenarios', 'dense-8k']],
    [['--seed', '-3']],
    [['--seed', 'abc']],
    [['--seed', '99999999999']],
    [['--bogus']],
    [['--resume', '/nonexistent/kho-run']],
    [['--resume', '.', '--profile', 'smoke']],
    [['--cpu', '/nonexistent/cpu.json']],
    [['--fail-on-regression', '10']],
    [['--sweeps', '--skip-sweeps']],
    [['--processes', '0']],
  ])('rejects bad input %j with one line and exit code 2', (args) => {
    const r = bench(args);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^kho-bench: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('prints help', () => {
    const r = bench(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--profile');
    expect(r.stdout).toContain('--resume');
  });
});
