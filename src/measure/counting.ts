/**
 * Counting mode: pages and 64-byte cache lines touched, per preserved folio
 * and per restored folio. An untimed run on a TracedPhysMem; the timed
 * runs never see that class (they run before it is first used, in the same
 * process, or in another isolate).
 */
import { restoreFromMemory } from '../kexec/kexec.ts';
import { Machine } from '../ram/machine.ts';
import type { RamImage } from '../ram/phys-mem.ts';
import { TouchCounter, TracedPhysMem } from '../ram/traced-mem.ts';
import type { StructureId } from '../tracker/tracker.ts';
import type { TrackerFactory } from './replay.ts';
import { CheckSink, type Workload } from './workload.ts';

export interface PreserveTouches {
  /** Sum over counted preserve calls of the distinct pages each touched, per folio they preserved. */
  readonly pagesPerPreserve: number;
  readonly linesPerPreserve: number;
  /** Folios the counted calls preserved. */
  readonly folios: number;
  /** Every stride-th preserve call was counted. */
  readonly stride: number;
}

/** Preserve calls counted at most (evenly spread over the workload). */
export const MAX_COUNTED_CALLS = 1 << 15;

export interface RestoreTouches {
  /** Distinct pages and lines the whole restore touched. */
  readonly pages: number;
  readonly lines: number;
  readonly pagesPerRestoredFolio: number;
  readonly linesPerRestoredFolio: number;
}

/**
 * Runs the build once on a counting machine, counting every stride-th
 * preserve (or preserveRange) call, so that at most MAX_COUNTED_CALLS are
 * counted, spread evenly over the whole build.
 */
export function countPreserveTouches(workload: Workload, create: TrackerFactory): PreserveTouches {
  const counter = new TouchCounter();
  const machine = new Machine({ banks: workload.banks, heapSize: workload.heapSize, mem: TracedPhysMem.factory(counter) });
  const t = create(machine);
  const calls = workload.build.filter((p) => p.kind !== 'unpreserve').reduce((a, p) => a + p.a.length, 0);
  const stride = Math.max(1, Math.ceil(calls / MAX_COUNTED_CALLS));
  let call = 0;
  let folios = 0;
  let pages = 0;
  let lines = 0;
  for (const p of workload.build) {
    for (let i = 0; i < p.a.length; i++) {
      if (p.kind === 'unpreserve') {
        t.unpreserve(p.a[i], p.b[i]);
        continue;
      }
      const counted = call++ % stride === 0;
      if (counted) counter.begin();
      if (p.kind === 'preserve') t.preserve(p.a[i], p.b[i]);
      else t.preserveRange(p.a[i], p.b[i]);
      if (counted) {
        counter.end();
        pages += counter.pages;
        lines += counter.lines;
        folios += p.folios ? p.folios[i] : 1;
      }
    }
  }
  return { pagesPerPreserve: pages / Math.max(1, folios), linesPerPreserve: lines / Math.max(1, folios), folios, stride };
}

/** Restores once from `image` through a counting memory. */
export function countRestoreTouches(structure: StructureId, image: RamImage, fdt: Uint8Array): RestoreTouches {
  const counter = new TouchCounter();
  const sink = new CheckSink();
  const mem = TracedPhysMem.ofImage(image, counter);
  counter.begin();
  restoreFromMemory(structure, mem, fdt, sink);
  counter.end();
  const folios = Math.max(1, sink.folios);
  return {
    pages: counter.pages,
    lines: counter.lines,
    pagesPerRestoredFolio: counter.pages / folios,
    linesPerRestoredFolio: counter.lines / folios,
  };
}
