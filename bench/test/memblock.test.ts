import { describe, expect, it } from 'vitest';
import { MEMBLOCK_INIT_REGIONS, MemblockTable } from '../../src/kexec/memblock.ts';

const P = 4096;

describe('memblock-like reserved table', () => {
  it('merges touching neighbours into one region when appending', () => {
    const t = new MemblockTable();
    for (let i = 0; i < 1000; i++) t.add(i * P, 0);
    expect(t.regions()).toEqual([[0, 1000 * P]]);
    const s = t.stats();
    expect(s).toMatchObject({ reserves: 1000, regions: 1, outOfOrder: 0, moved: 0, merged: 999, bytes: 1000 * P });
  });

  it('keeps gaps as separate regions, sorted', () => {
    const t = new MemblockTable();
    t.reserve(10 * P, P);
    t.reserve(20 * P, 2 * P);
    t.reserve(30 * P, P);
    expect(t.regions()).toEqual([
      [10 * P, P],
      [20 * P, 2 * P],
      [30 * P, P],
    ]);
  });

  it('pays for out-of-order inserts by shifting later regions', () => {
    const t = new MemblockTable();
    for (let i = 10; i > 0; i--) t.reserve(i * 10 * P, P);
    const s = t.stats();
    expect(s.regions).toBe(10);
    expect(s.outOfOrder).toBe(9);
    // The k-th insert (k = 1..9) lands in front of k regions.
    expect(s.moved).toBe(45);
    const bases = t.regions().map(([b]) => b);
    expect(bases).toEqual([...bases].sort((a, b) => a - b));
  });

  it('merges an out-of-order insert with the region before, after, or both', () => {
    const t = new MemblockTable();
    t.reserve(0, P);
    t.reserve(4 * P, P);
    t.reserve(8 * P, P);
    t.reserve(1 * P, P); // touches the first
    expect(t.regions()).toEqual([
      [0, 2 * P],
      [4 * P, P],
      [8 * P, P],
    ]);
    t.reserve(3 * P, P); // touches the second from below
    expect(t.regions()).toEqual([
      [0, 2 * P],
      [3 * P, 2 * P],
      [8 * P, P],
    ]);
    t.reserve(2 * P, P); // fills the gap: the first two become one
    expect(t.regions()).toEqual([
      [0, 5 * P],
      [8 * P, P],
    ]);
    expect(t.stats().bytes).toBe(6 * P);
  });

  it('absorbs overlapping ranges and swallows every region a range spans', () => {
    const t = new MemblockTable();
    for (let i = 1; i <= 5; i++) t.reserve(i * 10 * P, P);
    t.reserve(5 * P, 60 * P);
    expect(t.regions()).toEqual([[5 * P, 60 * P]]);
    t.reserve(10 * P, P); // inside: nothing changes
    expect(t.regions()).toEqual([[5 * P, 60 * P]]);
  });

  it('doubles its array past the initial size, and reset returns to it', () => {
    const t = new MemblockTable();
    const n = MEMBLOCK_INIT_REGIONS * 4 + 1;
    for (let i = 0; i < n; i++) t.reserve(i * 2 * P, P);
    expect(t.stats().regions).toBe(n);
    expect(t.stats().doublings).toBe(3);
    expect(t.isReserved(2 * P * 7, P)).toBe(true);
    expect(t.isReserved(2 * P * 7 + P, P)).toBe(false);
    t.reset();
    expect(t.stats()).toMatchObject({ regions: 0, doublings: 0, reserves: 0 });
    t.add(0, 9);
    expect(t.regions()).toEqual([[0, 512 * P]]);
  });

  it('ends with the same regions whatever the insert order', () => {
    const folios: [number, number][] = [];
    for (let i = 0; i < 300; i++) folios.push([(i * 37 % 300) * 8 * P, i % 4]);
    const inOrder = new MemblockTable();
    for (const [pa, o] of [...folios].sort((a, b) => a[0] - b[0])) inOrder.add(pa, o);
    const shuffled = new MemblockTable();
    for (const [pa, o] of folios) shuffled.add(pa, o);
    expect(shuffled.regions()).toEqual(inOrder.regions());
    expect(shuffled.stats().outOfOrder).toBeGreaterThan(0);
    expect(inOrder.stats().outOfOrder).toBe(0);
  });
});
