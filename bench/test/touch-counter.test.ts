import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/ram/machine.ts';
import { PhysMem } from '../../src/ram/phys-mem.ts';
import { TouchCounter, TracedPhysMem } from '../../src/ram/traced-mem.ts';
import { planBatches } from '../../src/measure/replay.ts';

describe('touch counter', () => {
  it('sees every word method a walk can call (nothing falls through untraced)', () => {
    const own = (proto: object) => Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor');
    const hot = ['base', 'follow', 'followAddress', 'ld', 'st', 'ld64', 'st64', 'atomicOr', 'atomicAnd', 'atomicCas', 'zeroPage'];
    expect(own(PhysMem.prototype)).toEqual(expect.arrayContaining(hot));
    const traced = new Set(own(TracedPhysMem.prototype));
    expect(hot.filter((n) => !traced.has(n))).toEqual([]);
  });

  it('counts distinct pages and 64-byte lines per operation', () => {
    const counter = new TouchCounter();
    const mem = new TracedPhysMem([{ start: 0, size: 2 ** 30 }], counter);
    counter.begin();
    mem.store32(0x1000, 1);
    mem.store32(0x1004, 2);
    mem.load32(0x1040);
    mem.load64(0x5000);
    expect(counter.pages).toBe(2);
    expect(counter.lines).toBe(3);
    expect(mem.load32(0x1004)).toBe(2);
    counter.end();
    counter.begin();
    mem.zeroPage(0x9);
    expect(counter.pages).toBe(1);
    expect(counter.lines).toBe(64);
    counter.end();
    expect(counter.totalPages).toBe(3);
    expect(counter.totalLines).toBe(67);
    expect(counter.operations).toBe(2);
  });

  it('builds a machine over the traced memory', () => {
    const counter = new TouchCounter();
    const m = new Machine({ banks: [{ start: 0, size: 2 ** 30 }], mem: TracedPhysMem.factory(counter) });
    expect(m.mem).toBeInstanceOf(TracedPhysMem);
    counter.begin();
    const pa = m.pages.alloc(m.pages.newOwner());
    m.mem.store64(pa, 42);
    expect(m.mem.load64(pa)).toBe(42);
    expect(counter.pages).toBe(1);
    expect(m.mem.backedBytes).toBe(4096);
  });
});

describe('batches', () => {
  it('cut phases into fixed-size batches, merging a short tail', () => {
    const a = new Float64Array(1000);
    const b = new Float64Array(1000);
    const batches = planBatches([{ kind: 'preserve', a, b }], { preserve: 256, unpreserve: 64 });
    expect(batches.map((x) => x.folios)).toEqual([256, 256, 256, 232]);
    const tail = planBatches([{ kind: 'unpreserve', a: a.subarray(0, 140), b }], { preserve: 256, unpreserve: 64 });
    expect(tail.map((x) => x.folios)).toEqual([64, 76]);
    expect(tail.every((x) => !x.preserve)).toBe(true);
  });

  it('cut range phases at whole calls with at least a batch of folios', () => {
    const folios = Uint32Array.from([5, 5, 5, 5, 5, 1]);
    const a = new Float64Array(6);
    const batches = planBatches([{ kind: 'range', a, b: a, folios }], { preserve: 8, unpreserve: 8 });
    expect(batches.map((x) => [x.from, x.to, x.folios])).toEqual([
      [0, 2, 10],
      [2, 4, 10],
      [4, 6, 6],
    ]);
  });
});
