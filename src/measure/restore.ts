/**
 * The next kernel's restore, timed. Runs where the old kernel's objects
 * cannot be reached (a fresh worker, see bench/jobs), on memory rebuilt
 * from the hand-over image alone.
 *
 *   total  restore into a memblock-like reserved-region table (what the
 *          kernel does with each folio), the headline restore time;
 *   walk   the bare walk, into a sink that only counts.
 *
 * Before timing, one restore is checked against the live set the old
 * kernel handed over: the number of folios, their bytes and an
 * order-independent fingerprint of (phys, order) must all match, and the
 * memblock table must cover exactly the preserved bytes.
 */
import { restoreFromMemory } from '../kexec/kexec.ts';
import { MemblockTable, type MemblockStats } from '../kexec/memblock.ts';
import type { PhysMem } from '../ram/phys-mem.ts';
import type { RestoreStats, StructureId } from '../tracker/tracker.ts';
import type { RepeatBudget } from './budgets.ts';
import { type RepeatResult, measureRepeat } from './repeat.ts';
import { CheckSink, CountSink, type LiveSet } from './workload.ts';

export interface RestoreMeasurement {
  readonly total: RepeatResult;
  readonly walk: RepeatResult;
  readonly stats: RestoreStats;
  readonly memblock: MemblockStats;
}

export class RestoreMismatch extends Error {
  override readonly name = 'RestoreMismatch';
}

const hr = process.hrtime.bigint;

export interface VerifiedRestore {
  readonly stats: RestoreStats;
  readonly memblock: MemblockStats;
  /** How long the checking restores took (cold code: an upper bound), ns. */
  readonly walkNs: number;
  readonly totalNs: number;
}

/** Restores twice (bare, then into the table) and checks both against the live set; throws RestoreMismatch. */
export function verifyRestore(structure: StructureId, mem: PhysMem, fdt: Uint8Array, live: LiveSet): VerifiedRestore {
  const check = new CheckSink();
  const t0 = hr();
  const stats = restoreFromMemory(structure, mem, fdt, check);
  const walkNs = Number(hr() - t0);
  if (check.folios !== live.folios || check.bytes !== live.bytes || check.hash !== live.hash) {
    throw new RestoreMismatch(
      `${structure} restored ${check.folios} folios (${check.bytes} bytes, fingerprint ${check.hash.toString(16)}), ` +
        `but ${live.folios} folios (${live.bytes} bytes, fingerprint ${live.hash.toString(16)}) were preserved`,
    );
  }
  const table = new MemblockTable();
  const t1 = hr();
  restoreFromMemory(structure, mem, fdt, table);
  const totalNs = Number(hr() - t1);
  const memblock = table.stats();
  if (memblock.bytes !== live.bytes) {
    throw new RestoreMismatch(`${structure}: the reserved table covers ${memblock.bytes} bytes, ${live.bytes} were preserved`);
  }
  return { stats, memblock, walkNs, totalNs };
}

export function measureRestore(
  structure: StructureId,
  mem: PhysMem,
  fdt: Uint8Array,
  live: LiveSet,
  budget: RepeatBudget,
  regionNs: number,
  walkToo = true,
): RestoreMeasurement {
  const { stats, memblock, walkNs, totalNs } = verifyRestore(structure, mem, fdt, live);
  const table = new MemblockTable();
  const total = measureRepeat(
    'restore',
    () => {
      table.reset();
      restoreFromMemory(structure, mem, fdt, table);
    },
    { budget, regionNs, repeatable: true, estimateNs: totalNs },
  );
  const sink = new CountSink();
  const walk = walkToo
    ? measureRepeat(
        'walk',
        () => {
          sink.reset();
          restoreFromMemory(structure, mem, fdt, sink);
        },
        { budget, regionNs, repeatable: true, estimateNs: walkNs },
      )
    : total;
  return { total, walk, stats, memblock };
}
