/**
 * Damaged hand-overs for the robustness tests, each built from a valid one
 * and a random source (the original is never modified):
 *
 *   CORRUPTIONS  what a buggy old kernel, a stray DMA or a format mismatch
 *                could leave for the next one: random damage;
 *   ATTACKS      what a hostile one could craft to make the next kernel
 *                loop, repeat itself or flood: one mechanism per attack,
 *                over each format's graph of metadata objects.
 */
import { readFdt, writeFdt, type FdtNode, type FdtNodeSpec } from '../src/fdt/fdt.ts';
import { type Handover, restoreHandover } from '../src/kexec/kexec.ts';
import type { Machine } from '../src/ram/machine.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { CheckedSink } from './harness.ts';
import { PAGE_SIZE, type RamImage } from '../src/ram/phys-mem.ts';
import type { StructureId } from '../src/tracker/tracker.ts';
import { Rng } from '../bench/rng.ts';

export type Random = () => number;

/** A uniform source in [0, 1) from the suite's seeded generator. */
export function seededRandom(seed: number): Random {
  const rng = new Rng(seed);
  return () => rng.float();
}

const int = (rnd: Random, n: number) => Math.floor(rnd() * n);
const pick = <T>(rnd: Random, xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[int(rnd, xs.length)]);

function withData(h: Handover, mutate: (data: Uint8Array, view: DataView) => void): Handover {
  const data = h.image.data.slice();
  mutate(data, new DataView(data.buffer));
  return { ...h, image: { ...h.image, data } };
}

function withFdt(h: Handover, fdt: Uint8Array): Handover {
  return { ...h, fdt };
}

function toSpec(node: FdtNode): FdtNodeSpec {
  return { name: node.name, props: Object.fromEntries(node.props), children: node.children.map(toSpec) };
}

/** Byte offsets of u64 words in the image that point into a carried page (tag bits allowed). */
function pointerSlots(image: RamImage): number[] {
  const carried = new Set<number>([...image.pfns, ...image.zeroPfns]);
  const view = new DataView(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const out: number[] = [];
  for (let off = 0; off < image.data.length; off += 8) {
    const v = view.getUint32(off, true) + view.getUint32(off + 4, true) * 4294967296;
    if (v !== 0 && carried.has(Math.floor(v / PAGE_SIZE))) out.push(off);
  }
  return out;
}

function setU64(view: DataView, off: number, v: number): void {
  view.setUint32(off, v >>> 0, true);
  view.setUint32(off + 4, Math.floor(v / 4294967296) >>> 0, true);
}

/** A replacement for a pointer: itself, another carried page, outside RAM, never allocated, unaligned, zero. */
function badPointer(h: Handover, rnd: Random, own: number): number {
  const { image } = h;
  const pages = [...image.pfns, ...image.zeroPfns];
  const end = image.banks[image.banks.length - 1];
  switch (int(rnd, 6)) {
    case 0:
      return Math.floor(own / PAGE_SIZE) * PAGE_SIZE;
    case 1:
      return pages[int(rnd, pages.length)] * PAGE_SIZE;
    case 2:
      return end.start + end.size + PAGE_SIZE * int(rnd, 1024);
    case 3:
      return image.banks[0].start + PAGE_SIZE * int(rnd, image.banks[0].size / PAGE_SIZE);
    case 4:
      return pages[int(rnd, pages.length)] * PAGE_SIZE + 1 + int(rnd, 7);
    default:
      return 0;
  }
}

/** A few flipped bits anywhere in the metadata. */
function bitFlips(h: Handover, rnd: Random): Handover {
  return withData(h, (data) => {
    for (let i = 1 + int(rnd, 8); i > 0; i--) data[int(rnd, data.length)] ^= 1 << int(rnd, 8);
  });
}

export const CORRUPTIONS = {
  'bit-flips': bitFlips,
  /** A run of random bytes over the metadata. */
  'random-bytes': (h: Handover, rnd: Random) =>
    withData(h, (data) => {
      const len = 8 + int(rnd, 512);
      const at = int(rnd, Math.max(1, data.length - len));
      for (let i = 0; i < len && at + i < data.length; i++) data[at + i] = int(rnd, 256);
    }),
  /** A pointer redirected: a loop to itself or an ancestor, outside RAM, to a never-allocated page, unaligned. */
  pointer: (h: Handover, rnd: Random): Handover => {
    const slots = pointerSlots(h.image);
    if (slots.length === 0) return bitFlips(h, rnd);
    return withData(h, (_, view) => {
      const off = slots[int(rnd, slots.length)];
      const page = h.image.pfns[Math.floor(off / PAGE_SIZE)] * PAGE_SIZE;
      setU64(view, off, badPointer(h, rnd, page + (off % PAGE_SIZE)));
    });
  },
  /** A small count or index field made huge (a chunk's num_elms, a node's shift or count). */
  'count-overflow': (h: Handover, rnd: Random) =>
    withData(h, (data, view) => {
      const small: number[] = [];
      for (let off = 0; off < data.length; off += 4) {
        const v = view.getUint32(off, true);
        if (v > 0 && v < 4096) small.push(off);
      }
      if (small.length === 0) return;
      const off = small[int(rnd, small.length)];
      const huge = [256, 4096, 65535, 0x7fffffff, 0xffffffff][int(rnd, 5)];
      if (rnd() < 0.5) view.setUint32(off, huge, true);
      else data[off] = 64 + int(rnd, 192);
    }),
  /** A carried page dropped from the image: it reads as garbage. */
  'lost-page': (h: Handover, rnd: Random) => {
    const { image } = h;
    if (image.pfns.length === 0) return h;
    const drop = int(rnd, image.pfns.length);
    const pfns = image.pfns.filter((_, i) => i !== drop);
    const data = new Uint8Array(pfns.length * PAGE_SIZE);
    data.set(image.data.subarray(0, drop * PAGE_SIZE));
    data.set(image.data.subarray((drop + 1) * PAGE_SIZE), drop * PAGE_SIZE);
    return { ...h, image: { ...image, pfns, data } };
  },
  /** The FDT cut short. */
  'fdt-truncated': (h: Handover, rnd: Random) => withFdt(h, h.fdt.slice(0, int(rnd, h.fdt.length))),
  /** Random bytes of the FDT flipped. */
  'fdt-bytes': (h: Handover, rnd: Random) => {
    const fdt = h.fdt.slice();
    for (let i = 1 + int(rnd, 4); i > 0; i--) fdt[int(rnd, fdt.length)] ^= 1 + int(rnd, 255);
    return withFdt(h, fdt);
  },
  /** Another format's compatible string. */
  'fdt-compatible': (h: Handover, rnd: Random) => {
    const root = toSpec(readFdt(h.fdt));
    const other = ['kho-v1', 'kho-v2', 'kho-v3', 'kho-ida-v1', 'kho-flat-bitmap-v1', ''][int(rnd, 6)];
    return withFdt(h, writeFdt({ ...root, props: { ...root.props, compatible: other } }));
  },
  /** A root pointer in the FDT that is wrong, or not 8 bytes. */
  'fdt-root': (h: Handover, rnd: Random) => {
    const root = toSpec(readFdt(h.fdt));
    const props: Record<string, string | Uint8Array> = { ...root.props };
    for (const [name, value] of Object.entries(props)) {
      if (typeof value === 'string' || name === 'compatible' || value.length !== 8) continue;
      const bytes = new Uint8Array(rnd() < 0.2 ? 4 : 8);
      if (bytes.length === 8) setU64(new DataView(bytes.buffer), 0, badPointer(h, rnd, 0));
      props[name] = bytes;
    }
    return withFdt(h, writeFdt({ ...root, props }));
  },
} satisfies Record<string, (h: Handover, rnd: Random) => Handover>;

export type CorruptionKind = keyof typeof CORRUPTIONS;

// ---------------------------------------------------------------------------
// Attacks: images crafted to make the next kernel loop, repeat itself or
// flood, built from the formats in the structures' READMEs (not from their
// restore code). Each format is parsed into one graph of metadata objects;
// each attack is one mechanism over that graph, the same for every format.

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** A hand-over image, read and changed by physical address; a page is copied on its first write. */
export class ImageEdit {
  private readonly dataIndex = new Map<number, number>();
  private readonly zero: Set<number>;
  private readonly written = new Map<number, Uint8Array>();
  private spares = 0;

  constructor(readonly image: RamImage) {
    image.pfns.forEach((pfn, i) => this.dataIndex.set(pfn, i));
    this.zero = new Set(image.zeroPfns);
  }

  carried(pfn: number): boolean {
    return this.written.has(pfn) || this.dataIndex.has(pfn) || this.zero.has(pfn);
  }

  private read(pfn: number): Uint8Array {
    const page = this.written.get(pfn);
    if (page) return page;
    const i = this.dataIndex.get(pfn);
    return i === undefined ? ZERO_PAGE : this.image.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  }

  /** The page's bytes, to change: the image carries it from now on. */
  page(pfn: number): Uint8Array {
    let page = this.written.get(pfn);
    if (!page) this.written.set(pfn, (page = this.read(pfn).slice()));
    return page;
  }

  private view(pa: number, write: boolean): [DataView, number] {
    const pfn = Math.floor(pa / PAGE_SIZE);
    const page = write ? this.page(pfn) : this.read(pfn);
    return [new DataView(page.buffer, page.byteOffset, PAGE_SIZE), pa % PAGE_SIZE];
  }

  u8(pa: number): number {
    const [v, off] = this.view(pa, false);
    return v.getUint8(off);
  }

  u32(pa: number): number {
    const [v, off] = this.view(pa, false);
    return v.getUint32(off, true);
  }

  u64(pa: number): number {
    const [v, off] = this.view(pa, false);
    return v.getUint32(off, true) + v.getUint32(off + 4, true) * 4294967296;
  }

  setU32(pa: number, value: number): void {
    const [v, off] = this.view(pa, true);
    v.setUint32(off, value, true);
  }

  setU64(pa: number, value: number): void {
    const [v, off] = this.view(pa, true);
    setU64(v, off, value);
  }

  /** Copies `bytes` bytes within pages. */
  copy(from: number, to: number, bytes: number): void {
    const src = this.read(Math.floor(from / PAGE_SIZE)).slice(from % PAGE_SIZE, (from % PAGE_SIZE) + bytes);
    this.page(Math.floor(to / PAGE_SIZE)).set(src, to % PAGE_SIZE);
  }

  /** A page of RAM the image does not carry (each call another): below the lowest carried page of the highest bank. */
  spare(): number {
    const top = this.image.banks[this.image.banks.length - 1];
    let pfn = Infinity;
    for (const p of [...this.dataIndex.keys(), ...this.zero]) if (p * PAGE_SIZE >= top.start) pfn = Math.min(pfn, p);
    for (let skip = this.spares++; ; ) {
      pfn--;
      if (pfn * PAGE_SIZE < top.start) throw new Error('no spare page in the highest bank');
      if (!this.carried(pfn) && skip-- === 0) return pfn * PAGE_SIZE;
    }
  }

  build(): RamImage {
    const { image } = this;
    if (this.written.size === 0) return image;
    const pfns = [...new Set([...image.pfns, ...this.written.keys()])].sort((a, b) => a - b);
    const data = new Uint8Array(pfns.length * PAGE_SIZE);
    pfns.forEach((pfn, i) => data.set(this.read(pfn), i * PAGE_SIZE));
    const zeroPfns = image.zeroPfns.filter((pfn) => !this.written.has(pfn));
    return { banks: image.banks, pfns: Float64Array.from(pfns), data, zeroPfns };
  }
}

/** A metadata object, as its format's README describes it. */
export interface Meta {
  readonly pa: number;
  /** Its kind, in the README's words: "table", "bitmap", "chunk", "node", ... */
  readonly what: string;
  readonly depth: number;
  /** 0 for a bitmap (an object without pointer entries); else one more than its highest child. */
  level: number;
  /** How many pointer entries it has, empty or not. */
  readonly entries: number;
  /** Its non-empty pointer entries: entry number -> child. */
  readonly children: Map<number, Meta>;
  /** The kind of object entry i points at. */
  holds(i: number): string;
}

type Target = Pick<Meta, 'pa' | 'what'>;

/** How the messages of refusals read (the restores' ECORRUPT errors). */
export const REFUSALS = {
  shared: /is entered twice \(from .+ and from .+\): metadata is never shared$/,
  'listed twice': /is not a bitmap-aligned span after 0x[0-9a-f]+ \(folios listed twice\?\)$/,
  uncarried: /is on a page the image does not carry$/,
  'not a pointer': /is not an aligned address in RAM$/,
  'folio outside RAM': /^restored folio 0x[0-9a-f]+ order \d+ is not aligned RAM$/,
  'bank overlap': /^descriptor bank \d+ overlaps the bank before it$/,
  'bank outside RAM': /^descriptor bank \d+ is not RAM$/,
  'bank count': /^descriptor claims \d+ banks$/,
  'bits past the bank': /bitmap of bank \d+ has bits past the end of the bank$/,
  'leaf without an order': /^radix leaf 0x[0-9a-f]+ under key (0|0x[0-9a-f]+) (has no order bit|has order -?\d+)$/,
  'not page aligned': /pointer 0x[0-9a-f]+ is not page aligned$/,
  'bitmap above 2^52': /^order \d+ bitmap 0x[0-9a-f]+ covers 0x[0-9a-f]+, above 2\^52$/,
  'node of another height': /^order \d+: (node shift \d+ under a node of shift \d+|top node shift \d+ \(at most \d+, a multiple of 6\))$/,
  'block out of place': /^kho-array block 0x[0-9a-f]+ has position 0x[0-9a-f]+, not its key 0x[0-9a-f]+$/,
  'keys out of order': /^kho-array block 0x[0-9a-f]+ has key \d+ is 0x[0-9a-f]+, after 0x[0-9a-f]+$/,
  'block count': /^kho-array block 0x[0-9a-f]+ has \d+ (children|runs)$/,
  'run out of place': /run \d+ \(position 0x[0-9a-f]+, \d+ folios\) is empty, outside its order, or starts before 0x[0-9a-f]+ \(folios listed twice\?\)$/,
} satisfies Record<string, RegExp>;
export type Refusal = keyof typeof REFUSALS;

/** A metadata format, from its README. */
interface Format {
  /** The FDT property holding the root pointer. */
  readonly property: string;
  /** Every object reachable from the root, parents first. */
  parse(img: ImageEdit, root: number): Meta[];
  /** The address of entry i of m and its size (the pointer is its last 8 bytes). */
  entry(m: Meta, i: number): { at: number; bytes: number };
  /** Points entry i of m at `child`, keeping the rest of the entry well formed. */
  point(img: ImageEdit, m: Meta, i: number, child: Target): void;
  /** Copies entry i of m over entry j (a literal copy: the same child, the same everything). */
  copyEntry(img: ImageEdit, m: Meta, i: number, j: number): void;
  /** Whether 0 in entry i of m means "empty" (so a zero there is no attack). */
  zeroIsEmpty(m: Meta, i: number): boolean;
  /** Whether entries past an object's count must come in turn (a count, not empty entries, says how many there are). */
  readonly counted: boolean;
  /** Whether a root pointer of 0 means "nothing preserved" (an empty chunk list). */
  readonly rootMayBeEmpty: boolean;
  /** The kind of the objects at the bottom, which hold folios and no pointer ("bitmap"), and the bytes of one. */
  readonly leaf: string;
  readonly leafBytes: number;
  /** How a literal copy of an entry (or of an object) is refused. */
  readonly copied: readonly Refusal[];
  /** How a bitmap reached twice, or a run of bitmap pages moved, is refused. */
  readonly rebitmapped: readonly Refusal[];
  /** How a subtree reached through another entry than its own can be refused before it is reached twice. */
  readonly rerouted: readonly Refusal[];
  /** Attacks on the format's counts and fields: one u64 (or u32) changed. */
  readonly fields: Readonly<Record<string, (img: ImageEdit, objects: Meta[], rnd: Random) => readonly Refusal[] | undefined>>;
}

function meta(pa: number, what: string, depth: number, entries: number, holds: (i: number) => string): Meta {
  return { pa, what, depth, level: 0, entries, children: new Map(), holds };
}

/** Parents first; each object once; levels filled in (0 for an object without pointer entries). */
function graph(root: Meta): Meta[] {
  const out: Meta[] = [];
  const seen = new Set<Meta>();
  const visit = (m: Meta) => {
    if (seen.has(m)) return;
    seen.add(m);
    out.push(m);
    for (const c of m.children.values()) visit(c);
  };
  visit(root);
  for (const m of [...out].reverse()) {
    m.level = m.entries === 0 ? 0 : 1 + Math.max(0, ...[...m.children.values()].map((c) => c.level));
  }
  return out;
}

/** The address of the pointer in entry i of m: the entry's last 8 bytes. */
function pointerAt(format: Pick<Format, 'entry'>, m: Meta, i: number): number {
  const { at, bytes } = format.entry(m, i);
  return at + bytes - 8;
}

const pointerEntry = (img: ImageEdit, m: Meta, i: number, format: Pick<Format, 'entry'>, child: Target, tag = 0) =>
  img.setU64(pointerAt(format, m, i), child.pa + tag);

function rawCopy(format: Pick<Format, 'entry'>) {
  return (img: ImageEdit, m: Meta, i: number, j: number) => {
    const { at, bytes } = format.entry(m, i);
    img.copy(at, format.entry(m, j).at, bytes);
  };
}

// flat-bitmap: descriptor page -> per bank and order, a run of bitmap pages.
const NR_ORDERS = 19;
const BANK_BYTES = 16 + 8 * NR_ORDERS;

const flatEntry = (m: Meta, i: number) => ({ at: m.pa + 8 + BANK_BYTES * Math.floor(i / NR_ORDERS) + 16 + 8 * (i % NR_ORDERS), bytes: 8 });

const FLAT: Format = {
  property: 'preserved-bitmaps',
  parse(img, d) {
    const nr = img.u64(d);
    const desc = meta(d, 'descriptor', 0, NR_ORDERS * nr, () => 'bitmap');
    for (let i = 0; i < desc.entries; i++) desc.children.set(i, meta(img.u64(flatEntry(desc, i).at), 'bitmap', 1, 0, () => ''));
    return graph(desc);
  },
  entry: flatEntry,
  point: (img, m, i, child) => pointerEntry(img, m, i, { entry: flatEntry }, child),
  copyEntry: rawCopy({ entry: flatEntry }),
  zeroIsEmpty: () => false,
  counted: false,
  rootMayBeEmpty: false,
  leaf: 'bitmap',
  leafBytes: PAGE_SIZE,
  // A run of another order's length lands on other bitmaps' pages, or past the carried ones.
  copied: ['shared', 'uncarried', 'bits past the bank'],
  rebitmapped: ['shared', 'uncarried', 'bits past the bank'],
  rerouted: [],
  fields: {
    /**
     * One u64 of the descriptor changed: a bank's start lowered or its size
     * raised (its bitmaps would cover more than RAM), or a bitmap pointer
     * moved by some pages (into other bitmaps, or past the carried pages).
     */
    'descriptor u64 changed': (img, [desc], rnd) => {
      const at = desc.pa + 8 + BANK_BYTES * int(rnd, img.u64(desc.pa));
      const by = PAGE_SIZE * (1 + int(rnd, 2 ** 30));
      const start = img.u64(at);
      const field = int(rnd, 3);
      if (field === 0 && start > 0) img.setU64(at, Math.max(0, start - by));
      else if (field < 2) img.setU64(at + 8, img.u64(at + 8) + by);
      else {
        const pointer = at + 16 + 8 * int(rnd, NR_ORDERS);
        img.setU64(pointer, img.u64(pointer) + PAGE_SIZE * (rnd() < 0.5 ? -1 : 1) * (1 + int(rnd, 64)));
        return ['shared', 'uncarried', 'bits past the bank'];
      }
      return ['bank outside RAM'];
    },
    /** A second descriptor entry copying the last bank: RAM listed twice. */
    'bank listed twice': (img, [desc]) => {
      const nr = img.u64(desc.pa);
      if (nr >= Math.floor((PAGE_SIZE - 8) / BANK_BYTES)) return undefined;
      img.copy(desc.pa + 8 + BANK_BYTES * (nr - 1), desc.pa + 8 + BANK_BYTES * nr, BANK_BYTES);
      img.setU64(desc.pa, nr + 1);
      return ['bank overlap'];
    },
    /** nr_banks raised: the entries after the real ones are zeros, or past the page. */
    'count raised': (img, [desc], rnd) => {
      const nr = img.u64(desc.pa);
      img.setU64(desc.pa, [nr + 1, 24, 25, 2 ** 32 - 1][int(rnd, 4)]);
      return ['bank outside RAM', 'bank count'];
    },
  },
};

// xarray-6.16 .. 6.19: a chunk list; each chunk: next, order, num_elms, 255 x {phys_start, bitmap}.
const CHUNK_ENTRIES = 255;
/** Entry 255 of a chunk is its `next` pointer. */
const NEXT = CHUNK_ENTRIES;

function xarrayFormat(preserveBits: number): Format {
  const entry = (m: Meta, i: number) => (i === NEXT ? { at: m.pa, bytes: 8 } : { at: m.pa + 0x10 + 16 * i, bytes: 16 });
  const span = (img: ImageEdit, m: Meta) => preserveBits * PAGE_SIZE * 2 ** img.u32(m.pa + 8);
  /** Entries past num_elms are appended in turn, each span after the one before it. */
  const extendTo = (img: ImageEdit, m: Meta, j: number) => {
    const n = img.u32(m.pa + 0x0c);
    if (j < n) return;
    if (j > n) throw new Error(`chunk entry ${j} would leave a gap after ${n}`);
    img.setU64(entry(m, j).at, j === 0 ? 0 : img.u64(entry(m, j - 1).at) + span(img, m));
    img.setU32(m.pa + 0x0c, j + 1);
  };
  const format: Format = {
    property: 'preserved-memory-map',
    parse(img, first) {
      const chunks: Meta[] = [];
      for (let pa = first, depth = 0; pa !== 0 && !chunks.some((c) => c.pa === pa); pa = img.u64(pa), depth++) {
        const chunk = meta(pa, 'chunk', depth, CHUNK_ENTRIES + 1, (i) => (i === NEXT ? 'chunk' : 'bitmap'));
        const n = img.u32(pa + 0x0c);
        for (let i = 0; i < n; i++) chunk.children.set(i, meta(img.u64(entry(chunk, i).at + 8), 'bitmap', depth + 1, 0, () => ''));
        chunks.at(-1)?.children.set(NEXT, chunk);
        chunks.push(chunk);
      }
      return graph(chunks[0]);
    },
    entry,
    point(img, m, i, child) {
      if (i === NEXT) return img.setU64(m.pa, child.pa);
      extendTo(img, m, i);
      img.setU64(pointerAt(format, m, i), child.pa);
    },
    copyEntry(img, m, i, j) {
      if (j !== NEXT) extendTo(img, m, j);
      rawCopy({ entry })(img, m, i, j);
    },
    zeroIsEmpty: (_, i) => i === NEXT,
    counted: true,
    rootMayBeEmpty: true,
    leaf: 'bitmap',
    leafBytes: preserveBits / 8,
    copied: ['listed twice', 'shared'],
    rebitmapped: ['shared'],
    rerouted: [],
    fields: {
      /** num_elms raised past the entries written: the rest are zeros. */
      'count raised': (img, objects, rnd) => {
        const chunk = pick(rnd, objects.filter((m) => m.what === 'chunk' && img.u32(m.pa + 0x0c) < CHUNK_ENTRIES));
        if (!chunk) return undefined;
        img.setU32(chunk.pa + 0x0c, CHUNK_ENTRIES);
        return ['listed twice', 'not a pointer'];
      },
    },
  };
  return format;
}

// ida: root page of 19 heads; entries are values (x1), bitmaps (00, 128 bytes) or nodes (10, 576 bytes, 64 slots at 0x28).
const IDA_NODE_SLOTS = 0x28;
const idaEntry = (m: Meta, i: number) => ({ at: m.what === 'root' ? m.pa + 8 * i : m.pa + IDA_NODE_SLOTS + 8 * i, bytes: 8 });

const IDA: Format = {
  property: 'preserved-memory-map',
  parse(img, rootPa) {
    const entryMeta = (v: number, depth: number, parentShift: number): Meta | undefined => {
      if (v === 0 || v % 2 === 1) return undefined;
      if (v % 4 === 0) return meta(v, 'bitmap', depth, 0, () => '');
      const pa = v - 2;
      const shift = img.u8(pa);
      const node = meta(pa, 'node', depth, 64, () => (shift === 0 ? 'bitmap' : 'node'));
      if (parentShift >= 0 && shift !== parentShift - 6) throw new Error(`node shift ${shift} under ${parentShift}`);
      for (let k = 0; k < 64; k++) {
        const child = entryMeta(img.u64(pa + IDA_NODE_SLOTS + 8 * k), depth + 1, shift);
        if (child) node.children.set(k, child);
      }
      return node;
    };
    const root = meta(rootPa, 'root', 0, NR_ORDERS, (i) => root.children.get(i)?.what ?? 'node');
    for (let o = 0; o < NR_ORDERS; o++) {
      const head = entryMeta(img.u64(rootPa + 8 * o), 1, -1);
      if (head) root.children.set(o, head);
    }
    return graph(root);
  },
  entry: idaEntry,
  point: (img, m, i, child) => pointerEntry(img, m, i, { entry: idaEntry }, child, child.what === 'node' ? 2 : 0),
  copyEntry: rawCopy({ entry: idaEntry }),
  zeroIsEmpty: () => true,
  counted: false,
  rootMayBeEmpty: false,
  leaf: 'bitmap',
  leafBytes: 128,
  copied: ['shared'],
  rebitmapped: ['shared'],
  rerouted: ['node of another height'],
  fields: {},
};

// radix-rfc: order table (slots 0..9) -> per order, 5 (order 0) or 4 tables of 512 entries -> bitmaps.
// radix: root -> 4 more levels of tables -> bitmaps.
function tableMeta(img: ImageEdit, pa: number, depth: number, tables: number): Meta {
  const table = meta(pa, 'table', depth, 512, () => (tables === 1 ? 'bitmap' : 'table'));
  for (let i = 0; i < 512; i++) {
    const child = img.u64(pa + 8 * i);
    if (child === 0) continue;
    table.children.set(i, tables === 1 ? meta(child, 'bitmap', depth + 1, 0, () => '') : tableMeta(img, child, depth + 1, tables - 1));
  }
  return table;
}

const tableEntry = (m: Meta, i: number) => ({ at: m.pa + 8 * i, bytes: 8 });

function tableFormat(property: string, rerouted: readonly Refusal[], parseRoot: (img: ImageEdit, root: number) => Meta): Format {
  return {
    property,
    parse: (img, root) => graph(parseRoot(img, root)),
    entry: tableEntry,
    point: (img, m, i, child) => pointerEntry(img, m, i, { entry: tableEntry }, child),
    copyEntry: rawCopy({ entry: tableEntry }),
    zeroIsEmpty: () => true,
    counted: false,
    rootMayBeEmpty: false,
    leaf: 'bitmap',
    leafBytes: PAGE_SIZE,
    copied: ['shared'],
    rebitmapped: ['shared'],
    rerouted,
    fields: {},
  };
}

// Under another path, a bitmap may cover addresses past 2^52.
const RFC = tableFormat('preserved-order-table', ['bitmap above 2^52'], (img, pa) => {
  const orderTable = meta(pa, 'order table', 0, 10, () => 'table');
  for (let o = 0; o < 10; o++) {
    const top = img.u64(pa + 8 * o);
    if (top !== 0) orderTable.children.set(o, tableMeta(img, top, 1, Math.ceil((64 - (27 + o)) / 9)));
  }
  return orderTable;
});

// Under another path, a leaf's key may carry no order bit, or one of no order.
const RADIX = tableFormat('preserved-memory-map', ['leaf without an order'], (img, pa) => tableMeta(img, pa, 0, 5));

// kho-array: a B+ tree of page blocks. Header u64: flags (bit 0: an index block), num_entries (bits
// 1..13), pos_increment (bits 14..63). An index block's entries are {u64 key, u64 child} at 0x8 + 16 i,
// each child's pos_increment its key; a leaf's entries are runs, and no pointer.
const KA_CHILDREN = 255;
const kaEntry = (m: Meta, i: number) => ({ at: m.pa + 8 + 16 * i, bytes: 16 });
const kaEntries = (img: ImageEdit, pa: number) => (img.u32(pa) >>> 1) & 0x1fff;

function setKaEntries(img: ImageEdit, pa: number, n: number): void {
  img.setU32(pa, (img.u32(pa) & ~(0x1fff << 1)) | (n << 1));
}

/** Entries past num_entries are appended in turn, each key after the one before it. */
function kaExtendTo(img: ImageEdit, m: Meta, j: number): void {
  const n = kaEntries(img, m.pa);
  if (j < n) return;
  if (j > n) throw new Error(`block entry ${j} would leave a gap after ${n}`);
  img.setU64(kaEntry(m, j).at, img.u64(kaEntry(m, j - 1).at) + 1);
  setKaEntries(img, m.pa, j + 1);
}

const KHO_ARRAY: Format = {
  property: 'preserved-memory-array',
  parse(img, rootPa) {
    const block = (pa: number, depth: number): Meta => {
      if (img.u32(pa) % 2 === 0) return meta(pa, 'leaf block', depth, 0, () => '');
      const index: Meta = meta(pa, 'index block', depth, KA_CHILDREN, () => index.children.get(0)!.what);
      for (let i = 0; i < kaEntries(img, pa); i++) index.children.set(i, block(img.u64(kaEntry(index, i).at + 8), depth + 1));
      return index;
    };
    return graph(block(rootPa, 0));
  },
  entry: kaEntry,
  point(img, m, i, child) {
    kaExtendTo(img, m, i);
    img.setU64(pointerAt({ entry: kaEntry }, m, i), child.pa);
  },
  copyEntry(img, m, i, j) {
    kaExtendTo(img, m, j);
    rawCopy({ entry: kaEntry })(img, m, i, j);
  },
  zeroIsEmpty: () => false,
  counted: true,
  rootMayBeEmpty: false,
  leaf: 'leaf block',
  leafBytes: PAGE_SIZE,
  // A block reached under another key says its own position first.
  copied: ['keys out of order', 'shared', 'block out of place'],
  rebitmapped: ['shared', 'block out of place'],
  rerouted: ['block out of place'],
  fields: {
    /** num_entries raised past the entries written: stale bytes or zeros, as keys or as runs. */
    'count raised': (img, objects, rnd) => {
      const block = pick(rnd, objects)!;
      setKaEntries(img, block.pa, [kaEntries(img, block.pa) + 1, 511, 8191][int(rnd, 3)]);
      return ['keys out of order', 'block count', 'run out of place', 'not a pointer', 'not page aligned', 'uncarried', 'block out of place'];
    },
  },
};

/** Every structure's format: a structure added to the registry needs one here (the typecheck says so). */
const FORMATS: Record<StructureId, Format> = {
  'flat-bitmap': FLAT,
  'xarray-6.16': xarrayFormat(4096),
  'xarray-6.18': xarrayFormat(32768),
  'xarray-6.19': xarrayFormat(32768),
  'xarray-prealloc': xarrayFormat(32768),
  'kho-array': KHO_ARRAY,
  ida: IDA,
  'radix-rfc': RFC,
  radix: RADIX,
};

/** An attack's image, how it must be refused, and how many pages it added. */
export interface Built {
  readonly handover: Handover;
  readonly refusals: readonly Refusal[];
  readonly pagesAdded: number;
}

interface Subject {
  readonly format: Format;
  readonly img: ImageEdit;
  readonly objects: Meta[];
}

const entriesOf = (m: Meta) => Array.from({ length: m.entries }, (_, i) => i);
const firstChild = (m: Meta) => [...m.children.entries()][0];

/** Every entry of `m` that holds `child`'s kind points at `child`. */
function shareEverywhere(t: Subject, m: Meta, child: Meta): void {
  for (const i of entriesOf(m)) if (m.holds(i) === child.what) t.format.point(t.img, m, i, child);
}

/** A RAM page the image does not carry, now carried with `fill` in every byte. */
function newPage(t: Subject, fill: number): number {
  const pa = t.img.spare();
  t.img.page(pa / PAGE_SIZE).fill(fill);
  return pa;
}

function rootPointer(h: Handover, format: Format): number {
  const bytes = readFdt(h.fdt).props.get(format.property)!;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 4294967296;
}

function withRootPointer(h: Handover, property: string, pa: number): Handover {
  const root = toSpec(readFdt(h.fdt));
  const bytes = new Uint8Array(8);
  setU64(new DataView(bytes.buffer), 0, pa);
  return withFdt(h, writeFdt({ ...root, props: { ...root.props, [property]: bytes } }));
}

export type AttackFn = (t: Subject, rnd: Random) => { refusals: readonly Refusal[]; pagesAdded?: number; fdtRoot?: number } | undefined;

/**
 * The attack classes, each a list of named mechanisms. A mechanism that
 * finds nothing to attack in a format (a flat bitmap has no second level)
 * returns undefined.
 */
export const ATTACKS: Record<string, Record<string, AttackFn>> = {
  dag: {
    /** Every entry of the top object points at one child. */
    'shared child at the top': (t) => {
      const top = t.objects[0];
      const c = firstChild(top);
      if (!c) return undefined;
      shareEverywhere(t, top, c[1]);
      return { refusals: ['shared', ...t.format.rerouted] };
    },
    /** Every entry of every object points at its first child: 512^5 paths to one radix leaf in six pages. */
    'shared children at every level': (t) => {
      const withChildren = t.objects.filter((m) => m.children.size > 0);
      if (withChildren.length === 0) return undefined;
      for (const m of withChildren) shareEverywhere(t, m, firstChild(m)![1]);
      return { refusals: ['shared', ...t.format.rerouted] };
    },
    /** Every entry of a level-2 object points at one level-1 object, whose every entry points at one bitmap: 2^18 paths to one leaf. */
    'shared children low down': (t, rnd) => {
      const p2 = pick(rnd, t.objects.filter((m) => [...m.children.values()].some((c) => c.level === 1 && c.children.size > 0)));
      if (!p2) return undefined;
      const p1 = [...p2.children.values()].find((c) => c.level === 1 && c.children.size > 0)!;
      const leaf = firstChild(p1)![1];
      shareEverywhere(t, p2, p1);
      shareEverywhere(t, p1, leaf);
      return { refusals: ['shared', ...t.format.rerouted] };
    },
  },
  duplicate: {
    /** One entry's bytes copied over another entry of the same object. */
    'entry copied': (t, rnd) => {
      const alikeOf = (m: Meta, i: number, child: Meta) => entriesOf(m).filter((j) => j !== i && m.holds(j) === child.what);
      const slots = t.objects.flatMap((m) => [...m.children].map(([i, c]) => [m, i, c] as const));
      const slot = pick(rnd, slots.filter(([m, i, c]) => alikeOf(m, i, c).length > 0));
      if (!slot) return undefined;
      const [m, i, child] = slot;
      const alike = alikeOf(m, i, child);
      const free = alike.filter((j) => !m.children.has(j));
      const j = free.length === 0 ? pick(rnd, alike)! : t.format.counted ? free[0] : pick(rnd, free)!;
      t.format.copyEntry(t.img, m, i, j);
      return { refusals: t.format.copied };
    },
    /**
     * An object with children copied to a new page, which hangs beside the
     * original in their parent (not the root, whose entries may stand for
     * other orders), or after it in a list.
     */
    'object copied': (t, rnd) => {
      const parents = new Map<Meta, Meta>();
      for (const p of t.objects) for (const c of p.children.values()) parents.set(c, p);
      const o = pick(rnd, t.objects.filter((m) => m.depth >= 2 && m.level > 0 && m.children.size > 0));
      if (!o) return undefined;
      const p = parents.get(o)!;
      const copy = t.img.spare();
      t.img.copy(o.pa, copy, PAGE_SIZE - (o.pa % PAGE_SIZE));
      const free = entriesOf(p).filter((j) => p.holds(j) === o.what && !p.children.has(j));
      const target = { pa: copy, what: o.what };
      if (free.length > 0) t.format.point(t.img, p, pick(rnd, free)!, target);
      else {
        const own = entriesOf(o).find((j) => o.holds(j) === o.what);
        if (own === undefined) return undefined;
        t.format.point(t.img, o, own, target);
      }
      // The copy sits under another key: walked first, its subtree can report folios elsewhere first.
      return { refusals: [...t.format.copied, ...t.format.rerouted, 'folio outside RAM'], pagesAdded: 1 };
    },
    /** A bitmap's (or leaf block's) pointer set to another one of the image. */
    'bitmap pointer reused': (t, rnd) => {
      const leaf = t.format.leaf;
      const bitmaps = t.objects.filter((m) => m.what === leaf);
      const holder = pick(rnd, t.objects.filter((m) => [...m.children.values()].some((c) => c.what === leaf)));
      if (!holder || bitmaps.length < 2) return undefined;
      const [i, own] = pick(rnd, [...holder.children.entries()].filter(([, c]) => c.what === leaf))!;
      t.format.point(t.img, holder, i, pick(rnd, bitmaps.filter((b) => b.pa !== own.pa))!);
      return { refusals: t.format.rebitmapped };
    },
    ...fieldAttacks(['count raised', 'bank listed twice']),
  },
  flood: {
    /** A new page of all-ones bitmaps (or leaf blocks), hung at every entry of every object that holds them. */
    'all-ones bitmaps everywhere': (t) => {
      const { leaf, leafBytes } = t.format;
      const ones = newPage(t, 0xff);
      let k = 0;
      for (const m of t.objects) {
        for (const i of entriesOf(m)) {
          if (m.holds(i) === leaf) t.format.point(t.img, m, i, { pa: ones + (k++ % (PAGE_SIZE / leafBytes)) * leafBytes, what: leaf });
        }
      }
      if (k === 0) return undefined;
      return { refusals: [...new Set<Refusal>([...t.format.rebitmapped, 'folio outside RAM'])], pagesAdded: 1 };
    },
    ...fieldAttacks(['descriptor u64 changed']),
  },
  pointer: {
    /** A pointer that may not be empty (the FDT's, a bitmap's) set to address 0. */
    'address 0': (t, rnd) => {
      const slots = t.objects.flatMap((m) => [...m.children.keys()].filter((i) => !t.format.zeroIsEmpty(m, i)).map((i) => [m, i] as const));
      const slot = t.format.rootMayBeEmpty || rnd() >= 0.3 ? pick(rnd, slots) : undefined;
      if (slot) {
        t.img.setU64(pointerAt(t.format, slot[0], slot[1]), 0);
        return { refusals: ['not a pointer'] };
      }
      return t.format.rootMayBeEmpty ? undefined : { refusals: ['not a pointer'], fdtRoot: 0 };
    },
    /** A pointer (the FDT's or any entry's) to a page of RAM the image does not carry. */
    'uncarried page': (t, rnd) => {
      const spare = t.img.spare();
      const slot = rnd() < 0.2 ? undefined : pick(rnd, t.objects.flatMap((m) => [...m.children].map(([i, c]) => [m, i, c] as const)));
      if (!slot) return { refusals: ['uncarried'], fdtRoot: spare };
      const [m, i, c] = slot;
      t.format.point(t.img, m, i, { pa: spare + (c.pa % PAGE_SIZE), what: c.what });
      return { refusals: ['uncarried'] };
    },
  },
};

function fieldAttacks(names: readonly string[]): Record<string, AttackFn> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      (t: Subject, rnd: Random) => {
        const field = t.format.fields[name];
        const refusals = field?.(t.img, t.objects, rnd);
        return refusals && { refusals };
      },
    ]),
  );
}

/** Runs one attack on a clean hand-over of `id`; undefined where the format has nothing it attacks. */
export function buildAttack(id: StructureId, h: Handover, attack: AttackFn, rnd: Random): Built | undefined {
  const format = FORMATS[id];
  const img = new ImageEdit(h.image);
  const t: Subject = { format, img, objects: format.parse(img, rootPointer(h, format)) };
  const result = attack(t, rnd);
  if (!result) return undefined;
  const damaged = { ...h, image: img.build() };
  return {
    handover: result.fdtRoot === undefined ? damaged : withRootPointer(damaged, format.property, result.fdtRoot),
    refusals: result.refusals,
    pagesAdded: result.pagesAdded ?? 0,
  };
}

/**
 * Restores `cases` corrupted copies of a clean hand-over (the corruption
 * kinds in turn, seeded) under a walk budget of four times the clean
 * restore's objects: how many ended in each outcome ('restored' or an
 * errno), and the first untyped errors.
 */
export function fuzzRestores(handover: Handover, machine: Machine, cases: number, seed: number): { legitFolios: number; tally: Record<string, number>; failures: string[] } {
  const kinds = Object.keys(CORRUPTIONS) as CorruptionKind[];
  const legit = restoreHandover(handover, new CheckedSink(machine));
  const maxObjects = 4 * legit.metadataObjectsRead + 64;
  const rnd = seededRandom(seed);
  const tally: Record<string, number> = {};
  const failures: string[] = [];
  for (let i = 0; i < cases; i++) {
    const kind = kinds[i % kinds.length];
    const damaged = CORRUPTIONS[kind](handover, rnd);
    let outcome: string;
    try {
      restoreHandover(damaged, new CheckedSink(machine), { maxObjects });
      outcome = 'restored';
    } catch (e) {
      if (isKhoError(e)) outcome = e.errno;
      else {
        outcome = 'UNTYPED';
        if (failures.length < 5) failures.push(`case ${i} (${kind}): ${(e as Error).message}`);
      }
    }
    tally[outcome] = (tally[outcome] ?? 0) + 1;
  }
  return { legitFolios: legit.folios, tally, failures };
}
