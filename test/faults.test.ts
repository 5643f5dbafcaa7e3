/**
 * An allocation failure injected at every allocation point of every
 * structure, in preserve, preserveRange (test/conformance.test.ts) and
 * finalize: the call fails with ENOMEM, everything preserved before it is
 * still restored exactly, and a failed finalize can be retried or aborted.
 */
import { describe, expect, it } from 'vitest';
import type { Folio } from '../src/kexec/kexec.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { STRUCTURE_IDS, type StructureId } from '../src/tracker/tracker.ts';
import { keyList, newTracker, preserveAll, roundTrip } from './harness.ts';

const ids = (process.env.KHO_STRUCTURES?.split(',') ?? STRUCTURE_IDS) as StructureId[];

/** Folios that make every structure allocate: new orders, far-apart indices, bitmaps filling up. */
const WORKLOAD: Folio[] = [
  ...Array.from({ length: 40 }, (_, i) => ({ phys: i * 2 ** 27 + 0x1000 * (i % 5), order: 0 })),
  ...Array.from({ length: 19 }, (_, o) => ({ phys: 2 ** 51 + (o % 7) * 2 ** 30, order: o })),
  ...Array.from({ length: 70 }, (_, i) => ({ phys: 2 ** 52 - 16 * 2 ** 30 + i * 64 * 0x1000, order: 0 })),
];

describe.each(ids)('allocation failures: %s', (id) => {
  it('fails exactly the preserve that hits the failure, keeping everything else', () => {
    const probe = newTracker(id);
    const base = probe.heap.stats.allocations;
    preserveAll(probe, WORKLOAD);
    const points = probe.heap.stats.allocations - base;
    for (let nth = 1; nth <= points; nth++) {
      const tracker = newTracker(id);
      tracker.heap.injectFaults({ failNth: nth });
      const { kept, failed } = preserveAll(tracker, WORKLOAD);
      expect(failed).toBe(1);
      expect(keyList(roundTrip(tracker))).toEqual(keyList(kept));
    }
    console.log(`faults ${id}: ${points} allocation points in preserve, each failed once and survived`);
  });

  it('lets a finalize that ran out of memory be retried, or aborted', () => {
    let points = 0;
    for (let nth = 1; ; nth++) {
      const tracker = newTracker(id);
      preserveAll(tracker, WORKLOAD);
      tracker.heap.injectFaults({ failNth: nth });
      try {
        tracker.finalize();
        break;
      } catch (e) {
        expect(isKhoError(e, 'ENOMEM')).toBe(true);
        points++;
      }
      expect(tracker.finalized).toBe(false);
      tracker.heap.injectFaults({});
      if (nth % 2) {
        expect(keyList(roundTrip(tracker))).toEqual(keyList(WORKLOAD));
      } else {
        tracker.preserve(0x7000, 0);
        expect(keyList(roundTrip(tracker))).toEqual(keyList([...WORKLOAD, { phys: 0x7000, order: 0 }]));
      }
    }
    if (!newTracker(id).serializes) expect(points).toBe(0);
    console.log(`faults ${id}: ${points} allocation points in finalize, each failed once and survived`);
  });

  it('frees what an aborted finalize wrote, so repeated finalize/abort does not leak', () => {
    const tracker = newTracker(id);
    preserveAll(tracker, WORKLOAD);
    tracker.finalize();
    tracker.abort();
    const pages = tracker.heap.stats.pages;
    for (let i = 0; i < 5; i++) {
      tracker.finalize();
      tracker.abort();
    }
    expect(tracker.heap.stats.pages).toBe(pages);
  });
});
