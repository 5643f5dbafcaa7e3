/**
 * memblock.reserved as mm/memblock.c changes it. Every expected value here
 * is worked out by hand from the kernel's algorithms (memblock_add_range,
 * memblock_isolate_range, memblock_merge_regions, memblock_double_array),
 * as the comments show, not read back from the implementation.
 */
import { describe, expect, it } from 'vitest';
import {
  MEMBLOCK_INIT_REGIONS,
  MEMBLOCK_NONE,
  MEMBLOCK_REGION_BYTES,
  MEMBLOCK_RSRV_KERN,
  MEMBLOCK_RSRV_NOINIT,
  MEMBLOCK_STATIC_PA,
  MemblockTable,
  NEXT_KERNEL_SCRATCH_BASE,
  NEXT_KERNEL_SCRATCH_SIZE,
  NUMA_NO_NODE,
  memblockBanks,
} from '../../src/kexec/memblock.ts';
import { TracedPhysMem } from '../../src/ram/traced-mem.ts';
import { Rng } from '../rng.ts';

const P = 4096;
const N = MEMBLOCK_NONE;
const NOINIT = MEMBLOCK_RSRV_NOINIT;
const SCRATCH_TOP = NEXT_KERNEL_SCRATCH_BASE + NEXT_KERNEL_SCRATCH_SIZE;

function regions(t: MemblockTable): [base: number, size: number, flags: number][] {
  return t.regionList().map((r) => [r.base, r.size, r.flags]);
}

function folios(pairs: readonly (readonly [number, number])[]): Float64Array {
  return Float64Array.from(pairs.flat());
}

describe('memblock_reserve (memblock_add_range)', () => {
  it('merges a reserve with a touching region of equal flags, on either side', () => {
    const up = new MemblockTable();
    up.reserve(0, P); // the empty-array special case: no scan
    up.reserve(P, P); // scans region 0 (ends at P <= base: skip), appends at 1, merges 0 and 1
    expect(regions(up)).toEqual([[0, 2 * P, N]]);
    expect(up.stats()).toMatchObject({ regions: 1, merged: 1, moved: 0, scanned: 1, bytes: 2 * P, totalSize: 2 * P });

    const down = new MemblockTable();
    down.reserve(P, P);
    down.reserve(0, P); // region 0 starts at P >= end: stop; insert at 0 (moves 1), merge 0 and 1 (moves 0)
    expect(regions(down)).toEqual([[0, 2 * P, N]]);
    expect(down.stats()).toMatchObject({ regions: 1, merged: 1, moved: 1, scanned: 1, outOfOrder: 1 });
  });

  it('does not merge touching regions whose flags differ; the flag pass merges them', () => {
    const t = new MemblockTable();
    t.add(0, 0); // reserve + mark_noinit: [0, P) NOINIT
    t.reserve(P, P); // flags 0 next to NOINIT: stays apart
    expect(regions(t)).toEqual([
      [0, P, NOINIT],
      [P, P, N],
    ]);
    t.markNoinit(P, P); // isolate: [P, 2P) is inside; flag it; merge [0, 2P)
    expect(regions(t)).toEqual([[0, 2 * P, NOINIT]]);
    expect(t.stats()).toMatchObject({ merged: 1, splits: 0, flagPasses: 2 });
  });

  it('inserts only the parts of a range no region covers', () => {
    const t = new MemblockTable();
    t.reserve(2 * P, P);
    t.markNoinit(2 * P, P);
    t.reserve(4 * P, P);
    t.markNoinit(4 * P, P);
    // [P, 6P) over [2P, 3P) and [4P, 5P) NOINIT: [P, 2P), [3P, 4P), [5P, 6P) are new, flags 0, unmerged with NOINIT.
    t.reserve(P, 5 * P);
    expect(regions(t)).toEqual([
      [P, P, N],
      [2 * P, P, NOINIT],
      [3 * P, P, N],
      [4 * P, P, NOINIT],
      [5 * P, P, N],
    ]);
    t.markNoinit(P, 5 * P);
    expect(regions(t)).toEqual([[P, 5 * P, NOINIT]]);
    expect(t.stats().bytes).toBe(5 * P);
  });
});

describe('memblock_reserved_mark_noinit (memblock_setclr_flag, memblock_isolate_range)', () => {
  it('splits a region at both edges of the range and flags the middle', () => {
    const t = new MemblockTable();
    t.reserve(0, 8 * P);
    t.markNoinit(2 * P, 3 * P);
    // Region 0 crosses the lower edge: it keeps [2P, 8P), [0, 2P) is inserted at 0 (moves 1); then
    // [2P, 8P) crosses the upper edge: it keeps [5P, 8P), [2P, 5P) is inserted at 1 (moves 1).
    expect(regions(t)).toEqual([
      [0, 2 * P, N],
      [2 * P, 3 * P, NOINIT],
      [5 * P, 3 * P, N],
    ]);
    expect(t.stats()).toMatchObject({ regions: 3, splits: 2, moved: 2, merged: 0, totalSize: 8 * P });
    t.markNoinit(5 * P, 3 * P); // inside already: flagged, merged with [2P, 5P)
    t.markNoinit(0, 2 * P);
    expect(regions(t)).toEqual([[0, 8 * P, NOINIT]]);
    expect(t.stats()).toMatchObject({ splits: 2, merged: 2 });
  });

  it('splits at the lower edge only when the range ends with the region', () => {
    const t = new MemblockTable();
    t.reserve(0, 4 * P);
    t.markNoinit(P, 3 * P);
    expect(regions(t)).toEqual([
      [0, P, N],
      [P, 3 * P, NOINIT],
    ]);
    expect(t.stats().splits).toBe(1);
  });

  it('memblock_phys_free removes a range, splitting at its edges', () => {
    const t = new MemblockTable();
    t.reserve(0, 8 * P);
    t.free(2 * P, 3 * P);
    expect(regions(t)).toEqual([
      [0, 2 * P, N],
      [5 * P, 3 * P, N],
    ]);
    expect(t.stats()).toMatchObject({ splits: 2, totalSize: 5 * P });
  });
});

describe('the cost of the linear scan and of memmove', () => {
  it('an append visits every region; a reserve below the first visits one and moves all', () => {
    const up = new MemblockTable();
    for (let i = 0; i < 10; i++) up.reserve(i * 10 * P, P);
    // The k-th reserve (k = 0..9) visits the k regions before it: 0 + 1 + ... + 9.
    expect(up.stats()).toMatchObject({ regions: 10, scanned: 45, moved: 0, outOfOrder: 0 });

    const down = new MemblockTable();
    for (let i = 10; i > 0; i--) down.reserve(i * 10 * P, P);
    // Each one stops at region 0 and moves the k regions up: 0 + 1 + ... + 9.
    expect(down.stats()).toMatchObject({ regions: 10, scanned: 9, moved: 45, outOfOrder: 9 });
    const bases = down.regions().map(([b]) => b);
    expect(bases).toEqual([...bases].sort((a, b) => a - b));
  });

  it('a KHO folio (reserve and mark_noinit) in front of a touching one moves the tail once and merges without moving', () => {
    const t = new MemblockTable();
    for (let i = 9; i >= 0; i--) t.add(i * P, 0);
    // Each insert at 0 moves the one region; the flag pass merges 0 and 1 with nothing behind them.
    expect(regions(t)).toEqual([[0, 10 * P, NOINIT]]);
    expect(t.stats()).toMatchObject({ moved: 9, merged: 9, regions: 1, flagPasses: 10 });
  });

  it('an insert in the middle moves the regions behind it', () => {
    const t = new MemblockTable();
    for (const i of [0, 40, 20, 30, 10]) t.reserve(i * P, P);
    // 20 lands before 40 (moves 1), 30 before 40 (1), 10 before 20, 30, 40 (3).
    expect(t.stats()).toMatchObject({ moved: 5, outOfOrder: 3 });
  });

  it('scans twice once the array is more than half full (cnt * 2 + 1 > max)', () => {
    const t = new MemblockTable();
    for (let i = 0; i < 63; i++) t.reserve(i * 2 * P, P);
    let s = t.stats().scanned;
    t.reserve(63 * 2 * P, P); // cnt 63: 127 <= 128, one pass over 63 regions
    expect(t.stats().scanned - s).toBe(63);
    s = t.stats().scanned;
    t.reserve(64 * 2 * P, P); // cnt 64: 129 > 128, a counting pass and an inserting pass
    expect(t.stats().scanned - s).toBe(128);
  });

  it('binary search changes no region, move or count, only the visits it skips', () => {
    const rng = new Rng(7);
    const ops: [number, number, boolean][] = [];
    for (let i = 0; i < 600; i++) ops.push([rng.below(4000) * P, rng.below(3), rng.float() < 0.8]);
    const linear = new MemblockTable();
    const binary = new MemblockTable({ search: 'binary' });
    for (const t of [linear, binary]) for (const [pa, order, kho] of ops) (kho ? t.add(pa, order) : t.reserve(pa, P << order));
    expect(binary.regionList()).toEqual(linear.regionList());
    expect(binary.stats()).toEqual(linear.stats());
    expect(linear.stats().doublings).toBeGreaterThan(0);
  });
});

describe('memblock_double_array', () => {
  it('doubles when a reserve finds the 128 slots full, into scratch, and reserves its own array', () => {
    const t = new MemblockTable();
    for (let i = 0; i < MEMBLOCK_INIT_REGIONS; i++) t.reserve(i * 2 * P, P);
    expect(t.stats()).toMatchObject({ regions: 128, doublings: 0 });
    expect(t.array).toEqual({ pa: MEMBLOCK_STATIC_PA, max: 128, cnt: 128 });
    t.reserve(128 * 2 * P, P);
    // 256 regions of 24 bytes, page aligned: 8 KiB at the top of scratch (top-down); the static array is not freed;
    // memblock_reserve_kern puts the array's region last, and the 129th region goes in front of it.
    const pa = SCRATCH_TOP - 2 * P;
    expect(t.array).toEqual({ pa, max: 256, cnt: 130 });
    expect(t.regionList().at(-1)).toEqual({ base: pa, size: 2 * P, flags: MEMBLOCK_RSRV_KERN, nid: NUMA_NO_NODE });
    expect(t.regionList().at(-2)).toEqual({ base: 128 * 2 * P, size: P, flags: N, nid: NUMA_NO_NODE });
    expect(t.stats()).toMatchObject({ doublings: 1, moved: 1, bytes: 129 * P, totalSize: 129 * P + 2 * P });
  });

  it('frees the old array and takes the next gap down each time', () => {
    const t = new MemblockTable();
    for (let i = 0; i < 513; i++) t.reserve(i * 2 * P, P);
    // Doublings at the 129th (cnt 128 = max), 256th (255 + the array = 256) and 512th (511 + 1 = 512) reserve.
    // Arrays: 8 KiB at top - 8K, 12 KiB below it (the 8 KiB hole above is too small), 24 KiB below that.
    expect(t.stats()).toMatchObject({ doublings: 3, regions: 514, bytes: 513 * P });
    const pa = SCRATCH_TOP - (8 + 12 + 24) * 1024;
    expect(t.array).toEqual({ pa, max: 1024, cnt: 514 });
    const own = t.regionList().filter((r) => r.flags & MEMBLOCK_RSRV_KERN);
    expect(own).toEqual([{ base: pa, size: 24 * 1024, flags: MEMBLOCK_RSRV_KERN, nid: NUMA_NO_NODE }]);
  });

  it('for KHO folios, the 127th disjoint folio doubles it: isolate_range wants two free slots', () => {
    const t = new MemblockTable();
    for (let i = 0; i < 126; i++) t.add(i * 2 * P, 0);
    expect(t.stats().doublings).toBe(0);
    t.add(126 * 2 * P, 0); // reserve makes cnt 127; the flag pass needs cnt + 2 <= max: 129 > 128
    expect(t.stats()).toMatchObject({ doublings: 1, regions: 128 });
    expect(t.array.max).toBe(256);
  });

  it('reset returns to the empty static array', () => {
    const t = new MemblockTable();
    for (let i = 0; i < 300; i++) t.add(i * 2 * P, 0);
    t.reset();
    expect(t.stats()).toMatchObject({ regions: 0, doublings: 0, reserves: 0, scanned: 0, totalSize: 0 });
    expect(t.array).toEqual({ pa: MEMBLOCK_STATIC_PA, max: 128, cnt: 0 });
    t.add(0, 9);
    expect(regions(t)).toEqual([[0, 512 * P, NOINIT]]);
  });
});

describe('check', () => {
  it('accepts exactly the preserved ranges, merged, NOINIT', () => {
    const list = folios([
      [0x200000, 9],
      [0x400000, 9],
      [0x1000, 0],
      [0x10000000, 18 - 10],
      [0x3000, 1],
    ]);
    const t = new MemblockTable();
    t.addList(list);
    expect(t.check(list)).toBeUndefined();
    expect(t.regions()).toEqual([
      [0x1000, 0x1000],
      [0x3000, 0x2000],
      [0x200000, 0x400000],
      [0x10000000, 0x100000],
    ]);
  });

  it('holds through doublings, and with the array region at the end', () => {
    const pairs: [number, number][] = [];
    for (let i = 0; i < 700; i++) pairs.push([((i * 389) % 700) * 4 * P, i % 2]);
    const list = folios(pairs);
    const t = new MemblockTable();
    t.addList(list);
    expect(t.stats().doublings).toBe(3);
    expect(t.check(list)).toBeUndefined();
  });

  it('names what is missing, extra or unflagged', () => {
    const list = folios([
      [0, 0],
      [4 * P, 0],
    ]);
    const short = new MemblockTable();
    short.add(0, 0);
    expect(short.check(list)).toMatch(/lacks the preserved range \[0x4000, 0x5000\)/);
    const extra = new MemblockTable();
    extra.addList(list);
    extra.add(8 * P, 0);
    expect(extra.check(list)).toMatch(/covers no preserved folio/);
    const unflagged = new MemblockTable();
    unflagged.add(0, 0);
    unflagged.reserve(4 * P, P);
    expect(unflagged.check(list)).toMatch(/flags 0x0 .* not NOINIT/);
  });

  it('ends with the same regions whatever the insert order', () => {
    const pairs: [number, number][] = [];
    for (let i = 0; i < 300; i++) pairs.push([((i * 37) % 300) * 8 * P, i % 4]);
    const inOrder = new MemblockTable();
    inOrder.addList(folios([...pairs].sort((a, b) => a[0] - b[0])));
    const shuffled = new MemblockTable();
    shuffled.addList(folios(pairs));
    expect(shuffled.regionList()).toEqual(inOrder.regionList());
    expect(shuffled.stats().outOfOrder).toBeGreaterThan(0);
    expect(inOrder.stats().outOfOrder).toBe(0);
  });
});

describe('the host-word scan and memmove (the timed path) against the word-by-word reference', () => {
  it('change the same regions, in the same bytes, with the same counts, whatever the order and the search', () => {
    const rng = new Rng(11);
    const ops: [number, number, boolean][] = [];
    // Out of order (memmove up and down), touching and overlapping ranges (merges, splits), enough for three doublings.
    for (let i = 0; i < 1500; i++) ops.push([rng.below(6000) * P, rng.below(4), rng.float() < 0.9]);
    for (const search of ['linear', 'binary'] as const) {
      const fast = new MemblockTable({ search });
      const word = new MemblockTable({ search, perWord: true });
      for (const t of [fast, word]) {
        for (const [pa, order, kho] of ops) (kho ? t.add(pa, order) : t.reserve(pa, P << order));
        t.free(100 * P, 900 * P);
      }
      expect(fast.regionList()).toEqual(word.regionList());
      expect(fast.stats()).toEqual(word.stats());
      expect(fast.stats().doublings).toBeGreaterThanOrEqual(3);
      expect(fast.stats().moved).toBeGreaterThan(100_000);
      // Every byte of every array, the stale tails and the abandoned arrays included.
      const page = (t: MemblockTable, pfn: number) => {
        const b = new Uint8Array(P);
        t.mem.readPage(pfn, b, 0);
        return Buffer.from(b).toString('hex');
      };
      expect(fast.mem.backedPfns()).toEqual(word.mem.backedPfns());
      for (const pfn of word.mem.backedPfns()) expect(page(fast, pfn)).toBe(page(word, pfn));
    }
  });
});

describe('the scan on an observed memory', () => {
  /** Counts the loads of the region array and the bytes they cover. */
  class ArrayLoads {
    loads = 0;
    bytes = 0;
    other = 0;
    constructor(private readonly lo: number) {}
    load(pa: number, bytes: number): void {
      if (pa >= this.lo) {
        this.loads++;
        this.bytes += bytes;
      } else this.other++;
    }
    store(): void {
      this.other++;
    }
    atomic(): void {
      this.other++;
    }
    deref(): void {}
  }

  it('reports one load per page of regions it goes over, and the word-by-word reference two per region', () => {
    const regions = 1000; // 24000 bytes: six pages of the array
    for (const perWord of [false, true]) {
      const c = new ArrayLoads(NEXT_KERNEL_SCRATCH_BASE);
      const t = new MemblockTable({ mem: new TracedPhysMem(memblockBanks(), c), perWord });
      for (let i = 0; i < regions; i++) t.reserve(i * 2 * P, P);
      expect(t.array.pa).toBeGreaterThan(NEXT_KERNEL_SCRATCH_BASE);
      c.loads = 0;
      c.bytes = 0;
      const s = t.stats().scanned;
      // An append: each pass visits every region and stops at the array's own, last (cnt * 2 + 1 > max: two passes).
      t.reserve(regions * 2 * P, P);
      const visited = t.stats().scanned - s;
      expect(visited).toBe(2 * (regions + 1));
      if (perWord) {
        // Two u64 loads per region, and the merge check's loads of the last two.
        expect(c.loads).toBeGreaterThanOrEqual(2 * visited);
        expect(c.loads).toBeLessThan(2 * visited + 16);
      } else {
        // Base and size of every region visited: from the first base to the last size, one load per page (six
        // pages a pass); then the loads of the empty-array check and of the merge checks, word by word.
        expect(c.loads).toBeLessThanOrEqual(2 * Math.ceil(((regions + 1) * MEMBLOCK_REGION_BYTES) / P) + 12);
        expect(c.bytes).toBeGreaterThanOrEqual(visited * MEMBLOCK_REGION_BYTES - 8);
      }
    }
  });

  it("reports none of the binary search's loads: the kernel makes none, and the visits it skips are priced from `scanned`", () => {
    const regions = 1000;
    const loadsOfLastReserve = (search: 'linear' | 'binary') => {
      const c = new ArrayLoads(NEXT_KERNEL_SCRATCH_BASE);
      const t = new MemblockTable({ mem: new TracedPhysMem(memblockBanks(), c), search, perWord: true });
      for (let i = 0; i < regions; i++) t.reserve((i + 1) * 2 * P, P);
      c.loads = 0;
      const s = t.stats().scanned;
      // In front of every region: the scan stops at region 0 either way, and the search skips nothing.
      t.reserve(0, P);
      return { loads: c.loads, scanned: t.stats().scanned - s };
    };
    expect(loadsOfLastReserve('binary')).toEqual(loadsOfLastReserve('linear'));
  });
});
