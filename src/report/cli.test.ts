import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli.ts';
import { makeFixture } from './fixture.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'src', 'report', 'cli.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as `npm run report` does (tsx), in a child process. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, KHO_DEBUG: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
const small = { scenarios: ['vm-2m'], structures: ['xarray-6.19', 'radix'], sweeps: false };

async function write(name: string, content: unknown): Promise<string> {
  const runDir = path.join(dir, name);
  await mkdir(runDir, { recursive: true });
  const file = path.join(runDir, 'results.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kho-report-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** The same CLI in-process (run() is what the process entry point calls). */
async function inProcess(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('report CLI exit codes', () => {
  it('bad input exits 2 with one line on stderr (child processes)', async () => {
    const good = await write('good', makeFixture(small));
    const wrongVersion = await write('v1', { ...makeFixture(small), schemaVersion: 1 });
    const [missing, version, badFlag] = await Promise.all([cli(path.join(dir, 'missing.json')), cli(wrongVersion), cli(good, '--colour')]);
    expectOneLineError(missing, /^report: .*missing\.json: cannot read results file \(no such file\)$/);
    expectOneLineError(version, /results schema version 1 is not supported: this report reads schema version 2/);
    expectOneLineError(badFlag, /^report: Unknown option '--colour'/);
  });

  it('bad input exits 2 with one line on stderr (in-process)', async () => {
    const good = await write('good2', makeFixture(small));
    const truncated = await write('truncated', JSON.stringify(makeFixture(small)).slice(0, 200));
    const foreign = await write('foreign', { hello: 'world' });
    expectOneLineError(await inProcess(truncated), /invalid JSON, truncated or not a results file/);
    expectOneLineError(await inProcess(foreign), /not a kho-bench results file \(no "schemaVersion" field\)/);
    expectOneLineError(await inProcess(), /missing <results\.json>/);
    expectOneLineError(await inProcess(good, good), /expected one results file, got 2/);
    expectOneLineError(await inProcess(good, '--baseline', good, '--fail-on-regression', 'lots'), /--fail-on-regression needs a non-negative number of percent, got "lots"/);
    expectOneLineError(await inProcess(good, '--fail-on-regression', '5'), /--fail-on-regression needs --baseline/);
    expectOneLineError(await inProcess(good, '--baseline', path.join(dir, 'none.json')), /none\.json: cannot read results file/);
    expectOneLineError(await inProcess(good, '--baseline'), /^report: Option '--baseline <value>' argument missing/);
    expectOneLineError(await inProcess(good, '--threshold=-1'), /--threshold needs a non-negative number of percent, got "-1"/);
    expectOneLineError(await inProcess(good, '--links-base', 'structures/'), /--links-base needs an absolute http\(s\) URL, got "structures\/"/);
  });

  it('--help exits 0; a regression beyond the threshold exits 1 (child processes); within it, 0', async () => {
    const base = await write('base', makeFixture({ ...small, seed: 1 }));
    const same = await write('same', makeFixture({ ...small, seed: 1 }));
    const slow = await write('slow', makeFixture({ ...small, seed: 2, slowdown: { radix: 1.5 } }));
    const [help, regressed] = await Promise.all([
      cli('--help'),
      cli(slow, '--baseline', base, '--fail-on-regression', '10', '--no-interactive'),
    ]);
    const ok = await inProcess(same, '--baseline', base, '--fail-on-regression', '5', '--no-interactive');
    const tolerated = await inProcess(slow, '--baseline', base, '--fail-on-regression', '90%', '--no-interactive');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm run report -- <results.json>');

    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('no regression beyond 5%');

    expect(regressed.code).toBe(1);
    expect(regressed.stderr).toMatch(/^regression beyond 10% in \d+ metric\(s\):\n/);
    expect(regressed.stderr).toMatch(/ {2}vm-2m radix preserve_ns_per_folio: \+\d+(\.\d+)?% \[/);
    expect(regressed.stderr).not.toContain('xarray-6.19');
    expect(regressed.stdout).toMatch(/^report: .*report\.html \(\d+ charts\)$/m);
    expect(regressed.stdout).toMatch(/^also: .*summary\.md, .*decisions\.csv, .*benchmarks\.json, .*comparison\.csv$/m);

    expect(tolerated.code).toBe(0);
  });

  it('--threshold makes the decision table stricter or looser', async () => {
    const file = await write('threshold', makeFixture(small));
    expect((await inProcess(file, '--threshold', '0', '--no-interactive')).code).toBe(0);
    const csv = await readFile(path.join(path.dirname(file), 'decisions.csv'), 'utf8');
    expect(csv.split('\n')[1].split(',')[5]).toBe('0');
  });
});
