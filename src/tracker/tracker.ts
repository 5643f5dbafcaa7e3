/**
 * The one interface every preservation tracker implements, the lifecycle
 * each kernel version gives it, and the checks and range splitting they
 * all share.
 *
 * Old kernel side:
 *   preserve(phys, order)      mark the folio [phys, phys + 4096 << order)
 *   unpreserve(phys, order)    clear it again (where the version has it)
 *   preserveRange(phys, size)  the kernel's greedy split into maximal
 *                              aligned orders, rolled back on failure
 *                              (where the version rolls back)
 *   finalize(clients)          the hand-over: serializing trackers write
 *                              what the next kernel needs into RAM;
 *                              stateless ones only publish their root.
 *                              Builds the root FDT (one page, see
 *                              kho-abi.ts) and returns its blob.
 *   abort()                    6.16..6.18 only: throw the hand-over and
 *                              every preservation away
 *
 * What each operation does is the tracker's `Lifecycle`, one small
 * description per kernel version (see there), interpreted by TrackerBase.
 *
 * KHO core, whatever the tracker: at boot it allocates the root FDT's page
 * (`fdtPage`, from its own heap, not the tracker's) and preserves it
 * through the tracker as an order-0 folio, at boot or in finalize as the
 * version does. So every hand-over restores that page among its folios,
 * and the image carries its bytes (the FDT).
 *
 * Next kernel side: a `RestoreFn` that sees only the RAM image and the
 * FDT, and reports every preserved folio to a sink.
 *
 * Addresses are JS numbers (exact below 2^53; physical addresses are
 * below 2^52). Orders run 0..MAX_ORDER.
 */
import type { FdtNode, FdtValue } from '../fdt/fdt.ts';
import { KernelHeap } from '../ram/kernel-heap.ts';
import type { Machine } from '../ram/machine.ts';
import { PAGE_SIZE, type PhysMem } from '../ram/phys-mem.ts';
import type { RestoreWalk } from '../kexec/restore-walk.ts';
import { KhoError, hex } from './errors.ts';
import { KHO_FDT_SIZE, type KhoAbi, type KhoSubtree, writeRootFdt } from './kho-abi.ts';

/** Orders 0..18: 4 KiB pages up to 1 GiB hugetlb pages. */
export const MAX_ORDER = 18;

export const STRUCTURE_IDS = ['flat-bitmap', 'xarray-6.16', 'xarray-6.18', 'xarray-6.19', 'ida', 'radix-rfc', 'radix', 'xarray-prealloc', 'kho-array'] as const;
/** A registered structure, or a point of the design-space family (structures/family). */
export type StructureId = (typeof STRUCTURE_IDS)[number] | `fam-${string}`;

/**
 * What a kernel version lets a tracker's users do, and when. TrackerBase
 * interprets it; each structure's README says which version it follows.
 */
export interface Lifecycle {
  /** The kernel (or design) whose lifecycle this is: "Linux 6.16..6.18", "RFC v1", ... */
  readonly kernel: string;
  /** Whether unpreserve exists; else it is EOPNOTSUPP (`missing.unpreserve` says why). */
  readonly unpreserve: boolean;
  /**
   * `destructive`: 6.16..6.18's kho_abort, which frees the serialization AND
   * every bitmap, kho_mem_phys and xarray node, so the clients must
   * preserve again; a finalize that fails part-way calls it too.
   * `none`: the version has no abort (EOPNOTSUPP, `missing.abort` says why).
   */
  readonly abort: 'destructive' | 'none';
  /** Whether finalize may run again after a successful one (6.19 re-serializes; stateless ones republish); else EEXIST. */
  readonly finalizeAgain: boolean;
  /** Whether a successful finalize enters a finalized state in which preserve is EBUSY (6.16..6.18). */
  readonly busyWhileFinalized: boolean;
  /** When KHO core preserves the root FDT's page: at boot (kho_init) or at the start of finalize (6.16..6.18). */
  readonly fdtPreserved: 'init' | 'finalize';
  /** Whether a preserveRange that fails part-way unpreserves what it did (every kernel but RFC v1). */
  readonly rollback: boolean;
  /** Whether the next kernel stamps KHO_PAGE_MAGIC beside the order in a restored folio's page->private (6.18 and later). */
  readonly pageMagic: boolean;
  /** The EOPNOTSUPP messages of operations the version lacks. */
  readonly missing?: { readonly unpreserve?: string; readonly abort?: string };
}

/**
 * A stateless tracker's lifecycle (the structure is handed over in place):
 * no finalized state, finalize only publishes and may run again, no abort,
 * the root FDT's page preserved at boot.
 */
export function statelessLifecycle(kernel: string, id: string, overrides: Partial<Lifecycle> = {}): Lifecycle {
  return {
    kernel,
    unpreserve: true,
    abort: 'none',
    finalizeAgain: true,
    busyWhileFinalized: false,
    fdtPreserved: 'init',
    rollback: true,
    pageMagic: true,
    ...overrides,
    missing: { abort: `${id} has no abort: it is handed over in place, there is nothing to undo`, ...overrides.missing },
  };
}

export interface Tracker {
  readonly id: StructureId;
  /** This tracker's metadata allocations and their accounting. */
  readonly heap: KernelHeap;
  /** KHO core's own allocations (the root FDT's page), apart from the tracker's metadata. */
  readonly core: KernelHeap;
  /** Physical address of the root FDT's page (allocated at boot, preserved as an order-0 folio). */
  readonly fdtPage: number;
  /** What the kernel version lets its users do (see Lifecycle). */
  readonly lifecycle: Lifecycle;
  /** The FDT ABI: root compatible and client subnode properties. */
  readonly abi: KhoAbi;
  /** Whether the hand-over needs a serialization step. */
  readonly serializes: boolean;
  /** Whether a finalize holds (6.16..6.18 only: the versions with a finalized state). */
  readonly finalized: boolean;
  preserve(phys: number, order: number): void;
  unpreserve(phys: number, order: number): void;
  preserveRange(phys: number, size: number): void;
  /** The hand-over; `clients` are the KHO client subtrees for the root FDT. Returns the root FDT blob. */
  finalize(clients?: readonly KhoSubtree[]): Uint8Array;
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
 * What every tracker shares: argument checks, the lifecycle of its kernel
 * version, KHO core's FDT page, and preserveRange. Subclasses provide the
 * structure: insert, remove, and the hand-over; each subclass constructor
 * ends with `khoInit()`.
 */
export abstract class TrackerBase implements Tracker {
  abstract readonly id: StructureId;
  abstract readonly serializes: boolean;
  readonly heap: KernelHeap;
  readonly core: KernelHeap;
  readonly fdtPage: number;
  protected readonly mem: PhysMem;
  private isFinalized = false;
  /** isFinalized && lifecycle.busyWhileFinalized: the one test on the preserve path. */
  private busy = false;

  constructor(
    readonly machine: Machine,
    readonly lifecycle: Lifecycle,
    readonly abi: KhoAbi,
  ) {
    this.heap = new KernelHeap(machine);
    this.core = new KernelHeap(machine);
    this.mem = machine.mem;
    // kho_init: the root FDT's page, from the page allocator (KHO core's, not the tracker's metadata).
    this.fdtPage = this.core.allocPage();
  }

  get finalized(): boolean {
    return this.isFinalized;
  }

  preserve(phys: number, order: number): void {
    if (this.busy) busy();
    checkFolio(this.mem, phys, order);
    this.insert(phys, order);
  }

  unpreserve(phys: number, order: number): void {
    if (!this.lifecycle.unpreserve) this.missing('unpreserve');
    checkFolio(this.mem, phys, order);
    this.remove(phys, order);
  }

  preserveRange(phys: number, size: number): void {
    if (this.busy) busy();
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
      // The rollback clears bits even where the version exports no unpreserve: it is the kernel's own.
      if (this.lifecycle.rollback) for (const [pa, order] of splitRange(phys, done - phys)) this.remove(pa, order);
      throw e;
    }
  }

  finalize(clients: readonly KhoSubtree[] = []): Uint8Array {
    const lc = this.lifecycle;
    if (this.isFinalized && !lc.finalizeAgain) throw new KhoError('EEXIST', `${this.id}: the hand-over is already finalized`);
    let blob: Uint8Array;
    try {
      if (lc.fdtPreserved === 'finalize') this.insert(this.fdtPage, 0);
      const props = this.handover();
      try {
        blob = writeRootFdt(this.abi, props, clients);
      } catch (e) {
        this.dropPendingHandover();
        throw e;
      }
    } catch (e) {
      // 6.16..6.18: __kho_finalize's error path is kho_abort, which throws every preservation away.
      if (lc.abort === 'destructive') this.destroy();
      throw e;
    }
    this.commitHandover();
    this.writeFdtPage(blob);
    if (lc.busyWhileFinalized || !lc.finalizeAgain) {
      this.isFinalized = true;
      this.busy = lc.busyWhileFinalized;
    }
    return blob;
  }

  abort(): void {
    if (this.lifecycle.abort === 'none') this.missing('abort');
    if (!this.isFinalized) throw new KhoError('ENOENT', `${this.id}: abort without finalize`);
    this.destroy();
    this.isFinalized = false;
    this.busy = false;
  }

  /**
   * KHO core's boot step, the last statement of every subclass constructor
   * (the structure must exist first): where the version preserves the root
   * FDT's page at boot (kho_alloc_preserve in kho_init), it does so here.
   */
  protected khoInit(): void {
    if (this.lifecycle.fdtPreserved === 'init') this.insert(this.fdtPage, 0);
  }

  /** The blob in the FDT page, the rest of the page zero: the page the next kernel is handed. */
  private writeFdtPage(blob: Uint8Array): void {
    const page = new Uint8Array(KHO_FDT_SIZE);
    page.set(blob);
    const words = new DataView(page.buffer);
    const mem = this.mem;
    const base = mem.wbase(this.fdtPage);
    for (let w = 0; w < KHO_FDT_SIZE / 4; w++) mem.st(base + w, words.getInt32(4 * w, true));
  }

  private missing(op: 'unpreserve' | 'abort'): never {
    throw new KhoError('EOPNOTSUPP', this.lifecycle.missing?.[op] ?? `${this.id} (${this.lifecycle.kernel}) has no ${op}`);
  }

  /** Marks one validated folio. */
  protected abstract insert(phys: number, order: number): void;
  /** Clears one validated folio (a no-op where it was never marked). */
  protected abstract remove(phys: number, order: number): void;
  /**
   * Builds the hand-over and returns the tracker's FDT root properties (the
   * u64 root pointers; KHO core adds compatible and the clients). A
   * serializing tracker writes its serialized form into RAM here and must
   * leave nothing of it behind if it throws; what it wrote is pending until
   * commitHandover (the FDT fitted) or dropPendingHandover (it did not).
   */
  protected abstract handover(): Record<string, FdtValue>;
  /** The hand-over is published: a serializing tracker frees the serialization it replaces (6.19). */
  protected commitHandover(): void {}
  /** The root FDT did not fit: free what handover() just wrote, keeping what an earlier finalize published. */
  protected dropPendingHandover(): void {}
  /** 6.16..6.18's kho_abort: frees the serialization and every preservation; the tracker is empty afterwards. */
  protected destroy(): void {
    throw new KhoError('EOPNOTSUPP', `${this.id} cannot throw its preservations away`);
  }
}

function busy(): never {
  throw new KhoError('EBUSY', 'the hand-over is finalized');
}
