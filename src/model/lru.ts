/**
 * Exact-LRU arrays in typed arrays: LruSets (set-associative) holds every
 * cache level and the STLB of the machine model; FullLru holds the L1 DTLB.
 *
 * Layout: `sets * ways` slots; set s owns slots [s*ways, (s+1)*ways), kept
 * in recency order, slot s*ways the most recently used. Empty slots hold
 * EMPTY and always sit at the tail of their set (insertion shifts the set
 * down and drops the last slot; removal shifts it up), so a lookup stops
 * at the first empty slot. Keys are non-negative integers below 2^53
 * (cache line numbers, TLB page numbers) stored exactly in a Float64Array.
 *
 * When asked for (the L1 only), each slot also has one flag byte (bit 0:
 * "brought in by the prefetcher, not used yet") and two float payloads (a
 * pending store miss: the op it belongs to and the cycle at which it
 * completes). Flags and payloads move with their key. Levels without them
 * move keys only: most of the work of a miss is these shifts.
 *
 * FullLru below is the fully associative variant (the L1 DTLB): exact LRU
 * by use stamps, found through a linear-probing hash index so that a hit
 * costs O(1) whatever its recency; only a miss scans for the oldest stamp.
 *
 * Memory is fixed at construction: nothing is allocated per address.
 */
export const EMPTY = -1;

export class LruSets {
  readonly keys: Float64Array;
  readonly flags: Uint8Array;
  /** Two floats per slot (payload A at 2i, payload B at 2i+1), or an empty array. */
  readonly aux: Float64Array;
  private readonly hasPayload: boolean;

  constructor(
    readonly sets: number,
    readonly ways: number,
    withPayload: boolean,
  ) {
    this.keys = new Float64Array(sets * ways).fill(EMPTY);
    this.hasPayload = withPayload;
    this.flags = new Uint8Array(withPayload ? sets * ways : 0);
    this.aux = new Float64Array(withPayload ? sets * ways * 2 : 0).fill(EMPTY);
  }

  /** Position of `key` in its set (0 = most recent), or -1; changes nothing. */
  find(key: number, set: number): number {
    const keys = this.keys;
    const base = set * this.ways;
    const ways = this.ways;
    for (let i = 0; i < ways; i++) {
      const k = keys[base + i];
      if (k === key) return i;
      if (k === EMPTY) return -1;
    }
    return -1;
  }

  /** Makes the entry at position `pos` of `set` the most recent. */
  promote(set: number, pos: number): void {
    if (pos === 0) return;
    const base = set * this.ways;
    const keys = this.keys;
    const key = keys[base + pos];
    for (let i = base + pos; i > base; i--) keys[i] = keys[i - 1];
    keys[base] = key;
    if (this.hasPayload) this.promotePayload(base, pos);
  }

  /** Inserts `key` (not present) as the most recent; returns the evicted key or EMPTY. */
  insert(key: number, set: number, flag: number): number {
    const ways = this.ways;
    const base = set * ways;
    const keys = this.keys;
    const victim = keys[base + ways - 1];
    for (let i = base + ways - 1; i > base; i--) keys[i] = keys[i - 1];
    keys[base] = key;
    if (this.hasPayload) this.insertPayload(base, ways, flag);
    return victim;
  }

  /** Removes the entry at position `pos` of `set`. */
  remove(set: number, pos: number): void {
    const ways = this.ways;
    const base = set * ways;
    const keys = this.keys;
    const last = base + ways - 1;
    for (let i = base + pos; i < last; i++) keys[i] = keys[i + 1];
    keys[last] = EMPTY;
    if (this.hasPayload) this.removePayload(base, pos, ways);
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.flags.fill(0);
    this.aux.fill(EMPTY);
  }

  private promotePayload(base: number, pos: number): void {
    const flags = this.flags;
    const flag = flags[base + pos];
    for (let i = base + pos; i > base; i--) flags[i] = flags[i - 1];
    flags[base] = flag;
    const aux = this.aux;
    const a = aux[2 * (base + pos)];
    const b = aux[2 * (base + pos) + 1];
    for (let i = base + pos; i > base; i--) {
      aux[2 * i] = aux[2 * i - 2];
      aux[2 * i + 1] = aux[2 * i - 1];
    }
    aux[2 * base] = a;
    aux[2 * base + 1] = b;
  }

  private insertPayload(base: number, ways: number, flag: number): void {
    const flags = this.flags;
    for (let i = base + ways - 1; i > base; i--) flags[i] = flags[i - 1];
    flags[base] = flag;
    const aux = this.aux;
    for (let i = base + ways - 1; i > base; i--) {
      aux[2 * i] = aux[2 * i - 2];
      aux[2 * i + 1] = aux[2 * i - 1];
    }
    aux[2 * base] = EMPTY;
    aux[2 * base + 1] = EMPTY;
  }

  private removePayload(base: number, pos: number, ways: number): void {
    const flags = this.flags;
    const last = base + ways - 1;
    for (let i = base + pos; i < last; i++) flags[i] = flags[i + 1];
    flags[last] = 0;
    const aux = this.aux;
    for (let i = base + pos; i < last; i++) {
      aux[2 * i] = aux[2 * i + 2];
      aux[2 * i + 1] = aux[2 * i + 3];
    }
    aux[2 * last] = EMPTY;
    aux[2 * last + 1] = EMPTY;
  }
}

/**
 * A fully associative LRU of `capacity` integer keys below 2^53. Entries
 * sit in fixed slots with a use stamp (a counter, exact up to 2^53 uses);
 * `index` is a linear-probing hash table of slot numbers (size a power of
 * two, at least twice the capacity, so probes stay short).
 */
export class FullLru {
  private readonly keys: Float64Array;
  private readonly stamps: Float64Array;
  private readonly index: Int32Array;
  private readonly indexMask: number;
  private used = 0;
  private clock = 0;

  constructor(readonly capacity: number) {
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.stamps = new Float64Array(capacity);
    let size = 4;
    while (size < capacity * 2) size *= 2;
    this.index = new Int32Array(size).fill(-1);
    this.indexMask = size - 1;
  }

  /** Looks `key` up and makes it the most recent; false on a miss (then call insert). */
  touch(key: number): boolean {
    const slot = this.slotOf(key);
    if (slot < 0) return false;
    this.stamps[slot] = ++this.clock;
    return true;
  }

  /** Inserts `key` (not present) as the most recent, evicting the least recent when full. */
  insert(key: number): void {
    let slot: number;
    if (this.used < this.capacity) slot = this.used++;
    else {
      slot = this.oldest();
      this.unindex(this.keys[slot]);
    }
    this.keys[slot] = key;
    this.stamps[slot] = ++this.clock;
    let h = hashKey(key) & this.indexMask;
    while (this.index[h] >= 0) h = (h + 1) & this.indexMask;
    this.index[h] = slot;
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.stamps.fill(0);
    this.index.fill(-1);
    this.used = 0;
    this.clock = 0;
  }

  private slotOf(key: number): number {
    const index = this.index;
    const mask = this.indexMask;
    for (let h = hashKey(key) & mask; ; h = (h + 1) & mask) {
      const slot = index[h];
      if (slot < 0) return -1;
      if (this.keys[slot] === key) return slot;
    }
  }

  private oldest(): number {
    const stamps = this.stamps;
    let best = 0;
    for (let i = 1; i < this.capacity; i++) if (stamps[i] < stamps[best]) best = i;
    return best;
  }

  /** Removes `key` from the index, shifting later entries of its probe run back (no tombstones). */
  private unindex(key: number): void {
    const index = this.index;
    const mask = this.indexMask;
    let h = hashKey(key) & mask;
    while (this.keys[index[h]] !== key) h = (h + 1) & mask;
    let hole = h;
    for (let j = (hole + 1) & mask; index[j] >= 0; j = (j + 1) & mask) {
      const home = hashKey(this.keys[index[j]]) & mask;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        index[hole] = index[j];
        hole = j;
      }
    }
    index[hole] = -1;
  }
}

/** Mixes both 32-bit halves of a key below 2^53 into a well-spread int32 (murmur3's finalizer). */
function hashKey(key: number): number {
  let h = (key | 0) ^ Math.imul((key / 4294967296) | 0, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
