/**
 * LruSets and FullLru against a plain-array reference LRU, on fixed
 * pseudo-random key streams (including keys above 2^32 and keys that
 * collide in the hash index), so that eviction order and the hash index's
 * deletions are exact.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY, FullLru, LruSets } from './lru.ts';

/** Most recent first. */
class RefLru {
  readonly keys: number[] = [];
  constructor(private readonly capacity: number) {}
  /** Returns whether `key` hit; inserts it on a miss; returns the victim through `evicted`. */
  access(key: number): { hit: boolean; evicted: number } {
    const i = this.keys.indexOf(key);
    if (i >= 0) {
      this.keys.splice(i, 1);
      this.keys.unshift(key);
      return { hit: true, evicted: EMPTY };
    }
    this.keys.unshift(key);
    const evicted = this.keys.length > this.capacity ? (this.keys.pop() as number) : EMPTY;
    return { hit: false, evicted };
  }
}

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

describe('FullLru', () => {
  for (const [capacity, universe, spread] of [
    [72, 100, 1],
    [4, 9, 2 ** 30],
    [16, 40, 2 ** 33 + 7],
  ] as const) {
    it(`matches a reference LRU (capacity ${capacity}, ${universe} keys ${spread} apart)`, () => {
      const lru = new FullLru(capacity);
      const ref = new RefLru(capacity);
      const next = lcg(capacity);
      let mismatches = 0;
      for (let i = 0; i < 20_000; i++) {
        const key = (next() % universe) * spread;
        const hit = lru.touch(key);
        if (hit !== ref.access(key).hit) mismatches++;
        if (!hit) lru.insert(key);
      }
      expect(mismatches).toBe(0);
      lru.clear();
      expect(lru.touch(0)).toBe(false);
    });
  }
});

describe('LruSets', () => {
  it('matches one reference LRU per set, evicting the least recent', () => {
    const sets = 4;
    const ways = 3;
    const lru = new LruSets(sets, ways, true);
    const refs = Array.from({ length: sets }, () => new RefLru(ways));
    const next = lcg(7);
    const bad: string[] = [];
    for (let i = 0; i < 20_000 && bad.length === 0; i++) {
      const key = (next() % 40) + 2 ** 40;
      const set = key % sets;
      const pos = lru.find(key, set);
      const r = refs[set].access(key);
      if (pos >= 0 !== r.hit) bad.push(`step ${i}: hit ${pos >= 0}`);
      if (pos >= 0) lru.promote(set, pos);
      else if (lru.insert(key, set, 0) !== r.evicted) bad.push(`step ${i}: victim`);
      if (i % 97 === 0 && lru.find(key, set) === 0) {
        lru.remove(set, 0);
        refs[set].keys.shift();
      }
      const got = Array.from(lru.keys.subarray(set * ways, (set + 1) * ways));
      const want = [...refs[set].keys, ...Array(ways - refs[set].keys.length).fill(EMPTY)];
      if (got.join() !== want.join()) bad.push(`step ${i}: order ${got} != ${want}`);
    }
    expect(bad).toEqual([]);
  });

  it('moves flags and payloads with their key', () => {
    const lru = new LruSets(1, 3, true);
    lru.insert(10, 0, 1);
    lru.aux[0] = 5;
    lru.aux[1] = 6;
    lru.insert(11, 0, 0);
    lru.insert(12, 0, 0);
    expect(lru.find(10, 0)).toBe(2);
    lru.promote(0, 2);
    expect([lru.flags[0], lru.aux[0], lru.aux[1]]).toEqual([1, 5, 6]);
    lru.remove(0, 0);
    expect(lru.find(10, 0)).toBe(-1);
    expect(Array.from(lru.keys)).toEqual([12, 11, EMPTY]);
  });
});
