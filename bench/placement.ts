/**
 * Where scenarios put folios: aligned slots of one order across the
 * workload RAM of a machine (every bank, less the kernel heap that Machine
 * carves from the top of the highest bank), drawn without repetition.
 */
import { defaultHeapSize } from '../src/ram/machine.ts';
import { type Bank, PAGE_SIZE } from '../src/ram/phys-mem.ts';
import type { Rng } from './rng.ts';

export const KiB = 1024;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;

/** The banks a workload may use: as Machine computes them. */
export function workloadBanks(banks: readonly Bank[], heapSize?: number): Bank[] {
  const sorted = [...banks].sort((a, b) => a.start - b.start);
  const heap = heapSize ?? defaultHeapSize(sorted);
  const top = sorted[sorted.length - 1];
  return sorted.map((b) => (b === top ? { start: b.start, size: b.size - heap } : b));
}

/** The aligned slots of one folio size across some banks, numbered 0..count-1. */
export class SlotSpace {
  readonly slotSize: number;
  readonly count: number;
  private readonly firstSlot: number[] = [];
  private readonly cumulative: number[] = [];

  constructor(banks: readonly Bank[], order: number) {
    this.slotSize = PAGE_SIZE * 2 ** order;
    let total = 0;
    for (const b of banks) {
      const first = Math.ceil(b.start / this.slotSize);
      const n = Math.max(0, Math.floor((b.start + b.size) / this.slotSize) - first);
      this.firstSlot.push(first);
      this.cumulative.push(total);
      total += n;
    }
    this.count = total;
  }

  /** Physical address of slot `i`. */
  phys(i: number): number {
    let b = this.cumulative.length - 1;
    while (this.cumulative[b] > i) b--;
    return (this.firstSlot[b] + (i - this.cumulative[b])) * this.slotSize;
  }
}

/** `n` distinct slot indices below `count`, uniformly at random, in draw order. */
export function distinctIndices(rng: Rng, count: number, n: number): Float64Array {
  if (n > count) throw new Error(`cannot draw ${n} distinct slots out of ${count}`);
  const out = new Float64Array(n);
  if (n > count / 4) {
    // Dense: a partial Fisher-Yates over all indices.
    const all = new Float64Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    for (let i = 0; i < n; i++) {
      const j = i + rng.below(count - i);
      const t = all[i];
      all[i] = all[j];
      all[j] = t;
      out[i] = all[i];
    }
    return out;
  }
  if (count <= 2 ** 29) {
    // Up to 64 MiB of bitmap.
    const seen = new Uint8Array(Math.ceil(count / 8));
    for (let i = 0; i < n; ) {
      const x = rng.below(count);
      const bit = 1 << (x & 7);
      if (seen[x >>> 3] & bit) continue;
      seen[x >>> 3] |= bit;
      out[i++] = x;
    }
    return out;
  }
  const seen = new Set<number>();
  for (let i = 0; i < n; ) {
    const x = rng.below(count);
    if (seen.has(x)) continue;
    seen.add(x);
    out[i++] = x;
  }
  return out;
}

/** Human-readable bytes: 4 KiB, 2 MiB, 16 TiB, 1.5 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}
