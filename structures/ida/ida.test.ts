/**
 * The IDA tracker: exact layout and memory numbers for small cases, the
 * kernel's freeing and shrinking, round trips through a kexec on random
 * workloads up to 2^52, and a restore that rejects corrupted trees.
 */
import { describe, expect, it } from 'vitest';
import { getU64, readFdt, u64Prop, writeFdt } from '../../src/fdt/fdt.ts';
import { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import { FolioList, handOver, restoreFromMemory, restoreHandover, type Folio } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE, PhysMem } from '../../src/ram/phys-mem.ts';
import { isKhoError } from '../../src/tracker/errors.ts';
import { MAX_ORDER } from '../../src/tracker/tracker.ts';
import {
  NODE_ARRAY,
  NODE_PRIVATE_LIST as NODE_LIST,
  NODE_PARENT,
  NODE_SLOTS,
  XA_NODE_SIZE,
  type XArrayOps,
  levelsFor,
} from '../xarray/xarray.ts';
import { IDA_CHUNK_SIZE, IDA_COMPATIBLE, IdaTracker, maxShift, restoreIda } from './ida.ts';

const GiB = 2 ** 30;
const NODE = XA_NODE_SIZE; // 576
const BITMAP = IDA_CHUNK_SIZE; // 128
const ROOT = PAGE_SIZE; // the root page of 19 xa_head words

/** 64 GiB from 0; the 4 GiB heap sits at the top, the workload below 60 GiB. */
const smallMachine = () => Machine.ofSize(64 * GiB);
const wideMachine = () =>
  new Machine({
    banks: [
      { start: 0, size: 8 * GiB },
      { start: 2 ** 51, size: 8 * GiB },
      { start: 2 ** 52 - 16 * GiB, size: 16 * GiB },
    ],
  });

/**
 * The tests of the tree's mechanics use order 1 (ids = phys >> 13): order
 * 0's tree holds, from boot, the root FDT's page, which KHO core preserves
 * through the tracker (the top page of RAM: on smallMachine pfn 2^24 - 1,
 * id 2^24 - 1, xi 0x3fff, bit 1023: a shift-12, a shift-6 and a shift-0
 * node and one 128-byte bitmap).
 */
const O = 1;
const id = (n: number) => n * PAGE_SIZE * 2;
const BOOT_NODES = 3;
const BOOT = { pages: 3, bytes: ROOT + BOOT_NODES * NODE + BITMAP, allocations: 1 + BOOT_NODES + 1, objects: BOOT_NODES + 1 };

/** An entry word as [lo, hi] u32 halves. */
function word(t: IdaTracker, pa: number): [number, number] {
  return [t.machine.mem.load32(pa), t.machine.mem.load32(pa + 4)];
}
const head = (t: IdaTracker, order: number) => word(t, t.root + 8 * order);
const slotOf = (node: number, k: number) => node + NODE_SLOTS + 8 * k;
/** The node an internal entry points at (asserting the tag). */
function nodeAt(t: IdaTracker, entryPa: number): number {
  const [lo, hi] = word(t, entryPa);
  expect(lo & 3).toBe(2);
  return lo - 2 + hi * 2 ** 32;
}
/** shift, offset, count, nr_values. */
function header(t: IdaTracker, node: number): [number, number, number, number] {
  const w = t.machine.mem.load32(node);
  return [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, w >>> 24];
}
/** Heap figures beyond the boot state. */
const grown = (t: IdaTracker) => ({
  pages: t.heap.stats.pages - BOOT.pages,
  bytes: t.heap.stats.bytes - BOOT.bytes,
  allocations: t.heap.stats.allocations - BOOT.allocations,
});

function restore(t: IdaTracker, preserved: Folio[] = []) {
  const list = new FolioList();
  const stats = restoreHandover(handOver(t, { preserved }), list);
  const flat = list.toArray();
  const folios: string[] = [];
  for (let i = 0; i < flat.length; i += 2) folios.push(`${flat[i].toString(16)}:${flat[i + 1]}`);
  return { stats, keys: folios.sort() };
}
/** Sorted keys of `fs` and of the tracker's FDT page (restored in every hand-over). */
const keys = (t: IdaTracker, fs: Iterable<Folio>) =>
  [...new Set([...fs, { phys: t.fdtPage, order: 0 }].map((f) => `${f.phys.toString(16)}:${f.order}`))].sort();

describe('ida: layout and memory', () => {
  it('costs one zeroed root page, and the FDT page\'s order-0 path, at boot; published in the FDT', () => {
    const t = new IdaTracker(smallMachine());
    expect(t.fdtPage).toBe(64 * GiB - PAGE_SIZE);
    expect(t.heap.stats).toMatchObject({ pages: BOOT.pages, bytes: BOOT.bytes, allocations: BOOT.allocations });
    for (let o = 1; o <= MAX_ORDER; o++) expect(head(t, o)).toEqual([0, 0]);
    const top = nodeAt(t, t.root);
    expect(header(t, top)).toEqual([12, 0, 1, 0]);
    const fdt = readFdt(t.finalize());
    expect(fdt.props.get('compatible')).toEqual(new Uint8Array(Buffer.from(`${IDA_COMPATIBLE}\0`)));
    expect(getU64(fdt, 'preserved-memory-map')).toBe(t.root);
    expect(t.finalized).toBe(false);
    const r = restore(t);
    expect(r.keys).toEqual(keys(t, []));
    expect(r.stats.metadataObjectsRead).toBe(1 + BOOT.objects);
  });

  it('keeps bits 0..62 of the first 1024-block inline in the head: no node, no bitmap', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(0), O);
    // value entry (1 << 0) << 1 | 1 = 3
    expect(head(t, O)).toEqual([3, 0]);
    t.preserve(id(30), O); // word bit 31
    t.preserve(id(31), O); // word bit 32 = hi bit 0
    t.preserve(id(62), O); // word bit 63 = hi bit 31
    expect(head(t, O)).toEqual([(3 | 2 ** 31) >>> 0, (1 | 2 ** 31) >>> 0]);
    expect(grown(t)).toEqual({ pages: 0, bytes: 0, allocations: 0 });
    const r = restore(t);
    expect(r.keys).toEqual(keys(t, [0, 30, 31, 62].map((p) => ({ phys: id(p), order: O }))));
    expect(r.stats.metadataObjectsRead).toBe(1 + BOOT.objects); // the root page, and order 0's tree
  });

  it('gives bit 63 of a block a real 128-byte bitmap, carrying the inline bits into it', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(63), O);
    const [lo, hi] = head(t, O);
    expect(lo & 3).toBe(0); // a pointer entry
    const bitmap = lo + hi * 2 ** 32;
    expect(t.machine.mem.load32(bitmap + 4)).toBe(2 ** 31); // bit 63 = word 1 bit 31
    expect(grown(t)).toMatchObject({ pages: 0, bytes: BITMAP }); // the boot bitmap's slab page has room

    const u = new IdaTracker(smallMachine());
    u.preserve(id(0), O);
    u.preserve(id(5), O);
    u.preserve(id(100), O); // 100 = word 3 bit 4
    const [ulo, uhi] = head(u, O);
    const ubm = ulo + uhi * 2 ** 32;
    expect(ulo & 3).toBe(0);
    expect([0, 1, 2, 3].map((w) => u.machine.mem.load32(ubm + 4 * w))).toEqual([0b100001, 0, 0, 1 << 4]);
    expect(grown(u)).toMatchObject({ pages: 0, bytes: BITMAP });
    expect(restore(u).keys).toEqual(keys(u, [0, 5, 100].map((p) => ({ phys: id(p), order: O }))));
  });

  it('needs one shift-0 node for slot 1 (id 1024), with the kernel xa_node fields', () => {
    const t = new IdaTracker(smallMachine());
    // order 9: id = pfn >> 9 = 1024 when pfn = 1024 << 9 (phys 2 GiB)
    t.preserve((1024 << 9) * PAGE_SIZE, 9);
    const node = nodeAt(t, t.root + 8 * 9);
    expect(header(t, node)).toEqual([0, 0, 1, 1]); // shift 0, offset 0, count 1, nr_values 1
    expect(t.machine.mem.load64(node + NODE_PARENT)).toBe(0);
    expect(t.machine.mem.load64(node + NODE_ARRAY)).toBe(t.root + 8 * 9);
    expect(t.machine.mem.load64(node + NODE_LIST)).toBe(node + NODE_LIST);
    expect(t.machine.mem.load64(node + NODE_LIST + 8)).toBe(node + NODE_LIST);
    expect(word(t, slotOf(node, 0))).toEqual([0, 0]);
    expect(word(t, slotOf(node, 1))).toEqual([3, 0]);
    expect(grown(t)).toMatchObject({ pages: 0, bytes: NODE });
    const r = restore(t);
    expect(r.keys).toEqual(keys(t, [{ phys: 2 * GiB, order: 9 }]));
    expect(r.stats.metadataObjectsRead).toBe(2 + BOOT.objects);
  });

  it('grows by height: xi 64 needs shift 6 (two levels), xi 4096 needs shift 12 (three)', () => {
    expect([0, 1, 63, 64, 4095, 4096, 2 ** 18, 2 ** 30 - 1].map(levelsFor)).toEqual([0, 1, 1, 2, 2, 3, 4, 5]);
    // The deepest trees 2^52 addresses allow: xi < 2^30 >> order.
    expect(maxShift(0)).toBe(24);
    expect(maxShift(6)).toBe(18);
    expect(maxShift(12)).toBe(12);
    expect(maxShift(18)).toBe(6);

    const t = new IdaTracker(smallMachine());
    t.preserve(id(64 * 1024), O); // xi 64 = slot 1 of a shift-6 node
    const top = nodeAt(t, t.root + 8 * O);
    expect(header(t, top)).toEqual([6, 0, 1, 0]);
    const leaf = nodeAt(t, slotOf(top, 1));
    expect(header(t, leaf)).toEqual([0, 1, 1, 1]);
    expect(t.machine.mem.load64(leaf + NODE_PARENT)).toBe(top);
    expect(word(t, slotOf(leaf, 0))).toEqual([3, 0]);
    expect(grown(t)).toMatchObject({ pages: 0, bytes: 2 * NODE });

    const u = new IdaTracker(smallMachine());
    u.preserve(32 * GiB, O); // id 2^22, xi 4096: shift 12 -> 6 -> 0
    const u12 = nodeAt(u, u.root + 8 * O);
    const u6 = nodeAt(u, slotOf(u12, 1));
    const u0 = nodeAt(u, slotOf(u6, 0));
    expect([header(u, u12), header(u, u6), header(u, u0)]).toEqual([
      [12, 0, 1, 0],
      [6, 1, 1, 0],
      [0, 0, 1, 1],
    ]);
    expect(grown(u)).toMatchObject({ pages: 0, bytes: 3 * NODE }); // 6 nodes in all: one slab page of 7
    const r = restore(u);
    expect(r.keys).toEqual(keys(u, [{ phys: 32 * GiB, order: O }]));
    expect(r.stats.metadataObjectsRead).toBe(4 + BOOT.objects);
  });

  it('pushes an existing head down under new levels (xas_expand)', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(0), O);
    t.preserve(32 * GiB, O); // xi 4096: the head value goes down to slot 0 of a new shift-0 node
    const top = nodeAt(t, t.root + 8 * O);
    expect(header(t, top)).toEqual([12, 0, 2, 0]);
    const left6 = nodeAt(t, slotOf(top, 0));
    const left0 = nodeAt(t, slotOf(left6, 0));
    expect([header(t, left6), header(t, left0)]).toEqual([
      [6, 0, 1, 0],
      [0, 0, 1, 1],
    ]);
    expect(t.machine.mem.load64(left6 + NODE_PARENT)).toBe(top);
    expect(t.machine.mem.load64(left0 + NODE_PARENT)).toBe(left6);
    expect(word(t, slotOf(left0, 0))).toEqual([3, 0]);
    expect(grown(t)).toMatchObject({ pages: 1, bytes: 5 * NODE }); // 8 nodes in all: a second slab page
    expect(restore(t).keys).toEqual(keys(t, [{ phys: 0, order: O }, { phys: 32 * GiB, order: O }]));
  });

  it('builds the path under an existing top node for xi 0 (the head stays a node)', () => {
    const t = new IdaTracker(wideMachine());
    const before = t.heap.stats.bytes;
    t.preserve(2 ** 51, O); // id 2^38, xi 2^28: shift 24 top, slot 16
    t.preserve(0, O); // xi 0: slot 0 of the same top, four new nodes below it
    const top = nodeAt(t, t.root + 8 * O);
    expect(header(t, top)).toEqual([24, 0, 2, 0]);
    expect(t.heap.stats.bytes - before).toBe(9 * NODE);
    checkTree(t);
    expect(restore(t).keys).toEqual(keys(t, [{ phys: 0, order: O }, { phys: 2 ** 51, order: O }]));
  });

  it('accounts slabs: 7 nodes per 4 KiB page, 32 bitmaps per page', () => {
    const t = new IdaTracker(smallMachine());
    // One node per order 1..8: id 1024 (xi 1) at each; with the 3 boot nodes, 11: two slab pages.
    for (let o = 1; o <= 8; o++) t.preserve(1024 * PAGE_SIZE * 2 ** o, o);
    expect(t.heap.stats).toMatchObject({ pages: 1 + 2 + 1, bytes: BOOT.bytes + 8 * NODE });

    const u = new IdaTracker(smallMachine());
    // 33 blocks (xi 0..32), each with bit 63 set: 33 bitmaps under one shift-0 node (34 bitmaps with the boot one).
    for (let k = 0; k <= 32; k++) u.preserve(id(k * 1024 + 63), O);
    expect(header(u, nodeAt(u, u.root + 8 * O))).toEqual([0, 0, 33, 0]);
    expect(u.heap.stats).toMatchObject({ pages: 1 + 1 + 2, bytes: BOOT.bytes + NODE + 33 * BITMAP });
    const r = restore(u);
    expect(r.stats.metadataObjectsRead).toBe(1 + 1 + 33 + BOOT.objects);
    expect(r.stats.metadataBytesRead).toBe(BOOT.bytes + NODE + 33 * BITMAP);
  });
});

describe('ida: unpreserve frees as ida_free and xa_erase do', () => {
  it('frees an emptied bitmap and erases its slot; the slab page stays', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(63), O);
    t.unpreserve(id(63), O);
    expect(head(t, O)).toEqual([0, 0]);
    expect(grown(t)).toMatchObject({ pages: 0, bytes: 0 });
    expect(t.heap.stats.peakBytes).toBe(BOOT.bytes + BITMAP);
    t.preserve(id(64), O); // reuses the freed object: no new page
    expect(grown(t)).toMatchObject({ pages: 0, bytes: BITMAP });
  });

  it('keeps a bitmap a bitmap until its last bit goes (no conversion back to a value)', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(5), O);
    t.preserve(id(100), O);
    t.unpreserve(id(100), O);
    const [lo, hi] = head(t, O);
    expect(lo & 3).toBe(0);
    expect(t.machine.mem.load32(lo + hi * 2 ** 32)).toBe(1 << 5);
    expect(grown(t).bytes).toBe(BITMAP);
    t.unpreserve(id(5), O);
    expect(head(t, O)).toEqual([0, 0]);
    expect(grown(t).bytes).toBe(0);
  });

  it('erases a value entry when its last bit goes, and shrinks the tree back to the head', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(40), O); // word bit 41 = hi bit 9
    expect(head(t, O)).toEqual([1, 1 << 9]);
    t.unpreserve(id(41), O); // not set: nothing changes
    expect(head(t, O)).toEqual([1, 1 << 9]);
    t.unpreserve(id(40), O);
    expect(head(t, O)).toEqual([0, 0]);
    t.preserve(id(0), O);
    t.preserve(id(1024), O);
    t.unpreserve(id(1024), O); // the node holds only slot 0 again: xas_shrink
    expect(head(t, O)).toEqual([3, 0]);
    expect(grown(t).bytes).toBe(0);

    t.preserve(32 * GiB, O); // 5 nodes (see xas_expand above)
    expect(grown(t).bytes).toBe(5 * NODE);
    t.unpreserve(32 * GiB, O); // frees the right path, then shrinks three levels
    expect(head(t, O)).toEqual([3, 0]);
    expect(grown(t).bytes).toBe(0);
    t.unpreserve(id(0), O);
    expect(head(t, O)).toEqual([0, 0]);
  });

  it('keeps a top node whose slot 0 is empty (the kernel cannot shrink it either)', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(0), O);
    t.preserve(id(1024), O);
    t.unpreserve(id(0), O);
    const node = nodeAt(t, t.root + 8 * O);
    expect(header(t, node)).toEqual([0, 0, 1, 1]);
    expect(grown(t).bytes).toBe(NODE);
    t.unpreserve(id(1024), O); // now empty: freed, head cleared
    expect(head(t, O)).toEqual([0, 0]);
    expect(grown(t).bytes).toBe(0);
  });

  it('ignores folios that were never preserved, allocating nothing', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(id(70), O);
    const before = { ...t.heap.stats };
    for (const p of [0, 71, 1024, 2 ** 22, 2 ** 22 + 5]) t.unpreserve(id(p), O);
    t.unpreserve(2 * GiB, 9);
    expect(t.heap.stats).toEqual(before);
    expect(restore(t).keys).toEqual(keys(t, [{ phys: id(70), order: O }]));
  });
});

describe('ida: allocation failure leaves the tree as it was', () => {
  it('fails at each allocation of a preserve that needs three nodes and a bitmap', () => {
    for (let nth = 1; nth <= 4; nth++) {
      const t = new IdaTracker(smallMachine());
      t.preserve(id(0), O);
      const before = head(t, O);
      t.heap.injectFaults({ failNth: nth });
      expect(() => t.preserve(32 * GiB + id(100), O)).toThrow(expect.objectContaining({ errno: 'ENOMEM' }));
      t.heap.injectFaults({});
      expect(head(t, O)).toEqual(before);
      expect(grown(t).bytes).toBe(0);
      t.preserve(32 * GiB + id(100), O);
      expect(restore(t).keys).toEqual(keys(t, [{ phys: 0, order: O }, { phys: 32 * GiB + id(100), order: O }]));
    }
  });
});

/** Checks the live tree's invariants: counts, parents, offsets, no empty node or bitmap, minimal height. */
function checkTree(t: IdaTracker): void {
  const mem = t.machine.mem;
  const visit = (node: number, parent: number, offset: number, shift: number, headPa: number): void => {
    const [s, off, count, nrValues] = header(t, node);
    expect([s, off]).toEqual([shift, offset]);
    expect(mem.load64(node + NODE_PARENT)).toBe(parent);
    expect(mem.load64(node + NODE_ARRAY)).toBe(headPa);
    let c = 0;
    let v = 0;
    for (let k = 0; k < 64; k++) {
      const [lo, hi] = word(t, slotOf(node, k));
      if ((lo | hi) === 0) continue;
      c++;
      if (shift > 0) visit(nodeAt(t, slotOf(node, k)), node, k, shift - 6, headPa);
      else if (lo & 1) v++;
      else {
        let any = 0;
        for (let w = 0; w < 32; w++) any |= mem.load32(lo + hi * 2 ** 32 + 4 * w);
        expect(any).not.toBe(0);
      }
    }
    expect([count, nrValues]).toEqual([c, v]);
    expect(c).toBeGreaterThan(0);
  };
  // Every object reserved ahead of a change was used by it.
  expect((t as unknown as { xa: XArrayOps }).xa.reservedNodes).toBe(0);
  expect((t as unknown as { spareBitmap: number }).spareBitmap).toBe(0);
  for (let o = 0; o <= MAX_ORDER; o++) {
    const [lo] = head(t, o);
    if ((lo & 3) !== 2) continue;
    const top = nodeAt(t, t.root + 8 * o);
    const [shift, , count] = header(t, top);
    // xas_shrink leaves no top node that holds slot 0 alone.
    expect(count === 1 && !(word(t, slotOf(top, 0))[0] === 0 && word(t, slotOf(top, 0))[1] === 0)).toBe(false);
    visit(top, 0, 0, shift, t.root + 8 * o);
  }
}

/** A seeded generator (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFolio(machine: Machine, rand: () => number, clustered: boolean): Folio {
  const banks = machine.workloadBanks;
  const bank = banks[Math.floor(rand() * banks.length)];
  const order = Math.floor(rand() * (MAX_ORDER + 1));
  const size = PAGE_SIZE * 2 ** order;
  const first = Math.ceil(bank.start / size);
  const count = Math.floor((bank.start + bank.size) / size) - first;
  // Clustered picks stay near the bank start (shared nodes and bitmaps); others spread out.
  const at = clustered ? Math.floor(rand() * Math.min(count, 5000)) : Math.floor(rand() * count);
  return { phys: (first + at) * size, order };
}

describe('ida: round trip through a kexec', () => {
  it('restores a random workload of many orders up to 2^52 exactly, keeping the invariants', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rand = rng(seed);
      const machine = wideMachine();
      const t = new IdaTracker(machine);
      const live = new Map<string, Folio>([[`${t.fdtPage}:0`, { phys: t.fdtPage, order: 0 }]]);
      const pool: Folio[] = [];
      for (let i = 0; i < 4000; i++) {
        const f = randomFolio(machine, rand, rand() < 0.7);
        pool.push(f);
        t.preserve(f.phys, f.order);
        live.set(`${f.phys}:${f.order}`, f);
        if (rand() < 0.35) {
          const g = pool[Math.floor(rand() * pool.length)];
          t.unpreserve(g.phys, g.order);
          live.delete(`${g.phys}:${g.order}`);
        }
      }
      // The extremes: the last folio of every order below the heap, and the first of bank 2.
      const top = machine.workloadBanks[2];
      for (let o = 0; o <= MAX_ORDER; o++) {
        const size = PAGE_SIZE * 2 ** o;
        for (const phys of [Math.floor((top.start + top.size) / size - 1) * size, 2 ** 51, 0]) {
          t.preserve(phys, o);
          live.set(`${phys}:${o}`, { phys, order: o });
        }
      }
      checkTree(t);
      const r = restore(t);
      expect(r.keys).toEqual(keys(t, live.values()));
      expect(r.stats.folios).toBe(live.size);

      // Unpreserving everything (the FDT page too) frees every node and bitmap and empties every head.
      for (const f of live.values()) t.unpreserve(f.phys, f.order);
      for (let o = 0; o <= MAX_ORDER; o++) expect(head(t, o)).toEqual([0, 0]);
      expect(t.heap.stats.bytes).toBe(ROOT);
    }
  });

  it('restores a large preserved range split into many orders', () => {
    const t = new IdaTracker(wideMachine());
    const start = 2 ** 51 + 0x1ff000;
    t.preserveRange(start, 3 * GiB + 0x7000);
    checkTree(t);
    const r = restore(t);
    let covered = 0;
    for (const k of r.keys) covered += PAGE_SIZE * 2 ** Number(k.split(':')[1]);
    expect(covered).toBe(3 * GiB + 0x7000 + PAGE_SIZE); // and the FDT page
  });
});

describe('ida: the next kernel rejects corrupted trees with KhoError only', () => {
  /** A tracker with an inline head and a bitmap (order 2: a shift-0 node), and a three-level tree (order 1). */
  function sample() {
    const t = new IdaTracker(smallMachine());
    const id2 = (n: number) => n * PAGE_SIZE * 4;
    t.preserve(id2(0), 2);
    t.preserve(id2(1024 + 700), 2); // order 2: node with slot 1 = bitmap
    t.preserve(16 * GiB, 1); // order 1: id 2^21, xi 2048: shift 6 -> 0
    t.preserve(32 * GiB, 1); // xi 4096: grows to shift 12
    const h = handOver(t);
    const restoreWith = (edit: (mem: PhysMem) => void) => {
      const mem = PhysMem.fromImage(h.image);
      edit(mem);
      return restoreFromMemory('ida', mem, h.fdt, new FolioList());
    };
    return { t, h, restoreWith };
  }
  const expectCorrupt = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ errno: 'ECORRUPT' }));

  it('restores the untouched sample', () => {
    const { restoreWith } = sample();
    expect(restoreWith(() => {}).folios).toBe(4 + 1); // and the FDT page
  });

  it('rejects a top node deeper than 2^52 addresses allow, or a shift not a multiple of 6', () => {
    const { t, restoreWith } = sample();
    const top0 = nodeAt(t, t.root + 16);
    const top1 = nodeAt(t, t.root + 8);
    // order 2 allows shift 24 at most; a shift-30 top would index beyond 2^52.
    expectCorrupt(() => restoreWith((m) => m.store32(top0, (m.load32(top0) & ~255) | 30)));
    expectCorrupt(() => restoreWith((m) => m.store32(top0, (m.load32(top0) & ~255) | 3)));
    // order 1 may not exceed 24 either; 30 is rejected.
    expectCorrupt(() => restoreWith((m) => m.store32(top1, (m.load32(top1) & ~255) | 30)));
  });

  it('rejects a child whose shift is not its parent shift less 6 (also a node that points at itself)', () => {
    const { t, restoreWith } = sample();
    const top1 = nodeAt(t, t.root + 8);
    const child = nodeAt(t, slotOf(top1, 0));
    expectCorrupt(() => restoreWith((m) => m.store32(child, (m.load32(child) & ~255) | 0)));
    expectCorrupt(() => restoreWith((m) => m.store64(slotOf(top1, 5), top1 + 2)));
  });

  it('rejects entry tags a level cannot hold', () => {
    const { t, restoreWith } = sample();
    const top0 = nodeAt(t, t.root + 16); // order 2, shift 0
    const top1 = nodeAt(t, t.root + 8); // shift 12
    // sibling, retry and zero internal entries are not nodes
    for (const internal of [2, (5 << 2) | 2, (256 << 2) | 2, (257 << 2) | 2]) {
      expectCorrupt(() => restoreWith((m) => m.store64(t.root + 24, internal)));
    }
    expectCorrupt(() => restoreWith((m) => m.store64(slotOf(top1, 7), 7))); // value entry in a shift-12 node
    expectCorrupt(() => restoreWith((m) => m.store64(slotOf(top1, 7), top0 + 8))); // pointer in a shift-12 node
    expectCorrupt(() => restoreWith((m) => m.store64(slotOf(top0, 3), top0 + 2))); // node below shift 0
    expectCorrupt(() => restoreWith((m) => m.store64(slotOf(top0, 3), 2 ** 50))); // bitmap outside RAM
    expectCorrupt(() => restoreWith((m) => m.store64(slotOf(top0, 3), top0 + 4))); // misaligned bitmap
  });

  it('rejects a foreign compatible (ENOEXEC) and a root pointer outside RAM (ECORRUPT)', () => {
    const t = new IdaTracker(smallMachine());
    t.preserve(0, 0);
    const mem = PhysMem.fromImage(handOver(t).image);
    const run = (props: Record<string, string | Uint8Array>) =>
      restoreIda(new RestoreWalk(mem, new FolioList()), readFdt(writeFdt({ name: '', props })));
    expect(() => run({ compatible: 'kho-v2', 'preserved-memory-map': u64Prop(t.root) })).toThrow(
      expect.objectContaining({ errno: 'ENOEXEC' }),
    );
    expect(() => run({ compatible: IDA_COMPATIBLE })).toThrow(expect.objectContaining({ errno: 'ENOEXEC' }));
    expectCorrupt(() => run({ compatible: IDA_COMPATIBLE, 'preserved-memory-map': u64Prop(2 ** 50) }));
    expectCorrupt(() => run({ compatible: IDA_COMPATIBLE, 'preserved-memory-map': u64Prop(t.root + 4) }));
    expect(() => run({ compatible: IDA_COMPATIBLE, 'preserved-memory-map': u64Prop(t.root) })).not.toThrow();
  });

  it('never throws anything but KhoError on random corruption of the image', () => {
    const { t, h } = sample();
    const rand = rng(99);
    const metadata = t.heap.ownedPfns();
    for (let trial = 0; trial < 400; trial++) {
      const mem = PhysMem.fromImage(h.image);
      for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
        const page = metadata[Math.floor(rand() * metadata.length)];
        const pa = page * PAGE_SIZE + 4 * Math.floor(rand() * 1024);
        const v = rand() < 0.5 ? Math.floor(rand() * 2 ** 32) : mem.load32(pa) ^ (1 << Math.floor(rand() * 32));
        mem.store32(pa, v >>> 0);
      }
      try {
        restoreFromMemory('ida', mem, h.fdt, new FolioList());
      } catch (e) {
        expect(isKhoError(e), String(e)).toBe(true);
      }
    }
  });
});
