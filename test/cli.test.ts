/**
 * The inspection commands end to end, as a user runs them: dump a
 * hand-over for every structure, decode its FDT with dtc, restore it; and
 * the promise for bad input: exit 2 and one line on stderr, never a stack
 * trace, never a hang, never a write outside --out, never a line of
 * folios from an image that turns out corrupted.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../bench/cli.ts';
import { UsageError, isExpectedFailure, oneLine } from '../src/cli/guard.ts';
import { prepareOutDir } from '../src/cli/out-dir.ts';
import { parseRam } from '../src/cli/sizes.ts';
import { writeFdt } from '../src/fdt/fdt.ts';
import { checkBanks, loadDump, writeDump } from '../src/kexec/dump.ts';
import { type Folio, handOver } from '../src/kexec/kexec.ts';
import { Machine } from '../src/ram/machine.ts';
import { MAX_ORDER, STRUCTURE_IDS, type StructureId } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';
import { ATTACKS, REFUSALS, buildAttack, seededRandom } from './corrupt.ts';
import { type CommandResult, GiB, LARGEST, SMALL, runKho, sampleHandover } from './harness.ts';

const run = promisify(execFile);
const ids = (process.env.KHO_STRUCTURES?.split(',') ?? STRUCTURE_IDS) as readonly StructureId[];

const kho = runKho;

const OPS = [
  { op: 'preserve', phys: '0x1000', order: 0 },
  { op: 'preserve-range', phys: '0x3000', size: '0x25000' },
  { op: 'preserve', phys: '0x40000000', order: 18 },
  { op: 'preserve', phys: '0x8000000000000', order: 9 },
  { op: 'unpreserve', phys: '0x1000', order: 0 },
];
const RAM = '8G@0,4G@0x8000000000000';

/**
 * OPS as the structure's kernel version allows them (RFC v1 has no order
 * above 9; 6.16..6.18 and RFC v1 no unpreserve), and the folios restored:
 * those, and KHO core's root FDT page.
 */
function supported(id: StructureId): { ops: typeof OPS; folios: Folio[] } {
  const spec = structureSpec(id);
  const top = spec.maxOrder ?? MAX_ORDER;
  const ops = OPS.filter((op) => op.op !== 'unpreserve' || spec.lifecycle.unpreserve).map((op) => (op.order === 18 ? { ...op, order: top } : op));
  const folios = [[0x3000, 0], [0x4000, 2], [0x8000, 3], [0x10000, 4], [0x20000, 3], [0x40000000, top], [2 ** 51, 9]].map(([phys, order]) => ({ phys, order }));
  if (!spec.lifecycle.unpreserve) folios.push({ phys: 0x1000, order: 0 });
  folios.push({ phys: spec.create(new Machine({ banks: parseRam(RAM) })).fdtPage, order: 0 });
  return { ops, folios };
}

/**
 * The order each walk reports folios in (the structures' READMEs): by
 * order, addresses ascending within one; the radix tree from order 18
 * down, the others from 0 up; the flat bitmap bank by bank.
 */
const byOrder = (sign: number) => (a: Folio, b: Folio) => sign * (a.order - b.order) || a.phys - b.phys;
const bankOf = (f: Folio) => (f.phys >= 2 ** 51 ? 1 : 0);
const WALK_ORDER: Partial<Record<StructureId, (a: Folio, b: Folio) => number>> = {
  radix: byOrder(-1),
  'flat-bitmap': (a, b) => bankOf(a) - bankOf(b) || byOrder(1)(a, b),
};
const line = (f: Folio) => `0x${f.phys.toString(16)} ${f.order}`;

async function opsFile(ops: unknown): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kho-cli-'));
  const path = join(dir, 'ops.json');
  await writeFile(path, typeof ops === 'string' ? ops : JSON.stringify(ops));
  return { dir, path };
}

describe.each(ids)('kho dump / restore: %s', (id) => {
  it('dumps a hand-over that dtc decodes and restore reads back in walk order', async () => {
    const { ops, folios } = supported(id);
    const { dir, path } = await opsFile(ops);
    const out = join(dir, 'handover');
    const dumped = await kho('dump', '--structure', id, '--ops', path, '--ram', RAM, '--out', out);
    expect(dumped).toMatchObject({ code: 0, stderr: '' });
    const written = ['fdt.dtb', 'memory.img', 'machine.json'].map((f) => `wrote ${join(out, f)} (${statSync(join(out, f)).size} bytes)`);
    expect(dumped.stdout.trim().split('\n')).toEqual(written);

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
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    expect(restored.stdout.trim().split('\n')).toEqual(folios.sort(WALK_ORDER[id] ?? byOrder(1)).map(line));
  });

  const spec = structureSpec(id);
  it.skipIf(spec.lifecycle.unpreserve)('refuses unpreserve as its kernel does: exit 2, one line, nothing written', async () => {
    const { dir, path } = await opsFile(OPS.filter((op) => op.order !== 18));
    expectOneLine(await kho('dump', '--structure', id, '--ops', path, '--ram', RAM, '--out', join(dir, 'out')), /operation 3 \(unpreserve 0x1000\): EOPNOTSUPP: .* has no unpreserve/);
    expect(readdirSync(dir)).toEqual(['ops.json']);
  });

  it.skipIf(spec.maxOrder === undefined)('refuses an order above its highest: exit 2, one line, nothing written', async () => {
    const { dir, path } = await opsFile(OPS.slice(0, 3));
    expectOneLine(await kho('dump', '--structure', id, '--ops', path, '--ram', RAM, '--out', join(dir, 'out')), /operation 2 \(preserve 0x40000000\): ERANGE: .*order 18/);
    expect(readdirSync(dir)).toEqual(['ops.json']);
  });

  it('counts a page preserved at two orders in one warning line, and exits 0', async () => {
    const { dir, path } = await opsFile('preserve 0x200000 9\npreserve 0x200000 0\npreserve 0x3ff000 0\npreserve 0x400000 0\n');
    const out = join(dir, 'out');
    expect((await kho('dump', '--structure', id, '--ops', path, '--out', out)).code).toBe(0);
    const restored = await kho('restore', '--in', out);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toBe('kho: warning: 2 folios overlap folios of another order\n');
    expect(restored.stdout).toMatch(/^0x200000 9$/m);
    expect(restored.stdout).toMatch(/^0x200000 0$/m);
    expect(restored.stdout.trim().split('\n')).toHaveLength(5);
  });
});

describe('kho command errors', () => {
  it.each([
    ['unknown structure', ['dump', '--structure', 'btree', '--ops', 'OPS', '--out', 'OUT'], /unknown structure/],
    ['malformed JSON', ['dump', '--structure', 'flat-bitmap', '--ops', 'BAD', '--out', 'OUT'], /not valid JSON/],
    ['misaligned address', ['dump', '--structure', 'flat-bitmap', '--ops', 'MISALIGNED', '--out', 'OUT'], /EINVAL.*not aligned/],
    ['missing folder', ['restore', '--in', '/nonexistent/kho'], /cannot read \/nonexistent\/kho: no such file or directory$/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['bad RAM size', ['dump', '--structure', 'flat-bitmap', '--ops', 'OPS', '--ram', 'lots', '--out', 'OUT'], /not a size/],
    ['negative RAM size', ['dump', '--structure', 'flat-bitmap', '--ops', 'OPS', '--ram', '-1', '--out', 'OUT'], /RAM size "-1" is not a size/],
    ['inherited structure name', ['dump', '--structure', '__proto__', '--ops', 'OPS', '--out', 'OUT'], /unknown structure "__proto__" \(known: flat-bitmap, /],
  ])('%s: one line on stderr, exit code 2', async (_, args, message) => {
    const good = await opsFile(OPS);
    const bad = await opsFile('[{"op": "preserve", "phys": ');
    const misaligned = await opsFile([{ op: 'preserve', phys: '0x1800', order: 0 }]);
    const out = join(good.dir, 'out');
    // A Map, not an object literal: "__proto__" must stay an argument.
    const subst = new Map([['OPS', good.path], ['BAD', bad.path], ['MISALIGNED', misaligned.path], ['OUT', out]]);
    expectOneLine(await kho(...args.map((a) => subst.get(a) ?? a)), message);
    expect(existsSync(out)).toBe(false);
  });
});

const root = mkdtempSync(join(tmpdir(), 'kho-cli-inputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const folder = () => mkdtempSync(join(root, `${folders++}-`));

/** A small, valid dump, written in-process: the refusal tests only vary one file of it. */
const goodDump = (() => {
  const dir = folder();
  const tracker = structureSpec('flat-bitmap').create(new Machine({ banks: [{ start: 0, size: 8 * GiB }] }));
  tracker.preserve(0x1000, 0);
  writeDump(dir, handOver(tracker));
  return dir;
})();

/** A copy of the good dump with `name` replaced by whatever `plant` puts at its path. */
function variant(name: string, plant: (path: string) => void): string {
  const dir = folder();
  cpSync(goodDump, dir, { recursive: true });
  rmSync(join(dir, name));
  plant(join(dir, name));
  return dir;
}

const fifo = (path: string) => execFileSync('mkfifo', [path]);
/** memory.img records of the given page frames, each page all ones. */
const records = (pfns: number[]) =>
  Buffer.concat(pfns.map((pfn) => Buffer.concat([Buffer.from(new BigUint64Array([BigInt(pfn)]).buffer), Buffer.alloc(4096, 0xff)])));
/** The good dump's FDT with its header's version (and last compatible version) set to `version`. */
const fdtVersion = (version: number) => {
  const fdt = new Uint8Array(readFileSync(join(goodDump, 'fdt.dtb')));
  new DataView(fdt.buffer).setUint32(20, version);
  new DataView(fdt.buffer).setUint32(24, Math.min(version, 16));
  return fdt;
};
const machineJson = (banks: { start: number; size: number }[]) => (path: string) => {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const ram = banks.reduce((s, b) => s + b.size, 0);
  writeFileSync(path, JSON.stringify({ structure: 'flat-bitmap', ram: hex(ram), banks: banks.map((b) => ({ start: hex(b.start), size: hex(b.size) })) }));
};

/** The one line the CLI would print for loadDump's failure, which must come within a second. */
async function refusal(dir: string): Promise<string> {
  const started = Date.now();
  const error = await loadDump(dir).then(
    () => new Error('accepted'),
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(1000);
  expect(isExpectedFailure(error), String(error)).toBe(true);
  return oneLine(error);
}

/** Runs kho, killed after `ms`: a hang fails the test instead of stalling the suite. */
function khoWithin(ms: number, ...args: string[]): Promise<CommandResult & { killed: boolean }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/kho.ts', ...args], { timeout: ms }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, killed: error?.killed ?? false });
    });
  });
}

function expectOneLine(result: CommandResult, message: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr.trim()).toMatch(message);
}

describe('kho restore: only small regular files inside the dump folder', () => {
  const FILES = ['machine.json', 'fdt.dtb', 'memory.img'];

  it('reads the good dump', async () => {
    expect((await loadDump(goodDump)).mem.backedBytes).toBeGreaterThan(0);
  });

  it.each(FILES)('refuses a named pipe as %s at once', async (name) => {
    expect(await refusal(variant(name, fifo))).toMatch(new RegExp(`${name} is a named pipe, not a regular file$`));
  }, 5000);

  it.each(FILES.flatMap((name) => ['/dev/zero', '/dev/urandom'].map((target) => [name, target])))('refuses %s linked to %s', async (name, target) => {
    const dir = variant(name, (path) => symlinkSync(target, path));
    expect(await refusal(dir)).toBe(`${join(dir, name)} is a symbolic link that leads out of ${dir}`);
  });

  it('follows a symbolic link that stays inside the folder', async () => {
    const dir = variant('fdt.dtb', (path) => {
      cpSync(join(goodDump, 'fdt.dtb'), join(path, '..', 'real.dtb'));
      symlinkSync('real.dtb', path);
    });
    expect((await loadDump(dir)).fdt).toEqual(new Uint8Array(readFileSync(join(goodDump, 'fdt.dtb'))));
  });

  it.each([
    ['fdt.dtb over one page', 'fdt.dtb', (path: string) => writeFileSync(path, new Uint8Array(4097)), /fdt\.dtb is 4097 bytes, over the limit of 4096 \(the KHO root FDT is one page\)$/],
    ['machine.json over 64 KiB', 'machine.json', (path: string) => writeFileSync(path, `{${' '.repeat(65536)}}`), /machine\.json is 65538 bytes, over the limit of 65536/],
    ['a 3 GB sparse memory.img', 'memory.img', (path: string) => (writeFileSync(path, ''), truncateSync(path, 3e9)), /memory\.img is 3000000000 bytes, not a whole number of 4104-byte records$/],
    ['memory.img over 2^20 records', 'memory.img', (path: string) => (writeFileSync(path, ''), truncateSync(path, (2 ** 20 + 1) * 4104)), /memory\.img is 4303360008 bytes, over the limit of 4303355904/],
    ['a 600 MB sparse machine.json', 'machine.json', (path: string) => (writeFileSync(path, ''), truncateSync(path, 6e8)), /machine\.json is 600000000 bytes, over the limit of 65536 \(128 banks fit in far less\)$/],
    ['machine.json with 300,000 banks', 'machine.json', machineJson(Array.from({ length: 300_000 }, (_, i) => ({ start: i * 8192, size: 4096 }))), /machine\.json is \d+ bytes, over the limit of 65536/],
    ['memory.img with page frames out of order', 'memory.img', (path: string) => writeFileSync(path, records([5, 4])), /memory\.img: page frames are not ascending at record 1$/],
    ['memory.img with the same page twice', 'memory.img', (path: string) => writeFileSync(path, records([5, 5])), /memory\.img: page frames are not ascending at record 1$/],
    ['memory.img with a page outside RAM', 'memory.img', (path: string) => writeFileSync(path, records([2 ** 21])), /memory\.img holds page 0x200000000 outside RAM$/],
    ['fdt.dtb of version 16', 'fdt.dtb', (path: string) => writeFileSync(path, fdtVersion(16)), null],
    ['machine.json that is not UTF-8', 'machine.json', (path: string) => writeFileSync(path, new Uint8Array([0x7b, 0xff, 0x7d])), /machine\.json is not UTF-8 text$/],
  ])('refuses %s', async (_, name, plant, message) => {
    const dir = variant(name, plant);
    // An FDT is only parsed by the restore: run it whole.
    if (message === null) expectOneLine(await kho('restore', '--in', dir), /ENOEXEC: malformed FDT: version 16 is older than 17$/);
    else expect(await refusal(dir)).toMatch(message);
  });

  it('refuses a regular file as --in', async () => {
    const file = join(folder(), 'file');
    writeFileSync(file, 'x');
    expectOneLine(await kho('restore', '--in', file), new RegExp(`cannot read ${file}/machine\\.json: not a directory$`));
  });

  const T = 2 ** 40;
  it.each([
    ['a bank listed twice', [{ start: 0, size: 8 * GiB }, { start: 0, size: 8 * GiB }], /RAM bank 0x0\+0x200000000 is listed twice$/],
    ['overlapping banks', [{ start: 0, size: 8 * GiB }, { start: 4 * GiB, size: 8 * GiB }], /RAM bank 0x100000000\+0x200000000 overlaps RAM bank 0x0\+0x200000000$/],
    ['an unaligned bank', [{ start: 0x800, size: 8 * GiB }], /RAM bank 0x800\+0x200000000 is not page aligned$/],
    ['an empty bank', [{ start: 0, size: 8 * GiB }, { start: T, size: 0 }], /RAM bank 0x10000000000\+0x0 is empty$/],
    ['a bank past 2^52', [{ start: 0, size: 8 * GiB }, { start: 2 ** 52 - 4096, size: 8192 }], /ends above 2\^52$/],
    ['more than 16 TiB', [{ start: 0, size: 16 * T }, { start: 2 ** 51, size: 4096 }], /0x100000001000 bytes of RAM, more than 16 TiB$/],
    ['129 banks', Array.from({ length: 129 }, (_, i) => ({ start: i * 8 * GiB, size: 4096 })), /129 RAM banks, more than the 128 memblock starts with$/],
  ])('refuses machine.json with %s', async (_, banks, message) => {
    const dir = variant('machine.json', machineJson(banks));
    expect(await refusal(dir)).toMatch(new RegExp(`^${join(dir, 'machine.json')}: .*${message.source}`));
  });

  it('looks structures up by own property only', () => {
    for (const id of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) expect(() => structureSpec(id)).toThrow(`unknown structure "${id}"`);
  });

  it('checks --ram banks the same way', () => {
    expect(() => checkBanks(parseRam('8G@0,4G@4G'), '--ram')).toThrow(/^--ram: RAM bank 0x100000000\+0x100000000 overlaps/);
  });

  it('refuses a named pipe as fdt.dtb end to end: exit 2 and one line, no hang', async () => {
    const result = await khoWithin(20_000, 'restore', '--in', variant('fdt.dtb', fifo));
    expect(result.killed).toBe(false);
    expectOneLine(result, /fdt\.dtb is a named pipe, not a regular file$/);
  });

  it('refuses a named pipe as --ops end to end', async () => {
    const dir = folder();
    fifo(join(dir, 'ops.json'));
    const result = await khoWithin(20_000, 'dump', '--structure', 'radix', '--ops', join(dir, 'ops.json'), '--out', join(dir, 'out'));
    expect(result.killed).toBe(false);
    expectOneLine(result, /ops\.json is a named pipe, not a regular file$/);
    expect(readdirSync(dir)).toEqual(['ops.json']);
  });

  it('shows a hostile compatible string escaped and cut short', async () => {
    const compatible = `\x1b[2J\x07\x00${'A'.repeat(1000)}`;
    const dir = variant('fdt.dtb', (path) => writeFileSync(path, writeFdt({ name: '', props: { compatible } })));
    const result = await kho('restore', '--in', dir);
    expectOneLine(result, /FDT compatible "\\x1b\[2J\\x07\\x00A+"…, expected "kho-flat-bitmap-v1"$/);
    expect(result.stderr.trim()).not.toMatch(/[\x00-\x1f]/);
    expect(result.stderr.length).toBeLessThan(160);
  });
});

describe('kho restore refuses a crafted image before it prints a line', () => {
  // The flat bitmap of 16 TiB is a 1 GiB dump: README's robustness section has it, by hand.
  it.each([
    ['radix', '16 TiB', 'dag', 'shared children low down'],
    ['radix-rfc', '16 TiB', 'dag', 'shared child at the top'],
    ['ida', '16 TiB', 'dag', 'shared child at the top'],
    ['xarray-6.18', '16 TiB', 'duplicate', 'count raised'],
    ['xarray-6.16', '16 TiB', 'duplicate', 'object copied'],
    ['radix', '16 TiB', 'flood', 'all-ones bitmaps everywhere'],
    ['flat-bitmap', '7 GiB', 'flood', 'descriptor u64 changed'],
    ['flat-bitmap', '7 GiB', 'duplicate', 'bank listed twice'],
    ['ida', '16 TiB', 'pointer', 'uncarried page'],
    ['xarray-6.19', '16 TiB', 'pointer', 'address 0'],
  ] as const)('%s on %s, %s/%s: exit 2, one line, no folio', async (id, ram, cls, name) => {
    const built = buildAttack(id, sampleHandover(id, ram === '16 TiB' ? LARGEST : SMALL).handover, ATTACKS[cls][name], seededRandom(1))!;
    const dir = folder();
    writeDump(dir, built.handover);
    const result = await khoWithin(30_000, 'restore', '--in', dir);
    expect(result.killed).toBe(false);
    expectOneLine(result, /^kho: ECORRUPT: /);
    const message = result.stderr.trim().replace(/^kho: ECORRUPT: /, '');
    expect(built.refusals.some((r) => REFUSALS[r].test(message)), message).toBe(true);
    expect(result.stdout).toBe('');
  });
});

describe('kho restore output', () => {
  it('stops with one line when its reader goes away', async () => {
    // 20 000 folios: lines enough to fill the pipe several times over.
    const dir = folder();
    writeFileSync(join(dir, 'ops'), Array.from({ length: 20_000 }, (_, i) => `preserve 0x${(i * 2 ** 21).toString(16)} 0\n`).join(''));
    expect((await kho('dump', '--structure', 'radix', '--ops', join(dir, 'ops'), '--out', join(dir, 'out'))).code).toBe(0);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/kho.ts', 'restore', '--in', join(dir, 'out')]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toBe('kho: cannot write standard output: broken pipe\n');
  });
});

describe('kho dump --out: a new or empty folder, checked before any work', () => {
  it.each([
    ['an existing file', (dir: string) => join(dir, 'file'), /exists and is not a folder$/],
    ['/dev/null', () => '/dev/null', /output folder \/dev\/null exists and is not a folder$/],
    ['a folder under /proc', () => '/proc/kho-out', /output folder \/proc\/kho-out is on procfs, a view of the kernel, not storage$/],
  ])('refuses %s: exit 2, one line, nothing written', async (_, outOf, message) => {
    const dir = folder();
    const ops = join(dir, 'ops.json');
    writeFileSync(ops, JSON.stringify(OPS));
    writeFileSync(join(dir, 'file'), 'keep');
    const out = outOf(dir);
    const result = await kho('dump', '--structure', 'flat-bitmap', '--ops', ops, '--out', out);
    expectOneLine(result, message);
    expect(result.stdout).toBe('');
    expect(readdirSync(dir).sort()).toEqual(['file', 'ops.json']);
    expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('keep');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(existsSync('/proc/kho-out') || existsSync('/sys/kho-out')).toBe(false);
  });

  it.each([
    ['a folder under /sys', () => '/sys/kho-out', /^output folder \/sys\/kho-out is on sysfs, a view of the kernel, not storage$/],
    ['a folder whose parent is missing', (dir: string) => join(dir, 'no', 'such'), /cannot be created: .*\/no does not exist$/],
    ['a folder under a file', (dir: string) => join(dir, 'file', 'out'), /cannot be created: .*\/file is not a folder$/],
    ['a folder that is not empty', (dir: string) => dir, /is a folder that is not empty$/],
  ])('refuses %s', (_, outOf, message) => {
    const dir = folder();
    writeFileSync(join(dir, 'file'), 'keep');
    expect(() => prepareOutDir(outOf(dir))).toThrow(UsageError);
    expect(() => prepareOutDir(outOf(dir))).toThrow(message);
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('creates only the last component, when asked to', () => {
    const dir = folder();
    const out = prepareOutDir(join(dir, 'run'));
    expect(existsSync(out.path)).toBe(false);
    out.create();
    expect(statSync(out.path).isDirectory()).toBe(true);
    out.create();
  });

  it('refuses a symbolic link to a folder: exit 2, one line, nothing written through it', async () => {
    const dir = folder();
    const ops = join(dir, 'ops.json');
    writeFileSync(ops, JSON.stringify(OPS));
    mkdirSync(join(dir, 'target'));
    symlinkSync('target', join(dir, 'link'));
    expectOneLine(await kho('dump', '--structure', 'radix', '--ops', ops, '--out', join(dir, 'link')), /is a symbolic link; name the folder itself$/);
    expect(readdirSync(join(dir, 'target'))).toEqual([]);
  });

  it('accepts an existing run with allowExistingRun, but never a symbolic link', () => {
    const dir = folder();
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'run', 'results.json'), '{}');
    expect(prepareOutDir(join(dir, 'run'), { allowExistingRun: true }).path).toBe(join(dir, 'run'));
    symlinkSync('run', join(dir, 'link'));
    expect(() => prepareOutDir(join(dir, 'link'), { allowExistingRun: true })).toThrow(/is a symbolic link; name the folder itself$/);
  });
});

describe('numbers on the command line say what is expected', () => {
  it.each([
    [['--seed', '-1'], /^--seed must be an integer from 0 to 4294967295, got "-1"$/],
    [['--jobs', '-3'], /^--jobs must be an integer from 1 to 64, got "-3"$/],
    [['--seed', '1.5'], /^--seed must be an integer/],
  ])('npm run bench -- %j', (args, message) => {
    expect(() => parseBenchArgs(args)).toThrow(UsageError);
    expect(() => parseBenchArgs(args)).toThrow(message);
  });
});
