/**
 * The one interface every preservation tracker implements, and the checks
 * and range splitting they all share.
 *
 * Old kernel side:
 *   preserve(phys, order)      mark the folio [phys, phys + 4096 << order)
 *   unpreserve(phys, order)    clear it again
 *   preserveRange(phys, size)  the kernel's greedy split into maximal
 *                              aligned orders, rolled back on failure
 *   finalize()                 the hand-over: serializing trackers write
 *                              what the next kernel needs into RAM (and
 *                              refuse preserve with EBUSY until abort());
 *                              stateless ones only publish their root.
 *                              Returns the FDT blob.
 *   abort()                    undo finalize (serializing trackers)
 *
 * Next kernel side: a `RestoreFn` that sees only the RAM image and the
 * FDT, and reports every preserved folio to a sink.
 *
 * Addresses are JS numbers (exact below 2^53; physical addresses are
 * below 2^52). Orders run 0..MAX_ORDER.
 */
import { type FdtNode, type FdtNodeSpec, type FdtValue, writeFdt } from '../fdt/fdt.ts';
import { KernelHeap } from '../ram/kernel-heap.ts';
import type { Machine } from '../ram/machine.ts';
import { PAGE_SIZE, type PhysMem } from '../ram/phys-mem.ts';
import type { RestoreWalk } from '../kexec/restore-walk.ts';
import { KhoError, hex } from './errors.ts';

/** Orders 0..18: 4 KiB pages up to 1 GiB hugetlb pages. */
export const MAX_ORDER = 18;

export const STRUCTURE_IDS = ['flat-bitmap', 'xarray-6.16', 'xarray-6.18', 'ida', 'radix-rfc', 'radix'] as const;
export type StructureId = (typeof STRUCTURE_IDS)[number];

export interface Tracker {
  readonly id: StructureId;
  /** This tracker's metadata allocations and their accounting. */
  readonly heap: KernelHeap;
  /** Whether the hand-over needs a serialization step (and so has finalize/abort states). */
  readonly serializes: boolean;
  readonly finalized: boolean;
  preserve(phys: number, order: number): void;
  unpreserve(phys: number, order: number): void;
  preserveRange(phys: number, size: number): void;
  /** The hand-over; `clients` are KHO client subtrees (nodes with "preserved-data") added under the root. */
  finalize(clients?: readonly FdtNodeSpec[]): Uint8Array;
  abort(): void;
}

/** Where the next kernel puts each restored folio. */
export interface FolioSink {
  add(phys: number, order: number): void;
}

export interface RestoreStats {
  /** Folios handed to the sink. */
  folios: number;
  /** Metadata objects (pages, bitmaps, nodes, chunks) the walk visited. */
  metadataObjectsRead: number;
  /** Metadata bytes the walk loaded. */
  metadataBytesRead: number;
}

/**
 * A next-kernel restore: a function of the image's bytes (`walk.mem`) and
 * the FDT alone. It follows pointers only through `walk.enter` and reports
 * folios only through `walk.folio`.
 */
export type RestoreFn = (walk: RestoreWalk, fdt: FdtNode) => void;

/**
 * Folio bytes per order 0..MAX_ORDER, and their exact inverses: hot paths
 * multiply by a power of two rather than divide (V8 does not turn a float
 * division by a constant power of two into a multiplication).
 */
export const FOLIO_BYTES = Float64Array.from({ length: MAX_ORDER + 1 }, (_, o) => PAGE_SIZE * 2 ** o);
export const INV_FOLIO_BYTES = Float64Array.from({ length: MAX_ORDER + 1 }, (_, o) => 2 ** -(12 + o));

/** Throws EINVAL unless `order` is 0..MAX_ORDER and the folio is aligned and inside RAM. */
export function checkFolio(mem: PhysMem, phys: number, order: number): void {
  if (!((order >>> 0) === order && order <= MAX_ORDER)) badOrder(order);
  const size = FOLIO_BYTES[order];
  const q = phys * INV_FOLIO_BYTES[order];
  if (!(q >= 0 && q === Math.floor(q) && phys <= Number.MAX_SAFE_INTEGER)) misaligned(phys, order);
  if (!mem.contains(phys, size)) outsideRam(phys, order);
}

function badOrder(order: number): never {
  throw new KhoError('EINVAL', `order ${order} outside 0..${MAX_ORDER}`);
}

function misaligned(phys: number, order: number): never {
  throw new KhoError('EINVAL', `address ${hex(phys)} is not aligned to order ${order}`);
}

function outsideRam(phys: number, order: number): never {
  throw new KhoError('EINVAL', `folio ${hex(phys)} order ${order} is outside RAM`);
}

/** Trailing zero bits of a non-negative integer below 2^53 (64 for 0, as the kernel's __ffs64 caller sees it). */
export function trailingZeros(n: number): number {
  if (n === 0) return 64;
  const lo = n >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(n / 4294967296);
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** floor(log2(n)) for 1 <= n < 2^53. */
export function log2Floor(n: number): number {
  const hi = Math.floor(n / 4294967296);
  return hi > 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(n);
}

/**
 * The kernel's greedy split of a page-aligned range into maximal aligned
 * folios: order = min(trailing_zeros(pfn), floor(log2(end_pfn - pfn))).
 * Clamped to MAX_ORDER, which the kernel does not do (its trackers take
 * any order); no range in this suite reaches that bound but pfn 0 does.
 */
export function* splitRange(phys: number, size: number): Generator<[phys: number, order: number]> {
  let pfn = phys / PAGE_SIZE;
  const end = (phys + size) / PAGE_SIZE;
  while (pfn < end) {
    const order = Math.min(trailingZeros(pfn), log2Floor(end - pfn), MAX_ORDER);
    yield [pfn * PAGE_SIZE, order];
    pfn += 2 ** order;
  }
}

/**
 * What every tracker shares: argument checks, the finalize state machine
 * and preserveRange. Subclasses provide the structure: insert, remove,
 * and the hand-over.
 */
export abstract class TrackerBase implements Tracker {
  abstract readonly id: StructureId;
  abstract readonly serializes: boolean;
  readonly heap: KernelHeap;
  protected readonly mem: PhysMem;
  private isFinalized = false;

  constructor(readonly machine: Machine) {
    this.heap = new KernelHeap(machine);
    this.mem = machine.mem;
  }

  get finalized(): boolean {
    return this.isFinalized;
  }

  preserve(phys: number, order: number): void {
    this.checkMutable();
    checkFolio(this.mem, phys, order);
    this.insert(phys, order);
  }

  unpreserve(phys: number, order: number): void {
    this.checkMutable();
    checkFolio(this.mem, phys, order);
    this.remove(phys, order);
  }

  preserveRange(phys: number, size: number): void {
    this.checkMutable();
    if (!Number.isSafeInteger(phys) || !Number.isSafeInteger(size) || phys % PAGE_SIZE || size % PAGE_SIZE || size < 0) {
      throw new KhoError('EINVAL', `range ${hex(phys)}+${hex(size)} is not page aligned`);
    }
    if (size > 0 && !this.mem.contains(phys, size)) {
      throw new KhoError('EINVAL', `range ${hex(phys)}+${hex(size)} is outside RAM`);
    }
    let done = phys;
    try {
      for (const [pa, order] of splitRange(phys, size)) {
        this.insert(pa, order);
        done = pa + PAGE_SIZE * 2 ** order;
      }
    } catch (e) {
      for (const [pa, order] of splitRange(phys, done - phys)) this.remove(pa, order);
      throw e;
    }
  }

  finalize(clients: readonly FdtNodeSpec[] = []): Uint8Array {
    if (this.isFinalized) throw new KhoError('EBUSY', 'already finalized');
    const props = this.handover();
    this.isFinalized = this.serializes;
    return writeFdt({ name: '', props, children: clients });
  }

  abort(): void {
    if (!this.serializes) return;
    if (!this.isFinalized) throw new KhoError('EINVAL', 'abort without finalize');
    this.dropHandover();
    this.isFinalized = false;
  }

  private checkMutable(): void {
    if (this.isFinalized) throw new KhoError('EBUSY', 'the hand-over is finalized');
  }

  /** Marks one validated folio. */
  protected abstract insert(phys: number, order: number): void;
  /** Clears one validated folio (a no-op where it was never marked). */
  protected abstract remove(phys: number, order: number): void;
  /**
   * Builds the hand-over and returns the FDT root's properties (compatible
   * and the u64 root pointers). A serializing tracker writes its serialized
   * form into RAM here and must leave no partial state if it throws: the
   * caller may retry, abort or keep preserving.
   */
  protected abstract handover(): Record<string, FdtValue>;
  /** Frees what handover() wrote (serializing trackers only). */
  protected dropHandover(): void {}
}
