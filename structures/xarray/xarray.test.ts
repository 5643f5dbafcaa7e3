import { describe, expect, it } from 'vitest';
import { expectCompatible, getU64, readFdt, u64Prop, writeFdt } from '../../src/fdt/fdt.ts';
import { FolioList, type Handover, handOver, restoreFromMemory, restoreHandover } from '../../src/kexec/kexec.ts';
import { KernelHeap } from '../../src/ram/kernel-heap.ts';
import { Machine } from '../../src/ram/machine.ts';
import { PhysMem } from '../../src/ram/phys-mem.ts';
import { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import { isKhoError } from '../../src/tracker/errors.ts';
import { xarray616, xarray618, xarray619 } from './index.ts';
import { XarrayTracker } from './kho-xarray.ts';
import {
  NODE_ARRAY,
  NODE_PARENT,
  NODE_PRIVATE_LIST,
  NODE_SLOTS,
  XA_HEAD,
  XA_NODE_SIZE,
  XARRAY_SIZE,
  XArrayOps,
} from './xarray.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const PAGE = 4096;

// ---------------------------------------------------------------------------
// The xarray on its own.

function freshXarray(): { mem: PhysMem; heap: KernelHeap; ops: XArrayOps; xa: number } {
  const machine = Machine.ofSize(256 * MiB);
  const heap = new KernelHeap(machine);
  const ops = new XArrayOps(machine.mem, heap.slab(XA_NODE_SIZE));
  return { mem: machine.mem, heap, ops, xa: heap.slab(XARRAY_SIZE).alloc() };
}

/** A pointer entry for index i (low bits 00, never 0). */
const ptr = (i: number) => (i + 1) * 64;

/** Node header bytes, read from RAM: shift, offset, count, nr_values. */
function header(mem: PhysMem, node: number) {
  const w = mem.load32(node);
  return { shift: w & 0xff, offset: (w >>> 8) & 0xff, count: (w >>> 16) & 0xff, nrValues: w >>> 24 };
}

/** Walks the whole tree and checks every node's invariants; returns the node count. */
function checkTree(mem: PhysMem, xa: number): number {
  const head = mem.load64(xa + XA_HEAD);
  if ((head & 3) !== 2) return 0;
  const visit = (node: number, parent: number, offset: number, shift: number): number => {
    const h = header(mem, node);
    expect(h.shift).toBe(shift);
    expect(h.offset).toBe(offset);
    expect(h.nrValues).toBe(0);
    expect(mem.load64(node + NODE_PARENT)).toBe(parent);
    expect(mem.load64(node + NODE_ARRAY)).toBe(xa);
    expect(mem.load64(node + NODE_PRIVATE_LIST)).toBe(node + NODE_PRIVATE_LIST);
    let used = 0;
    let nodes = 1;
    for (let o = 0; o < 64; o++) {
      const e = mem.load64(node + NODE_SLOTS + o * 8);
      if (e === 0) continue;
      used++;
      if (shift > 0) {
        expect(e & 3).toBe(2);
        nodes += visit(e - 2, node, o, shift - 6);
      } else {
        expect(e & 3).toBe(0);
      }
    }
    expect(h.count).toBe(used);
    return nodes;
  };
  const top = head - 2;
  return visit(top, 0, 0, header(mem, top).shift);
}

describe('xarray in RAM', () => {
  // A node resolves 6 index bits; a lone index 0 needs none. The height is
  // the smallest h with index < 64^h, and a single entry needs one node per
  // level; index 0 already in the head adds the nodes of its own path.
  it.each([
    [[0], 0],
    [[1], 1],
    [[63], 1],
    [[64], 2], // a shift-6 top and the shift-0 leaf for 64..127
    [[0, 64], 3], // the expansion keeps 0 in its own leaf under the new top
    [[0, 1, 63], 1],
    [[4095], 2],
    [[4096], 3],
    [[64, 128, 4095], 4], // top shift 6: leaves for 64.., 128.., 4032..
    [[2 ** 32 - 1], 6], // top shift 30: 2^32 - 1 >> 30 = 3 fits in 64 slots
  ])('indices %j need %i nodes', (indices, nodes) => {
    const { mem, heap, ops, xa } = freshXarray();
    for (const i of indices) ops.store(xa, i, ptr(i));
    expect(ops.countNodes(xa)).toBe(nodes);
    expect(checkTree(mem, xa)).toBe(nodes);
    // Every node is one 576-byte slab object.
    expect(heap.stats.bytes).toBe(XARRAY_SIZE + nodes * XA_NODE_SIZE);
    for (const i of indices) expect(ops.load(xa, i)).toBe(ptr(i));
  });

  it('keeps a lone index-0 entry in the head, with no node', () => {
    const { mem, ops, xa } = freshXarray();
    ops.store(xa, 0, 0x1234_5678_9000);
    expect(mem.load64(xa + XA_HEAD)).toBe(0x1234_5678_9000);
    expect(ops.load(xa, 1)).toBe(0);
  });

  it('lays out a two-level tree at the kernel offsets', () => {
    const { mem, ops, xa } = freshXarray();
    ops.store(xa, 64, ptr(64));
    const head = mem.load64(xa + XA_HEAD);
    expect(head & 3).toBe(2); // internal entry
    const top = head - 2;
    expect(header(mem, top)).toEqual({ shift: 6, offset: 0, count: 1, nrValues: 0 });
    expect(mem.load64(top + 8)).toBe(0); // parent at 0x08
    expect(mem.load64(top + 16)).toBe(xa); // array at 0x10
    expect(mem.load64(top + 24)).toBe(top + 24); // empty list_head at 0x18
    expect(mem.load64(top + 32)).toBe(top + 24);
    const leafEntry = mem.load64(top + 40 + 1 * 8); // slot 1 at 0x28 + 8
    expect(leafEntry & 3).toBe(2);
    const leaf = leafEntry - 2;
    expect(header(mem, leaf)).toEqual({ shift: 0, offset: 1, count: 1, nrValues: 0 });
    expect(mem.load64(leaf + 8)).toBe(top);
    expect(mem.load64(leaf + 40)).toBe(ptr(64)); // slot 0 = index 64
    for (let off = 552; off < 576; off += 4) expect(mem.load32(top + off)).toBe(0); // marks
  });

  it('grows by moving the old head down into slot 0 of a new top', () => {
    const { mem, ops, xa } = freshXarray();
    ops.store(xa, 0, ptr(0));
    ops.store(xa, 1, ptr(1));
    const top = mem.load64(xa + XA_HEAD) - 2;
    expect(header(mem, top)).toEqual({ shift: 0, offset: 0, count: 2, nrValues: 0 });
    expect(mem.load64(top + NODE_SLOTS)).toBe(ptr(0));
    expect(mem.load64(top + NODE_SLOTS + 8)).toBe(ptr(1));
    ops.store(xa, 5000, ptr(5000)); // needs shift 12: two new top levels
    const newTop = mem.load64(xa + XA_HEAD) - 2;
    expect(header(mem, newTop).shift).toBe(12);
    expect(header(mem, top).offset).toBe(0);
    expect(checkTree(mem, xa)).toBe(5); // shift-12 top, shift-6 under it twice, two leaves
  });

  it('agrees with a map under random stores, and finds entries in index order', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 20; round++) {
      const { mem, ops, xa } = freshXarray();
      const model = new Map<number, number>();
      const spread = [64, 4096, 2 ** 18, 2 ** 32][round % 4];
      for (let k = 0; k < 300; k++) {
        const i = Math.floor(rand() * spread);
        const e = ptr(k);
        expect(ops.store(xa, i, e)).toBe(model.get(i) ?? 0);
        model.set(i, e);
      }
      checkTree(mem, xa);
      for (const [i, e] of model) expect(ops.load(xa, i)).toBe(e);
      for (let k = 0; k < 300; k++) {
        const i = Math.floor(rand() * spread);
        expect(ops.load(xa, i)).toBe(model.get(i) ?? 0);
      }
      const keys = [...model.keys()].sort((a, b) => a - b);
      const found: number[] = [];
      for (let from = 0; ops.find(xa, from); from = ops.foundIndex + 1) {
        expect(ops.foundEntry).toBe(model.get(ops.foundIndex));
        found.push(ops.foundIndex);
      }
      expect(found).toEqual(keys);
      // A find from an arbitrary start gives the first key at or above it.
      for (let k = 0; k < 50; k++) {
        const start = Math.floor(rand() * spread);
        const want = keys.find((x) => x >= start);
        expect(ops.find(xa, start)).toBe(want !== undefined);
        if (want !== undefined) expect(ops.foundIndex).toBe(want);
      }
    }
  });

  it('destroys a tree (xa_destroy): every node freed, the head empty, the xarray usable again', () => {
    const { mem, heap, ops, xa } = freshXarray();
    for (const i of [0, 1, 64, 4097, 2 ** 20, 2 ** 31]) ops.store(xa, i, ptr(i));
    expect(ops.countNodes(xa)).toBeGreaterThan(5);
    ops.destroy(xa);
    expect(mem.load64(xa + XA_HEAD)).toBe(0);
    expect(heap.stats.bytes).toBe(XARRAY_SIZE);
    expect(ops.find(xa, 0)).toBe(false);
    ops.store(xa, 5, ptr(5));
    expect(ops.load(xa, 5)).toBe(ptr(5));
  });

  it('leaves already linked nodes empty when a node allocation fails, and stays usable', () => {
    const { mem, heap, ops, xa } = freshXarray();
    ops.store(xa, 0, ptr(0));
    heap.injectFaults({ failNth: 3 }); // 64^2 + 1 needs top, middle, leaf: the leaf fails
    expect(() => ops.store(xa, 4097, ptr(4097))).toThrow(/ENOMEM/);
    heap.injectFaults({});
    expect(ops.load(xa, 4097)).toBe(0);
    expect(ops.load(xa, 0)).toBe(ptr(0));
    checkTree(mem, xa);
    expect(ops.find(xa, 1)).toBe(false);
    ops.store(xa, 4097, ptr(4097));
    expect(ops.load(xa, 4097)).toBe(ptr(4097));
    checkTree(mem, xa);
  });
});

describe('xarray in RAM: lookup, reserve, value entries, erase and shrink (the IDA\'s operations)', () => {
  /** A fresh xarray, optionally on a bare head word (headOffset 0), as the IDA uses it. */
  function fresh(headOffset?: number) {
    const machine = Machine.ofSize(256 * MiB);
    const heap = new KernelHeap(machine);
    const ops = new XArrayOps(machine.mem, heap.slab(XA_NODE_SIZE), headOffset);
    return { mem: machine.mem, heap, ops, xa: heap.slab(XARRAY_SIZE).alloc() };
  }

  it('counts in lookup exactly the nodes create adds, for every shape of tree', () => {
    let seed = 777;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 40; round++) {
      const { heap, ops, xa } = fresh();
      const spread = [64, 4096, 2 ** 18, 2 ** 32][round % 4];
      for (let k = 0; k < 60; k++) {
        const i = Math.min(2 ** 32 - 1, Math.floor(rand() * spread));
        const before = heap.stats.bytes;
        const slot = ops.lookup(xa, i);
        const missing = slot < 0 ? ops.missingNodes : 0;
        ops.reserve(missing);
        expect(ops.create(xa, i)).toBe(slot < 0 ? ops.lookup(xa, i) : slot);
        expect(ops.reservedNodes).toBe(0);
        expect(heap.stats.bytes - before).toBe(missing * XA_NODE_SIZE);
        ops.store(xa, i, ptr(i));
      }
    }
  });

  it('reserves all or nothing, and create uses the reserved nodes last-first', () => {
    const { heap, ops, xa } = fresh();
    heap.injectFaults({ failNth: 3 });
    expect(() => ops.reserve(3)).toThrow(/ENOMEM/);
    heap.injectFaults({});
    expect(ops.reservedNodes).toBe(0);
    expect(heap.stats.bytes).toBe(XARRAY_SIZE);
    ops.store(xa, 0, ptr(0));
    expect(ops.lookup(xa, 4097)).toBe(-1);
    expect(ops.missingNodes).toBe(5); // shift-0 node for the old head, shift 6, shift 12 top; shift 6 and 0 below it
    ops.reserve(5);
    expect(heap.stats.bytes).toBe(XARRAY_SIZE + 5 * XA_NODE_SIZE);
    ops.create(xa, 4097);
    expect(ops.reservedNodes).toBe(0);
    expect(heap.stats.bytes).toBe(XARRAY_SIZE + 5 * XA_NODE_SIZE);
  });

  it('keeps nr_values for value entries, through xas_expand too, on a bare head word', () => {
    const { mem, ops, xa } = fresh(0);
    ops.storeAt(xa, ops.create(xa, 0), ops.slotNode, 7, 0x8000_0000); // a value entry with bit 63 set
    expect([mem.load32(xa), mem.load32(xa + 4)]).toEqual([7, 0x8000_0000]);
    const slot = ops.create(xa, 70); // two new tops: the value goes into slot 0 of a shift-0 node
    const top = mem.load64(xa) - 2;
    expect(mem.load64(top + NODE_ARRAY)).toBe(xa);
    expect(header(mem, top)).toEqual({ shift: 6, offset: 0, count: 2, nrValues: 0 });
    const left = mem.load64(top + NODE_SLOTS) - 2;
    expect(header(mem, left)).toEqual({ shift: 0, offset: 0, count: 1, nrValues: 1 });
    expect([mem.load32(left + NODE_SLOTS), mem.load32(left + NODE_SLOTS + 4)]).toEqual([7, 0x8000_0000]);
    ops.storeAt(xa, slot, ops.slotNode, 5, 0);
    expect(header(mem, ops.slotNode)).toEqual({ shift: 0, offset: 1, count: 1, nrValues: 1 });
    ops.storeAt(xa, slot, ops.slotNode, 1024, 0); // value -> pointer: count stays, nr_values drops
    expect(header(mem, ops.slotNode)).toEqual({ shift: 0, offset: 1, count: 1, nrValues: 0 });
  });

  it('erases: frees emptied nodes upward, then shrinks the top while it holds only slot 0', () => {
    const { mem, heap, ops, xa } = fresh();
    ops.store(xa, 0, ptr(0));
    ops.store(xa, 5000, ptr(5000)); // 5 nodes: top 12, two shift-6, two leaves
    expect(ops.countNodes(xa)).toBe(5);
    const slot = ops.lookup(xa, 5000);
    ops.storeAt(xa, slot, ops.slotNode, 0, 0); // frees the right leaf and its shift-6 parent, then shrinks 2 levels
    expect(mem.load64(xa + XA_HEAD)).toBe(ptr(0));
    expect(heap.stats.bytes).toBe(XARRAY_SIZE);

    ops.store(xa, 1, ptr(1));
    ops.store(xa, 64, ptr(64)); // top shift 6 over two leaves
    ops.storeAt(xa, ops.lookup(xa, 0), ops.slotNode, 0, 0); // left leaf keeps index 1
    ops.storeAt(xa, ops.lookup(xa, 1), ops.slotNode, 0, 0); // left leaf freed; slot 0 of the top empty: no shrink
    expect(checkTree(mem, xa)).toBe(2);
    expect(ops.load(xa, 64)).toBe(ptr(64));
    ops.storeAt(xa, ops.lookup(xa, 64), ops.slotNode, 0, 0); // the last entry: every node freed, head cleared
    expect(mem.load64(xa + XA_HEAD)).toBe(0);
    expect(heap.stats.bytes).toBe(XARRAY_SIZE);
  });
});

// ---------------------------------------------------------------------------
// The tracker.

type Spec = typeof xarray616;

/** A machine with `workload` bytes below a 256 MiB kernel heap. */
const bigMachine = (workload: number) => Machine.ofSize(workload + 256 * MiB, 256 * MiB);

function make(spec: Spec, machine: Machine): XarrayTracker {
  return spec.create(machine) as XarrayTracker;
}

/** Restored folios as sorted "phys:order" strings. */
function restored(h: Handover): string[] {
  const list = new FolioList();
  restoreHandover(h, list);
  const a = list.toArray();
  const out: string[] = [];
  for (let i = 0; i < a.length; i += 2) out.push(`${a[i]}:${a[i + 1]}`);
  return out.sort();
}

const keys = (folios: Iterable<readonly [number, number]>) => [...folios].map(([p, o]) => `${p}:${o}`).sort();
/** The folios a hand-over of `t` restores when `folios` were preserved: those and KHO core's FDT page (order 0). */
const withFdt = (t: XarrayTracker, folios: Iterable<readonly [number, number]>) => keys([...folios, [t.fdtPage, 0] as const]);

interface DecodedChunk {
  addr: number;
  order: number;
  entries: { physStart: number; bitmap: number }[];
}

/**
 * An independent reader of the hand-over, written from the facts sheet
 * alone: raw image bytes and the FDT, no tracker code. Returns the chunk
 * list and every folio its bitmaps mark.
 */
function decodeHandover(h: Handover, preserveBits: number): { chunks: DecodedChunk[]; folios: string[] } {
  const { pfns, data, zeroPfns } = h.image;
  const where = new Map<number, number>();
  pfns.forEach((pfn, i) => where.set(pfn, i * PAGE));
  const zero = new Set(zeroPfns);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u32 = (pa: number): number => {
    const pfn = Math.floor(pa / PAGE);
    const at = where.get(pfn);
    if (at !== undefined) return view.getUint32(at + (pa % PAGE), true);
    if (zero.has(pfn)) return 0;
    throw new Error(`address ${pa.toString(16)} is not in the hand-over image`);
  };
  const u64 = (pa: number) => u32(pa) + u32(pa + 4) * 2 ** 32;

  const fdt = readFdt(h.fdt);
  expectCompatible(fdt, 'kho-v1');
  expect(fdt.props.get('preserved-memory-map')?.length).toBe(8);
  const chunks: DecodedChunk[] = [];
  const folios: string[] = [];
  for (let chunk = getU64(fdt, 'preserved-memory-map'); chunk !== 0; chunk = u64(chunk)) {
    expect(chunk % PAGE).toBe(0);
    const order = u32(chunk + 8);
    const numElms = u32(chunk + 12);
    expect(numElms).toBeLessThanOrEqual(255);
    const c: DecodedChunk = { addr: chunk, order, entries: [] };
    for (let i = 0; i < numElms; i++) {
      const physStart = u64(chunk + 16 + 16 * i);
      const bitmap = u64(chunk + 16 + 16 * i + 8);
      c.entries.push({ physStart, bitmap });
      for (let w = 0; w < preserveBits / 32; w++) {
        const word = u32(bitmap + 4 * w);
        if (word === 0) continue;
        for (let b = 0; b < 32; b++) {
          if (word & (1 << b)) folios.push(`${physStart + (w * 32 + b) * PAGE * 2 ** order}:${order}`);
        }
      }
    }
    // The rest of the page was zeroed and stays zero.
    for (let off = 16 + 16 * numElms; off < PAGE; off += 4) expect(u32(chunk + off)).toBe(0);
    chunks.push(c);
    expect(chunks.length).toBeLessThan(10_000);
  }
  return { chunks, folios: folios.sort() };
}

/** Chunk shape expected from the facts sheet: per order, ceil(bitmaps / 255) chunks, full ones first. */
function expectChunkShape(chunks: DecodedChunk[], bitmapsPerOrder: Map<number, number>) {
  const want: [number, number][] = [];
  for (const [order, n] of [...bitmapsPerOrder].sort((a, b) => a[0] - b[0])) {
    for (let left = n; left > 0; left -= 255) want.push([order, Math.min(255, left)]);
  }
  expect(chunks.map((c) => [c.order, c.entries.length])).toEqual(want);
}

describe.each([
  [xarray616, 4096, 512],
  [xarray618, 32768, 4096],
  [xarray619, 32768, 4096],
])('$id', (spec, preserveBits, bitmapBytes) => {
  /** Address span one bitmap covers at order o. */
  const span = (o: number) => preserveBits * PAGE * 2 ** o;
  /** 6.19 preserves the FDT page at boot, 6.16..6.18 in finalize. */
  const fdtAtBoot = spec.id === 'xarray-6.19';
  /** The bitmap index of a tracker's FDT page (order 0). */
  const fdtIndex = (t: XarrayTracker) => Math.floor(t.fdtPage / span(0));

  /** Tracker metadata bytes the kernel design predicts (no chunks). */
  const predictedBytes = (orders: number, nodes: number, bitmaps: number) =>
    16 /* kho_mem_track */ + 16 * orders /* kho_mem_phys */ + 576 * nodes + bitmapBytes * bitmaps;

  it('is registered with its PRESERVE_BITS', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    expect(t.id).toBe(spec.id);
    expect(t.preserveBits).toBe(preserveBits);
    expect(t.bitmapBytes).toBe(bitmapBytes);
    expect(t.serializes).toBe(true);
  });

  it('preserves the root FDT page at boot (6.19) or in finalize (6.16..6.18)', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    expect(t.fdtPage).toBe(1 * GiB - PAGE);
    // 6.19: order 0's kho_mem_phys and the FDT page's bitmap exist from boot; the index is no 0, so a node too.
    expect(t.heap.stats.bytes).toBe(fdtAtBoot ? predictedBytes(1, 1, 1) : predictedBytes(0, 0, 0));
    expect(t.countBitmaps(0)).toBe(fdtAtBoot ? 1 : 0);
    const h = handOver(t);
    const d = decodeHandover(h, preserveBits);
    expect(d.chunks.map((c) => [c.order, c.entries.map((e) => e.physStart)])).toEqual([[0, [fdtIndex(t) * span(0)]]]);
    expect(d.folios).toEqual(withFdt(t, []));
    expect(restored(h)).toEqual(d.folios);
  });

  it('tracks one aligned bitmap span of order-0 pages with one bitmap, no node, one chunk entry', () => {
    const machine = Machine.ofSize(1 * GiB);
    const t = make(spec, machine);
    // 4096 pages (16 MiB) for 6.16, 32768 pages (128 MiB) for 6.18/6.19: exactly one bitmap.
    t.preserveRange(0, span(0));
    // The range splits greedily into large orders; preserve page by page instead.
    const t2 = make(spec, bigMachine(1 * GiB));
    const boot = t2.heap.stats.bytes;
    const bootBitmaps = t2.countBitmaps(0);
    for (let p = 0; p < preserveBits; p++) t2.preserve(p * PAGE, 0);
    expect(t2.countBitmaps(0)).toBe(bootBitmaps + 1);
    expect(t2.heap.stats.bytes - boot).toBe(fdtAtBoot ? bitmapBytes : predictedBytes(1, 0, 1) - predictedBytes(0, 0, 0));
    const h = handOver(t2);
    const d = decodeHandover(h, preserveBits);
    // Two bitmaps of order 0: span 0, and the FDT page's.
    expectChunkShape(d.chunks, new Map([[0, 2]]));
    expect(d.chunks[0].entries.map((e) => e.physStart)).toEqual([0, fdtIndex(t2) * span(0)]);
    expect(d.folios.length).toBe(preserveBits + 1);
    expect(restored(h)).toEqual(d.folios);
    // The greedy split of the same span is one folio of the top order.
    const order = Math.log2(preserveBits);
    expect(restored(handOver(t))).toEqual(withFdt(t, [[0, order]]));
  });

  it('adds a chunk for a second order and a node for the orders xarray', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    const nodes = t.countNodes();
    t.preserve(0, 0);
    t.preserve(2 * MiB, 9);
    expect(t.countNodes() - nodes).toBe(1); // orders {0, 9}: one shift-0 node
    const h = handOver(t);
    const d = decodeHandover(h, preserveBits);
    expectChunkShape(
      d.chunks,
      new Map([
        [0, 2],
        [9, 1],
      ]),
    );
    expect(d.folios).toEqual(withFdt(t, [[0, 0], [2 * MiB, 9]]));
    expect(restored(h)).toEqual(d.folios);
  });

  it('splits 256 bitmaps of one order into two chunks (255 + 1): finalize adds exactly the chunk pages', () => {
    // One order-0 page at the start of 256 consecutive bitmap spans.
    const machine = bigMachine(256 * span(0));
    const t = make(spec, machine);
    // The FDT page sits in the heap above them; preserving it first takes its cost out of finalize's.
    t.preserve(t.fdtPage, 0);
    const want: [number, number][] = [[t.fdtPage, 0]];
    for (let i = 0; i < 256; i++) {
      t.preserve(i * span(0), 0);
      want.push([i * span(0), 0]);
    }
    expect(t.countBitmaps(0)).toBe(257);
    const pagesBefore = t.heap.stats.pages;
    const h = handOver(t);
    expect(t.heap.stats.pages).toBe(pagesBefore + 2);
    const d = decodeHandover(h, preserveBits);
    expectChunkShape(d.chunks, new Map([[0, 257]]));
    const starts = d.chunks.flatMap((c) => c.entries).map((e) => e.physStart);
    expect(starts).toEqual([...Array.from({ length: 256 }, (_, i) => i * span(0)), fdtIndex(t) * span(0)]);
    expect(d.folios).toEqual(keys(want));
    expect(restored(h)).toEqual(d.folios);
  });

  it('needs a node for phys_bits index 1 and two for index 64', () => {
    const machine = Machine.ofSize(256 * span(0));
    const t = make(spec, machine);
    const nodes = () => t.countNodes(0) - (fdtAtBoot ? 0 : 0);
    if (fdtAtBoot) {
      // The FDT page's index (the top of RAM) already made phys_bits a tree: compare with a 6.18 reading of the facts.
      expect(t.countNodes(0)).toBe(2); // index 255 alone: a shift-6 top and a shift-0 node
      return;
    }
    t.preserve(0, 0);
    expect(nodes()).toBe(0);
    const t1 = make(spec, machine);
    t1.preserve(1 * span(0), 0);
    expect(t1.countNodes(0)).toBe(1);
    const t64 = make(spec, machine);
    t64.preserve(64 * span(0), 0);
    expect(t64.countNodes(0)).toBe(2);
    expect(t64.heap.stats.bytes).toBe(predictedBytes(1, 2, 1));
    t64.preserve(0, 0); // index 0 now needs its own leaf under the shift-6 top
    expect(t64.countNodes(0)).toBe(3);
    expect(restored(handOver(t64))).toEqual(withFdt(t64, [[0, 0], [64 * span(0), 0]]));
  });

  it('emits an empty chunk for an order whose first bitmap could not be stored, as the kernel does', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.heap.injectFaults({ failNth: 3 }); // 1: the kho_mem_phys, 2: a node of orders (index 3), 3: its first bitmap
    expect(() => t.preserve(4 * MiB, 3)).toThrow(/ENOMEM/);
    t.heap.injectFaults({});
    expect(t.countBitmaps(3)).toBe(0);
    const h = handOver(t);
    const d = decodeHandover(h, preserveBits);
    expect(d.chunks.map((c) => [c.order, c.entries.length])).toEqual([
      [0, 1],
      [3, 0],
    ]);
    expect(restored(h)).toEqual(withFdt(t, []));
  });

  it('rolls back a failed preserveRange (the kernel\'s own bit clearing) and keeps working', () => {
    const machine = Machine.ofSize(4 * GiB);
    for (let nth = 1; nth <= 6; nth++) {
      const t = make(spec, machine);
      t.preserve(0, 0);
      t.heap.injectFaults({ failNth: nth });
      // Pages in many bitmap spans and orders: several allocations.
      let failed = false;
      try {
        t.preserveRange(span(0) * 3 - 5 * PAGE, span(0) * 2 + 9 * PAGE);
      } catch (e) {
        expect(isKhoError(e, 'ENOMEM')).toBe(true);
        failed = true;
      }
      t.heap.injectFaults({});
      if (failed) {
        const h = handOver(t);
        expect(restored(h)).toEqual(withFdt(t, [[0, 0]]));
        // Bitmaps the rolled-back part allocated stay, cleared, and are serialized as the kernel does.
        const d = decodeHandover(h, preserveBits);
        expect(d.chunks.flatMap((c) => c.entries).length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('round-trips random folios over sparse banks high in the address space', () => {
    const machine = new Machine({
      banks: [
        { start: 0, size: 2 * GiB },
        { start: 2 ** 40, size: 1 * GiB },
        { start: 2 ** 51, size: 1 * GiB },
      ],
    });
    const t = make(spec, machine);
    const model = new Map<string, [number, number]>([[`${t.fdtPage}:0`, [t.fdtPage, 0]]]);
    let seed = 99;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const bank = machine.workloadBanks;
    for (let k = 0; k < 3000; k++) {
      const b = bank[Math.floor(rand() * bank.length)];
      const order = rand() < 0.7 ? 0 : Math.floor(rand() * 19);
      const size = PAGE * 2 ** order;
      if (size > b.size) continue;
      const phys = b.start + Math.floor((rand() * b.size) / size) * size;
      const key = `${phys}:${order}`;
      if (rand() < 0.2 && model.size > 1 && spec.lifecycle.unpreserve) {
        const victim = [...model.values()][1 + Math.floor(rand() * (model.size - 1))];
        t.unpreserve(victim[0], victim[1]);
        model.delete(`${victim[0]}:${victim[1]}`);
      } else {
        t.preserve(phys, order);
        model.set(key, [phys, order]);
      }
    }
    const h = handOver(t);
    const d = decodeHandover(h, preserveBits);
    expect(d.folios).toEqual(keys(model.values()));
    expect(restored(h)).toEqual(d.folios);
    // Chunk order: orders ascend, phys_start ascends within each order.
    for (let i = 1; i < d.chunks.length; i++) expect(d.chunks[i].order).toBeGreaterThanOrEqual(d.chunks[i - 1].order);
    const perOrder = new Map<number, number>();
    for (const c of d.chunks) perOrder.set(c.order, (perOrder.get(c.order) ?? 0) + c.entries.length);
    expectChunkShape(d.chunks, perOrder);
    for (const [order, n] of perOrder) {
      expect(t.countBitmaps(order)).toBe(n);
      const starts = d.chunks.filter((c) => c.order === order).flatMap((c) => c.entries.map((e) => e.physStart));
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
      starts.forEach((s) => expect(s % span(order)).toBe(0));
    }
  });

  describe('restore of a corrupted image', () => {
    function setup(): { h: Handover; mem: PhysMem; first: number } {
      const t = make(spec, Machine.ofSize(1 * GiB));
      for (let i = 0; i < 5; i++) t.preserve(i * span(0), 0);
      t.preserve(0, 4);
      const h = handOver(t);
      return { h, mem: PhysMem.fromImage(h.image), first: getU64(readFdt(h.fdt), 'preserved-memory-map') };
    }
    const run = (h: Handover, mem: PhysMem) => restoreFromMemory(h.structure, mem, h.fdt, new FolioList());
    const errno = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        expect(isKhoError(e)).toBe(true);
        return (e as { errno: string }).errno;
      }
      return undefined;
    };

    it('accepts the intact image', () => {
      const { h, mem } = setup();
      expect(run(h, mem).folios).toBe(6 + 1); // and the FDT page
    });
    it('rejects num_elms above 255', () => {
      const { h, mem, first } = setup();
      mem.store32(first + 12, 256);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects an order above 18', () => {
      const { h, mem, first } = setup();
      mem.store32(first + 8, 40);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects a chunk that points to itself', () => {
      const { h, mem, first } = setup();
      mem.store64(first, first);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects a chunk list that loops back to its first chunk', () => {
      const { h, mem, first } = setup();
      const second = mem.load64(first);
      mem.store64(second, first);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects a bitmap pointer outside RAM', () => {
      const { h, mem, first } = setup();
      mem.store64(first + 24, 2 ** 50);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects a next pointer outside RAM', () => {
      const { h, mem, first } = setup();
      mem.store64(first, 2 ** 52 + 4096);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects a phys_start that sends folios outside RAM', () => {
      const { h, mem, first } = setup();
      mem.store64(first + 16, 2 ** 45);
      expect(errno(() => run(h, mem))).toBe('ECORRUPT');
    });
    it('rejects another compatible and a map pointer that is not 8 bytes', () => {
      const { mem, first } = setup();
      const walk = () => new RestoreWalk(mem, new FolioList());
      const v2 = writeFdt({ name: '', props: { compatible: 'kho-v2', 'preserved-memory-map': u64Prop(first) } });
      expect(errno(() => spec.restore(walk(), readFdt(v2)))).toBe('ENOEXEC');
      const short = writeFdt({ name: '', props: { compatible: 'kho-v1', 'preserved-memory-map': new Uint8Array(4) } });
      expect(errno(() => spec.restore(walk(), readFdt(short)))).toBe('ENOEXEC');
    });
  });
});

describe.each([
  [xarray616, 4096],
  [xarray618, 32768],
])('$id: the 6.16..6.18 lifecycle', (spec, preserveBits) => {
  const span = (o: number) => preserveBits * PAGE * 2 ** o;

  it('exports no unpreserve: EOPNOTSUPP, and the refused call changes nothing', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.preserve(0, 0);
    const bytes = t.heap.stats.bytes;
    expect(() => t.unpreserve(0, 0)).toThrow(`EOPNOTSUPP: ${spec.id} has no unpreserve; it appeared in 6.19`);
    expect(t.heap.stats.bytes).toBe(bytes);
    expect(restored(handOver(t))).toEqual(withFdt(t, [[0, 0]]));
  });

  it('refuses preserve while finalized (EBUSY) and a second finalize (EEXIST)', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.preserveRange(0, 10 * MiB + 12 * KiB);
    t.finalize();
    expect(t.finalized).toBe(true);
    expect(() => t.preserve(64 * MiB, 0)).toThrow(/EBUSY/);
    expect(() => t.preserveRange(64 * MiB, PAGE)).toThrow(/EBUSY/);
    expect(() => t.finalize()).toThrow(/EEXIST/);
  });

  it('aborts destructively: chunks, bitmaps, kho_mem_phys and nodes freed; the clients must preserve again', () => {
    const machine = bigMachine(40 * span(0));
    const empty = make(spec, machine).heap.stats.bytes;
    const t = make(spec, machine);
    const range = 10 * MiB + 12 * KiB;
    t.preserveRange(0, range);
    for (let i = 0; i < 40; i++) t.preserve(i * span(0) + PAGE, 0);
    t.finalize();
    expect(t.countNodes()).toBeGreaterThan(0);
    t.abort();
    expect(t.finalized).toBe(false);
    expect(() => t.abort()).toThrow(/ENOENT/);
    // kho_mem_track's 16 bytes are all that is left; the orders xarray holds nothing.
    expect(t.heap.stats.bytes).toBe(empty);
    expect(t.heap.stats.bytes).toBe(16);
    expect(t.countNodes()).toBe(0);
    for (let o = 0; o <= 18; o++) expect(t.countBitmaps(o)).toBe(0);
    // 6.18's bitmaps and the chunks are whole pages, returned to the page allocator; slab pages stay with their caches.
    if (preserveBits === 32768) expect(t.heap.ownedPfns().length).toBe(t.heap.stats.pages);
    // Preserving again works, and only what was preserved since (and the FDT page) is handed over.
    t.preserve(64 * MiB, 0);
    const h = handOver(t);
    const d = decodeHandover(h, preserveBits);
    expect(d.folios).toEqual(withFdt(t, [[64 * MiB, 0]]));
    expect(restored(h)).toEqual(d.folios);
  });

  it('aborts when finalize fails part-way (ENOMEM): every preservation is thrown away, not retryable', () => {
    const machine = bigMachine(600 * span(0));
    for (let nth = 1; nth <= 4; nth++) {
      const t = make(spec, machine);
      for (let i = 0; i < 600; i++) t.preserve(i * span(0) + PAGE, 0);
      t.preserve(0, 3);
      t.heap.injectFaults({ failNth: nth });
      expect(() => t.finalize()).toThrow(/ENOMEM/);
      t.heap.injectFaults({});
      expect(t.finalized).toBe(false);
      expect(t.heap.stats.bytes).toBe(16);
      expect(restored(handOver(t))).toEqual(withFdt(t, []));
    }
  });

  it('aborts when the root FDT does not fit its page (ENOSPC)', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.preserve(0, 0);
    const clients = Array.from({ length: 200 }, (_, i) => ({ name: `c${i}`, phys: PAGE * (i + 1), size: PAGE }));
    expect(() => t.finalize(clients)).toThrow(/ENOSPC/);
    expect(t.heap.stats.bytes).toBe(16);
    expect(restored(handOver(t))).toEqual(withFdt(t, []));
  });

  it('rolls back a range whose failing folio was the first of its order, leaving no trace (and the rollback ends)', () => {
    // The 6.16/6.17 rollback loops forever where a level is missing (a `continue` that skips the step);
    // this one steps over a missing level (see README).
    const t = make(spec, Machine.ofSize(4 * GiB));
    // 0x1000 (order 0), then 0x2000 (order 1): its kho_mem_phys is taken, the orders node for index 1 fails.
    t.heap.injectFaults({ failNth: 4 });
    expect(() => t.preserveRange(0x1000, 0x3000)).toThrow(/ENOMEM/);
    t.heap.injectFaults({});
    expect(restored(handOver(t))).toEqual(withFdt(t, []));
  });
});

describe('xarray-6.19: unpreserve, no abort, finalize again', () => {
  const spec = xarray619;
  const span0 = 32768 * PAGE;

  it('shares 6.18\'s format and restore', () => {
    expect(spec.restore).toBe(xarray618.restore);
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.preserve(2 * MiB, 9);
    const h = handOver(t);
    const list = new FolioList();
    restoreFromMemory('xarray-6.18', PhysMem.fromImage(h.image), h.fdt, list);
    expect(list.length / 2).toBe(2);
  });

  it('unpreserve clears the bit, frees nothing, and has no EBUSY check; emptied bitmaps are still serialized', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.preserve(0, 0);
    t.preserve(span0, 0);
    const bytes = t.heap.stats.bytes;
    t.unpreserve(0, 0);
    t.unpreserve(span0 + PAGE, 0); // never set: harmless
    t.unpreserve(3 * span0, 0); // no bitmap there: a no-op
    t.unpreserve(0, 5); // no such order: a no-op
    expect(t.heap.stats.bytes).toBe(bytes);
    t.finalize();
    t.unpreserve(span0, 0); // after finalize too
    t.preserve(2 * span0, 0); // and preserve: 6.19 dropped the finalized state
    expect(t.finalized).toBe(false);
    const h = handOver(t);
    const d = decodeHandover(h, 32768);
    // Bitmaps of spans 0, 1, 2 and the FDT page's (index 7), all serialized.
    expect(d.chunks.map((c) => c.entries.map((e) => e.physStart / span0))).toEqual([[0, 1, 2, 7]]);
    expect(d.folios).toEqual(withFdt(t, [[2 * span0, 0]]));
  });

  it('has no abort (EOPNOTSUPP)', () => {
    const t = make(spec, Machine.ofSize(1 * GiB));
    t.finalize();
    expect(() => t.abort()).toThrow('EOPNOTSUPP: xarray-6.19 has no abort: 6.19 removed it (finalize may simply run again)');
  });

  it('finalizes again: the new chunk list replaces the old one, which is freed', () => {
    const machine = bigMachine(600 * span0);
    const t = make(spec, machine);
    for (let i = 0; i < 300; i++) t.preserve(i * span0 + PAGE, 0);
    const first = getU64(readFdt(t.finalize()), 'preserved-memory-map');
    const pages = t.heap.stats.pages; // 2 chunks for 301 bitmaps
    for (let i = 300; i < 600; i++) t.preserve(i * span0 + PAGE, 0);
    const grown = t.heap.stats.pages;
    const fdt = t.finalize();
    const second = getU64(readFdt(fdt), 'preserved-memory-map');
    // 601 bitmaps: 3 chunks now; the 2 old chunk pages went back.
    expect(grown - pages).toBeGreaterThanOrEqual(300); // a bitmap page per new span (and xarray nodes)
    expect(t.heap.stats.pages).toBe(grown + 3 - 2);
    expect(t.heap.ownedPfns()).not.toContain(first / PAGE);
    expect(second).not.toBe(first);
    const h = handOver(t, { fdt });
    const d = decodeHandover(h, 32768);
    expect(d.chunks.map((c) => c.entries.length)).toEqual([255, 255, 91]);
    expect(d.folios.length).toBe(601);
    expect(restored(h)).toEqual(d.folios);
  });

  it('keeps the published list and every preservation when a re-finalize runs out of memory, and retries', () => {
    const machine = bigMachine(600 * span0);
    const t = make(spec, machine);
    for (let i = 0; i < 600; i++) t.preserve(i * span0 + PAGE, 0);
    t.finalize();
    const pages = t.heap.stats.pages;
    for (let nth = 1; nth <= 3; nth++) {
      t.heap.injectFaults({ failNth: nth });
      expect(() => t.finalize()).toThrow(/ENOMEM/);
      t.heap.injectFaults({});
      expect(t.heap.stats.pages).toBe(pages);
    }
    const d = decodeHandover(handOver(t), 32768);
    expect(d.folios.length).toBe(601);
    expect(t.heap.stats.pages).toBe(pages);
  });
});
