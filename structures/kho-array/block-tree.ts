/**
 * The KHO array's blocks: a B+ tree of 4 KiB pages holding a set of
 * positions (integers below 2^45) as runs of consecutive positions, linked
 * by physical address and handed over in place. Every page is a block and
 * begins with one little-endian u64 header:
 *
 *   bit  0       flags         0: a leaf block (runs follow), 1: an index block (children follow)
 *   bits 1..13   num_entries   runs (leaf, at most 511) or children (index, 1..255)
 *   bits 14..63  pos_increment the block's position, as an increment from position 0:
 *                              a leaf's runs are measured from it; an index block's
 *                              equals the key of its first child
 *
 *   leaf block    u64 run[i] at 0x008 + 8 i, i < num_entries:
 *                   bits 0..44   start - pos_increment (the run's first position)
 *                   bits 45..63  length: positions in the run, 1 .. 2^19 - 1
 *                 Runs ascend and do not overlap: each starts at or after
 *                 the end of the one before it.
 *   index block   u64 key[i] at 0x008 + 16 i, u64 child[i] at 0x010 + 16 i:
 *                 keys ascend; child i is the physical address of a block
 *                 whose pos_increment is key[i] and which holds the runs
 *                 within [key[i], key[i + 1]) (the parent's bound for the last).
 *
 * All leaves are at the same depth. Every block but the root holds at least
 * half its capacity (256 runs, 128 children); an index root has at least 2
 * children. The root page never moves: the tree grows by moving the root's
 * contents into a new page below it, and shrinks by copying its only child
 * back up. The leftmost block of every level has position 0.
 *
 * Insert of a position: walk down (binary search in each index block, then
 * in the leaf), then extend the run that ends at it, prepend it to the run
 * that starts just after it, join both (the caller says which joins are
 * allowed), or add a one-position run, moving the runs after it up by 8
 * bytes each (at most 510). Runs are joined only within one block. A full
 * leaf splits in two halves of 256 (the new run going to the half that has
 * 255), which adds a child to its parent, and so on up; every page a split
 * needs is allocated before anything changes, so ENOMEM leaves the tree as
 * it was. Remove shortens, deletes or cuts a run in two; cutting needs one
 * more run, so remove can split a leaf and fail with ENOMEM the same way.
 * A block left under half full takes entries from a sibling (evening the
 * two out) or merges with it, freeing a page; neither allocates.
 *
 * Worst case: every position its own run (8 bytes), in leaves of 256 runs
 * (16 bytes a position), and at most one index block per 128 leaves below it:
 * pages <= 1 + (1 + 1/127) * positions / 256, i.e. 16.13 bytes a position
 * plus one page.
 *
 * Runs are u64s read and written as two int32 words: the start's low 32
 * bits, then its bits 32..44 with the length above them.
 */
import type { KernelHeap } from '../../src/ram/kernel-heap.ts';
import { INV_TWO32, PAGE_WORDS32, type PhysMem } from '../../src/ram/phys-mem.ts';

export const KA_MAX_RUNS = 511;
export const KA_MAX_CHILDREN = 255;
/** Levels of blocks, root and leaves included, that a tree over 2^45 positions can need. */
export const KA_MAX_LEVELS = 8;

const KA_INDEX_FLAG = 1;
const KA_MIN_RUNS = 256;
const KA_MIN_CHILDREN = 128;
const KA_MAX_RUN_LENGTH = 2 ** 19 - 1;
const NUM_MASK = 0x1fff << 1;
const POS_SHIFT = 14;
const POS_LOW = 2 ** 18;
const INV_POS_LOW = 2 ** -18;
const START_HIGH_MASK = 0x1fff;
const LENGTH_SHIFT = 13;
const TWO32 = 4294967296;

// ---------------------------------------------------------------------------
// Fields of a block at word index b (see PhysMem.base).

export function blockIsIndex(mem: PhysMem, b: number): boolean {
  return (mem.ld(b) & KA_INDEX_FLAG) !== 0;
}

export function blockEntries(mem: PhysMem, b: number): number {
  return (mem.ld(b) & NUM_MASK) >>> 1;
}

export function blockPos(mem: PhysMem, b: number): number {
  return (mem.ld(b) >>> POS_SHIFT) + (mem.ld(b + 1) >>> 0) * POS_LOW;
}

/** Run i's start, relative to its block's position. */
export function runOffset(mem: PhysMem, b: number, i: number): number {
  return (mem.ld(b + 2 + 2 * i) >>> 0) + (mem.ld(b + 3 + 2 * i) & START_HIGH_MASK) * TWO32;
}

export function runLength(mem: PhysMem, b: number, i: number): number {
  return mem.ld(b + 3 + 2 * i) >>> LENGTH_SHIFT;
}

export function childKey(mem: PhysMem, b: number, i: number): number {
  return mem.ld64(b + 2 + 4 * i);
}

export function childAddress(mem: PhysMem, b: number, i: number): number {
  return mem.ld64(b + 4 + 4 * i);
}

function setHeader(mem: PhysMem, b: number, index: boolean, n: number, pos: number): void {
  mem.st(b, (index ? KA_INDEX_FLAG : 0) | (n << 1) | ((pos & (POS_LOW - 1)) << POS_SHIFT));
  mem.st(b + 1, (pos * INV_POS_LOW) | 0);
}

function setEntries(mem: PhysMem, b: number, n: number): void {
  mem.st(b, (mem.ld(b) & ~NUM_MASK) | (n << 1));
}

function setRun(mem: PhysMem, b: number, i: number, offset: number, length: number): void {
  mem.st(b + 2 + 2 * i, offset | 0);
  mem.st(b + 3 + 2 * i, ((offset * INV_TWO32) & START_HIGH_MASK) | (length << LENGTH_SHIFT));
}

function setChild(mem: PhysMem, b: number, i: number, key: number, child: number): void {
  mem.st64(b + 2 + 4 * i, key);
  mem.st64(b + 4 + 4 * i, child);
}

/** Words per entry: a run is one u64, a child two. */
function width(index: boolean): number {
  return index ? 4 : 2;
}

function capacity(index: boolean): number {
  return index ? KA_MAX_CHILDREN : KA_MAX_RUNS;
}

/** The absolute position entry i of block b starts at. */
function entryStart(mem: PhysMem, b: number, i: number): number {
  return blockIsIndex(mem, b) ? childKey(mem, b, i) : blockPos(mem, b) + runOffset(mem, b, i);
}

/** The last run of leaf b (n runs) starting at or before `offset`, or -1. */
function runAtOrBefore(mem: PhysMem, b: number, n: number, offset: number): number {
  let lo = -1;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (runOffset(mem, b, mid) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The child of index block b whose range holds `pos` (the last key at or below it). */
function childSlot(mem: PhysMem, b: number, pos: number): number {
  let lo = 0;
  let hi = blockEntries(mem, b) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (childKey(mem, b, mid) <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** memmove of `count` entries of block b from entry `from` to entry `to`. */
function shiftEntries(mem: PhysMem, b: number, from: number, count: number, to: number): void {
  const w = width(blockIsIndex(mem, b));
  const src = b + 2 + w * from;
  const dst = b + 2 + w * to;
  mem.copyWords(dst, src, w * count);
}

/** Adds `shift` to the offsets of runs [from, from + count) of leaf b. */
function rebaseRuns(mem: PhysMem, b: number, from: number, count: number, shift: number): void {
  if (shift === 0) return;
  for (let i = from; i < from + count; i++) setRun(mem, b, i, runOffset(mem, b, i) + shift, runLength(mem, b, i));
}

/** Copies entries [from, from + count) of block src to entry `to` of block dst (another page of the same kind). */
function moveEntries(mem: PhysMem, src: number, from: number, count: number, dst: number, to: number): void {
  const index = blockIsIndex(mem, src);
  const w = width(index);
  const s = src + 2 + w * from;
  const d = dst + 2 + w * to;
  mem.copyWords(d, s, w * count);
  if (!index) rebaseRuns(mem, dst, to, count, blockPos(mem, src) - blockPos(mem, dst));
}

/** Moves block b's position to `pos`, keeping its runs where they are. */
function setBlockPos(mem: PhysMem, b: number, pos: number): void {
  const index = blockIsIndex(mem, b);
  if (!index) rebaseRuns(mem, b, 0, blockEntries(mem, b), blockPos(mem, b) - pos);
  setHeader(mem, b, index, blockEntries(mem, b), pos);
}

/** Inserts at entry p of block b, which has room, the run (start, length) or the child (start, address). */
function putEntry(mem: PhysMem, b: number, p: number, start: number, payload: number): void {
  const n = blockEntries(mem, b);
  shiftEntries(mem, b, p, n - p, p + 1);
  if (blockIsIndex(mem, b)) setChild(mem, b, p, start, payload);
  else setRun(mem, b, p, start - blockPos(mem, b), payload);
  setEntries(mem, b, n + 1);
}

function copyPage(mem: PhysMem, from: number, to: number): void {
  mem.copyWords(to, from, PAGE_WORDS32);
}

export class BlockTree {
  /** Physical address of the root block (it never moves). */
  readonly root: number;
  private readonly rootBase: number;
  /** The last walk down: word index of the block at each level (0 = root) and the child taken there. */
  private readonly pathBase = new Int32Array(KA_MAX_LEVELS + 1);
  private readonly pathSlot = new Int32Array(KA_MAX_LEVELS + 1);
  /** Level of the leaf in the last walk. */
  private depth = 0;
  /** Pages allocated ahead of a split. */
  private readonly fresh = new Float64Array(KA_MAX_LEVELS + 1);
  private nFresh = 0;

  constructor(
    private readonly mem: PhysMem,
    private readonly heap: KernelHeap,
  ) {
    // A zeroed page is an empty leaf at position 0.
    this.root = heap.allocPage();
    this.rootBase = mem.base(this.root);
  }

  /**
   * Adds `pos`; returns false if it was already there. `joinLeft` allows
   * extending a run that ends at pos, `joinRight` prepending to one that
   * starts at pos + 1 (both: joining them).
   */
  insert(pos: number, joinLeft: boolean, joinRight: boolean): boolean {
    const mem = this.mem;
    const b = this.descend(pos);
    const n = blockEntries(mem, b);
    const offset = pos - blockPos(mem, b);
    const i = runAtOrBefore(mem, b, n, offset);
    let leftStart = 0;
    let leftLength = 0;
    if (i >= 0) {
      leftStart = runOffset(mem, b, i);
      leftLength = runLength(mem, b, i);
      if (offset < leftStart + leftLength) return false;
    }
    const left = joinLeft && i >= 0 && leftStart + leftLength === offset && leftLength < KA_MAX_RUN_LENGTH;
    const adjacent = i + 1 < n && runOffset(mem, b, i + 1) === offset + 1;
    const rightLength = adjacent ? runLength(mem, b, i + 1) : 0;
    const right = joinRight && adjacent && rightLength < KA_MAX_RUN_LENGTH;
    if (left && right && leftLength + 1 + rightLength <= KA_MAX_RUN_LENGTH) {
      setRun(mem, b, i, leftStart, leftLength + 1 + rightLength);
      this.deleteEntry(this.depth, i + 1);
    } else if (left) {
      setRun(mem, b, i, leftStart, leftLength + 1);
    } else if (right) {
      setRun(mem, b, i + 1, offset, rightLength + 1);
    } else {
      if (n === KA_MAX_RUNS) this.reserve();
      this.addEntry(this.depth, i + 1, pos, 1);
    }
    return true;
  }

  /** Removes `pos` (a no-op if it is not there). Cutting a run in a full leaf needs a page: ENOMEM changes nothing. */
  remove(pos: number): void {
    const mem = this.mem;
    const b = this.descend(pos);
    const n = blockEntries(mem, b);
    const offset = pos - blockPos(mem, b);
    const i = runAtOrBefore(mem, b, n, offset);
    if (i < 0) return;
    const start = runOffset(mem, b, i);
    const length = runLength(mem, b, i);
    if (offset >= start + length) return;
    if (length === 1) {
      this.deleteEntry(this.depth, i);
    } else if (offset === start) {
      setRun(mem, b, i, start + 1, length - 1);
    } else if (offset === start + length - 1) {
      setRun(mem, b, i, start, length - 1);
    } else {
      if (n === KA_MAX_RUNS) this.reserve();
      setRun(mem, b, i, start, offset - start);
      this.addEntry(this.depth, i + 1, pos + 1, start + length - offset - 1);
    }
  }

  /** Walks from the root to the leaf whose range holds `pos`, recording the path; returns the leaf's word index. */
  private descend(pos: number): number {
    const mem = this.mem;
    let b = this.rootBase;
    let d = 0;
    while (blockIsIndex(mem, b)) {
      const slot = childSlot(mem, b, pos);
      this.pathBase[d] = b;
      this.pathSlot[d] = slot;
      const e = b + 4 + 4 * slot;
      b = mem.follow(mem.ld(e), mem.ld(e + 1));
      d++;
    }
    this.pathBase[d] = b;
    this.depth = d;
    return b;
  }

  /**
   * Allocates every page that adding an entry to the full leaf of the last
   * walk needs: its new sibling, one for each full index block above it,
   * and one more if the root itself splits. All or none: on ENOMEM the pages
   * taken are freed and the error rethrown.
   */
  private reserve(): void {
    let need = 1;
    let k = this.depth - 1;
    while (k >= 0 && blockEntries(this.mem, this.pathBase[k]) === KA_MAX_CHILDREN) {
      need++;
      k--;
    }
    if (k < 0) need++;
    try {
      while (this.nFresh < need) {
        const pa = this.heap.allocPage(); // before the index moves: it may throw
        this.fresh[this.nFresh++] = pa;
      }
    } catch (e) {
      while (this.nFresh > 0) this.heap.freePage(this.fresh[--this.nFresh]);
      throw e;
    }
  }

  /** Adds the entry (start, payload) at p in the block at level k of the path, splitting full blocks with reserved pages. */
  private addEntry(k: number, p: number, start: number, payload: number): void {
    const b = this.pathBase[k];
    if (blockEntries(this.mem, b) < capacity(blockIsIndex(this.mem, b))) putEntry(this.mem, b, p, start, payload);
    else this.splitAndAdd(k, p, start, payload);
  }

  /**
   * Splits the full block at level k into itself and a new right sibling of
   * equal size once the entry at p is added, adds the entry to its half,
   * and adds the sibling to the parent.
   */
  private splitAndAdd(k: number, p: number, start: number, payload: number): void {
    if (k === 0) k = this.moveRootDown();
    const mem = this.mem;
    const b = this.pathBase[k];
    const index = blockIsIndex(mem, b);
    const cap = capacity(index);
    const half = (cap - 1) >>> 1;
    const s = p <= half ? half : half + 1;
    const rightStart = p === s && p > half ? start : entryStart(mem, b, s);
    const rightPa = this.fresh[--this.nFresh];
    const right = mem.base(rightPa);
    setHeader(mem, right, index, cap - s, rightStart);
    moveEntries(mem, b, s, cap - s, right, 0);
    setEntries(mem, b, s);
    if (p <= half) putEntry(mem, b, p, start, payload);
    else putEntry(mem, right, p - s, start, payload);
    this.addEntry(k - 1, this.pathSlot[k - 1] + 1, rightStart, rightPa);
  }

  /** The root's contents move to a reserved page, its only child; returns the new level of the old root block. */
  private moveRootDown(): number {
    const mem = this.mem;
    const pa = this.fresh[--this.nFresh];
    const moved = mem.base(pa);
    copyPage(mem, this.rootBase, moved);
    setHeader(mem, this.rootBase, true, 1, 0);
    setChild(mem, this.rootBase, 0, 0, pa);
    for (let k = this.depth; k >= 1; k--) {
      this.pathBase[k + 1] = this.pathBase[k];
      this.pathSlot[k + 1] = this.pathSlot[k];
    }
    this.pathSlot[1] = this.pathSlot[0];
    this.pathBase[1] = moved;
    this.pathSlot[0] = 0;
    this.depth++;
    return 1;
  }

  /** Deletes entry i of the block at level k of the path, then repairs an underfull block. */
  private deleteEntry(k: number, i: number): void {
    const mem = this.mem;
    const b = this.pathBase[k];
    const n = blockEntries(mem, b);
    shiftEntries(mem, b, i + 1, n - i - 1, i);
    setEntries(mem, b, n - 1);
    this.rebalance(k);
  }

  /**
   * A block under half full evens out with a sibling (the right one, else
   * the left) or, if both fit in one block, merges into the left one, whose
   * parent then loses an entry; an index root left with one child takes
   * its contents.
   */
  private rebalance(k: number): void {
    const mem = this.mem;
    const b = this.pathBase[k];
    const index = blockIsIndex(mem, b);
    if (k === 0) {
      if (index && blockEntries(mem, b) === 1) this.collapseRoot();
      return;
    }
    if (blockEntries(mem, b) >= (index ? KA_MIN_CHILDREN : KA_MIN_RUNS)) return;
    const parent = this.pathBase[k - 1];
    const slot = this.pathSlot[k - 1];
    const l = slot + 1 < blockEntries(mem, parent) ? slot : slot - 1;
    const e = parent + 4 + 4 * l;
    const a = mem.follow(mem.ld(e), mem.ld(e + 1));
    const c = mem.follow(mem.ld(e + 4), mem.ld(e + 5));
    const na = blockEntries(mem, a);
    const nc = blockEntries(mem, c);
    if (na + nc <= capacity(index)) {
      moveEntries(mem, c, 0, nc, a, na);
      setEntries(mem, a, na + nc);
      this.heap.freePage(childAddress(mem, parent, l + 1));
      this.deleteEntry(k - 1, l + 1);
    } else {
      this.share(a, na, c, nc);
      mem.st64(parent + 2 + 4 * (l + 1), blockPos(mem, c));
    }
  }

  /** Evens out the adjacent blocks a (left, na entries) and c (right, nc), moving c's position to its new first entry. */
  private share(a: number, na: number, c: number, nc: number): void {
    const mem = this.mem;
    const keep = (na + nc) >>> 1;
    if (na > keep) {
      const m = na - keep;
      setBlockPos(mem, c, entryStart(mem, a, keep));
      shiftEntries(mem, c, 0, nc, m);
      moveEntries(mem, a, keep, m, c, 0);
      setEntries(mem, a, keep);
      setEntries(mem, c, nc + m);
    } else {
      const m = keep - na;
      moveEntries(mem, c, 0, m, a, na);
      shiftEntries(mem, c, m, nc - m, 0);
      setEntries(mem, a, keep);
      setEntries(mem, c, nc - m);
      setBlockPos(mem, c, entryStart(mem, c, 0));
    }
  }

  /** The root's only child's contents move up into the root; the child's page is freed. */
  private collapseRoot(): void {
    const mem = this.mem;
    const pa = childAddress(mem, this.rootBase, 0);
    copyPage(mem, mem.base(pa), this.rootBase);
    this.heap.freePage(pa);
  }
}
