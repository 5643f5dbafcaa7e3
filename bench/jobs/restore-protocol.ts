/**
 * What the job process sends the restore worker (the next kernel) and gets
 * back. Only bytes cross: the structure id, the RAM image, the FDT, and the
 * live set the old kernel expects back (for the check).
 */
import type { RepeatBudget } from '../../src/measure/budgets.ts';
import type { LiveSet } from '../../src/measure/workload.ts';
import type { RamImage } from '../../src/ram/phys-mem.ts';
import type { RestoreOutput } from '../../src/results/job.ts';

export interface RestoreRequest {
  readonly structure: string;
  readonly image: RamImage;
  readonly fdt: Uint8Array;
  readonly live: LiveSet;
  readonly budget: RepeatBudget;
  readonly regionNs: number;
  /** Time the bare walk too. */
  readonly walk: boolean;
  /** Run the counting pass after the timed ones. */
  readonly count: boolean;
}

export type RestoreReply = { ok: true; result: RestoreOutput } | { ok: false; message: string; mismatch: boolean };
