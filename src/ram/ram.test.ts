import { describe, expect, it } from 'vitest';
import { isKhoError } from '../tracker/errors.ts';
import { KernelHeap } from './kernel-heap.ts';
import { Machine } from './machine.ts';
import { garbageWord, PAGE_SIZE, PhysMem } from './phys-mem.ts';
import { TouchCounter, TracedPhysMem, TracerFanout } from './traced-mem.ts';
import { MachineModel } from '../model/model.ts';
import { DEFAULT_CPU } from '../model/cpu.ts';

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

describe('PhysMem.copyWords (memmove)', () => {
  /** The same memmove done word by word, in the direction that never overwrites a word still to be moved. */
  function wordByWord(mem: PhysMem, dst: number, src: number, n: number): void {
    if (dst > src) for (let k = n - 1; k >= 0; k--) mem.st(dst + k, mem.ld(src + k));
    else for (let k = 0; k < n; k++) mem.st(dst + k, mem.ld(src + k));
  }

  /** Two memories with the same words in two pages, one observed by a touch counter and a model. */
  function pair() {
    const make = () => {
      const counter = new TouchCounter();
      const model = new MachineModel(DEFAULT_CPU);
      const mem = new TracedPhysMem([{ start: 0, size: 2 ** 24 }], new TracerFanout([counter, model]));
      const a = mem.wbase(0x5000);
      const b = mem.wbase(0x9000);
      for (let k = 0; k < 1024; k++) {
        mem.st(a + k, (k * 2654435761) | 0);
        mem.st(b + k, ~k);
      }
      return { mem, counter, model, a, b };
    };
    return [make(), make()] as const;
  }

  it.each([
    ['up by one u64 (make room)', 0x5000, 2, 0, 510],
    ['down by one u64 (close a gap)', 0x5000, 0, 2, 510],
    ['up by three words, unaligned', 0x5000, 7, 4, 333],
    ['to another page', 0x9000, 10, 20, 600],
  ])('moves the bytes a word-by-word copy moves and reaches the same lines and pages: %s', (_what, dstPage, dstOff, srcOff, n) => {
    const [bulk, words] = pair();
    for (const m of [bulk, words]) {
      m.counter.begin();
      m.model.beginOp();
    }
    const dst = (m: typeof bulk) => (dstPage === 0x5000 ? m.a : m.b) + dstOff;
    bulk.mem.copyWords(dst(bulk), bulk.a + srcOff, n);
    wordByWord(words.mem, dst(words), words.a + srcOff, n);
    const costs = [bulk, words].map((m) => {
      m.counter.end();
      return m.model.endOp();
    });
    for (const page of [bulk.a, bulk.b]) expect([...bulk.mem.words.subarray(page, page + 1024)]).toEqual([...words.mem.words.subarray(page, page + 1024)]);
    expect(bulk.counter.pages).toBe(words.counter.pages);
    expect(bulk.counter.lines).toBe(words.counter.lines);
    // The model sees the same lines come from the same levels; only the L1 hits on lines just touched are left out.
    expect([costs[0].hits.l2, costs[0].hits.llc, costs[0].hits.dram]).toEqual([costs[1].hits.l2, costs[1].hits.llc, costs[1].hits.dram]);
    expect(costs[0].hits.l1).toBeLessThan(costs[1].hits.l1);
    // As the kernel's memmove: 8 bytes a move, each move a load and a store.
    expect(costs[0].instructions).toBeLessThan(costs[1].instructions);
  });
});
