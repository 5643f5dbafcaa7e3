/**
 * The family's format, checked by a decoder written from README.md alone
 * (it reads the raw image bytes with BigInt and shares no code with the
 * tracker); the byte identity of its points with `radix` and `radix-rfc`;
 * its page-backed counterpart of `ida`; the extent leaves; the undo of a
 * failed add; and targeted corruptions. Every point's conformance-style
 * checks are in conformance.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getString, getU64, readFdt, writeFdt, type FdtNodeSpec } from '../../src/fdt/fdt.ts';
import { FolioList, handOver, restoreHandover, type Folio, type Handover } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE } from '../../src/ram/phys-mem.ts';
import { MAX_ORDER, type Tracker } from '../../src/tracker/tracker.ts';
import { errnoOf, keyList, wideMachine, withFdtPage } from '../../test/harness.ts';
import { seededRandom } from '../../test/corrupt.ts';
import { structureSpec } from '../index.ts';
import { RawImage } from '../radix/raw-image.ts';
import { FAMILY, FAMILY_IDS, familySpec, tableLevels, type FamilyParams } from './index.ts';


const RUNS = Number(process.env.KHO_PROPERTY_RUNS ?? 4);
const GiB = 2 ** 30;
const MiB = 2 ** 20;

// ---------------------------------------------------------------------------
// The format, from README.md only.

interface LeafInfo {
  readonly pa: bigint;
  /** 1: an extent list; 0: a bitmap. */
  readonly tag: bigint;
  /** Address of the table entry that points at it. */
  readonly entryPa: bigint;
  /** The key of its bit 0. */
  readonly firstKey: bigint;
  readonly order: number | undefined;
}

interface Decoded {
  readonly params: FamilyParams;
  readonly root: bigint;
  readonly folios: Folio[];
  readonly tables: bigint[];
  readonly leaves: LeafInfo[];
}

const ENCODINGS = ['key', 'perorder'] as const;
const KINDS = ['bitmap', 'extent'] as const;

function u32At(raw: RawImage, pa: bigint): number {
  return Number((raw.u64(pa & ~7n) >> (8n * (pa & 7n))) & 0xffffffffn);
}

/** key = (1 << (52 - o)) | (pa >> (12 + o)), or pa >> (12 + o) in order o's own tree. */
function folioOfKey(key: bigint, order: number | undefined): Folio {
  if (order !== undefined) return { phys: Number(key << BigInt(12 + order)), order };
  const top = key.toString(2).length - 1;
  const o = 52 - top;
  return { phys: Number((key ^ (1n << BigInt(top))) << BigInt(12 + o)), order: o };
}

function decode(h: Handover): Decoded {
  const fdt = readFdt(h.fdt);
  expect(getString(fdt, 'compatible')).toBe('kho-family-v1');
  const u32 = (name: string): number => {
    const v = fdt.props.get(name)!;
    expect(v.length).toBe(4);
    return Buffer.from(v).readUInt32LE();
  };
  const L = u32('leaf-bytes');
  const F = u32('fanout');
  const params: FamilyParams = {
    leafBytes: L as FamilyParams['leafBytes'],
    fanout: F as FamilyParams['fanout'],
    encoding: ENCODINGS[u32('order-encoding')],
    leafKind: KINDS[u32('leaf-kind')],
  };
  const LB = Math.log2(8 * L);
  const TB = Math.log2(F);
  // Tables above the leaf: enough for the 53-bit key, or for a u64 address (64 - 12 - o key bits).
  const tablesFor = (keyBits: number) => Math.ceil((keyBits - LB) / TB);
  const raw = new RawImage(h.image);
  const folios: Folio[] = [];
  const tables: bigint[] = [];
  const leaves: LeafInfo[] = [];
  const visit = (table: bigint, t: number, prefix: bigint, order: number | undefined): void => {
    tables.push(table);
    for (let i = 0n; i < BigInt(F); i++) {
      const entryPa = table + 8n * i;
      const e = raw.u64(entryPa);
      if (e === 0n) continue;
      const k = (prefix << BigInt(TB)) | i;
      if (t > 1) {
        visit(e, t - 1, k, order);
        continue;
      }
      const tag = e & 63n;
      const leaf = e - tag;
      const firstKey = k << BigInt(LB);
      leaves.push({ pa: leaf, tag, entryPa, firstKey, order });
      if (tag === 0n) {
        for (let w = 0n; w < BigInt(L / 8); w++) {
          const word = raw.u64(leaf + 8n * w);
          for (let b = 0n; word >> b !== 0n; b++) if ((word >> b) & 1n) folios.push(folioOfKey(firstKey + 64n * w + b, order));
        }
      } else {
        expect(tag).toBe(1n);
        for (let j = 0n; j < BigInt(L / 4); j++) {
          const x = u32At(raw, leaf + 4n * j);
          if (x === 0) break;
          const start = BigInt(x & 0xffff);
          const len = BigInt(x >>> 16);
          for (let b = start; b < start + len; b++) folios.push(folioOfKey(firstKey + b, order));
        }
      }
    }
  };
  const root = BigInt(getU64(fdt, 'preserved-memory-map'));
  if (params.encoding === 'key') {
    visit(root, tablesFor(53), 0n, undefined);
  } else {
    tables.push(root);
    for (let o = 0; o <= MAX_ORDER; o++) {
      const top = raw.u64(root + 8n * BigInt(o));
      if (top !== 0n) visit(top, tablesFor(64 - 12 - o), 0n, o);
    }
  }
  return { params, root, folios, tables, leaves };
}

/** Pages the point holds after `folios` (nothing is freed): its tables packed 4096 / 8F to a page, its leaves 4096 / L to a page. */
function expectedPages(p: FamilyParams, folios: readonly Folio[]): number {
  const LB = Math.log2(8 * p.leafBytes);
  const TB = Math.log2(p.fanout);
  const tables = new Set<string>(['root']);
  const leaves = new Set<string>();
  for (const f of folios) {
    const tree = p.encoding === 'key' ? 'k' : `o${f.order}`;
    const key = p.encoding === 'key' ? (1n << BigInt(52 - f.order)) | (BigInt(f.phys) >> BigInt(12 + f.order)) : BigInt(f.phys) >> BigInt(12 + f.order);
    const T = p.encoding === 'key' ? Math.ceil((53 - LB) / TB) : Math.ceil((52 - f.order - LB) / TB);
    // A table at level t holds the keys sharing key >> (LB + TB t); the key tree's level T is the root.
    for (let t = 1; t <= T; t++) tables.add(`${tree}:${t}:${key >> BigInt(LB + TB * t)}`);
    if (p.encoding === 'key') tables.delete(`k:${T}:0`);
    leaves.add(`${tree}:${key >> BigInt(LB)}`);
  }
  return Math.ceil(tables.size / (PAGE_SIZE / (8 * p.fanout))) + Math.ceil(leaves.size / (PAGE_SIZE / p.leafBytes));
}

// ---------------------------------------------------------------------------

const keyOf = (f: Folio) => `${f.phys.toString(16)}:${f.order}`;

function restored(h: Handover): Folio[] {
  const list = new FolioList();
  restoreHandover(h, list);
  const flat = list.toArray();
  const out: Folio[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ phys: flat[i], order: flat[i + 1] });
  return out;
}

const fdtFolio = (t: Tracker): Folio => ({ phys: t.fdtPage, order: 0 });

/** Folios of orders 0..18 anywhere in the workload RAM, or packed into one small window (runs, dense leaves). */
function folioArb(machine: Machine): fc.Arbitrary<Folio> {
  const banks = machine.workloadBanks;
  const sparse = fc
    .record({ bank: fc.nat(banks.length - 1), order: fc.nat(MAX_ORDER), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) })
    .map(({ bank, order, at }) => {
      const b = banks[bank];
      const size = PAGE_SIZE * 2 ** order;
      const first = Math.ceil(b.start / size);
      return { phys: (first + Math.floor(at * (Math.floor((b.start + b.size) / size) - first))) * size, order };
    });
  const dense = fc.record({ order: fc.nat(3), i: fc.nat(1500) }).map(({ order, i }) => ({ phys: 256 * MiB + i * PAGE_SIZE * 2 ** order, order }));
  return fc.oneof(sparse, dense, dense);
}

type Op = { readonly kind: 'preserve' | 'unpreserve'; readonly folio: Folio };

function opsArb(machine: Machine, maxOrder = MAX_ORDER, unpreserves = true): fc.Arbitrary<Op[]> {
  return fc.array(folioArb(machine).filter((f) => f.order <= maxOrder), { minLength: 1, maxLength: 150 }).chain((folios) =>
    fc
      .array(fc.record({ kind: fc.constantFrom<Op['kind']>('preserve', ...(unpreserves ? (['unpreserve', 'unpreserve'] as const) : [])), pick: fc.nat(folios.length - 1) }), {
        maxLength: 200,
      })
      .map((extra) => [...folios.map((folio): Op => ({ kind: 'preserve', folio })), ...extra.map(({ kind, pick }): Op => ({ kind, folio: folios[pick] }))]),
  );
}

function apply(t: Tracker, ops: readonly Op[]): Folio[] {
  const model = new Map<string, Folio>();
  for (const { kind, folio } of ops) {
    if (kind === 'preserve') {
      t.preserve(folio.phys, folio.order);
      model.set(keyOf(folio), folio);
    } else {
      t.unpreserve(folio.phys, folio.order);
      model.delete(keyOf(folio));
    }
  }
  return [...model.values()];
}

/** The image's pages as pfn -> bytes (a zero page as 4096 zeros), the root FDT's page left out. */
function pagesOf(h: Handover, skipPfn: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  h.image.pfns.forEach((pfn, i) => {
    if (pfn !== skipPfn) out.set(pfn, Buffer.from(h.image.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
  });
  for (const pfn of h.image.zeroPfns) if (pfn !== skipPfn) out.set(pfn, Buffer.alloc(PAGE_SIZE));
  return out;
}

function expectSameMetadata(a: Handover, b: Handover, fdtPfn: number): void {
  const pa = pagesOf(a, fdtPfn);
  const pb = pagesOf(b, fdtPfn);
  expect([...pa.keys()]).toEqual([...pb.keys()]);
  for (const [pfn, bytes] of pa) if (!bytes.equals(pb.get(pfn)!)) expect.fail(`page ${(pfn * PAGE_SIZE).toString(16)} differs`);
}

/** A copy of the hand-over with the u32 at `pa` replaced (pa in a page the image carries with bytes). */
function patchU32(h: Handover, pa: bigint, value: number): Handover {
  const i = [...h.image.pfns].indexOf(Number(pa >> 12n));
  expect(i).toBeGreaterThanOrEqual(0);
  const data = h.image.data.slice();
  new DataView(data.buffer).setUint32(i * PAGE_SIZE + Number(pa & 4095n), value >>> 0, true);
  return { ...h, image: { ...h.image, data } };
}

function patchU64(h: Handover, pa: bigint, value: bigint): Handover {
  return patchU32(patchU32(h, pa, Number(value & 0xffffffffn)), pa + 4n, Number(value >> 32n));
}

function withFdtProps(h: Handover, change: (props: Record<string, string | Uint8Array>) => void): Handover {
  const root = readFdt(h.fdt);
  const props: Record<string, string | Uint8Array> = Object.fromEntries(root.props);
  change(props);
  const spec: FdtNodeSpec = { name: '', props };
  return { ...h, fdt: writeFdt(spec) };
}

function expectErrno(f: () => unknown, errno: string): void {
  expect(errnoOf(f)).toBe(errno);
}

const spec = (id: string) => familySpec(id);

// ---------------------------------------------------------------------------

describe('family: parameters and heights', () => {
  it('has the 32 points, each a distinct id from its four parameters', () => {
    expect(FAMILY).toHaveLength(32);
    expect(new Set(FAMILY_IDS).size).toBe(32);
    for (const s of FAMILY) {
      const p = s.params;
      expect(s.id).toBe(`fam-l${p.leafBytes}-f${p.fanout}-${p.encoding}-${p.leafKind}`);
      expect(s.folder).toBe('structures/family');
      expect(s.abi.compatible).toBe('kho-family-v1');
      expect(s.maxOrder).toBeUndefined();
    }
    expect(() => familySpec('fam-l256-f64-key-bitmap')).toThrow(/unknown family point/);
    expect(() => familySpec('__proto__')).toThrow(/unknown family point/);
  });

  it('gives every order just enough table levels: the 53-bit key, or (per order) a u64 address', () => {
    for (const s of FAMILY) {
      const { leafBytes, fanout, encoding } = s.params;
      const lb = Math.log2(8 * leafBytes);
      const tb = Math.log2(fanout);
      for (let o = 0; o <= MAX_ORDER; o++) {
        const bits = encoding === 'key' ? 53 : 52 - o;
        const t = tableLevels(s.params, o);
        expect(lb + tb * t).toBeGreaterThanOrEqual(bits);
        expect(lb + tb * (t - 1)).toBeLessThan(bits);
        expect(s.levels[o]).toBe(t + 1);
      }
    }
    // Order 0, levels counting the leaf, by point.
    const order0 = Object.fromEntries(FAMILY.map((s) => [s.id, s.levels[0]]));
    expect(order0).toEqual({
      ...Object.fromEntries(FAMILY_IDS.map((id) => [id, id.includes('-f512-') ? 6 : 0])),
      'fam-l64-f64-key-bitmap': 9,
      'fam-l64-f64-key-extent': 9,
      'fam-l64-f64-perorder-bitmap': 9,
      'fam-l64-f64-perorder-extent': 9,
      'fam-l128-f64-key-bitmap': 9,
      'fam-l128-f64-key-extent': 9,
      'fam-l128-f64-perorder-bitmap': 8,
      'fam-l128-f64-perorder-extent': 8,
      'fam-l512-f64-key-bitmap': 8,
      'fam-l512-f64-key-extent': 8,
      'fam-l512-f64-perorder-bitmap': 8,
      'fam-l512-f64-perorder-extent': 8,
      'fam-l4096-f64-key-bitmap': 8,
      'fam-l4096-f64-key-extent': 8,
      'fam-l4096-f64-perorder-bitmap': 8,
      'fam-l4096-f64-perorder-extent': 8,
    });
    // RFC v1's counts: 6 for order 0, 5 for 1..9, 4 for 10..18; the merged tree's: 6 for every order.
    expect(spec('fam-l4096-f512-perorder-bitmap').levels).toEqual([6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
    expect(spec('fam-l4096-f512-key-bitmap').levels).toEqual(Array(19).fill(6));
  });

  it('carries its parameters in the FDT as u32s beside the u64 root', () => {
    for (const s of FAMILY) {
      const t = s.create(wideMachine());
      const root = readFdt(handOver(t).fdt);
      expect([...root.props.keys()].sort()).toEqual(['compatible', 'fanout', 'leaf-bytes', 'leaf-kind', 'order-encoding', 'preserved-memory-map']);
      const u32 = (n: string) => Buffer.from(root.props.get(n)!).readUInt32LE();
      expect([u32('leaf-bytes'), u32('fanout'), u32('order-encoding'), u32('leaf-kind')]).toEqual([
        s.params.leafBytes,
        s.params.fanout,
        s.params.encoding === 'key' ? 0 : 1,
        s.params.leafKind === 'bitmap' ? 0 : 1,
      ]);
      expect(root.props.get('preserved-memory-map')).toHaveLength(8);
    }
  });
});

describe('family: layout in RAM, from the raw bytes', () => {
  it.each(FAMILY_IDS)('%s: the raw bytes decode to exactly what the restore reports, and the pages held are the packing predicts', (id) => {
    const s = spec(id);
    fc.assert(
      fc.property(opsArb(wideMachine()), (ops) => {
        const t = s.create(wideMachine());
        const kept = apply(t, ops);
        const h = handOver(t);
        const d = decode(h);
        expect(d.params).toEqual(s.params);
        expect(keyList(d.folios)).toEqual(keyList(withFdtPage(t, kept)));
        expect(d.folios.length).toBe(new Set(d.folios.map(keyOf)).size);
        expect(keyList(restored(h))).toEqual(keyList(d.folios));
        const everything = ops.filter((o) => o.kind === 'preserve').map((o) => o.folio);
        expect(t.heap.stats.pages).toBe(expectedPages(s.params, [fdtFolio(t), ...everything]));
        // Bump packing: in each page, the objects of one kind at 0, size, 2 size, ...; every page of a kind but the last full.
        const L = s.params.leafBytes;
        const T = 8 * s.params.fanout;
        for (const [objects, size] of [
          [d.leaves.map((l) => l.pa), L],
          [d.tables, T],
        ] as const) {
          const byPage = new Map<bigint, bigint[]>();
          for (const pa of objects) {
            expect(pa % BigInt(size)).toBe(0n);
            byPage.set(pa >> 12n, [...(byPage.get(pa >> 12n) ?? []), pa & 4095n]);
          }
          const perPage = PAGE_SIZE / size;
          let partial = 0;
          for (const offsets of byPage.values()) {
            // Unpreserve frees nothing, so every carved object is still linked; but an order's tree is linked only once it exists.
            const sorted = offsets.sort((a, b) => (a < b ? -1 : 1));
            expect(sorted).toEqual(sorted.map((_, k) => BigInt(k * size)));
            if (sorted.length < perPage) partial++;
          }
          expect(partial).toBeLessThanOrEqual(1);
        }
        // Tables and leaves never share a page.
        const leafPages = new Set(d.leaves.map((l) => l.pa >> 12n));
        for (const tpa of d.tables) expect(leafPages.has(tpa >> 12n)).toBe(false);
      }),
      { numRuns: Math.max(2, Math.ceil(RUNS / 2)), seed: 0x66616d },
    );
  });

  it('places the root table first: a 512-byte table at the start of the first table page (fanout 64), a page (512)', () => {
    for (const s of FAMILY) {
      const t = s.create(wideMachine());
      const d = decode(handOver(t));
      expect(d.root % 4096n).toBe(0n);
      expect(Number(d.root)).toBe(Math.max(...t.heap.ownedPfns()) * PAGE_SIZE);
    }
  });
});

describe('family: extent leaves', () => {
  /** The leaf that holds order-0 pfn `pfn` and its run words. */
  function leafOf(h: Handover, phys: number): { leaf: LeafInfo; words: number[] } {
    const d = decode(h);
    const raw = new RawImage(h.image);
    const p = d.params;
    const lb = BigInt(Math.log2(8 * p.leafBytes));
    const key = p.encoding === 'key' ? (1n << 52n) | (BigInt(phys) >> 12n) : BigInt(phys) >> 12n;
    const leaf = d.leaves.find((l) => l.firstKey === (key >> lb) << lb && (p.encoding === 'key' || l.order === 0))!;
    expect(leaf).toBeDefined();
    const words = Array.from({ length: p.leafBytes / 4 }, (_, j) => u32At(raw, leaf.pa + 4n * BigInt(j)));
    return { leaf, words };
  }

  const base = 512 * MiB;
  const run = (start: number, len: number) => (start | (len << 16)) >>> 0;

  it.each(['fam-l64-f64-key-extent', 'fam-l4096-f512-perorder-extent'])('%s: keeps sorted runs (start | length << 16), merging and splitting them', (id) => {
    const t = spec(id).create(wideMachine());
    const pages = (...ns: number[]) => ns.forEach((n) => t.preserve(base + n * PAGE_SIZE, 0));
    pages(5, 6, 7, 10, 3);
    let { leaf, words } = leafOf(handOver(t), base);
    expect(leaf.tag).toBe(1n);
    expect(words.slice(0, 4)).toEqual([run(3, 1), run(5, 3), run(10, 1), 0]);
    pages(8, 9, 4, 4);
    ({ words } = leafOf(handOver(t), base));
    expect(words.slice(0, 2)).toEqual([run(3, 8), 0]);
    t.unpreserve(base + 7 * PAGE_SIZE, 0);
    t.unpreserve(base + 3 * PAGE_SIZE, 0);
    t.unpreserve(base + 10 * PAGE_SIZE, 0);
    t.unpreserve(base + 100 * PAGE_SIZE, 0);
    ({ words } = leafOf(handOver(t), base));
    expect(words.slice(0, 3)).toEqual([run(4, 3), run(8, 2), 0]);
    const h = handOver(t);
    expect(keyList(restored(h))).toEqual(keyList(withFdtPage(t, [4, 5, 6, 8, 9].map((n) => ({ phys: base + n * PAGE_SIZE, order: 0 })))));
  });

  it('switches a 64-byte leaf to a bitmap in place at its 17th run (16 fit), and never back', () => {
    const t = spec('fam-l64-f64-key-extent').create(wideMachine());
    const bits = Array.from({ length: 16 }, (_, i) => 2 * i);
    for (const b of bits) t.preserve(base + b * PAGE_SIZE, 0);
    const before = leafOf(handOver(t), base);
    expect(before.leaf.tag).toBe(1n);
    expect(before.words).toEqual(bits.map((b) => run(b, 1)));
    const pages = t.heap.stats.pages;
    t.preserve(base + 32 * PAGE_SIZE, 0);
    const after = leafOf(handOver(t), base);
    expect(after.leaf.pa).toBe(before.leaf.pa);
    expect(after.leaf.tag).toBe(0n);
    expect(t.heap.stats.pages).toBe(pages);
    // Bits 0, 2, ..., 32 as a bitmap: word 0 = 0x55555555, word 1 = 1.
    expect(after.words.slice(0, 2)).toEqual([0x55555555, 1]);
    expect(after.words.slice(2).every((w) => w === 0)).toBe(true);
    // Down to one bit: still a bitmap.
    for (const b of [...bits.slice(1), 32]) t.unpreserve(base + b * PAGE_SIZE, 0);
    const last = leafOf(handOver(t), base);
    expect(last.leaf.tag).toBe(0n);
    expect(last.words.slice(0, 2)).toEqual([1, 0]);
    expect(keyList(restored(handOver(t)))).toEqual(keyList(withFdtPage(t, [{ phys: base, order: 0 }])));
  });

  it('switches a full list when a removal would split a run, and keeps the bits', () => {
    const t = spec('fam-l128-f64-perorder-extent').create(wideMachine());
    // 32 runs (the capacity of 128 bytes): [0,3) then 31 single bits.
    const bits = [0, 1, 2, ...Array.from({ length: 31 }, (_, i) => 4 + 2 * i)];
    for (const b of bits) t.preserve(base + b * PAGE_SIZE, 0);
    expect(leafOf(handOver(t), base).leaf.tag).toBe(1n);
    t.unpreserve(base + 1 * PAGE_SIZE, 0);
    const { leaf } = leafOf(handOver(t), base);
    expect(leaf.tag).toBe(0n);
    const want = bits.filter((b) => b !== 1).map((b) => ({ phys: base + b * PAGE_SIZE, order: 0 }));
    expect(keyList(restored(handOver(t)))).toEqual(keyList(withFdtPage(t, want)));
  });

  it('holds a full 32768-bit leaf as one run of length 32768', () => {
    const t = spec('fam-l4096-f512-key-extent').create(wideMachine());
    for (let i = 0; i < 32768; i++) t.preserve(base + i * PAGE_SIZE, 0);
    const { leaf, words } = leafOf(handOver(t), base);
    expect(leaf.tag).toBe(1n);
    expect(words[0]).toBe(0x80000000);
    expect(words.slice(1).every((w) => w === 0)).toBe(true);
    expect(restored(handOver(t))).toHaveLength(32769);
  });
});

describe('family: the named trackers as points', () => {
  const machine = wideMachine();

  /** Same workload on both: preserves (with duplicates), unpreserves where the tracker has them, ranges. */
  function both(a: Tracker, b: Tracker, ops: readonly Op[], ranges: readonly [number, number][]): void {
    for (const t of [a, b]) {
      apply(t, ops);
      for (const [phys, size] of ranges) t.preserveRange(phys, size);
    }
  }

  it('fam-l4096-f512-key-bitmap lays out the same pages with the same bytes at the same addresses as radix', () => {
    fc.assert(
      fc.property(opsArb(machine), (ops) => {
        const r = structureSpec('radix').create(wideMachine());
        const f = spec('fam-l4096-f512-key-bitmap').create(wideMachine());
        both(r, f, ops, [
          [0x3000, 0x25000],
          [2 ** 51 + 0x1ff000, 0x40_2000],
        ]);
        expect(f.fdtPage).toBe(r.fdtPage);
        expect(f.heap.ownedPfns()).toEqual(r.heap.ownedPfns());
        expectSameMetadata(handOver(r), handOver(f), r.fdtPage / PAGE_SIZE);
      }),
      { numRuns: Math.max(5, RUNS), seed: 0x726478 },
    );
  });

  it('... and on a large workload (40000 folios of every order)', () => {
    const rnd = seededRandom(11);
    const r = structureSpec('radix').create(wideMachine());
    const f = spec('fam-l4096-f512-key-bitmap').create(wideMachine());
    const folios: Folio[] = Array.from({ length: 40000 }, () => {
      const order = Math.floor(rnd() ** 3 * 19);
      const size = PAGE_SIZE * 2 ** order;
      return { phys: Math.floor((rnd() * 8 * GiB) / size) * size, order };
    });
    for (const t of [r, f]) {
      for (const x of folios) t.preserve(x.phys, x.order);
      for (const x of folios.slice(0, 5000)) t.unpreserve(x.phys, x.order);
    }
    expectSameMetadata(handOver(r), handOver(f), r.fdtPage / PAGE_SIZE);
    expect(keyList(restored(handOver(f)))).toEqual(keyList(restored(handOver(r))));
  });

  it('tells the points apart: the neighbours of the matching points do not match (a negative control of the comparison)', () => {
    const run = (id: string) => {
      const t = id.startsWith('fam-') ? spec(id).create(wideMachine()) : structureSpec(id).create(wideMachine());
      for (let i = 0; i < 200; i++) t.preserve(0x100_0000 + i * PAGE_SIZE, 0);
      t.preserve(2 ** 51, 9);
      return { t, h: handOver(t) };
    };
    const differs = (a: Handover, b: Handover, fdtPfn: number) => {
      try {
        expectSameMetadata(a, b, fdtPfn);
        return false;
      } catch {
        return true;
      }
    };
    const radix = run('radix');
    const rfc = run('radix-rfc');
    const fdtPfn = radix.t.fdtPage / PAGE_SIZE;
    for (const id of ['fam-l4096-f512-key-extent', 'fam-l4096-f64-key-bitmap', 'fam-l512-f512-key-bitmap', 'fam-l4096-f512-perorder-bitmap']) {
      expect(differs(radix.h, run(id).h, fdtPfn)).toBe(true);
    }
    for (const id of ['fam-l4096-f512-perorder-extent', 'fam-l4096-f64-perorder-bitmap', 'fam-l4096-f512-key-bitmap']) {
      expect(differs(rfc.h, run(id).h, fdtPfn)).toBe(true);
    }
    expect(differs(radix.h, run('fam-l4096-f512-key-bitmap').h, fdtPfn)).toBe(false);
    expect(differs(rfc.h, run('fam-l4096-f512-perorder-bitmap').h, fdtPfn)).toBe(false);
  });

  it('fam-l4096-f512-perorder-bitmap lays out the same pages and bytes as radix-rfc (orders 0..9, RFC v1 has no unpreserve)', () => {
    fc.assert(
      fc.property(opsArb(machine, 9, false), (ops) => {
        const r = structureSpec('radix-rfc').create(wideMachine());
        const f = spec('fam-l4096-f512-perorder-bitmap').create(wideMachine());
        // Ranges whose greedy split stays within orders 0..9.
        both(r, f, ops, [
          [0x3000, 0x25000],
          [0x1ff000, 2 * 0x20_0000 + 0x3000],
        ]);
        expect(f.heap.ownedPfns()).toEqual(r.heap.ownedPfns());
        expectSameMetadata(handOver(r), handOver(f), r.fdtPage / PAGE_SIZE);
      }),
      { numRuns: Math.max(5, RUNS), seed: 0x726663 },
    );
  });

  it('fam-l128-f64-perorder-bitmap is the page-backed counterpart of ida: the same 1024-bit leaves over the same ids, within a few pages', () => {
    const rnd = seededRandom(5);
    const workloads: Record<string, Folio[]> = {
      'sparse 4 KiB pages': Array.from({ length: 20000 }, () => ({ phys: Math.floor(rnd() * 2 ** 21) * PAGE_SIZE, order: 0 })),
      'dense 4 KiB pages': Array.from({ length: 50000 }, (_, i) => ({ phys: GiB + i * PAGE_SIZE, order: 0 })),
      'mixed orders': [
        ...Array.from({ length: 5000 }, () => ({ phys: Math.floor(rnd() * 2 ** 21) * PAGE_SIZE, order: 0 })),
        ...Array.from({ length: 500 }, (_, i) => ({ phys: 4 * GiB + i * 2 * MiB, order: 9 })),
        ...Array.from({ length: 4 }, (_, i) => ({ phys: 2 ** 51 + i * GiB, order: 18 })),
      ],
    };
    for (const [name, folios] of Object.entries(workloads)) {
      const ida = structureSpec('ida').create(wideMachine());
      const fam = spec('fam-l128-f64-perorder-bitmap').create(wideMachine());
      for (const t of [ida, fam]) for (const x of folios) t.preserve(x.phys, x.order);
      // The same partition: id i = pa >> (12 + o) in leaf i >> 10, bit i & 1023; the IDA's occupied xarray slots.
      const all = [fdtFolio(fam), ...folios];
      const slots = new Set(all.map((x) => `${x.order}:${Math.floor(x.phys / PAGE_SIZE / 2 ** x.order / 1024)}`));
      const d = decode(handOver(fam));
      expect(d.leaves.length).toBe(slots.size);
      const ip = ida.heap.stats.pages;
      const fp = fam.heap.stats.pages;
      console.log(
        `ida vs fam-l128-f64-perorder-bitmap, ${name}: ${ip} vs ${fp} pages (${ida.heap.stats.bytes} vs ${fp * PAGE_SIZE} bytes; ` +
          `family ${d.leaves.length} leaves, ${d.tables.length} tables)`,
      );
      expect(Math.abs(fp - ip)).toBeLessThanOrEqual(Math.max(2, Math.ceil(ip / 20)));
    }
  });
});

describe('family: a failed add (ENOMEM) leaves the tracker byte for byte as before', () => {
  it.each(FAMILY_IDS)('%s', (id) => {
    const s = spec(id);
    const t = s.create(wideMachine());
    for (let i = 0; i < 200; i++) t.preserve(i * 3 * MiB + (i % 9) * 4 * PAGE_SIZE, i % 3);
    // Far-away folios: each needs a new branch (several allocations), and some a new leaf page or table page.
    const far: Folio[] = [...Array.from({ length: 6 }, (_, i) => ({ phys: 2 ** 51 + i * GiB, order: 3 * i })), { phys: 2 ** 52 - 16 * GiB, order: 18 }];
    let failures = 0;
    for (const f of far) {
      for (let nth = 1; ; nth++) {
        const before = handOver(t);
        const pages = t.heap.stats.pages;
        const calls = t.heap.stats.allocations;
        t.heap.injectFaults({ failNth: nth });
        const errno = errnoOf(() => t.preserve(f.phys, f.order));
        t.heap.injectFaults({});
        if (errno === undefined) {
          // Every allocation the add makes was failed once before it succeeded.
          expect(t.heap.stats.allocations - calls).toBe(nth - 1);
          break;
        }
        expect(errno).toBe('ENOMEM');
        failures++;
        expect(t.heap.stats.pages).toBe(pages);
        expectSameMetadata(before, handOver(t), t.fdtPage / PAGE_SIZE);
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});

describe('family: the restore rejects what a valid image cannot hold', () => {
  function sample(id: string): { h: Handover; d: Decoded; t: Tracker } {
    const t = spec(id).create(wideMachine());
    // 16 single pages, every other one (a full list of a 64-byte extent leaf), 8 more in another leaf, a huge page.
    for (let i = 0; i < 16; i++) t.preserve(512 * MiB + i * 2 * PAGE_SIZE, 0);
    for (let i = 0; i < 8; i++) t.preserve(GiB + i * PAGE_SIZE, 0);
    t.preserve(2 ** 51, 9);
    const h = handOver(t);
    return { h, d: decode(h), t };
  }
  const corruptRestore = (h: Handover) => expectErrno(() => restoreHandover(h, new FolioList()), 'ECORRUPT');

  it('refuses an FDT whose parameters are missing, malformed or not a family value (ENOEXEC)', () => {
    const { h } = sample('fam-l128-f64-key-bitmap');
    const bad: ((p: Record<string, string | Uint8Array>) => void)[] = [
      (p) => delete p['leaf-bytes'],
      (p) => (p['leaf-bytes'] = Uint8Array.of(0, 1, 0, 0)),
      (p) => (p.fanout = Uint8Array.of(0, 2, 0, 0, 0, 0, 0, 0)),
      (p) => (p.fanout = Uint8Array.of(32, 0, 0, 0)),
      (p) => (p['order-encoding'] = Uint8Array.of(2, 0, 0, 0)),
      (p) => (p['leaf-kind'] = Uint8Array.of(0, 0, 0, 1)),
      (p) => (p.compatible = 'kho-v4'),
      (p) => (p['preserved-memory-map'] = Uint8Array.of(1, 2, 3, 4)),
    ];
    for (const change of bad) expectErrno(() => restoreHandover(withFdtProps(h, change), new FolioList()), 'ENOEXEC');
  });

  it('refuses a tag on a bitmap-kind leaf entry, tag bits other than 1 on an extent-kind one, and a leaf pointer not aligned to the leaf size', () => {
    const b = sample('fam-l128-f64-key-bitmap');
    const leaf = b.d.leaves[0];
    corruptRestore(patchU64(b.h, leaf.entryPa, leaf.pa | 1n));
    corruptRestore(patchU64(b.h, leaf.entryPa, leaf.pa + 64n));
    const e = sample('fam-l512-f512-perorder-extent');
    const el = e.d.leaves[0];
    corruptRestore(patchU64(e.h, el.entryPa, el.pa | 2n));
    corruptRestore(patchU64(e.h, el.entryPa, el.pa + 64n + 1n));
  });

  it('refuses two entries leading to one leaf (no folio twice) and a table entered twice', () => {
    const { h, d } = sample('fam-l64-f512-key-bitmap');
    const [a, b] = d.leaves;
    expect(b).toBeDefined();
    corruptRestore(patchU64(h, b.entryPa, a.pa));
    const p = sample('fam-l128-f64-perorder-bitmap');
    // Order 9's slot pointed at order 0's top table.
    const raw = new RawImage(p.h.image);
    corruptRestore(patchU64(p.h, p.d.root + 72n, raw.u64(p.d.root)));
  });

  it('refuses runs that are empty, unsorted, touching, overlapping, past the leaf, or followed by anything but zeros', () => {
    const { h, d } = sample('fam-l64-f64-perorder-extent');
    const leaf = d.leaves.find((l) => l.tag === 1n && l.order === 0 && l.firstKey === ((512n * BigInt(MiB)) >> 12n))!;
    expect(leaf).toBeDefined();
    const at = (j: number) => leaf.pa + 4n * BigInt(j);
    const r = (s: number, n: number) => (s | (n << 16)) >>> 0;
    // The leaf holds runs (0,1) (2,1) ... (30,1): 16 single bits, every other one.
    corruptRestore(patchU32(h, at(3), r(6, 0)));
    corruptRestore(patchU32(h, at(3), r(2, 1)));
    corruptRestore(patchU32(h, at(3), r(5, 1)));
    corruptRestore(patchU32(h, at(3), r(4, 3)));
    corruptRestore(patchU32(h, at(15), r(500, 13)));
    const shorter = patchU32(h, at(14), 0);
    corruptRestore(shorter);
    expect(restored(patchU32(shorter, at(15), 0)).length).toBe(restored(h).length - 2);
  });

  it('refuses an order table slot past order 18 and a key-tree entry whose keys reach 2^53', () => {
    const p = sample('fam-l4096-f64-perorder-bitmap');
    corruptRestore(patchU64(p.h, p.d.root + 8n * 19n, p.d.tables[2]));
    const k = sample('fam-l4096-f512-key-bitmap');
    const raw = new RawImage(k.h.image);
    // Root entry 4 covers keys from 4 << 51 = 2^53.
    const used = [...Array(512).keys()].find((i) => raw.u64(k.d.root + 8n * BigInt(i)) !== 0n)!;
    corruptRestore(patchU64(k.h, k.d.root + 32n, raw.u64(k.d.root + 8n * BigInt(used))));
    // A per-order tree's entry above 2^52 bytes: entry 1 of order 0's top table starts at key 2^51, address 2^63.
    const q = sample('fam-l4096-f512-perorder-bitmap');
    const topTable = new RawImage(q.h.image).u64(q.d.root);
    const child = new RawImage(q.h.image).u64(topTable);
    corruptRestore(patchU64(q.h, topTable + 8n, child));
  });
});

describe('family: one restore for every point', () => {
  it('restores an image of any point through any point\'s spec, from the FDT alone', () => {
    const images = FAMILY.map((s) => {
      const t = s.create(wideMachine());
      t.preserve(0x20_0000, 9);
      t.preserve(2 ** 51 + 0x5000, 0);
      return { t, h: handOver(t) };
    });
    const other = familySpec('fam-l64-f64-key-extent');
    for (const { t, h } of images) {
      const list = new FolioList();
      const walkOf = restoreHandover({ ...h, structure: other.id }, list);
      expect(walkOf.folios).toBe(3);
      expect(keyList(restored(h))).toEqual(keyList(withFdtPage(t, [{ phys: 0x20_0000, order: 9 }, { phys: 2 ** 51 + 0x5000, order: 0 }])));
    }
  });
});
