/**
 * The KHO radix tree, as merged: one stateless tree for all orders.
 *
 * Key of the folio at physical address `pa` of order `o` (0..18):
 *
 *   key = (1 << (52 - o)) | (pa >> (12 + o))
 *
 * The single high "order bit" (bit 52 for order 0, 51 for order 1, ...,
 * 34 for order 18) says the order; the bits below it are the folio index.
 * Since pa < 2^52, the index always fits below the order bit, and key <
 * 2^53.
 *
 * Layout in RAM (all little-endian; every node one zeroed 4 KiB page):
 *
 *   key bits   63:60  zero (not stored)
 *              59:51  entry in the level 5 node (the root)
 *              50:42  entry in a level 4 node
 *              41:33  entry in a level 3 node
 *              32:24  entry in a level 2 node
 *              23:15  entry in a level 1 node
 *              14:0   bit in a level 0 node (the leaf)
 *
 *   levels 5..1   512 u64 entries: physical address of the child node, 0 = empty
 *   level 0       32768-bit bitmap: bit b in u64 word b >> 6, bit b & 63
 *
 * A leaf covers 32768 consecutive folios of one order: 128 MiB of order-0
 * memory, so 512 KiB of leaves cover 16 GiB. The root is allocated when
 * the tracker is created; other nodes on first use; none is ever freed,
 * except by a failed add, which frees the nodes it allocated and clears the
 * entry where its new branch began. Every add and delete takes the tree's
 * mutex (a word of kernel static data: a compare-and-exchange to lock and
 * another to unlock, the fast paths of mutex_lock and mutex_unlock) and
 * sets or clears the bit with a plain store under it. The tree walk itself
 * is shared with radix-rfc (./table-walk.ts).
 *
 * Deleting a key whose path was never built is a no-op here; the kernel
 * WARNs (WARN_ON in kho_radix_del_page) and returns, with the same result.
 *
 * FDT root (the ABI mainline has now, kho-v4 of 2026-06-03): compatible =
 * "kho-v4", preserved-memory-map = u64 address of the root; each client
 * subnode carries u64 `preserved-data` and u64 `blob-size` (kho-abi.ts).
 * Nothing is serialized: the hand-over publishes that pointer. Lifecycle:
 * unpreserve exists, no finalize state, no abort; KHO core preserves the
 * root FDT's page at boot, after allocating the tree's root (kho_init).
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import { KHO_V4 } from '../../src/tracker/kho-abi.ts';
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SHIFT } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { FOLIO_BYTES, INV_FOLIO_BYTES, MAX_ORDER, TrackerBase, log2Floor, statelessLifecycle } from '../../src/tracker/tracker.ts';
import { FROM_FDT } from '../../src/kexec/restore-walk.ts';
import { BitmapTree, enterPage, keyHi, keyLo, reportLeafBits, visitLeaves } from './table-walk.ts';

export const RADIX_COMPATIBLE = KHO_V4.compatible;
/** The merged radix tree's lifecycle (mainline, 2026-04-05 onwards). */
export const RADIX_LIFECYCLE = statelessLifecycle('mainline (KHO radix tree, kho-v4)', 'radix');
export const RADIX_PROPERTY = 'preserved-memory-map';
/** Table levels above the leaves: levels 5..1. */
export const RADIX_TABLES = 5;
/** The order bit of order 0; order o has its order bit at ORDER_BIT_0 - o. */
const ORDER_BIT_0 = 52;

/** Per order: the order bit's value, and the folio size (the index unit). */
const ORDER_BIT_VALUE = Float64Array.from({ length: MAX_ORDER + 1 }, (_, o) => 2 ** (ORDER_BIT_0 - o));

/** The tree key of a valid folio (exact: the index is an exact quotient below the order bit). */
export function radixKey(phys: number, order: number): number {
  return ORDER_BIT_VALUE[order] + phys * INV_FOLIO_BYTES[order];
}

export class RadixTracker extends TrackerBase {
  readonly id = 'radix' as const;
  readonly serializes = false;
  /** Physical address of the level 5 node. */
  readonly root: number;
  private readonly tree: BitmapTree;
  /** Word index of the tree's mutex (0 unlocked, 1 locked) in the kernel's static data. */
  private readonly mutex: number;
  /** Word index of the root page (a page keeps its host slot while allocated). */
  private readonly rootBase: number;

  constructor(machine: Machine) {
    super(machine, RADIX_LIFECYCLE, KHO_V4);
    this.tree = new BitmapTree(this.mem, this.heap, { atomicBit: false, undoFailedBranch: true });
    this.root = this.heap.allocPage();
    this.rootBase = this.mem.base(this.root);
    this.mutex = this.mem.allocStatic(1);
    this.khoInit();
  }

  protected insert(phys: number, order: number): void {
    this.mem.atomicCas(this.mutex, 0, 1);
    try {
      const key = radixKey(phys, order);
      this.tree.set(this.rootBase, RADIX_TABLES, keyHi(key), keyLo(key));
    } finally {
      this.mem.atomicCas(this.mutex, 1, 0);
    }
  }

  protected remove(phys: number, order: number): void {
    this.mem.atomicCas(this.mutex, 0, 1);
    const key = radixKey(phys, order);
    this.tree.clear(this.rootBase, RADIX_TABLES, keyHi(key), keyLo(key));
    this.mem.atomicCas(this.mutex, 1, 0);
  }

  protected handover(): Record<string, FdtValue> {
    return { [RADIX_PROPERTY]: u64Prop(this.root) };
  }
}

/**
 * The next kernel: every set bit of every leaf, decoded. All keys of one
 * leaf share its bit-0 key's order bit (a nonzero bit-0 key is a multiple
 * of 2^15, so the leaf's own 15 bits sit below it), so a leaf is decoded
 * once: its order, and the address of its bit 0.
 */
export function restoreRadix(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, RADIX_COMPATIBLE);
  const rootPa = getU64(fdt, RADIX_PROPERTY);
  const root = enterPage(walk, rootPa, 'radix root', FROM_FDT);
  visitLeaves(walk, root, rootPa, RADIX_TABLES, 0, (leaf, firstKey) => {
    if (firstKey === 0) throw new KhoError('ECORRUPT', `radix leaf ${hex(leaf)} under key 0 has no order bit`);
    const orderBit = log2Floor(firstKey); // exact up to 2^64; keys here are below 2^60
    const order = ORDER_BIT_0 - orderBit;
    if (order < 0 || order > MAX_ORDER) {
      throw new KhoError('ECORRUPT', `radix leaf ${hex(leaf)} under key ${hex(firstKey)} has order ${order}`);
    }
    reportLeafBits(walk, leaf, (firstKey - 2 ** orderBit) * FOLIO_BYTES[order], order);
  });
}
