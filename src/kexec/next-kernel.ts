/**
 * The next kernel's work per restored folio, in simulated memory: a
 * FolioSink the restore walk reports every preserved folio to, doing what
 * kho_preserved_memory_reserve (and kho_get_preserved_page) do:
 *
 *   1. with deferred struct page init, init_deferred_page on all 2^order
 *      struct pages of the folio (struct-pages.ts);
 *   2. memblock_reserve(phys, 4096 << order) and
 *   3. memblock_reserved_mark_noinit(phys, 4096 << order) on
 *      memblock.reserved (memblock.ts);
 *   4. page->private of the head struct page = order (6.16, 6.17), or
 *      KHO_PAGE_MAGIC << 32 | order (6.18 and later).
 *
 * Memory. The next kernel's own data lives in a PhysMem of its own, not in
 * the restore's (whose RAM belongs to the preserved folios and the old
 * kernel's metadata): two banks above the machine's RAM, the KHO scratch
 * area (NEXT_KERNEL_SCRATCH_BASE, 4 GiB: the arrays memblock doubles into,
 * allocated top-down) and the data bank (NEXT_KERNEL_DATA_PA: the static
 * region array, the statics and pglist_data init_deferred_page reads, the
 * usemap window and the vmemmap window; see struct-pages.ts for the
 * layout). The machine's RAM (the banks of the memory passed in) gives the
 * zones and the pfn -> nid cache; it must lie below the scratch area.
 * When the memory passed in is a TracedPhysMem, the kernel's memory is a
 * FoldedTracedMem reporting to the same tracer: every access of the work
 * below reaches the machine model and the touch counters, the vmemmap's at
 * its true addresses (VMEMMAP_BASE + 64 pfn).
 *
 * Options (NextKernelOptions): the struct pages' (deferredInit, magic,
 * window, firstDeferredPfn, structPageCap: deferred init of each folio
 * bounded to its first struct pages, for timing a sample; see
 * struct-pages.ts), memblock's `search`, and `perWord` for both: every
 * access through the PhysMem word methods, one traced event each, instead
 * of the host-word loops and their bulk events (the reference they are
 * tested against).
 *
 * Measuring in parts: `memblockOnly(list)` is steps 2 and 3 for a recorded
 * folio list ([phys, order, ...], FolioList.toArray()), `structPagesOnly
 * (list)` steps 1 and 4; the walk with this object as its sink does all of
 * them per folio as it finds it (the total). `reset()` returns to a fresh
 * boot before each run. `check(list)` verifies a run.
 */
import type { FolioSink } from '../tracker/tracker.ts';
import { KhoError, hex } from '../tracker/errors.ts';
import { type Bank, INV_PAGE_SIZE, PhysMem } from '../ram/phys-mem.ts';
import { type MemTracer, TracedPhysMem } from '../ram/traced-mem.ts';
import { type MemblockSearch, type MemblockStats, MemblockTable, NEXT_KERNEL_SCRATCH_BASE, NEXT_KERNEL_SCRATCH_SIZE } from './memblock.ts';
import { DEFAULT_VMEMMAP_WINDOW, FoldedTracedMem, type StructPageOptions, type StructPageStats, StructPages, structPageLayout } from './struct-pages.ts';

export interface NextKernelOptions extends StructPageOptions {
  /** memblock's scan for a range's first region: the kernel's linear scan (default) or a binary search (see memblock.ts). */
  readonly search?: MemblockSearch;
  /** memblock's memmoves unreported, for the caller to price (see memblock.ts). */
  readonly priceMoves?: boolean;
  /** Report to this tracer (default: the tracer of the memory passed in, if it is a TracedPhysMem); null for none. */
  readonly tracer?: MemTracer | null;
  /**
   * Boot on this kernel's memory instead of a memory of its own (same
   * window, same tracer): kernels measured one after another, each reset
   * before its run, then share the host pages, which the first touch of a
   * fresh memory pays for in page faults (64 MiB of window: ~0.25 s here).
   */
  readonly memoryOf?: NextKernel;
}

/** Pages of the scratch area the kernel's memory makes room for up front (memblock's doubled arrays: a few in every scenario). */
const SCRATCH_ROOM_PAGES = 64;

export type NextKernelStats = MemblockStats & StructPageStats;

export class NextKernel implements FolioSink {
  /** The next kernel's own memory (see the block comment). */
  readonly mem: PhysMem;
  readonly memblock: MemblockTable;
  readonly structPages: StructPages;
  /** Sinks doing only the memblock work, or only the struct-page work, per folio (a walk into one part). */
  readonly memblockSink: FolioSink;
  readonly structPagesSink: FolioSink;
  private readonly deferredInit: boolean;
  private readonly window: number;
  private readonly folded: FoldedTracedMem | null;

  /** `machine`: the restore's memory (or the machine's RAM banks). */
  constructor(machine: PhysMem | readonly Bank[], options: NextKernelOptions = {}) {
    const ram = machine instanceof PhysMem ? machine.banks : machine;
    const tracer = options.tracer !== undefined ? options.tracer : machine instanceof TracedPhysMem ? machine.tracer : null;
    for (const b of ram) {
      if (b.start + b.size > NEXT_KERNEL_SCRATCH_BASE) ramTooHigh(b);
    }
    const window = options.window ?? DEFAULT_VMEMMAP_WINDOW;
    const shared = options.memoryOf;
    if (shared && (shared.window !== window || (shared.folded?.tracer ?? null) !== tracer)) memoryNotShareable();
    const dataBank = structPageLayout(window).dataBank;
    const banks: Bank[] = [{ start: NEXT_KERNEL_SCRATCH_BASE, size: NEXT_KERNEL_SCRATCH_SIZE }, dataBank];
    const folded = shared ? shared.folded : tracer !== null ? new FoldedTracedMem(banks, tracer, window) : null;
    this.window = window;
    this.folded = folded;
    this.mem = shared ? shared.mem : (folded ?? new PhysMem(banks));
    if (!shared) this.mem.makeRoom(dataBank.size * INV_PAGE_SIZE + SCRATCH_ROOM_PAGES);
    this.memblock = new MemblockTable({ mem: this.mem, search: options.search, perWord: options.perWord, priceMoves: options.priceMoves });
    this.structPages = new StructPages(this.mem, ram, { ...options, window }, folded);
    this.deferredInit = this.structPages.deferredInit;
    const mb = this.memblock;
    const sp = this.structPages;
    this.memblockSink = { add: (phys, order) => mb.add(phys, order) };
    this.structPagesSink = { add: (phys, order) => sp.add(phys, order) };
  }

  /** A fresh boot: the empty static region array, empty struct pages. */
  reset(): void {
    this.memblock.reset();
    this.structPages.reset();
  }

  /** FolioSink: all of the kernel's work for one restored folio, in the kernel's order. */
  add(phys: number, order: number): void {
    if (this.deferredInit) this.structPages.initFolio(phys, order);
    this.memblock.add(phys, order);
    this.structPages.setHead(phys, order);
  }

  /** add() of every folio of a recorded list: the total without the walk. */
  runList(list: Float64Array, length = list.length): void {
    for (let i = 0; i + 1 < length; i += 2) this.add(list[i], list[i + 1]);
  }

  /** memblock_reserve and memblock_reserved_mark_noinit of every folio of a recorded list. */
  memblockOnly(list: Float64Array, length = list.length): void {
    this.memblock.addList(list, length);
  }

  /** The struct-page work (deferred init if configured, then the head page) of every folio of a recorded list. */
  structPagesOnly(list: Float64Array, length = list.length): void {
    this.structPages.addList(list, length);
  }

  stats(): NextKernelStats {
    return { ...this.memblock.stats(), ...this.structPages.stats() };
  }

  /** Host bytes of the next kernel's memory (bounded by the window and the region arrays). */
  get hostBytes(): number {
    return this.mem.backedBytes;
  }

  /**
   * After a restore of `list` from a fresh boot: memblock.reserved covers
   * exactly the preserved bytes, every such region is NOINIT, and the
   * head struct page of every folio holds its order (and magic). One line
   * describing the first error, or undefined.
   */
  check(list: Float64Array): string | undefined {
    if (list.length % 2 !== 0) return `a folio list holds [phys, order] pairs, not ${list.length} numbers`;
    return this.memblock.check(list) ?? this.structPages.check(list);
  }
}

function memoryNotShareable(): never {
  throw new KhoError('EINVAL', 'memoryOf: the kernels must have the same vmemmap window and the same tracer');
}

function ramTooHigh(b: Bank): never {
  throw new KhoError('EINVAL', `RAM bank ${hex(b.start)}+${hex(b.size)} reaches the next kernel's scratch area at ${hex(NEXT_KERNEL_SCRATCH_BASE)}`);
}
