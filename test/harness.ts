/**
 * Shared test fixtures: a machine whose RAM spans the whole 52-bit
 * physical address space, and helpers to run a tracker through a kexec and
 * compare what the next kernel restores with what was preserved.
 */
import { execFile } from 'node:child_process';
import { FolioList, handOver, restoreHandover, type Folio, type HandOverOptions, type Handover } from '../src/kexec/kexec.ts';
import { Machine } from '../src/ram/machine.ts';
import { type Bank, PAGE_SIZE } from '../src/ram/phys-mem.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { MAX_ORDER, type StructureId, type Tracker } from '../src/tracker/tracker.ts';
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

/** A machine for sample hand-overs, with how many sparse pages it gets and how far apart. */
export interface SampleMachine {
  readonly banks: readonly Bank[];
  readonly sparse: number;
  readonly step: number;
}

/** 7 GiB in two banks: small enough for 10^5 restores. */
export const SMALL: SampleMachine = { banks: [{ start: 0, size: 5 * GiB }, { start: 2 ** 51, size: 2 * GiB }], sparse: 300, step: 2 ** 24 };
/** 16 TiB in two banks, the largest machine this suite simulates; sparse pages enough for a kho-array of several blocks. */
export const LARGEST: SampleMachine = {
  banks: [{ start: 0, size: 12 * 2 ** 40 }, { start: 2 ** 51, size: 4 * 2 ** 40 }],
  sparse: 1500,
  step: 2 ** 27,
};

/**
 * A hand-over with several orders, dense and sparse parts, deep trees,
 * more than one xarray chunk and kho-array block; `folios` counts the root
 * FDT's page.
 */
export function sampleHandover(id: StructureId, sample: SampleMachine): { handover: Handover; machine: Machine; folios: number } {
  const machine = new Machine({ banks: sample.banks });
  const spec = structureSpec(id);
  const top = spec.maxOrder ?? MAX_ORDER;
  const tracker = spec.create(machine);
  let folios = 1;
  const keep = (phys: number, order: number) => {
    tracker.preserve(phys, order);
    folios++;
  };
  for (let i = 0; i < sample.sparse; i++) keep(i * sample.step + PAGE_SIZE * (i % 7), 0);
  for (let i = 0; i < 64; i++) keep(2 * GiB + 2 ** 23 + i * PAGE_SIZE, 0);
  for (let i = 0; i < 16; i++) keep(3 * GiB + i * 2 ** 21, 9);
  keep(4 * GiB, top);
  for (let o = 1; o <= 10; o++) keep(2 ** 51 + o * 2 ** 26, Math.min(o, top));
  return { handover: handOver(tracker), machine, folios };
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

/** The root FDT's own page, which KHO core preserves through every tracker as an order-0 folio. */
export function fdtFolio(tracker: Tracker): Folio {
  return { phys: tracker.fdtPage, order: 0 };
}

/** What a hand-over of `tracker` restores when `folios` are what its users preserved: those and the FDT's page. */
export function withFdtPage(tracker: Tracker, folios: readonly Folio[]): Folio[] {
  return [...folios, fdtFolio(tracker)];
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

/** A restore's sink that refuses, at once, a folio that is not aligned RAM of the machine. */
export class CheckedSink extends FolioList {
  constructor(private readonly machine: Machine) {
    super();
  }

  override add(phys: number, order: number): void {
    const size = PAGE_SIZE * 2 ** order;
    if (!(order >= 0 && order <= MAX_ORDER && phys % size === 0 && this.machine.mem.contains(phys, size))) {
      throw new Error(`restore reported 0x${phys.toString(16)} order ${order}, not aligned RAM`);
    }
    super.add(phys, order);
  }
}

/** The errno of the KhoError `f` throws, or undefined if it returns; any other error is rethrown. */
export function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isKhoError(e)) return e.errno;
    throw e;
  }
  return undefined;
}
