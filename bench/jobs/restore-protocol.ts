/**
 * What the job process sends the restore worker (the next kernel) and gets
 * back. Only bytes cross: the structure id, the RAM image, the FDT, and, to
 * check the restore, the live set the old kernel expects back.
 *
 *   timing  check the restore, then time the walk, its parts and the whole
 *   exact   count what the walk touches and run it through the machine model
 */
import type { RestoreBudget } from '../../src/measure/budgets.ts';
import type { LiveSet } from '../../src/measure/workload.ts';
import type { CpuParams } from '../../src/model/cpu.ts';
import type { RamImage } from '../../src/ram/phys-mem.ts';
import type { RestoreExact, RestoreTiming } from '../../src/results/job.ts';

interface Common {
  readonly structure: string;
  readonly image: RamImage;
  readonly fdt: Uint8Array;
  /** The next kernel initialises every struct page of a folio (deferred struct page init). */
  readonly deferredInit: boolean;
}

export interface TimingRequest extends Common {
  readonly kind: 'timing';
  readonly live: LiveSet;
  readonly budget: RestoreBudget;
  readonly regionNs: number;
}

export interface ExactRequest extends Common {
  readonly kind: 'exact';
  readonly cpu: CpuParams;
}

export type RestoreRequest = TimingRequest | ExactRequest;

export type RestoreReply =
  | { ok: true; timing?: RestoreTiming; exact?: RestoreExact }
  | { ok: false; message: string; mismatch: boolean };
