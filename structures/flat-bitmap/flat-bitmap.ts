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
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE } from '../../src/ram/phys-mem.ts';
import { KhoError } from '../../src/tracker/errors.ts';
import { MAX_ORDER, TrackerBase } from '../../src/tracker/tracker.ts';

export const FLAT_COMPATIBLE = 'kho-flat-bitmap-v1';
const NR_ORDERS = MAX_ORDER + 1;
const BANK_BYTES = 16 + 8 * NR_ORDERS;
const MAX_BANKS = Math.floor((PAGE_SIZE - 8) / BANK_BYTES);

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

  constructor(machine: Machine) {
    super(machine);
    const banks = this.mem.banks;
    if (banks.length > MAX_BANKS) throw new KhoError('EINVAL', `flat bitmap supports at most ${MAX_BANKS} banks`);
    this.bitmapBase = new Float64Array(banks.length * NR_ORDERS);
    this.bitmapFirst = new Float64Array(banks.length * NR_ORDERS);
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
  }

  protected insert(phys: number, order: number): void {
    const k = this.bitIndex(phys, order);
    const word = this.bitmapBase[this.slot(phys, order)] + Math.floor(k / 32) * 4;
    this.mem.store32(word, this.mem.load32(word) | (1 << k % 32));
  }

  protected remove(phys: number, order: number): void {
    const k = this.bitIndex(phys, order);
    const word = this.bitmapBase[this.slot(phys, order)] + Math.floor(k / 32) * 4;
    this.mem.store32(word, this.mem.load32(word) & ~(1 << k % 32));
  }

  protected handover(): Record<string, FdtValue> {
    return { compatible: FLAT_COMPATIBLE, 'preserved-bitmaps': u64Prop(this.descriptor) };
  }

  private slot(phys: number, order: number): number {
    const banks = this.mem.banks;
    let b = 0;
    while (phys >= banks[b].start + banks[b].size) b++;
    return b * NR_ORDERS + order;
  }

  /** The folio's bit number within its (bank, order) bitmap. */
  private bitIndex(phys: number, order: number): number {
    return phys / (PAGE_SIZE * 2 ** order) - this.bitmapFirst[this.slot(phys, order)];
  }
}

export function restoreFlatBitmap(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, FLAT_COMPATIBLE);
  const mem = walk.mem;
  const descriptor = walk.enter(getU64(fdt, 'preserved-bitmaps'), PAGE_SIZE, 'descriptor');
  const nrBanks = mem.load64(descriptor);
  if (nrBanks < 1 || nrBanks > MAX_BANKS) throw new KhoError('ECORRUPT', `descriptor claims ${nrBanks} banks`);
  for (let b = 0; b < nrBanks; b++) {
    const entry = descriptor + 8 + b * BANK_BYTES;
    const start = mem.load64(entry);
    const size = mem.load64(entry + 8);
    if (size === 0 || !mem.contains(start, size)) throw new KhoError('ECORRUPT', `descriptor bank ${b} is not RAM`);
    for (let o = 0; o < NR_ORDERS; o++) {
      const { first, bits } = bitmapSpan(start, size, o);
      const bytes = Math.ceil(bits / (PAGE_SIZE * 8)) * PAGE_SIZE;
      const base = walk.enter(mem.load64(entry + 16 + o * 8), bytes, `order ${o} bitmap`);
      const folio = PAGE_SIZE * 2 ** o;
      const words = Math.ceil(bits / 32);
      for (let w = 0; w < words; w++) {
        let x = mem.load32(base + w * 4);
        while (x !== 0) {
          const bit = 31 - Math.clz32(x & -x);
          x &= x - 1;
          walk.folio((first + w * 32 + bit) * folio, o);
        }
      }
    }
  }
}
