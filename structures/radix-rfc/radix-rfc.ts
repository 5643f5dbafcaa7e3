/**
 * The stateless tracker of the RFC v1 series (16 Sep 2025): one page-table
 * like tree per order, under a root "order table".
 *
 * Layout in RAM (all little-endian; every table and bitmap one zeroed 4 KiB
 * page):
 *
 *   order table (pointed to by the FDT property "preserved-order-table")
 *     u64 slot[o] for o = 0..9 at byte 8 * o: physical address of order
 *     o's top table, 0 = none; bytes 80..4095 stay zero. These are exactly
 *     the slots RFC v1 has: one per order up to HUGETLB_PAGE_ORDER (9 on
 *     x86-64). The format is not extended: a preserve of order 10..18 is
 *     refused with ERANGE, where RFC v1 would have written past its table
 *     and silently lost the folio.
 *
 *   order o's tree, over the folio index f = pa >> (12 + o):
 *     bitmap   32768 bits = 2^(27 + o) bytes of address space; folio bit
 *              f & 32767, i.e. u64 word (pa >> (18 + o)) & 511, bit
 *              (pa >> (12 + o)) & 63
 *     tables   512 u64 entries (physical address of the next level, 0 =
 *              empty); each level resolves the next 9 address bits, up to
 *              bit 63: levels(o) = ceil((64 - (27 + o)) / 9) + 1 counting
 *              the bitmap, i.e. 6 for order 0, 5 for orders 1..9.
 *     order 0 splits the address as
 *              63 | 62:54 | 53:45 | 44:36 | 35:27 | 26:0 (bitmap; 26:12 the bit)
 *
 * Every top table indexes address bits 55 and up only (bit 63 alone for
 * orders 0 and 9). Physical addresses are below 2^52, so only entry 0
 * of a top table is ever used; the top table still exists and is walked,
 * as in the kernel. The order table is allocated when the tracker is created, each
 * order's tables and bitmaps on first use; none is ever freed.
 *
 * The per-order tree is the radix tree's table walk with key = folio index
 * (../radix/table-walk.ts).
 *
 * Lifecycle (RFC v1): no unpreserve (EOPNOTSUPP), no finalize state, no
 * abort, and a range preserve that fails part-way keeps what it already
 * preserved (RFC v1 does not roll back). No lock: only set_bit is atomic.
 * KHO core preserves the root FDT's page at boot.
 *
 * The next kernel reads slots 0..9 and nothing else of the order table, as
 * RFC v1 does: whatever the rest of the page holds is ignored.
 *
 * FDT root: compatible = "kho-v1", preserved-order-table = u64 address of
 * the order table; client subnodes carry `fdt` (kho-v1). Nothing is
 * serialized: the hand-over publishes that pointer.
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { KHO_V1 } from '../../src/tracker/kho-abi.ts';
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SHIFT, PHYS_LIMIT } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { INV_FOLIO_BYTES, TrackerBase, statelessLifecycle } from '../../src/tracker/tracker.ts';
import { FROM_FDT } from '../../src/kexec/restore-walk.ts';
import { BitmapTree, LEAF_KEY_BITS, TABLE_BITS, enterPage, keyHi, keyLo, reportLeafBits, visitLeaves } from '../radix/table-walk.ts';

export const RFC_COMPATIBLE = KHO_V1.compatible;
export const RFC_PROPERTY = 'preserved-order-table';
/** HUGETLB_PAGE_ORDER on x86-64: the last order RFC v1's order table has a slot for. */
export const RFC_MAX_ORDER = 9;

/** RFC v1's lifecycle. */
export const RFC_LIFECYCLE = statelessLifecycle('RFC v1 (16 Sep 2025)', 'radix-rfc', {
  unpreserve: false,
  rollback: false,
  // RFC v1 was posted against 6.17, before the magic.
  pageMagic: false,
  missing: { unpreserve: 'radix-rfc has no unpreserve: RFC v1 never had one' },
});
/** Address bits of a u64 physical address. */
const ADDRESS_BITS = 64;

/** Levels of order o's tree, the bitmap included: ceil((64 - (27 + o)) / 9) + 1. */
export function rfcLevels(order: number): number {
  return Math.ceil((ADDRESS_BITS - (PAGE_SHIFT + LEAF_KEY_BITS + order)) / TABLE_BITS) + 1;
}

/** Per order: table levels above the bitmap, and the folio size (the index unit). */
const TABLES = Array.from({ length: RFC_MAX_ORDER + 1 }, (_, o) => rfcLevels(o) - 1);
const FOLIO_SIZE = Array.from({ length: RFC_MAX_ORDER + 1 }, (_, o) => 2 ** (PAGE_SHIFT + o));

export class RadixRfcTracker extends TrackerBase {
  readonly id = 'radix-rfc' as const;
  readonly serializes = false;
  /** Physical address of the order table. */
  readonly orderTable: number;
  /** Word index of the order table. */
  private readonly orderTableBase: number;
  private readonly tree: BitmapTree;

  constructor(machine: Machine) {
    super(machine, RFC_LIFECYCLE, KHO_V1);
    this.tree = new BitmapTree(this.mem, this.heap, { atomicBit: true, undoFailedBranch: false });
    this.orderTable = this.heap.allocPage();
    this.orderTableBase = this.mem.base(this.orderTable);
    this.khoInit();
  }

  protected insert(phys: number, order: number): void {
    if (order > RFC_MAX_ORDER) noSlot(order);
    const top = this.tree.child(this.orderTableBase + 2 * order);
    const key = phys * INV_FOLIO_BYTES[order];
    this.tree.set(top, TABLES[order], keyHi(key), keyLo(key));
  }

  /** Never reached through the lifecycle (RFC v1 has no unpreserve and no rollback); kept for the interface. */
  protected remove(phys: number, order: number): void {
    if (order > RFC_MAX_ORDER) return;
    const mem = this.mem;
    const lo = mem.ld(this.orderTableBase + 2 * order);
    const hi = mem.ld(this.orderTableBase + 2 * order + 1);
    if ((lo | hi) === 0) return;
    const key = phys * INV_FOLIO_BYTES[order];
    this.tree.clear(mem.follow(lo, hi), TABLES[order], keyHi(key), keyLo(key));
  }

  protected handover(): Record<string, FdtValue> {
    return { [RFC_PROPERTY]: u64Prop(this.orderTable) };
  }
}

function noSlot(order: number): never {
  throw new KhoError('ERANGE', `RFC v1 has no slot for order ${order} (orders 0..${RFC_MAX_ORDER}): the kernel would silently lose this folio`);
}

/**
 * The next kernel: for each order 0..9, every set bit of every bitmap of
 * its tree. The rest of the order table is not read, as RFC v1 reads only
 * its slots.
 */
export function restoreRadixRfc(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, RFC_COMPATIBLE);
  const mem = walk.mem;
  const tablePa = getU64(fdt, RFC_PROPERTY);
  const orderTable = enterPage(walk, tablePa, 'order table', FROM_FDT);
  for (let order = 0; order <= RFC_MAX_ORDER; order++) {
    const top = mem.ld64(orderTable + 2 * order);
    if (top === 0) continue;
    const folio = FOLIO_SIZE[order];
    const topTable = enterPage(walk, top, `order ${order} top table`, tablePa + 8 * order);
    visitLeaves(walk, topTable, top, TABLES[order], 0, (leaf, firstKey) => {
      const firstPhys = firstKey * folio;
      if (firstPhys >= PHYS_LIMIT) {
        throw new KhoError('ECORRUPT', `order ${order} bitmap ${hex(leaf)} covers ${hex(firstPhys)}, above 2^52`);
      }
      reportLeafBits(walk, leaf, firstPhys, order);
    });
  }
}
