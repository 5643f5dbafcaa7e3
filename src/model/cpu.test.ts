/**
 * CPU files: the default one is valid and survives a round trip through a
 * file; a malformed one is rejected with one line naming the file and the
 * first bad field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CPU, ModelError } from './cpu.ts';
import { CpuParamsSchema, loadCpu } from './cpu-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'kho-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function rejection(file: string): ModelError {
  try {
    loadCpu(file);
  } catch (e) {
    if (e instanceof ModelError) return e;
    throw e;
  }
  throw new Error('loadCpu accepted a malformed file');
}

describe('loadCpu', () => {
  it('accepts DEFAULT_CPU written to a temp file and reads back the same parameters', () => {
    const file = write('default.json', JSON.stringify(DEFAULT_CPU, null, 2));
    expect(loadCpu(file)).toEqual(DEFAULT_CPU);
  });

  it('the default CPU names its sources and what it assumed', () => {
    expect(CpuParamsSchema.parse(DEFAULT_CPU)).toEqual(DEFAULT_CPU);
    expect(DEFAULT_CPU.name).toMatch(/EPYC 9654/);
    expect(DEFAULT_CPU.sources.length).toBeGreaterThanOrEqual(3);
    expect(DEFAULT_CPU.assumed.some((a) => a.startsWith('dram.latencyNs'))).toBe(true);
  });

  it('rejects a field of the wrong type with one line naming the file and the field', () => {
    const bad = { ...DEFAULT_CPU, l1d: { ...DEFAULT_CPU.l1d, ways: 'eight' } };
    const file = write('bad-type.json', JSON.stringify(bad, null, 2));
    const e = rejection(file);
    expect(e.message).not.toContain('\n');
    expect(e.message.startsWith(`${file}: l1d.ways: `)).toBe(true);
  });

  it('rejects a cache whose set count is not a power of two', () => {
    const bad = { ...DEFAULT_CPU, l1d: { ...DEFAULT_CPU.l1d, sizeBytes: 48 * 1024 } };
    const e = rejection(write('bad-sets.json', JSON.stringify(bad)));
    expect(e.message).toMatch(/: l1d\.sizeBytes: .*power of two$/);
    expect(e.message).not.toContain('\n');
  });

  it('rejects unknown fields, missing fields and a broken JSON text, each in one line', () => {
    const extra = rejection(write('extra.json', JSON.stringify({ ...DEFAULT_CPU, l4: {} })));
    expect(extra.message).toContain('extra.json: (root): ');
    const { mlp: _mlp, ...rest } = DEFAULT_CPU;
    const missing = rejection(write('missing.json', JSON.stringify(rest)));
    expect(missing.message).toContain('missing.json: mlp: ');
    const broken = rejection(write('broken.json', '{"name": "x",\n  "l1d": '));
    expect(broken.message).toContain('broken.json: cannot read CPU file: ');
    const absent = rejection(join(dir, 'absent.json'));
    expect(absent.message).toContain('absent.json: cannot read CPU file: ');
    for (const e of [extra, missing, broken, absent]) expect(e.message).not.toContain('\n');
  });
});
