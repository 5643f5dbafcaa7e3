/**
 * A Linux xarray living in simulated RAM: the parts of lib/xarray.c that the
 * xarray-6.16/6.18 tracker (kho-xarray.ts) and the IDA tracker
 * (../ida/ida.ts) exercise, with the kernel's node layout, growth, erase and
 * shrink rules. This is the one tree implementation both use.
 *
 * struct xarray (16 bytes; callers pass its address `xa`):
 *   0x00  u32 xa_lock             (unused here, left 0)
 *   0x04  u32 xa_flags            (0: plain xa_init, no marks tracked)
 *   0x08  u64 xa_head             entry: 0, a pointer, a value, or a node entry
 * The IDA tracker's xarrays are bare head words (its root page holds one per
 * order): it builds its `XArrayOps` with headOffset 0, so `xa` is the head
 * word's own address, and that is what its nodes' `array` field holds.
 *
 * struct xa_node (576 bytes, from a 576-byte slab: 7 per page):
 *   0x000 u8  shift               index bits below this node's slots (0, 6, 12, ...)
 *   0x001 u8  offset              slot number in the parent
 *   0x002 u8  count               non-empty slots
 *   0x003 u8  nr_values           value entries among them
 *   0x008 u64 parent              plain address of the parent node, 0 at the top
 *   0x010 u64 array               address `xa` of the owning xarray
 *   0x018 list_head private_list  {next, prev}, both pointing at itself (empty)
 *   0x028 u64 slots[64]           slot k covers [base + (k << shift), base + ((k + 1) << shift))
 *   0x228 u64 marks[3]            (never set: neither tracker uses marks)
 *
 * Entries (low two bits, as in the kernel): 00 a pointer (here a physical
 * address; 0 is empty), x1 a value `(v << 1) | 1`, 10 an internal entry; a
 * node entry is the node's address | 2, always above 4096 (the kernel's
 * sibling, retry and zero internal entries, 0..4096, are never stored).
 * Entries are read and written as two u32 halves, so a value entry keeps all
 * 64 bits; `load`, `store` and `find` pass entries as numbers, which is exact
 * for pointers and nodes (below 2^53) but not for every value entry: a
 * holder of values (the IDA) uses `lookup` and `storeAt` and the halves.
 *
 * The tree has variable height: a lone entry at index 0 sits in xa_head with
 * no node, and a new top level is added only when an index exceeds the
 * current maximum, (64 << top shift) - 1. Every child's shift is its
 * parent's minus 6, and value and pointer entries sit only in the head or in
 * shift-0 nodes; walks down the tree rely on both. The operations:
 *
 *   lookup   (xas_load) the address of the slot that holds `index`, and
 *            the node holding it; or -1 and the number of nodes a store at
 *            `index` would create
 *   load     (xa_load) the entry at `index`
 *   create   (xas_create) grows the tree (xas_expand: new top levels, the
 *            old head going into slot 0 of each, nr_values = 1 if it is a
 *            value) and creates the missing nodes down to `index`'s slot
 *   storeAt  (xas_store at a located slot) writes an entry, keeps count and
 *            nr_values; a slot it empties frees every node left empty on the
 *            way up and then shrinks the top while it holds only slot 0
 *            (xas_delete_node, xas_shrink)
 *   store    (xa_store of a pointer) create, then storeAt
 *   find     (xa_find) the first entry at or after an index
 *   destroy  (xa_destroy) frees every node and empties the head
 *
 * Node allocation: `create` takes the nodes reserved by `reserve` first, and
 * allocates the rest from the slab as it goes (xas_alloc, which also uses a
 * preallocated node first). The 6.16/6.18 tracker reserves nothing: if an
 * allocation fails, the nodes already linked stay in the tree, empty, as in
 * the kernel; loads and finds skip them and a later store reuses them. The
 * IDA reserves every node a store needs (lookup counts them) before it
 * changes anything, so its stores never fail half done.
 *
 * Departures: freed nodes are freed at once (no RCU); xas_shrink neither
 * zeroes the freed node's count and nr_values nor poisons its slot 0 with
 * the retry entry; the slab constructor (zeroing, INIT_LIST_HEAD) runs at
 * every allocation. Indices are limited to 0 .. 2^32 - 1 (a top shift of at
 * most 30), far more than either tracker needs (KHO: bitmap index < 2^28;
 * IDA: slot index < 2^30), which keeps the per-level slot arithmetic in
 * 32-bit integer operations.
 *
 * One `XArrayOps` object serves every xarray of a tracker: it holds no
 * per-tree state, only the memory, the node slab, the reserved nodes, and
 * the results of the last `lookup`/`create` and `find` (fields, so that no
 * operation allocates JS objects).
 */
import type { SlabCache } from '../../src/ram/kernel-heap.ts';
import { INV_TWO32, type PhysMem } from '../../src/ram/phys-mem.ts';
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

/** Internal entries at or below this are the kernel's sibling/retry/zero entries, never nodes. */
export const XA_NODE_MIN = 4096;

/** The largest index this implementation takes. */
export const XA_MAX_INDEX = 0xffffffff;

const TWO32 = 4294967296;
/** The header word (bytes 0..3: shift, offset, count, nr_values) steps of count and nr_values. */
const COUNT_ONE = 1 << 16;
const VALUE_ONE = 0x1000000;

/** Node levels needed to hold `index` (0 for index 0: it can live in xa_head). */
export function levelsFor(index: number): number {
  let levels = 0;
  for (let i = index; i > 0; i = Math.floor(i / XA_CHUNK_SIZE)) levels++;
  return levels;
}

/** The most nodes one store can create: a 1-level tree grown to 6 levels, plus the 5 below the top. */
const MAX_NEW_NODES = 2 * levelsFor(XA_MAX_INDEX) - 1;

/** Word offsets of the node fields the walks read (the header word holds shift, offset, count, nr_values). */
const W_PARENT = NODE_PARENT / 4;
const W_SLOTS = NODE_SLOTS / 4;

/** 64 << shift for each shift 0..30 (the index limit of a top node), so no Math.pow on the walk. */
const INDEX_LIMIT = Float64Array.from({ length: 31 }, (_, s) => 2 ** (s + XA_CHUNK_SHIFT));

/** Word index of the byte address pa (through PhysMem.base). */
export function wordOf(mem: PhysMem, pa: number): number {
  return mem.base(pa) + ((pa & 4095) >>> 2);
}

/**
 * Word index of the object at the address in the entry lo:hi just loaded
 * from RAM (PhysMem.follow: a dependent access); the entry's two tag bits
 * fall away with the byte-to-word shift.
 */
export function followEntry(mem: PhysMem, lo: number, hi: number): number {
  return mem.follow(lo, hi) + ((lo & 4095) >>> 2);
}

/** Whether the entry lo:hi is a node entry (internal, above the kernel's small internal entries). */
function isNodeEntry(lo: number, hi: number): boolean {
  return (lo & 3) === 2 && (hi !== 0 || lo < 0 || lo > XA_NODE_MIN);
}

/** The address in the node entry lo:hi. */
function entryAddress(lo: number, hi: number): number {
  return (lo >>> 0) - 2 + hi * TWO32;
}

/** shift byte of a node. */
export function nodeShift(mem: PhysMem, node: number): number {
  return mem.load32(node) & 0xff;
}

/** The node that the entry stored at `pa` points at, or 0 when that entry is not a node entry. */
export function entryNode(mem: PhysMem, pa: number): number {
  const w = wordOf(mem, pa);
  const lo = mem.ld(w);
  const hi = mem.ld(w + 1);
  return isNodeEntry(lo, hi) ? entryAddress(lo, hi) : 0;
}

export class XArrayOps {
  /** Set by a successful `find`: the index and entry found. */
  foundIndex = 0;
  foundEntry = 0;
  /** Set by `lookup` and `create`: the node holding the slot returned (0: the head). */
  slotNode = 0;
  /** Set by `lookup` when it returns -1: the nodes a store at that index would create. */
  missingNodes = 0;
  /** Nodes allocated by `reserve`, taken last-first by `create`. */
  private readonly spare = new Float64Array(MAX_NEW_NODES);
  private nrSpare = 0;

  /**
   * `headOffset` is where xa_head lies in the object at `xa` (the address
   * every operation takes and every node's `array` holds): XA_HEAD in a
   * struct xarray, whose u32 xa_lock at offset 0 `store` takes; 0 for a bare
   * head word, whose owner does its own locking.
   */
  constructor(
    private readonly mem: PhysMem,
    private readonly nodes: SlabCache,
    private readonly headOffset = XA_HEAD,
  ) {
    if (nodes.size !== XA_NODE_SIZE) throw new KhoError('EINVAL', `xa_node slab must hold ${XA_NODE_SIZE}-byte objects`);
  }

  /** Nodes reserved and not yet used by a store. */
  get reservedNodes(): number {
    return this.nrSpare;
  }

  /**
   * The word index (see PhysMem) of the slot holding `index` (xa_head for
   * index 0 of a tree with no node), setting slotNode; or -1 when the tree
   * has no slot for it yet, setting missingNodes to the nodes `create`
   * would add (0 if `index` is out of range). Changes nothing.
   */
  lookup(xa: number, index: number): number {
    return this.lookupAt(wordOf(this.mem, xa + this.headOffset), index);
  }

  /** lookup() given the word index of the xarray's head word. */
  lookupAt(head: number, index: number): number {
    const mem = this.mem;
    this.slotNode = 0;
    this.missingNodes = 0;
    let lo = mem.ld(head);
    let hi = mem.ld(head + 1);
    if (!isNodeEntry(lo, hi)) {
      if (index === 0) return head;
      // No node: a top of the needed height; a lone entry first takes a shift-0 node.
      if (index <= XA_MAX_INDEX) this.missingNodes = (lo | hi) === 0 ? levelsFor(index) : 2 * levelsFor(index) - 1;
      return -1;
    }
    let node = entryAddress(lo, hi);
    let w = followEntry(mem, lo, hi);
    let shift = mem.ld(w) & 0xff;
    if (index > XA_MAX_INDEX) return -1;
    if (index >= INDEX_LIMIT[shift]) {
      // xas_expand adds levels up to the needed height, and index lies right of
      // slot 0 of the new top, so every node below the top on its path is new.
      this.missingNodes = 2 * levelsFor(index) - shift / XA_CHUNK_SHIFT - 2;
      return -1;
    }
    for (;;) {
      const p = w + W_SLOTS + 2 * ((index >>> shift) & XA_CHUNK_MASK);
      if (shift === 0) {
        this.slotNode = node;
        return p;
      }
      lo = mem.ld(p);
      hi = mem.ld(p + 1);
      if (isNodeEntry(lo, hi)) {
        node = entryAddress(lo, hi);
        w = followEntry(mem, lo, hi);
        shift -= XA_CHUNK_SHIFT;
      } else if ((lo | hi) === 0) {
        this.missingNodes = shift / XA_CHUNK_SHIFT;
        return -1;
      } else {
        // A non-node entry above shift 0 (a multi-index entry in the kernel; never stored here).
        this.slotNode = node;
        return p;
      }
    }
  }

  /** xa_load: the entry at `index`, or 0. */
  load(xa: number, index: number): number {
    const p = this.lookup(xa, index);
    return p < 0 ? 0 : this.mem.ld64(p);
  }

  /**
   * Allocates `n` nodes for the next `create` to use, all or none: on
   * ENOMEM frees those it took and rethrows.
   */
  reserve(n: number): void {
    if (n > MAX_NEW_NODES) throw new KhoError('EINVAL', `cannot reserve ${n} xa_nodes (one store needs ${MAX_NEW_NODES} at most)`);
    try {
      while (this.nrSpare < n) {
        const node = this.nodes.alloc(); // before the index moves: alloc may throw
        this.spare[this.nrSpare++] = node;
      }
    } catch (e) {
      this.unreserve();
      throw e;
    }
  }

  /** Frees the reserved nodes (last reserved first). */
  unreserve(): void {
    while (this.nrSpare > 0) this.nodes.free(this.spare[--this.nrSpare]);
  }

  /**
   * xas_expand then xas_create: adds top levels until `index` fits, then
   * creates the missing nodes on the way down; returns the word index of
   * `index`'s slot (set or not) and sets slotNode. Nodes come from the
   * reserve first, then from the slab; on ENOMEM the nodes already linked
   * stay in the tree, empty.
   */
  create(xa: number, index: number): number {
    checkIndex(index);
    const mem = this.mem;
    const headPa = xa + this.headOffset;
    let top = entryNode(mem, headPa);
    // Index bits resolved by the levels to walk: the top's shift + 6, 0 without a node.
    let shift = 0;
    if (top !== 0) {
      shift = nodeShift(mem, top) + XA_CHUNK_SHIFT;
    } else if (mem.load64(headPa) === 0) {
      shift = XA_CHUNK_SHIFT * levelsFor(index);
      top = -1; // an empty head: nothing to push down
    }

    // xas_expand: new top levels above an existing head (max index 0 for a lone entry).
    if (top >= 0) {
      while (index > (top !== 0 ? 2 ** shift - 1 : 0)) {
        const node = this.allocNode(xa, shift, 0, 0);
        const head = wordOf(mem, headPa);
        const w = wordOf(mem, node);
        const lo = mem.ld(head);
        mem.st(w, shift | COUNT_ONE | ((lo & 1) * VALUE_ONE)); // the old head in slot 0
        mem.st(w + W_SLOTS, lo);
        mem.st(w + W_SLOTS + 1, mem.ld(head + 1));
        if (top !== 0) {
          const t = wordOf(mem, top);
          mem.st(t, mem.ld(t) & ~0xff00); // offset 0 in its new parent
          mem.st64(t + W_PARENT, node);
        }
        mem.st64(head, node + 2);
        top = node;
        shift += XA_CHUNK_SHIFT;
      }
    }

    // xas_create: descend from the head, creating each missing node.
    let slot = wordOf(mem, headPa);
    let parent = 0;
    let offset = 0;
    while (shift > 0) {
      shift -= XA_CHUNK_SHIFT;
      const lo = mem.ld(slot);
      const hi = mem.ld(slot + 1);
      let node: number;
      if ((lo | hi) === 0) {
        node = this.allocNode(xa, shift, parent, offset);
        mem.st64(slot, node + 2);
      } else if (isNodeEntry(lo, hi)) {
        node = entryAddress(lo, hi);
      } else {
        break;
      }
      parent = node;
      offset = (index >>> shift) & XA_CHUNK_MASK;
      slot = wordOf(mem, node) + W_SLOTS + 2 * offset;
    }
    this.slotNode = parent;
    return slot;
  }

  /**
   * xas_store at a slot returned by lookup or create (a word index, in
   * `node`, 0 for the head): writes the entry lo + hi * 2^32, adjusts the
   * node's count and nr_values, and when the slot is emptied frees every
   * node left empty on the way up and shrinks the top (xas_delete_node,
   * xas_shrink).
   */
  storeAt(xa: number, slot: number, node: number, lo: number, hi: number): void {
    const mem = this.mem;
    const oldLo = mem.ld(slot);
    const oldHi = mem.ld(slot + 1);
    mem.st(slot, lo);
    mem.st(slot + 1, hi);
    if (node === 0) return;
    const dCount = ((lo | hi) !== 0 ? 1 : 0) - ((oldLo | oldHi) !== 0 ? 1 : 0);
    const dValues = (lo & 1) - (oldLo & 1);
    if (dCount === 0 && dValues === 0) return;
    const w = wordOf(mem, node);
    mem.st(w, (mem.ld(w) + dCount * COUNT_ONE + dValues * VALUE_ONE) | 0);
    if (dCount < 0) this.deleteNode(xa, node);
  }

  /**
   * xa_store of a non-NULL pointer entry under xa_lock (a struct xarray's
   * spinlock: a compare-and-exchange to take it, a plain store to release
   * it, as x86's queued spinlock does); returns the entry it replaced (0 if
   * none). Grows the tree as `create` does, taking nodes from the slab as it
   * goes (as the kernel); see there for a failed allocation.
   */
  store(xa: number, index: number, entry: number): number {
    checkIndex(index);
    if (entry === 0 || entry % 4 !== 0) throw new KhoError('EINVAL', `xa_store of non-pointer entry ${hex(entry)}`);
    const mem = this.mem;
    const lock = this.headOffset === XA_HEAD ? wordOf(mem, xa) : -1;
    if (lock >= 0) mem.atomicCas(lock, 0, 1);
    try {
      const slot = this.create(xa, index);
      const old = mem.ld64(slot);
      this.storeAt(xa, slot, this.slotNode, entry | 0, (entry * INV_TWO32) | 0);
      return old;
    } finally {
      if (lock >= 0) mem.st(wordOf(mem, xa), 0);
    }
  }

  /**
   * xa_find: the first present entry at an index >= `start`; sets
   * foundIndex/foundEntry and returns true, or returns false. Like the
   * kernel's xa_for_each step, it walks down from the head each call, then
   * scans forward, climbing through parent pointers past exhausted nodes.
   */
  find(xa: number, start: number): boolean {
    const mem = this.mem;
    const head = wordOf(mem, xa + this.headOffset);
    let lo = mem.ld(head);
    let hi = mem.ld(head + 1);
    if ((lo | hi) === 0 || start > XA_MAX_INDEX) return false;
    if (!isNodeEntry(lo, hi)) {
      if (start !== 0) return false;
      this.foundIndex = 0;
      this.foundEntry = (lo >>> 0) + hi * TWO32;
      return true;
    }
    let node = entryAddress(lo, hi);
    let w = followEntry(mem, lo, hi);
    let shift = mem.ld(w) & 0xff;
    if (start >= INDEX_LIMIT[shift]) return false;
    let base = 0; // first index covered by `node`
    let index = start; // smallest index still wanted
    let offset = (start >>> shift) & XA_CHUNK_MASK;
    for (;;) {
      let o = offset;
      for (; o < XA_CHUNK_SIZE; o++) {
        lo = mem.ld(w + W_SLOTS + 2 * o);
        hi = mem.ld(w + W_SLOTS + 2 * o + 1);
        if ((lo | hi) !== 0) break;
      }
      if (o < XA_CHUNK_SIZE) {
        const slotBase = base + o * 2 ** shift;
        if (slotBase > index) index = slotBase;
        if (shift === 0 || !isNodeEntry(lo, hi)) {
          this.foundIndex = index;
          this.foundEntry = (lo >>> 0) + hi * TWO32;
          return true;
        }
        node = entryAddress(lo, hi);
        w = followEntry(mem, lo, hi);
        base = slotBase;
        shift = mem.ld(w) & 0xff;
        offset = Math.floor((index - base) / 2 ** shift) & XA_CHUNK_MASK;
      } else {
        // This node is exhausted: continue after it in its parent.
        const up = mem.ld64(w + W_PARENT);
        if (up === 0) return false;
        const myOffset = (mem.ld(w) >>> 8) & 0xff;
        shift += XA_CHUNK_SHIFT;
        base -= myOffset * 2 ** shift;
        node = up;
        w = followEntry(mem, mem.ld(w + W_PARENT), mem.ld(w + W_PARENT + 1));
        offset = myOffset + 1;
      }
    }
  }

  /**
   * xa_destroy: frees every node of the tree and empties the head. The
   * entries themselves are the caller's (KHO's abort frees its bitmaps and
   * kho_mem_phys objects first).
   */
  destroy(xa: number): void {
    const top = entryNode(this.mem, xa + this.headOffset);
    if (top !== 0) this.freeBelow(top);
    this.mem.store64(xa + this.headOffset, 0);
  }

  private freeBelow(node: number): void {
    if (nodeShift(this.mem, node) !== 0) {
      for (let o = 0; o < XA_CHUNK_SIZE; o++) {
        const child = entryNode(this.mem, node + NODE_SLOTS + o * 8);
        if (child !== 0) this.freeBelow(child);
      }
    }
    this.nodes.free(node);
  }

  /** Nodes in the tree (a depth-first count, for tests and accounting). */
  countNodes(xa: number): number {
    const top = entryNode(this.mem, xa + this.headOffset);
    return top !== 0 ? this.countBelow(top) : 0;
  }

  private countBelow(node: number): number {
    let n = 1;
    if (nodeShift(this.mem, node) === 0) return n;
    for (let o = 0; o < XA_CHUNK_SIZE; o++) {
      const child = entryNode(this.mem, node + NODE_SLOTS + o * 8);
      if (child !== 0) n += this.countBelow(child);
    }
    return n;
  }

  /**
   * xas_alloc plus the slab constructor: a reserved node, else a new zeroed
   * one, with its shift, its place under `parent` (whose count grows), its
   * array and an empty list.
   */
  private allocNode(xa: number, shift: number, parent: number, offset: number): number {
    const node = this.nrSpare > 0 ? this.spare[--this.nrSpare] : this.nodes.alloc();
    const mem = this.mem;
    const w = wordOf(mem, node);
    mem.st(w, shift | (offset << 8));
    mem.st64(w + W_PARENT, parent);
    mem.st64(w + NODE_ARRAY / 4, xa);
    mem.st64(w + NODE_PRIVATE_LIST / 4, node + NODE_PRIVATE_LIST);
    mem.st64(w + NODE_PRIVATE_LIST / 4 + 2, node + NODE_PRIVATE_LIST);
    if (parent !== 0) {
      const p = wordOf(mem, parent);
      mem.st(p, (mem.ld(p) + COUNT_ONE) | 0);
    }
    return node;
  }

  /** xas_delete_node: frees `node` and its ancestors while they are empty; then xas_shrink. */
  private deleteNode(xa: number, node: number): void {
    const mem = this.mem;
    for (;;) {
      const w = wordOf(mem, node);
      if (((mem.ld(w) >>> 16) & 0xff) !== 0) break;
      const parent = mem.ld64(w + W_PARENT);
      const offset = (mem.ld(w) >>> 8) & 0xff;
      this.nodes.free(node);
      if (parent === 0) {
        mem.store64(xa + this.headOffset, 0);
        return;
      }
      const p = wordOf(mem, parent);
      mem.st64(p + W_SLOTS + 2 * offset, 0);
      mem.st(p, (mem.ld(p) - COUNT_ONE) | 0);
      node = parent;
    }
    if (mem.load64(node + NODE_PARENT) === 0) this.shrink(xa, node);
  }

  /** xas_shrink: while the top node holds only slot 0, that entry becomes the head and the node is freed. */
  private shrink(xa: number, node: number): void {
    const mem = this.mem;
    const head = wordOf(mem, xa + this.headOffset);
    for (;;) {
      const w = wordOf(mem, node);
      if (((mem.ld(w) >>> 16) & 0xff) !== 1) return;
      const lo = mem.ld(w + W_SLOTS);
      const hi = mem.ld(w + W_SLOTS + 1);
      if ((lo | hi) === 0) return;
      const isNode = (lo & 3) === 2;
      if (!isNode && (mem.ld(w) & 0xff) !== 0) return;
      mem.st(head, lo);
      mem.st(head + 1, hi);
      this.nodes.free(node);
      if (!isNode) return;
      node = entryAddress(lo, hi);
      mem.store64(node + NODE_PARENT, 0);
    }
  }
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > XA_MAX_INDEX) {
    throw new KhoError('EINVAL', `xarray index ${index} outside 0..${hex(XA_MAX_INDEX)}`);
  }
}
