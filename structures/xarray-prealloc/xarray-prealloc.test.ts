/**
 * xarray-prealloc: 6.18's chunk list, written at kexec time into chunk
 * pages taken as the bitmaps grow. The chunk list is decoded from the raw
 * image by a decoder written from the facts sheet (section 1), sharing no
 * code with the tracker; what preallocation costs is measured against
 * xarray-6.19, which allocates the same chunks at finalize.
 */
import { describe, expect, it } from 'vitest';
import { getU64, readFdt } from '../../src/fdt/fdt.ts';
import { FolioList, handOver, restoreHandover, type Folio, type Handover } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import type { Tracker } from '../../src/tracker/tracker.ts';
import { structureSpec } from '../index.ts';
import { RawImage } from '../radix/raw-image.ts';
import { xarray618 } from '../xarray/index.ts';
import type { PreallocXarrayTracker } from './xarray-prealloc.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const spec = structureSpec('xarray-prealloc');
const v619 = structureSpec('xarray-6.19');

// ---------------------------------------------------------------------------
// The chunk list, from the facts sheet only.

interface Chunk {
  at: bigint;
  order: number;
  starts: bigint[];
}

/**
 * preserved-memory-map -> chunk: u64 next (0 ends), u32 order, u32 num_elms,
 * then num_elms x {u64 phys_start, u64 bitmap}; bit b of a 4096-byte bitmap
 * is the folio phys_start + (b << (order + 12)).
 */
function decodeChunks(h: Handover): { chunks: Chunk[]; folios: Folio[] } {
  const raw = new RawImage(h.image);
  const chunks: Chunk[] = [];
  const folios: Folio[] = [];
  for (let at = BigInt(getU64(readFdt(h.fdt), 'preserved-memory-map')); at !== 0n; at = raw.u64(at)) {
    const word = raw.u64(at + 8n);
    const order = Number(word & 0xffff_ffffn);
    const n = Number(word >> 32n);
    const chunk: Chunk = { at, order, starts: [] };
    for (let i = 0n; i < BigInt(n); i++) {
      const start = raw.u64(at + 16n + 16n * i);
      const bitmap = raw.u64(at + 24n + 16n * i);
      chunk.starts.push(start);
      for (let w = 0n; w < 512n; w++) {
        const bits = raw.u64(bitmap + 8n * w);
        for (let b = 0n; bits >> b !== 0n; b++) {
          if ((bits >> b) & 1n) folios.push({ phys: Number(start + ((64n * w + b) << BigInt(order + 12))), order });
        }
      }
    }
    chunks.push(chunk);
  }
  return { chunks, folios };
}

// ---------------------------------------------------------------------------

const fdtOf = (t: Tracker): Folio => ({ phys: t.fdtPage, order: 0 });
const keyList = (folios: Iterable<Folio>): string[] => [...new Set([...folios].map((f) => `${f.phys.toString(16)}:${f.order}`))].sort();
const restored = (h: Handover): string[] => {
  const list = new FolioList();
  restoreHandover(h, list);
  const flat = list.toArray();
  const out: Folio[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ phys: flat[i], order: flat[i + 1] });
  return keyList(out);
};
const create = (machine = Machine.ofSize(128 * GiB)) => spec.create(machine) as PreallocXarrayTracker;
const BITMAP_SPAN = 128 * MiB; // one page-sized bitmap of order 0

/** Order-0 pages in `n` distinct bitmaps, and one order-9 folio (a second order). */
function workload(n: number): Folio[] {
  return [...Array.from({ length: n }, (_, i): Folio => ({ phys: i * BITMAP_SPAN + 0x1000 * (i % 7), order: 0 })), { phys: 2 * MiB, order: 9 }];
}

function expectErrno(fn: () => unknown, errno: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'KhoError', errno }));
}

describe('xarray-prealloc', () => {
  it('is 6.18 on the wire (its restore, kho-v1) with 6.19\'s lifecycle', () => {
    expect(spec.restore).toBe(xarray618.restore);
    expect(spec.abi.compatible).toBe('kho-v1');
    expect(spec.lifecycle).toMatchObject({ unpreserve: true, abort: 'none', finalizeAgain: true, busyWhileFinalized: false, fdtPreserved: 'init' });
  });

  it('writes the chunk list 6.19 writes, byte for byte in every field the restore reads', () => {
    const folios = workload(300);
    const [a, b] = [create(), v619.create(Machine.ofSize(128 * GiB))];
    for (const t of [a, b]) for (const f of folios) t.preserve(f.phys, f.order);
    const [da, db] = [decodeChunks(handOver(a)), decodeChunks(handOver(b))];
    expect(da.chunks.map((c) => [c.order, c.starts])).toEqual(db.chunks.map((c) => [c.order, c.starts]));
    expect(da.chunks.map((c) => [c.order, c.starts.length])).toEqual([
      [0, 255],
      [0, 46], // 300 bitmaps and the FDT page's
      [9, 1],
    ]);
    expect(keyList(da.folios)).toEqual(keyList([...folios, fdtOf(a)]));
    expect(restored(handOver(a))).toEqual(keyList([...folios, fdtOf(a)]));
  });

  it('takes a chunk page with each new order and with the 256th, 511th, ... bitmap of an order: one allocation more per 255 bitmaps', () => {
    const [t, u] = [create(), v619.create(Machine.ofSize(128 * GiB))];
    // At boot: the FDT page's bitmap, and order 0's chunk.
    expect(t.chunkPages).toBe(1);
    const extra: number[] = [];
    for (const f of workload(600)) {
      const [ta, ua] = [t.heap.stats.allocations, u.heap.stats.allocations];
      t.preserve(f.phys, f.order);
      u.preserve(f.phys, f.order);
      extra.push(t.heap.stats.allocations - ta - (u.heap.stats.allocations - ua));
    }
    // Order 0's bitmaps 256 and 511 are the 255th and 510th new ones (the FDT page's was the first); then order 9.
    expect(extra.flatMap((e, i) => (e ? [i] : []))).toEqual([254, 509, 600]);
    expect(extra.every((e) => e <= 1)).toBe(true);
    expect(t.chunkPages).toBe(3 + 1); // ceil(601 / 255) for order 0, 1 for order 9
    expect(t.heap.stats.pages - u.heap.stats.pages).toBe(t.chunkPages);
    console.log(
      `xarray-prealloc: 601 order-0 bitmaps and 1 order-9: ${t.chunkPages} chunk pages held before finalize ` +
        `(${t.chunkPages - 1} allocations more than 6.19 in preserve: ${((t.chunkPages - 1) / 601).toFixed(4)} per bitmap)`,
    );
  });

  it('holds before finalize exactly what 6.19 holds after it, and finalize allocates nothing and leaves no chunk spare', () => {
    const folios = workload(600);
    const [t, u] = [create(), v619.create(Machine.ofSize(128 * GiB))];
    for (const x of [t, u]) for (const f of folios) x.preserve(f.phys, f.order);
    const before = { ...t.heap.stats };
    const h = handOver(t);
    expect(t.heap.stats).toEqual(before);
    handOver(u);
    expect(t.heap.stats.pages).toBe(u.heap.stats.pages);
    // Every chunk page held is in the list.
    const { chunks } = decodeChunks(h);
    expect(chunks.length).toBe(t.chunkPages);
    const owned = new Set(t.heap.ownedPfns());
    for (const c of chunks) expect(owned.has(Number(c.at >> 12n))).toBe(true);
    console.log(`xarray-prealloc: ${chunks.length} chunk pages at hand-over, all in the list (0 spare); finalize: 0 allocations`);
  });

  it('finalizes when the heap is at its page limit, and when the next allocation is set to fail', () => {
    const folios = workload(300);
    const atLimit = (t: Tracker) => ({ pageLimit: t.heap.stats.pages });
    for (const plan of [atLimit, () => ({ failNth: 1 })]) {
      const t = create();
      for (const f of folios) t.preserve(f.phys, f.order);
      t.heap.injectFaults(plan(t));
      expect(restored(handOver(t))).toEqual(keyList([...folios, fdtOf(t)]));
      // Still armed: finalize did not reach it; the next preserve that allocates does.
      expectErrno(() => t.preserve(100 * GiB, 0), 'ENOMEM');
    }
  });

  it('finalizes again into the same pages: the head stays, and an earlier FDT reads the rewritten list', () => {
    const t = create();
    for (const f of workload(250)) t.preserve(f.phys, f.order);
    const first = t.finalize();
    const head = getU64(readFdt(first), 'preserved-memory-map');
    const more = Array.from({ length: 20 }, (_, i): Folio => ({ phys: (250 + i) * BITMAP_SPAN, order: 0 }));
    for (const f of more) t.preserve(f.phys, f.order); // order 0 passes 255 bitmaps: one more chunk
    const pages = t.heap.stats.pages;
    const second = t.finalize();
    expect(t.heap.stats.pages).toBe(pages);
    expect(getU64(readFdt(second), 'preserved-memory-map')).toBe(head);
    const all = keyList([...workload(250), ...more, fdtOf(t)]);
    expect(restored(handOver(t, { fdt: second }))).toEqual(all);
    expect(restored(handOver(t, { fdt: first }))).toEqual(all);
  });

  it('fails a preserve at its chunk page, or at the bitmap after it, with ENOMEM, leaving nothing behind', () => {
    for (const failNth of [1, 2]) {
      const t = create();
      for (const f of workload(254)) t.preserve(f.phys, f.order); // order 0 holds 255 bitmaps
      const before = { pages: t.heap.stats.pages, bytes: t.heap.stats.bytes, chunks: t.chunkPages };
      t.heap.injectFaults({ failNth });
      expectErrno(() => t.preserve(300 * BITMAP_SPAN, 0), 'ENOMEM');
      t.heap.injectFaults({});
      expect({ pages: t.heap.stats.pages, bytes: t.heap.stats.bytes, chunks: t.chunkPages }).toEqual(before);
      t.preserve(300 * BITMAP_SPAN, 0);
      expect(t.chunkPages).toBe(before.chunks + 1);
      expect(restored(handOver(t))).toEqual(keyList([...workload(254), { phys: 300 * BITMAP_SPAN, order: 0 }, fdtOf(t)]));
    }
  });

  it('frees nothing on unpreserve: bitmaps and chunks stay, emptied bitmaps are still listed', () => {
    const t = create();
    const folios = workload(300);
    for (const f of folios) t.preserve(f.phys, f.order);
    const pages = t.heap.stats.pages;
    for (const f of folios) t.unpreserve(f.phys, f.order);
    expect(t.heap.stats.pages).toBe(pages);
    const h = handOver(t);
    expect(decodeChunks(h).chunks.map((c) => c.starts.length)).toEqual([255, 46, 1]);
    expect(restored(h)).toEqual(keyList([fdtOf(t)]));
  });
});
