/**
 * The kexec boundary.
 *
 * `handOver` is the old kernel's last act: it finalizes the tracker (if the
 * caller has not) and produces exactly two things, the RAM image and the
 * FDT blob. The image carries the tracker's live metadata pages, the root
 * FDT's own page (KHO core's, preserved through the tracker as an order-0
 * folio: its bytes are the FDT, at most one page) and the written pages of
 * the preserved folios the caller lists; every other page (freed metadata,
 * unpreserved data, never-touched RAM) reads as garbage in the next
 * kernel, as it would once that kernel reuses it.
 *
 * `restoreHandover` is the next kernel's walk over those bytes alone: it
 * rebuilds memory from the image, parses the FDT and runs the structure's
 * restore. `restoreInWorker` runs it in a fresh worker thread, where no
 * object of the old kernel can be reached.
 */
import { Worker } from 'node:worker_threads';
import { readFdt } from '../fdt/fdt.ts';
import { PAGE_SIZE, PhysMem, type RamImage } from '../ram/phys-mem.ts';
import type { KhoSubtree } from '../tracker/kho-abi.ts';
import type { FolioSink, RestoreStats, StructureId, Tracker } from '../tracker/tracker.ts';
import { structureSpec } from '../../structures/index.ts';
import { RestoreWalk } from './restore-walk.ts';
import { KhoError, type KhoErrno } from '../tracker/errors.ts';

export interface Handover {
  readonly structure: StructureId;
  readonly image: RamImage;
  readonly fdt: Uint8Array;
}

/** A preserved folio as the old kernel's workload knows it. */
export interface Folio {
  readonly phys: number;
  readonly order: number;
}

export interface HandOverOptions {
  /** The FDT from an earlier finalize(); when absent, handOver finalizes. */
  readonly fdt?: Uint8Array;
  /** KHO client subtrees for the root FDT (when handOver finalizes). */
  readonly clients?: readonly KhoSubtree[];
  /** Preserved folios whose contents matter: their written pages are carried across. */
  readonly preserved?: readonly Folio[];
}

export function handOver(tracker: Tracker, options: HandOverOptions = {}): Handover {
  const fdt = options.fdt ?? tracker.finalize(options.clients);
  const mem = tracker.heap.machine.mem;
  const pfns = [...new Set([...tracker.heap.ownedPfns(), tracker.fdtPage / PAGE_SIZE, ...preservedContentPfns(mem, options.preserved ?? [])])];
  pfns.sort((a, b) => a - b);
  return { structure: tracker.id, image: mem.image(pfns), fdt };
}

/** Backed page frames that lie inside a preserved folio. */
function preservedContentPfns(mem: PhysMem, preserved: readonly Folio[]): number[] {
  if (preserved.length === 0) return [];
  const starts = preserved.map((f) => [f.phys / PAGE_SIZE, 2 ** f.order] as const).sort((a, b) => a[0] - b[0]);
  return mem.backedPfns().filter((pfn) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [start, pages] = starts[mid];
      if (pfn < start) hi = mid - 1;
      else if (pfn >= start + pages) lo = mid + 1;
      else return true;
    }
    return false;
  });
}

export interface RestoreOptions {
  /** Bound on metadata objects the walk may visit (default: one per RAM page). */
  readonly maxObjects?: number;
}

/** The next kernel: rebuilds memory from the image and restores into `sink`. */
export function restoreHandover(h: Handover, sink: FolioSink, options: RestoreOptions = {}): RestoreStats {
  const mem = PhysMem.fromImage(h.image);
  return restoreFromMemory(h.structure, mem, h.fdt, sink, options);
}

/** The restore step alone, on memory already rebuilt from an image. */
export function restoreFromMemory(
  structure: StructureId,
  mem: PhysMem,
  fdt: Uint8Array,
  sink: FolioSink,
  options: RestoreOptions = {},
): RestoreStats {
  const walk = new RestoreWalk(mem, sink, options.maxObjects);
  structureSpec(structure).restore(walk, readFdt(fdt));
  return walk.stats();
}

/** Restored folios as a flat [phys, order, phys, order, ...] list. */
export class FolioList implements FolioSink {
  private buf = new Float64Array(1024);
  length = 0;

  add(phys: number, order: number): void {
    if (this.length + 2 > this.buf.length) {
      const grown = new Float64Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = phys;
    this.buf[this.length++] = order;
  }

  toArray(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}

export interface WorkerRestoreResult {
  /** [phys, order, ...] in the order the walk found them. */
  readonly folios: Float64Array;
  readonly stats: RestoreStats;
  /** Messages of client checks run in the next kernel (e.g. the test_kho verifier). */
  readonly clientReports: readonly string[];
}

/** Restores in a fresh worker thread: the next kernel sees only the transferred bytes. */
export function restoreInWorker(h: Handover, options: RestoreOptions = {}): Promise<WorkerRestoreResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./restore-worker.mjs', import.meta.url), {
      workerData: { handover: h, options },
    });
    worker.once('message', (msg: { ok: true; result: WorkerRestoreResult } | { ok: false; errno?: string; message: string }) => {
      if (msg.ok) resolve(msg.result);
      else reject(msg.errno ? new KhoError(msg.errno as KhoErrno, msg.message.replace(/^\w+: /, '')) : new Error(msg.message));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
