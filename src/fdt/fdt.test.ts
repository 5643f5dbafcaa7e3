import { describe, expect, it } from 'vitest';
import { expectCompatible, getString, getU64, quoteImageBytes, readFdt, u64Prop, writeFdt } from './fdt.ts';

describe('FDT', () => {
  const blob = writeFdt({
    name: '',
    props: { compatible: 'kho-v1', 'preserved-memory-map': u64Prop(2 ** 52 - 4096) },
    children: [{ name: 'client', props: { 'preserved-data': u64Prop(0x1000) } }],
  });

  it('round-trips nodes, strings and native little-endian u64 properties', () => {
    const root = readFdt(blob);
    expect(getString(root, 'compatible')).toBe('kho-v1');
    expect(getU64(root, 'preserved-memory-map')).toBe(2 ** 52 - 4096);
    expect([...root.props.get('preserved-memory-map')!]).toEqual([0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    expect(getU64(root.children[0], 'preserved-data')).toBe(0x1000);
  });

  it('writes a version 17 DTB header', () => {
    const view = new DataView(blob.buffer);
    expect(view.getUint32(0)).toBe(0xd00dfeed);
    expect(view.getUint32(4)).toBe(blob.length);
    expect(view.getUint32(20)).toBe(17);
  });

  it('rejects u64 properties that are not exactly 8 bytes', () => {
    const root = readFdt(writeFdt({ name: '', props: { 'preserved-memory-map': new Uint8Array(4) } }));
    expect(() => getU64(root, 'preserved-memory-map')).toThrow(/4 bytes, not 8/);
  });

  it('turns every truncation of a valid blob into ENOEXEC, never a RangeError', () => {
    for (let len = 0; len < blob.length; len++) {
      expect(() => readFdt(blob.subarray(0, len))).toThrow(expect.objectContaining({ errno: 'ENOEXEC' }));
    }
  });
});

describe('FDT reader, where libfdt decides', () => {
  const withHeader = (blob: Uint8Array, word: number, value: number): Uint8Array => {
    const copy = blob.slice();
    new DataView(copy.buffer).setUint32(word * 4, value);
    return copy;
  };
  const base = writeFdt({ name: '', props: { compatible: 'first', other: 'second' }, children: [{ name: 'child', props: { x: 'y' } }] });
  const VERSION = 5;
  const LAST_COMP = 6;

  it('keeps the first of two properties with one name, as fdt_getprop does', () => {
    // After the header and reservation map (56): the root's token and name (8), the first property (20), the second's token and length.
    const nameoffAt = 56 + 8 + 20 + 8;
    expect(new DataView(base.buffer).getUint32(nameoffAt)).toBe(11);
    const root = readFdt(withHeader(base, nameoffAt / 4, 0));
    expect(getString(root, 'compatible')).toBe('first');
    expect(root.props.has('other')).toBe(false);
  });

  it.each([
    ['version and last compatible 0xffffffff', [VERSION, 0xffffffff, LAST_COMP, 0xffffffff], /version 4294967295 .* not supported/],
    ['last compatible version 18', [LAST_COMP, 18], /last compatible 18\) is not supported/],
    ['version below its last compatible version', [VERSION, 17, LAST_COMP, 17, VERSION, 16], /version 16 \(last compatible 17\)/],
    ['version 1', [VERSION, 1], /version 1 .* not supported/],
    ['version 16, which has no structure block size', [VERSION, 16], /version 16 is older than 17/],
    ['totalsize below the header', [1, 39], /totalsize 39 is not a possible size/],
    ['totalsize above INT_MAX', [1, 2 ** 31], /totalsize 2147483648 is not a possible size/],
    ['the reservation map inside the header', [4, 8], /reservation map outside/],
    ['the structure block inside the header', [2, 0], /structure block outside/],
    ['the strings block past totalsize', [8, 0xffffffff], /strings block outside/],
  ] as const)('refuses %s', (_, edits, message) => {
    let blob = base;
    for (let i = 0; i < edits.length; i += 2) blob = withHeader(blob, edits[i], edits[i + 1]);
    expect(() => readFdt(blob)).toThrow(expect.objectContaining({ errno: 'ENOEXEC', message: expect.stringMatching(message) }));
  });

  it('reads a later version whose last compatible version is 16, as libfdt does', () => {
    expect(getString(readFdt(withHeader(base, VERSION, 0xffffffff)), 'compatible')).toBe('first');
  });

  it('reads a structure block that starts at an unaligned offset', () => {
    const view = new DataView(base.buffer);
    const structOff = view.getUint32(8);
    const shifted = new Uint8Array(base.length + 1);
    shifted.set(base.subarray(0, structOff));
    shifted.set(base.subarray(structOff), structOff + 1);
    const edit = new DataView(shifted.buffer);
    for (const word of [1, 2, 3]) edit.setUint32(word * 4, view.getUint32(word * 4) + 1);
    expect(getString(readFdt(shifted).children[0], 'x')).toBe('y');
  });

  it('steps over a node name by its bytes, not its decoded length', () => {
    const blob = writeFdt({ name: '', props: {}, children: [{ name: 'ab', props: { x: 'y' } }] });
    const at = Buffer.from(blob).indexOf('ab\0');
    blob[at + 1] = 0xff;
    const child = readFdt(blob).children[0];
    expect(child.name).toBe('a\ufffd');
    expect(getString(child, 'x')).toBe('y');
  });
});

describe('quoting image bytes', () => {
  it('escapes control bytes, quotes and backslashes', () => {
    expect(quoteImageBytes(new Uint8Array([0x1b, 0x5b, 0x07, 0x00, 0x22, 0x5c, 0x41, 0xff]))).toBe('"\\x1b[\\x07\\x00\\"\\\\A\\xff"');
  });

  it('cuts at 64 characters with an ellipsis', () => {
    expect(quoteImageBytes('A'.repeat(64))).toBe(`"${'A'.repeat(64)}"`);
    expect(quoteImageBytes('A'.repeat(65))).toBe(`"${'A'.repeat(64)}"…`);
    expect(quoteImageBytes('\x1b'.repeat(100))).toBe(`"${'\\x1b'.repeat(16)}"…`);
  });

  it('is what expectCompatible shows of a hostile compatible string', () => {
    const root = readFdt(writeFdt({ name: '', props: { compatible: `\x1b[2J\x07${'x'.repeat(5000)}` } }));
    let message = '';
    try {
      expectCompatible(root, 'kho-v1');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^ENOEXEC: FDT compatible "\\x1b\[2J\\x07x+"…, expected "kho-v1"$/);
    expect(message).not.toMatch(/[\x00-\x1f]/);
    expect(message.length).toBeLessThan(120);
  });
});
