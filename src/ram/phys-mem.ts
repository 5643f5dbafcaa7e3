/**
 * Simulated physical memory.
 *
 * A machine is a list of RAM banks in a 52-bit physical address space
 * (total at most 16 TiB), made of 4 KiB page frames. Only frames that are
 * written hold bytes on the host: a 16 TiB machine costs host memory only
 * for what the trackers and the workload actually store.
 *
 * Backing store: one Int32Array, `words`, of host slots of 1024 words (one
 * page each). Slot s holds words [s << 10, (s + 1) << 10). Two slots are
 * special: slot 0 is the kernel's static data (the trackers' lock words,
 * see `allocStatic`), which no table maps, so 0 can mean "no slot" below;
 * slot ZERO_SLOT is the zero page every unbacked page of the running kernel
 * reads as, never written.
 *
 * Translation is per page, never per word: a walk asks once for the base of
 * the page it is about to read (`base`, or `follow` for an address it just
 * loaded from RAM as two int32 halves, or `wbase` to write) and then reads
 * and writes words at
 * base + word offset with plain int32 arithmetic (`ld`, `st`, `ld64`, ...).
 * Two tables map a page frame to its slot:
 *
 *   the window  one contiguous region (the kernel heap, where every tracker
 *               keeps its metadata), indexed from its top page down, since
 *               the heap is handed out top-down: one Int32Array load.
 *               winSlot[i] is the slot of the page (winEnd - 4096 (i + 1)).
 *   the directory  every other page: pfn bits 39:26, 25:13, 12:0 through
 *               two JS arrays and an Int32Array leaf (8192 entries).
 *
 * A table entry is the slot, or 0 for a page with no bytes. Every word is
 * a signed int32 (a JS small integer: no heap numbers, no float64 on the
 * hot path); a u64 is two words, little-endian, read as a JS number by
 * `ld64` (exact below 2^53, which covers every physical address).
 * Accesses must be naturally aligned; the hot path does not check.
 *
 * An unbacked frame reads as zero in the running kernel (it was allocated
 * zeroed, or never written), and as deterministic garbage in the next
 * kernel: memory that the hand-over did not carry has been reused by then
 * (such a page gets a slot holding its garbage on first read). A carried
 * page that held only zeros maps to the zero page.
 *
 * Stores outside RAM throw (a tracker bug); loads outside RAM are the
 * caller's responsibility to prevent (see `contains`).
 *
 * Subclasses (src/ram/traced-mem.ts) observe every access by overriding
 * the word methods; the plain class is the only one the timed code sees,
 * so its call sites stay monomorphic and V8 inlines them.
 */
import { KhoError, hex } from '../tracker/errors.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_WORDS32 = PAGE_SIZE / 4;
/** Physical addresses are below 2^52. */
export const PHYS_LIMIT = 2 ** 52;
/** The largest machine this suite simulates: 16 TiB. */
export const MAX_RAM = 2 ** 44;
/**
 * The most RAM banks a machine may have. Real machines have a handful (one
 * per NUMA node and hole); the flat bitmap's descriptor page holds 24, and a
 * bound keeps every per-bank scan trivially cheap.
 */
export const MAX_BANKS = 24;

const WORD_SHIFT = 10;
const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);
/** Slot 0 holds the kernel's static data (locks of the trackers): in no table, never handed over. */
const KERNEL_DATA_SLOT = 0;
/** Where the kernel's static data sits, for observers (the kernel image's .bss, low in RAM on x86-64). */
export const KERNEL_DATA_PA = 0x1000000;
const ZERO_SLOT = 1;
const FIRST_SLOT = 2;
const LEAF_BITS = 13;
const LEAF_SIZE = 1 << LEAF_BITS;
const TOP_DIVISOR = 2 ** (2 * LEAF_BITS);
const DIR_TOP_SIZE = 2 ** 40 / TOP_DIVISOR;
const TWO32 = 4294967296;
/** Exact inverses of powers of two: a multiplication where a division would cost ~15 cycles. */
export const INV_PAGE_SIZE = 2 ** -12;
export const INV_TWO32 = 2 ** -32;
/** Host slots at most: word indices stay below 2^31 (8 GiB of written pages). */
const MAX_SLOTS = 2 ** 21 - 1;
/** The largest window (the kernel heap is at most 64 GiB). */
const MAX_WINDOW = 64 * 2 ** 30;

export interface Bank {
  /** Physical start address, page aligned. */
  readonly start: number;
  /** Size in bytes, a multiple of the page size. */
  readonly size: number;
}

/** What an unbacked page reads as. */
export type UnbackedPolicy = 'zero' | 'garbage';

/**
 * The bytes that survive a kexec: the carried page frames and their
 * contents. Pages that hold only zeros are listed without bytes, so that
 * a large, mostly empty bitmap costs no host memory to carry.
 */
export interface RamImage {
  readonly banks: readonly Bank[];
  /** Page frame numbers of pages with bytes, ascending. */
  readonly pfns: Float64Array;
  /** pfns.length * PAGE_SIZE bytes, page i at offset i * PAGE_SIZE. */
  readonly data: Uint8Array;
  /** Page frame numbers of carried pages that read as zero, ascending. */
  readonly zeroPfns: Float64Array;
}

export class PhysMem {
  readonly banks: readonly Bank[];
  /** Total RAM in bytes. */
  readonly size: number;
  /** Host words of every slot (see the block comment); replaced when it grows. */
  words: Int32Array;
  /** slotPfn[s]: the page frame slot s holds (-1 when free). */
  private slotPfn: Float64Array;
  private slotCount = FIRST_SLOT;
  private freeSlots: Int32Array = new Int32Array(64);
  private nrFree = 0;
  private staticWords = 0;
  /** The carried zero pages of the image this memory was rebuilt from (all share ZERO_SLOT), ascending: the first nrZero. */
  private carriedZero: Float64Array = new Float64Array(0);
  private nrZero = 0;
  private readonly garbage: boolean;
  /** The window: pages [winEnd - winBytes, winEnd), slot of the i-th page from the top in winSlot[i]. */
  private winEnd = 0;
  private winBytes = 0;
  private winSlot: Int32Array = new Int32Array(0);
  /** The window's end page frame modulo 2^32, and address bits 44..51 of its top page (see follow). */
  private winEndPfnLo = 0;
  private winHi44 = 0;
  private readonly dirTop: (Int32Array | undefined)[][] = [];
  /** One bank from `lowest` to `highest`: contains() needs two compares. */
  private readonly lowest: number;
  private readonly highest: number;
  private readonly oneBank: boolean;

  constructor(banks: readonly Bank[], unbacked: UnbackedPolicy = 'zero') {
    this.banks = validateBanks(banks);
    this.size = this.banks.reduce((s, b) => s + b.size, 0);
    this.garbage = unbacked === 'garbage';
    this.lowest = this.banks[0].start;
    const last = this.banks[this.banks.length - 1];
    this.highest = last.start + last.size;
    this.oneBank = this.banks.length === 1;
    this.words = new Int32Array(64 << WORD_SHIFT);
    this.slotPfn = new Float64Array(64).fill(-1);
    this.slotPfn[KERNEL_DATA_SLOT] = KERNEL_DATA_PA / PAGE_SIZE;
    // The kernel heap is the top of the highest bank (at most 64 GiB, see machine.ts): the window covers it.
    this.winEnd = this.highest;
    this.winBytes = Math.min(last.size, MAX_WINDOW);
    this.winSlot = new Int32Array(Math.min(1024, this.winBytes / PAGE_SIZE));
    this.winEndPfnLo = (this.winEnd / PAGE_SIZE) | 0;
    this.winHi44 = Math.floor((this.winEnd - 1) / 2 ** 44);
  }

  /** A machine of one bank starting at physical address 0. */
  static ofSize(size: number): PhysMem {
    return new PhysMem([{ start: 0, size }]);
  }

  /** The next kernel's view: only the image's pages hold bytes, the rest is garbage. */
  static fromImage(image: RamImage, make: (banks: readonly Bank[], unbacked: UnbackedPolicy) => PhysMem = plainMem): PhysMem {
    const mem = make(image.banks, 'garbage');
    mem.loadImage(image);
    return mem;
  }

  /**
   * The next kernel's view of an image read from a file page by page (see
   * `carry`): room for `pages` pages is made but not touched, so each page's
   * bytes are held once, in its slot, and a page of zeros costs no host page.
   */
  static forCarriedPages(banks: readonly Bank[], pages: number): PhysMem {
    const mem = new PhysMem(banks, 'garbage');
    mem.resize(Math.max(mem.slotPfn.length, FIRST_SLOT + pages));
    return mem;
  }

  /**
   * Carries page `pfn` (above every page carried so far, inside RAM) with
   * the 4096 bytes of `page`, which must be 4-byte aligned: copied into a
   * slot of its own, or mapped to the zero page if they are all zero.
   */
  carry(pfn: number, page: Uint8Array): void {
    // Buffer.equals is a memcmp: 10x faster than a word loop over the 1 GiB of a 16 TiB flat bitmap.
    if (Buffer.from(page.buffer, page.byteOffset, PAGE_SIZE).equals(ZERO_PAGE)) {
      this.mapSlot(pfn, ZERO_SLOT);
      this.appendZero(pfn);
    } else {
      this.words.set(new Int32Array(page.buffer, page.byteOffset, PAGE_WORDS32), this.newSlot(pfn) << WORD_SHIFT);
    }
  }

  private appendZero(pfn: number): void {
    if (this.nrZero === this.carriedZero.length) {
      const grown = new Float64Array(Math.max(64, 2 * this.nrZero));
      grown.set(this.carriedZero);
      this.carriedZero = grown;
    }
    this.carriedZero[this.nrZero++] = pfn;
  }

  /** Maps the carried pages of `image` (a fresh next-kernel memory). */
  protected loadImage(image: RamImage): void {
    for (const pfn of image.zeroPfns) this.mapSlot(pfn, ZERO_SLOT);
    this.carriedZero = image.zeroPfns;
    this.nrZero = image.zeroPfns.length;
    this.reserve(image.pfns.length);
    const src = new Int32Array(image.data.buffer, image.data.byteOffset, image.data.byteLength >>> 2);
    for (let i = 0; i < image.pfns.length; i++) {
      const slot = this.newSlot(image.pfns[i]);
      this.words.set(src.subarray(i << WORD_SHIFT, (i + 1) << WORD_SHIFT), slot << WORD_SHIFT);
    }
  }

  /** The highest physical address + 1. */
  get end(): number {
    return this.highest;
  }

  /** Whether [pa, pa + len) lies inside one RAM bank. */
  contains(pa: number, len = 1): boolean {
    if (this.oneBank) return pa >= this.lowest && pa + len <= this.highest;
    const banks = this.banks;
    let lo = 0;
    let hi = banks.length - 1;
    // The last bank starting at or below pa.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (banks[mid].start <= pa) lo = mid;
      else hi = mid - 1;
    }
    const b = banks[lo];
    return pa >= b.start && pa + len <= b.start + b.size;
  }

  // -------------------------------------------------------------------------
  // The hot path: page bases and word accesses.

  /** Word index of the first word of the page holding `pa`, to read it. */
  base(pa: number): number {
    const d = this.winEnd - pa;
    if (d > 0 && d <= this.winBytes) {
      const i = ((d - 1) * INV_PAGE_SIZE) | 0;
      if (i < this.winSlot.length) {
        const s = this.winSlot[i];
        if (s !== 0) return s << WORD_SHIFT;
      }
    }
    return this.baseSlow(pa, false);
  }

  /**
   * base() of the address hi:lo (its two 32-bit halves) just loaded from
   * RAM: a child pointer, so a dependent access to an observer. The window
   * check is int32 arithmetic only: the page index from the top is taken
   * modulo 2^32 pages, which is exact for every page of the window (at most
   * 2^24), and the address bits 44..51 rule out the aliases 16 TiB apart.
   */
  follow(lo: number, hi: number): number {
    const i = (this.winEndPfnLo - 1 - ((hi << 20) | (lo >>> 12))) | 0;
    if (i >>> 0 < this.winSlot.length && hi >>> 12 === this.winHi44) {
      const s = this.winSlot[i];
      if (s !== 0) return s << WORD_SHIFT;
    }
    return this.baseSlow((lo >>> 0) + (hi >>> 0) * TWO32, false);
  }

  /** follow() of an address already held as a number (a pointer the next kernel has validated). */
  followAddress(pa: number): number {
    return this.base(pa);
  }

  /** Word index of the first word of the page holding `pa`, to write it (backing the page first if need be). */
  wbase(pa: number): number {
    const d = this.winEnd - pa;
    if (d > 0 && d <= this.winBytes) {
      const i = ((d - 1) * INV_PAGE_SIZE) | 0;
      if (i < this.winSlot.length) {
        const s = this.winSlot[i];
        if (s > ZERO_SLOT) return s << WORD_SHIFT;
      }
    }
    return this.baseSlow(pa, true);
  }

  /** The int32 word at word index i. */
  ld(i: number): number {
    return this.words[i];
  }

  st(i: number, v: number): void {
    this.words[i] = v;
  }

  /**
   * memmove of n words from word index src to dst (the ranges may overlap),
   * each range within one page: a block's entries moving up or down to make
   * or close a gap, or copied to another block.
   */
  copyWords(dst: number, src: number, n: number): void {
    this.words.copyWithin(dst, src, src + n);
  }

  /** The u64 at word index i (even), as a number: exact below 2^53, at least 2^53 above. */
  ld64(i: number): number {
    const w = this.words;
    return (w[i] >>> 0) + (w[i + 1] >>> 0) * TWO32;
  }

  /** Stores a non-negative integer below 2^53 as a little-endian u64 at word index i (even). */
  st64(i: number, v: number): void {
    const w = this.words;
    w[i] = v | 0;
    w[i + 1] = (v * INV_TWO32) | 0;
  }

  /**
   * The kernel's set_bit (a lock-prefixed read-modify-write), done as a
   * plain one: the simulation has one thread, so the result is the same, and
   * V8's Atomics.or is a builtin call costing 22 to 27 ns on the 2-core Xeon
   * VM against 2.7 for `|=` (a native lock-prefixed OR: 11 ns against 2 in a
   * dependent loop), which would time V8, not the design. The lock's cost
   * is the machine model's (`atomicCycles`): traced-mem.ts records every
   * call here as an atomic.
   */
  atomicOr(i: number, mask: number): void {
    this.words[i] |= mask;
  }

  /** clear_bit, as atomicOr. */
  atomicAnd(i: number, mask: number): void {
    this.words[i] &= mask;
  }

  /** A compare-and-exchange of the word at i (a mutex's fast path), as atomicOr; returns the old value. */
  atomicCas(i: number, expected: number, value: number): number {
    const w = this.words;
    const old = w[i];
    if (old === expected) w[i] = value;
    return old;
  }

  /**
   * `n` words of the kernel's static data (a tracker's mutex, say), zeroed:
   * kernel memory outside every tracker's heap, never handed over. Returns
   * the word index of the first.
   */
  allocStatic(n: number): number {
    if (this.staticWords + n > PAGE_WORDS32) throw new KhoError('ENOMEM', 'the kernel static data page is full');
    const i = (KERNEL_DATA_SLOT << WORD_SHIFT) + this.staticWords;
    this.staticWords += n;
    return i;
  }

  // -------------------------------------------------------------------------
  // Convenience accesses by address (tests, set-up, clients; not hot paths).

  load32(pa: number): number {
    return this.ld(this.base(pa) + ((pa & 4095) >>> 2)) >>> 0;
  }

  store32(pa: number, value: number): void {
    this.st(this.wbase(pa) + ((pa & 4095) >>> 2), value | 0);
  }

  /** A u64 as a number; exact below 2^53, approximate (but >= 2^53) above. */
  load64(pa: number): number {
    return this.ld64(this.base(pa) + ((pa & 4095) >>> 2));
  }

  /** Stores a non-negative integer below 2^53 as a little-endian u64. */
  store64(pa: number, value: number): void {
    this.st64(this.wbase(pa) + ((pa & 4095) >>> 2), value);
  }

  /**
   * A zeroed page (the kernel's zeroed page allocation): backed at once and
   * cleared, as the kernel's memset clears it.
   */
  zeroPage(pfn: number): void {
    const slot = this.slotOf(pfn);
    if (slot > ZERO_SLOT) this.words.fill(0, slot << WORD_SHIFT, (slot + 1) << WORD_SHIFT);
    else if (this.contains(pfn * PAGE_SIZE, PAGE_SIZE)) this.newSlot(pfn);
    else throwOutside(pfn * PAGE_SIZE);
  }

  /** Returns a page to reading as zero (or garbage) and frees its host slot: contiguous allocations that are backed lazily. */
  dropPage(pfn: number): void {
    const slot = this.slotOf(pfn);
    if (slot > ZERO_SLOT) {
      this.mapSlot(pfn, 0);
      this.slotPfn[slot] = -1;
      this.pushFree(slot);
    } else if (slot === ZERO_SLOT) {
      this.mapSlot(pfn, 0);
    }
  }

  /**
   * The base of pa's page if the page holds bytes or was carried as a zero
   * page, else -1; never gives a page a slot (the next kernel asking
   * whether the image carried a page).
   */
  mappedBase(pa: number): number {
    const slot = this.slotOf(Math.floor(pa / PAGE_SIZE));
    return slot === 0 ? -1 : slot << WORD_SHIFT;
  }

  /** Whether a base is the shared zero page (then `zeroRank` tells carried zero pages apart). */
  isZeroBase(base: number): boolean {
    return base >>> WORD_SHIFT === ZERO_SLOT;
  }

  /** The host slot behind a base (a dense index of the backed pages). */
  slotOfBase(base: number): number {
    return base >>> WORD_SHIFT;
  }

  /** Host slots in use or free (an upper bound of slotOfBase + 1). */
  get slots(): number {
    return this.slotCount;
  }

  /** Rank of a carried zero page among the image's zero pages (-1 if it is not one). */
  zeroRank(pfn: number): number {
    const z = this.carriedZero;
    let lo = 0;
    let hi = this.nrZero - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (z[mid] < pfn) lo = mid + 1;
      else if (z[mid] > pfn) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Carried zero pages. */
  get zeroPages(): number {
    return this.nrZero;
  }

  /** Whether the page frame holds bytes of its own. */
  isBacked(pfn: number): boolean {
    return this.slotOf(pfn) > ZERO_SLOT;
  }

  /** Whether the page frame was carried or written (holds bytes, or was carried as a zero page). */
  isMapped(pfn: number): boolean {
    return this.slotOf(pfn) !== 0;
  }

  /** Host bytes used for page contents. */
  get backedBytes(): number {
    return (this.slotCount - FIRST_SLOT - this.nrFree) * PAGE_SIZE;
  }

  /**
   * Makes room for `pages` more backed pages and touches the host memory,
   * so that backing them later costs no host page fault and no copy (the
   * kernel's memory is mapped already). Untimed set-up.
   */
  reserve(pages: number): void {
    const need = this.slotCount + pages;
    this.makeRoom(pages);
    const w = this.words;
    for (let i = this.slotCount << WORD_SHIFT; i < need << WORD_SHIFT; i += 1024) w[i] = 0;
  }

  /**
   * Makes room for `pages` more backed pages without touching host memory:
   * growing later would double and copy every page backed so far (the next
   * kernel's 64 MiB vmemmap window: 87 ms of copies per restore).
   */
  makeRoom(pages: number): void {
    const need = this.slotCount + pages;
    if (need > this.slotPfn.length) this.grow(need);
  }

  /** Copies one page frame's bytes into `out` at `offset` (zero or garbage if unbacked). */
  readPage(pfn: number, out: Uint8Array, offset: number): void {
    const base = this.base(pfn * PAGE_SIZE);
    new Int32Array(out.buffer, out.byteOffset + offset, PAGE_WORDS32).set(this.words.subarray(base, base + PAGE_WORDS32));
  }

  /** Every backed page frame, ascending. */
  backedPfns(): number[] {
    const out: number[] = [];
    for (let s = FIRST_SLOT; s < this.slotCount; s++) if (this.slotPfn[s] >= 0) out.push(this.slotPfn[s]);
    return out.sort((a, b) => a - b);
  }

  /** The page frame a word index lies in (for observers of word accesses). */
  pfnOfWord(i: number): number {
    return this.slotPfn[i >>> WORD_SHIFT];
  }

  /** Whether the zero page still reads as zero (a write through a read base would break it): for tests. */
  zeroPageIntact(): boolean {
    const base = ZERO_SLOT << WORD_SHIFT;
    for (let i = base; i < base + PAGE_WORDS32; i++) if (this.words[i] !== 0) return false;
    return true;
  }

  /** An image of the given page frames (ascending), as the hand-over carries it. */
  image(pfns: readonly number[]): RamImage {
    const withBytes: number[] = [];
    const zero: number[] = [];
    for (const pfn of pfns) {
      const slot = this.slotOf(pfn);
      if (slot > ZERO_SLOT && !this.slotIsZero(slot)) withBytes.push(pfn);
      else zero.push(pfn);
    }
    const data = new Uint8Array(withBytes.length * PAGE_SIZE);
    withBytes.forEach((pfn, i) => this.readPage(pfn, data, i * PAGE_SIZE));
    return { banks: this.banks, pfns: Float64Array.from(withBytes), data, zeroPfns: Float64Array.from(zero) };
  }

  // -------------------------------------------------------------------------
  // Slots and tables.

  private baseSlow(pa: number, write: boolean): number {
    const pfn = Math.floor(pa / PAGE_SIZE);
    const slot = this.slotOf(pfn);
    if (slot > ZERO_SLOT || (slot === ZERO_SLOT && !write)) return slot << WORD_SHIFT;
    if (slot === 0 && !write && !this.garbage) return ZERO_SLOT << WORD_SHIFT;
    if (!this.contains(pfn * PAGE_SIZE, PAGE_SIZE)) throwOutside(pa);
    // A page that gets bytes of its own: zero, or (the next kernel's uncarried pages) its garbage.
    const fresh = this.newSlot(pfn);
    if (slot === 0 && this.garbage) fillGarbage(this.words, fresh << WORD_SHIFT, pfn);
    return fresh << WORD_SHIFT;
  }

  /** A zeroed slot for `pfn`, mapped. */
  private newSlot(pfn: number): number {
    let slot: number;
    if (this.nrFree > 0) {
      slot = this.freeSlots[--this.nrFree];
      this.words.fill(0, slot << WORD_SHIFT, (slot + 1) << WORD_SHIFT);
    } else {
      if (this.slotCount >= this.slotPfn.length) this.grow(this.slotCount + 1);
      slot = this.slotCount++;
    }
    this.slotPfn[slot] = pfn;
    this.mapSlot(pfn, slot);
    return slot;
  }

  private grow(slots: number): void {
    let n = this.slotPfn.length;
    while (n < slots) n *= 2;
    if (n > MAX_SLOTS) {
      if (slots > MAX_SLOTS) throw new KhoError('ENOMEM', 'simulated RAM holds more than 8 GiB of written pages');
      n = MAX_SLOTS;
    }
    this.resize(n);
  }

  /** Room for exactly `n` slots. */
  private resize(n: number): void {
    const words = new Int32Array(n * PAGE_WORDS32);
    words.set(this.words);
    this.words = words;
    const pfns = new Float64Array(n).fill(-1);
    pfns.set(this.slotPfn);
    this.slotPfn = pfns;
  }

  private pushFree(slot: number): void {
    if (this.nrFree === this.freeSlots.length) {
      const grown = new Int32Array(this.freeSlots.length * 2);
      grown.set(this.freeSlots);
      this.freeSlots = grown;
    }
    this.freeSlots[this.nrFree++] = slot;
  }

  private slotIsZero(slot: number): boolean {
    const w = this.words;
    for (let i = slot << WORD_SHIFT, end = i + PAGE_WORDS32; i < end; i++) if (w[i] !== 0) return false;
    return true;
  }

  private winIndex(pfn: number): number {
    const d = this.winEnd - pfn * PAGE_SIZE;
    return d > 0 && d <= this.winBytes ? (d * INV_PAGE_SIZE - 1) | 0 : -1;
  }

  private slotOf(pfn: number): number {
    const i = this.winIndex(pfn);
    if (i >= 0) return i < this.winSlot.length ? this.winSlot[i] : 0;
    const mid = this.dirTop[Math.floor(pfn / TOP_DIVISOR)];
    if (mid === undefined) return 0;
    const leaf = mid[(pfn >>> LEAF_BITS) & (LEAF_SIZE - 1)];
    return leaf === undefined ? 0 : leaf[pfn & (LEAF_SIZE - 1)];
  }

  private mapSlot(pfn: number, slot: number): void {
    const i = this.winIndex(pfn);
    if (i >= 0) {
      if (i >= this.winSlot.length) {
        if (slot === 0) return;
        let n = this.winSlot.length * 2;
        while (n <= i) n *= 2;
        const grown = new Int32Array(Math.min(n, this.winBytes / PAGE_SIZE));
        grown.set(this.winSlot);
        this.winSlot = grown;
      }
      this.winSlot[i] = slot;
      return;
    }
    const t = Math.floor(pfn / TOP_DIVISOR);
    if (t >= DIR_TOP_SIZE) throwOutside(pfn * PAGE_SIZE);
    const mid = (this.dirTop[t] ??= new Array(LEAF_SIZE).fill(undefined));
    const leaf = (mid[(pfn >>> LEAF_BITS) & (LEAF_SIZE - 1)] ??= new Int32Array(LEAF_SIZE));
    leaf[pfn & (LEAF_SIZE - 1)] = slot;
  }
}

function plainMem(banks: readonly Bank[], unbacked: UnbackedPolicy): PhysMem {
  return new PhysMem(banks, unbacked);
}

function throwOutside(pa: number): never {
  throw new KhoError('EINVAL', `store to ${hex(pa)} outside RAM`);
}

function fillGarbage(words: Int32Array, base: number, pfn: number): void {
  for (let i = 0; i < PAGE_WORDS32; i++) words[base + i] = garbageWord(pfn * PAGE_SIZE + i * 4);
}

/** Deterministic, address-dependent junk that is never mistaken for a zeroed page. */
export function garbageWord(pa: number): number {
  let x = (Math.floor(pa / 4294967296) * 0x9e3779b1) ^ (pa >>> 0) ^ 0xdeadbeef;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

function validateBanks(banks: readonly Bank[]): Bank[] {
  if (banks.length === 0) throw new KhoError('EINVAL', 'a machine needs at least one RAM bank');
  if (banks.length > MAX_BANKS) throw new KhoError('EINVAL', `a machine has at most ${MAX_BANKS} RAM banks, not ${banks.length}`);
  const sorted = [...banks].sort((a, b) => a.start - b.start);
  let total = 0;
  let prevEnd = 0;
  for (const b of sorted) {
    if (!Number.isSafeInteger(b.start) || !Number.isSafeInteger(b.size) || b.size <= 0) {
      throw new KhoError('EINVAL', `bad RAM bank ${hex(b.start)}+${hex(b.size)}`);
    }
    if (b.start % PAGE_SIZE !== 0 || b.size % PAGE_SIZE !== 0) {
      throw new KhoError('EINVAL', `RAM bank ${hex(b.start)}+${hex(b.size)} is not page aligned`);
    }
    if (b.start < prevEnd) throw new KhoError('EINVAL', `RAM bank at ${hex(b.start)} overlaps another`);
    if (b.start + b.size > PHYS_LIMIT) throw new KhoError('EINVAL', `RAM bank at ${hex(b.start)} ends above 2^52`);
    prevEnd = b.start + b.size;
    total += b.size;
  }
  if (total > MAX_RAM) throw new KhoError('EINVAL', `RAM of ${hex(total)} bytes exceeds 16 TiB`);
  return sorted;
}
