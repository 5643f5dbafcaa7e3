/**
 * RFC v1's per-order page tables. Expected numbers are worked out here from
 * the design (facts sheet, section 3), and the byte layout is checked by a
 * decoder written from the facts sheet alone: it reads the raw image bytes
 * with BigInt and shares no code with the tracker.
 *
 * RFC v1 has order-table slots for orders 0..9 (HUGETLB_PAGE_ORDER) only,
 * no unpreserve and no rollback of a failed range preserve; KHO core's root
 * FDT page is an order-0 folio in the tree from boot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getString, getU64, readFdt, u64Prop, writeFdt } from '../../src/fdt/fdt.ts';
import { FolioList, handOver, restoreHandover, type Folio, type Handover } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import { saveTestKho } from '../../src/kexec/test-kho.ts';
import { isKhoError } from '../../src/tracker/errors.ts';
import type { Tracker } from '../../src/tracker/tracker.ts';
import { structureSpec } from '../index.ts';
import { RawImage } from '../radix/raw-image.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const spec = structureSpec('radix-rfc');

// ---------------------------------------------------------------------------
// The format, from the facts sheet only.

/** Levels of order o's tree, bitmap included: ceil((64 - (27 + o)) / 9) + 1. */
const levelsOf = (order: number): number => Math.ceil((64 - (27 + order)) / 9) + 1;
const U64_MASK = (1n << 64n) - 1n;

/**
 * Walks the raw image: FDT "preserved-order-table" -> order table (u64
 * per order) -> per order, its tables (512 u64 next-level addresses, each
 * resolving the next 9 address bits above the bitmap's, up to bit 63) ->
 * bitmaps (512 u64 words: word (pa >> (18 + o)) & 511, bit (pa >> (12 +
 * o)) & 63).
 */
function decodeImage(h: Handover): { folios: Folio[]; pages: number } {
  const fdt = readFdt(h.fdt);
  expect(getString(fdt, 'compatible')).toBe('kho-v1');
  const raw = new RawImage(h.image);
  const orderTable = BigInt(getU64(fdt, 'preserved-order-table'));
  const folios: Folio[] = [];
  let pages = 1;
  // RFC v1 reads slots 0..9 only; this writer leaves the rest of the page zero.
  for (let slot = 10n; slot < 512n; slot++) expect(raw.u64(orderTable + 8n * slot)).toBe(0n);
  for (let order = 0; order <= 9; order++) {
    const o = BigInt(order);
    const visit = (page: bigint, level: number, pa: bigint): void => {
      pages++;
      expect(page % 4096n).toBe(0n);
      if (level === 0) {
        for (let w = 0n; w < 512n; w++) {
          const word = raw.u64(page + 8n * w);
          for (let b = 0n; word >> b !== 0n; b++) {
            if ((word >> b) & 1n) folios.push({ phys: Number(pa | (w << (18n + o)) | (b << (12n + o))), order });
          }
        }
        return;
      }
      const lowBit = 27n + o + 9n * BigInt(level - 1);
      for (let i = 0n; i < 512n; i++) {
        const child = raw.u64(page + 8n * i);
        if (child !== 0n) visit(child, level - 1, pa | ((i << lowBit) & U64_MASK));
      }
    };
    const top = raw.u64(orderTable + 8n * o);
    if (top !== 0n) visit(top, levelsOf(order) - 1, 0n);
  }
  return { folios, pages };
}

/**
 * Pages held once `folios` have been preserved (unpreserve frees nothing):
 * the order table, plus per order one page per distinct address prefix
 * above each level (bitmap: pa >> (27 + o); table level j: pa >> (27 + o +
 * 9j); the top table's prefix is pa >> 64 or more, always 0: one per order).
 */
function expectedPages(folios: readonly Folio[]): number {
  let pages = 1;
  for (let order = 0; order <= 9; order++) {
    const pas = folios.filter((f) => f.order === order).map((f) => BigInt(f.phys));
    if (pas.length === 0) continue;
    for (let j = 0; j < levelsOf(order); j++) {
      const shift = BigInt(27 + order + 9 * j);
      pages += new Set(pas.map((pa) => pa >> shift)).size;
    }
  }
  return pages;
}

// ---------------------------------------------------------------------------

/** The root FDT's page: preserved at boot, an order-0 folio in the tree. */
const fdtOf = (t: Tracker): Folio => ({ phys: t.fdtPage, order: 0 });

/** Table indices on the way down to `pa`'s bitmap in order `order`'s tree: top (bits 63 and up to 55), then 9 bits a level. */
function pathOf(pa: number, order: number): bigint[] {
  const a = BigInt(pa);
  const lows: bigint[] = [];
  for (let j = levelsOf(order) - 1; j >= 1; j--) lows.push(BigInt(27 + order + 9 * (j - 1)));
  return lows.map((low, i) => (a >> low) & (i === 0 ? (1n << (64n - low)) - 1n : 511n));
}

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

const wideBanks = [
  { start: 0, size: 8 * GiB },
  { start: 2 ** 51, size: 8 * GiB },
  { start: 2 ** 52 - 16 * GiB, size: 16 * GiB },
];
const wideMachine = () => new Machine({ banks: wideBanks });

function expectErrno(fn: () => unknown, errno: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'KhoError', errno }));
}

describe('radix-rfc: metadata cost', () => {
  it('holds at boot the order table and the FDT page\'s order-0 tree: 1 + 5 tables + 1 bitmap', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    expect(t.fdtPage).toBe(4 * GiB - 4096);
    expect(t.heap.stats.pages).toBe(1 + 5 + 1);
    expect(t.heap.stats.pages).toBe(expectedPages([fdtOf(t)]));
  });

  it('has 6 levels for order 0 and 5 for orders 1..9; any other order alone costs a whole tree', () => {
    expect(Array.from({ length: 10 }, (_, o) => levelsOf(o))).toEqual([6, ...Array(9).fill(5)]);
    for (let order = 1; order <= 9; order++) {
      const t = spec.create(Machine.ofSize(4 * GiB));
      const boot = t.heap.stats.pages;
      t.preserve(2 ** (12 + order), order);
      expect(t.heap.stats.pages - boot, `order ${order}`).toBe(levelsOf(order));
    }
  });

  it('shares an order-0 tree with the FDT page down to the level whose prefix differs; 128 MiB share a bitmap', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    const boot = t.heap.stats.pages;
    // Address bits 63..36 of page 1 and of the FDT page (4 GiB - 4 KiB) agree; bits 35:27 (the bitmap) differ.
    t.preserve(0x1000, 0);
    expect(t.heap.stats.pages - boot).toBe(1);
    t.preserve(0x2000, 0);
    t.preserve(128 * MiB - 0x1000, 0);
    expect(t.heap.stats.pages - boot).toBe(1);
    t.preserve(128 * MiB, 0); // the next bitmap; the level above spans 2^36 bytes
    expect(t.heap.stats.pages - boot).toBe(2);
    expect(t.heap.stats.pages).toBe(expectedPages([fdtOf(t), { phys: 0x1000, order: 0 }, { phys: 128 * MiB, order: 0 }]));
  });

  it('gives each order its own tree: a bitmap of order o covers 2^(27 + o) bytes', () => {
    const t = spec.create(Machine.ofSize(64 * GiB));
    let pages = t.heap.stats.pages;
    for (let order = 1; order <= 8; order++) {
      const folio = 4096 * 2 ** order;
      const span = 2 ** (27 + order);
      t.preserve(0, order);
      pages += levelsOf(order); // orders share nothing below the order table
      t.preserve(span - folio, order);
      expect(t.heap.stats.pages, `order ${order}`).toBe(pages);
      t.preserve(span, order);
      pages += 1;
      expect(t.heap.stats.pages, `order ${order}`).toBe(pages);
    }
  });

  it('has no unpreserve (EOPNOTSUPP), and the refused call changes nothing', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    t.preserve(0x4000_0000, 9);
    const pages = t.heap.stats.pages;
    expectErrno(() => t.unpreserve(0x4000_0000, 9), 'EOPNOTSUPP');
    expect(() => t.unpreserve(0x4000_0000, 9)).toThrow('radix-rfc has no unpreserve: RFC v1 never had one');
    expect(t.heap.stats.pages).toBe(pages);
    const h = handOver(t);
    expect(keyList(decodeImage(h).folios)).toEqual(keyList([{ phys: 0x4000_0000, order: 9 }, fdtOf(t)]));
    expect(keyList(restored(h).folios)).toEqual(keyList([{ phys: 0x4000_0000, order: 9 }, fdtOf(t)]));
  });
});

describe('radix-rfc: orders 10..18 have no slot (ERANGE)', () => {
  it('refuses a folio of order 10..18, allocating nothing and writing nothing past slot 9', () => {
    const t = spec.create(wideMachine());
    t.preserve(0x20_0000, 9);
    const pages = t.heap.stats.pages;
    for (let order = 10; order <= 18; order++) {
      expect(() => t.preserve(2 ** 51, order)).toThrow(
        `ERANGE: RFC v1 has no slot for order ${order} (orders 0..9): the kernel would silently lose this folio`,
      );
    }
    expect(t.heap.stats.pages).toBe(pages);
    const h = handOver(t);
    const d = decodeImage(h); // checks slots 10..511 are zero
    expect(keyList(d.folios)).toEqual(keyList([{ phys: 0x20_0000, order: 9 }, fdtOf(t)]));
    expect(d.pages).toBe(pages);
  });

  it('fails a range preserve at its first folio of order 10 and keeps what it preserved before (RFC v1 has no rollback)', () => {
    const t = spec.create(wideMachine());
    // The greedy split of 0x1ff000..0x80_3000: order 0 at 0x1ff000, order 9 at 0x20_0000, then order 10 at
    // 0x40_0000 (4 MiB aligned, and 4 MiB fit before the end).
    expectErrno(() => t.preserveRange(0x1ff000, 0x80_3000 - 0x1ff000), 'ERANGE');
    expect(keyList(decodeImage(handOver(t)).folios)).toEqual(
      keyList([{ phys: 0x1ff000, order: 0 }, { phys: 0x20_0000, order: 9 }, fdtOf(t)]),
    );
  });

  it('cannot run the kernel\'s test_kho with its orders 0..10: the order-10 folio is refused', () => {
    const t = spec.create(wideMachine());
    expectErrno(() => saveTestKho(t, { seed: 42 }), 'ERANGE');
  });

  it('restores slots 0..9 and reads nothing else of the order table, as RFC v1 does', () => {
    const t = spec.create(wideMachine());
    t.preserve(0x20_0000, 9);
    const orderTable = getU64(readFdt(t.finalize()), 'preserved-order-table');
    const want = keyList(restored(handOver(t)).folios);
    const mem = t.heap.machine.mem;
    // A slot past 9 pointing at a bitmap-like page full of bits, and garbage further on: ignored.
    const page = t.heap.allocPage();
    for (let off = 0; off < 4096; off += 4) mem.store32(page + off, 0xffff_ffff);
    for (const slot of [10, 18, 19, 511]) mem.store64(orderTable + 8 * slot, page);
    mem.store64(orderTable + 8 * 12, 0x123);
    expect(keyList(restored(handOver(t)).folios)).toEqual(want);
  });
});

describe('radix-rfc: byte layout', () => {
  /**
   * Follows `path` from order `order`'s top table; checks every other entry
   * on the way is empty, except where `other` (the FDT page, order 0) has
   * its own path through the same tables.
   */
  function follow(raw: RawImage, orderTable: bigint, order: number, path: readonly bigint[], other: Folio): bigint {
    for (let slot = 0n; slot < 512n; slot++) {
      if (slot !== BigInt(order) && slot !== BigInt(other.order)) expect(raw.u64(orderTable + 8n * slot), `order table slot ${slot}`).toBe(0n);
    }
    const otherPath = other.order === order ? pathOf(other.phys, order) : [];
    let page = raw.u64(orderTable + 8n * BigInt(order));
    let shared = otherPath.length > 0;
    path.forEach((index, k) => {
      const also = shared ? otherPath[k] : -1n;
      for (let i = 0n; i < 512n; i++) if (i !== index && i !== also) expect(raw.u64(page + 8n * i)).toBe(0n);
      shared &&= also === index;
      page = raw.u64(page + 8n * index);
      expect(page).not.toBe(0n);
    });
    return page;
  }

  it('splits an order-0 address as 63 | 62:54 | 53:45 | 44:36 | 35:27 | 26:0', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    const phys = 0x8000_1000;
    t.preserve(phys, 0);
    const h = handOver(t);
    const raw = new RawImage(h.image);
    const fdt = readFdt(h.fdt);
    expect([...fdt.props.keys()].sort()).toEqual(['compatible', 'preserved-order-table']);
    expect(fdt.props.get('preserved-order-table')!.length).toBe(8);
    const pa = BigInt(phys);
    const path = [63n, 54n, 45n, 36n, 27n].map((low) => (pa >> low) & (low === 63n ? 1n : 511n));
    expect(path).toEqual([0n, 0n, 0n, 0n, 16n]);
    expect(pathOf(phys, 0)).toEqual(path);
    expect(pathOf(t.fdtPage, 0)).toEqual([0n, 0n, 0n, 0n, 31n]); // 4 GiB - 4 KiB
    const bitmap = follow(raw, BigInt(getU64(fdt, 'preserved-order-table')), 0, path, fdtOf(t));
    // word (pa >> 18) & 511 = 0, bit (pa >> 12) & 63 = 1
    expect(raw.u64(bitmap)).toBe(0b10n);
    for (let w = 1n; w < 512n; w++) expect(raw.u64(bitmap + 8n * w)).toBe(0n);
    // Order table, 5 tables, two bitmaps (the folio's and the FDT page's), and the FDT page itself.
    expect(raw.pages).toBe(1 + 5 + 2 + 1);
  });

  it('puts an order-9 folio under order table slot 9, with 4 tables resolving 63 | 62:54 | 53:45 | 44:36', () => {
    const t = spec.create(wideMachine());
    const phys = 2 ** 51 + 3 * 2 ** 21 + 5 * 2 ** 27;
    t.preserve(phys, 9);
    const h = handOver(t);
    const raw = new RawImage(h.image);
    const pa = BigInt(phys);
    const path = [63n, 54n, 45n, 36n].map((low) => (pa >> low) & (low === 63n ? 1n : 511n));
    expect(path).toEqual([0n, 0n, 64n, 0n]);
    const bitmap = follow(raw, BigInt(getU64(readFdt(h.fdt), 'preserved-order-table')), 9, path, fdtOf(t));
    // word (pa >> 27) & 511 = 5, bit (pa >> 21) & 63 = 3
    expect(raw.u64(bitmap + 8n * 5n)).toBe(1n << 3n);
  });

  it('stores bit (pa >> 12) & 63 of word (pa >> 18) & 511 across both u32 halves', () => {
    const t = spec.create(Machine.ofSize(4 * GiB));
    const folios = [0, 31, 32, 63, 64, 32767].map((b): Folio => ({ phys: b * 4096, order: 0 }));
    for (const f of folios) t.preserve(f.phys, f.order);
    const h = handOver(t);
    expect(keyList(decodeImage(h).folios)).toEqual(keyList([...folios, fdtOf(t)]));
    const raw = new RawImage(h.image);
    const bitmap = follow(raw, BigInt(getU64(readFdt(h.fdt), 'preserved-order-table')), 0, [0n, 0n, 0n, 0n, 0n], fdtOf(t));
    expect(raw.u64(bitmap)).toBe((1n << 0n) | (1n << 31n) | (1n << 32n) | (1n << 63n));
    expect(raw.u64(bitmap + 8n)).toBe(1n);
    expect(raw.u64(bitmap + 8n * 511n)).toBe(1n << 63n);
  });

  it('publishes only the order table pointer: the hand-over allocates and serializes nothing', () => {
    const t = spec.create(wideMachine());
    t.preserve(2 ** 51, 9);
    const before = { ...t.heap.stats };
    const fdt = t.finalize();
    expect(t.heap.stats).toEqual(before);
    expect(t.finalized).toBe(false);
    expect(t.serializes).toBe(false);
    const root = readFdt(fdt);
    expect(getString(root, 'compatible')).toBe('kho-v1');
    expect(t.heap.ownedPfns()).toContain(getU64(root, 'preserved-order-table') / 4096);
  });
});

describe('radix-rfc: round trip', () => {
  const workload = wideMachine().workloadBanks;
  const inBank = (bank: number, order: number, pick: (count: number) => number): Folio => {
    const b = workload[bank];
    const size = 4096 * 2 ** order;
    const first = Math.ceil(b.start / size);
    return { phys: (first + pick(Math.floor((b.start + b.size) / size) - first)) * size, order };
  };
  const anywhere = fc
    .record({ bank: fc.nat(workload.length - 1), order: fc.nat(9), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) })
    .map(({ bank, order, at }) => inBank(bank, order, (count) => Math.floor(at * count)));
  const near = fc
    .record({ bank: fc.nat(workload.length - 1), order: fc.nat(9), n: fc.nat(40) })
    .map(({ bank, order, n }) => inBank(bank, order, (count) => n % count));
  const ops = fc.array(fc.oneof(anywhere, near), { maxLength: 150 });

  it('restores exactly the preserved set, and the raw bytes decode to it (orders 0..9, addresses up to 2^52)', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const t = spec.create(wideMachine());
        const live = new Map<string, Folio>([[`${t.fdtPage}:0`, fdtOf(t)]]);
        const ever: Folio[] = [fdtOf(t)];
        for (const folio of list) {
          t.preserve(folio.phys, folio.order);
          live.set(`${folio.phys}:${folio.order}`, folio);
          ever.push(folio);
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
        expect(raw.pages).toBe(pages);
      }),
      { numRuns: 40, seed: 0x7266 },
    );
  });

  it('restores order by order, addresses ascending within an order', () => {
    const t = spec.create(wideMachine());
    const folios: Folio[] = [
      { phys: 2 ** 51, order: 0 },
      { phys: 0x1000, order: 0 },
      { phys: 2 ** 52 - 16 * GiB, order: 9 },
      { phys: 0, order: 9 },
      { phys: 0x20_0000, order: 5 },
    ];
    for (const f of folios) t.preserve(f.phys, f.order);
    const sorted = [...folios, fdtOf(t)].sort((a, b) => a.order - b.order || a.phys - b.phys);
    expect(restored(handOver(t)).folios).toEqual(sorted);
  });
});

describe('radix-rfc: a corrupt hand-over', () => {
  function setup(machine = wideMachine(), folios: readonly Folio[] = [{ phys: 0x20_0000, order: 9 }, { phys: 2 ** 51 + 0x3000, order: 0 }]) {
    const t = spec.create(machine);
    for (const f of folios) t.preserve(f.phys, f.order);
    const orderTable = getU64(readFdt(t.finalize()), 'preserved-order-table');
    return { t, mem: machine.mem, orderTable };
  }
  const restoreWith = (t: Tracker, fdt?: Uint8Array) => () => restoreHandover(handOver(t, { fdt }), new FolioList());
  const fdtWith = (props: Record<string, string | Uint8Array>) => writeFdt({ name: '', props });

  /** Builds page[path[0]] -> ... with fresh pages where entries are empty; returns the last page. */
  function chain(t: Tracker, mem: Machine['mem'], page: number, path: readonly number[]): number {
    for (const i of path) {
      let child = mem.load64(page + i * 8);
      if (child === 0) {
        child = t.heap.allocPage();
        mem.store64(page + i * 8, child);
      }
      page = child;
    }
    return page;
  }

  it('rejects a bad FDT with ENOEXEC', () => {
    const { t, orderTable } = setup();
    expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v2', 'preserved-order-table': u64Prop(orderTable) })), 'ENOEXEC');
    expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v1', 'preserved-memory-map': u64Prop(orderTable) })), 'ENOEXEC');
    expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v1', 'preserved-order-table': new Uint8Array(16) })), 'ENOEXEC');
  });

  it('rejects an order table pointer that is not a page-aligned page of RAM', () => {
    const { t, orderTable } = setup();
    for (const bad of [orderTable + 8, orderTable - 0x800, 0x10_0000_0000, 2 ** 52, 2 ** 60]) {
      expectErrno(restoreWith(t, fdtWith({ compatible: 'kho-v1', 'preserved-order-table': u64Prop(bad) })), 'ECORRUPT');
    }
  });

  it('rejects a table entry that is not a page-aligned page of RAM', () => {
    const { t, mem, orderTable } = setup();
    const top = mem.load64(orderTable + 9 * 8);
    mem.store64(top, mem.load64(top) + 0x10);
    expectErrno(restoreWith(t), 'ECORRUPT');
    mem.store64(top, 12 * GiB);
    expectErrno(restoreWith(t), 'ECORRUPT');
    mem.store32(top + 4, 0xffff_ffff);
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  it('rejects a pointer into the middle of a page, even one that would read as an empty bitmap', () => {
    const { t, mem, orderTable } = setup();
    // An empty order-1 branch (top table, 3 tables, an all-zero bitmap): restores nothing more.
    chain(t, mem, orderTable, [1, 0, 0, 0, 0]);
    expect(restoreHandover(handOver(t), new FolioList()).folios).toBe(3);
    let level1 = mem.load64(orderTable + 8);
    for (let i = 0; i < 3; i++) level1 = mem.load64(level1);
    mem.store64(level1, mem.load64(level1) + 8);
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  it('rejects a bitmap for addresses at or above 2^52', () => {
    for (const [order, path] of [
      [0, [1, 0, 0, 0, 0]], // address bit 63
      [0, [0, 0, 128, 0, 0]], // address bit 52
      [1, [1, 0, 0, 0]], // address bits 63:56 = 1
      [9, [0, 1, 0, 0]], // address bit 54
    ] as const) {
      const { t, mem, orderTable } = setup();
      chain(t, mem, orderTable, [order, ...path]); // an empty bitmap is already corrupt there
      expectErrno(restoreWith(t), 'ECORRUPT');
    }
  });

  it('rejects a set bit for a folio outside RAM', () => {
    const machine = new Machine({ banks: [{ start: 0, size: 64 * MiB }, { start: GiB, size: 256 * MiB }] });
    const { t, mem, orderTable } = setup(machine, [{ phys: 0x5000, order: 0 }]);
    const bitmap = chain(t, mem, orderTable, [0, 0, 0, 0, 0, 0]);
    const bit = (100 * MiB) / 4096; // in the hole between the banks
    mem.store32(bitmap + (bit >> 5) * 4, 1 << (bit & 31));
    expectErrno(restoreWith(t), 'ECORRUPT');
  });

  it('throws only KhoError, whatever the image bytes say', () => {
    const base = spec.create(wideMachine());
    for (let i = 0; i < 50; i++) base.preserve(2 ** 51 + i * (2 ** 27 + 2 ** 21), i % 3 ? 0 : 9);
    base.preserve(0, 9);
    const h = handOver(base);
    const pfns = [...h.image.pfns, ...h.image.zeroPfns];
    const poke = fc.record({
      page: fc.nat(h.image.pfns.length - 1),
      slot: fc.nat(511),
      value: fc.oneof(
        fc.constantFrom(...pfns).map((pfn) => pfn * 4096),
        fc.constantFrom(...pfns).map((pfn) => pfn * 4096 + 8),
        fc.nat(0xffff_ffff).map((v) => v * 4096),
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
      { numRuns: 300, seed: 0x6b69 },
    );
  });
});
