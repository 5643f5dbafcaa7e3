/**
 * The struct pages the next kernel writes for each restored folio, as real
 * bytes in simulated memory.
 *
 * struct page, 64 bytes on x86-64 (CONFIG_MEMCG, SPARSEMEM_VMEMMAP, no
 * WANT_PAGE_VIRTUAL), the fields this file writes:
 *
 *   +0   flags       u64   set_page_links (zone, node) and last_cpupid
 *   +8   lru.next    u64   INIT_LIST_HEAD: points to &page->lru
 *   +16  lru.prev    u64
 *   +24  mapping     u64
 *   +32  index       u64
 *   +40  private     u64   KHO: order (6.16, 6.17), or KHO_PAGE_MAGIC << 32 | order (6.18+)
 *   +48  _mapcount   i32   -1
 *   +52  _refcount   i32   1 (init_page_count)
 *   +56  memcg_data  u64
 *
 * flags assumes one NUMA node and the page-flags layout of a distro
 * x86-64 kernel: NODES_SHIFT 10 at bit 54, ZONES_SHIFT 3 at bit 51,
 * LAST_CPUPID 21 bits (NR_CPUS 8192) at bit 30, reset to all ones; no
 * section or KASAN tag in flags. Pointer values (lru) are the struct page's
 * simulated address, not a kernel virtual address.
 *
 * Per folio (kho_preserved_memory_reserve and kho_get_preserved_page):
 *   with deferred struct page init (CONFIG_DEFERRED_STRUCT_PAGE_INIT), first
 *     nid = early_pfn_to_nid(pfn): the early_pfn_lock (an atomic, then a
 *     store) around the early_pfnnid_cache (two u64 loads on a hit; on a
 *     miss the cache is refilled with the RAM bank holding the pfn, three
 *     stores; the search of memblock.memory is not modelled);
 *     then init_deferred_page(pfn + i, nid) for every i < 2^order:
 *       early_page_initialised: node_states[N_ONLINE] (u32 load), then
 *         NODE_DATA(nid) (u64 load) -> first_deferred_pfn (u64 load); a pfn
 *         below it was initialised by memmap_init already and is skipped;
 *       __init_page_from_nid: NODE_DATA(nid) again, then the first zone of
 *         node_zones[] that spans the pfn (zone_start_pfn and spanned_pages,
 *         two u64 loads per zone tried: DMA, DMA32, NORMAL, MOVABLE,
 *         DEVICE);
 *       __init_single_page: mm_zero_struct_page (8 u64 stores of zero, from
 *         +56 down to +0), then flags, _refcount, _mapcount, lru.next,
 *         lru.prev: 13 stores, 64 bytes;
 *       a pageblock-aligned pfn (every 512th) also sets its pageblock's
 *         migratetype to MIGRATE_MOVABLE (init_pageblock_migratetype): a
 *         load and a cmpxchg of the usemap word (8 bits per pageblock; a
 *         4-byte cmpxchg here where the kernel's is 8 bytes; the
 *         mem_section -> usage pointer chase is not modelled);
 *   then (after memblock, see next-kernel.ts) the head struct page's private:
 *     one u64 store.
 *
 * A cap, for timing a bounded sample (option structPageCap): deferred init
 * of a folio goes over only its first min(2^order, cap) struct pages; the
 * head is stamped either way. The struct pages the cap leaves out are not
 * written (their bytes stay as they were; `check` does not look at them)
 * and are counted in stats().structPagesSkipped, so that a caller can
 * scale the time of the sample by (structPagesInit + structPagesSkipped)
 * / structPagesInit: every struct page costs the same work, but for the
 * pageblock's cmpxchg every 512th (which the sample has at each
 * pageblock-aligned folio's head) and for struct pages below
 * first_deferred_pfn (skipped early, counted in structPagesEarly).
 *
 * The timed path (initFolio). Per struct page, the work above and nothing
 * else: everything per folio (the cap, early_pfn_to_nid) or per run of
 * struct pages on which every decision agrees (one vmemmap page, one side
 * of every zone edge and of first_deferred_pfn: the zone, early or not,
 * which loads) is taken out of the loop; each load the kernel makes per
 * struct page is a single int32 load (the low word) whose value the loop
 * checks against what the run's plan took; the 13 stores are 24 int32
 * stores straight into the host words, at one page base per 64 struct
 * pages. The option `perWord` runs the same work word by word through the
 * PhysMem methods instead (loads as u64, one traced event per access): the
 * reference the timed path is tested against, byte for byte.
 *
 * Observed (FoldedTracedMem), the timed path reports bulk events at true
 * addresses instead of one event per word: per run, the lines of one
 * struct page's loads, one store over the run's struct pages but the
 * last, the loads' lines again, the last struct page's store (see
 * reportSegment); the pageblock's load and cmpxchg as they are. The model
 * sees the same lines in the same order, with the same first and last
 * touches (what replacement, the prefetcher and the TLB go by); what the
 * events leave out are L1 hits on lines just touched, charged as the
 * instructions the model implies for them (repeatCharger in src/ram/traced-mem.ts).
 *
 * The vmemmap. The struct page of pfn p is at VMEMMAP_BASE + 64 p (the
 * vmemmap's virtual layout, taken as physical: a 16 TiB machine's struct
 * pages are 256 GiB). Host memory stays bounded by one departure, whose
 * parameter is `window` (W, a power of two, default 64 MiB, twice the
 * model CPU's 32 MiB LLC): the bytes of struct page p live in a window of W
 * real bytes, at offset (64 p) mod W, so struct pages W / 64 pfns apart
 * share their bytes (W = 64 MiB: pfns 4 GiB of RAM apart). Every access
 * reported to a tracer still carries the true address VMEMMAP_BASE + 64 p
 * (FoldedTracedMem), so cache and TLB models see every line a real kernel
 * touches; only the contents alias, and `check` accounts for that. The
 * pageblock bits fold the same way (true address USEMAP_BASE + pfn / 512,
 * a window of max(4 KiB, W / 2^15) bytes). With W = 64 MiB a vm-2m restore
 * that writes 3.4 GiB of struct pages keeps 64 MiB of them on the host.
 *
 * Storage, in the next kernel's memory (next-kernel.ts), from
 * NEXT_KERNEL_DATA_PA: page 0 the static memblock array, page 1 the
 * statics (early_pfn_lock at +0, early_pfnnid_cache at +8: last_start,
 * last_end, last_nid; node_states[N_ONLINE] at +64; node_data[0] at +128),
 * pages 2-3 the node's pglist_data (node_zones[z] 1536 bytes apart, about
 * sizeof(struct zone): zone_start_pfn at +0, spanned_pages at +8;
 * first_deferred_pfn at +7680), then the usemap window, then the vmemmap
 * window.
 */
import { KhoError, hex } from '../tracker/errors.ts';
import { type Bank, INV_PAGE_SIZE, INV_TWO32, PAGE_SIZE, PhysMem } from '../ram/phys-mem.ts';
import { type MemTracer, TracedPhysMem } from '../ram/traced-mem.ts';
import { NEXT_KERNEL_DATA_PA } from './memblock.ts';

export const STRUCT_PAGE_BYTES = 64;
/** Byte offsets of struct page's fields. */
export const PAGE_FLAGS = 0;
export const PAGE_LRU_NEXT = 8;
export const PAGE_LRU_PREV = 16;
export const PAGE_MAPPING = 24;
export const PAGE_INDEX = 32;
export const PAGE_PRIVATE = 40;
export const PAGE_MAPCOUNT = 48;
export const PAGE_REFCOUNT = 52;
export const PAGE_MEMCG = 56;

/** "KHOP", the high u32 of a restored head page's private in 6.18 and later. */
export const KHO_PAGE_MAGIC = 0x4b484f50;
/** True address of pfn 0's struct page: struct pages of pfns below 2^40 end at 2^52. */
export const VMEMMAP_BASE = 2 ** 52 - 2 ** 46;
/** True address of the pageblock flags (8 bits per pageblock of 512 pages). */
export const USEMAP_BASE = VMEMMAP_BASE - 2 ** 32;
/** The default vmemmap window W: 64 MiB. */
export const DEFAULT_VMEMMAP_WINDOW = 64 * 2 ** 20;
/** pageblock_order on x86-64 (2 MiB pageblocks). */
export const PAGEBLOCK_ORDER = 9;
const MIGRATE_MOVABLE = 1;
/** The migratetype and isolate bits of a pageblock's byte. */
const PB_MIGRATE_MASK = 0x1f;

const ZONE_DMA_END_PFN = 2 ** 12; // 16 MiB
const ZONE_DMA32_END_PFN = 2 ** 20; // 4 GiB
/** DMA, DMA32, NORMAL, MOVABLE, DEVICE. */
export const MAX_NR_ZONES = 5;
const NODES_PGSHIFT = 54;
const ZONES_PGSHIFT = 51;
const LAST_CPUPID_PGSHIFT = 30;
const LAST_CPUPID_MASK = 2 ** 21 - 1;

// The kernel data pages (see the block comment).
const STATICS_PA = NEXT_KERNEL_DATA_PA + PAGE_SIZE;
const PGDAT_PA = NEXT_KERNEL_DATA_PA + 2 * PAGE_SIZE;
const ZONE_STRIDE = 1536;
const PGDAT_FIRST_DEFERRED = 7680;
const USEMAP_STORE_PA = NEXT_KERNEL_DATA_PA + 4 * PAGE_SIZE;
const TWO32 = 4294967296;

/** Where the windows of a vmemmap window of `window` bytes sit, and the data bank that holds them all. */
export function structPageLayout(window: number): { usemapStore: number; usemapBytes: number; vmemmapStore: number; dataBank: Bank } {
  if (!(window >= 2 ** 16 && window <= 2 ** 30 && (window & (window - 1)) === 0)) {
    throw new KhoError('EINVAL', `the vmemmap window must be a power of two from 64 KiB to 1 GiB, not ${window}`);
  }
  const usemapBytes = Math.max(PAGE_SIZE, window / 2 ** 15);
  const vmemmapStore = USEMAP_STORE_PA + usemapBytes;
  return { usemapStore: USEMAP_STORE_PA, usemapBytes, vmemmapStore, dataBank: { start: NEXT_KERNEL_DATA_PA, size: vmemmapStore + window - NEXT_KERNEL_DATA_PA } };
}

/**
 * An observed next-kernel memory that reports the vmemmap and usemap
 * windows at their true addresses: before each run of accesses the writer
 * sets how many pages the true address lies above the window's (a multiple
 * of the window), and every word of the window is reported that far up.
 * Bulk events (StructPages without perWord) go straight to `tracer` at
 * true addresses; `repeats` charges the accesses they stand for.
 */
export class FoldedTracedMem extends TracedPhysMem {
  /** Pages from a vmemmap window page to the true page of the struct pages being written. */
  vmemmapFold = 0;
  usemapFold = 0;
  private readonly vmFirst: number;
  private readonly vmEnd: number;
  private readonly umFirst: number;
  private readonly umEnd: number;

  constructor(banks: readonly Bank[], tracer: MemTracer, window: number) {
    super(banks, tracer);
    const l = structPageLayout(window);
    this.vmFirst = l.vmemmapStore * INV_PAGE_SIZE;
    this.vmEnd = (l.vmemmapStore + window) * INV_PAGE_SIZE;
    this.umFirst = l.usemapStore * INV_PAGE_SIZE;
    this.umEnd = (l.usemapStore + l.usemapBytes) * INV_PAGE_SIZE;
  }

  override pfnOfWord(i: number): number {
    const pfn = super.pfnOfWord(i);
    if (pfn >= this.vmFirst && pfn < this.vmEnd) return pfn + this.vmemmapFold;
    if (pfn >= this.umFirst && pfn < this.umEnd) return pfn + this.usemapFold;
    return pfn;
  }
}

export interface StructPageOptions {
  /** CONFIG_DEFERRED_STRUCT_PAGE_INIT: initialise all 2^order struct pages of each folio first (default true). */
  readonly deferredInit?: boolean;
  /** 6.18 and later: KHO_PAGE_MAGIC in the high u32 of private (default true); 6.16 and 6.17 store the order alone. */
  readonly magic?: boolean;
  /** The vmemmap window W in bytes (default 64 MiB). */
  readonly window?: number;
  /** NODE_DATA(0)->first_deferred_pfn: struct pages below it were initialised early and are skipped (default 0: every one is deferred). */
  readonly firstDeferredPfn?: number;
  /**
   * For timing a bounded sample: deferred init of a folio goes over only its
   * first min(2^order, cap) struct pages (the head is always stamped); the
   * rest are left out, unwritten, and counted in structPagesSkipped. A
   * positive integer; default: no cap.
   */
  readonly structPageCap?: number;
  /** Every access through the PhysMem word methods, one traced event each: the reference (default false: see the block comment). */
  readonly perWord?: boolean;
}

export type StructPageStats = {
  /** Head struct pages stamped (page->private). */
  headStores: number;
  /** Struct pages __init_single_page initialised. */
  structPagesInit: number;
  /** Bytes those wrote (64 each). */
  structPageBytes: number;
  /** Struct pages init_deferred_page skipped as initialised early. */
  structPagesEarly: number;
  /** Struct pages of deferred-init folios that structPageCap left out (neither initialised nor looked at). */
  structPagesSkipped: number;
  /** Pageblocks whose migratetype was set. */
  pageblockInits: number;
};

// The loads init_deferred_page makes per struct page, as entries of a table (see StructPages.planRun).
const L_ONLINE = 0;
const L_NODE_DATA = 1;
const L_FIRST_DEFERRED = 2;
/** zone_start_pfn of zone z is entry L_ZONE + 2z, spanned_pages L_ZONE + 2z + 1. */
const L_ZONE = 3;
const L_ENTRIES = L_ZONE + 2 * MAX_NR_ZONES;
/** The most loads of one struct page: online, NODE_DATA, first_deferred_pfn, NODE_DATA, two per zone. */
const MAX_RUN_LOADS = 4 + 2 * MAX_NR_ZONES;
/** Plan keys (StructPages.planRun): node offline, below first_deferred_pfn, else zone found * 32 + the zones whose spanned_pages was loaded. */
const PLAN_OFFLINE = 0;
const PLAN_EARLY = 1;
const PLAN_ZONES = 2;
const PLANS = PLAN_ZONES + (MAX_NR_ZONES + 1) * (1 << MAX_NR_ZONES);
/** early, zid, loads, xor, pairs, lines. */
const PLAN_META = 6;
/** Stores of __init_single_page: mm_zero_struct_page's 8, then flags, _refcount, _mapcount, lru.next, lru.prev. */
const STORES_PER_STRUCT_PAGE = 13;
/** Struct pages per 4 KiB vmemmap page. */
const PER_VMEMMAP_PAGE = PAGE_SIZE / STRUCT_PAGE_BYTES;
/** The low u32 of every flags this file writes: last_cpupid all ones (bits 30..50), as an int32. */
const FLAGS_LO = (LAST_CPUPID_MASK * 2 ** LAST_CPUPID_PGSHIFT) | 0;
/** The high u32 of flags with zone 0, node 0: last_cpupid's bits 32..50. */
const FLAGS_HI = Math.floor((LAST_CPUPID_MASK * 2 ** LAST_CPUPID_PGSHIFT) / TWO32);
const VMEMMAP_HI = VMEMMAP_BASE / TWO32;
// Constants of the hot paths as literals: V8 does not fold `2 **` of module constants, it calls Math.pow.
/** What one zone number adds to the high word of flags: 2^(ZONES_PGSHIFT - 32). */
const ZONE_FLAGS_HI_STEP = 524288;
/** Pfns per pageblock, less one: 2^PAGEBLOCK_ORDER - 1. */
const PAGEBLOCK_PFN_MASK = 511;
const INV_PAGEBLOCK_PAGES = 1 / 512;

/** 2^order, without Math.pow for the orders folios have. */
function pow2(order: number): number {
  return order < 31 ? 1 << order : 2 ** order;
}

export class StructPages {
  readonly deferredInit: boolean;
  readonly magic: boolean;
  readonly window: number;
  /** structPageCap (Infinity: none). */
  readonly cap: number;
  private readonly perWord: boolean;
  private readonly mem: PhysMem;
  private readonly folded: FoldedTracedMem | null;
  /** Where bulk events go: `folded` unless perWord. */
  private readonly bulk: FoldedTracedMem | null;
  private readonly ram: readonly Bank[];
  private readonly firstDeferredPfn: number;
  /** pfn mask of the window: W / 64 pfns. */
  private readonly pfnMask: number;
  private readonly vmemmapStore: number;
  private readonly usemapStore: number;
  private readonly usemapMask: number;
  /** Window page -> true page, for the fold: VMEMMAP_BASE - store, in pages. */
  private readonly vmFoldBase: number;
  private readonly umFoldBase: number;
  private readonly hi: number;
  // Word indices of the statics and of pglist_data's fields.
  private readonly lockW: number;
  private readonly cacheStartW: number;
  private readonly cacheEndW: number;
  private readonly cacheNidW: number;
  private readonly onlineW: number;
  private readonly nodeDataW: number;
  private readonly firstDeferredW: number;
  private readonly zoneStartW = new Int32Array(MAX_NR_ZONES);
  private readonly zoneSpanW = new Int32Array(MAX_NR_ZONES);
  // The loads table: word index, address, width and (as set up at boot) low word of each.
  private readonly loadW = new Int32Array(L_ENTRIES);
  private readonly loadPa = new Float64Array(L_ENTRIES);
  private readonly loadBytes = new Int32Array(L_ENTRIES);
  private readonly loadLo = new Int32Array(L_ENTRIES);
  // The values init_deferred_page decides on, as set up at boot (nothing changes them during a restore).
  private online = 1;
  private firstDeferred = 0;
  private readonly zoneStart = new Float64Array(MAX_NR_ZONES);
  private readonly zoneEnd = new Float64Array(MAX_NR_ZONES);
  // The plan of the current run (planRun).
  private runEarly = false;
  private runZid = 0;
  private runLoads = 0;
  /** The lines of the run's loads (address and extent of the loads in each), in the order of first load. */
  private runLines = 0;
  private readonly linePa = new Float64Array(MAX_RUN_LOADS);
  private readonly lineBytes = new Int32Array(MAX_RUN_LOADS);
  private readonly runW = new Int32Array(MAX_RUN_LOADS);
  private runXor = 0;
  /** The run's zone loads are both of zones 0..runPairs-1 (the usual case, with zones 0..2 one page apart in words), else -1. */
  private runPairs = -1;
  // The plans of runs (usePlan), by key, built on first use after each reset.
  private readonly planBuilt = new Uint8Array(PLANS);
  private readonly planMeta = new Int32Array(PLANS * PLAN_META);
  private readonly planIds = new Int32Array(PLANS * MAX_RUN_LOADS);
  private readonly planLinePa = new Float64Array(PLANS * MAX_RUN_LOADS);
  private readonly planLineBytes = new Int32Array(PLANS * MAX_RUN_LOADS);
  private planKey = -1;
  /** The pfns the current plan holds for (planRun). */
  private planLo = 0;
  private planHi = 0;
  /** Words from one zone's zone_start_pfn to the next one's, when zones 0..2 lie in one host page (else 0). */
  private readonly zoneStrideW: number;
  private headStores = 0;
  private structPagesInit = 0;
  private structPagesEarly = 0;
  private structPagesSkipped = 0;
  private pageblockInits = 0;

  /**
   * `mem` holds the data bank of structPageLayout(window) and is written
   * only here; `ram` is the machine's RAM (zones and the nid cache come
   * from it); `folded` is `mem` when it is observed.
   */
  constructor(mem: PhysMem, ram: readonly Bank[], options: StructPageOptions = {}, folded: FoldedTracedMem | null = null) {
    this.mem = mem;
    this.ram = ram;
    this.folded = folded;
    this.deferredInit = options.deferredInit ?? true;
    this.magic = options.magic ?? true;
    this.hi = this.magic ? KHO_PAGE_MAGIC : 0;
    this.window = options.window ?? DEFAULT_VMEMMAP_WINDOW;
    this.firstDeferredPfn = options.firstDeferredPfn ?? 0;
    const cap = options.structPageCap ?? Infinity;
    if (!(cap === Infinity || (Number.isSafeInteger(cap) && cap >= 1))) {
      throw new KhoError('EINVAL', `structPageCap must be a positive integer, not ${cap}`);
    }
    this.cap = cap;
    // An observed memory without the fold can only be reported word by word.
    this.perWord = (options.perWord ?? false) || (folded === null && mem instanceof TracedPhysMem);
    this.bulk = this.perWord ? null : folded;
    const l = structPageLayout(this.window);
    this.pfnMask = this.window / STRUCT_PAGE_BYTES - 1;
    this.vmemmapStore = l.vmemmapStore;
    this.usemapStore = l.usemapStore;
    this.usemapMask = l.usemapBytes - 1;
    this.vmFoldBase = (VMEMMAP_BASE - l.vmemmapStore) * INV_PAGE_SIZE;
    this.umFoldBase = (USEMAP_BASE - l.usemapStore) * INV_PAGE_SIZE;
    const w = (pa: number) => mem.wbase(pa) + ((pa & 4095) >>> 2);
    this.lockW = w(STATICS_PA);
    this.cacheStartW = w(STATICS_PA + 8);
    this.cacheEndW = w(STATICS_PA + 16);
    this.cacheNidW = w(STATICS_PA + 24);
    this.onlineW = w(STATICS_PA + 64);
    this.nodeDataW = w(STATICS_PA + 128);
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      this.zoneStartW[z] = w(PGDAT_PA + z * ZONE_STRIDE);
      this.zoneSpanW[z] = w(PGDAT_PA + z * ZONE_STRIDE + 8);
    }
    this.firstDeferredW = w(PGDAT_PA + PGDAT_FIRST_DEFERRED);
    const strideW = ZONE_STRIDE >>> 2;
    this.zoneStrideW = this.zoneStartW[1] === this.zoneStartW[0] + strideW && this.zoneStartW[2] === this.zoneStartW[0] + 2 * strideW ? strideW : 0;
    const entry = (e: number, pa: number, bytes: number) => {
      this.loadW[e] = w(pa);
      this.loadPa[e] = pa;
      this.loadBytes[e] = bytes;
    };
    entry(L_ONLINE, STATICS_PA + 64, 4);
    entry(L_NODE_DATA, STATICS_PA + 128, 8);
    entry(L_FIRST_DEFERRED, PGDAT_PA + PGDAT_FIRST_DEFERRED, 8);
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      entry(L_ZONE + 2 * z, PGDAT_PA + z * ZONE_STRIDE, 8);
      entry(L_ZONE + 2 * z + 1, PGDAT_PA + z * ZONE_STRIDE + 8, 8);
    }
    this.reset();
  }

  /** A fresh boot: empty windows, the statics and pglist_data as set up before the walk, statistics cleared. */
  reset(): void {
    const mem = this.mem;
    const words = mem.words;
    for (let pa = this.usemapStore; pa < this.vmemmapStore + this.window; pa += PAGE_SIZE) {
      const b = mem.mappedBase(pa);
      if (b >= 0 && !mem.isZeroBase(b)) words.fill(0, b, b + 1024);
    }
    // Written on the host: boot-time set-up, not work of the walk.
    const poke64 = (w: number, v: number) => {
      words[w] = v % TWO32;
      words[w + 1] = Math.floor(v / TWO32);
    };
    words[this.lockW] = 0;
    poke64(this.cacheStartW, 0);
    poke64(this.cacheEndW, 0);
    words[this.cacheNidW] = 0;
    words[this.onlineW] = 1;
    poke64(this.nodeDataW, PGDAT_PA);
    const ramStart = this.ram[0].start * INV_PAGE_SIZE;
    const last = this.ram[this.ram.length - 1];
    const ramEnd = (last.start + last.size) * INV_PAGE_SIZE;
    const bounds = [0, ZONE_DMA_END_PFN, ZONE_DMA32_END_PFN, Infinity];
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      let start = 0;
      let span = 0;
      if (z < 3) {
        start = Math.max(ramStart, bounds[z]);
        span = Math.max(0, Math.min(ramEnd, bounds[z + 1]) - start);
        if (span === 0) start = 0;
      }
      poke64(this.zoneStartW[z], start);
      poke64(this.zoneSpanW[z], span);
      this.zoneStart[z] = start;
      this.zoneEnd[z] = start + span;
    }
    poke64(this.firstDeferredW, this.firstDeferredPfn);
    this.online = 1;
    this.firstDeferred = this.firstDeferredPfn;
    for (let e = 0; e < L_ENTRIES; e++) this.loadLo[e] = words[this.loadW[e]];
    this.planBuilt.fill(0);
    this.planKey = -1;
    this.planLo = 0;
    this.planHi = 0;
    this.headStores = 0;
    this.structPagesInit = 0;
    this.structPagesEarly = 0;
    this.structPagesSkipped = 0;
    this.pageblockInits = 0;
  }

  /** The per-folio work: deferred init (if configured), then the head page's private. */
  add(phys: number, order: number): void {
    if (this.deferredInit) this.initFolio(phys, order);
    this.setHead(phys, order);
  }

  /** add() of every folio of a [phys, order, ...] list. */
  addList(list: Float64Array, length = list.length): void {
    for (let i = 0; i + 1 < length; i += 2) this.add(list[i], list[i + 1]);
  }

  /** kho_preserved_memory_reserve's store: page->private of the folio's head page. */
  setHead(phys: number, order: number): void {
    const mem = this.mem;
    const pfn = phys * INV_PAGE_SIZE;
    const woff = (pfn & this.pfnMask) << 6;
    const folded = this.folded;
    if (folded !== null) folded.vmemmapFold = this.vmFoldBase + (pfn - (pfn & this.pfnMask)) * (STRUCT_PAGE_BYTES * INV_PAGE_SIZE);
    const w = mem.wbase(this.vmemmapStore + (woff & ~4095)) + ((woff & 4095) >>> 2) + (PAGE_PRIVATE >>> 2);
    mem.st64(w, order);
    // st64 holds numbers below 2^53; the magic half is set in the words the store just wrote.
    mem.words[w + 1] = this.hi;
    this.headStores++;
  }

  /**
   * kho_get_preserved_page with CONFIG_DEFERRED_STRUCT_PAGE_INIT:
   * init_deferred_page(q, nid) on every struct page q of the folio (the
   * first structPageCap of them).
   *
   * The folio goes in runs: struct pages of one 4 KiB vmemmap page (64 of
   * them), on one side of every zone edge and of first_deferred_pfn, so
   * that what the kernel decides per struct page is the same over the run
   * (planRun decides it once). Per struct page the run still makes the
   * kernel's loads (node_states, NODE_DATA, first_deferred_pfn, NODE_DATA,
   * zone_start_pfn and spanned_pages of each zone tried), each a single
   * int32 load whose value is compared with what the plan took (a change
   * under the restore is a bug), and the 13 stores of __init_single_page
   * as int32 word stores, at one page base per run.
   *
   * On an observed memory a run is reported as bulk events (see
   * reportSegment): the lines of one struct page's loads (the same for
   * every struct page of the run, L1-resident after the first), one store
   * over the run's struct pages but the last (the same lines, ascending,
   * as the kernel's stores), the loads again, the last struct page's
   * store. A pageblock-aligned struct page (always a run's first) is a
   * segment of its own before the pageblock's events (a load and the
   * cmpxchg, as the kernel makes them), the rest of the run another. What
   * the events leave out is charged as instructions
   * (FoldedTracedMem.repeats). A run of 64 struct pages is 14 events
   * (23 with a pageblock) where the kernel's accesses are 64 x 23.
   */
  initFolio(phys: number, order: number): void {
    const pfn = phys * INV_PAGE_SIZE;
    const all = pow2(order);
    const count = all < this.cap ? all : this.cap;
    this.structPagesSkipped += all - count;
    if (this.perWord) {
      this.initFolioPerWord(pfn, count);
      return;
    }
    const mem = this.mem;
    const bulk = this.bulk;
    this.earlyPfnToNid(pfn);
    const mask = this.pfnMask;
    let inits = 0;
    let early = 0;
    let q = pfn;
    let left = count;
    while (left > 0) {
      const slot = q & mask;
      const inPage = PER_VMEMMAP_PAGE - (slot & (PER_VMEMMAP_PAGE - 1));
      const run = this.planRun(q, left < inPage ? left : inPage);
      const woff = slot << 6;
      const w = mem.wbase(this.vmemmapStore + (woff & ~4095)) + ((woff & 4095) >>> 2);
      if (this.runEarly) {
        if (bulk !== null) {
          // The same lines every time, and nothing else in between: one report stands for all.
          this.reportRunLoads(bulk);
          bulk.repeats(run * this.runLoads - this.runLines, 0);
        }
        this.loadRun(mem.words, run);
        early += run;
      } else {
        // lru: VMEMMAP_BASE + 64 q + 8 as two words (VMEMMAP_BASE's low word is 0; no carry inside a vmemmap page).
        const above = Math.floor(q * (STRUCT_PAGE_BYTES * INV_TWO32));
        const lruLo = (q * STRUCT_PAGE_BYTES - above * TWO32 + PAGE_LRU_NEXT) | 0;
        const lruHi = VMEMMAP_HI + above;
        const flagsHi = this.runZid * ZONE_FLAGS_HI_STEP + FLAGS_HI;
        const truePa = VMEMMAP_BASE + q * STRUCT_PAGE_BYTES;
        if ((q & PAGEBLOCK_PFN_MASK) === 0) {
          // init_pageblock_migratetype after the first struct page, then the rest of the run.
          if (bulk !== null) this.reportSegment(bulk, truePa, 1);
          this.initRun(mem.words, w, 1, lruLo, lruHi, flagsHi);
          this.initPageblock(q);
          if (run > 1) {
            if (bulk !== null) this.reportSegment(bulk, truePa + STRUCT_PAGE_BYTES, run - 1);
            this.initRun(mem.words, w + 16, run - 1, (lruLo + STRUCT_PAGE_BYTES) | 0, lruHi, flagsHi);
          }
        } else {
          if (bulk !== null) this.reportSegment(bulk, truePa, run);
          this.initRun(mem.words, w, run, lruLo, lruHi, flagsHi);
        }
        inits += run;
      }
      q += run;
      left -= run;
    }
    this.structPagesInit += inits;
    this.structPagesEarly += early;
  }

  /**
   * What init_deferred_page decides for pfn q and the struct pages after
   * it, up to `max` of them: returns how many share every decision (none
   * of first_deferred_pfn, a zone's start or a zone's end falls inside
   * them), the run's plan (usePlan) being that of q. The plan holds on
   * [planLo, planHi), between two of those edges: a run inside the last
   * one's interval costs two compares.
   */
  private planRun(q: number, max: number): number {
    if (!(q >= this.planLo && q < this.planHi)) this.replan(q);
    const room = this.planHi - q;
    return room < max ? room : max;
  }

  /** The plan of pfn q, and the interval of pfns between edges that shares it. */
  private replan(q: number): void {
    let lo = 0;
    let hi = Infinity;
    const edge = (b: number) => {
      if (b <= q) {
        if (b > lo) lo = b;
      } else if (b < hi) hi = b;
    };
    let key: number;
    if ((this.online & 1) === 0) key = PLAN_OFFLINE;
    else {
      edge(this.firstDeferred);
      if (q < this.firstDeferred) key = PLAN_EARLY;
      else {
        const zs = this.zoneStart;
        const ze = this.zoneEnd;
        let zid = MAX_NR_ZONES;
        let spans = 0;
        for (let z = 0; z < MAX_NR_ZONES; z++) {
          edge(zs[z]);
          edge(ze[z]);
          // The zone loop: zone_start_pfn <= pfn decides whether spanned_pages is loaded, pfn < end whether it stops.
          if (zid === MAX_NR_ZONES && zs[z] <= q) {
            spans |= 1 << z;
            if (q < ze[z]) zid = z;
          }
        }
        key = PLAN_ZONES + zid * (1 << MAX_NR_ZONES) + spans;
      }
    }
    this.planLo = lo;
    this.planHi = hi;
    if (key !== this.planKey) this.usePlan(key);
  }

  /**
   * Makes plan `key` the run's: runEarly (early_page_initialised), runZid
   * (the zone __init_page_from_nid finds), the loads each struct page
   * makes (their word indices runW, runLoads of them, the XOR of their
   * values runXor, runPairs) and their lines (linePa, lineBytes,
   * runLines). A plan depends on the key alone (node online, early, the
   * zone found and which zones' spanned_pages were loaded), so each is
   * worked out once per boot.
   */
  private usePlan(key: number): void {
    const base = key * MAX_RUN_LOADS;
    if (this.planBuilt[key] === 0) this.buildPlan(key, base);
    const meta = key * PLAN_META;
    this.runEarly = this.planMeta[meta] === 1;
    this.runZid = this.planMeta[meta + 1];
    this.runLoads = this.planMeta[meta + 2];
    this.runXor = this.planMeta[meta + 3];
    this.runPairs = this.planMeta[meta + 4];
    this.runLines = this.planMeta[meta + 5];
    for (let j = 0; j < MAX_RUN_LOADS; j++) {
      this.runW[j] = this.loadW[this.planIds[base + j]];
      this.linePa[j] = this.planLinePa[base + j];
      this.lineBytes[j] = this.planLineBytes[base + j];
    }
    this.planKey = key;
  }

  private buildPlan(key: number, base: number): void {
    const ids = this.planIds;
    let n = base;
    ids[n++] = L_ONLINE;
    ids[n++] = L_NODE_DATA;
    const early = key < PLAN_ZONES;
    let zid = MAX_NR_ZONES;
    let pairs = -1;
    if (key !== PLAN_OFFLINE) ids[n++] = L_FIRST_DEFERRED;
    if (!early) {
      zid = Math.floor((key - PLAN_ZONES) / (1 << MAX_NR_ZONES));
      const spans = (key - PLAN_ZONES) % (1 << MAX_NR_ZONES);
      ids[n++] = L_NODE_DATA;
      for (let z = 0; z < MAX_NR_ZONES && z <= zid; z++) {
        ids[n++] = L_ZONE + 2 * z;
        if ((spans >> z) & 1) ids[n++] = L_ZONE + 2 * z + 1;
      }
      // Two loads per zone tried, zones 0..zid, zid <= 2, one host page: initRun's unrolled loads.
      if (zid <= 2 && this.zoneStrideW !== 0 && n - base === 4 + 2 * (zid + 1)) pairs = zid + 1;
    }
    const count = n - base;
    let x = 0;
    let lines = 0;
    for (let j = 0; j < count; j++) {
      const e = ids[base + j];
      x ^= this.loadLo[e];
      // One event per line, at its first load, covering every load of the plan in that line.
      const pa = this.loadPa[e];
      const end = pa + this.loadBytes[e];
      let l = 0;
      while (l < lines && Math.floor(this.planLinePa[base + l] / 64) !== Math.floor(pa / 64)) l++;
      if (l === lines) {
        this.planLinePa[base + lines] = pa;
        this.planLineBytes[base + lines++] = end - pa;
      } else {
        const lo = Math.min(this.planLinePa[base + l], pa);
        this.planLineBytes[base + l] = Math.max(this.planLinePa[base + l] + this.planLineBytes[base + l], end) - lo;
        this.planLinePa[base + l] = lo;
      }
    }
    const meta = key * PLAN_META;
    this.planMeta[meta] = early ? 1 : 0;
    this.planMeta[meta + 1] = zid;
    this.planMeta[meta + 2] = count;
    this.planMeta[meta + 3] = x;
    this.planMeta[meta + 4] = pairs;
    this.planMeta[meta + 5] = lines;
    this.planBuilt[key] = 1;
  }

  /** The loads of one struct page of the run, as events: one per line, in the order the kernel first reads each. */
  private reportRunLoads(bulk: FoldedTracedMem): void {
    const tracer = bulk.tracer;
    for (let j = 0; j < this.runLines; j++) tracer.load(this.linePa[j], this.lineBytes[j]);
  }

  /**
   * The events of init_deferred_page on `n` struct pages from true address
   * pa, between two barriers: the kernel's loads (L) and stores (S) of
   * each, L S L S ... L S, as L, one store over all but the last, L again,
   * the last one's store. The lines come first in the same order; the last
   * touches too (each load line after every struct page's line but the
   * last, which is what LRU replacement and the TLB go by); in between,
   * each L1 set receives one struct page line and the hot lines (all in
   * other sets, or already the most recent in theirs) stay resident. The
   * rest are L1 hits on lines just touched, charged as instructions.
   */
  private reportSegment(bulk: FoldedTracedMem, pa: number, n: number): void {
    const tracer = bulk.tracer;
    this.reportRunLoads(bulk);
    let events = 1;
    if (n > 1) {
      tracer.store(pa, (n - 1) * STRUCT_PAGE_BYTES);
      this.reportRunLoads(bulk);
      events = 2;
    }
    tracer.store(pa + (n - 1) * STRUCT_PAGE_BYTES, STRUCT_PAGE_BYTES);
    bulk.repeats(n * this.runLoads - events * this.runLines, n * STORES_PER_STRUCT_PAGE - events);
  }

  /** early_page_initialised on `n` struct pages: the run's loads, and no store. */
  private loadRun(words: Int32Array, n: number): void {
    const lw = this.runW;
    const nl = this.runLoads;
    const xv = this.runXor;
    for (let k = 0; k < n; k++) {
      let x = 0;
      for (let j = 0; j < nl; j++) x ^= words[lw[j]];
      if (x !== xv) kernelDataChanged();
    }
  }

  /**
   * init_deferred_page on `n` struct pages from word w (one vmemmap page):
   * the run's loads, then __init_single_page's stores, word by word in the
   * kernel's order (the u64 zeros from +56 down, flags, _refcount,
   * _mapcount, lru.next, lru.prev).
   */
  private initRun(words: Int32Array, w: number, n: number, lruLo: number, lruHi: number, flagsHi: number): void {
    const xv = this.runXor;
    let lru = lruLo;
    if (this.runPairs === 3) {
      // ZONE_NORMAL, the usual zone: node_states, NODE_DATA, first_deferred_pfn, NODE_DATA, then both fields
      // of DMA, DMA32 and NORMAL, unrolled (the run's loads without the table).
      const onlineW = this.onlineW;
      const nodeDataW = this.nodeDataW;
      const firstDeferredW = this.firstDeferredW;
      const z0 = this.zoneStartW[0];
      const z1 = z0 + this.zoneStrideW;
      const z2 = z1 + this.zoneStrideW;
      for (let k = 0; k < n; k++, w += 16, lru = (lru + STRUCT_PAGE_BYTES) | 0) {
        const x =
          words[onlineW] ^ words[nodeDataW] ^ words[firstDeferredW] ^ words[nodeDataW] ^ words[z0] ^ words[z0 + 2] ^ words[z1] ^ words[z1 + 2] ^ words[z2] ^ words[z2 + 2];
        if (x !== xv) kernelDataChanged();
        initSinglePage(words, w, flagsHi, lru, lruHi);
      }
      return;
    }
    const lw = this.runW;
    const nl = this.runLoads;
    for (let k = 0; k < n; k++, w += 16, lru = (lru + STRUCT_PAGE_BYTES) | 0) {
      let x = 0;
      for (let j = 0; j < nl; j++) x ^= words[lw[j]];
      if (x !== xv) kernelDataChanged();
      initSinglePage(words, w, flagsHi, lru, lruHi);
    }
  }

  /**
   * initFolio word by word through the PhysMem methods, every access its
   * own event (the reference of the runs above).
   */
  private initFolioPerWord(pfn: number, count: number): void {
    const mem = this.mem;
    this.earlyPfnToNid(pfn);
    const mask = this.pfnMask;
    const folded = this.folded;
    const onlineW = this.onlineW;
    const nodeDataW = this.nodeDataW;
    const firstDeferredW = this.firstDeferredW;
    const zoneStartW = this.zoneStartW;
    const zoneSpanW = this.zoneSpanW;
    const flagsLow = LAST_CPUPID_MASK * 2 ** LAST_CPUPID_PGSHIFT;
    let inits = 0;
    let early = 0;
    let q = pfn;
    let left = count;
    // Runs that do not wrap around the window: the fold is constant over each.
    while (left > 0) {
      const slot = q & mask;
      const run = Math.min(left, mask + 1 - slot);
      if (folded !== null) folded.vmemmapFold = this.vmFoldBase + (q - slot) * (STRUCT_PAGE_BYTES * INV_PAGE_SIZE);
      let base = 0;
      for (let k = 0; k < run; k++) {
        const woff = (slot + k) << 6;
        if (k === 0 || (woff & 4095) === 0) base = mem.wbase(this.vmemmapStore + (woff & ~4095));
        const w = base + ((woff & 4095) >>> 2);
        const p = q + k;
        // early_page_initialised(p, nid): node_online(nid), NODE_DATA(nid)->first_deferred_pfn.
        const online = mem.ld(onlineW) & 1;
        mem.ld64(nodeDataW);
        if (online === 0 || p < mem.ld64(firstDeferredW)) {
          early++;
          continue;
        }
        // __init_page_from_nid: NODE_DATA(nid), then the first zone spanning p.
        mem.ld64(nodeDataW);
        let zid = 0;
        for (; zid < MAX_NR_ZONES; zid++) {
          const start = mem.ld64(zoneStartW[zid]);
          if (start <= p && p < start + mem.ld64(zoneSpanW[zid])) break;
        }
        // __init_single_page: mm_zero_struct_page (from +56 down), then the fields.
        mem.st64(w + 14, 0);
        mem.st64(w + 12, 0);
        mem.st64(w + 10, 0);
        mem.st64(w + 8, 0);
        mem.st64(w + 6, 0);
        mem.st64(w + 4, 0);
        mem.st64(w + 2, 0);
        mem.st64(w, 0);
        mem.st64(w, zid * 2 ** ZONES_PGSHIFT + flagsLow);
        mem.st(w + (PAGE_REFCOUNT >>> 2), 1);
        mem.st(w + (PAGE_MAPCOUNT >>> 2), -1);
        const lru = VMEMMAP_BASE + p * STRUCT_PAGE_BYTES + PAGE_LRU_NEXT;
        mem.st64(w + (PAGE_LRU_NEXT >>> 2), lru);
        mem.st64(w + (PAGE_LRU_PREV >>> 2), lru);
        inits++;
        if ((p & 511) === 0) this.initPageblock(p);
      }
      q += run;
      left -= run;
    }
    this.structPagesInit += inits;
    this.structPagesEarly += early;
  }

  /** early_pfn_to_nid(pfn): the cache of the last memblock.memory range, under early_pfn_lock. */
  private earlyPfnToNid(pfn: number): number {
    const mem = this.mem;
    mem.atomicCas(this.lockW, 0, 1);
    let nid: number;
    if (mem.ld64(this.cacheStartW) <= pfn && pfn < mem.ld64(this.cacheEndW)) nid = mem.ld(this.cacheNidW);
    else nid = this.refillNidCache(pfn);
    mem.st(this.lockW, 0);
    return nid;
  }

  private refillNidCache(pfn: number): number {
    const mem = this.mem;
    for (const b of this.ram) {
      const start = b.start * INV_PAGE_SIZE;
      const end = (b.start + b.size) * INV_PAGE_SIZE;
      if (start <= pfn && pfn < end) {
        mem.st64(this.cacheStartW, start);
        mem.st64(this.cacheEndW, end);
        mem.st(this.cacheNidW, 0);
        return 0;
      }
    }
    // Not RAM: early_pfn_to_nid falls back to the first online node.
    return 0;
  }

  /** init_pageblock_migratetype(page, MIGRATE_MOVABLE, false): the pageblock's byte of the usemap. */
  private initPageblock(q: number): void {
    const mem = this.mem;
    const pb = Math.floor(q * INV_PAGEBLOCK_PAGES);
    const ub = pb & this.usemapMask;
    const folded = this.folded;
    if (folded !== null) folded.usemapFold = this.umFoldBase + (pb - ub) * INV_PAGE_SIZE;
    const w = mem.wbase(this.usemapStore + (ub & ~4095)) + ((ub & 4095) >>> 2);
    const shift = (ub & 3) << 3;
    const old = mem.ld(w);
    mem.atomicCas(w, old, (old & ~(PB_MIGRATE_MASK << shift)) | (MIGRATE_MOVABLE << shift));
    this.pageblockInits++;
  }

  stats(): StructPageStats {
    return {
      headStores: this.headStores,
      structPagesInit: this.structPagesInit,
      structPageBytes: this.structPagesInit * STRUCT_PAGE_BYTES,
      structPagesEarly: this.structPagesEarly,
      structPagesSkipped: this.structPagesSkipped,
      pageblockInits: this.pageblockInits,
    };
  }

  // -------------------------------------------------------------------------
  // Reading back (cold; straight from the host words, not accesses the kernel makes).

  /** The u64 at byte `field` of pfn's struct page (as it sits in the window), as [low u32, high u32]; zeros if never written. */
  field(pfn: number, field: number): [lo: number, hi: number] {
    const woff = ((pfn & this.pfnMask) << 6) + field;
    const b = this.mem.mappedBase(this.vmemmapStore + (woff & ~4095));
    if (b < 0) return [0, 0];
    const w = b + ((woff & 4095) >>> 2);
    return [this.mem.words[w] >>> 0, this.mem.words[w + 1] >>> 0];
  }

  /**
   * After add() of every folio of `list` ([phys, order, ...]) on a fresh
   * boot, in list order: the head struct page of every folio holds its
   * order (and the magic); with deferred init it is also initialised
   * (flags, _refcount 1, _mapcount -1, lru pointing to itself, the rest
   * zero), and so is the folio's last struct page (the last one the cap
   * let deferred init reach: the ones it left out hold no bytes and are
   * not checked). A struct page whose window bytes a later folio wrote
   * again (the fold, see above) is not checked. Returns one line
   * describing the first error, or undefined.
   */
  check(list: Float64Array): string | undefined {
    const n = list.length >> 1;
    const slots = this.pfnMask + 1;
    // Which folio wrote each window slot last: processed in reverse, the first to claim a slot owns it.
    const owner = new Int32Array(slots);
    let allClaimed = false;
    for (let i = n - 1; i >= 0; i--) {
      const phys = list[2 * i];
      const order = list[2 * i + 1];
      const pfn = phys * INV_PAGE_SIZE;
      const head = pfn & this.pfnMask;
      // The struct pages deferred init went over.
      const count = Math.min(2 ** order, this.cap);
      const last = pfn + count - 1;
      if (!allClaimed && owner[head] === 0) {
        const wrong = this.checkHead(pfn, order);
        if (wrong) return wrong;
      }
      if (allClaimed) continue;
      if (!this.deferredInit) {
        owner[head] ||= i + 1;
        continue;
      }
      if (count >= slots) {
        for (let s = 0; s < slots; s++) owner[s] ||= i + 1;
        allClaimed = true;
      } else {
        for (let k = 0, s = head; k < count; k++, s = (s + 1) & this.pfnMask) owner[s] ||= i + 1;
      }
      if (count > 1 && owner[last & this.pfnMask] === i + 1 && last >= this.firstDeferredPfn) {
        const wrong = this.checkInitialised(last);
        if (wrong) return wrong;
      }
    }
    return undefined;
  }

  private checkHead(pfn: number, order: number): string | undefined {
    const [lo, hi] = this.field(pfn, PAGE_PRIVATE);
    if (lo !== order || hi !== this.hi) {
      return `the head struct page of the folio at ${hex(pfn * PAGE_SIZE)} holds private ${u64Hex(hi, lo)}, not ${u64Hex(this.hi, order)}`;
    }
    if (!this.deferredInit) return undefined;
    // A folio with more struct pages than the window writes the head's bytes again: its last alias there holds the rest.
    const slots = this.pfnMask + 1;
    const alias = pfn + Math.floor((Math.min(2 ** order, this.cap) - 1) / slots) * slots;
    return alias >= this.firstDeferredPfn ? this.checkInitialised(alias) : undefined;
  }

  private checkInitialised(pfn: number): string | undefined {
    const at = () => `the struct page of pfn ${hex(pfn)}`;
    const [flo, fhi] = this.field(pfn, PAGE_FLAGS);
    const flags = fhi * TWO32 + flo;
    if (Math.floor(flags / 2 ** LAST_CPUPID_PGSHIFT) % 2 ** 21 !== LAST_CPUPID_MASK || Math.floor(flags / 2 ** NODES_PGSHIFT) !== 0) {
      return `${at()} has flags ${hex(flags)}: not initialised by __init_single_page`;
    }
    const [mapcount, refcount] = this.field(pfn, PAGE_MAPCOUNT);
    if (mapcount !== 0xffffffff || refcount !== 1) return `${at()} has _mapcount ${mapcount | 0} and _refcount ${refcount | 0}, not -1 and 1`;
    const lru = VMEMMAP_BASE + pfn * STRUCT_PAGE_BYTES + PAGE_LRU_NEXT;
    for (const f of [PAGE_LRU_NEXT, PAGE_LRU_PREV]) {
      const [lo, hi] = this.field(pfn, f);
      if (hi * TWO32 + lo !== lru) return `${at()} has lru at +${f} ${hex(hi * TWO32 + lo)}, not itself`;
    }
    for (const f of [PAGE_MAPPING, PAGE_INDEX, PAGE_MEMCG]) {
      const [lo, hi] = this.field(pfn, f);
      if (lo !== 0 || hi !== 0) return `${at()} has ${hex(hi * TWO32 + lo)} at +${f}, not zero`;
    }
    return undefined;
  }
}

/**
 * __init_single_page's stores into the struct page at word w, word by word
 * in the kernel's order: mm_zero_struct_page's u64 zeros from +56 down,
 * then flags, _refcount, _mapcount, lru.next, lru.prev (lru: the low word
 * of the struct page's lru address).
 */
function initSinglePage(words: Int32Array, w: number, flagsHi: number, lru: number, lruHi: number): void {
  words[w + 14] = 0;
  words[w + 15] = 0;
  words[w + 12] = 0;
  words[w + 13] = 0;
  words[w + 10] = 0;
  words[w + 11] = 0;
  words[w + 8] = 0;
  words[w + 9] = 0;
  words[w + 6] = 0;
  words[w + 7] = 0;
  words[w + 4] = 0;
  words[w + 5] = 0;
  words[w + 2] = 0;
  words[w + 3] = 0;
  words[w] = 0;
  words[w + 1] = 0;
  words[w] = FLAGS_LO;
  words[w + 1] = flagsHi;
  words[w + (PAGE_REFCOUNT >>> 2)] = 1;
  words[w + (PAGE_MAPCOUNT >>> 2)] = -1;
  words[w + (PAGE_LRU_NEXT >>> 2)] = lru;
  words[w + (PAGE_LRU_NEXT >>> 2) + 1] = lruHi;
  words[w + (PAGE_LRU_PREV >>> 2)] = lru;
  words[w + (PAGE_LRU_PREV >>> 2) + 1] = lruHi;
}

function kernelDataChanged(): never {
  throw new Error('struct pages BUG: node_states or pglist_data changed under deferred init');
}

/** A u64 from its halves, in hex (exact above 2^53). */
function u64Hex(hi: number, lo: number): string {
  return hi === 0 ? hex(lo) : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}
