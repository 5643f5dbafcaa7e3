/**
 * The machine model against the only published kernel figures (the facts
 * sheet, "What is known publicly"). Each experiment is rebuilt as closely
 * as its description allows, run through the model like any scenario (an
 * exact job), and set beside the published figure with the ratio. The
 * model is never tuned to match: the distance is the finding.
 *
 * What each published figure timed decides which modeled figures are summed
 * (`measures`): the preservations (preserve of every folio), the
 * serialization (finalize), the walk, and the next kernel's per-folio work.
 */
import { GiB } from './placement.ts';
import type { Workload } from '../src/measure/workload.ts';
import { opsWorkload } from '../src/measure/ops-file.ts';

export type Measured = 'preserve' | 'serialize' | 'restore-walk' | 'restore';

export interface CalibrationExperiment {
  readonly id: string;
  /** Who published what, when, in one line. */
  readonly source: string;
  readonly structure: string;
  readonly publishedMs: number;
  /** The modeled parts the published figure covers, summed. */
  readonly measures: readonly Measured[];
  readonly assumptions: readonly string[];
  workload(): Workload;
}

/** `n` order-0 pages from `start`, contiguous. */
function densePages(n: number, start: number, ram: number): Workload {
  const ops = Array.from({ length: n }, (_, i) => ({ kind: 'preserve' as const, phys: start + i * 4096, arg: 0 }));
  return opsWorkload(ops, [{ start: 0, size: ram }]);
}

export const CALIBRATIONS: readonly CalibrationExperiment[] = [
  {
    id: 'yadav-2025-48g-chunks',
    source: 'Pratyush Yadav, LKML, 3 Apr 2025: 48 GiB preserved, reservations and serialization single-threaded, linked list of chunks: 577 ms ±0.7% (6 samples)',
    structure: 'xarray-6.16',
    publishedMs: 577,
    measures: ['preserve', 'serialize'],
    assumptions: [
      'the 48 GiB are order-0 pages (12,582,912 folios), contiguous from 1 GiB on a 64 GiB machine: the post gives no orders; order 0 is the case serialization was measured for',
      '"making the reservations" is read as preserving every folio, "serialize" as finalize into the chunk list of the 6.16 xarray tracker',
      'one core of the model CPU; no other work on the machine',
    ],
    workload: () => densePages(48 * 262144, 1 * GiB, 64 * GiB),
  },
  {
    id: 'yadav-2026-radix-small',
    source: 'Pratyush Yadav, "kho: extend scratch" v2 15/18, 5 Jun 2026: QEMU VM, 64 GiB, the next kernel walks the merged radix tree: 0x2f nodes, 0x22d preservations, 0xa2b000 bytes: 88 µs',
    structure: 'radix',
    publishedMs: 0.088,
    measures: ['restore'],
    assumptions: [
      '557 preservations covering 0xa2b000 bytes (about 19 KiB each): built as 557 contiguous order-2 folios (16 KiB) plus order 0 for the rest, from 1 GiB on a 64 GiB machine; the post gives no orders or layout',
      'the walk plus "insertion into a second tree" is read as the walk plus the kernel\'s per-folio work (memblock reserve, mark noinit, the struct pages, deferred init on)',
      'the model CPU is a server core; the figure was taken in a QEMU VM',
    ],
    workload: () => {
      const ops: { kind: 'preserve'; phys: number; arg: number }[] = [];
      let pa = 1 * GiB;
      let bytes = 0;
      for (let i = 0; i < 557; i++) {
        const order = bytes + 16384 * (557 - i) <= 0xa2b000 ? 2 : 0;
        ops.push({ kind: 'preserve', phys: pa, arg: order });
        pa += 4096 << order;
        bytes += 4096 << order;
      }
      return opsWorkload(ops, [{ start: 0, size: 64 * GiB }]);
    },
  },
  {
    id: 'yadav-2026-radix-large',
    source: 'Pratyush Yadav, "kho: extend scratch" v2 15/18, 5 Jun 2026: QEMU VM, 64 GiB: 0x45 nodes, 0x80832 preservations (526,386), 0x8102d000 bytes: 21,769 µs',
    structure: 'radix',
    publishedMs: 21.769,
    measures: ['restore'],
    assumptions: [
      '526,386 preservations covering 0x8102d000 bytes (about 4 KiB each): built as order-0 pages, contiguous from 1 GiB, on a 64 GiB machine; the published node count (0x45) suggests a few more spread pages, which the post does not describe',
      'the walk plus "insertion into a second tree" is read as the walk plus the kernel\'s per-folio work (memblock reserve, mark noinit, the struct pages, deferred init on)',
      'the model CPU is a server core; the figure was taken in a QEMU VM',
    ],
    workload: () => densePages(526386, 1 * GiB, 64 * GiB),
  },
];

export function calibrationById(id: string): CalibrationExperiment | undefined {
  return CALIBRATIONS.find((c) => c.id === id);
}
