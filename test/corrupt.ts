/**
 * Corruptions of a hand-over, for the robustness fuzz: what a buggy old
 * kernel, a stray DMA or a format mismatch could leave for the next one.
 * Each takes a valid hand-over and a random source and returns a damaged
 * copy; the original is never modified.
 */
import { readFdt, writeFdt, type FdtNode, type FdtNodeSpec } from '../src/fdt/fdt.ts';
import type { Handover } from '../src/kexec/kexec.ts';
import { PAGE_SIZE, type RamImage } from '../src/ram/phys-mem.ts';
import { Rng } from '../bench/rng.ts';

export type Random = () => number;

/** A uniform source in [0, 1) from the suite's seeded generator. */
export function seededRandom(seed: number): Random {
  const rng = new Rng(seed);
  return () => rng.float();
}

const int = (rnd: Random, n: number) => Math.floor(rnd() * n);

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
