/**
 * Test support: the raw bytes of a hand-over image, read the way a
 * debugger reads a memory dump, so that a test can decode a tracker's
 * format from the facts sheet alone, without PhysMem or the tracker's
 * own code. u64s come back as BigInt, exactly as the kernel's u64s.
 *
 * A page the hand-over did not carry has no defined contents in the next
 * kernel; reading one is an error in the format under test.
 */
import type { RamImage } from '../../src/ram/phys-mem.ts';

export class RawImage {
  private readonly pageIndex = new Map<bigint, number>();
  private readonly zeroPages = new Set<bigint>();
  private readonly view: DataView;

  constructor(image: RamImage) {
    image.pfns.forEach((pfn, i) => this.pageIndex.set(BigInt(pfn), i));
    for (const pfn of image.zeroPfns) this.zeroPages.add(BigInt(pfn));
    this.view = new DataView(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  }

  /** The little-endian u64 at physical address `pa` (8-byte aligned). */
  u64(pa: bigint): bigint {
    if (pa % 8n !== 0n) throw new Error(`unaligned u64 read at 0x${pa.toString(16)}`);
    const pfn = pa >> 12n;
    const i = this.pageIndex.get(pfn);
    if (i !== undefined) return this.view.getBigUint64(i * 4096 + Number(pa & 4095n), true);
    if (this.zeroPages.has(pfn)) return 0n;
    throw new Error(`read of 0x${pa.toString(16)}, in a page the hand-over did not carry`);
  }

  /** The byte at physical address `pa`. */
  u8(pa: bigint): number {
    return Number((this.u64(pa & ~7n) >> (8n * (pa & 7n))) & 0xffn);
  }

  /** Number of pages carried. */
  get pages(): number {
    return this.pageIndex.size + this.zeroPages.size;
  }
}
