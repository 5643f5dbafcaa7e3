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
 *                 folio first;
 *   total         the walk doing memblock and the head stores as it finds
 *                 each folio: one run.
 * The kernel's restore is total, plus deferred when the scenario's next
 * kernel defers struct page init (see src/results/assemble.ts).
 *
 * Deferred init writes 64 bytes per 4 KiB restored: 3.6 GiB for 230 GiB of
 * 2 MiB folios, more than a benchmark can replay in every process. It is
 * timed on a sample: the first STRUCT_PAGE_SAMPLE struct pages of each folio
 * (all of them for folios of 64 pages or fewer), and its time above the
 * head stores is scaled by the struct pages the sample left out. Every
 * struct page costs the same sequential stores, so the scaling is linear
 * in what it scales; the sample size is the one parameter.
 *
 * Before timing, one restore is checked against the live set the old
 * kernel handed over (folios, bytes and an order-independent fingerprint of
 * (phys, order) must match), and the kernel's work is checked for covering
 * exactly the preserved bytes and stamping every head.
 *
 * Exact (`restoreExact`): one walk on an observed memory counts the distinct
 * pages and lines it touches, and the machine model costs the walk, the
 * walk with memblock and heads, and the sampled deferred init (scaled the
 * same way), from cold caches (the next kernel has just booted).
 */
import { FolioList, restoreFromMemory } from '../kexec/kexec.ts';
import { NextKernel } from '../kexec/next-kernel.ts';
import type { PhysMem, RamImage } from '../ram/phys-mem.ts';
import { TouchCounter, TracedPhysMem, TracerFanout } from '../ram/traced-mem.ts';
import type { CpuParams } from '../model/cpu.ts';
import { MachineModel } from '../model/model.ts';
import type { RestoreStats, StructureId } from '../tracker/tracker.ts';
import type { ModelOutput, RestoreExact } from '../results/job.ts';
import type { RepeatBudget } from './budgets.ts';
import { modelFigures } from './exact.ts';
import { type RepeatResult, measureRepeat } from './repeat.ts';
import { CheckSink, CountSink, type LiveSet } from './workload.ts';

/** Struct pages of each folio that deferred init is timed (and modeled) on; the rest is scaled. */
export const STRUCT_PAGE_SAMPLE = 64;

export interface RestoreMeasurement {
  readonly total: RepeatResult;
  readonly walk: RepeatResult;
  readonly memblock: RepeatResult;
  readonly heads: RepeatResult;
  readonly deferred: RepeatResult;
  /** (struct pages initialised + left out) / initialised by the deferred sample: what its time above the heads is scaled by. */
  readonly deferredScale: number;
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

/** The two kernels a restore is measured with: no deferred init, and deferred init on the sample. */
function kernels(mem: PhysMem, options: NextKernelOptions): { eager: NextKernel; deferred: NextKernel } {
  return {
    eager: new NextKernel(mem, { magic: options.magic, deferredInit: false }),
    deferred: new NextKernel(mem, { magic: options.magic, deferredInit: true, structPageCap: STRUCT_PAGE_SAMPLE }),
  };
}

/** The sample's scale: struct pages the full deferred init writes over those the sample wrote. */
function deferredScale(k: NextKernel): number {
  const s = k.stats();
  return s.structPagesInit > 0 ? (s.structPagesInit + s.structPagesSkipped) / s.structPagesInit : 1;
}

interface Verified {
  readonly stats: RestoreStats;
  readonly list: Float64Array;
  /** How long the checking restores took (cold code: an upper bound), ns. */
  readonly walkNs: number;
  readonly totalNs: number;
}

/** Restores bare, then with the kernel's work, and checks both; throws RestoreMismatch. */
function verifyRestore(structure: StructureId, mem: PhysMem, fdt: Uint8Array, live: LiveSet, kernel: NextKernel): Verified {
  const check = new CheckSink();
  const stats = restoreFromMemory(structure, mem, fdt, check);
  if (check.folios !== live.folios || check.bytes !== live.bytes || check.hash !== live.hash) {
    throw new RestoreMismatch(
      `${structure} restored ${check.folios} folios (${check.bytes} bytes, fingerprint ${check.hash.toString(16)}), ` +
        `but ${live.folios} folios (${live.bytes} bytes, fingerprint ${live.hash.toString(16)}) were preserved`,
    );
  }
  const folios = new FolioList();
  const t0 = hr();
  restoreFromMemory(structure, mem, fdt, folios);
  const walkNs = Number(hr() - t0);
  const list = folios.toArray();
  kernel.reset();
  const t1 = hr();
  restoreFromMemory(structure, mem, fdt, kernel);
  const totalNs = Number(hr() - t1);
  const wrong = kernel.check(list);
  if (wrong) throw new RestoreMismatch(`${structure}: ${wrong}`);
  return { stats, list, walkNs, totalNs };
}

export function measureRestore(
  structure: StructureId,
  mem: PhysMem,
  fdt: Uint8Array,
  live: LiveSet,
  budget: RepeatBudget,
  regionNs: number,
  options: NextKernelOptions,
): RestoreMeasurement {
  const { eager, deferred } = kernels(mem, options);
  const { stats, list, walkNs, totalNs } = verifyRestore(structure, mem, fdt, live, eager);
  const repeat = (name: string, fn: () => void, estimateNs: number, beforeEach?: () => void) =>
    measureRepeat(name, fn, { budget, regionNs, repeatable: beforeEach === undefined, estimateNs, beforeEach });
  const sink = new CountSink();
  const walk = repeat(
    'walk',
    () => {
      sink.reset();
      restoreFromMemory(structure, mem, fdt, sink);
    },
    walkNs,
  );
  const resetEager = () => eager.reset();
  const memblock = repeat('memblock', () => eager.memblockOnly(list), totalNs, resetEager);
  const heads = repeat('heads', () => eager.structPagesOnly(list), totalNs, resetEager);
  const deferredRun = repeat('deferred', () => deferred.structPagesOnly(list), totalNs, () => deferred.reset());
  const total = repeat('restore', () => void restoreFromMemory(structure, mem, fdt, eager), totalNs, resetEager);
  return { total, walk, memblock, heads, deferred: deferredRun, deferredScale: deferredScale(deferred), stats };
}

/** The model's figures of one scaled part: a's figures plus (b - a) times `scale`, per field. */
function scaledSum(base: ModelOutput, withPart: ModelOutput, partOf: ModelOutput, scale: number): ModelOutput {
  const add = (k: keyof ModelOutput) => base[k] + (withPart[k] - partOf[k]) * scale;
  return {
    ops: base.ops,
    l1: add('l1'),
    l2: add('l2'),
    llc: add('llc'),
    dram: add('dram'),
    tlbMisses: add('tlbMisses'),
    maxChain: Math.max(base.maxChain, withPart.maxChain),
    chain: base.chain,
    atomics: add('atomics'),
    instructions: add('instructions'),
    ns: add('ns'),
  };
}

/**
 * Distinct pages/lines of the bare walk, and the model's cost per restored
 * folio of the walk and of the whole restore (walk with memblock and heads,
 * plus the deferred init scaled from its sample when the next kernel defers
 * struct page init), each from cold caches.
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
  const costed = (run: () => void, folios: number): ModelOutput => {
    model.flush();
    model.resetTotals();
    model.beginOp();
    run();
    model.endOp();
    return modelFigures(model, folios);
  };
  const sink = new CountSink();
  counter.begin();
  let stats!: RestoreStats;
  const walk = costed(() => {
    stats = restoreFromMemory(structure, mem, fdt, sink);
  }, 0);
  counter.end();
  const n = stats.folios;
  const { eager, deferred } = kernels(mem, options);
  const folios = new FolioList();
  restoreFromMemory(structure, mem, fdt, folios);
  const list = folios.toArray();
  eager.reset();
  const total = costed(() => void restoreFromMemory(structure, mem, fdt, eager), 0);
  let whole = total;
  if (options.deferredInit) {
    eager.reset();
    const heads = costed(() => eager.structPagesOnly(list), 0);
    deferred.reset();
    const sampled = costed(() => deferred.structPagesOnly(list), 0);
    whole = scaledSum(total, sampled, heads, deferredScale(deferred));
  }
  eager.reset();
  restoreFromMemory(structure, mem, fdt, eager);
  return {
    folios: n,
    metadataObjects: stats.metadataObjectsRead,
    metadataBytes: stats.metadataBytesRead,
    pages: counter.pages,
    lines: counter.lines,
    memblock: eager.stats(),
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
