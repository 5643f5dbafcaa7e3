/**
 * The next kernel, in a worker thread: it receives only the hand-over's
 * bytes (structure id, RAM image, FDT), restores, runs the KHO client
 * checks found in the FDT, and posts the restored folios back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFdt } from '../fdt/fdt.ts';
import { PhysMem } from '../ram/phys-mem.ts';
import { isKhoError } from '../tracker/errors.ts';
import { FolioList, type Handover, type RestoreOptions, restoreFromMemory } from './kexec.ts';
import { verifyTestKho } from './test-kho.ts';

const { handover, options } = workerData as { handover: Handover; options: RestoreOptions };

try {
  const mem = PhysMem.fromImage(handover.image);
  const folios = new FolioList();
  const stats = restoreFromMemory(handover.structure, mem, handover.fdt, folios, options);
  const restored = folios.toArray();
  const clientReports = verifyTestKho(mem, readFdt(handover.fdt), restored);
  parentPort!.postMessage({ ok: true, result: { folios: restored, stats, clientReports } }, [restored.buffer as ArrayBuffer]);
} catch (e) {
  const errno = isKhoError(e) ? e.errno : undefined;
  parentPort!.postMessage({ ok: false, errno, message: e instanceof Error ? e.message : String(e) });
}
