import { describe, expect, it } from 'vitest';
import { isKhoError } from '../tracker/errors.ts';
import { KernelHeap } from './kernel-heap.ts';
import { Machine } from './machine.ts';
import { garbageWord, PAGE_SIZE, PhysMem } from './phys-mem.ts';

const TiB = 2 ** 40;

describe('PhysMem', () => {
  it('stores little-endian u32 and u64 words anywhere in a 52-bit space, costing host memory only when written', () => {
    const mem = new PhysMem([
      { start: 0, size: 2 ** 30 },
      { start: 2 ** 52 - (16 * TiB - 2 ** 30), size: 16 * TiB - 2 ** 30 },
    ]);
    expect(mem.size).toBe(16 * TiB);
    const top = 2 ** 52 - 8;
    expect(mem.load64(top)).toBe(0);
    expect(mem.backedBytes).toBe(0);
    mem.store64(top, 2 ** 52 - 4096);
    mem.store32(0x1004, 0xdeadbeef);
    expect(mem.load64(top)).toBe(2 ** 52 - 4096);
    expect(mem.load32(top)).toBe((2 ** 52 - 4096) % 2 ** 32);
    expect(mem.load32(0x1004)).toBe(0xdeadbeef);
    expect(mem.backedBytes).toBe(2 * PAGE_SIZE);
    const bytes = new Uint8Array(PAGE_SIZE);
    mem.readPage(1, bytes, 0);
    expect([...bytes.subarray(4, 8)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
  });

  it('rejects stores outside RAM and malformed banks', () => {
    const mem = PhysMem.ofSize(2 ** 30);
    expect(() => mem.store32(2 ** 30, 1)).toThrow(/outside RAM/);
    expect(() => new PhysMem([{ start: 0, size: 17 * TiB }])).toThrow(/16 TiB/);
    expect(() => new PhysMem([{ start: 0x800, size: 4096 }])).toThrow(/aligned/);
    expect(() => new PhysMem([{ start: 2 ** 52, size: 4096 }])).toThrow(/2\^52/);
  });

  it('in the next kernel, pages the image did not carry read as garbage, carried zero pages as zero', () => {
    const mem = PhysMem.ofSize(2 ** 30);
    mem.store32(0x2000, 7);
    const image = mem.image([1, 2]);
    expect([...image.pfns]).toEqual([2]);
    expect([...image.zeroPfns]).toEqual([1]);
    const next = PhysMem.fromImage(image);
    expect(next.load32(0x2000)).toBe(7);
    expect(next.load32(0x1000)).toBe(0);
    expect(next.load32(0x3000)).toBe(garbageWord(0x3000));
    expect(next.load32(0x3000)).not.toBe(0);
  });
});

describe('KernelHeap', () => {
  it('hands out zeroed pages from the top of RAM and accounts for them', () => {
    const machine = Machine.ofSize(2 ** 30);
    const heap = new KernelHeap(machine);
    const a = heap.allocPage();
    machine.mem.store32(a, 5);
    expect(a).toBe(2 ** 30 - PAGE_SIZE);
    heap.freePage(a);
    expect(heap.allocPage()).toBe(a);
    expect(machine.mem.load32(a)).toBe(0);
    expect(heap.stats).toMatchObject({ pages: 1, bytes: PAGE_SIZE, peakPages: 1, allocations: 2 });
    expect(heap.ownedPfns()).toEqual([a / PAGE_SIZE]);
  });

  it('packs slab objects as SLUB does: 7 nodes of 576 bytes, 32 bitmaps of 128 bytes per page', () => {
    const heap = new KernelHeap(Machine.ofSize(2 ** 30));
    for (let i = 0; i < 7; i++) heap.slab(576).alloc();
    expect(heap.stats.pages).toBe(1);
    heap.slab(576).alloc();
    expect(heap.stats.pages).toBe(2);
    for (let i = 0; i < 32; i++) heap.slab(128).alloc();
    expect(heap.stats).toMatchObject({ pages: 3, bytes: 8 * 576 + 32 * 128 });
  });

  it('keeps the accounts of two heaps on one machine apart', () => {
    const machine = Machine.ofSize(2 ** 30);
    const one = new KernelHeap(machine);
    const two = new KernelHeap(machine);
    one.allocPage();
    two.allocPages(3);
    expect(one.ownedPfns()).toHaveLength(1);
    expect(two.ownedPfns()).toHaveLength(3);
    expect(() => one.freePage(two.ownedPfns()[0] * PAGE_SIZE)).toThrow(/not held/);
  });

  it('fails the Nth allocation, or any beyond a page limit, with ENOMEM', () => {
    const heap = new KernelHeap(Machine.ofSize(2 ** 30));
    heap.injectFaults({ failNth: 3 });
    heap.allocPage();
    heap.slab(512).alloc();
    expect(() => heap.slab(512).alloc()).toThrow(expect.objectContaining({ errno: 'ENOMEM' }));
    heap.slab(512).alloc();
    heap.injectFaults({ pageLimit: 2 });
    expect(() => heap.allocPage()).toThrow(expect.objectContaining({ errno: 'ENOMEM' }));
    heap.injectFaults({});
    heap.allocPage();
    expect(heap.stats.pages).toBe(3);
  });

  it('runs out of memory when the heap region is exhausted', () => {
    const heap = new KernelHeap(Machine.ofSize(2 ** 30, 2 * PAGE_SIZE));
    heap.allocPage();
    heap.allocPage();
    let error: unknown;
    try {
      heap.allocPage();
    } catch (e) {
      error = e;
    }
    expect(isKhoError(error, 'ENOMEM')).toBe(true);
  });
});
