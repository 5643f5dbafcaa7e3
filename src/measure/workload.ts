/**
 * A workload: what a scenario asks a tracker to do, as flat typed arrays
 * (no objects per folio, no BigInt), so that replaying it costs the tracker
 * calls and little else.
 *
 * A workload is a list of phases run in order on a fresh tracker:
 *   `build`    the operations whose end state is handed over at kexec;
 *   `teardown` operations run after the build only to time unpreserve
 *              (they are never part of the hand-over).
 *
 * A phase is one kind of operation over parallel arrays:
 *   preserve    a[i] = phys, b[i] = order
 *   unpreserve  a[i] = phys, b[i] = order
 *   range       a[i] = phys, b[i] = size in bytes (preserveRange, the greedy
 *               split); folios[i] = folios the split yields
 */
import type { Bank } from '../ram/phys-mem.ts';
import { FOLIO_BYTES, splitRange } from '../tracker/tracker.ts';

export type OpKind = 'preserve' | 'unpreserve' | 'range';

export interface Phase {
  readonly kind: OpKind;
  readonly a: Float64Array;
  readonly b: Float64Array;
  /** Folios per operation; absent when every operation is one folio. */
  readonly folios?: Uint32Array;
}

/** The live set at hand-over, for checking a restore. */
export interface LiveSet {
  /** Folios preserved at hand-over. */
  readonly folios: number;
  /** Bytes they cover. */
  readonly bytes: number;
  /** Order-independent fingerprint of the set of (phys, order) (see folioHash). */
  readonly hash: number;
}

export interface Workload {
  readonly banks: readonly Bank[];
  readonly heapSize?: number;
  readonly build: readonly Phase[];
  readonly teardown: readonly Phase[];
  readonly live: LiveSet;
}

/** Operations in a phase. */
export function phaseOps(p: Phase): number {
  return p.a.length;
}

/** Folios a phase touches. */
export function phaseFolios(p: Phase): number {
  if (!p.folios) return p.a.length;
  let n = 0;
  for (let i = 0; i < p.folios.length; i++) n += p.folios[i];
  return n;
}

/** Whether a phase is timed as a preserve (preserve and range) or as an unpreserve. */
export function isPreserveKind(kind: OpKind): boolean {
  return kind !== 'unpreserve';
}

/**
 * A 32-bit mix of one folio, summed (mod 2^32) over a set: equal sets give
 * equal sums whatever the order they are listed in.
 */
export function folioHash(phys: number, order: number): number {
  let h = Math.imul((phys / 4096) >>> 0, 0x9e3779b1) ^ Math.imul(Math.floor(phys / 2 ** 44), 0x85ebca6b) ^ Math.imul(order + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The live set with one more folio (KHO core's FDT page, which every hand-over preserves besides the workload's). */
export function withFolio(live: LiveSet, phys: number, order: number): LiveSet {
  return { folios: live.folios + 1, bytes: live.bytes + FOLIO_BYTES[order], hash: (live.hash + folioHash(phys, order)) >>> 0 };
}

/** The live set a recorded folio list ([phys, order, ...], FolioList.toArray()) holds: the check of a restore. */
export function liveSetOf(list: Float64Array): LiveSet {
  let bytes = 0;
  let hash = 0;
  for (let i = 0; i + 1 < list.length; i += 2) {
    bytes += FOLIO_BYTES[list[i + 1]];
    hash = (hash + folioHash(list[i], list[i + 1])) >>> 0;
  }
  return { folios: list.length >> 1, bytes, hash };
}

/** A FolioSink that only counts folios and bytes: the bare walk's sink, so that the walk is what is timed. */
export class CountSink {
  folios = 0;
  bytes = 0;

  add(_phys: number, order: number): void {
    this.folios++;
    this.bytes += FOLIO_BYTES[order];
  }

  reset(): void {
    this.folios = 0;
    this.bytes = 0;
  }
}

/** Folios of the live set above `order` (range preserves split as the kernel splits them): what a format without those orders loses. */
export function foliosAbove(w: Workload, order: number): number {
  let n = 0;
  for (const p of w.build) {
    const sign = p.kind === 'unpreserve' ? -1 : 1;
    for (let i = 0; i < p.a.length; i++) {
      if (p.kind !== 'range') {
        if (p.b[i] > order) n += sign;
        continue;
      }
      for (const [, o] of splitRange(p.a[i], p.b[i])) if (o > order) n++;
    }
  }
  return n;
}

const BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * Shares 0 to count - 1 of a build cut into `parts`: share k holds the
 * folios whose 2 MiB block (or, for a larger folio, its own start) hashes
 * to k, each range split into its folios as preserveRange splits it, in
 * the build's order. Choosing by block keeps an unpreserve with the
 * preserve it undoes and a dense run dense, so a small tracker built from a
 * share has the full one's shape at a fraction of its folios (finalize's
 * warm-up, src/measure/serialize.ts). Two passes over the build make them all.
 */
export function blockShares(w: Workload, parts: number, count: number): Workload[] {
  const k = Math.min(count, parts);
  const builds: Phase[][] = Array.from({ length: k }, () => []);
  const lives = Array.from({ length: k }, () => ({ folios: 0, bytes: 0, hash: 0 }));
  for (const p of w.build) {
    const [phys, order] = p.kind === 'range' ? splitPhase(p) : [p.a, p.b];
    const kind = p.kind === 'unpreserve' ? 'unpreserve' : 'preserve';
    const sign = kind === 'preserve' ? 1 : -1;
    const share = new Int32Array(phys.length);
    const counts = new Int32Array(k);
    for (let i = 0; i < phys.length; i++) {
      const s = folioHash(Math.floor(phys[i] / BLOCK_BYTES) * BLOCK_BYTES, 0) % parts;
      share[i] = s;
      if (s < k) counts[s]++;
    }
    const phases = Array.from(counts, (c): Phase => ({ kind, a: new Float64Array(c), b: new Float64Array(c) }));
    const filled = new Int32Array(k);
    for (let i = 0; i < phys.length; i++) {
      const s = share[i];
      if (s >= k) continue;
      const at = filled[s]++;
      phases[s].a[at] = phys[i];
      phases[s].b[at] = order[i];
      const live = lives[s];
      live.folios += sign;
      live.bytes += sign * FOLIO_BYTES[order[i]];
      live.hash = (live.hash + sign * folioHash(phys[i], order[i])) >>> 0;
    }
    phases.forEach((phase, s) => phase.a.length > 0 && builds[s].push(phase));
  }
  return builds.map((build, s) => ({ ...w, build, teardown: [], live: lives[s] }));
}

/** A range phase's folios, as preserveRange splits each range: [phys, order]. */
function splitPhase(p: Phase): [Float64Array, Float64Array] {
  const n = phaseFolios(p);
  const phys = new Float64Array(n);
  const order = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < p.a.length; i++) {
    for (const [pa, o] of splitRange(p.a[i], p.b[i])) {
      phys[j] = pa;
      order[j++] = o;
    }
  }
  return [phys, order];
}
