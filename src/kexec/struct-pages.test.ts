/**
 * The struct-page work of the next kernel per restored folio, against
 * kernel/liveupdate/kexec_handover.c (kho_preserved_memory_reserve,
 * kho_get_preserved_page) and mm/mm_init.c (init_deferred_page,
 * __init_single_page).
 */
import { describe, expect, it } from 'vitest';
import { type MemTracer, TouchCounter, TracedPhysMem, TracerFanout } from '../ram/traced-mem.ts';
import { PhysMem } from '../ram/phys-mem.ts';
import { type AluKind, DEFAULT_CPU } from '../model/cpu.ts';
import { MachineModel, type OpCost } from '../model/model.ts';
import { NextKernel, type NextKernelOptions } from './next-kernel.ts';
import {
  KHO_PAGE_MAGIC,
  PAGE_FLAGS,
  PAGE_INDEX,
  PAGE_LRU_NEXT,
  PAGE_LRU_PREV,
  PAGE_MAPCOUNT,
  PAGE_MAPPING,
  PAGE_MEMCG,
  PAGE_PRIVATE,
  PAGE_REFCOUNT,
  STRUCT_PAGE_BYTES,
  USEMAP_BASE,
  VMEMMAP_BASE,
  structPageLayout,
} from './struct-pages.ts';

const P = 4096;
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const RAM = [{ start: 0, size: 256 * GiB }];

/** Counts the accesses that land in the true vmemmap and usemap, and the distinct vmemmap lines. */
class VmemmapCounter implements MemTracer {
  stores = 0;
  storeBytes = 0;
  loads = 0;
  atomics = 0;
  usemapAtomics = 0;
  readonly lines = new Set<number>();
  readonly usemapBytes = new Set<number>();
  private inVmemmap(pa: number): boolean {
    return pa >= VMEMMAP_BASE;
  }
  load(pa: number): void {
    if (this.inVmemmap(pa)) this.loads++;
  }
  store(pa: number, bytes: number): void {
    if (!this.inVmemmap(pa)) return;
    this.stores++;
    this.storeBytes += bytes;
    // Every line the access covers (a bulk store covers many).
    for (let l = Math.floor((pa - VMEMMAP_BASE) / 64); l <= Math.floor((pa + bytes - 1 - VMEMMAP_BASE) / 64); l++) this.lines.add(l);
  }
  atomic(pa: number): void {
    if (this.inVmemmap(pa)) this.atomics++;
    if (pa >= USEMAP_BASE && pa < VMEMMAP_BASE) {
      this.usemapAtomics++;
      this.usemapBytes.add(pa);
    }
  }
  deref(): void {}
}

function u64([lo, hi]: [number, number]): number {
  return hi * 2 ** 32 + lo;
}

describe('the head struct page (kho_preserved_memory_reserve)', () => {
  it('6.18+: page->private = KHO_PAGE_MAGIC << 32 | order', () => {
    const k = new NextKernel(RAM, { deferredInit: false });
    k.add(8 * GiB, 9);
    k.add(8 * GiB + 512 * P, 0);
    expect(k.structPages.field((8 * GiB) / P, PAGE_PRIVATE)).toEqual([9, KHO_PAGE_MAGIC]);
    expect(k.structPages.field((8 * GiB) / P + 512, PAGE_PRIVATE)).toEqual([0, KHO_PAGE_MAGIC]);
    // Without deferred init nothing else of the struct page is written.
    expect(k.structPages.field((8 * GiB) / P, PAGE_FLAGS)).toEqual([0, 0]);
    expect(k.structPages.field((8 * GiB) / P + 1, PAGE_PRIVATE)).toEqual([0, 0]);
  });

  it('6.16, 6.17: the order alone', () => {
    const k = new NextKernel(RAM, { deferredInit: false, magic: false });
    k.add(8 * GiB, 18);
    expect(k.structPages.field((8 * GiB) / P, PAGE_PRIVATE)).toEqual([18, 0]);
    expect(k.check(Float64Array.of(8 * GiB, 18))).toBeUndefined();
  });

  it('is one u64 store at VMEMMAP_BASE + 64 pfn + 40', () => {
    const stores: [number, number][] = [];
    const tracer: MemTracer = { load() {}, store: (pa, b) => void (pa >= VMEMMAP_BASE && stores.push([pa, b])), atomic() {}, deref() {} };
    const k = new NextKernel(RAM, { deferredInit: false, tracer });
    k.structPages.add(200 * GiB, 9);
    expect(stores).toEqual([[VMEMMAP_BASE + ((200 * GiB) / P) * 64 + PAGE_PRIVATE, 8]]);
  });
});

describe('kernels on one memory (memoryOf)', () => {
  const list = Float64Array.of(8 * GiB, 9, 8 * GiB + 512 * P, 0, 40 * GiB, 2, 3 * GiB, 0);
  const run = (k: NextKernel) => {
    k.reset();
    k.runList(list);
    return { stats: k.stats(), check: k.check(list), head: k.structPages.field((40 * GiB) / P, PAGE_PRIVATE) };
  };

  it('each reset before its run, they do what kernels of their own memory do, and back no host page of their own', () => {
    const eager = new NextKernel(RAM, { deferredInit: false });
    const deferred = new NextKernel(RAM, { deferredInit: true, structPageCap: 2, memoryOf: eager });
    const alone = { eager: run(new NextKernel(RAM, { deferredInit: false })), deferred: run(new NextKernel(RAM, { deferredInit: true, structPageCap: 2 })) };
    expect(deferred.mem).toBe(eager.mem);
    for (let i = 0; i < 2; i++) {
      expect(run(deferred)).toEqual(alone.deferred);
      expect(run(eager)).toEqual(alone.eager);
    }
    expect(alone.eager.check).toBeUndefined();
    expect(alone.deferred.check).toBeUndefined();
  });

  it('refuses a kernel of another window or tracer', () => {
    const eager = new NextKernel(RAM, { deferredInit: false });
    expect(() => new NextKernel(RAM, { window: 2 * 64 * MiB, memoryOf: eager })).toThrow(/same vmemmap window/);
    expect(() => new NextKernel(RAM, { tracer: new TouchCounter(), memoryOf: eager })).toThrow(/same tracer/);
  });
});

describe('deferred struct page init (init_deferred_page on every struct page)', () => {
  it('writes 2^order struct pages of 64 bytes: 13 stores each, then the head (per word)', () => {
    const c = new VmemmapCounter();
    const k = new NextKernel(RAM, { deferredInit: true, tracer: c, perWord: true });
    k.structPages.add(4 * GiB, 9);
    // mm_zero_struct_page (8 u64), flags, _refcount, _mapcount, lru.next, lru.prev: 13 stores, 88 bytes over 64.
    expect(c.stores).toBe(512 * 13 + 1);
    expect(c.storeBytes).toBe(512 * (64 + 8 + 4 + 4 + 8 + 8) + 8);
    expect(c.lines.size).toBe(512);
    expect(c.loads).toBe(0);
    // One pageblock (512 pages) set to MIGRATE_MOVABLE.
    expect(c.usemapAtomics).toBe(1);
    expect(k.stats()).toMatchObject({ structPagesInit: 512, structPageBytes: 512 * STRUCT_PAGE_BYTES, pageblockInits: 1, headStores: 1 });
  });

  it('initialises each struct page as __init_single_page does', () => {
    const k = new NextKernel(RAM, { deferredInit: true });
    const pfn = (8 * GiB) / P;
    k.structPages.add(8 * GiB, 2);
    for (let i = 0; i < 4; i++) {
      const f = (field: number) => u64(k.structPages.field(pfn + i, field));
      // ZONE_NORMAL (2) at bit 51, node 0, last_cpupid all ones (21 bits at bit 30).
      expect(f(PAGE_FLAGS)).toBe(2 * 2 ** 51 + (2 ** 21 - 1) * 2 ** 30);
      expect(k.structPages.field(pfn + i, PAGE_MAPCOUNT)).toEqual([0xffffffff, 1]);
      const self = VMEMMAP_BASE + (pfn + i) * 64 + PAGE_LRU_NEXT;
      expect([f(PAGE_LRU_NEXT), f(PAGE_LRU_PREV)]).toEqual([self, self]);
      expect([f(PAGE_MAPPING), f(PAGE_INDEX), f(PAGE_MEMCG)]).toEqual([0, 0, 0]);
      expect(f(PAGE_PRIVATE)).toBe(i === 0 ? KHO_PAGE_MAGIC * 2 ** 32 + 2 : 0);
    }
  });

  it('looks the zone up per struct page: DMA32 below 4 GiB, NORMAL above', () => {
    const k = new NextKernel(RAM, { deferredInit: true });
    k.structPages.add(1 * GiB, 0);
    expect(Math.floor(u64(k.structPages.field(GiB / P, PAGE_FLAGS)) / 2 ** 51)).toBe(1);
    k.structPages.add(4 * GiB, 0);
    expect(Math.floor(u64(k.structPages.field((4 * GiB) / P, PAGE_FLAGS)) / 2 ** 51)).toBe(2);
  });

  it('skips struct pages below first_deferred_pfn (initialised by memmap_init already)', () => {
    const k = new NextKernel(RAM, { deferredInit: true, firstDeferredPfn: (4 * GiB) / P + 100 });
    k.add(4 * GiB, 9);
    expect(k.stats()).toMatchObject({ structPagesInit: 412, structPagesEarly: 100 });
    expect(k.check(Float64Array.of(4 * GiB, 9))).toBeUndefined();
  });

  it('a 1 GiB folio: 262144 struct pages, 16 MiB written at their true addresses, in a 1 MiB window', () => {
    const c = new VmemmapCounter();
    const k = new NextKernel(RAM, { deferredInit: true, window: MiB, tracer: c });
    k.add(16 * GiB, 18);
    expect(k.stats()).toMatchObject({ structPagesInit: 262144, structPageBytes: 16 * MiB, pageblockInits: 512 });
    expect(c.lines.size).toBe(262144);
    expect(c.usemapBytes.size).toBe(512 / 4); // 8 bits per pageblock, reported per 4-byte word
    // Host memory: the 1 MiB window, one usemap page, the data pages and one region array page.
    expect(k.hostBytes).toBeLessThanOrEqual(MiB + 16 * P);
    expect(k.check(Float64Array.of(16 * GiB, 18))).toBeUndefined();
  });

  it('100k order-9 folios (200 GiB, 51M struct pages) stay within the window', () => {
    const n = 100_000;
    const list = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      list[2 * i] = 4 * GiB + i * 2 * MiB;
      list[2 * i + 1] = 9;
    }
    for (const deferredInit of [false, true]) {
      const k = new NextKernel([{ start: 0, size: 256 * GiB }], { deferredInit, window: 4 * MiB });
      k.runList(list);
      expect(k.stats()).toMatchObject({ headStores: n, structPagesInit: deferredInit ? n * 512 : 0, regions: 1 });
      expect(k.hostBytes).toBeLessThanOrEqual(4 * MiB + 16 * P);
      expect(k.check(list)).toBeUndefined();
    }
  });
});

describe('check of the struct pages', () => {
  it('accounts for struct pages that share window bytes', () => {
    // Window 64 KiB: 1024 pfns; the head of a folio 4 MiB further up shares the first's bytes.
    const k = new NextKernel(RAM, { deferredInit: false, window: 64 * 1024 });
    const list = Float64Array.of(8 * GiB, 0, 8 * GiB + 4 * MiB, 1);
    k.runList(list);
    expect(k.structPages.field((8 * GiB) / P, PAGE_PRIVATE)).toEqual([1, KHO_PAGE_MAGIC]);
    expect(k.check(list)).toBeUndefined();
  });

  it('finds a head page that lacks its order', () => {
    const k = new NextKernel(RAM, { deferredInit: true });
    const list = Float64Array.of(8 * GiB, 9, 10 * GiB, 3);
    k.memblockOnly(list);
    k.structPages.add(8 * GiB, 9);
    expect(k.check(list)).toMatch(/head struct page of the folio at 0x280000000 holds private 0x0, not 0x4b484f5000000003/);
  });

  it('finds a struct page deferred init did not reach', () => {
    const k = new NextKernel(RAM, { deferredInit: true });
    const list = Float64Array.of(8 * GiB, 9);
    k.memblockOnly(list);
    k.structPages.setHead(8 * GiB, 9);
    expect(k.check(list)).toMatch(/struct page of pfn 0x200000 has flags 0x0/);
  });
});

describe('the next kernel as a FolioSink', () => {
  it('does memblock and struct pages per folio; the parts add up to the whole', () => {
    const list = Float64Array.of(8 * GiB, 9, 4 * GiB, 0, 8 * GiB + 2 * MiB, 9, 32 * GiB, 18);
    const whole = new NextKernel(RAM);
    whole.runList(list);
    const parts = new NextKernel(RAM);
    parts.memblockOnly(list);
    parts.structPagesOnly(list);
    expect(parts.stats()).toEqual(whole.stats());
    expect(whole.check(list)).toBeUndefined();
    expect(parts.check(list)).toBeUndefined();
    expect(whole.memblock.regions()).toEqual([
      [4 * GiB, P],
      [8 * GiB, 4 * MiB],
      [32 * GiB, GiB],
    ]);
  });

  it('reset is a fresh boot', () => {
    const k = new NextKernel(RAM);
    const list = Float64Array.of(8 * GiB, 9, 4 * GiB, 0);
    k.runList(list);
    k.reset();
    expect(k.stats()).toMatchObject({ regions: 0, reserves: 0, headStores: 0, structPagesInit: 0, scanned: 0 });
    expect(k.structPages.field((8 * GiB) / P, PAGE_PRIVATE)).toEqual([0, 0]);
    expect(k.structPages.field((8 * GiB) / P, PAGE_FLAGS)).toEqual([0, 0]);
    k.runList(list);
    expect(k.check(list)).toBeUndefined();
  });

  it('takes the RAM of the memory it is given, and its tracer when it is observed', () => {
    const k = new NextKernel(new PhysMem([{ start: 0, size: 8 * GiB }]));
    k.add(6 * GiB, 0);
    expect(k.check(Float64Array.of(6 * GiB, 0))).toBeUndefined();
    expect(() => new NextKernel([{ start: 2 ** 52 - 2 ** 44, size: GiB }])).toThrow(/reaches the next kernel's scratch area/);
    const c = new VmemmapCounter();
    const observed = new NextKernel(new TracedPhysMem([{ start: 0, size: 8 * GiB }], c), { deferredInit: false });
    observed.add(6 * GiB, 0);
    expect(c.stores).toBe(1);
  });
});

/** Where pfn's struct page sits in the next kernel's memory (its window bytes). */
function vmemmapStoreOf(k: NextKernel, pfn: number): number {
  const window = k.structPages.window;
  return structPageLayout(window).vmemmapStore + ((pfn * STRUCT_PAGE_BYTES) % window);
}

/** Every backed page of the next kernel's memory, by page frame: what a run wrote, wherever its host slots are. */
function pagesOf(k: NextKernel): Map<number, string> {
  const out = new Map<number, string>();
  const buf = new Uint8Array(P);
  for (const pfn of k.mem.backedPfns()) {
    k.mem.readPage(pfn, buf, 0);
    out.set(pfn, Buffer.from(buf).toString('base64'));
  }
  return out;
}

/** Folios that exercise every decision of a run: zone edges (DMA at 16 MiB, DMA32 at 4 GiB), orders 0..18, out of order. */
function mixedList(): Float64Array {
  return Float64Array.of(
    0, 14, // 64 MiB from 0: DMA, then DMA32 (a run ends at pfn 4096)
    8 * GiB, 9,
    4 * GiB - 64 * P, 7, // ends right at 4 GiB
    4 * GiB + 8 * P, 3, // starts inside a vmemmap page
    6 * GiB + 5 * P, 0,
    16 * MiB - 16 * P, 4, // ends right at 16 MiB
    32 * GiB, 12,
    8 * GiB + 2 * MiB, 9, // merges with the order-9 folio above
    2 * GiB + 512 * P, 10,
  );
}

/** Records the lines every access reaches, the first time each is reached, and counts the events. */
class LineOrder implements MemTracer {
  readonly first: number[] = [];
  private readonly seen = new Set<number>();
  events = 0;
  private touch(pa: number, bytes: number): void {
    this.events++;
    for (let l = Math.floor(pa / 64); l <= Math.floor((pa + bytes - 1) / 64); l++) {
      if (!this.seen.has(l)) {
        this.seen.add(l);
        this.first.push(l);
      }
    }
  }
  load(pa: number, bytes: number): void {
    this.touch(pa, bytes);
  }
  store(pa: number, bytes: number): void {
    this.touch(pa, bytes);
  }
  atomic(pa: number, bytes: number): void {
    this.touch(pa, bytes);
  }
  deref(): void {
    this.events++;
  }
}

/** A MachineModel as a tracer (it takes alu() too), counting the events it is sent. */
function modelTracer(model: MachineModel): MemTracer & { events: number } {
  const t = {
    events: 0,
    cpu: model.cpu,
    load: (pa: number, b: number) => void (t.events++, model.load(pa, b)),
    store: (pa: number, b: number) => void (t.events++, model.store(pa, b)),
    atomic: (pa: number, b: number) => void (t.events++, model.atomic(pa, b)),
    deref: () => void (t.events++, model.deref()),
    alu: (kind: AluKind, n: number) => model.alu(kind, n),
  };
  return t;
}

/** The model's cost of `run` on a next kernel (perWord or not) from cold caches, as one op; and the events it took. */
function modelled(perWord: boolean, options: NextKernelOptions, run: (k: NextKernel, model: MachineModel) => void): { cost: OpCost; events: number } {
  const model = new MachineModel(DEFAULT_CPU);
  const tracer = modelTracer(model);
  const k = new NextKernel(RAM, { ...options, tracer, perWord });
  model.flush();
  model.beginOp();
  run(k, model);
  return { cost: model.endOp(), events: tracer.events };
}

describe('the timed path writes what the word-by-word reference writes', () => {
  const cases: [string, readonly { start: number; size: number }[], NextKernelOptions][] = [
    ['256 GiB from 0', RAM, {}],
    ['first_deferred_pfn inside folios', RAM, { firstDeferredPfn: (8 * GiB) / P + 100 }],
    ['a 64 KiB window (folios wrap around it)', RAM, { window: 64 * 1024 }],
    ['RAM starting off a vmemmap page (pfn 259), a folio partly below it', [{ start: MiB + 3 * P, size: 64 * GiB }], {}],
    ['a cap of 100 struct pages', RAM, { structPageCap: 100 }],
    ['6.17 (no magic)', RAM, { magic: false }],
  ];
  for (const [name, ram, options] of cases) {
    it(name, () => {
      const list = name.includes('below') ? Float64Array.of(MiB, 3, 4 * GiB, 9, 2 * MiB, 12) : mixedList();
      const fast = new NextKernel(ram, options);
      const word = new NextKernel(ram, { ...options, perWord: true });
      // Observed too: the bulk events change nothing written.
      const traced = new NextKernel(ram, { ...options, tracer: new LineOrder() });
      for (const k of [fast, word, traced]) k.runList(list);
      expect(fast.stats()).toEqual(word.stats());
      expect(traced.stats()).toEqual(word.stats());
      const want = pagesOf(word);
      expect(pagesOf(fast)).toEqual(want);
      expect(pagesOf(traced)).toEqual(want);
      expect(fast.check(list)).toBeUndefined();
    });
  }

  it('a zone edge or first_deferred_pfn inside a vmemmap page splits the run, not the result', () => {
    const ram = [{ start: MiB + 3 * P, size: 64 * GiB }];
    const k = new NextKernel(ram, { firstDeferredPfn: 300 });
    k.add(MiB, 8); // pfns 256..511: below RAM (3: no zone), early (below 300), then ZONE_DMA
    expect(k.stats()).toMatchObject({ structPagesEarly: 300 - 256, structPagesInit: 512 - 300 });
    const zone = (pfn: number) => Math.floor(u64(k.structPages.field(pfn, PAGE_FLAGS)) / 2 ** 51);
    expect(k.structPages.field(299, PAGE_FLAGS)).toEqual([0, 0]);
    expect(zone(300)).toBe(0);
    const below = new NextKernel(ram);
    below.add(MiB, 3); // pfns 256..263: 256..258 lie in no zone (zid MAX_NR_ZONES), 259.. in ZONE_DMA
    expect([256, 258, 259, 263].map((pfn) => Math.floor(u64(below.structPages.field(pfn, PAGE_FLAGS)) / 2 ** 51))).toEqual([5, 5, 0, 0]);
  });
});

describe('structPageCap: deferred init on a bounded sample', () => {
  it('initialises the first min(2^order, cap) struct pages of each folio, counts the rest, stamps every head', () => {
    // Struct pages 4 GiB of RAM apart share window bytes: these share none.
    const list = Float64Array.of(8 * GiB + 6 * MiB, 9, 17 * GiB, 18, 6 * GiB + 2 * MiB, 3);
    const k = new NextKernel(RAM, { structPageCap: 64 });
    k.runList(list);
    expect(k.stats()).toMatchObject({
      structPagesInit: 64 + 64 + 8,
      structPagesSkipped: 512 - 64 + 262144 - 64,
      structPageBytes: (64 + 64 + 8) * 64,
      headStores: 3,
      pageblockInits: 3, // at each folio's head (all three are pageblock-aligned); the rest of the 1 GiB folio's are left out
    });
    const s = k.stats();
    expect(s.structPagesInit + s.structPagesSkipped).toBe(512 + 262144 + 8);
    const pfn = (8 * GiB + 6 * MiB) / P;
    expect(k.structPages.field(pfn + 63, PAGE_MAPCOUNT)).toEqual([0xffffffff, 1]);
    // The struct pages the cap left out hold no bytes.
    expect(k.structPages.field(pfn + 64, PAGE_FLAGS)).toEqual([0, 0]);
    expect(k.structPages.field(pfn + 511, PAGE_MAPCOUNT)).toEqual([0, 0]);
    expect(k.structPages.field(pfn, PAGE_PRIVATE)).toEqual([9, KHO_PAGE_MAGIC]);
    expect(k.check(list)).toBeUndefined();
    // The last struct page the cap let through is still checked.
    k.mem.store32(vmemmapStoreOf(k, pfn + 63) + PAGE_REFCOUNT, 0);
    expect(k.check(list)).toMatch(/struct page of pfn 0x20063f has _mapcount -1 and _refcount 0/);
  });

  it('a cap of 1 initialises the head alone; without deferred init the cap does nothing', () => {
    const list = Float64Array.of(8 * GiB, 9);
    const one = new NextKernel(RAM, { structPageCap: 1 });
    one.runList(list);
    expect(one.stats()).toMatchObject({ structPagesInit: 1, structPagesSkipped: 511, pageblockInits: 1 });
    expect(one.check(list)).toBeUndefined();
    const eager = new NextKernel(RAM, { deferredInit: false, structPageCap: 1 });
    eager.runList(list);
    expect(eager.stats()).toMatchObject({ structPagesInit: 0, structPagesSkipped: 0, headStores: 1 });
  });

  it('is a positive integer', () => {
    for (const cap of [0, -1, 1.5, NaN]) expect(() => new NextKernel(RAM, { structPageCap: cap })).toThrow(/structPageCap must be a positive integer/);
  });
});

describe('bulk events in the traced path', () => {
  it('a 1 GiB folio: O(4096) events (one run per vmemmap page), 262144 lines, 16 MiB', () => {
    const c = new VmemmapCounter();
    const order = new LineOrder();
    const k = new NextKernel(RAM, { window: MiB, tracer: new TracerFanout([c, order]) });
    k.structPages.initFolio(16 * GiB, 18);
    // Per vmemmap page: 6 load lines, a store, 6 again, a store (and a pageblock's 2 events and one more segment every 8 pages).
    expect(order.events).toBeGreaterThanOrEqual(4096);
    expect(order.events).toBeLessThanOrEqual(16 * 4096);
    expect(order.events).toBeLessThan((262144 * 16) / 50);
    expect(c.lines.size).toBe(262144);
    expect(c.storeBytes).toBe(16 * MiB);
    expect(c.usemapAtomics).toBe(512);
    k.structPages.setHead(16 * GiB, 18);
    expect(k.structPages.check(Float64Array.of(16 * GiB, 18))).toBeUndefined();
  });

  it('reaches the same lines in the same order as the word-by-word trace, memblock included', () => {
    const list = mixedList();
    const traces = [true, false].map((perWord) => {
      const order = new LineOrder();
      const touch = new TouchCounter();
      const k = new NextKernel(RAM, { tracer: new TracerFanout([order, touch]), perWord, window: 4 * MiB });
      touch.begin();
      k.runList(list);
      touch.end();
      return { order, pages: touch.pages, lines: touch.lines };
    });
    const [word, bulk] = traces;
    expect(bulk.order.first).toEqual(word.order.first);
    expect([bulk.pages, bulk.lines]).toEqual([word.pages, word.lines]);
    expect(bulk.order.events * 20).toBeLessThan(word.order.events);
  });

  it("512 struct pages: the model's figures are the word-by-word trace's (but its count of L1 hits)", () => {
    const run = (k: NextKernel) => k.structPagesOnly(Float64Array.of(8 * GiB, 9));
    const word = modelled(true, {}, run);
    const bulk = modelled(false, {}, run);
    expect(bulk.events * 50).toBeLessThan(word.events);
    const { hits: wh, ...w } = word.cost;
    const { hits: bh, ...b } = bulk.cost;
    expect(b).toEqual(w);
    expect([bh.l2, bh.llc, bh.dram]).toEqual([wh.l2, wh.llc, wh.dram]);
    // The L1 hits the bulk events leave out are charged as their instructions, not counted as hits.
    expect(bh.l1).toBeLessThan(wh.l1 / 10);
  });

  it('memblock alone: the same lines, misses and instructions; fewer loads waiting for a store miss', () => {
    const n = 400;
    const list = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      list[2 * i] = 8 * GiB + ((i * 389) % n) * 8 * P;
      list[2 * i + 1] = i % 2;
    }
    const run = (k: NextKernel) => k.memblockOnly(list);
    const word = modelled(true, {}, run).cost;
    const bulk = modelled(false, {}, run).cost;
    expect(bulk.instructions).toBe(word.instructions);
    expect([bulk.hits.l2, bulk.hits.llc, bulk.hits.dram, bulk.prefetches, bulk.tlbMisses]).toEqual([word.hits.l2, word.hits.llc, word.hits.dram, word.prefetches, word.tlbMisses]);
    // One step (memblock makes no dependent load or atomic): a line whose store missed stays pending in the model for the
    // whole step, and each load event of it waits; the scan's bulk events are one load per line where the kernel's
    // loop makes five or six.
    expect(bulk.pathCycles).toBeLessThan(word.pathCycles);
    expect(bulk.aluCycles).toBe(word.aluCycles);
  });

  it("a restore's per-folio work with the walk's steps between folios: within 1% of the word-by-word trace", () => {
    const n = 300;
    const list = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      list[2 * i] = 8 * GiB + ((i * 37) % n) * 4 * MiB + (i % 3) * 2 * MiB;
      list[2 * i + 1] = 9 - (i % 4);
    }
    for (const options of [{ deferredInit: false }, { structPageCap: 64 }, {}] as NextKernelOptions[]) {
      const run = (k: NextKernel, model: MachineModel) => {
        for (let i = 0; i < list.length; i += 2) {
          // What the walk does between two folios: a dependent load of its metadata.
          model.deref();
          model.load(2 ** 40 + i * 64, 8);
          k.add(list[i], list[i + 1]);
        }
      };
      const word = modelled(true, options, run).cost;
      const bulk = modelled(false, options, run).cost;
      expect(Math.abs(bulk.ns / word.ns - 1)).toBeLessThan(0.01);
      expect(bulk.instructions).toBe(word.instructions);
      expect([bulk.hits.llc, bulk.hits.dram, bulk.tlbMisses, bulk.chain, bulk.atomics]).toEqual([word.hits.llc, word.hits.dram, word.tlbMisses, word.chain, word.atomics]);
      // memmove's bulk events go line by line where the word-by-word copy goes region by region:
      // a region that straddles two lines reaches them in another order, which moves a few L2 hits and prefetches.
      expect(Math.abs(bulk.hits.l2 / word.hits.l2 - 1)).toBeLessThan(0.01);
      expect(Math.abs(bulk.prefetches / word.prefetches - 1)).toBeLessThan(0.01);
    }
  });
});
