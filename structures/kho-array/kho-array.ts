/**
 * kho-array: Pratyush Yadav's "KHO array" (a preservable sparse array)
 * with Jason Gunthorpe's bound of 9 Sep 2025: blocks of {flags:1,
 * num_entries:13, pos_increment:50, entries[]} in which each run's start is
 * encoded, so that the worst case is about 16 bytes per entry instead of a
 * 4 KiB page. Handed over in place: the blocks the running kernel updates
 * are the ones the next kernel reads.
 *
 * Position of the folio at physical address `pa` with order `o` (0..18):
 *
 *   pos = o * 2^40 + (pa >> (12 + o))
 *
 * Order o's folios take positions [o * 2^40, o * 2^40 + 2^(40 - o)); a run
 * of positions is a run of consecutive folios of one order, so a run never
 * crosses from one order to the next (the tracker forbids the one joint
 * where it could: the last order-0 page, pfn 2^40 - 1, and order 1's first
 * folio). pos < 19 * 2^40 < 2^45. The set of positions is a B+ tree of
 * 4 KiB blocks (./block-tree.ts has the byte layout): leaves of up to 511
 * u64 runs {start - block position: 45 bits, length: 19 bits}, index blocks
 * of up to 255 {key, child} pairs. Positions ascend through the leaves,
 * left to right: by order, then by address.
 *
 * Preserve inserts the folio's position, extending, prepending to or
 * joining the runs around it in its leaf. preserveRange is TrackerBase's
 * greedy split, but its folios join only the run the range's previous
 * folio made or extended, never one that was there before it: a failed
 * range's rollback, which unpreserves its folios in the same order, then
 * only ever shortens or deletes runs from their start and never needs a
 * page. (The exception: a range over folios preserved before it, which the
 * rollback unpreserves too, as the kernel's does, and may cut a run.)
 * Unpreserve shortens, deletes or cuts a run; cutting a run in a full leaf
 * splits the leaf, so unpreserve can fail with ENOMEM, changing nothing.
 * Every add and delete takes the array's mutex (a word of kernel static
 * data; a compare-and-exchange to take it and another to release it).
 *
 * FDT root (kho-v4, like the merged radix tree): compatible = "kho-v4",
 * preserved-memory-array = u64 physical address of the root block, which
 * never moves; client subnodes carry preserved-data and blob-size. Nothing
 * is serialized; no finalize work, no abort.
 *
 * The next kernel walks the tree depth first from the root and reports
 * every run's folios, entering each block once; it checks that every
 * header is what its parent says, counts are within the page, and runs
 * ascend strictly across all leaves (start >= the previous run's end), stay
 * within their order and decode to aligned RAM: no folio can be reported
 * twice.
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { FROM_FDT, type RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { KHO_V4 } from '../../src/tracker/kho-abi.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { FOLIO_BYTES, INV_FOLIO_BYTES, MAX_ORDER, TrackerBase, statelessLifecycle } from '../../src/tracker/tracker.ts';
import { enterPage } from '../radix/table-walk.ts';
import {
  BlockTree,
  KA_MAX_CHILDREN,
  KA_MAX_LEVELS,
  KA_MAX_RUNS,
  blockEntries,
  blockIsIndex,
  blockPos,
  childAddress,
  childKey,
  runLength,
  runOffset,
} from './block-tree.ts';

export const KHO_ARRAY_COMPATIBLE = KHO_V4.compatible;
export const KHO_ARRAY_PROPERTY = 'preserved-memory-array';
export const KHO_ARRAY_LIFECYCLE = statelessLifecycle("proposal (Gunthorpe's bound on Yadav's KHO array, 9 Sep 2025), kho-v4", 'kho-array');
/** Positions per order. */
export const KA_ORDER_SPAN = 2 ** 40;
const INV_ORDER_SPAN = 2 ** -40;
/** Folios of each order in a 52-bit physical address space: 2^(40 - o). */
const ORDER_FOLIOS = Float64Array.from({ length: MAX_ORDER + 1 }, (_, o) => 2 ** (40 - o));

/** The array position of a valid folio. */
export function khoArrayPosition(phys: number, order: number): number {
  return order * KA_ORDER_SPAN + phys * INV_FOLIO_BYTES[order];
}

export class KhoArrayTracker extends TrackerBase {
  readonly id = 'kho-array' as const;
  readonly serializes = false;
  private readonly tree: BlockTree;
  /** Word index of the array's mutex (0 unlocked, 1 locked) in the kernel's static data. */
  private readonly mutex: number;
  /** Whether a preserveRange is running (its folios join only its own runs). */
  private inRange = false;
  /** In a preserveRange: the end of the run its previous folio made or extended (-1: none). */
  private rangeRunEnd = -1;

  constructor(machine: Machine) {
    super(machine, KHO_ARRAY_LIFECYCLE, KHO_V4);
    this.tree = new BlockTree(this.mem, this.heap);
    this.mutex = this.mem.allocStatic(1);
    this.khoInit();
  }

  /** Physical address of the root block. */
  get root(): number {
    return this.tree.root;
  }

  /** TrackerBase's preserveRange, with the range's folios kept out of the runs that were there before it. */
  override preserveRange(phys: number, size: number): void {
    this.inRange = true;
    this.rangeRunEnd = -1;
    try {
      super.preserveRange(phys, size);
    } finally {
      this.inRange = false;
    }
  }

  protected insert(phys: number, order: number): void {
    const index = phys * INV_FOLIO_BYTES[order];
    const pos = order * KA_ORDER_SPAN + index;
    const joinLeft = index !== 0 && (!this.inRange || this.rangeRunEnd === pos);
    const joinRight = !this.inRange && index + 1 < ORDER_FOLIOS[order];
    let added: boolean;
    this.mem.atomicCas(this.mutex, 0, 1);
    try {
      added = this.tree.insert(pos, joinLeft, joinRight);
    } finally {
      this.mem.atomicCas(this.mutex, 1, 0);
    }
    if (this.inRange) this.rangeRunEnd = added ? pos + 1 : -1;
  }

  protected remove(phys: number, order: number): void {
    this.mem.atomicCas(this.mutex, 0, 1);
    try {
      this.tree.remove(khoArrayPosition(phys, order));
    } finally {
      this.mem.atomicCas(this.mutex, 1, 0);
    }
  }

  protected handover(): Record<string, FdtValue> {
    return { [KHO_ARRAY_PROPERTY]: u64Prop(this.tree.root) };
  }
}

/** The next kernel: every folio of every run, in position order (see the block comment for what is checked). */
export function restoreKhoArray(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, KHO_ARRAY_COMPATIBLE);
  new BlockWalk(walk).visit(getU64(fdt, KHO_ARRAY_PROPERTY), FROM_FDT, 0, 0);
}

class BlockWalk {
  /** Where the next run may start at the earliest: the end of the last one reported. */
  private next = 0;

  constructor(private readonly walk: RestoreWalk) {}

  /** The block at `pa` (read at `from`), at `level` (0: the root), whose position its parent says is `pos`. */
  visit(pa: number, from: number, level: number, pos: number): void {
    const mem = this.walk.mem;
    const b = enterPage(this.walk, pa, level === 0 ? 'kho-array root' : 'kho-array block', from);
    if (blockPos(mem, b) !== pos) badBlock(pa, `position ${hex(blockPos(mem, b))}, not its key ${hex(pos)}`);
    if (blockIsIndex(mem, b)) this.visitIndex(b, pa, level, pos);
    else this.visitLeaf(b, pa, pos);
  }

  private visitIndex(b: number, pa: number, level: number, pos: number): void {
    const mem = this.walk.mem;
    const n = blockEntries(mem, b);
    if (n < 1 || n > KA_MAX_CHILDREN) badBlock(pa, `${n} children`);
    if (level + 1 >= KA_MAX_LEVELS) badBlock(pa, `an index block at level ${level}`);
    let last = -1;
    for (let i = 0; i < n; i++) {
      const key = childKey(mem, b, i);
      if (i === 0 ? key !== pos : key <= last) badBlock(pa, `key ${i} is ${hex(key)}, after ${hex(i === 0 ? pos : last)}`);
      last = key;
      this.visit(childAddress(mem, b, i), pa + 16 * i + 16, level + 1, key);
    }
  }

  private visitLeaf(b: number, pa: number, pos: number): void {
    const walk = this.walk;
    const mem = walk.mem;
    const n = blockEntries(mem, b);
    if (n > KA_MAX_RUNS) badBlock(pa, `${n} runs`);
    for (let i = 0; i < n; i++) {
      const length = runLength(mem, b, i);
      const start = pos + runOffset(mem, b, i);
      const order = Math.floor(start * INV_ORDER_SPAN);
      const index = start - order * KA_ORDER_SPAN;
      if (length === 0 || start < this.next || order > MAX_ORDER || index + length > ORDER_FOLIOS[order]) {
        badRun(pa, i, start, length, this.next);
      }
      this.next = start + length;
      const size = FOLIO_BYTES[order];
      for (let k = 0, phys = index * size; k < length; k++, phys += size) walk.folio(phys, order);
    }
  }
}

// Cold helpers: error messages are built only here.

function badBlock(pa: number, what: string): never {
  throw new KhoError('ECORRUPT', `kho-array block ${hex(pa)} has ${what}`);
}

function badRun(pa: number, i: number, start: number, length: number, next: number): never {
  throw new KhoError(
    'ECORRUPT',
    `kho-array block ${hex(pa)} run ${i} (position ${hex(start)}, ${length} folios) is empty, outside its order, or starts before ${hex(next)} (folios listed twice?)`,
  );
}
