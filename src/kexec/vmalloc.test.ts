/**
 * kho_preserve_vmalloc's layout, decoded from the hand-over image's raw
 * bytes as the facts sheet describes it (16-byte struct kho_vmalloc; chunks
 * of a u64 next and up to 511 u64 addresses, 0 ending a chunk early), and
 * kho_restore_vmalloc's checks.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../ram/machine.ts';
import { PAGE_SIZE, PhysMem } from '../ram/phys-mem.ts';
import { isKhoError } from '../tracker/errors.ts';
import { structureSpec } from '../../structures/index.ts';
import { RawImage } from '../../structures/radix/raw-image.ts';
import { FolioList, handOver, restoreFromMemory } from './kexec.ts';
import { RamAllocator, RestoredPages, decodeVmallocDesc, preserveVmalloc, restoreVmalloc, vmalloc } from './vmalloc.ts';

const GiB = 2 ** 30;

function setup(bytes: number, order = 0) {
  const machine = Machine.ofSize(4 * GiB);
  const tracker = structureSpec('radix').create(machine);
  const alloc = new RamAllocator(machine);
  const area = vmalloc(alloc, bytes, order);
  const v = preserveVmalloc(tracker, alloc, area);
  const h = handOver(tracker, { preserved: v.preserved });
  const list = new FolioList();
  const mem = PhysMem.fromImage(h.image);
  restoreFromMemory(h.structure, mem, h.fdt, list);
  return { tracker, area, v, h, mem, restored: list.toArray() };
}

/** The chunk list as the raw image holds it: per chunk, its non-zero addresses (up to 511, 0 ends early). */
function decodeChunks(raw: RawImage, first: bigint): bigint[][] {
  const chunks: bigint[][] = [];
  for (let chunk = first; chunk !== 0n; chunk = raw.u64(chunk)) {
    const entries: bigint[] = [];
    for (let i = 0n; i < 511n; i++) {
      const phys = raw.u64(chunk + 8n + 8n * i);
      if (phys === 0n) break;
      entries.push(phys);
    }
    chunks.push(entries);
    expect(chunks.length).toBeLessThan(100);
  }
  return chunks;
}

describe('kho_preserve_vmalloc', () => {
  it('writes struct kho_vmalloc and a chunk list of 511 addresses per page, every page and chunk preserved', () => {
    const { area, v, h, restored } = setup(1023 * PAGE_SIZE);
    const raw = new RawImage(h.image);
    const desc = Buffer.from(v.desc);
    expect(v.desc.length).toBe(16);
    const first = desc.readBigUInt64LE(0);
    expect(desc.readUInt32LE(8)).toBe(1023); // total_pages
    expect(desc.readUInt16LE(12)).toBe(0x1); // flags: KHO_VMALLOC_ALLOC
    expect(desc.readUInt16LE(14)).toBe(0); // order
    const chunks = decodeChunks(raw, first);
    expect(chunks.map((c) => c.length)).toEqual([511, 511, 1]);
    expect(chunks.flat()).toEqual(area.pages.map(BigInt));
    // Every chunk page and every page of the area is an order-0 folio the tracker restores.
    const heads = new Set<string>();
    for (let i = 0; i < restored.length; i += 2) heads.add(`${restored[i]}:${restored[i + 1]}`);
    for (const pa of [...area.pages, ...v.chunks]) expect(heads.has(`${pa}:0`)).toBe(true);
    expect(v.chunks.length).toBe(3);
  });

  it('adds a chunk as soon as one is full: 511 pages end with an empty chunk, as the kernel does', () => {
    const { v, h } = setup(511 * PAGE_SIZE);
    expect(decodeChunks(new RawImage(h.image), BigInt(decodeVmallocDesc(v.desc).first)).map((c) => c.length)).toEqual([511, 0]);
  });

  it('lists one address per 2^order run of a huge-vmap area, each run one folio of that order', () => {
    const { area, v, h, restored } = setup(6 * PAGE_SIZE, 1);
    const d = decodeVmallocDesc(v.desc);
    expect([d.totalPages, d.order]).toEqual([6, 1]);
    expect(decodeChunks(new RawImage(h.image), BigInt(d.first))).toEqual([[0, 2, 4].map((i) => BigInt(area.pages[i]))]);
    const orderOf = new Map<number, number>();
    for (let i = 0; i < restored.length; i += 2) orderOf.set(restored[i], restored[i + 1]);
    for (const i of [0, 2, 4]) expect(orderOf.get(area.pages[i])).toBe(1);
  });
});

describe('kho_restore_vmalloc', () => {
  const einval = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(isKhoError(e, 'EINVAL')).toBe(true);
      return (e as Error).message;
    }
    throw new Error('expected EINVAL');
  };

  it('finds the pages in order from the descriptor alone', () => {
    const { area, v, mem, restored } = setup(700 * PAGE_SIZE);
    expect(restoreVmalloc(mem, decodeVmallocDesc(v.desc), new RestoredPages(restored))).toEqual(area.pages);
  });

  it('refuses a page or chunk that was not preserved, a wrong total_pages, and unsupported flags', () => {
    const { area, v, mem, restored } = setup(700 * PAGE_SIZE);
    const d = decodeVmallocDesc(v.desc);
    const without = (pa: number) => {
      const out: number[] = [];
      for (let i = 0; i < restored.length; i += 2) if (restored[i] !== pa) out.push(restored[i], restored[i + 1]);
      return new RestoredPages(Float64Array.from(out));
    };
    expect(einval(() => restoreVmalloc(mem, d, without(area.pages[600])))).toMatch(/was not preserved/);
    expect(einval(() => restoreVmalloc(mem, d, without(v.chunks[1])))).toMatch(/chunk .* was not preserved/);
    expect(einval(() => restoreVmalloc(mem, { ...d, totalPages: 699 }, new RestoredPages(restored)))).toMatch(/more than 699/);
    expect(einval(() => restoreVmalloc(mem, { ...d, totalPages: 701 }, new RestoredPages(restored)))).toMatch(/total_pages says 701/);
    expect(einval(() => restoreVmalloc(mem, { ...d, flags: 0x4 }, new RestoredPages(restored)))).toMatch(/flags/);
    // A page restored once cannot be restored again (page->private is cleared).
    const pages = new RestoredPages(restored);
    restoreVmalloc(mem, d, pages);
    expect(einval(() => restoreVmalloc(mem, d, pages))).toMatch(/not preserved/);
  });
});
