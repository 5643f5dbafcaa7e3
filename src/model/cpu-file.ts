/**
 * A CPU file: the parameters of one modeled CPU (src/model/cpu.ts), read
 * from JSON and validated with zod. src/model/README.md explains what
 * each parameter does in the cost formula; the CPU file itself carries the
 * `sources` of its figures and the list of figures that are `assumed`.
 *
 * Shape (all sizes in bytes, all latencies in core cycles unless the name
 * says otherwise):
 *
 *   name, sources[], assumed[]
 *   frequencyGHz                       ns = cycles / frequencyGHz
 *   lineBytes                          always 64
 *   l1d, l2, llc: {sizeBytes, ways, latencyCycles}
 *                                      sizeBytes / (64 * ways) sets, a power of two
 *   dram: {latencyNs, streamGBps}      load-to-use latency; one core's streaming bandwidth
 *   mlp                                outstanding misses that overlap within one dependency step
 *   prefetch: {degree}                 lines fetched ahead by the next-line stream prefetcher
 *   tlb: {pageBytes, l1Entries, stlbEntries, stlbWays, stlbEntryBytes,
 *         stlbHitCycles, walkCycles}
 *   atomicCycles                       extra cost of a lock-prefixed read-modify-write
 *   aluCycles: {alu, bitop, shift, mul, branch, call}
 *                                      cycles charged per instruction of each class
 *   implied: {load, store, deref, atomic, op}: {<class>: count}
 *                                      instructions charged per event when callers do not call alu()
 *
 * loadCpu() reports the first problem as one line naming the file and the
 * field, so a typo in a CPU file is found without reading a stack of zod
 * issues.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ModelError } from './cpu.ts';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const isPow2 = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 30;
const pow2Bytes = z.number().int().min(4096).max(2 ** 40).refine((n) => n % 4096 === 0 && isPow2(n / 4096), 'must be a power of two');

const CacheLevelSchema = z
  .object({
    sizeBytes: posInt,
    ways: posInt.max(64),
    latencyCycles: posInt,
  })
  .strict();

const ChargeSchema = z
  .object({
    alu: nonNegInt.optional(),
    bitop: nonNegInt.optional(),
    shift: nonNegInt.optional(),
    mul: nonNegInt.optional(),
    branch: nonNegInt.optional(),
    call: nonNegInt.optional(),
  })
  .strict();

const cycles = z.number().nonnegative().max(1000);

export const CpuParamsSchema = z
  .object({
    name: z.string().min(1),
    sources: z.array(z.string().min(1)).min(1),
    assumed: z.array(z.string().min(1)),
    frequencyGHz: z.number().positive().max(20),
    lineBytes: z.literal(64),
    l1d: CacheLevelSchema,
    l2: CacheLevelSchema,
    llc: CacheLevelSchema,
    dram: z
      .object({
        latencyNs: z.number().positive().max(10000),
        streamGBps: z.number().positive().max(10000),
      })
      .strict(),
    mlp: posInt.max(1024),
    prefetch: z.object({ degree: nonNegInt.max(63) }).strict(),
    tlb: z
      .object({
        pageBytes: pow2Bytes,
        l1Entries: posInt.max(4096),
        stlbEntries: posInt.max(1 << 20),
        stlbWays: posInt.max(4096),
        stlbEntryBytes: pow2Bytes,
        stlbHitCycles: nonNegInt,
        walkCycles: nonNegInt,
      })
      .strict(),
    atomicCycles: nonNegInt,
    aluCycles: z
      .object({ alu: cycles, bitop: cycles, shift: cycles, mul: cycles, branch: cycles, call: cycles })
      .strict(),
    implied: z
      .object({
        load: ChargeSchema,
        store: ChargeSchema,
        deref: ChargeSchema,
        atomic: ChargeSchema,
        op: ChargeSchema,
      })
      .strict(),
  })
  .strict()
  .superRefine((cpu, ctx) => {
    for (const level of ['l1d', 'l2', 'llc'] as const) {
      const { sizeBytes, ways } = cpu[level];
      const sets = sizeBytes / (64 * ways);
      if (!Number.isInteger(sets) || !isPow2(sets)) {
        ctx.addIssue({ code: 'custom', path: [level, 'sizeBytes'], message: 'sizeBytes / (64 * ways) must be a power of two' });
      }
    }
    const { stlbEntries, stlbWays, stlbEntryBytes, pageBytes } = cpu.tlb;
    const stlbSets = stlbEntries / stlbWays;
    if (!Number.isInteger(stlbSets) || !isPow2(stlbSets)) {
      ctx.addIssue({ code: 'custom', path: ['tlb', 'stlbEntries'], message: 'stlbEntries / stlbWays must be a power of two' });
    }
    if (stlbEntryBytes > pageBytes) {
      ctx.addIssue({ code: 'custom', path: ['tlb', 'stlbEntryBytes'], message: 'must not exceed tlb.pageBytes' });
    }
  });

export type CpuParams = z.infer<typeof CpuParamsSchema>;

/** Validates parsed JSON; `origin` names the file in the error. */
export function parseCpu(raw: unknown, origin: string): CpuParams {
  const parsed = CpuParamsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelError(oneLine(`${origin}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return parsed.data;
}

/** Reads and validates a CPU file; throws ModelError with one line naming the file and the first bad field. */
export function loadCpu(path: string): CpuParams {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(oneLine(`${path}: cannot read CPU file: ${e instanceof Error ? e.message : String(e)}`));
  }
  return parseCpu(raw, path);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

