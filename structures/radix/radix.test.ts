/**
 * The merged KHO radix tree. Expected numbers are worked out here from the
 * design (facts sheet, section 4), and the byte layout is checked by a
 * decoder written from the facts sheet alone: it reads the raw image bytes
 * with BigInt and shares no code with the tracker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getString, getU64, readFdt, u64Prop, writeFdt } from '../../src/fdt/fdt.ts';
import { FolioList, handOver, restoreHandover, type Folio, type Handover } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import { isKhoError } from '../../src/tracker/errors.ts';
import type { Tracker } from '../../src/tracker/tracker.ts';
import { structureSpec } from '../index.ts';
import { RawImage } from './raw-image.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const spec = structureSpec('radix');

// ---------------------------------------------------------------------------
// The format, from the facts sheet only.

/** key = (1 << (52 - o)) | (pa >> (12 + o)) */
function keyOf(f: Folio): bigint {
  return (1n << BigInt(52 - f.order)) | (BigInt(f.phys) >> BigInt(12 + f.order));
}

/** o = 52 - (index of the highest set bit), pa = (key without that bit) << (12 + o) */
function decodeKey(key: bigint): Folio {
  const top = key.toString(2).length - 1;
  const order = 52 - top;
  return { phys: Number((key ^ (1n << BigInt(top))) << BigInt(12 + order)), order };
}

/**
 * Walks the raw image: FDT "preserved-memory-map" -> root (level 5); levels
 * 5..1 are 512 u64 child addresses (0 = empty) indexed by 9 key bits each
 * (59:51, 50:42, 41:33, 32:24, 23:15); level 0 leaves are 512 u64 words,
 * key bits 14:0 = word * 64 + bit.
 */
function decodeImage(h: Handover): { folios: Folio[]; nodes: number } {
  const fdt = readFdt(h.fdt);
  expect(getString(fdt, 'compatible')).toBe('kho-v4');
  const raw = new RawImage(h.image);
  const folios: Folio[] = [];
  let nodes = 0;
  const visit = (node: bigint, level: number, prefix: bigint): void => {
    nodes++;
    expect(node % 4096n).toBe(0n);
    if (level === 0) {
      for (let w = 0n; w < 512n; w++) {
        const word = raw.u64(node + 8n * w);
        for (let b = 0n; word >> b !== 0n; b++) {
          if ((word >> b) & 1n) folios.push(decodeKey((prefix << 15n) | (w << 6n) | b));
        }
      }
      return;
    }
    for (let i = 0n; i < 512n; i++) {
      const child = raw.u64(node + 8n * i);
      if (child !== 0n) visit(child, level - 1, (prefix << 9n) | i);
    }
  };
  visit(BigInt(getU64(fdt, 'preserved-memory-map')), 5, 0n);
  return { folios, nodes };
}

/**
 * Pages the tree holds once `folios` have been preserved (unpreserve frees
 * nothing): the root, plus one node per distinct key prefix above the bits
 * each lower level resolves (level 4: key >> 51, ..., leaf: key >> 15).
 */
function expectedPages(folios: readonly Folio[]): number {
  const keys = folios.map(keyOf);
  let pages = 1;
  for (const shift of [51n, 42n, 33n, 24n, 15n]) pages += new Set(keys.map((k) => k >> shift)).size;
  return pages;
}

// ---------------------------------------------------------------------------

/** The root FDT's page: KHO core preserves it at boot (kho_alloc_preserve in kho_init), an order-0 folio in the tree. */
const fdtOf = (t: Tracker): Folio => ({ phys: t.fdtPage, order: 0 });

const keyList = (folios: Iterable<Folio>): string[] =>
  [...new Set([...folios].map((f) => `${f.phys.toString(16)}:${f.order}`))].sort();

function restored(h: Handover): { folios: Folio[]; objects: number } {
  const list = new FolioList();
  const stats = restoreHandover(h, list);
  const flat = list.toArray();
  const folios: Folio[] = [];
  for (let i = 0; i < flat.length; i += 2) folios.push({ phys: flat[i], order: flat[i + 1] });
  return { folios, objects: stats.metadataObjectsRead };
}

/** RAM low, in the middle of the address space and just below 2^52. */
const wideBanks = [
  { start: 0, size: 8 * GiB },
  { start: 2 ** 51, size: 8 * GiB },
  { start: 2 ** 52 - 16 * GiB, size: 16 * GiB },
];
const wideMachine = () => new Machine({ banks: wideBanks });

function expectErrno(fn: () => unknown, errno: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'KhoError', errno }));
}

describe('radix: metadata cost', () => {
  it('holds at boot the root and the path of the root FDT\'s page: 6 pages', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    // The FDT page is the top page of RAM here (the heap's first page): an order-0 key of its own.
    expect(t.fdtPage).toBe(4 * GiB - 4096);
    expect(t.heap.stats.pages).toBe(1 + 4 + 1);
    expect(t.heap.stats.pages).toBe(expectedPages([fdtOf(t)]));
  });

  it('one order-0 page costs the root, 4 tables and 1 leaf; 128 MiB of order-0 pages share the leaf', () => {
    // Alone, an order-0 page costs the root, 4 tables and a leaf: the path the FDT page takes at boot.
    const t = spec.create(Machine.ofSize(128 * GiB));
    const boot = t.heap.stats.pages;
    expect(boot).toBe(1 + 4 + 1);
    expect(boot).toBe(expectedPages([fdtOf(t)]));
    // The FDT page (pfn 2^25 - 1, the top of 128 GiB) shares levels 5..2 with page 1 (key bits 59:33 equal),
    // not level 1 (a level-1 node spans 64 GiB of order 0: key bits 32:24 differ) nor the leaf.
    t.preserve(0x1000, 0);
    expect(t.heap.stats.pages - boot).toBe(1 + 1);
    t.preserve(0x2000, 0);
    t.preserve(128 * MiB - 0x1000, 0); // last page under the same 32768-bit leaf
    expect(t.heap.stats.pages - boot).toBe(2);
    t.preserve(128 * MiB, 0); // the next leaf; levels 1..5 shared
    expect(t.heap.stats.pages - boot).toBe(3);
  });

  it('has depth 6 for every order: one folio of any order alone (besides the FDT page) costs 6 pages', () => {
    for (let order = 1; order <= 18; order++) {
      const t = spec.create(Machine.ofSize(4 * GiB));
      const boot = t.heap.stats.pages;
      t.preserve(2 ** (12 + order), order);
      // Another order: its own root slot or level-4 node (order 1: root slot 1; orders >= 2: root slot 0), so 5 new nodes.
      expect(t.heap.stats.pages - boot, `order ${order}`).toBe(5);
      expect(t.heap.stats.pages, `order ${order}`).toBe(expectedPages([fdtOf(t), { phys: 2 ** (12 + order), order }]));
    }
  });

  it('shares nodes between orders exactly where their keys share prefixes', () => {
    // Orders >= 2 share root slot 0 (key bits 59:51 are 0) and so one level 4 node;
    // orders 0 and 1 have root slots 2 and 1 of their own.
    const folios: Folio[] = [
      { phys: 0, order: 2 },
      { phys: 0, order: 3 },
      { phys: 0, order: 0 },
      { phys: 0, order: 1 },
    ];
    const t = spec.create(Machine.ofSize(4 * GiB));
    const boot = t.heap.stats.pages;
    for (const f of folios) t.preserve(f.phys, f.order);
    // Order 2: 5 nodes; order 3 shares root slot 0 and the level 4 node: 4; order 0 shares the FDT page's
    // path down to level 1 (pfn < 2^24): 1 leaf; order 1: root slot 1 of its own, 5.
    expect(t.heap.stats.pages - boot).toBe(5 + 4 + 1 + 5);
    expect(t.heap.stats.pages).toBe(expectedPages([fdtOf(t), ...folios]));
  });

  it('covers 16 GiB of order-0 memory with 512 KiB of leaves (128 leaves)', () => {
    // The FDT page (the top page of 64 GiB of RAM, order 0) shares levels 5..1 with them (level 1 spans 64 GiB): one leaf more.
    const t = spec.create(Machine.ofSize(64 * GiB));
    const leafSpan = 32768 * 4096; // 128 MiB
    for (let pa = 0; pa < 16 * GiB; pa += leafSpan) {
      t.preserve(pa, 0);
      t.preserve(pa + leafSpan - 4096, 0);
    }
    const leaves = (16 * GiB) / leafSpan;
    expect(leaves).toBe(128);
    const tables = 1 + 4; // 16 GiB of order 0 is 2^22 keys: one node at each of levels 5..1 (level 1 spans 2^24)
    const fdtLeaf = 1;
    expect(t.heap.stats.pages).toBe(tables + leaves + fdtLeaf);
    expect((t.heap.stats.pages - tables - fdtLeaf) * 4096).toBe(512 * 1024);
    // Filling one leaf completely costs nothing more.
    for (let pa = 0; pa < leafSpan; pa += 4096) t.preserve(pa, 0);
    expect(t.heap.stats.pages).toBe(tables + leaves + fdtLeaf);
    t.preserve(16 * GiB, 0);
    expect(t.heap.stats.pages).toBe(tables + leaves + fdtLeaf + 1);
  });

  it('unpreserve clears the bit and frees no node', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    t.preserve(0x4000_0000, 9);
    t.unpreserve(0x4000_0000, 9);
    t.unpreserve(0x8000_0000, 9); // never preserved: a no-op
    t.unpreserve(2 ** 31 + 0x2000, 1); // no path at all (order 1 has no root slot yet): the kernel WARNs; a no-op that allocates nothing
    const pages = expectedPages([fdtOf(t), { phys: 0x4000_0000, order: 9 }]);
    expect(t.heap.stats.pages).toBe(pages);
    const h = handOver(t);
    expect(decodeImage(h)).toEqual({ folios: [fdtOf(t)], nodes: pages });
    expect(restored(h).folios).toEqual([fdtOf(t)]);
  });
});

describe('radix: a failed add (kho_radix_add_page on ENOMEM)', () => {
  /** Every page the tracker holds, with its bytes: the metadata as the hand-over would carry it. */
  const snapshot = (t: Tracker): Map<number, string> => {
    const mem = t.heap.machine.mem;
    const out = new Map<number, string>();
    for (const pfn of t.heap.ownedPfns()) {
      const page = new Uint8Array(4096);
      mem.readPage(pfn, page, 0);
      out.set(pfn, Buffer.from(page).toString('hex'));
    }
    return out;
  };

  it('frees the nodes it allocated and clears the slot its new branch began at: the metadata is byte for byte as before', () => {
    // Order 1 at 2^51: a new root slot (1), so a 5-node branch; fail each of its allocations in turn.
    for (let nth = 1; nth <= 5; nth++) {
      const t = spec.create(wideMachine());
      t.preserve(0x20_0000, 9);
      const before = snapshot(t);
      const stats = { pages: t.heap.stats.pages, bytes: t.heap.stats.bytes };
      t.heap.injectFaults({ failNth: nth });
      expectErrno(() => t.preserve(2 ** 51, 1), 'ENOMEM');
      t.heap.injectFaults({});
      expect({ pages: t.heap.stats.pages, bytes: t.heap.stats.bytes }).toEqual(stats);
      expect(snapshot(t)).toEqual(before);
      // The tree works on: the same add now succeeds.
      t.preserve(2 ** 51, 1);
      expect(keyList(restored(handOver(t)).folios)).toEqual(keyList([{ phys: 0x20_0000, order: 9 }, { phys: 2 ** 51, order: 1 }, fdtOf(t)]));
    }
  });
});

describe('radix: byte layout', () => {
  it('places a known folio exactly where the facts sheet says', () => {
    // 128 GiB: the FDT page is the top page, pfn 2^25 - 1, key 2^52 | (2^25 - 1): level-2 slot 1, apart from the folio's slot 0.
    const machine = Machine.ofSize(128 * GiB);
    const t = spec.create(machine);
    expect(t.fdtPage).toBe(128 * GiB - 4096);
    const phys = 0x8000_1000; // order 0: key = 2^52 | 0x80001
    t.preserve(phys, 0);
    const h = handOver(t);
    const raw = new RawImage(h.image);
    const fdt = readFdt(h.fdt);
    expect([...fdt.props.keys()].sort()).toEqual(['compatible', 'preserved-memory-map']);
    expect(fdt.props.get('preserved-memory-map')!.length).toBe(8);
    // key bits 59:51 = 2, 50:42 = 0, 41:33 = 0, 32:24 = 0, 23:15 = 0x10, 14:0 = 1; the FDT page's key has 32:24 = 1.
    let node = BigInt(getU64(fdt, 'preserved-memory-map'));
    for (const [index, level, also] of [[2n, 5, -1n], [0n, 4, -1n], [0n, 3, -1n], [0n, 2, 1n], [0x10n, 1, -1n]] as const) {
      for (let i = 0n; i < 512n; i++) {
        if (i !== index && i !== also) expect(raw.u64(node + 8n * i), `level ${level} slot ${i}`).toBe(0n);
      }
      if (also >= 0n) expect(raw.u64(node + 8n * also), `level ${level} slot ${also}`).not.toBe(0n);
      node = raw.u64(node + 8n * index);
      expect(node, `level ${level}`).not.toBe(0n);
    }
    expect(raw.u8(node)).toBe(0b10); // bit 1 of u64 word 0
    for (let off = 1n; off < 4096n; off++) expect(raw.u8(node + off)).toBe(0);
    // 6 nodes on the folio's path, the FDT page's level-1 node and leaf, and the FDT page itself.
    expect(raw.pages).toBe(6 + 2 + 1);
    expect(keyList(decodeImage(h).folios)).toEqual(keyList([{ phys, order: 0 }, fdtOf(t)]));
  });

  it('stores the bit of key bit 14:0 = b in u64 word b >> 6 at bit b & 63 (both u32 halves)', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    const folios = [0, 31, 32, 63, 64, 32767].map((b): Folio => ({ phys: b * 4096, order: 0 }));
    for (const f of folios) t.preserve(f.phys, f.order);
    const h = handOver(t);
    expect(keyList(decodeImage(h).folios)).toEqual(keyList([...folios, fdtOf(t)]));
    const raw = new RawImage(h.image);
    let node = BigInt(getU64(readFdt(h.fdt), 'preserved-memory-map'));
    node = raw.u64(node + 16n);
    for (let i = 0; i < 4; i++) node = raw.u64(node);
    expect(raw.u64(node)).toBe((1n << 0n) | (1n << 31n) | (1n << 32n) | (1n << 63n));
    expect(raw.u64(node + 8n)).toBe(1n);
    expect(raw.u64(node + 8n * 511n)).toBe(1n << 63n);
  });

  it('publishes only the root pointer: the hand-over allocates and serializes nothing', () => {
    const t = spec.create(wideMachine());
    t.preserve(2 ** 51, 18);
    const before = { ...t.heap.stats };
    const fdt = t.finalize();
    expect(t.heap.stats).toEqual(before);
    expect(t.finalized).toBe(false);
    expect(t.serializes).toBe(false);
    const root = readFdt(fdt);
    expect(getString(root, 'compatible')).toBe('kho-v4');
    expect(t.heap.ownedPfns()).toContain(getU64(root, 'preserved-memory-map') / 4096);
  });
});

describe('radix: round trip', () => {
  const workload = wideMachine().workloadBanks;
  const anywhere = fc
    .record({ bank: fc.nat(workload.length - 1), order: fc.nat(18), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) })
    .map(({ bank, order, at }): Folio => {
      const b = workload[bank];
      const size = 4096 * 2 ** order;
      const first = Math.ceil(b.start / size);
      return { phys: (first + Math.floor(at * (Math.floor((b.start + b.size) / size) - first))) * size, order };
    });
  // Clustered folios, so that leaves and tables are shared.
  const near = fc
    .record({ bank: fc.nat(workload.length - 1), order: fc.nat(18), n: fc.nat(40) })
    .map(({ bank, order, n }): Folio => {
      const b = workload[bank];
      const size = 4096 * 2 ** order;
      const first = Math.ceil(b.start / size);
      return { phys: (first + (n % (Math.floor((b.start + b.size) / size) - first))) * size, order };
    });
  const ops = fc.array(
    fc.record({ folio: fc.oneof(anywhere, near), drop: fc.nat(4) }),
    { minLength: 0, maxLength: 150 },
  );

  it('restores exactly the preserved set, and the raw bytes decode to it (orders 0..18, addresses up to 2^52)', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const t = spec.create(wideMachine());
        const live = new Map<string, Folio>([[`${t.fdtPage}:0`, fdtOf(t)]]);
        const ever: Folio[] = [fdtOf(t)];
        for (const { folio, drop } of list) {
          t.preserve(folio.phys, folio.order);
          live.set(`${folio.phys}:${folio.order}`, folio);
          ever.push(folio);
          if (drop === 0) {
            // Unpreserve a random earlier folio.
            const victim = ever[(folio.phys / 4096 + folio.order) % ever.length];
            t.unpreserve(victim.phys, victim.order);
            live.delete(`${victim.phys}:${victim.order}`);
          }
        }
        const pages = expectedPages(ever);
        expect(t.heap.stats.pages).toBe(pages);
        const h = handOver(t);
        const back = restored(h);
        expect(keyList(back.folios)).toEqual(keyList(live.values()));
        expect(back.folios.length).toBe(live.size);
        expect(back.objects).toBe(pages);
        const raw = decodeImage(h);
        expect(keyList(raw.folios)).toEqual(keyList(live.values()));
        expect(raw.nodes).toBe(pages);
      }),
      { numRuns: 40, seed: 0x7261 },
    );
  });

  it('restores in key order: orders 18 down to 0, addresses ascending within an order', () => {
    const t = spec.create(wideMachine());
    const folios: Folio[] = [
      { phys: 2 ** 51, order: 0 },
      { phys: 0x1000, order: 0 },
      { phys: 2 ** 52 - 16 * GiB, order: 18 },
      { phys: 0, order: 18 },
      { phys: 0x20_0000, order: 9 },
    ];
    for (const f of folios) t.preserve(f.phys, f.order);
    const sorted = [...folios, fdtOf(t)].sort((a, b) => Number(keyOf(a) - keyOf(b)));
    expect(restored(handOver(t)).folios).toEqual(sorted);
  });
});

describe('radix: a corrupt hand-over', () => {
  /** A tracker with something preserved, its root, and a way to hand it over after tampering. */
  function setup(machine = wideMachine(), folios: readonly Folio[] = [{ phys: 0x20_0000, order: 9 }, { phys: 2 ** 51 + 0x3000, order: 0 }]) {
    const t = spec.create(machine);
    for (const f of folios) t.preserve(f.phys, f.order);
    const root = getU64(readFdt(t.finalize()), 'preserved-memory-map');
    return { t, mem: machine.mem, root };
  }
  const restoreWith = (t: Tracker, fdt?: Uint8Array) => () => restoreHandover(handOver(t, { fdt }), new FolioList());
  const fdtWith = (props: Record<string, string | Uint8Array>) => writeFdt({ name: '', props });

  it('accepts exactly the kho-v4 ABI: other compatibles (kho-v2, kho-v3 included) and a short map pointer are ENOEXEC', () => {
    const { t, root } = setup();
    for (const compatible of ['kho-v1', 'kho-v2', 'kho-v3', 'kho-v5']) {
      expectErrno(restoreWith(t, fdtWith({ compatible, 'preserved-memory-map': u64Prop(root) })), 'ENOEXEC');
    }
    expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v4' })), 'ENOEXEC');
    expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v4', 'preserved-memory-map': u64Prop(root).subarray(0, 4) })), 'ENOEXEC');
    expect(restoreHandover(handOver(t, { fdt: fdtWith({ compatible: 'kho-v4', 'preserved-memory-map': u64Prop(root) }) }), new FolioList()).folios).toBe(3);
  });

  it('rejects a root pointer that is not a page-aligned page of RAM', () => {
    const { t, root } = setup();
    for (const bad of [root + 8, root + 0x800, 0x10_0000_0000, 2 ** 52, 2 ** 53 + 2 ** 40]) {
      expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v4', 'preserved-memory-map': u64Prop(bad) })), 'ECORRUPT');
    }
  });

  it('rejects a table entry that is not a page-aligned page of RAM', () => {
    const { t, mem, root } = setup();
    mem.store64(root + 2 * 8, mem.load64(root + 2 * 8) + 8);
    expectErrno(restoreWith(t), 'ECORRUPT');
    mem.store64(root + 2 * 8, 9 * GiB);
    expectErrno(restoreWith(t), 'ECORRUPT');
    mem.store32(root + 2 * 8 + 4, 0xffff_ffff); // above 2^53
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  it('rejects a pointer into the middle of a page, even one that would read as an empty leaf', () => {
    const { t, mem, root } = setup(wideMachine(), [{ phys: 0x1000, order: 0 }]);
    t.unpreserve(0x1000, 0); // the leaf is all zero
    let level1 = root;
    for (const i of [2, 0, 0, 0]) level1 = mem.load64(level1 + i * 8);
    expect(restoreHandover(handOver(t), new FolioList()).folios).toBe(1); // the FDT page alone
    mem.store64(level1, mem.load64(level1) + 8);
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  /** Builds root[path[0]] -> ... -> leaf with fresh pages, returns the leaf. */
  function chain(t: Tracker, mem: Machine['mem'], root: number, path: readonly number[]): number {
    let node = root;
    for (const i of path) {
      let child = mem.load64(node + i * 8);
      if (child === 0) {
        child = t.heap.allocPage();
        mem.store64(node + i * 8, child);
      }
      node = child;
    }
    return node;
  }

  it('rejects a leaf whose keys have no order bit (key 0) or an order above 18 or below 0', () => {
    for (const path of [
      [0, 0, 0, 0, 0], // keys 0..32767: no order bit
      [0, 0, 1, 0, 0], // key bit 33: order 19
      [0, 0, 0, 0, 1], // key bit 15: order 37
      [4, 0, 0, 0, 0], // key bit 53: order -1
      [511, 0, 0, 0, 0], // key bits 59:51 all set
    ]) {
      const { t, mem, root } = setup();
      chain(t, mem, root, path); // an empty leaf is already corrupt there
      expectErrno(restoreWith(t), 'ECORRUPT');
    }
    // A table that points back at the root reaches a leaf at key 0.
    const { t, mem, root } = setup();
    mem.store64(root, root);
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  it('rejects a set bit for a folio outside RAM', () => {
    const machine = new Machine({ banks: [{ start: 0, size: 64 * MiB }, { start: GiB, size: 256 * MiB }] });
    const { t, mem, root } = setup(machine, [{ phys: 0x5000, order: 0 }]);
    // Key 2^52 | (100 MiB >> 12): a 4 KiB page in the hole between the banks, in the leaf of address 0.
    const leaf = chain(t, mem, root, [2, 0, 0, 0, 0]);
    const bit = (100 * MiB) / 4096;
    mem.store32(leaf + (bit >> 5) * 4, 1 << (bit & 31));
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  it('throws only KhoError, whatever the image bytes say', () => {
    const base = spec.create(wideMachine());
    for (let i = 0; i < 50; i++) base.preserve(2 ** 51 + i * (2 ** 27 + 2 ** 21), i % 3 ? 0 : 9);
    base.preserve(0, 18);
    const h = handOver(base);
    const pfns = [...h.image.pfns, ...h.image.zeroPfns];
    const dataPages = h.image.pfns.length;
    const poke = fc.record({
      page: fc.nat(dataPages - 1),
      slot: fc.nat(511),
      value: fc.oneof(
        fc.constantFrom(...pfns).map((pfn) => pfn * 4096), // another metadata page: follow it
        fc.constantFrom(...pfns).map((pfn) => pfn * 4096 + 8),
        fc.nat(0xffff_ffff).map((v) => v * 4096), // any page, most not RAM
        fc.nat(0xffff_ffff),
        fc.constant(0),
        fc.constant(2 ** 53 + 2 ** 52),
      ),
    });
    fc.assert(
      fc.property(fc.array(poke, { minLength: 1, maxLength: 8 }), (pokes) => {
        const data = h.image.data.slice();
        const view = new DataView(data.buffer);
        for (const { page, slot, value } of pokes) {
          view.setUint32(page * 4096 + slot * 8, value >>> 0, true);
          view.setUint32(page * 4096 + slot * 8 + 4, Math.floor(value / 2 ** 32) >>> 0, true);
        }
        try {
          restoreHandover({ ...h, image: { ...h.image, data } }, new FolioList());
        } catch (e) {
          expect(isKhoError(e, 'ECORRUPT'), String(e)).toBe(true);
        }
      }),
      { numRuns: 300, seed: 0x6b68 },
    );
  });
});
