/**
 * The next kernel's defensive reading of a hand-over image, shared by every
 * restore. Every metadata object is entered through `enter`, every folio
 * leaves through `reportBits`, `reportWord` or `folio`; the rules they
 * enforce hold for every format in this suite:
 *
 *   - a pointer is followed only to an aligned object inside one carried
 *     page of RAM (address 0, an unaligned address, memory outside RAM and
 *     a page the image does not carry are ECORRUPT);
 *   - each metadata object is entered at most once: no format here shares
 *     metadata, so a second entry into any 64-byte line of a table, node,
 *     chunk or bitmap is ECORRUPT, naming both referrers. That bounds every
 *     walk by the image (at most 64 objects per carried page), whatever the
 *     RAM size; a step budget derived from the image is a second line;
 *   - the folios of one order may not add up to more than RAM (folios of
 *     different orders may overlap: a client can preserve a page twice).
 *
 * Folios are validated once per bitmap, not once per bit: a bitmap whose
 * whole span is aligned RAM of one bank reports its bits unchecked; only a
 * bitmap that straddles a bank edge is checked bit by bit.
 *
 * Per host slot the walk keeps a 64-bit mask of the lines entered and the
 * first referrer of the page; carried zero pages (which share one slot)
 * have masks of their own by rank. That is 16 bytes per carried page.
 */
import type { AluKind } from '../model/cpu.ts';
import type { PhysMem } from '../ram/phys-mem.ts';
import { PAGE_SIZE } from '../ram/phys-mem.ts';
import { type MemTracer, TracedPhysMem } from '../ram/traced-mem.ts';
import { KhoError, hex } from '../tracker/errors.ts';
import { FOLIO_BYTES, type FolioSink, MAX_ORDER, type RestoreStats } from '../tracker/tracker.ts';

/** What an object was entered from: an address in the image, or the FDT. */
export const FROM_FDT = -1;

/**
 * The instructions the kernel's walk spends on each folio it finds, beyond
 * the loads of the metadata: for_each_set_bit's search and clear of the
 * bit, the address computed from the bit, the loop's branch, and the call
 * of the per-folio function. Charged to an observed memory's machine model
 * once per folio; a plain memory (the timed runs) pays nothing for it.
 */
export const FOLIO_INSTRUCTIONS: readonly (readonly [AluKind, number])[] = [
  ['bitop', 1],
  ['alu', 3],
  ['branch', 1],
  ['call', 1],
];

export class RestoreWalk {
  objectsRead = 0;
  bytesRead = 0;
  folios = 0;
  /** Bytes of the folios reported so far, per order. */
  readonly folioBytes = new Float64Array(MAX_ORDER + 1);
  private readonly maxObjects: number;
  private lines: Int32Array;
  private referrers: Float64Array;
  private readonly zeroLines: Int32Array;
  private readonly zeroReferrers: Float64Array;
  /** The model a folio's instructions are charged to (an observed memory's tracer that takes ALU work), else null. */
  private readonly charged: MemTracer | null;

  constructor(
    readonly mem: PhysMem,
    readonly sink: FolioSink,
    maxObjects?: number,
  ) {
    const carried = mem.slots + mem.zeroPages;
    this.maxObjects = maxObjects ?? 64 * carried + 64;
    this.lines = new Int32Array(2 * mem.slots);
    this.referrers = new Float64Array(mem.slots);
    this.zeroLines = new Int32Array(2 * mem.zeroPages);
    this.zeroReferrers = new Float64Array(mem.zeroPages);
    this.charged = mem instanceof TracedPhysMem && typeof mem.tracer.alu === 'function' ? mem.tracer : null;
  }

  private chargeFolios(n: number): void {
    for (const [kind, count] of FOLIO_INSTRUCTIONS) this.charged!.alu!(kind, count * n);
  }

  /**
   * Checks a pointer `pa`, read at `from` (an image address, or FROM_FDT),
   * to a metadata object of `size` bytes within one page, marks it entered,
   * counts the read, and returns the word index of `pa` (see PhysMem.base).
   */
  enter(pa: number, size: number, what: string, from: number): number {
    if (!(pa > 0) || !Number.isSafeInteger(pa) || pa % 8 !== 0 || (pa % PAGE_SIZE) + size > PAGE_SIZE) {
      badPointer(what, pa, from);
    }
    if (!this.mem.contains(pa, size)) badPointer(what, pa, from);
    const base = this.mem.mappedBase(pa);
    if (base < 0) notCarried(what, pa, from);
    if (++this.objectsRead > this.maxObjects) overBudget(this.maxObjects);
    this.markEntered(base, pa, size, what, from);
    this.bytesRead += size;
    // A walk reading through the base is an access that depends on the pointer just checked.
    return this.mem.followAddress(pa) + ((pa % PAGE_SIZE) >>> 2);
  }

  private markEntered(base: number, pa: number, size: number, what: string, from: number): void {
    const offset = pa % PAGE_SIZE;
    const first = offset >>> 6;
    const last = (offset + size - 1) >>> 6;
    const lo = maskOf(first, last, 0);
    const hi = maskOf(first, last, 32);
    let lines = this.lines;
    let referrers = this.referrers;
    let k: number;
    if (this.mem.isZeroBase(base)) {
      k = this.mem.zeroRank(Math.floor(pa / PAGE_SIZE));
      lines = this.zeroLines;
      referrers = this.zeroReferrers;
    } else {
      k = this.mem.slotOfBase(base);
      if (k >= this.referrers.length) this.growMasks(k + 1);
      lines = this.lines;
      referrers = this.referrers;
    }
    if ((lines[2 * k] & lo) !== 0 || (lines[2 * k + 1] & hi) !== 0) enteredTwice(what, pa, referrers[k], from);
    if ((lines[2 * k] | lines[2 * k + 1]) === 0) referrers[k] = from;
    lines[2 * k] |= lo;
    lines[2 * k + 1] |= hi;
  }

  private growMasks(slots: number): void {
    const lines = new Int32Array(2 * slots);
    lines.set(this.lines);
    this.lines = lines;
    const referrers = new Float64Array(slots);
    referrers.set(this.referrers);
    this.referrers = referrers;
  }

  /** Validates and reports one restored folio. */
  folio(phys: number, order: number): void {
    if (!(order >= 0 && order <= MAX_ORDER)) badFolio(phys, order);
    const size = FOLIO_BYTES[order];
    if (!(phys >= 0) || phys % size !== 0 || !this.mem.contains(phys, size)) badFolio(phys, order);
    if ((this.folioBytes[order] += size) > this.mem.size) overRam(order, this.mem.size);
    this.folios++;
    if (this.charged !== null) this.chargeFolios(1);
    this.sink.add(phys, order);
  }

  /**
   * Reports every set bit b of the `nWords` int32 words at word index
   * `base` as the folio of `order` at firstPhys + b * folio size. The span
   * is checked once; only a span that is not aligned RAM of one bank is
   * checked bit by bit.
   */
  reportBits(base: number, nWords: number, firstPhys: number, order: number): void {
    if (!(order >= 0 && order <= MAX_ORDER)) badFolio(firstPhys, order);
    const folio = FOLIO_BYTES[order];
    const span = nWords * 32 * folio;
    const spanOk = firstPhys >= 0 && firstPhys % folio === 0 && this.mem.contains(firstPhys, span);
    const n = reportSetBits(this, spanOk, base, nWords, firstPhys, folio, order);
    this.folios += n;
    if (this.charged !== null && n > 0) this.chargeFolios(n);
    if ((this.folioBytes[order] += n * folio) > this.mem.size) overRam(order, this.mem.size);
  }

  /** Reports each set bit b of the int32 `x` as the folio of `order` at firstPhys + b * folio size (checked). */
  reportWord(x: number, firstPhys: number, order: number): void {
    if (!(order >= 0 && order <= MAX_ORDER)) badFolio(firstPhys, order);
    const folio = FOLIO_BYTES[order];
    while (x !== 0) {
      const low = x & -x;
      x ^= low;
      this.folio(firstPhys + (31 - Math.clz32(low)) * folio, order);
    }
  }

  stats(): RestoreStats {
    return { folios: this.folios, metadataObjectsRead: this.objectsRead, metadataBytesRead: this.bytesRead };
  }
}

/**
 * reportBits' loop over the words, in a function of its own that ends with
 * the loop. A leaf of a dense tree is one call of up to 32768 folios, so V8
 * compiles the loop on stack (OSR) during the first call, before the code
 * after the loop has ever run; when that code shared the function, every
 * later call entered the OSR code and deoptimized on it (44 times a radix
 * dense-4k process). Unchecked (`spanOk`): counted and handed to the sink,
 * else each checked by walk.folio. Returns the unchecked folios reported.
 */
function reportSetBits(walk: RestoreWalk, spanOk: boolean, base: number, nWords: number, firstPhys: number, folio: number, order: number): number {
  const mem = walk.mem;
  const sink = walk.sink;
  let n = 0;
  for (let w = 0; w < nWords; w++) {
    let x = mem.ld(base + w);
    if (x === 0) continue;
    const wordPhys = firstPhys + w * 32 * folio;
    do {
      const low = x & -x;
      x ^= low;
      const phys = wordPhys + (31 - Math.clz32(low)) * folio;
      if (spanOk) {
        n++;
        sink.add(phys, order);
      } else {
        walk.folio(phys, order);
      }
    } while (x !== 0);
  }
  return n;
}

/** Bits first..last of a 64-bit line mask that fall in the 32-bit half starting at bit `half`. */
function maskOf(first: number, last: number, half: number): number {
  const a = Math.max(first, half);
  const b = Math.min(last, half + 31);
  if (a > b) return 0;
  const width = b - a + 1;
  return width === 32 ? -1 : ((1 << width) - 1) << (a - half);
}

// Cold helpers: error messages are built only here.

function where(from: number): string {
  return from === FROM_FDT ? 'the FDT' : hex(from);
}

function badPointer(what: string, pa: number, from: number): never {
  throw new KhoError('ECORRUPT', `${what} pointer ${hex(pa)} (read at ${where(from)}) is not an aligned address in RAM`);
}

function notCarried(what: string, pa: number, from: number): never {
  throw new KhoError('ECORRUPT', `${what} at ${hex(pa)} (read at ${where(from)}) is on a page the image does not carry`);
}

function enteredTwice(what: string, pa: number, first: number, from: number): never {
  throw new KhoError(
    'ECORRUPT',
    `${what} at ${hex(pa)} is entered twice (from ${where(first)} and from ${where(from)}): metadata is never shared`,
  );
}

function overBudget(max: number): never {
  throw new KhoError('ECORRUPT', `walk visited more than ${max} metadata objects`);
}

function badFolio(phys: number, order: number): never {
  throw new KhoError('ECORRUPT', `restored folio ${hex(phys)} order ${order} is not aligned RAM`);
}

function overRam(order: number, size: number): never {
  throw new KhoError('ECORRUPT', `the restored folios of order ${order} add up to more than the ${hex(size)} bytes of RAM`);
}
