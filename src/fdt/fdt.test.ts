import { describe, expect, it } from 'vitest';
import { getString, getU64, readFdt, u64Prop, writeFdt } from './fdt.ts';

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
