/**
 * kho_preserve_vmalloc and kho_restore_vmalloc (Linux 6.18 onwards): how a
 * KHO client hands over a vmalloc area, and how the next kernel finds it
 * from a 16-byte descriptor alone.
 *
 * Layout (little-endian; include/linux/kho/abi/kexec_handover.h):
 *
 *   struct kho_vmalloc (16 bytes, kept by the client, e.g. in its FDT)
 *     0x00  u64 first        physical address of the first chunk
 *     0x08  u32 total_pages  pages of the area
 *     0x0c  u16 flags        KHO_VMALLOC_ALLOC 0x1 | KHO_VMALLOC_HUGE_VMAP 0x2
 *     0x0e  u16 order        the area's page order (0 for plain vmalloc)
 *
 *   chunk = one zeroed 4096-byte page
 *     0x00  u64 next         physical address of the next chunk, 0 ends
 *     0x08  511 x u64 phys   start of each 2^order run of the area, in
 *                            order; 0 ends a chunk early
 *
 * Every chunk page (one order-0 page, kho_preserve_pages(chunk, 1)) and
 * every 2^order run of the area (kho_preserve_pages(run, 2^order)) is
 * preserved in the tracker. A chunk is added as soon as the current one is
 * full, so an area of exactly 511k runs ends with an empty chunk, as in the
 * kernel.
 *
 * Memory: vmalloc pages and chunk pages come from the page allocator, i.e.
 * ordinary RAM (the machine's workload banks here, `RamAllocator`), never
 * from the tracker's heap: they are client data, preserved like any folio.
 *
 * The next kernel (`restoreVmalloc`) follows the chunk list, restores each
 * run and each chunk page through what the tracker restored
 * (`RestoredPages`, standing for the struct pages KHO stamped), and checks
 * the page count, as kho_restore_vmalloc does; any failure is EINVAL (the
 * kernel returns NULL).
 */
import type { Machine } from '../ram/machine.ts';
import { PAGE_SIZE, type PhysMem } from '../ram/phys-mem.ts';
import { KhoError, hex } from '../tracker/errors.ts';
import type { Tracker } from '../tracker/tracker.ts';
import { splitRange } from '../tracker/tracker.ts';
import type { Folio } from './kexec.ts';

/** u64 physical addresses per chunk after its 8-byte header. */
export const KHO_VMALLOC_SIZE = (PAGE_SIZE - 8) / 8;
export const KHO_VMALLOC_ALLOC = 0x0001;
export const KHO_VMALLOC_HUGE_VMAP = 0x0002;
const SUPPORTED_FLAGS = KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP;
/** sizeof(struct kho_vmalloc). */
export const KHO_VMALLOC_DESC_SIZE = 16;
/** MAX_PAGE_ORDER on x86-64: the largest folio kho_restore_folio gives back. */
export const MAX_PAGE_ORDER = 10;

/**
 * The page allocator of ordinary RAM, in the role of the buddy allocator
 * for folio_alloc, vmalloc and get_zeroed_page: naturally aligned folios,
 * handed out top-down from the end of the highest workload bank, never
 * overlapping each other or the ranges the caller says are in use. Pages
 * are zeroed (the simulation's unwritten RAM reads as zero).
 */
export class RamAllocator {
  private readonly banks: { start: number; size: number }[];
  private bank: number;
  private cursor: number;
  private readonly avoid: Folio[];

  constructor(
    private readonly machine: Machine,
    inUse: readonly Folio[] = [],
  ) {
    this.banks = machine.workloadBanks.filter((b) => b.size > 0).map((b) => ({ start: b.start, size: b.size }));
    this.bank = this.banks.length - 1;
    this.cursor = this.bank >= 0 ? this.banks[this.bank].start + this.banks[this.bank].size : 0;
    this.avoid = [...inUse].sort((a, b) => b.phys - a.phys);
  }

  /** A folio of `order`: its physical address; ENOMEM when no workload RAM is left. */
  alloc(order: number): number {
    const size = PAGE_SIZE * 2 ** order;
    while (this.bank >= 0) {
      const b = this.banks[this.bank];
      const at = Math.floor((this.cursor - size) / size) * size;
      if (at < b.start) {
        this.bank--;
        if (this.bank >= 0) this.cursor = this.banks[this.bank].start + this.banks[this.bank].size;
        continue;
      }
      const clash = this.avoid.find((f) => f.phys < at + size && at < f.phys + PAGE_SIZE * 2 ** f.order);
      if (clash) {
        this.cursor = clash.phys;
        continue;
      }
      this.cursor = at;
      return at;
    }
    throw new KhoError('ENOMEM', `no free ${hex(size)}-byte folio left in workload RAM`);
  }

  get mem(): PhysMem {
    return this.machine.mem;
  }
}

/** A vmalloc area: its pages in virtual order, allocated 2^order at a time. */
export interface VmallocArea {
  readonly order: number;
  /** Physical address of each page of the area, in order. */
  readonly pages: readonly number[];
}

/** vmalloc(bytes): whole pages from the page allocator (order 0 unless a huge-vmap order is asked for). */
export function vmalloc(alloc: RamAllocator, bytes: number, order = 0): VmallocArea {
  const runPages = 2 ** order;
  const total = Math.ceil(Math.ceil(bytes / PAGE_SIZE) / runPages) * runPages;
  const pages: number[] = [];
  for (let i = 0; i < total; i += runPages) {
    const run = alloc.alloc(order);
    for (let j = 0; j < runPages; j++) pages.push(run + j * PAGE_SIZE);
  }
  return { order, pages };
}

/** The outcome of kho_preserve_vmalloc. */
export interface PreservedVmalloc {
  /** The 16 bytes of struct kho_vmalloc. */
  readonly desc: Uint8Array;
  /** Physical address of every chunk page, in list order. */
  readonly chunks: readonly number[];
  /** Every folio the preservation made (chunk pages and runs of the area), whose contents must cross the kexec. */
  readonly preserved: readonly Folio[];
}

/**
 * kho_preserve_vmalloc: chunk pages from `alloc`, each preserved as one
 * page, then every 2^order run of the area preserved and listed. On a
 * failure what was preserved is unpreserved again where the tracker's
 * kernel has unpreserve (the kernel clears the bits with its internal
 * __kho_unpreserve, which 6.16..6.18's tracker interface does not export),
 * and the error is rethrown.
 */
export function preserveVmalloc(tracker: Tracker, alloc: RamAllocator, area: VmallocArea, flags = KHO_VMALLOC_ALLOC): PreservedVmalloc {
  const mem = alloc.mem;
  const runPages = 2 ** area.order;
  const chunks: number[] = [];
  const preserved: Folio[] = [];
  const preservePages = (phys: number, pages: number) => {
    tracker.preserveRange(phys, pages * PAGE_SIZE);
    for (const [pa, order] of splitRange(phys, pages * PAGE_SIZE)) preserved.push({ phys: pa, order });
  };
  const newChunk = (prev: number): number => {
    const chunk = alloc.alloc(0);
    zeroPage(mem, chunk);
    preservePages(chunk, 1);
    if (prev !== 0) mem.store64(prev, chunk);
    chunks.push(chunk);
    return chunk;
  };
  try {
    let chunk = newChunk(0);
    let idx = 0;
    for (let i = 0; i < area.pages.length; i += runPages) {
      const phys = area.pages[i];
      preservePages(phys, runPages);
      mem.store64(chunk + 8 + 8 * idx++, phys);
      if (idx === KHO_VMALLOC_SIZE) {
        chunk = newChunk(chunk);
        idx = 0;
      }
    }
  } catch (e) {
    if (tracker.lifecycle.unpreserve) for (const f of preserved) tracker.unpreserve(f.phys, f.order);
    throw e;
  }
  const desc = new Uint8Array(KHO_VMALLOC_DESC_SIZE);
  const view = new DataView(desc.buffer);
  view.setUint32(0, chunks[0] >>> 0, true);
  view.setUint32(4, Math.floor(chunks[0] / 2 ** 32), true);
  view.setUint32(8, area.pages.length, true);
  view.setUint16(12, flags, true);
  view.setUint16(14, area.order, true);
  return { desc, chunks, preserved };
}

function zeroPage(mem: PhysMem, pa: number): void {
  const base = mem.wbase(pa);
  for (let w = 0; w < PAGE_SIZE / 4; w++) mem.st(base + w, 0);
}

/**
 * The next kernel's view of the struct pages KHO stamped during the
 * restore walk: which physical addresses head a preserved folio, and of
 * which order. Restoring a folio clears its stamp (kho_restore_page zeroes
 * page->private), so a page is handed out at most once.
 */
export class RestoredPages {
  private readonly heads = new Map<number, number>();

  /** `restored` is the walk's [phys, order, phys, order, ...]. */
  constructor(restored: Float64Array) {
    for (let i = 0; i < restored.length; i += 2) this.heads.set(restored[i], restored[i + 1]);
  }

  /** kho_restore_folio: the folio's order, or -1 if `phys` heads no preserved folio (or one above MAX_PAGE_ORDER, or one restored already). */
  restoreFolio(phys: number): number {
    const order = this.heads.get(phys);
    if (order === undefined || order > MAX_PAGE_ORDER) return -1;
    this.heads.delete(phys);
    return order;
  }

  /** kho_restore_pages: every piece of the greedy split of the range must head a preserved folio. */
  restorePages(phys: number, nrPages: number): boolean {
    for (const [pa] of splitRange(phys, nrPages * PAGE_SIZE)) if (this.restoreFolio(pa) < 0) return false;
    return true;
  }
}

/** A struct kho_vmalloc decoded. */
export interface VmallocDesc {
  readonly first: number;
  readonly totalPages: number;
  readonly flags: number;
  readonly order: number;
}

export function decodeVmallocDesc(bytes: Uint8Array): VmallocDesc {
  if (bytes.length !== KHO_VMALLOC_DESC_SIZE) throw new KhoError('EINVAL', `struct kho_vmalloc is ${bytes.length} bytes, not ${KHO_VMALLOC_DESC_SIZE}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    first: view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32,
    totalPages: view.getUint32(8, true),
    flags: view.getUint16(12, true),
    order: view.getUint16(14, true),
  };
}

/**
 * kho_restore_vmalloc in the next kernel: the pages of the area, in order,
 * found from the descriptor through the chunk list; EINVAL where the kernel
 * returns NULL (unsupported flags, a run or chunk page that was not
 * preserved, more pages than total_pages, or fewer).
 */
export function restoreVmalloc(mem: PhysMem, desc: VmallocDesc, restored: RestoredPages): number[] {
  const fail = (why: string): never => {
    throw new KhoError('EINVAL', `kho_restore_vmalloc: ${why}`);
  };
  if (desc.flags & ~SUPPORTED_FLAGS) fail(`flags ${hex(desc.flags)} are not supported`);
  if (desc.order > MAX_PAGE_ORDER) fail(`order ${desc.order} is above ${MAX_PAGE_ORDER}`);
  const runPages = 2 ** desc.order;
  const pages: number[] = [];
  for (let chunk = desc.first; chunk !== 0; ) {
    if (chunk % PAGE_SIZE !== 0 || !mem.contains(chunk, PAGE_SIZE)) fail(`chunk ${hex(chunk)} is not a page of RAM`);
    for (let i = 0; i < KHO_VMALLOC_SIZE; i++) {
      const phys = mem.load64(chunk + 8 + 8 * i);
      if (phys === 0) break;
      if (pages.length + runPages > desc.totalPages) fail(`the chunks list more than ${desc.totalPages} pages`);
      if (phys % (PAGE_SIZE * runPages) !== 0 || !mem.contains(phys, PAGE_SIZE * runPages)) fail(`page ${hex(phys)} is not a run of RAM`);
      if (!restored.restorePages(phys, runPages)) fail(`page ${hex(phys)} was not preserved`);
      for (let j = 0; j < runPages; j++) pages.push(phys + j * PAGE_SIZE);
    }
    // The chunk page itself was preserved too; restoring it twice fails, which also ends a looping list.
    if (!restored.restorePages(chunk, 1)) fail(`chunk ${hex(chunk)} was not preserved`);
    chunk = mem.load64(chunk);
  }
  if (pages.length !== desc.totalPages) fail(`the chunks list ${pages.length} pages, total_pages says ${desc.totalPages}`);
  return pages;
}
