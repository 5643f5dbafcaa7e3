/**
 * The next kernel's restore, measured. Runs where the old kernel's objects
 * cannot be reached (a fresh worker, see bench/jobs), on memory rebuilt
 * from the hand-over image alone.
 *
 * Timed (`measureRestore`), each part on its own:
 *   walk          the bare walk, into a sink that only counts;
 *   memblock      memblock_reserve and memblock_reserved_mark_noinit of every
 *                 restored folio (replayed from the walk's recorded list);
 *   heads         the head struct page of every folio (page->private);
 *   deferred      with deferred struct page init, every struct page of every
 *                 folio, then its head (see the sample below);
 *   total         the walk doing memblock and the head stores as it finds
 *                 each folio.
 * memblock, heads and deferred init run first, untimed, on a spaced sample
 * of the list (RestoreBudget.partsWarmup): a part's second full run still
 * ran cold code (deferred init capped at one struct page: 1.6 to 4 times
 * its settled time; memblock 10-15% above), and the warm-up of a full run
 * cost as much as the run (ranges: 0.5 s of memblock per run). The total
 * keeps a warm-up of its own: its first run after the check read 2-10%
 * above its settled time.
 * The kernel's restore is total, plus deferred's work above the heads when
 * the scenario's next kernel defers struct page init (src/results/assemble.ts).
 *
 * Two departures keep a run within the benchmark's budget; both leave the
 * work the kernel does per folio intact and are exact in the model:
 *
 *   memblock's scan  mm/memblock.c finds a range's place by scanning the
 *                 region array from the start, O(regions) per reserve; with
 *                 10k regions (vm-2m) that is billions of visits per restore.
 *                 Both the timed runs and the model's replay find the place
 *                 by binary search, with the same regions, moves, merges and
 *                 splits; the visits the kernel's scan makes are counted
 *                 exactly (memblock stat `scanned`) and the model prices them
 *                 in closed form (scanCycles: each visit's instructions, and
 *                 its 24-byte region streaming from L2); the timed runs do
 *                 not pay them.
 *   deferred init  64 bytes of stores per 4 KiB restored: 3.6 GiB for 230 GiB
 *                 of 2 MiB folios. It is timed at two caps on the struct pages
 *                 initialised per folio, 1 and STRUCT_PAGE_SAMPLE; the
 *                 difference prices one struct page (every struct page costs
 *                 the same stores), and the full cost is the cap-1 run plus
 *                 that price for every struct page it left out. The per-folio
 *                 fixed costs sit in the cap-1 run and are not scaled. Folios
 *                 of at most STRUCT_PAGE_SAMPLE pages are initialised whole;
 *                 when every folio is a single page the two caps do the
 *                 same work, and the model costs it once.
 *
 * One restore is checked against the live set the old kernel handed over
 * (folios, bytes and an order-independent fingerprint of (phys, order) must
 * match), and the kernel's work is checked for covering exactly the
 * preserved bytes and stamping every head, before the parts are timed and
 * after the bare walk (see measureRestore); a failed check discards every
 * figure. The kernels share one memory (each reset before its run), so
 * only the first run pays the host's page faults for it.
 *
 * Exact (`restoreExact`): one walk on an observed memory counts the distinct
 * pages and lines it touches, and the machine model costs the walk, the
 * walk with memblock (the kernel's linear scans priced by scanCycles, its
 * memmoves by moveCycles) and heads, and deferred init priced the same way, each from cold caches (the
 * next kernel has just booted).
 */
import { FolioList, restoreFromMemory } from '../kexec/kexec.ts';
import { NextKernel } from '../kexec/next-kernel.ts';
import type { MemblockSearch } from '../kexec/memblock.ts';
import type { PhysMem, RamImage } from '../ram/phys-mem.ts';
import { TouchCounter, TracedPhysMem, TracerFanout } from '../ram/traced-mem.ts';
import type { CpuParams } from '../model/cpu.ts';
import { MachineModel } from '../model/model.ts';
import type { RestoreStats, StructureId } from '../tracker/tracker.ts';
import type { DeferredCounts, ModelOutput, RestoreExact } from '../results/job.ts';
import type { RepeatBudget, RestoreBudget } from './budgets.ts';
import { modelFigures } from './exact.ts';
import { type RepeatResult, measureRepeat } from './repeat.ts';
import { CountSink, type LiveSet, liveSetOf } from './workload.ts';

/** The larger cap of deferred init's two timed runs: struct pages per folio (a 256 KiB folio's). */
export const STRUCT_PAGE_SAMPLE = 64;

export interface RestoreMeasurement {
  readonly total: RepeatResult;
  readonly walk: RepeatResult;
  readonly memblock: RepeatResult;
  readonly heads: RepeatResult;
  /** Deferred init capped at 1 and at STRUCT_PAGE_SAMPLE struct pages per folio; the first absent when every folio is one page (both caps do the same work). */
  readonly deferredOne?: RepeatResult;
  readonly deferredSample: RepeatResult;
  readonly deferredCounts: DeferredCounts;
  readonly stats: RestoreStats;
}

export class RestoreMismatch extends Error {
  override readonly name = 'RestoreMismatch';
}

const hr = process.hrtime.bigint;

/** The next kernel's configuration that the restore's work depends on. */
export interface NextKernelOptions {
  /** Stamp KHO_PAGE_MAGIC beside the order in page->private (6.18 and later). */
  readonly magic: boolean;
}

/** Bytes of one struct memblock_region (base, size, flags, nid). */
const REGION_BYTES = 24;
/** Instructions of one visit of memblock's region loop: two loads (base, size), the end computation, two compares. */
const SCAN_VISIT = { alu: 5, branch: 2 } as const;
/** Instructions of one region of memmove: its two u64 and two u32 loads and stores, and the loop's branch. */
const MOVE_REGION = { alu: 8, branch: 1 } as const;

/**
 * Cycles the model charges for `visits` region visits of memblock's linear
 * scans: each visit's instructions at the CPU's ALU costs, and its 24 bytes
 * streaming from L2 (the array of a few thousand regions stays there),
 * independent loads overlapping up to the CPU's memory-level parallelism.
 */
export function scanCycles(cpu: CpuParams, visits: number): number {
  const alu = SCAN_VISIT.alu * cpu.aluCycles.alu + SCAN_VISIT.branch * cpu.aluCycles.branch;
  const memory = ((REGION_BYTES / cpu.lineBytes) * cpu.l2.latencyCycles) / cpu.mlp;
  return visits * (alu + memory);
}

/**
 * Cycles the model charges for memmove of `regions` regions (memblock
 * inserting and merging): each region's instructions, and its 24 bytes
 * read and written streaming in L2 like the scan's (the stores drain
 * through the store buffer at the loads' pace), overlapping up to the CPU's
 * memory-level parallelism.
 */
export function moveCycles(cpu: CpuParams, regions: number): number {
  const alu = MOVE_REGION.alu * cpu.aluCycles.alu + MOVE_REGION.branch * cpu.aluCycles.branch;
  const memory = (2 * (REGION_BYTES / cpu.lineBytes) * cpu.l2.latencyCycles) / cpu.mlp;
  return regions * (alu + memory);
}

/** The kernels a restore is measured with: no deferred init, and deferred init at the two caps; one memory, reset before each run. */
function kernels(mem: PhysMem, options: NextKernelOptions, search: MemblockSearch, priceMoves = false): { eager: NextKernel; one: NextKernel; sample: NextKernel } {
  const eager = new NextKernel(mem, { magic: options.magic, deferredInit: false, search, priceMoves });
  const deferred = (cap: number) => new NextKernel(mem, { magic: options.magic, deferredInit: true, structPageCap: cap, search, priceMoves, memoryOf: eager });
  return { eager, one: deferred(1), sample: deferred(STRUCT_PAGE_SAMPLE) };
}

/** Struct pages each capped run initialised, and all there are, after one run of each. */
function deferredCounts(one: NextKernel, sample: NextKernel): DeferredCounts {
  const a = one.stats();
  const b = sample.stats();
  return { one: a.structPagesInit, sample: b.structPagesInit, all: a.structPagesInit + a.structPagesSkipped };
}

/**
 * What deferred init of every struct page costs (a time, or a model figure),
 * from the cap-1 and cap-sample runs: the cap-1 run plus the price of one
 * struct page for each it left out.
 */
export function deferredFull(one: number, sample: number, counts: DeferredCounts): number {
  if (counts.sample <= counts.one) return sample;
  return one + ((sample - one) * (counts.all - counts.one)) / (counts.sample - counts.one);
}

interface Verified {
  readonly stats: RestoreStats;
  readonly list: Float64Array;
  /** How long the checking restore with the kernel's work took (cold code: an upper bound), ns. */
  readonly totalNs: number;
}

/** Restores bare, recording the folios, then with the kernel's work, and checks both; throws RestoreMismatch. */
function verifyRestore(structure: StructureId, mem: PhysMem, fdt: Uint8Array, live: LiveSet, kernel: NextKernel): Verified {
  const folios = new FolioList();
  const stats = restoreFromMemory(structure, mem, fdt, folios);
  const list = folios.toArray();
  const got = liveSetOf(list);
  if (got.folios !== live.folios || got.bytes !== live.bytes || got.hash !== live.hash) restoredOther(structure, got, live);
  kernel.reset();
  const t1 = hr();
  restoreFromMemory(structure, mem, fdt, kernel);
  const totalNs = Number(hr() - t1);
  const wrong = kernel.check(list);
  if (wrong) throw new RestoreMismatch(`${structure}: ${wrong}`);
  return { stats, list, totalNs };
}

function restoredOther(structure: StructureId, got: LiveSet, live: LiveSet): never {
  throw new RestoreMismatch(
    `${structure} restored ${got.folios} folios (${got.bytes} bytes, fingerprint ${got.hash.toString(16)}), ` +
      `but ${live.folios} folios (${live.bytes} bytes, fingerprint ${live.hash.toString(16)}) were preserved`,
  );
}

/**
 * Deferred init's capped kernels to run on a list: cap 1, then the sample
 * cap; when every folio is a single page both caps do the same work, and the
 * sample's kernel alone runs, standing for both (deferredCounts of it twice).
 */
function cappedKernels(list: Float64Array, one: NextKernel, sample: NextKernel): NextKernel[] {
  for (let i = 1; i < list.length; i += 2) if (list[i] !== 0) return [one, sample];
  return [sample];
}

export function measureRestore(
  structure: StructureId,
  mem: PhysMem,
  fdt: Uint8Array,
  live: LiveSet,
  budget: RestoreBudget,
  regionNs: number,
  options: NextKernelOptions,
): RestoreMeasurement {
  // The bare walk is timed first, while the only sink it has seen is the counting one: after the checking
  // restores (a list, then the kernel's work) its call to the sink is polymorphic, and V8 no longer inlines it
  // (a warm dense-4k walk then takes 11-12 ns per folio instead of 4-5). Its figures are kept only if the
  // check below passes. The pilot's runs (the first pays the host's page faults) size the samples.
  const sink = new CountSink();
  const walk = measureRepeat(
    'walk',
    () => {
      sink.reset();
      restoreFromMemory(structure, mem, fdt, sink);
    },
    { budget: budget.walk, regionNs, repeatable: true },
  );
  const { eager, one, sample } = kernels(mem, options, 'binary');
  const { stats, list, totalNs } = verifyRestore(structure, mem, fdt, live, eager);
  const capped = cappedKernels(list, one, sample);
  const parts: ListPart[] = [
    { name: 'memblock', kernel: eager, run: (l) => eager.memblockOnly(l) },
    { name: 'heads', kernel: eager, run: (l) => eager.structPagesOnly(l) },
    ...capped.map((k) => ({ name: k === one ? 'deferred-1' : 'deferred-sample', kernel: k, run: (l: Float64Array) => k.structPagesOnly(l) })),
  ];
  warmParts(parts, list, budget.partsWarmup);
  const timed = (b: RepeatBudget, name: string, fn: () => void, reset: () => void) =>
    measureRepeat(name, fn, { budget: b, regionNs, repeatable: false, estimateNs: totalNs, beforeEach: reset });
  const [memblock, heads, ...deferred] = parts.map((p) => timed(budget.parts, p.name, () => p.run(list), () => p.kernel.reset()));
  const total = timed(budget.total, 'restore', () => void restoreFromMemory(structure, mem, fdt, eager), () => eager.reset());
  const deferredSample = deferred[deferred.length - 1];
  return {
    total,
    walk,
    memblock,
    heads,
    ...(deferred.length > 1 ? { deferredOne: deferred[0] } : {}),
    deferredSample,
    deferredCounts: deferredCounts(capped[0], sample),
    stats,
  };
}

/** A part of the restore run on a recorded folio list, by `kernel` reset before each run. */
interface ListPart {
  readonly name: string;
  readonly kernel: NextKernel;
  run(list: Float64Array): void;
}

/**
 * Runs every part on an evenly spaced sample of the list, untimed, so that their first timed runs find their code
 * compiled. Spaced, not a prefix: a walk reports folios grouped by order (per-order trees, or leaves in key
 * order), and a prefix of the ranges scenario's list held only single pages, leaving deferred init's loop over a
 * folio's struct pages cold (its timed run then read 60 ms against a settled 37).
 */
function warmParts(parts: readonly ListPart[], list: Float64Array, warmup: RestoreBudget['partsWarmup']): void {
  const sample = spacedFolios(list, warmup.folios);
  for (let r = 0; r < warmup.rounds; r++) {
    for (const p of parts) {
      p.kernel.reset();
      p.run(sample);
    }
  }
}

/** At most about `folios` folios of a [phys, order, ...] list, evenly spaced, in the list's order. */
export function spacedFolios(list: Float64Array, folios: number): Float64Array {
  const n = list.length >> 1;
  if (n <= folios) return list;
  const stride = Math.ceil(n / folios);
  const out = new Float64Array(2 * Math.ceil(n / stride));
  for (let i = 0, j = 0; i < n; i += stride, j += 2) {
    out[j] = list[2 * i];
    out[j + 1] = list[2 * i + 1];
  }
  return out;
}

/** Per field: the eager total plus deferred init's figures above the heads (priced from the two capped runs). */
function withDeferred(total: ModelOutput, heads: ModelOutput, one: ModelOutput, sample: ModelOutput, counts: DeferredCounts): ModelOutput {
  const f = (k: keyof ModelOutput) => total[k] + deferredFull(one[k], sample[k], counts) - heads[k];
  return {
    ops: total.ops,
    l1: f('l1'),
    l2: f('l2'),
    llc: f('llc'),
    dram: f('dram'),
    tlbMisses: f('tlbMisses'),
    maxChain: Math.max(total.maxChain, sample.maxChain),
    chain: total.chain,
    atomics: f('atomics'),
    instructions: f('instructions'),
    ns: f('ns'),
  };
}

/**
 * Distinct pages/lines of the bare walk, and the model's cost per restored
 * folio of the walk and of the whole restore (walk with memblock, the
 * kernel's linear scan, and heads, plus deferred init priced from its capped
 * runs when the next kernel defers struct page init), each from cold caches.
 */
export function restoreExact(
  structure: StructureId,
  image: RamImage,
  fdt: Uint8Array,
  cpu: CpuParams,
  options: NextKernelOptions & { readonly deferredInit: boolean },
): RestoreExact {
  const counter = new TouchCounter();
  const model = new MachineModel(cpu);
  const mem = TracedPhysMem.ofImage(image, new TracerFanout([counter, model]));
  const costed = (run: () => void, memblock?: () => { scanned: number; moved: number }): ModelOutput => {
    model.flush();
    model.resetTotals();
    model.beginOp();
    run();
    if (memblock) {
      const { scanned, moved } = memblock();
      model.stall(scanCycles(cpu, scanned) + moveCycles(cpu, moved));
    }
    model.endOp();
    return modelFigures(model, 0);
  };
  // The sink records in host memory only: the walk is what is costed.
  const folios = new FolioList();
  counter.begin();
  let stats!: RestoreStats;
  const walk = costed(() => {
    stats = restoreFromMemory(structure, mem, fdt, folios);
  });
  counter.end();
  const n = stats.folios;
  const list = folios.toArray();
  const { eager, one, sample } = kernels(mem, options, 'binary', true);
  eager.reset();
  const total = costed(
    () => void restoreFromMemory(structure, mem, fdt, eager),
    () => eager.stats(),
  );
  const memblock = eager.stats();
  let whole = total;
  if (options.deferredInit) {
    eager.reset();
    const heads = costed(() => eager.structPagesOnly(list));
    const capped = cappedKernels(list, one, sample);
    const runs = capped.map((k) => {
      k.reset();
      return costed(() => k.structPagesOnly(list));
    });
    whole = withDeferred(total, heads, runs[0], runs[runs.length - 1], deferredCounts(capped[0], sample));
  }
  return {
    folios: n,
    metadataObjects: stats.metadataObjectsRead,
    metadataBytes: stats.metadataBytesRead,
    pages: counter.pages,
    lines: counter.lines,
    memblock,
    model: { walk: rescale(walk, n), total: rescale(whole, n) },
  };
}

/** Figures of one whole run (ops = 0: per run) made per restored folio. */
function rescale(m: ModelOutput, folios: number): ModelOutput {
  const u = Math.max(1, folios);
  return {
    ops: folios,
    l1: m.l1 / u,
    l2: m.l2 / u,
    llc: m.llc / u,
    dram: m.dram / u,
    tlbMisses: m.tlbMisses / u,
    maxChain: m.maxChain,
    chain: m.chain,
    atomics: m.atomics / u,
    instructions: m.instructions / u,
    ns: m.ns / u,
  };
}
