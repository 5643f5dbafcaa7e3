/**
 * The kexec-time step: finalize. `takeHandover` finalizes a freshly built
 * tracker once, accounting the metadata it writes and holds, and takes the
 * hand-over image. `measureFinalize` then times finalize itself.
 */
import { type Handover, handOver } from '../kexec/kexec.ts';
import type { Tracker } from '../tracker/tracker.ts';
import type { SerializeBudget } from './budgets.ts';
import { type Workload, blockShares } from './workload.ts';
import { type RepeatResult, measureRepeat } from './repeat.ts';

export interface HeapFigures {
  readonly bytes: number;
  readonly pages: number;
}

export interface HandoverAccount {
  readonly handover: Handover;
  /** Metadata held before finalize. */
  readonly built: HeapFigures;
  /** Metadata held at hand-over (after finalize). */
  readonly atHandover: HeapFigures;
  /** Peak held at any time, finalize included. */
  readonly peak: HeapFigures;
  /** Metadata written by finalize (the serialized form). */
  readonly serialized: HeapFigures;
}

/** Finalizes `tracker` (built, not finalized), accounts its heap and takes the hand-over. */
export function takeHandover(tracker: Tracker): HandoverAccount {
  const s = tracker.heap.stats;
  const built = { bytes: s.bytes, pages: s.pages };
  const fdt = tracker.finalize();
  const atHandover = { bytes: s.bytes, pages: s.pages };
  const handover = handOver(tracker, { fdt });
  return {
    handover,
    built,
    atHandover,
    peak: { bytes: s.peakBytes, pages: s.peakPages },
    serialized: { bytes: atHandover.bytes - built.bytes, pages: atHandover.pages - built.pages },
  };
}

/**
 * Times finalize, after the budget's untimed warm-up rounds (SerializeBudget).
 * A stateless tracker's finalize only publishes its root and may run again
 * on the same tracker; a serializing tracker's finalize is timed on a
 * freshly built tracker each sample (untimed): 6.16..6.18's abort throws
 * every preservation away and 6.19 has none, so no tracker can be
 * finalized twice the same way. No collection is forced after the rebuild:
 * on a job's single pinned CPU, V8's sweeping after a forced collection ran
 * inside the next finalize (xarray-6.16 random-4k 1.3 to 7.8 ms, against
 * 1.0 to 1.3 without).
 */
export function measureFinalize(tracker: Tracker, workload: Workload, build: (w: Workload) => Tracker, budget: SerializeBudget, regionNs: number): RepeatResult {
  warmFinalize(workload, build, budget.warmup);
  if (!tracker.serializes) {
    for (const end = performance.now() + budget.inPlaceWarmupMs; performance.now() < end; ) tracker.finalize();
    return measureRepeat('finalize', () => void tracker.finalize(), { budget, regionNs, repeatable: true });
  }
  let fresh = tracker;
  return measureRepeat('finalize', () => void fresh.finalize(), {
    budget,
    regionNs,
    repeatable: false,
    beforeEach: () => {
      fresh = build(workload);
    },
  });
}

/**
 * The warm-up rounds. A share's finalize is not a scaled-down full one (on
 * random-4k a share of 4096 folios in as many blocks took 0.5 to 1 ms once
 * warm, the full 65536 0.66 ms), so it sizes nothing.
 */
function warmFinalize(workload: Workload, build: (w: Workload) => Tracker, warmup: SerializeBudget['warmup']): void {
  const parts = Math.max(1, Math.round(workload.live.folios / Math.max(1, warmup.folios)));
  const shares = blockShares(workload, parts, warmup.rounds);
  for (let r = 0; r < warmup.rounds; r++) build(shares[r % shares.length]).finalize();
}
