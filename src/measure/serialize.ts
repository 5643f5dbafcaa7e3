/**
 * The kexec-time step: finalize. `takeHandover` finalizes a freshly built
 * tracker once, accounting the metadata it writes and holds, and takes the
 * hand-over image. `measureFinalize` then times finalize itself.
 */
import { type Handover, handOver } from '../kexec/kexec.ts';
import type { Tracker } from '../tracker/tracker.ts';
import type { RepeatBudget } from './budgets.ts';
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
 * Times finalize. A stateless tracker's finalize only publishes its root
 * and may run again on the same tracker; a serializing tracker's finalize
 * is timed on a freshly built tracker each sample (`rebuild`, untimed):
 * 6.16..6.18's abort throws every preservation away and 6.19 has none, so
 * no tracker can be finalized twice the same way.
 */
export function measureFinalize(tracker: Tracker, rebuild: () => Tracker, budget: RepeatBudget, regionNs: number): RepeatResult {
  if (!tracker.serializes) {
    return measureRepeat('finalize', () => void tracker.finalize(), { budget, regionNs, repeatable: true });
  }
  let fresh = tracker;
  return measureRepeat('finalize', () => void fresh.finalize(), {
    budget,
    regionNs,
    repeatable: false,
    beforeEach: () => {
      fresh = rebuild();
    },
  });
}
