/**
 * Simulated physical memory.
 *
 * A machine is a list of RAM banks in a 52-bit physical address space
 * (total at most 16 TiB), made of 4 KiB page frames. Only frames that are
 * written hold bytes on the host: a 16 TiB machine costs host memory only
 * for what the trackers and the workload actually store.
 *
 * Backing store: written frames live in slots of large Uint32Array chunks
 * (SLOTS_PER_CHUNK frames each). A three-level directory maps a page frame
 * number (up to 40 bits) to its slot:
 *
 *   pfn bits 39:26  -> dirTop index   (JS array, 16384 entries)
 *   pfn bits 25:13  -> dirMid index   (JS array, 8192 entries)
 *   pfn bits 12:0   -> leaf index     (Int32Array(8192): slot + 1 when backed,
 *                                      0 unbacked, -1 a page known to be zero)
 *
 * so one word access costs three array loads and no Map or BigInt. Words
 * are little-endian; a u64 is handled as two u32 halves and surfaces as a
 * JS number, which is exact for every value below 2^53 (all physical
 * addresses). Bitmaps are therefore manipulated through their u32 halves,
 * which gives the same bytes as the kernel's 64-bit bitops on a
 * little-endian machine.
 *
 * An unbacked frame reads as zero in the running kernel (it was allocated
 * zeroed, or never written), and as deterministic garbage in the next
 * kernel: memory that the hand-over did not carry has been reused by then.
 *
 * Accesses must be naturally aligned; the hot path does not check. Stores
 * outside RAM throw (a tracker bug); loads outside RAM are the caller's
 * responsibility to prevent (see `contains`).
 */
import { KhoError, hex } from '../tracker/errors.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_WORDS32 = PAGE_SIZE / 4;
/** Physical addresses are below 2^52. */
export const PHYS_LIMIT = 2 ** 52;
/** The largest machine this suite simulates: 16 TiB. */
export const MAX_RAM = 2 ** 44;

const SLOTS_PER_CHUNK = 256;
const LEAF_BITS = 13;
const LEAF_SIZE = 1 << LEAF_BITS;
const TOP_DIVISOR = 2 ** (2 * LEAF_BITS);
const ZERO_PAGE = -1;
const DIR_TOP_SIZE = 2 ** 40 / TOP_DIVISOR;
const EMPTY_CHUNK = new Uint32Array(0);

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
  private readonly dirTop: (Int32Array | undefined)[][] = new Array(DIR_TOP_SIZE).fill(undefined);
  /** The last page frame looked up and where its words live (-1 base: not backed), a one-entry TLB. */
  private lastPfn = -1;
  private lastChunk: Uint32Array = EMPTY_CHUNK;
  private lastBase = -1;
  private readonly chunks: Uint32Array[] = [];
  private readonly freeSlots: number[] = [];
  private slotCount = 0;
  private readonly garbage: boolean;

  constructor(banks: readonly Bank[], unbacked: UnbackedPolicy = 'zero') {
    this.banks = validateBanks(banks);
    this.size = this.banks.reduce((s, b) => s + b.size, 0);
    this.garbage = unbacked === 'garbage';
  }

  /** A machine of one bank starting at physical address 0. */
  static ofSize(size: number): PhysMem {
    return new PhysMem([{ start: 0, size }]);
  }

  /** The next kernel's view: only the image's pages hold bytes, the rest is garbage. */
  static fromImage(image: RamImage): PhysMem {
    const mem = new PhysMem(image.banks, 'garbage');
    for (const pfn of image.zeroPfns) mem.leafFor(pfn)[pfn & (LEAF_SIZE - 1)] = ZERO_PAGE;
    const words = new Uint32Array(image.data.buffer, image.data.byteOffset, image.data.byteLength >>> 2);
    for (let i = 0; i < image.pfns.length; i++) {
      const slot = mem.backSlot(image.pfns[i], false);
      mem.chunks[Math.floor(slot / SLOTS_PER_CHUNK)].set(
        words.subarray(i * PAGE_WORDS32, (i + 1) * PAGE_WORDS32),
        (slot % SLOTS_PER_CHUNK) * PAGE_WORDS32,
      );
    }
    return mem;
  }

  /** The highest physical address + 1. */
  get end(): number {
    const last = this.banks[this.banks.length - 1];
    return last.start + last.size;
  }

  /** Whether [pa, pa + len) lies inside one RAM bank. */
  contains(pa: number, len = 1): boolean {
    for (const b of this.banks) {
      if (pa >= b.start && pa + len <= b.start + b.size) return true;
    }
    return false;
  }

  load32(pa: number): number {
    const pfn = Math.floor(pa / PAGE_SIZE);
    if (pfn !== this.lastPfn) this.lookup(pfn);
    if (this.lastBase >= 0) return this.lastChunk[this.lastBase + ((pa & 4095) >>> 2)];
    return this.lastBase === ZERO_PAGE - 1 || !this.garbage ? 0 : garbageWord(pa);
  }

  store32(pa: number, value: number): void {
    const pfn = Math.floor(pa / PAGE_SIZE);
    if (pfn !== this.lastPfn) this.lookup(pfn);
    if (this.lastBase < 0) {
      if (value === 0 && (!this.garbage || this.lastBase === ZERO_PAGE - 1)) return;
      this.backSlot(pfn);
      this.lookup(pfn);
    }
    this.lastChunk[this.lastBase + ((pa & 4095) >>> 2)] = value;
  }

  /** Fills the one-entry TLB for `pfn`. */
  private lookup(pfn: number): void {
    const slot = this.slotOf(pfn);
    this.lastPfn = pfn;
    if (slot < 0) {
      this.lastChunk = EMPTY_CHUNK;
      this.lastBase = slot;
    } else {
      this.lastChunk = this.chunks[(slot / SLOTS_PER_CHUNK) | 0];
      this.lastBase = (slot % SLOTS_PER_CHUNK) * PAGE_WORDS32;
    }
  }

  /** A u64 as a number; exact below 2^53, approximate (but >= 2^53) above. */
  load64(pa: number): number {
    return this.load32(pa) + this.load32(pa + 4) * 4294967296;
  }

  /** Stores a non-negative integer below 2^53 as a little-endian u64. */
  store64(pa: number, value: number): void {
    this.store32(pa, value >>> 0);
    this.store32(pa + 4, Math.floor(value / 4294967296));
  }

  /** Zeroes one page frame (the kernel's zeroed page allocation). */
  zeroPage(pfn: number): void {
    const slot = this.slotOf(pfn);
    if (slot >= 0) this.releaseSlot(pfn, slot);
  }

  /** Whether the page frame holds bytes (was written since it was last zeroed). */
  isBacked(pfn: number): boolean {
    return this.slotOf(pfn) >= 0;
  }

  /** Host bytes used for page contents. */
  get backedBytes(): number {
    return (this.slotCount - this.freeSlots.length) * PAGE_SIZE;
  }

  /** Copies one page frame's bytes into `out` at `offset` (zero or garbage if unbacked). */
  readPage(pfn: number, out: Uint8Array, offset: number): void {
    const slot = this.slotOf(pfn);
    const dst = new Uint32Array(out.buffer, out.byteOffset + offset, PAGE_WORDS32);
    if (slot >= 0) {
      const base = (slot % SLOTS_PER_CHUNK) * PAGE_WORDS32;
      dst.set(this.chunks[(slot / SLOTS_PER_CHUNK) | 0].subarray(base, base + PAGE_WORDS32));
    } else if (this.garbage && slot !== ZERO_PAGE - 1) {
      for (let i = 0; i < PAGE_WORDS32; i++) dst[i] = garbageWord(pfn * PAGE_SIZE + i * 4);
    } else {
      dst.fill(0);
    }
  }

  /** Every backed page frame, ascending. */
  backedPfns(): number[] {
    const out: number[] = [];
    this.dirTop.forEach((mid, t) => {
      mid?.forEach((leaf, m) => {
        if (!leaf) return;
        for (let i = 0; i < LEAF_SIZE; i++) if (leaf[i] > 0) out.push(t * TOP_DIVISOR + m * LEAF_SIZE + i);
      });
    });
    return out;
  }

  /** An image of the given page frames (ascending), as the hand-over carries it. */
  image(pfns: readonly number[]): RamImage {
    const backed = pfns.filter((pfn) => this.slotOf(pfn) >= 0);
    const zero = pfns.filter((pfn) => this.slotOf(pfn) < 0);
    const data = new Uint8Array(backed.length * PAGE_SIZE);
    backed.forEach((pfn, i) => this.readPage(pfn, data, i * PAGE_SIZE));
    return { banks: this.banks, pfns: Float64Array.from(backed), data, zeroPfns: Float64Array.from(zero) };
  }

  private slotOf(pfn: number): number {
    const mid = this.dirTop[Math.floor(pfn / TOP_DIVISOR)];
    if (mid === undefined) return -1;
    const leaf = mid[(pfn >>> LEAF_BITS) & (LEAF_SIZE - 1)];
    if (leaf === undefined) return -1;
    return leaf[pfn & (LEAF_SIZE - 1)] - 1;
  }

  private leafFor(pfn: number): Int32Array {
    if (!this.contains(pfn * PAGE_SIZE, PAGE_SIZE)) {
      throw new KhoError('EINVAL', `store to ${hex(pfn * PAGE_SIZE)} outside RAM`);
    }
    const mid = (this.dirTop[Math.floor(pfn / TOP_DIVISOR)] ??= new Array(LEAF_SIZE).fill(undefined));
    return (mid[(pfn >>> LEAF_BITS) & (LEAF_SIZE - 1)] ??= new Int32Array(LEAF_SIZE));
  }

  /** Gives the page frame a slot holding what it read as before (`fill`), or anything. */
  private backSlot(pfn: number, fill = true): number {
    const leaf = this.leafFor(pfn);
    const wasZero = leaf[pfn & (LEAF_SIZE - 1)] === ZERO_PAGE;
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotCount++;
      if (slot % SLOTS_PER_CHUNK === 0) this.chunks.push(new Uint32Array(SLOTS_PER_CHUNK * PAGE_WORDS32));
    }
    const chunk = this.chunks[Math.floor(slot / SLOTS_PER_CHUNK)];
    const base = (slot % SLOTS_PER_CHUNK) * PAGE_WORDS32;
    if (!fill) {
      // The caller overwrites the whole page.
    } else if (this.garbage && !wasZero) {
      for (let i = 0; i < PAGE_WORDS32; i++) chunk[base + i] = garbageWord(pfn * PAGE_SIZE + i * 4);
    } else {
      chunk.fill(0, base, base + PAGE_WORDS32);
    }
    leaf[pfn & (LEAF_SIZE - 1)] = slot + 1;
    this.lastPfn = -1;
    return slot;
  }

  private releaseSlot(pfn: number, slot: number): void {
    this.lastPfn = -1;
    this.dirTop[Math.floor(pfn / TOP_DIVISOR)][(pfn >>> LEAF_BITS) & (LEAF_SIZE - 1)]![pfn & (LEAF_SIZE - 1)] = 0;
    this.freeSlots.push(slot);
  }
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
