/**
 * IDA-shaped tracker: the structure Matthew Wilcox suggested on the list
 * ("Sounds like the IDA data structure"), handed over in place.
 *
 * One IDA per order 0..18. The id of a folio at `phys` with order `o` is
 * `phys >> (12 + o)` (below 2^40 >> o); id `i` lives in xarray slot index
 * `xi = i / 1024`, bit `i % 1024` of that slot's IDA bitmap. Nothing is
 * serialized: the next kernel walks the live trees, whose entries hold
 * physical addresses.
 *
 * Layout in RAM (all little-endian, u64 words):
 *
 *   root page (one zeroed 4 KiB page, FDT property "preserved-memory-map")
 *     0x00 + 8*o   u64 xa_head of order o's xarray (0 = empty)
 *
 *   an entry (xa_head, or a node slot) is tagged by its low two bits:
 *     0                  empty
 *     ...x1  value       (bits << 1) | 1: an inline IDA bitmap whose set
 *                        bits all lie below bit 63 (bit b of the id block
 *                        is bit b + 1 of the word)
 *     ...00  pointer     physical address of a 128-byte IDA bitmap
 *                        (1024 bits, 16 u64 words, bit b in word b / 64)
 *     ...10  internal    node physical address | 2 (above 4096; the
 *                        kernel's sibling/retry/zero internal entries
 *                        0..4096 are never stored here)
 *
 *   xa_node (576 bytes, 7 per slab page), the kernel's field layout:
 *     0x000  u8  shift      index bits below this node's slots (0, 6, 12, ...)
 *     0x001  u8  offset     slot number in the parent
 *     0x002  u8  count      non-empty slots
 *     0x003  u8  nr_values  value-entry slots
 *     0x008  u64 parent     parent node's physical address (0 at the top)
 *     0x010  u64 array      physical address of this order's xa_head word
 *     0x018  list_head      next, prev: both point at itself (node ctor)
 *     0x028  u64 slots[64]  slot k covers xi in [base + k << shift, +1 << shift)
 *     0x228  u64 marks[3]   left zero (no id allocation, see README)
 *
 * Heights: a tree whose only entry is at xi 0 keeps it in xa_head with no
 * node. Otherwise xa_head points at a node of shift s covering xi up to
 * (64 << s) - 1; each child's shift is its parent's minus 6; slots of a
 * shift-0 node hold bitmaps (value or pointer entries). The next kernel
 * reads each node's shift byte, so the height needs no other record; xi is
 * below 2^30 >> o, which bounds the top shift (24 for order 0, 6 for 18).
 *
 * Freeing, as the kernel's ida_free and xa_erase do: clearing the last bit
 * of an inline value erases the slot; clearing the last bit of a 128-byte
 * bitmap frees it and erases the slot (a bitmap is never turned back into a
 * value); an erased slot frees every node emptied on the way up and then
 * shrinks the top while it holds only slot 0.
 */
import { expectCompatible, getU64, u64Prop, type FdtNode, type FdtValue } from '../../src/fdt/fdt.ts';
import type { RestoreWalk } from '../../src/kexec/restore-walk.ts';
import type { SlabCache } from '../../src/ram/kernel-heap.ts';
import type { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE, type PhysMem } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';
import { MAX_ORDER, TrackerBase } from '../../src/tracker/tracker.ts';

export const IDA_COMPATIBLE = 'kho-ida-v1';
export const IDA_ROOT_PROP = 'preserved-memory-map';
const NR_ORDERS = MAX_ORDER + 1;

export const IDA_BITMAP_BITS = 1024;
export const IDA_CHUNK_SIZE = 128;
const IDA_WORDS32 = IDA_CHUNK_SIZE / 4;
/** Bits an inline value entry holds: a u64 less its tag bit. */
export const BITS_PER_XA_VALUE = 63;

export const XA_CHUNK_SHIFT = 6;
export const XA_CHUNK_SIZE = 64;
export const XA_NODE_SIZE = 576;
/** struct xa_node field offsets (64-bit). shift/offset/count/nr_values are bytes 0..3 of one u32. */
export const NODE_PARENT = 8;
export const NODE_ARRAY = 16;
export const NODE_LIST = 24;
export const NODE_SLOTS = 40;
export const NODE_MARKS = 552;
/** Internal entries at or below this are the kernel's sibling/retry/zero entries, never nodes. */
const XA_NODE_MIN = 4096;

const TWO32 = 4294967296;
/** Page frame numbers are below 2^40 (52-bit physical addresses). */
const PFN_BITS = 40;
/** The most node levels any order-0 tree can need: xi < 2^30. */
const MAX_LEVELS = Math.ceil((PFN_BITS - 10) / XA_CHUNK_SHIFT);

/** Node levels needed to hold slot index `xi` (0 for xi 0: it lives in xa_head). */
export function levelsFor(xi: number): number {
  let levels = 0;
  while (xi >= 2 ** (XA_CHUNK_SHIFT * levels) && xi > 0) levels++;
  return levels;
}

/** The largest top-node shift a valid tree of this order can have (ids below 2^40 >> order). */
export function maxShift(order: number): number {
  return (levelsFor(2 ** (PFN_BITS - order - 10) - 1) - 1) * XA_CHUNK_SHIFT;
}

export class IdaTracker extends TrackerBase {
  readonly id = 'ida' as const;
  readonly serializes = false;
  /** Physical address of the page of 19 xa_head words. */
  readonly root: number;
  private readonly nodes: SlabCache;
  private readonly bitmaps: SlabCache;
  /** Objects allocated ahead of a change, so that a change never fails half done. */
  private readonly spareNodes = new Float64Array(2 * MAX_LEVELS);
  private nrSpareNodes = 0;
  private spareBitmap = 0;
  /** The node holding the slot buildPath returned (0 for the head). */
  private lastNode = 0;
  /** What find() reports (fields rather than an object: no allocation per preserve). */
  private foundSlot = -1;
  private foundNode = 0;
  private missingNodes = 0;

  constructor(machine: Machine) {
    super(machine);
    this.root = this.heap.allocPage();
    this.nodes = this.heap.slab(XA_NODE_SIZE);
    this.bitmaps = this.heap.slab(IDA_CHUNK_SIZE);
  }

  protected insert(phys: number, order: number): void {
    const id = phys / (PAGE_SIZE * 2 ** order);
    const xi = Math.floor(id / IDA_BITMAP_BITS);
    const bit = id - xi * IDA_BITMAP_BITS;
    const head = this.root + 8 * order;
    const need = levelsFor(xi);
    const have = this.find(head, xi);
    let slot = this.foundSlot;
    let node = this.foundNode;
    let newNodes = this.missingNodes;
    let grow = 0;
    if (need > have) {
      // The head is empty (build `need` levels) or must be pushed down under
      // new top levels; xi then lies right of slot 0 at the new top, so every
      // node below the top on its path is new as well.
      grow = isEmpty(this.mem, head) ? 0 : need - have;
      newNodes = grow === 0 ? need : grow + need - 1;
    }
    const needBitmap = bit >= BITS_PER_XA_VALUE && (slot < 0 || !isPointer(this.mem, slot));
    if (newNodes === 0 && !needBitmap) {
      this.setBit(slot, node, bit);
      return;
    }

    this.reserve(newNodes, needBitmap);
    if (grow > 0) this.grow(head, have, need);
    if (slot < 0) {
      slot = this.buildPath(head, xi, need);
      node = this.lastNode;
    }
    this.setBit(slot, node, bit);
  }

  protected remove(phys: number, order: number): void {
    const mem = this.mem;
    const id = phys / (PAGE_SIZE * 2 ** order);
    const xi = Math.floor(id / IDA_BITMAP_BITS);
    const bit = id - xi * IDA_BITMAP_BITS;
    const head = this.root + 8 * order;
    this.find(head, xi);
    const slot = this.foundSlot;
    const node = this.foundNode;
    if (slot < 0) return;

    const lo = mem.load32(slot);
    const hi = mem.load32(slot + 4);
    if ((lo | hi) === 0) return;
    // ida_free: a bit that is not set is left alone (the kernel warns and returns).
    if (lo & 1) {
      // A value entry: clear the bit, erase the slot once no bit is left.
      if (bit >= BITS_PER_XA_VALUE) return;
      const mask = bit < 31 ? 1 << (bit + 1) : 1 << (bit - 31);
      const half = bit < 31 ? lo : hi;
      if ((half & mask) === 0) return;
      const rest = (half & ~mask) >>> 0;
      if (bit < 31 ? rest === 1 && hi === 0 : rest === 0 && lo === 1) this.erase(head, slot, node, true);
      else mem.store32(bit < 31 ? slot : slot + 4, rest);
      return;
    }
    // A bitmap: clear the bit; free the bitmap once it is empty.
    const bitmap = lo + hi * TWO32;
    const word = bitmap + 4 * (bit >>> 5);
    const w = mem.load32(word);
    const mask = 1 << (bit & 31);
    if ((w & mask) === 0) return;
    mem.store32(word, (w & ~mask) >>> 0);
    if (bitmapEmpty(mem, bitmap)) {
      this.bitmaps.free(bitmap);
      this.erase(head, slot, node, false);
    }
  }

  protected handover(): Record<string, FdtValue> {
    return { compatible: IDA_COMPATIBLE, [IDA_ROOT_PROP]: u64Prop(this.root) };
  }

  /**
   * Walks the tree at `head` towards slot index `xi`, changing nothing, and
   * returns its node levels. Sets foundSlot (the entry's address, or -1 when
   * it does not exist yet), foundNode (the shift-0 node holding it, 0 for
   * the head) and missingNodes (nodes absent on the path inside the tree).
   */
  private find(head: number, xi: number): number {
    const mem = this.mem;
    let lo = mem.load32(head);
    let hi = mem.load32(head + 4);
    this.foundSlot = -1;
    this.foundNode = 0;
    this.missingNodes = 0;
    if ((lo & 3) !== 2) {
      if (xi === 0) this.foundSlot = head;
      return 0;
    }
    let node = lo - 2 + hi * TWO32;
    let shift = nodeShift(mem, node);
    const levels = shift / XA_CHUNK_SHIFT + 1;
    if (xi >= 2 ** (shift + XA_CHUNK_SHIFT)) return levels;
    for (;;) {
      const p = node + NODE_SLOTS + 8 * ((xi >>> shift) & (XA_CHUNK_SIZE - 1));
      if (shift === 0) {
        this.foundSlot = p;
        this.foundNode = node;
        return levels;
      }
      lo = mem.load32(p);
      hi = mem.load32(p + 4);
      if ((lo | hi) === 0) {
        this.missingNodes = shift / XA_CHUNK_SHIFT;
        return levels;
      }
      // The live tree keeps every child one level (6 index bits) below its parent.
      node = lo - 2 + hi * TWO32;
      shift -= XA_CHUNK_SHIFT;
    }
  }

  /** Sets `bit` in the IDA bitmap at `slot` (inside `node`, or the head when node is 0). */
  private setBit(slot: number, node: number, bit: number): void {
    const mem = this.mem;
    const lo = mem.load32(slot);
    const hi = mem.load32(slot + 4);
    if ((lo | hi) === 0) {
      if (bit < BITS_PER_XA_VALUE) {
        storeValueBit(mem, slot, 1, 0, bit);
        if (node) adjustCounts(mem, node, 1, 1);
      } else {
        const bitmap = this.takeBitmap();
        setBitmapBit(mem, bitmap, bit);
        mem.store64(slot, bitmap);
        if (node) adjustCounts(mem, node, 1, 0);
      }
    } else if (lo & 1) {
      if (bit < BITS_PER_XA_VALUE) {
        storeValueBit(mem, slot, lo, hi, bit);
      } else {
        // A high bit: the inline bits become word 0 of a real bitmap.
        const bitmap = this.takeBitmap();
        mem.store32(bitmap, ((lo >>> 1) | ((hi & 1) << 31)) >>> 0);
        mem.store32(bitmap + 4, hi >>> 1);
        setBitmapBit(mem, bitmap, bit);
        mem.store64(slot, bitmap);
        if (node) adjustCounts(mem, node, 0, -1);
      }
    } else {
      setBitmapBit(mem, lo + hi * TWO32, bit);
    }
  }

  /** Allocates every object a change needs up front; on failure frees them and rethrows. */
  private reserve(newNodes: number, needBitmap: boolean): void {
    try {
      while (this.nrSpareNodes < newNodes) {
        const node = this.nodes.alloc();
        this.spareNodes[this.nrSpareNodes++] = node;
      }
      if (needBitmap) this.spareBitmap = this.bitmaps.alloc();
    } catch (e) {
      while (this.nrSpareNodes > 0) this.nodes.free(this.spareNodes[--this.nrSpareNodes]);
      throw e;
    }
  }

  private takeNode(shift: number, parent: number, offset: number, head: number): number {
    const node = this.spareNodes[--this.nrSpareNodes];
    const mem = this.mem;
    mem.store32(node, shift | (offset << 8));
    mem.store64(node + NODE_PARENT, parent);
    mem.store64(node + NODE_ARRAY, head);
    mem.store64(node + NODE_LIST, node + NODE_LIST);
    mem.store64(node + NODE_LIST + 8, node + NODE_LIST);
    return node;
  }

  private takeBitmap(): number {
    const bitmap = this.spareBitmap;
    this.spareBitmap = 0;
    return bitmap;
  }

  /** xas_expand: pushes the head down under new top nodes until the tree has `need` levels. */
  private grow(head: number, have: number, need: number): void {
    const mem = this.mem;
    for (let level = have; level < need; level++) {
      const lo = mem.load32(head);
      const hi = mem.load32(head + 4);
      const node = this.takeNode(level * XA_CHUNK_SHIFT, 0, 0, head);
      mem.store32(node + NODE_SLOTS, lo);
      mem.store32(node + NODE_SLOTS + 4, hi);
      adjustCounts(mem, node, 1, lo & 1);
      if ((lo & 3) === 2) mem.store64(nodeOf(mem, head) + NODE_PARENT, node);
      mem.store64(head, node + 2);
    }
  }

  /** xas_create: walks to xi's slot, creating the missing nodes from the spares. */
  private buildPath(head: number, xi: number, need: number): number {
    const mem = this.mem;
    this.lastNode = 0;
    if (treeLevels(mem, head) === 0) {
      // No node yet: xi 0 stays in the head; any other xi gets a top node of the needed height.
      if (need === 0) return head;
      mem.store64(head, this.takeNode((need - 1) * XA_CHUNK_SHIFT, 0, 0, head) + 2);
    }
    let node = nodeOf(mem, head);
    for (;;) {
      const shift = nodeShift(mem, node);
      const offset = (xi >>> shift) & (XA_CHUNK_SIZE - 1);
      const p = node + NODE_SLOTS + 8 * offset;
      if (shift === 0) {
        this.lastNode = node;
        return p;
      }
      if (isEmpty(mem, p)) {
        mem.store64(p, this.takeNode(shift - XA_CHUNK_SHIFT, node, offset, head) + 2);
        adjustCounts(mem, node, 1, 0);
      }
      node = nodeOf(mem, p);
    }
  }

  /** xas_store(NULL): empties a slot, frees emptied nodes upwards, shrinks the top. */
  private erase(head: number, slot: number, node: number, wasValue: boolean): void {
    const mem = this.mem;
    mem.store64(slot, 0);
    if (node === 0) return;
    adjustCounts(mem, node, -1, wasValue ? -1 : 0);
    // xas_delete_node
    for (;;) {
      if (nodeCount(mem, node) !== 0) break;
      const parent = mem.load64(node + NODE_PARENT);
      const offset = (mem.load32(node) >>> 8) & 255;
      this.nodes.free(node);
      if (parent === 0) {
        mem.store64(head, 0);
        return;
      }
      mem.store64(parent + NODE_SLOTS + 8 * offset, 0);
      adjustCounts(mem, parent, -1, 0);
      node = parent;
    }
    if (mem.load64(node + NODE_PARENT) === 0) this.shrink(head, node);
  }

  /** xas_shrink: while the top node holds only slot 0, that entry becomes the head. */
  private shrink(head: number, node: number): void {
    const mem = this.mem;
    for (;;) {
      if (nodeCount(mem, node) !== 1) return;
      const lo = mem.load32(node + NODE_SLOTS);
      const hi = mem.load32(node + NODE_SLOTS + 4);
      if ((lo | hi) === 0) return;
      const isNode = (lo & 3) === 2;
      if (!isNode && nodeShift(mem, node) !== 0) return;
      mem.store32(head, lo);
      mem.store32(head + 4, hi);
      this.nodes.free(node);
      if (!isNode) return;
      node = nodeOf(mem, head);
      mem.store64(node + NODE_PARENT, 0);
    }
  }
}

function isEmpty(mem: PhysMem, entry: number): boolean {
  return (mem.load32(entry) | mem.load32(entry + 4)) === 0;
}

/** A non-empty entry with tag 00: a 128-byte bitmap. */
function isPointer(mem: PhysMem, entry: number): boolean {
  const lo = mem.load32(entry);
  return (lo & 3) === 0 && (lo | mem.load32(entry + 4)) !== 0;
}

/** The node an internal entry (live tree: always a node) points at. */
function nodeOf(mem: PhysMem, entry: number): number {
  return mem.load32(entry) - 2 + mem.load32(entry + 4) * TWO32;
}

function nodeShift(mem: PhysMem, node: number): number {
  return mem.load32(node) & 255;
}

function nodeCount(mem: PhysMem, node: number): number {
  return (mem.load32(node) >>> 16) & 255;
}

/** count += dCount, nr_values += dValues (bytes 2 and 3 of the header word; never out of range). */
function adjustCounts(mem: PhysMem, node: number, dCount: number, dValues: number): void {
  mem.store32(node, (mem.load32(node) + dCount * 0x10000 + dValues * 0x1000000) >>> 0);
}

/** Node levels of the tree at `head`: 0 when the head is empty or holds the xi 0 bitmap. */
function treeLevels(mem: PhysMem, head: number): number {
  if ((mem.load32(head) & 3) !== 2) return 0;
  return nodeShift(mem, nodeOf(mem, head)) / XA_CHUNK_SHIFT + 1;
}

/** Stores value entry (lo, hi) with `bit` (< 63) set: bit b is word bit b + 1. */
function storeValueBit(mem: PhysMem, slot: number, lo: number, hi: number, bit: number): void {
  if (bit < 31) {
    mem.store32(slot, (lo | (1 << (bit + 1))) >>> 0);
  } else {
    mem.store32(slot, lo);
    mem.store32(slot + 4, (hi | (1 << (bit - 31))) >>> 0);
  }
}

function setBitmapBit(mem: PhysMem, bitmap: number, bit: number): void {
  const word = bitmap + 4 * (bit >>> 5);
  mem.store32(word, (mem.load32(word) | (1 << (bit & 31))) >>> 0);
}

function bitmapEmpty(mem: PhysMem, bitmap: number): boolean {
  for (let w = 0; w < IDA_WORDS32; w++) if (mem.load32(bitmap + 4 * w) !== 0) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Next kernel: walk every order's tree from the root page.

const corrupt = (why: string): never => {
  throw new KhoError('ECORRUPT', why);
};

export function restoreIda(walk: RestoreWalk, fdt: FdtNode): void {
  expectCompatible(fdt, IDA_COMPATIBLE);
  const root = walk.enter(getU64(fdt, IDA_ROOT_PROP), PAGE_SIZE, 'root');
  for (let order = 0; order < NR_ORDERS; order++) restoreEntry(walk, root + 8 * order, -1, 0, order);
}

/**
 * Restores the entry at `entry`: the head (parentShift -1) or a slot of a
 * node of `parentShift`, covering slot indices from `xi`.
 */
function restoreEntry(walk: RestoreWalk, entry: number, parentShift: number, xi: number, order: number): void {
  const mem = walk.mem;
  const lo = mem.load32(entry);
  const hi = mem.load32(entry + 4);
  if ((lo | hi) === 0) return;
  const tag = lo & 3;
  if (tag !== 2) {
    // A bitmap: only in the head (for xi 0) or in a shift-0 node.
    if (parentShift > 0) corrupt(`order ${order}: bitmap entry ${hex(lo + hi * TWO32)} in a node of shift ${parentShift}`);
    if (tag & 1) reportValue(walk, lo, hi, xi, order);
    else reportBitmap(walk, walk.enter(lo + hi * TWO32, IDA_CHUNK_SIZE, 'bitmap'), xi, order);
    return;
  }
  if (parentShift === 0) corrupt(`order ${order}: node entry below a shift-0 node`);
  if (hi === 0 && lo <= XA_NODE_MIN) corrupt(`order ${order}: internal entry ${hex(lo)} is not a node`);
  const node = walk.enter(lo - 2 + hi * TWO32, XA_NODE_SIZE, 'node');
  const shift = mem.load32(node) & 255;
  if (parentShift < 0) {
    if (shift % XA_CHUNK_SHIFT !== 0 || shift > maxShift(order)) {
      corrupt(`order ${order}: top node shift ${shift} (at most ${maxShift(order)}, a multiple of 6)`);
    }
  } else if (shift !== parentShift - XA_CHUNK_SHIFT) {
    corrupt(`order ${order}: node shift ${shift} under a node of shift ${parentShift}`);
  }
  const span = 2 ** shift;
  for (let k = 0; k < XA_CHUNK_SIZE; k++) restoreEntry(walk, node + NODE_SLOTS + 8 * k, shift, xi + k * span, order);
}

/** Reports the inline bits of a value entry: id bit b is word bit b + 1. */
function reportValue(walk: RestoreWalk, lo: number, hi: number, xi: number, order: number): void {
  reportWord(walk, lo >>> 1, xi * IDA_BITMAP_BITS, order);
  reportWord(walk, hi, xi * IDA_BITMAP_BITS + 31, order);
}

function reportBitmap(walk: RestoreWalk, bitmap: number, xi: number, order: number): void {
  const mem = walk.mem;
  for (let w = 0; w < IDA_WORDS32; w++) reportWord(walk, mem.load32(bitmap + 4 * w), xi * IDA_BITMAP_BITS + 32 * w, order);
}

/** Reports folio ids `first + b` for each set bit b of the u32 `x`. */
function reportWord(walk: RestoreWalk, x: number, first: number, order: number): void {
  const folio = PAGE_SIZE * 2 ** order;
  while (x !== 0) {
    const b = 31 - Math.clz32(x & -x);
    x &= x - 1;
    walk.folio((first + b) * folio, order);
  }
}
