/**
 * Shared test fixtures: a machine whose RAM spans the whole 52-bit
 * physical address space, and helpers to run a tracker through a kexec and
 * compare what the next kernel restores with what was preserved.
 */
import { execFile } from 'node:child_process';
import { FolioList, handOver, restoreHandover, type Folio, type HandOverOptions } from '../src/kexec/kexec.ts';
import { Machine } from '../src/ram/machine.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import type { StructureId, Tracker } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';

export const GiB = 2 ** 30;

/** RAM below 4 GiB, in the middle of the address space, and just below 2^52 (where the heap lives). */
export function wideMachine(): Machine {
  return new Machine({
    banks: [
      { start: 0, size: 8 * GiB },
      { start: 2 ** 51, size: 8 * GiB },
      { start: 2 ** 52 - 16 * GiB, size: 16 * GiB },
    ],
  });
}

export function newTracker(id: StructureId, machine: Machine = wideMachine()): Tracker {
  return structureSpec(id).create(machine);
}

/** A canonical, sorted, duplicate-free "phys:order" list. */
export function keyList(folios: Iterable<Folio>): string[] {
  const keys = new Set<string>();
  for (const f of folios) keys.add(`${f.phys.toString(16)}:${f.order}`);
  return [...keys].sort();
}

export function foliosOf(flat: Float64Array): Folio[] {
  const out: Folio[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ phys: flat[i], order: flat[i + 1] });
  return out;
}

/** Preserves each folio; the ones refused with ENOMEM are counted, any other error is thrown. */
export function preserveAll(tracker: Tracker, folios: readonly Folio[]): { kept: Folio[]; failed: number } {
  const kept: Folio[] = [];
  let failed = 0;
  for (const f of folios) {
    try {
      tracker.preserve(f.phys, f.order);
      kept.push(f);
    } catch (e) {
      if (!isKhoError(e, 'ENOMEM')) throw e;
      failed++;
    }
  }
  return { kept, failed };
}

/** Hands over and restores in-process; returns the restored folios. */
export function roundTrip(tracker: Tracker, options: HandOverOptions = {}): Folio[] {
  const list = new FolioList();
  restoreHandover(handOver(tracker, options), list);
  return foliosOf(list.toArray());
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run kho -- …` the way a user would, without npm's start-up cost. */
export function runKho(...args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/kho.ts', ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}
