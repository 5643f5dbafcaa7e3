/**
 * kho-array. The byte layout is checked by a decoder written from the
 * README alone: it reads the raw image bytes with BigInt and shares no
 * code with the tracker. The worst case per folio is the README's bound,
 * checked on adversarial workloads.
 */
import { describe, expect, it } from 'vitest';
import { getString, getU64, readFdt, u64Prop, writeFdt } from '../../src/fdt/fdt.ts';
import { FolioList, handOver, restoreHandover, type Folio, type Handover } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import type { Tracker } from '../../src/tracker/tracker.ts';
import { structureSpec } from '../index.ts';
import { RawImage } from '../radix/raw-image.ts';
import type { KhoArrayTracker } from './kho-array.ts';

const GiB = 2 ** 30;
const PAGE = 4096;
const spec = structureSpec('kho-array');

// ---------------------------------------------------------------------------
// The format, from the README only.

interface Run {
  start: bigint;
  length: bigint;
}

interface Decoded {
  folios: Folio[];
  runs: Run[];
  /** Runs per leaf and children per index block, with each block's depth (0: the root). */
  leaves: { runs: number; depth: number }[];
  indexes: { children: number; depth: number }[];
}

/** pos = o * 2^40 + (pa >> (12 + o)) */
function positionOf(f: Folio): bigint {
  return (BigInt(f.order) << 40n) + (BigInt(f.phys) >> BigInt(12 + f.order));
}

function folioAt(pos: bigint): Folio {
  const order = pos >> 40n;
  return { phys: Number((pos & ((1n << 40n) - 1n)) << (12n + order)), order: Number(order) };
}

/**
 * FDT "preserved-memory-array" -> root block. Header u64: bit 0 flags (1 =
 * index), bits 1..13 num_entries, bits 14..63 pos_increment. Leaf: u64 runs
 * at 8 + 8i, start = pos + bits 0..44, length = bits 45..63. Index: u64 key
 * at 8 + 16i, u64 child at 16 + 16i, the child's pos equal to its key.
 */
function decodeImage(h: Handover): Decoded {
  const fdt = readFdt(h.fdt);
  expect(getString(fdt, 'compatible')).toBe('kho-v4');
  expect(fdt.props.get('preserved-memory-array')!.length).toBe(8);
  const raw = new RawImage(h.image);
  const out: Decoded = { folios: [], runs: [], leaves: [], indexes: [] };
  const visit = (block: bigint, depth: number, key: bigint): void => {
    expect(block % 4096n).toBe(0n);
    const header = raw.u64(block);
    const n = Number((header >> 1n) & 0x1fffn);
    expect(header >> 14n).toBe(key);
    if (header & 1n) {
      out.indexes.push({ children: n, depth });
      for (let i = 0n; i < BigInt(n); i++) visit(raw.u64(block + 16n + 16n * i), depth + 1, raw.u64(block + 8n + 16n * i));
      return;
    }
    out.leaves.push({ runs: n, depth });
    for (let i = 0n; i < BigInt(n); i++) {
      const run = raw.u64(block + 8n + 8n * i);
      const start = key + (run & ((1n << 45n) - 1n));
      const length = run >> 45n;
      out.runs.push({ start, length });
      for (let k = 0n; k < length; k++) out.folios.push(folioAt(start + k));
    }
  };
  visit(BigInt(getU64(fdt, 'preserved-memory-array')), 0, 0n);
  return out;
}

/** The README's invariants: leaves at one depth, blocks at least half full, an index root with 2 children, runs ascending. */
function expectShape(d: Decoded): void {
  expect(new Set(d.leaves.map((l) => l.depth)).size).toBe(1);
  const rooted = d.indexes.length > 0;
  for (const l of d.leaves) if (rooted) expect(l.runs).toBeGreaterThanOrEqual(256);
  for (const x of d.indexes) expect(x.children).toBeGreaterThanOrEqual(x.depth === 0 ? 2 : 128);
  for (let i = 1; i < d.runs.length; i++) expect(d.runs[i].start).toBeGreaterThanOrEqual(d.runs[i - 1].start + d.runs[i - 1].length);
}

/** The README's worst case: pages <= 1 + (1 + 1/127) * folios / 256. */
function boundPages(folios: number): number {
  return 1 + ((128 / 127) * folios) / 256;
}

// ---------------------------------------------------------------------------

const fdtOf = (t: Tracker): Folio => ({ phys: t.fdtPage, order: 0 });
const keyList = (folios: Iterable<Folio>): string[] => [...new Set([...folios].map((f) => `${f.phys.toString(16)}:${f.order}`))].sort();
const restored = (h: Handover): Folio[] => {
  const list = new FolioList();
  restoreHandover(h, list);
  const flat = list.toArray();
  const out: Folio[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ phys: flat[i], order: flat[i + 1] });
  return out;
};
const wideMachine = () =>
  new Machine({
    banks: [
      { start: 0, size: 8 * GiB },
      { start: 2 ** 51, size: 8 * GiB },
      { start: 2 ** 52 - 16 * GiB, size: 16 * GiB },
    ],
  });
const create = (machine = Machine.ofSize(64 * GiB)) => spec.create(machine) as KhoArrayTracker;

function expectErrno(fn: () => unknown, errno: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'KhoError', errno }));
}

/** Preserves, hands over, and checks the decoded image, its shape and the restore against `folios` (the FDT page added). */
function expectHolds(t: Tracker, folios: readonly Folio[]): Decoded {
  const h = handOver(t);
  const d = decodeImage(h);
  const want = keyList([...folios, fdtOf(t)]);
  expect(keyList(d.folios)).toEqual(want);
  expect(d.folios.length).toBe(want.length);
  expect(keyList(restored(h))).toEqual(want);
  expectShape(d);
  expect(d.leaves.length + d.indexes.length).toBe(t.heap.stats.pages);
  return d;
}

/** Deterministic [0, 1) numbers. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe('kho-array: format', () => {
  it('is registered with the kho-v4 ABI and a stateless lifecycle', () => {
    expect(spec.abi.compatible).toBe('kho-v4');
    expect(spec.abi.subtree).toBe('preserved-data+blob-size');
    expect(spec.lifecycle).toMatchObject({ unpreserve: true, abort: 'none', finalizeAgain: true, busyWhileFinalized: false, fdtPreserved: 'init' });
  });

  it('holds at boot one block, the root leaf, whose one run is the root FDT\'s page', () => {
    const t = create();
    expect(t.heap.stats.pages).toBe(1);
    const h = handOver(t);
    const raw = new RawImage(h.image);
    const root = BigInt(getU64(readFdt(h.fdt), 'preserved-memory-array'));
    expect(root).toBe(BigInt(t.root));
    expect(raw.u64(root)).toBe(1n << 1n); // flags 0, num_entries 1, pos 0
    expect(raw.u64(root + 8n)).toBe(positionOf(fdtOf(t)) | (1n << 45n));
    expect(decodeImage(h).folios).toEqual([fdtOf(t)]);
  });

  it('keeps consecutive folios of one order as one run, extending, prepending and joining', () => {
    const t = create();
    for (const pfn of [1, 2, 3, 5]) t.preserve(pfn * PAGE, 0);
    expect(decodeImage(handOver(t)).runs.slice(0, 2)).toEqual([
      { start: 1n, length: 3n },
      { start: 5n, length: 1n },
    ]);
    t.preserve(4 * PAGE, 0); // joins [1, 4) and [5, 6)
    t.preserve(0, 0); // prepends
    t.preserve(0, 1); // order 1 folio 0: position 2^40, a run of its own
    expect(decodeImage(handOver(t)).runs).toEqual([
      { start: 0n, length: 6n },
      { start: positionOf(fdtOf(t)), length: 1n },
      { start: 1n << 40n, length: 1n },
    ]);
    expectHolds(t, [0, 1, 2, 3, 4, 5].map((pfn) => ({ phys: pfn * PAGE, order: 0 })).concat([{ phys: 0, order: 1 }]));
  });

  it('never joins the last page of the address space (order 0) with order 1\'s first folio', () => {
    const t = create(wideMachine());
    expect(positionOf(fdtOf(t))).toBe((1n << 40n) - 1n); // the FDT page is the top page of RAM, pfn 2^40 - 1
    t.preserve(0, 1);
    const d = expectHolds(t, [{ phys: 0, order: 1 }]);
    expect(d.runs).toEqual([
      { start: (1n << 40n) - 1n, length: 1n },
      { start: 1n << 40n, length: 1n },
    ]);
  });

  it('holds 256 MiB of order-0 pages preserved one by one in one run', () => {
    const t = create();
    const folios: Folio[] = [];
    for (let pa = GiB; pa < GiB + 256 * 2 ** 20; pa += PAGE) {
      t.preserve(pa, 0);
      folios.push({ phys: pa, order: 0 });
    }
    expect(expectHolds(t, folios).runs).toContainEqual({ start: BigInt(GiB / PAGE), length: BigInt(2 ** 16) });
    expect(t.heap.stats.pages).toBe(1);
  });

  it('splits a full root leaf into two leaves of 256 runs under an index root that stays where it was', () => {
    const t = create();
    const root = t.root;
    const folios = Array.from({ length: 511 }, (_, i): Folio => ({ phys: 2 * i * PAGE, order: 0 }));
    for (const f of folios.slice(0, 510)) t.preserve(f.phys, f.order);
    expect(t.heap.stats.pages).toBe(1); // 511 runs with the FDT page's: full
    t.preserve(folios[510].phys, 0);
    const d = expectHolds(t, folios);
    expect(d.indexes).toEqual([{ children: 2, depth: 0 }]);
    expect(d.leaves).toEqual([
      { runs: 256, depth: 1 },
      { runs: 256, depth: 1 },
    ]);
    expect(getU64(readFdt(t.finalize()), 'preserved-memory-array')).toBe(root);
  });

  it('stays within the worst case of 16.13 bytes per folio plus one page on adversarial workloads', () => {
    const n = 40_000;
    const rnd = random(7);
    const workloads: Record<string, Folio[]> = {
      // No two folios adjacent: one run each.
      'ascending isolated pages': Array.from({ length: n }, (_, i) => ({ phys: 2 * i * PAGE, order: 0 })),
      'random isolated pages': Array.from({ length: n }, () => ({ phys: 2 * Math.floor(rnd() * 2 ** 22) * PAGE, order: 0 })),
      // Orders 0 and 1 alternate in address: neighbours never share an order.
      'alternating orders': Array.from({ length: n }, (_, i) => ({ phys: i * 4 * PAGE, order: i % 2 })),
      'random orders 0..18': Array.from({ length: n }, () => {
        const order = Math.floor(rnd() * 19);
        return { phys: Math.floor((rnd() * 60 * GiB) / (PAGE * 2 ** order)) * PAGE * 2 ** order, order };
      }),
    };
    for (const [name, folios] of Object.entries(workloads)) {
      const t = create();
      for (const f of folios) t.preserve(f.phys, f.order);
      const held = keyList([...folios, fdtOf(t)]).length;
      expectHolds(t, folios);
      expect(t.heap.stats.pages, name).toBeLessThanOrEqual(boundPages(held));
      console.log(`kho-array ${name}: ${held} folios, ${t.heap.stats.pages} pages, ${((t.heap.stats.pages * PAGE) / held).toFixed(2)} bytes per folio`);
      // Unpreserve 90% at random: blocks merge and even out, and the bound holds for what is left.
      const kept = folios.filter(() => rnd() < 0.1);
      const keep = new Set(keyList(kept));
      for (const f of folios) if (!keep.has(keyList([f])[0])) t.unpreserve(f.phys, f.order);
      const left = keyList([...kept, fdtOf(t)]).length;
      expectHolds(t, kept);
      expect(t.heap.stats.pages, `${name}, 90% unpreserved`).toBeLessThanOrEqual(boundPages(left));
      console.log(`kho-array ${name}, 90% unpreserved: ${left} folios, ${t.heap.stats.pages} pages, ${((t.heap.stats.pages * PAGE) / left).toFixed(2)} bytes per folio`);
    }
  });
});

describe('kho-array: a preserve that runs out of memory', () => {
  /** Every page the tracker holds, with its bytes. */
  const snapshot = (t: Tracker): Map<number, string> => {
    const out = new Map<number, string>();
    for (const pfn of t.heap.ownedPfns()) {
      const page = new Uint8Array(PAGE);
      t.heap.machine.mem.readPage(pfn, page, 0);
      out.set(pfn, Buffer.from(page).toString('hex'));
    }
    return out;
  };

  it('fails at each page a split needs (leaf, full root, the root moving down) leaving every byte as it was', () => {
    const t = create();
    // Ascending isolated pages: full leaves split 256 + 256 and only the last one fills on.
    const folios = Array.from({ length: 254 * 256 + 510 }, (_, i): Folio => ({ phys: 2 * i * PAGE, order: 0 }));
    for (const f of folios) t.preserve(f.phys, f.order);
    const d = decodeImage(handOver(t));
    expect(d.indexes).toEqual([{ children: 255, depth: 0 }]);
    expect(d.leaves.at(-1)).toEqual({ runs: 511, depth: 1 });
    const next = { phys: 2 * folios.length * PAGE, order: 0 };
    const before = snapshot(t);
    const stats = { ...t.heap.stats };
    for (let nth = 1; nth <= 3; nth++) {
      t.heap.injectFaults({ failNth: nth });
      expectErrno(() => t.preserve(next.phys, next.order), 'ENOMEM');
      t.heap.injectFaults({});
      expect(snapshot(t)).toEqual(before);
      expect({ pages: t.heap.stats.pages, bytes: t.heap.stats.bytes }).toEqual({ pages: stats.pages, bytes: stats.bytes });
    }
    t.preserve(next.phys, next.order);
    expect(t.heap.stats.pages).toBe(stats.pages + 3);
    const after = expectHolds(t, [...folios, next]);
    expect(after.indexes.filter((x) => x.depth === 0)).toEqual([{ children: 2, depth: 0 }]);
    expect(getU64(readFdt(t.finalize()), 'preserved-memory-array')).toBe(t.root);
  });
});

describe('kho-array: unpreserve', () => {
  it('shortens a run at either end, deletes a one-folio run, and cuts a run in two', () => {
    const t = create();
    for (let pfn = 10; pfn < 20; pfn++) t.preserve(pfn * PAGE, 0);
    t.preserve(30 * PAGE, 0);
    t.unpreserve(10 * PAGE, 0);
    t.unpreserve(19 * PAGE, 0);
    t.unpreserve(30 * PAGE, 0);
    t.unpreserve(14 * PAGE, 0);
    t.unpreserve(14 * PAGE, 0); // not there: a no-op
    t.unpreserve(14 * PAGE, 1); // another order: a no-op
    expect(decodeImage(handOver(t)).runs.slice(0, 2)).toEqual([
      { start: 11n, length: 3n },
      { start: 15n, length: 4n },
    ]);
  });

  it('needs a page to cut a run in a full leaf: under a page limit that unpreserve is ENOMEM and changes nothing', () => {
    const t = create();
    const folios = [0, 1, 2].map((pfn) => ({ phys: pfn * PAGE, order: 0 }));
    for (let i = 0; i < 509; i++) folios.push({ phys: (10 + 2 * i) * PAGE, order: 0 });
    for (const f of folios) t.preserve(f.phys, f.order);
    expect(decodeImage(handOver(t)).leaves).toEqual([{ runs: 511, depth: 0 }]); // [0, 3), 509 pages, the FDT page
    t.heap.injectFaults({ pageLimit: t.heap.stats.pages });
    expectErrno(() => t.unpreserve(PAGE, 0), 'ENOMEM');
    expectHolds(t, folios);
    t.unpreserve(0, 0); // shortening needs nothing
    t.heap.injectFaults({});
    t.unpreserve(PAGE, 0);
    expectHolds(t, folios.slice(2));
  });

  it('merges and evens out blocks as they empty, down to one root leaf again', () => {
    const t = create();
    const rnd = random(3);
    const folios = Array.from({ length: 20_000 }, (_, i): Folio => ({ phys: 2 * i * PAGE, order: 0 }));
    for (const f of folios) t.preserve(f.phys, f.order);
    expect(decodeImage(handOver(t)).indexes.length).toBeGreaterThan(0);
    const order = [...folios].sort(() => rnd() - 0.5);
    for (let i = 0; i < order.length; i++) {
      t.unpreserve(order[i].phys, 0);
      if (i % 4000 === 3999) expectHolds(t, order.slice(i + 1));
    }
    expect(t.heap.stats.pages).toBe(1);
    expectHolds(t, []);
  });
});

describe('kho-array: preserveRange', () => {
  it('keeps a range\'s folios out of runs that were there before it', () => {
    const t = create();
    for (let pfn = 0; pfn < 101; pfn++) t.preserve(pfn * PAGE, 0);
    t.preserveRange(101 * PAGE, 2 * PAGE); // pfns 101 and 102, both order 0
    expect(decodeImage(handOver(t)).runs.slice(0, 2)).toEqual([
      { start: 0n, length: 101n },
      { start: 101n, length: 2n },
    ]);
    t.preserve(200 * PAGE, 0); // a single preserve joins runs as usual
    t.preserve(103 * PAGE, 0);
    expect(decodeImage(handOver(t)).runs.slice(0, 2)).toEqual([
      { start: 0n, length: 101n },
      { start: 101n, length: 3n },
    ]);
  });

  it('rolls a failed range back without a page, in a full leaf, even where it touches runs that were there', () => {
    // A 1 GiB folio at 1 GiB; the range [2 GiB, 5 GiB + 4 KiB) is three 1 GiB folios, then a page.
    const t = create();
    const folios: Folio[] = [{ phys: GiB, order: 18 }];
    for (let i = 0; i < 508; i++) folios.push({ phys: 6 * GiB + 2 * i * PAGE, order: 0 });
    for (const f of folios) t.preserve(f.phys, f.order);
    expect(decodeImage(handOver(t)).leaves).toEqual([{ runs: 510, depth: 0 }]);
    t.heap.injectFaults({ pageLimit: t.heap.stats.pages });
    // The range's first folio takes the last free run; the page needs a split, and fails.
    expectErrno(() => t.preserveRange(2 * GiB, 3 * GiB + PAGE), 'ENOMEM');
    t.heap.injectFaults({});
    expectHolds(t, folios);
    expect(t.heap.stats.pages).toBe(1);
  });
});

describe('kho-array: restore of a corrupted image', () => {
  /** An index root over two leaves; the FDT page's run is the last run of the second. */
  function setup() {
    const t = create();
    for (let i = 0; i < 600; i++) t.preserve(2 * i * PAGE, 0);
    const mem = t.heap.machine.mem;
    const leaf = (i: number) => mem.load64(t.root + 16 + 16 * i);
    const header = (block: number) => mem.load64(block);
    const pos = (block: number) => Math.floor(header(block) / 2 ** 14);
    const runs = (block: number) => (mem.load32(block) >>> 1) & 0x1fff;
    /** Rewrites run i of a leaf as (start, length), start an absolute position. */
    const setRun = (block: number, i: number, start: number, length: number) => {
      const offset = start - pos(block);
      mem.store32(block + 8 + 8 * i, offset % 2 ** 32);
      mem.store32(block + 12 + 8 * i, Math.floor(offset / 2 ** 32) + length * 2 ** 13);
    };
    return { t, mem, leaf, pos, runs, setRun };
  }
  const restoreOf = (t: Tracker, fdt?: Uint8Array) => () => restoreHandover(handOver(t, fdt ? { fdt } : {}), new FolioList());

  it('accepts the intact image', () => {
    const { t, leaf, runs } = setup();
    expect([runs(t.root), runs(leaf(0)), runs(leaf(1))]).toEqual([2, 256, 345]);
    expect(restoreOf(t)().folios).toBe(601);
  });

  it('rejects runs out of order, within a leaf and across leaves', () => {
    const a = setup();
    a.setRun(a.leaf(0), 1, 0, 1); // run 0 is [0, 1): run 1 restarts at 0
    expectErrno(restoreOf(a.t), 'ECORRUPT');
    // The second leaf moved down to start where the first leaf's last run starts (its key and position agreeing).
    const b = setup();
    const lastOfFirst = 2 * 255;
    const second = b.leaf(1);
    b.mem.store64(b.t.root + 8 + 16, lastOfFirst);
    b.mem.store64(second, (b.mem.load64(second) % 2 ** 14) + lastOfFirst * 2 ** 14);
    expectErrno(restoreOf(b.t), 'ECORRUPT');
  });

  it('rejects an empty run, a run past the end of its order, an order above 18, and more runs than a page holds', () => {
    for (const [start, length] of [
      [2 ** 40 - 1, 0],
      [2 ** 40 - 1, 2],
      [19 * 2 ** 40, 1],
    ]) {
      const { t, leaf, runs, setRun } = setup();
      setRun(leaf(1), runs(leaf(1)) - 1, start, length);
      expectErrno(restoreOf(t), 'ECORRUPT');
    }
    const { t, mem, leaf } = setup();
    mem.store32(leaf(0), (mem.load32(leaf(0)) & ~0x3ffe) | (512 << 1));
    expectErrno(restoreOf(t), 'ECORRUPT');
  });

  it('rejects a child whose position is not its key, keys out of order, a block listed twice, and too many children', () => {
    for (const poke of [
      (m: Machine['mem'], root: number) => m.store64(root + 8 + 16, m.load64(root + 8 + 16) + 1),
      (m: Machine['mem'], root: number) => m.store64(root + 8, 1),
      (m: Machine['mem'], root: number) => m.store64(root + 16 + 16, m.load64(root + 16)),
      (m: Machine['mem'], root: number) => m.store64(root + 16, root),
      (m: Machine['mem'], root: number) => m.store32(root, (m.load32(root) & ~0x3ffe) | (256 << 1)),
    ]) {
      const { t, mem } = setup();
      poke(mem, t.root);
      expectErrno(restoreOf(t), 'ECORRUPT');
    }
  });

  it('rejects another compatible and a root pointer that is not 8 bytes or not a page of RAM', () => {
    const { t } = setup();
    const fdt = (props: Record<string, string | Uint8Array>) => writeFdt({ name: '', props });
    expectErrno(restoreOf(t, fdt({ compatible: 'kho-v2', 'preserved-memory-array': u64Prop(t.root) })), 'ENOEXEC');
    expectErrno(restoreOf(t, fdt({ compatible: 'kho-v4', 'preserved-memory-map': u64Prop(t.root) })), 'ENOEXEC');
    expectErrno(restoreOf(t, fdt({ compatible: 'kho-v4', 'preserved-memory-array': new Uint8Array(4) })), 'ENOEXEC');
    for (const bad of [t.root + 8, 9 * GiB, 2 ** 53]) {
      expectErrno(restoreOf(t, fdt({ compatible: 'kho-v4', 'preserved-memory-array': u64Prop(bad) })), 'ECORRUPT');
    }
  });
});
