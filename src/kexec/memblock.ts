/**
 * memblock.reserved as the next kernel keeps it: an array of regions in
 * simulated memory, changed by the algorithms of mm/memblock.c (Linux 6.16
 * and later).
 *
 * Layout. A region is struct memblock_region, 24 bytes on x86-64 (with or
 * without CONFIG_NUMA: 8 + 8 + 4 + 4, or 8 + 8 + 4 padded to 24):
 *
 *   +0   base   u64
 *   +8   size   u64
 *   +16  flags  u32   MEMBLOCK_RSRV_NOINIT 0x10, MEMBLOCK_RSRV_KERN 0x20
 *   +20  nid    i32   NUMA_NO_NODE (-1) for every reservation here
 *
 * Region i is at `array + 24 i`, so a region may straddle two pages (every
 * field is naturally aligned and never does). The array starts as the
 * static memblock_reserved_init_regions[128] (kernel .init.data, here at
 * MEMBLOCK_STATIC_PA) and doubles (memblock_double_array) into memory that
 * memblock itself allocates top-down from the KHO scratch area
 * (memblock_find_in_range over the free gaps of the reserved array, inside
 * scratch only: kho_scratch_only), copies the old array over, frees the old
 * one unless it is the static one (memblock_phys_free: a remove_range on
 * the reserved array) and reserves the new one (memblock_reserve_kern: a
 * region flagged MEMBLOCK_RSRV_KERN). The fields of struct memblock_type
 * (cnt, max, total_size, the array pointer) live in JS fields: one hot line
 * of kernel .data that every step touches.
 *
 * The algorithms, as in mm/memblock.c:
 *   memblock_reserve(base, size)           memblock_add_range(reserved, base,
 *        size, NUMA_NO_NODE, 0): a scan from region 0 that stops at the first
 *        region at or above the end, inserting the parts of the range no
 *        region covers (memblock_insert_region moves the tail up by one: a
 *        memmove); when cnt * 2 + 1 > max the scan runs twice, once to count
 *        the new regions (doubling the array until they fit) and once to
 *        insert them; then memblock_merge_regions over the inserted span
 *        and its left neighbour merges touching regions of equal flags and
 *        nid (each merge moves the tail down by one).
 *   memblock_reserved_mark_noinit(base, size)   memblock_setclr_flag: first
 *        memblock_isolate_range (doubles first if fewer than two free slots
 *        remain, then scans from region 0 and splits a region that crosses
 *        either edge of the range, an insert each), then sets
 *        MEMBLOCK_RSRV_NOINIT on the regions inside and merges again.
 * So a new folio's region (flags 0) never merges with its NOINIT
 * neighbour on reserve; it merges when the second pass flags it.
 *
 * Scan cost. The kernel scans linearly from region 0, so every reserve and
 * every flag pass costs O(regions): a restore that leaves n disjoint
 * regions costs O(n^2) region visits, which this table reproduces by
 * default (`search: 'linear'`). `search: 'binary'` finds the first region
 * that can matter by binary search over the region ends (sorted, since
 * regions are disjoint) and continues exactly as the scan would from there:
 * the array, its moves, merges, splits and doublings are identical, only
 * the skipped visits are not performed (they are still counted in
 * `scanned`). It departs from the kernel's cost, and exists for runs with
 * 10^5+ disjoint regions that the linear scan makes quadratic.
 *
 * What the next kernel has reserved before the KHO walk (kernel image,
 * initrd, FDT, page tables, the vmemmap, ...) is not modelled: a fresh
 * table holds no region.
 *
 * Accesses. Two hot loops read the array straight from the host words:
 * the scan (the regions a linear scan skips: base and size of each, one
 * page base per page of the array; the sum of the high halves of base and
 * size decides against the range's base as int32s, and only when it is
 * within one of the base's high half is the end made a float of both
 * halves) and memmove (words.copyWithin, page by page, in the kernel's
 * direction: the bytes of a region-by-region copy). Every other region
 * access goes through the PhysMem word methods (ld/ld64/st/st64), so an
 * observed memory reports it to the machine model. On an observed memory
 * the scan reports what it read as bulk events: one load per page of the
 * array it went over (the bytes from the first region's base to the last
 * one's size: the same lines, in the same ascending order, first and last
 * touches alike, as the two u64 loads per region of the kernel's loop),
 * and charges the loads those events stand for as the instructions the
 * model implies for them (see repeatCharger); memmove on an observed
 * memory reports one load and one store per source line, in the copy's
 * direction, and charges the rest of its u64 and u32 accesses the same
 * way. The option `perWord` makes
 * the scan and memmove go word by word through the PhysMem methods on any
 * memory, one event per access: the reference the host-word loops and
 * their bulk events are tested against. The array copy of a doubling
 * moves u64s, the memset of its new half stores u64 zeros.
 */
import type { FolioSink } from '../tracker/tracker.ts';
import { KhoError, hex } from '../tracker/errors.ts';
import { type Bank, INV_PAGE_SIZE, INV_TWO32, PAGE_SIZE, PhysMem } from '../ram/phys-mem.ts';
import { type MemTracer, TracedPhysMem, repeatCharger, reportCopy } from '../ram/traced-mem.ts';

/** INIT_MEMBLOCK_REGIONS (INIT_MEMBLOCK_RESERVED_REGIONS on x86-64). */
export const MEMBLOCK_INIT_REGIONS = 128;
/** sizeof(struct memblock_region) on x86-64. */
export const MEMBLOCK_REGION_BYTES = 24;
export const MEMBLOCK_NONE = 0;
/** Don't initialize struct pages (memblock_reserved_mark_noinit). */
export const MEMBLOCK_RSRV_NOINIT = 0x10;
/** Memory reserved for kernel use (memblock_reserve_kern, every memblock allocation). */
export const MEMBLOCK_RSRV_KERN = 0x20;
export const NUMA_NO_NODE = -1;
/** What memblock_remove_region writes into the nid of an emptied array's region 0. */
export const MAX_NUMNODES = 1024;

/**
 * The next kernel's address map (a separate simulated memory, see
 * src/kexec/next-kernel.ts), above every RAM bank this suite simulates:
 *
 *   NEXT_KERNEL_SCRATCH_BASE  .. + 4 GiB   the KHO scratch area early
 *                                          allocations come from (doubled
 *                                          region arrays, top-down)
 *   NEXT_KERNEL_DATA_PA       .. + 16 KiB  kernel data: the static region
 *                                          array, then (struct-pages.ts)
 *                                          the statics and the node's
 *                                          pglist_data; then the usemap and
 *                                          vmemmap windows
 *
 * Top-down allocation in the kernel takes the highest scratch area, near
 * the top of the last node, above nearly all preserved memory; so here too
 * the array's own region sorts after every preserved range.
 */
export const NEXT_KERNEL_SCRATCH_BASE = 2 ** 52 - 2 ** 47;
export const NEXT_KERNEL_SCRATCH_SIZE = 4 * 2 ** 30;
export const NEXT_KERNEL_DATA_PA = NEXT_KERNEL_SCRATCH_BASE + 2 ** 33;
/** memblock_reserved_init_regions[] (3072 bytes, in the first data page). */
export const MEMBLOCK_STATIC_PA = NEXT_KERNEL_DATA_PA;
/** Pages of kernel data the memblock table needs on its own (a standalone table's memory). */
const STANDALONE_DATA_BYTES = PAGE_SIZE;
/** The largest array: 2^26 regions (1.5 GiB), so region offsets stay int32. */
const MAX_ARRAY_REGIONS = 2 ** 26;
const TWO32 = 4294967296;

export type MemblockSearch = 'linear' | 'binary';

export interface MemblockOptions {
  /** Memory holding the static array (MEMBLOCK_STATIC_PA) and the scratch area; by default a memory of its own. */
  readonly mem?: PhysMem;
  /** How add_range and isolate_range find their first region: the kernel's linear scan (default) or a binary search. */
  readonly search?: MemblockSearch;
  /** Every region access through the PhysMem word methods, one traced event each (the reference; default false: see the block comment). */
  readonly perWord?: boolean;
  /**
   * memmove on an observed memory reports no event: the caller prices the
   * regions moved (stats().moved) in closed form, as the skipped visits of
   * a binary search are (src/measure/restore.ts). A restore of 10^4
   * regions in random order moves 10^8 of them, more than a cache model
   * replays in a benchmark's time.
   */
  readonly priceMoves?: boolean;
}

export type MemblockStats = {
  /** memblock_reserve calls (the kernel's own memblock_reserve_kern of a doubled array not included). */
  reserves: number;
  /** Regions in the array now (cnt). */
  regions: number;
  /** Reserves whose base is below the highest base reserved before (the walk did not report in address order). */
  outOfOrder: number;
  /** Region slots moved by memmove (inserts, merges, removals). */
  moved: number;
  /** Pairs of regions merged by memblock_merge_regions. */
  merged: number;
  /** Times the array doubled. */
  doublings: number;
  /** Bytes covered by regions other than the kernel's own (MEMBLOCK_RSRV_KERN): what the reserves asked for. */
  bytes: number;
  /** memblock.reserved.total_size: every region, the kernel's own included. */
  totalSize: number;
  /** Regions split by memblock_isolate_range at a range's edge. */
  splits: number;
  /** memblock_setclr_flag passes (one per memblock_reserved_mark_noinit). */
  flagPasses: number;
  /** Regions the kernel's linear scans visit (add_range, both of its passes; isolate_range; the allocator's reverse walk). */
  scanned: number;
};

/** A region as read back (tests, checks). */
export interface MemblockRegion {
  readonly base: number;
  readonly size: number;
  readonly flags: number;
  readonly nid: number;
}

/** A region read into a reused object (the cold checks over 10^5 regions). */
type RegionFields = { -readonly [K in keyof MemblockRegion]: MemblockRegion[K] };

/** The banks a standalone table's own memory needs. */
export function memblockBanks(dataBytes = STANDALONE_DATA_BYTES): Bank[] {
  return [
    { start: NEXT_KERNEL_SCRATCH_BASE, size: NEXT_KERNEL_SCRATCH_SIZE },
    { start: NEXT_KERNEL_DATA_PA, size: dataBytes },
  ];
}

export class MemblockTable implements FolioSink {
  readonly mem: PhysMem;
  private readonly binary: boolean;
  private readonly perWord: boolean;
  /** The tracer memmove's bulk events go to: null when the caller prices the moves (priceMoves). */
  private readonly moveTracer: MemTracer | null;
  /** The tracer bulk events go to (an observed memory, not perWord), else null. */
  private readonly tracer: MemTracer | null;
  private readonly charge: (loads: number, stores: number) => void;
  /** Word base of each page of the static array (one page). */
  private readonly staticPages: Int32Array;
  // struct memblock_type
  private cnt = 0;
  private max = MEMBLOCK_INIT_REGIONS;
  private totalSize = 0;
  private arrayPa = MEMBLOCK_STATIC_PA;
  /** Word base of each page of the current array. */
  private pageW: Int32Array;
  /** memblock_isolate_range's results (start_rgn, end_rgn), kept in fields so that no call allocates. */
  private isoStart = 0;
  private isoEnd = 0;
  /** base and size of the region skip() stopped at. */
  private visitBase = 0;
  private visitSize = 0;
  // statistics
  private reserves = 0;
  private highestBase = -1;
  private outOfOrder = 0;
  private moved = 0;
  private merged = 0;
  private doublings = 0;
  private splits = 0;
  private flagPasses = 0;
  private scanned = 0;

  constructor(options: MemblockOptions = {}) {
    this.mem = options.mem ?? new PhysMem(memblockBanks());
    this.binary = options.search === 'binary';
    this.perWord = options.perWord ?? false;
    this.tracer = !this.perWord && this.mem instanceof TracedPhysMem ? this.mem.tracer : null;
    this.moveTracer = options.priceMoves ? null : this.tracer;
    this.charge = repeatCharger(this.tracer);
    this.staticPages = Int32Array.of(this.mem.wbase(MEMBLOCK_STATIC_PA));
    this.pageW = this.staticPages;
    this.reset();
  }

  /** A fresh boot: the empty static array (zeroed .init.data), statistics cleared. Arrays doubled into scratch before are simply abandoned. */
  reset(): void {
    const w = this.staticPages[0];
    this.mem.words.fill(0, w, w + (MEMBLOCK_INIT_REGIONS * MEMBLOCK_REGION_BYTES) / 4);
    this.cnt = 0;
    this.max = MEMBLOCK_INIT_REGIONS;
    this.totalSize = 0;
    this.arrayPa = MEMBLOCK_STATIC_PA;
    this.pageW = this.staticPages;
    this.reserves = 0;
    this.highestBase = -1;
    this.outOfOrder = 0;
    this.moved = 0;
    this.merged = 0;
    this.doublings = 0;
    this.splits = 0;
    this.flagPasses = 0;
    this.scanned = 0;
  }

  /** FolioSink: what KHO does in memblock for a restored folio (memblock_reserve, then memblock_reserved_mark_noinit). */
  add(phys: number, order: number): void {
    // 2^order as a shift for the orders folios have (`2 ** order` is a call to Math.pow).
    const size = PAGE_SIZE * (order < 31 ? 1 << order : 2 ** order);
    this.reserve(phys, size);
    this.markNoinit(phys, size);
  }

  /** add() of every folio of a [phys, order, ...] list (the first `length` entries). */
  addList(list: Float64Array, length = list.length): void {
    for (let i = 0; i + 1 < length; i += 2) this.add(list[i], list[i + 1]);
  }

  /** memblock_reserve(base, size). */
  reserve(base: number, size: number): void {
    this.reserves++;
    if (base < this.highestBase) this.outOfOrder++;
    else this.highestBase = base;
    this.addRange(base, size, NUMA_NO_NODE, MEMBLOCK_NONE);
  }

  /** memblock_reserved_mark_noinit(base, size). */
  markNoinit(base: number, size: number): void {
    this.setclrFlag(base, size, MEMBLOCK_RSRV_NOINIT);
  }

  /** memblock_phys_free(base, size) before the slab allocator is up: removes the range from the reserved array. */
  free(base: number, size: number): void {
    this.removeRange(base, size);
  }

  // -------------------------------------------------------------------------
  // Hot paths: the mm/memblock.c algorithms on the array in simulated memory.

  /** Word index of the byte at `off` in the current array (off < 2^31). */
  private fw(off: number): number {
    return this.pageW[off >>> 12] + ((off & 4095) >>> 2);
  }

  /**
   * The first region a scan for [base, ...) can stop at or change: 0 for
   * the kernel's linear scan, else a binary search over region ends. The
   * search reads the host words, unobserved: the kernel makes none of its
   * loads, and the model prices the visits it stands for (`scanned`).
   */
  private firstCandidate(base: number): number {
    if (!this.binary) return 0;
    let lo = 0;
    let hi = this.cnt;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const off = mid * MEMBLOCK_REGION_BYTES;
      const end = this.hostU64(this.fw(off)) + this.hostU64(this.fw(off + 8));
      if (end <= base) lo = mid + 1;
      else hi = mid;
    }
    // The linear scan would have visited (and skipped) every region before lo.
    this.scanned += lo;
    return lo;
  }

  /**
   * The kernel's scan from region idx on past every region that ends at or
   * below b: returns the first region that does not (cnt if none), with
   * its base and size in visitBase and visitSize. Every region read is a
   * visit (`scanned`), the one stopped at included.
   */
  private skip(idx: number, b: number): number {
    if (this.perWord) return this.skipPerWord(idx, b);
    const cnt = this.cnt;
    const words = this.mem.words;
    const pageW = this.pageW;
    // b's high half, and the high half below which a region's end is surely below b.
    const bHi = Math.floor(b * INV_TWO32);
    const skipBelow = bHi - 1;
    let i = idx;
    let rbase = 0;
    let rsize = 0;
    let found = false;
    scan: while (i < cnt) {
      const off = i * MEMBLOCK_REGION_BYTES;
      const po = off & 4095;
      const pw = pageW[off >>> 12];
      if (po === 4088) {
        // The one region in three pages whose size starts the next page.
        const nw = pageW[(off >>> 12) + 1];
        rbase = (words[pw + 1022] >>> 0) + words[pw + 1023] * TWO32;
        rsize = (words[nw] >>> 0) + words[nw + 1] * TWO32;
        if (rbase + rsize > b) {
          found = true;
          break;
        }
        i++;
        continue;
      }
      // The regions of this page whose base and size both lie in it (offset in page <= 4080).
      let stop = i + (((4080 - po) / MEMBLOCK_REGION_BYTES) | 0) + 1;
      if (stop > cnt) stop = cnt;
      let w = pw + (po >>> 2);
      for (; i < stop; i++, w += 6) {
        // end = base + size (both below 2^52, so the high halves are non-negative int32s). The high halves
        // add up to the end's high half, or one less (a carry from the low halves): the low halves are
        // needed only when that sum is within one of b's.
        const hi = words[w + 1] + words[w + 3];
        if (hi < skipBelow) continue;
        if (hi > bHi || (words[w] >>> 0) + (words[w + 2] >>> 0) + hi * TWO32 > b) {
          rbase = (words[w] >>> 0) + words[w + 1] * TWO32;
          rsize = (words[w + 2] >>> 0) + words[w + 3] * TWO32;
          found = true;
          break scan;
        }
      }
    }
    const visited = i - idx + (found ? 1 : 0);
    this.scanned += visited;
    if (found) {
      this.visitBase = rbase;
      this.visitSize = rsize;
    }
    if (this.tracer !== null && visited > 0) this.reportScan(idx, idx + visited);
    return i;
  }

  /** skip() as the kernel's loop reads: two u64 loads per region through the PhysMem methods. */
  private skipPerWord(idx: number, b: number): number {
    const mem = this.mem;
    const cnt = this.cnt;
    for (let i = idx; i < cnt; i++) {
      const off = i * MEMBLOCK_REGION_BYTES;
      const w = this.fw(off);
      const rbase = mem.ld64(w);
      const rsize = mem.ld64((off & 4095) === 4088 ? this.fw(off + 8) : w + 2);
      this.scanned++;
      if (rbase + rsize > b) {
        this.visitBase = rbase;
        this.visitSize = rsize;
        return i;
      }
    }
    return cnt;
  }

  /** The bulk events of a scan over regions [from, to): one load per page, from the first base to the last size. */
  private reportScan(from: number, to: number): void {
    const tracer = this.tracer!;
    const first = from * MEMBLOCK_REGION_BYTES;
    const last = (to - 1) * MEMBLOCK_REGION_BYTES + 16;
    let events = 0;
    for (let off = first; off < last; events++) {
      const pageEnd = (off & ~4095) + PAGE_SIZE;
      const e = last < pageEnd ? last : pageEnd;
      tracer.load(this.arrayPa + off, e - off);
      off = e;
    }
    this.charge(2 * (to - from) - events, 0);
  }

  /** memblock_add_range(&memblock.reserved, base, size, nid, flags). */
  private addRange(base: number, size: number, nid: number, flags: number): void {
    if (size <= 0) return;
    const mem = this.mem;
    const end = base + size;
    // Special case for an empty array: the kernel tests regions[0].size.
    if (mem.ld64(this.fw(8)) === 0) {
      this.writeRegion(0, base, size, flags, nid);
      this.totalSize = size;
      this.cnt = 1;
      return;
    }
    // With room for cnt + 1 new regions, no counting pass is needed.
    let insert = this.cnt * 2 + 1 <= this.max;
    let startRgn = -1;
    let endRgn = 0;
    for (;;) {
      let b = base;
      let nrNew = 0;
      let idx = this.firstCandidate(base);
      for (;;) {
        // Regions that end at or below b are skipped (their bases are below end: regions are disjoint and non-empty).
        idx = this.skip(idx, b);
        if (idx >= this.cnt) break;
        const rbase = this.visitBase;
        const rend = rbase + this.visitSize;
        if (rbase >= end) break;
        // The region overlaps: the part of the range below it is new.
        if (rbase > b) {
          nrNew++;
          if (insert) {
            if (startRgn === -1) startRgn = idx;
            endRgn = idx + 1;
            this.insertRegion(idx, b, rbase - b, nid, flags);
            idx++;
          }
        }
        b = rend < end ? rend : end;
        idx++;
      }
      if (b < end) {
        nrNew++;
        if (insert) {
          if (startRgn === -1) startRgn = idx;
          endRgn = idx + 1;
          this.insertRegion(idx, b, end - b, nid, flags);
        }
      }
      if (nrNew === 0) return;
      if (insert) {
        this.mergeRegions(startRgn, endRgn);
        return;
      }
      while (this.cnt + nrNew > this.max) this.doubleArray(base, size);
      insert = true;
    }
  }

  /** memblock_insert_region: moves regions idx.. up by one and writes the new one at idx. */
  private insertRegion(idx: number, base: number, size: number, nid: number, flags: number): void {
    if (this.cnt >= this.max) bug('memblock_insert_region into a full array');
    this.memmove(idx + 1, idx, this.cnt - idx);
    this.writeRegion(idx, base, size, flags, nid);
    this.cnt++;
    this.totalSize += size;
  }

  /** memblock_remove_region. */
  private removeRegion(r: number): void {
    const mem = this.mem;
    this.totalSize -= mem.ld64(this.fw(r * MEMBLOCK_REGION_BYTES + 8));
    this.memmove(r, r + 1, this.cnt - (r + 1));
    this.cnt--;
    // Special case for empty arrays.
    if (this.cnt === 0) this.writeRegion(0, 0, 0, 0, MAX_NUMNODES);
  }

  /** memblock_merge_regions(type, start_rgn, end_rgn): merges neighbours of equal flags and nid in [start_rgn - 1, end_rgn). */
  private mergeRegions(startRgn: number, endRgn: number): void {
    const mem = this.mem;
    let i = startRgn > 0 ? startRgn - 1 : 0;
    let e = endRgn < this.cnt - 1 ? endRgn : this.cnt - 1;
    while (i < e) {
      const off = i * MEMBLOCK_REGION_BYTES;
      const thisEnd = mem.ld64(this.fw(off)) + mem.ld64(this.fw(off + 8));
      const nextBase = mem.ld64(this.fw(off + 24));
      if (
        thisEnd !== nextBase ||
        mem.ld(this.fw(off + 20)) !== mem.ld(this.fw(off + 44)) ||
        mem.ld(this.fw(off + 16)) !== mem.ld(this.fw(off + 40))
      ) {
        if (thisEnd > nextBase) bug('memblock regions overlap');
        i++;
        continue;
      }
      const sizeW = this.fw(off + 8);
      mem.st64(sizeW, mem.ld64(sizeW) + mem.ld64(this.fw(off + 32)));
      this.memmove(i + 1, i + 2, this.cnt - (i + 2));
      this.cnt--;
      e--;
      this.merged++;
    }
  }

  /**
   * memblock_isolate_range: splits the regions crossing either edge of
   * [base, base + size); the regions inside are [isoStart, isoEnd).
   */
  private isolateRange(base: number, size: number): void {
    this.isoStart = 0;
    this.isoEnd = 0;
    if (size <= 0) return;
    const mem = this.mem;
    const end = base + size;
    // Room for the two regions a split at both edges creates.
    while (this.cnt + 2 > this.max) this.doubleArray(base, size);
    // A doubling frees the old array through remove_range, which isolates too.
    this.isoStart = 0;
    this.isoEnd = 0;
    let idx = this.firstCandidate(base);
    for (;;) {
      idx = this.skip(idx, base);
      if (idx >= this.cnt) break;
      const rbase = this.visitBase;
      const rsize = this.visitSize;
      const rend = rbase + rsize;
      if (rbase >= end) break;
      const off = idx * MEMBLOCK_REGION_BYTES;
      const w = this.fw(off);
      const sizeW = (off & 4095) === 4088 ? this.fw(off + 8) : w + 2;
      if (rbase < base) {
        // Crosses the lower edge: the region keeps the top part, a new one below takes the rest; redo the top part next.
        mem.st64(w, base);
        mem.st64(sizeW, rsize - (base - rbase));
        this.totalSize -= base - rbase;
        this.insertRegion(idx, rbase, base - rbase, mem.ld(this.fw(off + 20)), mem.ld(this.fw(off + 16)));
        this.splits++;
      } else if (rend > end) {
        // Crosses the upper edge: the region keeps the part above, the new one at idx is inside; redo idx.
        mem.st64(w, end);
        mem.st64(sizeW, rsize - (end - rbase));
        this.totalSize -= end - rbase;
        this.insertRegion(idx, rbase, end - rbase, mem.ld(this.fw(off + 20)), mem.ld(this.fw(off + 16)));
        this.splits++;
        idx--;
      } else {
        if (this.isoEnd === 0) this.isoStart = idx;
        this.isoEnd = idx + 1;
      }
      idx++;
    }
  }

  /** memblock_setclr_flag(&memblock.reserved, base, size, 1, flag). */
  private setclrFlag(base: number, size: number, flag: number): void {
    this.flagPasses++;
    this.isolateRange(base, size);
    const mem = this.mem;
    const start = this.isoStart;
    const end = this.isoEnd;
    for (let i = start; i < end; i++) {
      const fl = this.fw(i * MEMBLOCK_REGION_BYTES + 16);
      mem.st(fl, mem.ld(fl) | flag);
    }
    this.mergeRegions(start, end);
  }

  /** memblock_remove_range(&memblock.reserved, base, size). */
  private removeRange(base: number, size: number): void {
    this.isolateRange(base, size);
    const start = this.isoStart;
    for (let i = this.isoEnd - 1; i >= start; i--) this.removeRegion(i);
  }

  /** memmove of `count` regions from slot src to slot dst (overlapping). */
  private memmove(dst: number, src: number, count: number): void {
    if (count <= 0) return;
    this.moved += count;
    if (this.perWord) {
      if (dst > src) for (let k = count - 1; k >= 0; k--) this.copyRegion(src + k, dst + k);
      else for (let k = 0; k < count; k++) this.copyRegion(src + k, dst + k);
      return;
    }
    const events = this.moveWords(dst * MEMBLOCK_REGION_BYTES, src * MEMBLOCK_REGION_BYTES, count * MEMBLOCK_REGION_BYTES);
    // copyRegion's accesses: two u64 and two u32 loads and stores per region.
    if (this.moveTracer !== null) this.charge(4 * count - events, 4 * count - events);
  }

  /**
   * memmove of `len` bytes of the array from byte offset src to dst, as
   * host copies: chunks that cross no page of either side, from the top
   * down when moving up (from the bottom up when moving down), so that no
   * chunk overwrites bytes still to be moved. The bytes are those of the
   * region-by-region copy. On an observed memory each chunk is one load of
   * its source and one store of its destination, in the copy's direction
   * (the lines the region-by-region copy touches, in its order: a restore
   * of 10^4 regions in random order moves 10^8 of them, too many to trace
   * word by word); returns the chunks.
   */
  private moveWords(dst: number, src: number, len: number): number {
    const words = this.mem.words;
    const pageW = this.pageW;
    const tracer = this.moveTracer;
    const d = dst - src;
    let events = 0;
    if (d > 0) {
      for (let e = src + len; e > src; ) {
        let a = (e - 1) & ~4095;
        const da = ((e - 1 + d) & ~4095) - d;
        if (da > a) a = da;
        if (src > a) a = src;
        if (tracer !== null) events += reportCopy(tracer, this.arrayPa, a, e, d);
        const sw = pageW[a >>> 12] + ((a & 4095) >>> 2);
        const dw = pageW[(a + d) >>> 12] + (((a + d) & 4095) >>> 2);
        words.copyWithin(dw, sw, sw + ((e - a) >>> 2));
        e = a;
      }
    } else {
      const end = src + len;
      for (let a = src; a < end; ) {
        let e = (a & ~4095) + PAGE_SIZE;
        const de = ((a + d) & ~4095) + PAGE_SIZE - d;
        if (de < e) e = de;
        if (end < e) e = end;
        if (tracer !== null) events += reportCopy(tracer, this.arrayPa, a, e, d);
        const sw = pageW[a >>> 12] + ((a & 4095) >>> 2);
        const dw = pageW[(a + d) >>> 12] + (((a + d) & 4095) >>> 2);
        words.copyWithin(dw, sw, sw + ((e - a) >>> 2));
        a = e;
      }
    }
    return events;
  }

  private copyRegion(s: number, d: number): void {
    const mem = this.mem;
    const so = s * MEMBLOCK_REGION_BYTES;
    const dof = d * MEMBLOCK_REGION_BYTES;
    // A region lies in one page unless it starts in the last 16 bytes of one.
    if ((so & 4095) <= 4072 && (dof & 4095) <= 4072) {
      const ws = this.fw(so);
      const wd = this.fw(dof);
      mem.st64(wd, mem.ld64(ws));
      mem.st64(wd + 2, mem.ld64(ws + 2));
      mem.st(wd + 4, mem.ld(ws + 4));
      mem.st(wd + 5, mem.ld(ws + 5));
      return;
    }
    mem.st64(this.fw(dof), mem.ld64(this.fw(so)));
    mem.st64(this.fw(dof + 8), mem.ld64(this.fw(so + 8)));
    mem.st(this.fw(dof + 16), mem.ld(this.fw(so + 16)));
    mem.st(this.fw(dof + 20), mem.ld(this.fw(so + 20)));
  }

  private writeRegion(i: number, base: number, size: number, flags: number, nid: number): void {
    const mem = this.mem;
    const off = i * MEMBLOCK_REGION_BYTES;
    mem.st64(this.fw(off), base);
    mem.st64(this.fw(off + 8), size);
    mem.st(this.fw(off + 16), flags);
    mem.st(this.fw(off + 20), nid);
  }

  // -------------------------------------------------------------------------
  // memblock_double_array: rare (log2 of the regions), so clarity first.

  private doubleArray(newAreaStart: number, newAreaSize: number): void {
    const oldMax = this.max;
    const oldSize = oldMax * MEMBLOCK_REGION_BYTES;
    const newSize = oldSize * 2;
    const oldAlloc = pageAlign(oldSize);
    const newAlloc = pageAlign(newSize);
    if (oldMax * 2 > MAX_ARRAY_REGIONS) tooManyRegions(oldMax * 2);
    // Only exclude the range being reserved: look above it first, then below.
    let addr = this.findScratch(newAreaStart + newAreaSize, newAlloc);
    if (addr === 0 && newAreaSize > 0) addr = this.findScratch(0, newAlloc, newAreaStart);
    if (addr === 0) scratchFull(oldMax, newAlloc);
    const pages = copyToNewArray(this.mem, this.pageW, addr, newAlloc, oldSize, newSize);
    const oldPa = this.arrayPa;
    this.arrayPa = addr;
    this.pageW = pages;
    this.max = oldMax * 2;
    this.doublings++;
    // Free the old array unless it is the static one, then reserve the new one.
    if (oldPa !== MEMBLOCK_STATIC_PA) this.removeRange(oldPa, oldAlloc);
    this.addRange(addr, newAlloc, NUMA_NO_NODE, MEMBLOCK_RSRV_KERN);
  }

  /**
   * memblock_find_in_range(start, limit, size, PAGE_SIZE) with only the
   * scratch area usable: the free gaps between reserved regions, walked
   * from the top down (__next_mem_range_rev), the highest that fits, or 0.
   */
  private findScratch(start: number, size: number, limit = Infinity): number {
    const mem = this.mem;
    const lo = Math.max(start, PAGE_SIZE, NEXT_KERNEL_SCRATCH_BASE);
    const top = Math.min(limit, NEXT_KERNEL_SCRATCH_BASE + NEXT_KERNEL_SCRATCH_SIZE);
    for (let ib = this.cnt; ib >= 0; ib--) {
      let gapEnd = Infinity;
      if (ib < this.cnt) {
        gapEnd = mem.ld64(this.fw(ib * MEMBLOCK_REGION_BYTES));
        this.scanned++;
      }
      const gapStart = ib > 0 ? mem.ld64(this.fw((ib - 1) * MEMBLOCK_REGION_BYTES)) + mem.ld64(this.fw((ib - 1) * MEMBLOCK_REGION_BYTES + 8)) : 0;
      const thisStart = Math.max(gapStart, lo);
      const thisEnd = Math.min(gapEnd, top);
      if (thisEnd <= lo) return 0;
      if (thisEnd < size) continue;
      const cand = Math.floor((thisEnd - size) * INV_PAGE_SIZE) * PAGE_SIZE;
      if (cand >= thisStart) return cand;
    }
    return 0;
  }

  // -------------------------------------------------------------------------
  // Reading back (cold).

  /** Every region, ascending. */
  regionList(): MemblockRegion[] {
    const out: MemblockRegion[] = [];
    for (let i = 0; i < this.cnt; i++) out.push(this.region(i));
    return out;
  }

  /** Regions as [base, size] pairs, ascending (the kernel's own array regions included). */
  regions(): [base: number, size: number][] {
    return this.regionList().map((r) => [r.base, r.size]);
  }

  /** Whether [base, base + size) lies inside one region. */
  isReserved(base: number, size: number): boolean {
    return this.regionList().some((r) => r.base <= base && base + size <= r.base + r.size);
  }

  /** Where the array is now and how many regions it holds. */
  get array(): { readonly pa: number; readonly max: number; readonly cnt: number } {
    return { pa: this.arrayPa, max: this.max, cnt: this.cnt };
  }

  stats(): MemblockStats {
    let bytes = 0;
    const r: RegionFields = { base: 0, size: 0, flags: 0, nid: 0 };
    for (let i = 0; i < this.cnt; i++) {
      this.readRegion(i, r);
      if ((r.flags & MEMBLOCK_RSRV_KERN) === 0) bytes += r.size;
    }
    return {
      reserves: this.reserves,
      regions: this.cnt,
      outOfOrder: this.outOfOrder,
      moved: this.moved,
      merged: this.merged,
      doublings: this.doublings,
      bytes,
      totalSize: this.totalSize,
      splits: this.splits,
      flagPasses: this.flagPasses,
      scanned: this.scanned,
    };
  }

  /**
   * After add() of every folio of `list` ([phys, order, ...]) on a fresh
   * table: the regions other than the kernel's own are exactly the union
   * of the folios' ranges (touching ranges merged), each flagged
   * MEMBLOCK_RSRV_NOINIT and nid NUMA_NO_NODE; the kernel's own regions
   * are exactly the current array's pages; the array is sorted and
   * total_size adds up. Returns one line describing the first error, or
   * undefined.
   */
  check(list: Float64Array): string | undefined {
    const n = list.length >> 1;
    const starts = new Float64Array(n);
    const ends = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      starts[i] = list[2 * i];
      ends[i] = list[2 * i] + PAGE_SIZE * 2 ** list[2 * i + 1];
    }
    starts.sort();
    ends.sort();
    let total = 0;
    let prevEnd = -1;
    let kern = 0;
    const user: number[] = [];
    const r: RegionFields = { base: 0, size: 0, flags: 0, nid: 0 };
    for (let i = 0; i < this.cnt; i++) {
      this.readRegion(i, r);
      total += r.size;
      if (r.size <= 0 || r.base < prevEnd) return `memblock.reserved region ${i} at ${hex(r.base)} is empty or overlaps the one before`;
      prevEnd = r.base + r.size;
      if (r.flags & MEMBLOCK_RSRV_KERN) {
        kern++;
        if (r.base !== this.arrayPa || r.size !== pageAlign(this.max * MEMBLOCK_REGION_BYTES)) {
          return `memblock.reserved region ${i} [${hex(r.base)}, ${hex(r.base + r.size)}) is the kernel's but not its region array`;
        }
      } else user.push(i);
    }
    if (total !== this.totalSize) return `memblock.reserved.total_size is ${hex(this.totalSize)} but its regions add up to ${hex(total)}`;
    const wantKern = this.arrayPa === MEMBLOCK_STATIC_PA ? 0 : 1;
    if (kern !== wantKern) return `memblock.reserved holds ${kern} regions of its own array, not ${wantKern}`;
    // Sweep the sorted starts and ends: the union, touching ranges merged (a start before an end at the same address).
    let u = 0;
    let si = 0;
    let ei = 0;
    while (si < n) {
      const segStart = starts[si];
      let depth = 0;
      let segEnd = segStart;
      while (si < n || ei < n) {
        if (si < n && (ei >= n || starts[si] <= ends[ei])) {
          depth++;
          si++;
        } else {
          depth--;
          segEnd = ends[ei++];
          if (depth === 0) break;
        }
      }
      if (u >= user.length) return `memblock.reserved lacks the preserved range [${hex(segStart)}, ${hex(segEnd)})`;
      this.readRegion(user[u], r);
      if (r.base !== segStart || r.base + r.size !== segEnd) {
        return `memblock.reserved region [${hex(r.base)}, ${hex(r.base + r.size)}) is not the preserved range [${hex(segStart)}, ${hex(segEnd)})`;
      }
      if (r.flags !== MEMBLOCK_RSRV_NOINIT || r.nid !== NUMA_NO_NODE) {
        return `memblock.reserved region [${hex(r.base)}, ${hex(r.base + r.size)}) has flags ${hex(r.flags)} and nid ${r.nid}, not NOINIT and NUMA_NO_NODE`;
      }
      u++;
    }
    if (u < user.length) {
      this.readRegion(user[u], r);
      return `memblock.reserved region [${hex(r.base)}, ${hex(r.base + r.size)}) covers no preserved folio`;
    }
    return undefined;
  }

  /** Region i read straight from the host words (not an access the kernel makes). */
  private region(i: number): MemblockRegion {
    const r: RegionFields = { base: 0, size: 0, flags: 0, nid: 0 };
    this.readRegion(i, r);
    return r;
  }

  /** Region i into `out`, from the host words: a check of 10^5 regions allocates nothing per region. */
  private readRegion(i: number, out: RegionFields): void {
    const words = this.mem.words;
    const off = i * MEMBLOCK_REGION_BYTES;
    out.base = this.hostU64(this.fw(off));
    out.size = this.hostU64(this.fw(off + 8));
    out.flags = words[this.fw(off + 16)] >>> 0;
    out.nid = words[this.fw(off + 20)];
  }

  /** The u64 at host word w, unobserved (base and size are below 2^52: the high half is a non-negative int32). */
  private hostU64(w: number): number {
    const words = this.mem.words;
    return (words[w] >>> 0) + words[w + 1] * TWO32;
  }
}

/**
 * doubleArray's copy: memcpy(new_array, type->regions, old_size), then
 * memset(new_array + max, 0, old_size); returns the new array's page bases.
 * Its own function, ending with the loops: a copy of tens of thousands of
 * regions is compiled on stack (OSR) in its first call, and when the rest of
 * doubleArray came after it in one function, every later doubling entered
 * that code and deoptimized on the stores after the loop (145 times in 30
 * restores of random-4k, up to 1.7 ms each).
 */
function copyToNewArray(mem: PhysMem, oldPages: Int32Array, addr: number, newAlloc: number, oldSize: number, newSize: number): Int32Array {
  const pages = new Int32Array(newAlloc * INV_PAGE_SIZE);
  for (let p = 0; p < pages.length; p++) pages[p] = mem.wbase(addr + p * PAGE_SIZE);
  for (let off = 0; off < oldSize; off += 8) {
    const s = oldPages[off >>> 12] + ((off & 4095) >>> 2);
    const d = pages[off >>> 12] + ((off & 4095) >>> 2);
    mem.st(d, mem.ld(s));
    mem.st(d + 1, mem.ld(s + 1));
  }
  for (let off = oldSize; off < newSize; off += 8) mem.st64(pages[off >>> 12] + ((off & 4095) >>> 2), 0);
  return pages;
}

function pageAlign(bytes: number): number {
  return Math.ceil(bytes * INV_PAGE_SIZE) * PAGE_SIZE;
}

function bug(what: string): never {
  throw new Error(`memblock BUG: ${what}`);
}

function tooManyRegions(n: number): never {
  throw new KhoError('ENOMEM', `memblock: a reserved array of ${n} regions is beyond what this model holds (2^26)`);
}

function scratchFull(max: number, bytes: number): never {
  throw new KhoError('ENOMEM', `memblock: Failed to double reserved array from ${max} to ${max * 2} entries (${hex(bytes)} bytes do not fit the scratch area)`);
}
