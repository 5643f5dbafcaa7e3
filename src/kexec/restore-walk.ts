/**
 * The next kernel's defensive reading of a hand-over image, shared by every
 * restore: it validates each pointer before it is followed and each folio
 * before it is reported, counts what the walk reads, and bounds the walk so
 * that a corrupted image (a loop, a tree whose slots all point at one page)
 * ends in a KhoError('ECORRUPT') instead of running for ever.
 *
 * The default budget is one metadata object per page of RAM: no honest
 * image holds more metadata objects than the machine has pages.
 */
import type { PhysMem } from '../ram/phys-mem.ts';
import { PAGE_SIZE } from '../ram/phys-mem.ts';
import { KhoError, hex } from '../tracker/errors.ts';
import { type FolioSink, MAX_ORDER, type RestoreStats } from '../tracker/tracker.ts';

export class RestoreWalk {
  objectsRead = 0;
  bytesRead = 0;
  folios = 0;
  private readonly maxObjects: number;

  constructor(
    readonly mem: PhysMem,
    private readonly sink: FolioSink,
    maxObjects?: number,
  ) {
    this.maxObjects = maxObjects ?? mem.size / PAGE_SIZE;
  }

  /**
   * Checks a pointer to a metadata object of `size` bytes (a page, a
   * bitmap, a node) before it is followed, and counts the read.
   */
  enter(pa: number, size: number, what: string): number {
    if (!Number.isSafeInteger(pa) || pa % Math.min(size, 8) !== 0 || !this.mem.contains(pa, size)) {
      throw new KhoError('ECORRUPT', `${what} pointer ${hex(pa)} is not an aligned address in RAM`);
    }
    if (++this.objectsRead > this.maxObjects) {
      throw new KhoError('ECORRUPT', `walk visited more than ${this.maxObjects} metadata objects`);
    }
    this.bytesRead += size;
    return pa;
  }

  /** Validates and reports one restored folio. */
  folio(phys: number, order: number): void {
    const size = PAGE_SIZE * 2 ** order;
    if (!(order >= 0 && order <= MAX_ORDER) || phys % size !== 0 || !this.mem.contains(phys, size)) {
      throw new KhoError('ECORRUPT', `restored folio ${hex(phys)} order ${order} is not aligned RAM`);
    }
    this.folios++;
    this.sink.add(phys, order);
  }

  stats(): RestoreStats {
    return { folios: this.folios, metadataObjectsRead: this.objectsRead, metadataBytesRead: this.bytesRead };
  }
}
