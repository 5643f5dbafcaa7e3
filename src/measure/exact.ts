/**
 * The deterministic figures of a (structure, scenario): untimed passes on an
 * observed memory (TracedPhysMem) that feed every access both to a
 * TouchCounter (distinct pages and lines) and to the machine model
 * (src/model). The same workload and seed give the same figures bit for bit
 * in any process on any machine: nothing here reads a clock.
 *
 *   build      the workload's build on a fresh traced machine: pages and
 *              lines per preserved folio, the model's cost per preserved
 *              folio, and the heap accounting before and after finalize;
 *   finalize   the model's cost of the hand-over (the serialization step);
 *   teardown   (measureTeardownModel) a second machine: the build uncosted
 *              (the model still sees it, so its caches are warm), then the
 *              teardown's unpreserves costed per folio.
 *
 * The restore's figures come from the next kernel's side (restore-exact in
 * src/measure/restore.ts), on memory rebuilt from the image alone.
 */
import { type Handover, handOver } from '../kexec/kexec.ts';
import { Machine } from '../ram/machine.ts';
import { TouchCounter, TracedPhysMem, TracerFanout } from '../ram/traced-mem.ts';
import type { CpuParams } from '../model/cpu.ts';
import { MachineModel } from '../model/model.ts';
import type { Tracker } from '../tracker/tracker.ts';
import type { ModelOutput } from '../results/job.ts';
import type { TrackerFactory } from './replay.ts';
import type { HeapFigures } from './serialize.ts';
import type { Phase, Workload } from './workload.ts';

/** Preserve calls counted for pages and lines at most (evenly spread); the model sees every call. */
export const MAX_COUNTED_CALLS = 1 << 15;

export interface ExactFigures {
  readonly built: HeapFigures;
  readonly atHandover: HeapFigures;
  readonly peak: HeapFigures;
  readonly serialized: HeapFigures;
  readonly touches: { readonly pagesPerPreserve: number; readonly linesPerPreserve: number };
  readonly model: { readonly preserve: ModelOutput; readonly finalize: ModelOutput };
  readonly handover: Handover;
}

/** The model's totals since its last resetTotals, per `units` (folios, or 1 for a single operation). */
export function modelFigures(model: MachineModel, units: number): ModelOutput {
  const t = model.totals;
  const u = Math.max(1, units);
  return {
    ops: units,
    l1: t.hits.l1 / u,
    l2: t.hits.l2 / u,
    llc: t.hits.llc / u,
    dram: t.hits.dram / u,
    tlbMisses: t.tlbMisses / u,
    maxChain: t.maxChain,
    chain: t.ops > 0 ? t.chain / t.ops : 0,
    atomics: t.atomics / u,
    instructions: t.instructions / u,
    ns: t.ns / u,
  };
}

function tracedMachine(workload: Workload, counter: TouchCounter, model: MachineModel): Machine {
  const tracer = new TracerFanout([counter, model]);
  return new Machine({ banks: workload.banks, heapSize: workload.heapSize, mem: TracedPhysMem.factory(tracer) });
}

/** Runs one operation of a phase; returns the folios it covered. */
function runOp(t: Tracker, p: Phase, i: number): number {
  if (p.kind === 'preserve') t.preserve(p.a[i], p.b[i]);
  else if (p.kind === 'unpreserve') t.unpreserve(p.a[i], p.b[i]);
  else t.preserveRange(p.a[i], p.b[i]);
  return p.folios ? p.folios[i] : 1;
}

/**
 * The build, counted and costed: every preserve-kind call is a model op
 * (unpreserves of the build are run as ops too, uncosted per folio), every
 * stride-th one is also counted for pages and lines.
 */
function observedBuild(t: Tracker, workload: Workload, counter: TouchCounter, model: MachineModel): { folios: number; pages: number; lines: number; counted: number } {
  const calls = workload.build.filter((p) => p.kind !== 'unpreserve').reduce((a, p) => a + p.a.length, 0);
  const stride = Math.max(1, Math.ceil(calls / MAX_COUNTED_CALLS));
  let call = 0;
  let folios = 0;
  let pages = 0;
  let lines = 0;
  let counted = 0;
  model.resetTotals();
  for (const p of workload.build) {
    for (let i = 0; i < p.a.length; i++) {
      if (p.kind === 'unpreserve') {
        runOp(t, p, i);
        continue;
      }
      const count = call++ % stride === 0;
      if (count) counter.begin();
      model.beginOp();
      const n = runOp(t, p, i);
      model.endOp();
      folios += n;
      if (count) {
        counter.end();
        pages += counter.pages;
        lines += counter.lines;
        counted += n;
      }
    }
  }
  return { folios, pages, lines, counted };
}

export function measureExact(workload: Workload, create: TrackerFactory, cpu: CpuParams): ExactFigures {
  const counter = new TouchCounter();
  const model = new MachineModel(cpu);
  const t = create(tracedMachine(workload, counter, model));
  const build = observedBuild(t, workload, counter, model);
  const preserve = modelFigures(model, build.folios);
  const s = t.heap.stats;
  const built = { bytes: s.bytes, pages: s.pages };
  model.resetTotals();
  model.beginOp();
  const fdt = t.finalize();
  model.endOp();
  const finalize = modelFigures(model, 1);
  const atHandover = { bytes: s.bytes, pages: s.pages };
  const handover = handOver(t, { fdt });
  return {
    built,
    atHandover,
    peak: { bytes: s.peakBytes, pages: s.peakPages },
    serialized: { bytes: atHandover.bytes - built.bytes, pages: atHandover.pages - built.pages },
    touches: {
      pagesPerPreserve: build.pages / Math.max(1, build.counted),
      linesPerPreserve: build.lines / Math.max(1, build.counted),
    },
    model: { preserve, finalize },
    handover,
  };
}

/**
 * The teardown's unpreserves, costed per folio after an uncosted build on a
 * fresh machine (undefined without a teardown). Throws what unpreserve
 * throws where the structure has none.
 */
export function measureTeardownModel(workload: Workload, create: TrackerFactory, cpu: CpuParams): ModelOutput | undefined {
  if (workload.teardown.length === 0) return undefined;
  const counter = new TouchCounter();
  const model = new MachineModel(cpu);
  const t = create(tracedMachine(workload, counter, model));
  for (const p of workload.build) for (let i = 0; i < p.a.length; i++) runOp(t, p, i);
  model.resetTotals();
  let folios = 0;
  for (const p of workload.teardown) {
    for (let i = 0; i < p.a.length; i++) {
      model.beginOp();
      folios += runOp(t, p, i);
      model.endOp();
    }
  }
  return modelFigures(model, folios);
}
