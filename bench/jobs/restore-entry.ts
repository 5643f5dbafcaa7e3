/**
 * The restore worker: a fresh isolate standing for the next kernel. It
 * waits for one request holding only bytes (the RAM image, the FDT), then
 * rebuilds memory from the image, checks and times the restore, runs the
 * counting pass, and posts the figures back.
 */
import { parentPort } from 'node:worker_threads';
import { countRestoreTouches } from '../../src/measure/counting.ts';
import { RestoreMismatch, measureRestore } from '../../src/measure/restore.ts';
import { PhysMem } from '../../src/ram/phys-mem.ts';
import type { StructureId } from '../../src/tracker/tracker.ts';
import type { RestoreReply, RestoreRequest } from './restore-protocol.ts';

function handle(req: RestoreRequest): RestoreReply {
  try {
    const structure = req.structure as StructureId;
    const t0 = performance.now();
    const mem = PhysMem.fromImage(req.image);
    const t1 = performance.now();
    const m = measureRestore(structure, mem, req.fdt, req.live, req.budget, req.regionNs, req.walk);
    const t2 = performance.now();
    const touches = req.count ? countRestoreTouches(structure, req.image, req.fdt) : undefined;
    const t3 = performance.now();
    return {
      ok: true,
      result: {
        total: m.total,
        walk: m.walk,
        folios: m.stats.folios,
        metadataObjects: m.stats.metadataObjectsRead,
        metadataBytes: m.stats.metadataBytesRead,
        memblock: m.memblock,
        touches,
        stepsMs: { fromImage: t1 - t0, measure: t2 - t1, count: t3 - t2 },
      },
    };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e), mismatch: e instanceof RestoreMismatch };
  }
}

parentPort!.once('message', (req: RestoreRequest) => {
  parentPort!.postMessage(handle(req));
});
