/**
 * A Linux xarray living in simulated RAM: the part of lib/xarray.c that
 * KHO's 6.16..6.18 tracker exercises (xa_load, xa_store of pointer entries,
 * xa_for_each), with the kernel's node layout and growth rules.
 *
 * struct xarray (16 bytes; callers pass its address `xa`):
 *   0x00  u32 xa_lock             (unused here, left 0)
 *   0x04  u32 xa_flags            (0: plain xa_init, no marks tracked)
 *   0x08  u64 xa_head             entry: 0, a pointer, or an internal node entry
 *
 * struct xa_node (576 bytes, from a 576-byte slab: 7 per page):
 *   0x000 u8  shift               index bits below this node's slots (0, 6, 12, ...)
 *   0x001 u8  offset              slot number in the parent
 *   0x002 u8  count               non-empty slots
 *   0x003 u8  nr_values           value entries among them (always 0 here)
 *   0x008 u64 parent              plain address of the parent node, 0 at the top
 *   0x010 u64 array               address of the owning struct xarray
 *   0x018 list_head private_list  {next, prev}, both pointing at itself (empty)
 *   0x028 u64 slots[64]
 *   0x228 u64 marks[3]            (never set: KHO's xarrays track no marks)
 *
 * Entries (low two bits, as in the kernel): 00 a pointer (here a physical
 * address), 10 an internal entry; a node entry is the node's address | 2.
 * The tree has variable height: a lone entry at index 0 sits in xa_head with
 * no node, and a new top level is added only when an index exceeds the
 * current maximum, (64 << top shift) - 1. A store walks down from the head
 * creating missing nodes (xas_expand, then xas_create); a load walks down
 * reading each node's shift and one slot per level (xas_load).
 *
 * Indices are limited to 0 .. 2^32 - 1 (a top shift of at most 30), which is
 * far more than KHO needs (order <= 18, bitmap index < 2^28), and keeps the
 * per-level slot arithmetic in 32-bit integer operations.
 *
 * One `XArrayOps` object serves every xarray of a tracker: it holds no
 * per-node state, only the memory, the node slab, and the result of the last
 * `find` (so that iteration allocates no JS objects).
 */
import type { SlabCache } from '../../src/ram/kernel-heap.ts';
import type { PhysMem } from '../../src/ram/phys-mem.ts';
import { KhoError, hex } from '../../src/tracker/errors.ts';

export const XA_CHUNK_SHIFT = 6;
export const XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT;
const XA_CHUNK_MASK = XA_CHUNK_SIZE - 1;

/** sizeof(struct xarray) and the offset of xa_head in it. */
export const XARRAY_SIZE = 16;
export const XA_HEAD = 8;

/** sizeof(struct xa_node) on 64-bit, and its field offsets. */
export const XA_NODE_SIZE = 576;
export const NODE_SHIFT = 0;
export const NODE_OFFSET = 1;
export const NODE_COUNT = 2;
export const NODE_NR_VALUES = 3;
export const NODE_PARENT = 8;
export const NODE_ARRAY = 16;
export const NODE_PRIVATE_LIST = 24;
export const NODE_SLOTS = 40;
export const NODE_MARKS = NODE_SLOTS + 8 * XA_CHUNK_SIZE;

/** The largest index this implementation takes. */
export const XA_MAX_INDEX = 0xffffffff;

/** An internal entry whose payload is a node address (the kernel also demands > 4096). */
export function isNodeEntry(entry: number): boolean {
  return (entry & 3) === 2 && entry > 4096;
}

export class XArrayOps {
  /** Set by a successful `find`: the index and entry found. */
  foundIndex = 0;
  foundEntry = 0;

  constructor(
    private readonly mem: PhysMem,
    private readonly nodes: SlabCache,
  ) {
    if (nodes.size !== XA_NODE_SIZE) throw new KhoError('EINVAL', `xa_node slab must hold ${XA_NODE_SIZE}-byte objects`);
  }

  /** xa_load: the entry at `index`, or 0. */
  load(xa: number, index: number): number {
    const mem = this.mem;
    let entry = mem.load64(xa + XA_HEAD);
    if (!isNodeEntry(entry)) return index === 0 ? entry : 0;
    let node = entry - 2;
    let shift = mem.load32(node) & 0xff;
    // Beyond the top node's reach (xas_start's bounds check).
    if (index > XA_MAX_INDEX || index >= 2 ** (shift + XA_CHUNK_SHIFT)) return 0;
    for (;;) {
      entry = mem.load64(node + NODE_SLOTS + ((index >>> shift) & XA_CHUNK_MASK) * 8);
      if (shift === 0 || !isNodeEntry(entry)) return entry;
      node = entry - 2;
      shift = mem.load32(node) & 0xff;
    }
  }

  /**
   * xa_store of a non-NULL pointer entry; returns the entry it replaced (0
   * if none). Grows the tree as the kernel does: first new top levels until
   * the index fits (xas_expand), then missing nodes on the way down
   * (xas_create). If a node allocation fails, the nodes already linked stay
   * in the tree, empty, as in the kernel; loads and finds skip them and a
   * later store reuses them.
   */
  store(xa: number, index: number, entry: number): number {
    if (!Number.isInteger(index) || index < 0 || index > XA_MAX_INDEX) {
      throw new KhoError('EINVAL', `xarray index ${index} outside 0..${hex(XA_MAX_INDEX)}`);
    }
    if (entry === 0 || entry % 4 !== 0) throw new KhoError('EINVAL', `xa_store of non-pointer entry ${hex(entry)}`);
    const mem = this.mem;
    const headPa = xa + XA_HEAD;
    let head = mem.load64(headPa);
    let shift = 0;

    // xas_expand: how many levels the index needs, adding top levels above an existing tree.
    if (head === 0) {
      if (index !== 0) {
        while (index >>> shift > XA_CHUNK_MASK) shift += XA_CHUNK_SHIFT;
        shift += XA_CHUNK_SHIFT;
      }
    } else {
      if (isNodeEntry(head)) shift = (mem.load32(head - 2) & 0xff) + XA_CHUNK_SHIFT;
      // max_index(head) is 0 for a lone entry in the head, else (64 << shift) - 1.
      while (index > (isNodeEntry(head) ? 2 ** shift - 1 : 0)) {
        const top = this.allocNode(xa, shift, 0, 0);
        mem.store32(top, shift | (1 << 16)); // count = 1: the old head in slot 0
        mem.store64(top + NODE_SLOTS, head);
        if (isNodeEntry(head)) {
          const child = head - 2;
          mem.store32(child, mem.load32(child) & ~0xff00); // offset 0 in its new parent
          mem.store64(child + NODE_PARENT, top);
        }
        head = top + 2;
        mem.store64(headPa, head);
        shift += XA_CHUNK_SHIFT;
      }
    }

    // xas_create: descend from the head, creating each missing node.
    let slot = headPa;
    let parent = 0;
    let offset = 0;
    let cur = head;
    while (shift > 0) {
      shift -= XA_CHUNK_SHIFT;
      if (cur === 0) {
        const node = this.allocNode(xa, shift, parent, offset);
        cur = node + 2;
        mem.store64(slot, cur);
      } else if (!isNodeEntry(cur)) {
        break;
      }
      parent = cur - 2;
      offset = (index >>> (mem.load32(parent) & 0xff)) & XA_CHUNK_MASK;
      slot = parent + NODE_SLOTS + offset * 8;
      cur = mem.load64(slot);
    }

    mem.store64(slot, entry);
    if (cur === 0 && parent !== 0) this.bumpCount(parent, 1);
    return cur;
  }

  /**
   * xa_find: the first present entry at an index >= `start`; sets
   * foundIndex/foundEntry and returns true, or returns false. Like the
   * kernel's xa_for_each step, it walks down from the head each call, then
   * scans forward, climbing through parent pointers past exhausted nodes.
   */
  find(xa: number, start: number): boolean {
    const mem = this.mem;
    let entry = mem.load64(xa + XA_HEAD);
    if (entry === 0 || start > XA_MAX_INDEX) return false;
    if (!isNodeEntry(entry)) {
      if (start !== 0) return false;
      this.foundIndex = 0;
      this.foundEntry = entry;
      return true;
    }
    let node = entry - 2;
    let shift = mem.load32(node) & 0xff;
    if (start >= 2 ** (shift + XA_CHUNK_SHIFT)) return false;
    let base = 0; // first index covered by `node`
    let index = start; // smallest index still wanted
    let offset = (start >>> shift) & XA_CHUNK_MASK;
    for (;;) {
      let o = offset;
      for (; o < XA_CHUNK_SIZE; o++) {
        entry = mem.load64(node + NODE_SLOTS + o * 8);
        if (entry !== 0) break;
      }
      if (o < XA_CHUNK_SIZE) {
        const slotBase = base + o * 2 ** shift;
        if (slotBase > index) index = slotBase;
        if (shift === 0 || !isNodeEntry(entry)) {
          this.foundIndex = index;
          this.foundEntry = entry;
          return true;
        }
        node = entry - 2;
        base = slotBase;
        shift = mem.load32(node) & 0xff;
        offset = Math.floor((index - base) / 2 ** shift) & XA_CHUNK_MASK;
      } else {
        // This node is exhausted: continue after it in its parent.
        const up = mem.load64(node + NODE_PARENT);
        if (up === 0) return false;
        const myOffset = (mem.load32(node) >>> 8) & 0xff;
        shift += XA_CHUNK_SHIFT;
        base -= myOffset * 2 ** shift;
        node = up;
        offset = myOffset + 1;
      }
    }
  }

  /** Nodes in the tree (a depth-first count, for tests and accounting). */
  countNodes(xa: number): number {
    const head = this.mem.load64(xa + XA_HEAD);
    return isNodeEntry(head) ? this.countBelow(head - 2) : 0;
  }

  private countBelow(node: number): number {
    let n = 1;
    if ((this.mem.load32(node) & 0xff) === 0) return n;
    for (let o = 0; o < XA_CHUNK_SIZE; o++) {
      const entry = this.mem.load64(node + NODE_SLOTS + o * 8);
      if (isNodeEntry(entry)) n += this.countBelow(entry - 2);
    }
    return n;
  }

  /**
   * xas_alloc plus the slab constructor: a zeroed node with its shift, its
   * place under `parent` (whose count grows), its array and an empty list.
   */
  private allocNode(xa: number, shift: number, parent: number, offset: number): number {
    const node = this.nodes.alloc();
    const mem = this.mem;
    mem.store32(node, shift | (offset << 8));
    mem.store64(node + NODE_PARENT, parent);
    mem.store64(node + NODE_ARRAY, xa);
    mem.store64(node + NODE_PRIVATE_LIST, node + NODE_PRIVATE_LIST);
    mem.store64(node + NODE_PRIVATE_LIST + 8, node + NODE_PRIVATE_LIST);
    if (parent !== 0) this.bumpCount(parent, 1);
    return node;
  }

  private bumpCount(node: number, by: number): void {
    const word = this.mem.load32(node);
    this.mem.store32(node, (word & ~0xff0000) | ((((word >>> 16) & 0xff) + by) << 16));
  }
}
