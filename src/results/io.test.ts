import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAtomic } from './io.ts';

describe('writeAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kho-io-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Yields `chunks`, noting the temporaries in `dir` while the write is under way. */
  function* watching(chunks: string[], seen: string[]): Generator<Uint8Array> {
    for (const c of chunks) {
      yield Buffer.from(c);
      seen.push(...readdirSync(dir).filter((n) => n.endsWith('.tmp')));
    }
  }

  it('writes strings, bytes and chunks and returns the byte count', () => {
    const file = join(dir, 'out.txt');
    expect(writeAtomic(file, 'héllo')).toBe(6);
    expect(writeAtomic(file, new Uint8Array([1, 2, 3]))).toBe(3);
    expect(writeAtomic(file, watching(['ab', 'cd'], []))).toBe(4);
    expect(readFileSync(file, 'utf8')).toBe('abcd');
    expect(readdirSync(dir)).toEqual(['out.txt']);
  });

  it('never writes through a symbolic link planted at the temporary name a pid predicts', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const planted = join(dir, `.fdt.dtb.${process.pid}.tmp`);
    symlinkSync(victim, planted);
    writeAtomic(join(dir, 'fdt.dtb'), 'new');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readlinkSync(planted)).toBe(victim);
    expect(readFileSync(join(dir, 'fdt.dtb'), 'utf8')).toBe('new');
  });

  it('uses a temporary name that cannot be predicted', () => {
    const seen: string[] = [];
    writeAtomic(join(dir, 'fdt.dtb'), watching(['a', 'b'], seen));
    writeAtomic(join(dir, 'fdt.dtb'), watching(['a', 'b'], seen));
    const names = [...new Set(seen)];
    expect(names).toHaveLength(2);
    for (const name of names) {
      expect(name).toMatch(/^\.fdt\.dtb\.[0-9a-f]{16}\.tmp$/);
      expect(name).not.toContain(String(process.pid));
    }
  });

  it('removes the temporary and keeps the old file when the write fails', () => {
    const file = join(dir, 'out.txt');
    writeFileSync(file, 'old');
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('disk on fire');
    }
    expect(() => writeAtomic(file, failing())).toThrow('disk on fire');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['out.txt']);
  });

  it('removes the temporary when the rename fails', () => {
    mkdirSync(join(dir, 'taken', 'inside'), { recursive: true });
    expect(() => writeAtomic(join(dir, 'taken'), 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
