/**
 * The parameters of one modeled CPU, as the model reads them. They come
 * from a JSON file under src/model/cpus/ (or --cpu), validated by
 * cpu-file.ts in the process that reads the file; the job processes import
 * only this module, so the validator (zod, ~0.15 s to load) is not paid by
 * every one of the hundreds of processes a run starts.
 * src/model/README.md explains what each parameter does in the cost formula.
 */
import type { CpuParams } from './cpu-file.ts';
import genoa from './cpus/epyc-9654-genoa.json' with { type: 'json' };

export type { CpuParams };

export class ModelError extends Error {
  override readonly name = 'ModelError';
}

/** Instruction classes the model charges; the order is the evaluation order of every sum over them. */
export const ALU_KINDS = ['alu', 'bitop', 'shift', 'mul', 'branch', 'call'] as const;
export type AluKind = (typeof ALU_KINDS)[number];

/** Events that carry an implied instruction charge. */
export const IMPLIED_EVENTS = ['load', 'store', 'deref', 'atomic', 'op'] as const;
export type ImpliedEvent = (typeof IMPLIED_EVENTS)[number];

/** AMD EPYC 9654 (Zen 4, "Genoa"); see the file for sources and assumed figures (validated by cpu.test.ts and by the runner). */
export const DEFAULT_CPU: CpuParams = genoa as CpuParams;
