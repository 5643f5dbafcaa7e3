/**
 * The restore worker: a fresh isolate standing for the next kernel. It
 * waits for one request holding only bytes (the RAM image, the FDT), then
 * rebuilds memory from the image and either checks and times the restore
 * or runs its exact pass, and posts the figures back.
 */
import { parentPort } from 'node:worker_threads';
import { RestoreMismatch, measureRestore, restoreExact } from '../../src/measure/restore.ts';
import { PhysMem } from '../../src/ram/phys-mem.ts';
import type { StructureId } from '../../src/tracker/tracker.ts';
import { structureSpec } from '../../structures/index.ts';
import type { RestoreReply, RestoreRequest } from './restore-protocol.ts';

function handle(req: RestoreRequest): RestoreReply {
  try {
    const structure = req.structure as StructureId;
    const magic = structureSpec(structure).lifecycle.pageMagic;
    if (req.kind === 'exact') return { ok: true, exact: restoreExact(structure, req.image, req.fdt, req.cpu, { magic, deferredInit: req.deferredInit }) };
    const t0 = performance.now();
    const mem = PhysMem.fromImage(req.image);
    const t1 = performance.now();
    const m = measureRestore(structure, mem, req.fdt, req.live, req.budget, req.regionNs, { magic });
    const t2 = performance.now();
    return {
      ok: true,
      timing: {
        total: m.total,
        walk: m.walk,
        memblock: m.memblock,
        heads: m.heads,
        deferredOne: m.deferredOne,
        deferredSample: m.deferredSample,
        deferredCounts: m.deferredCounts,
        deferredInit: req.deferredInit,
        folios: m.stats.folios,
        stepsMs: { fromImage: t1 - t0, measure: t2 - t1 },
      },
    };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e), mismatch: e instanceof RestoreMismatch };
  }
}

parentPort!.once('message', (req: RestoreRequest) => {
  parentPort!.postMessage(handle(req));
});
// Loaded: the job may start timing (nothing of this thread runs until the request).
parentPort!.postMessage({ ready: true });
