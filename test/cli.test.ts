/**
 * The inspection commands end to end, as a user runs them: dump a
 * hand-over for every structure, decode its FDT with dtc, restore it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { STRUCTURE_IDS } from '../src/tracker/tracker.ts';
import { runKho } from './harness.ts';

const run = promisify(execFile);
const ids = (process.env.KHO_STRUCTURES?.split(',') ?? STRUCTURE_IDS) as readonly string[];

const kho = runKho;

const OPS = [
  { op: 'preserve', phys: '0x1000', order: 0 },
  { op: 'preserve-range', phys: '0x3000', size: '0x25000' },
  { op: 'preserve', phys: '0x40000000', order: 18 },
  { op: 'preserve', phys: '0x8000000000000', order: 9 },
  { op: 'unpreserve', phys: '0x1000', order: 0 },
];
const EXPECTED = ['0x3000 0', '0x4000 2', '0x8000 3', '0x10000 4', '0x20000 3', '0x40000000 18', '0x8000000000000 9'];

async function opsFile(ops: unknown): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kho-cli-'));
  const path = join(dir, 'ops.json');
  await writeFile(path, typeof ops === 'string' ? ops : JSON.stringify(ops));
  return { dir, path };
}

describe.each(ids)('kho dump / restore: %s', (id) => {
  it('dumps a hand-over that dtc decodes and restore reads back', async () => {
    const { dir, path } = await opsFile(OPS);
    const out = join(dir, 'handover');
    const dumped = await kho('dump', '--structure', id, '--ops', path, '--ram', '8G@0,4G@0x8000000000000', '--out', out);
    expect(dumped).toMatchObject({ code: 0, stderr: '' });

    const machine = JSON.parse(await readFile(join(out, 'machine.json'), 'utf8'));
    expect(machine).toMatchObject({ structure: id, ram: '0x300000000' });

    const { stdout: dts } = await run('dtc', ['-I', 'dtb', '-O', 'dts', join(out, 'fdt.dtb')]);
    expect(dts).toMatch(/compatible = "kho-[\w-]+";/);
    // Every u64 address property is 8 raw bytes: dtc shows it as two 32-bit cells.
    for (const [, name] of dts.matchAll(/^\s*([\w-]+) = <0x[0-9a-f]+ 0x[0-9a-f]+>;$/gm)) expect(name).toMatch(/^preserved-/);
    expect(dts).toMatch(/preserved-[\w-]+ = <0x[0-9a-f]+ 0x[0-9a-f]+>;/);

    const img = await readFile(join(out, 'memory.img'));
    expect(img.length % 4104).toBe(0);

    const restored = await kho('restore', '--in', out);
    expect(restored.code).toBe(0);
    expect(restored.stdout.trim().split('\n')).toEqual(EXPECTED);
  });
});

describe('kho command errors', () => {
  it.each([
    ['unknown structure', ['dump', '--structure', 'btree', '--ops', 'OPS', '--out', 'OUT'], /unknown structure/],
    ['malformed JSON', ['dump', '--structure', 'flat-bitmap', '--ops', 'BAD', '--out', 'OUT'], /not valid JSON/],
    ['misaligned address', ['dump', '--structure', 'flat-bitmap', '--ops', 'MISALIGNED', '--out', 'OUT'], /EINVAL.*not aligned/],
    ['missing file', ['restore', '--in', '/nonexistent/kho'], /ENOENT/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['bad RAM size', ['dump', '--structure', 'flat-bitmap', '--ops', 'OPS', '--ram', 'lots', '--out', 'OUT'], /not a size/],
  ])('%s: one line on stderr, exit code 2', async (_, args, message) => {
    const good = await opsFile(OPS);
    const bad = await opsFile('[{"op": "preserve", "phys": ');
    const misaligned = await opsFile([{ op: 'preserve', phys: '0x1800', order: 0 }]);
    const subst = { OPS: good.path, BAD: bad.path, MISALIGNED: misaligned.path, OUT: join(good.dir, 'out') } as Record<string, string>;
    const result = await kho(...args.map((a) => subst[a] ?? a));
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
