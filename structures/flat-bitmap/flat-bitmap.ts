/**
 * Flat bitmap: the lower bound every other tracker is measured against.
 *
 * One bit per naturally aligned folio of each order 0..18, for every RAM
 * bank, allocated once, contiguously, when the tracker is created, and kept
 * in place: the hand-over is one pointer and nothing is serialized.
 *
 * Layout in RAM (all little-endian):
 *
 *   descriptor page (pointed to by the FDT property "preserved-bitmaps")
 *     0x00  u64 nr_banks                          (1..24)
 *     0x08  bank[i], 168 bytes each:
 *           u64 start, u64 size                   (the bank's physical range)
 *           u64 bitmap[19]                        (per order: physical address
 *                                                  of its contiguous bitmap)
 *
 *   bitmap for (bank, order o), with S = 4096 << o:
 *     bit k  <->  folio at ((start / S rounded down) + k) * S
 *     k counts folios from the bank's first S-aligned block, so the bitmap
 *     has ceil((start + size) / S) - floor(start / S) bits, in whole pages.
 *
 * FDT root: compatible = "kho-flat-bitmap-v1", preserved-bitmaps = u64.
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { FROM_FDT, type RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE, PAGE_WORDS32, type PhysMem } from '../../src/ram/phys-mem.ts';
import { KhoError } from '../../src/tracker/errors.ts';
import { FOLIO_BYTES, INV_FOLIO_BYTES, MAX_ORDER, TrackerBase, statelessLifecycle } from '../../src/tracker/tracker.ts';
import type { KhoAbi } from '../../src/tracker/kho-abi.ts';

export const FLAT_COMPATIBLE = 'kho-flat-bitmap-v1';
/** Not a kernel ABI: its own compatible, with mainline's client subnodes (preserved-data, blob-size). */
export const FLAT_ABI: KhoAbi = { compatible: FLAT_COMPATIBLE, subtree: 'preserved-data+blob-size' };
/** Mainline's lifecycle for an in-place tracker: unpreserve, no finalize state, no abort. */
export const FLAT_LIFECYCLE = statelessLifecycle('mainline lifecycle (not a kernel tracker)', 'flat-bitmap');
const NR_ORDERS = MAX_ORDER + 1;
const BANK_BYTES = 16 + 8 * NR_ORDERS;
const MAX_BANKS = Math.floor((PAGE_SIZE - 8) / BANK_BYTES);
const PAGE_BITS = PAGE_SIZE * 8;

/** Folio-index range [first, first + bits) of one bank at one order. */
function bitmapSpan(start: number, size: number, order: number): { first: number; bits: number } {
  const folio = PAGE_SIZE * 2 ** order;
  const first = Math.floor(start / folio);
  return { first, bits: Math.ceil((start + size) / folio) - first };
}

export class FlatBitmapTracker extends TrackerBase {
  readonly id = 'flat-bitmap' as const;
  readonly serializes = false;
  private readonly descriptor: number;
  /** Per (bank, order): bitmap address, and the folio index of its bit 0. */
  private readonly bitmapBase: Float64Array;
  private readonly bitmapFirst: Float64Array;
  /** End address of each bank, ascending. */
  private readonly bankEnds: Float64Array;

  constructor(machine: Machine) {
    super(machine, FLAT_LIFECYCLE, FLAT_ABI);
    const banks = this.mem.banks;
    if (banks.length > MAX_BANKS) throw new KhoError('EINVAL', `flat bitmap supports at most ${MAX_BANKS} banks`);
    this.bitmapBase = new Float64Array(banks.length * NR_ORDERS);
    this.bitmapFirst = new Float64Array(banks.length * NR_ORDERS);
    this.bankEnds = Float64Array.from(banks, (b) => b.start + b.size);
    this.descriptor = this.heap.allocPage();
    this.mem.store64(this.descriptor, banks.length);
    banks.forEach((bank, b) => {
      const entry = this.descriptor + 8 + b * BANK_BYTES;
      this.mem.store64(entry, bank.start);
      this.mem.store64(entry + 8, bank.size);
      for (let o = 0; o < NR_ORDERS; o++) {
        const { first, bits } = bitmapSpan(bank.start, bank.size, o);
        const base = this.heap.allocPages(Math.ceil(bits / (PAGE_SIZE * 8)));
        this.bitmapBase[b * NR_ORDERS + o] = base;
        this.bitmapFirst[b * NR_ORDERS + o] = first;
        this.mem.store64(entry + 16 + o * 8, base);
      }
    });
    this.khoInit();
  }

  protected insert(phys: number, order: number): void {
    const slot = this.slot(phys, order);
    const k = phys * INV_FOLIO_BYTES[order] - this.bitmapFirst[slot];
    const pa = this.bitmapBase[slot] + (k >>> 5) * 4;
    const mem = this.mem;
    mem.atomicOr(mem.wbase(pa) + ((pa & 4095) >>> 2), 1 << (k & 31));
  }

  protected remove(phys: number, order: number): void {
    const slot = this.slot(phys, order);
    const k = phys * INV_FOLIO_BYTES[order] - this.bitmapFirst[slot];
    const pa = this.bitmapBase[slot] + (k >>> 5) * 4;
    const mem = this.mem;
    mem.atomicAnd(mem.wbase(pa) + ((pa & 4095) >>> 2), ~(1 << (k & 31)));
  }

  protected handover(): Record<string, FdtValue> {
    return { 'preserved-bitmaps': u64Prop(this.descriptor) };
  }

  /** Index of the (bank, order) bitmap of a folio inside RAM. */
  private slot(phys: number, order: number): number {
    const ends = this.bankEnds;
    let b = 0;
    while (phys >= ends[b]) b++;
    return b * NR_ORDERS + order;
  }
}

export function restoreFlatBitmap(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, FLAT_COMPATIBLE);
  const mem = walk.mem;
  const descriptorPa = getU64(fdt, 'preserved-bitmaps');
  const descriptor = walk.enter(descriptorPa, PAGE_SIZE, 'descriptor', FROM_FDT);
  const nrBanks = mem.ld64(descriptor);
  if (nrBanks < 1 || nrBanks > MAX_BANKS) throw new KhoError('ECORRUPT', `descriptor claims ${nrBanks} banks`);
  let prevEnd = 0;
  for (let b = 0; b < nrBanks; b++) {
    const entry = descriptor + (8 + b * BANK_BYTES) / 4;
    const start = mem.ld64(entry);
    const size = mem.ld64(entry + 2);
    if (size === 0 || !mem.contains(start, size)) throw new KhoError('ECORRUPT', `descriptor bank ${b} is not RAM`);
    // Banks that overlapped would report their common folios twice.
    if (start < prevEnd) throw new KhoError('ECORRUPT', `descriptor bank ${b} overlaps the bank before it`);
    prevEnd = start + size;
    for (let o = 0; o < NR_ORDERS; o++) {
      const { first, bits } = bitmapSpan(start, size, o);
      const basePa = mem.ld64(entry + 4 + 2 * o);
      const from = descriptorPa + 8 + b * BANK_BYTES + 16 + 8 * o;
      const folio = FOLIO_BYTES[o];
      for (let page = 0; page * PAGE_BITS < bits; page++) {
        const words = Math.min(PAGE_WORDS32, Math.ceil((bits - page * PAGE_BITS) / 32));
        const base = walk.enter(basePa + page * PAGE_SIZE, PAGE_SIZE, `order ${o} bitmap`, from);
        if (words < PAGE_WORDS32 || (bits - page * PAGE_BITS) % 32 !== 0) checkTail(mem, base, bits - page * PAGE_BITS, b, o);
        walk.reportBits(base, words, (first + page * PAGE_BITS) * folio, o);
      }
    }
  }
}

/** A bitmap's last page: bits past the bank's last folio must be clear (they would name folios of no bank). */
function checkTail(mem: PhysMem, base: number, bits: number, bank: number, order: number): void {
  const lastWord = bits >>> 5;
  const used = bits & 31;
  if (used !== 0 && (mem.ld(base + lastWord) & ~((1 << used) - 1)) !== 0) badTail(bank, order);
  for (let w = lastWord + (used !== 0 ? 1 : 0); w < PAGE_WORDS32; w++) if (mem.ld(base + w) !== 0) badTail(bank, order);
}

function badTail(bank: number, order: number): never {
  throw new KhoError('ECORRUPT', `order ${order} bitmap of bank ${bank} has bits past the end of the bank`);
}
