/**
 * An allocation failure injected at every allocation point of every
 * structure, in preserve, preserveRange (test/conformance.test.ts) and
 * finalize: the call fails with ENOMEM, and what survives is what the
 * kernel version keeps. A failed preserve keeps everything else. A failed
 * finalize, in 6.16..6.18, ends in kho_abort: every preservation is thrown
 * away (the clients must preserve again); in 6.19 it frees the partial
 * chunk list and keeps the preservations (and a published list), so it can
 * be retried; the stateless trackers' finalize allocates nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Folio } from '../src/kexec/kexec.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { STRUCTURE_IDS, type StructureId } from '../src/tracker/tracker.ts';
import { FAMILY_IDS } from '../structures/family/index.ts';
import { fdtFolio, keyList, newTracker, preserveAll, roundTrip, withFdtPage } from './harness.ts';

// Every registered structure, and every point of the design-space family (a mainline-lifecycle tracker each).
const ids = (process.env.KHO_STRUCTURES?.split(',') ?? [...STRUCTURE_IDS, ...FAMILY_IDS]) as StructureId[];

/** From the facts sheet: what a finalize that fails part-way leaves, and whether a tracker can be finalized again. */
const FINALIZE_FAILURE: Partial<Record<StructureId, 'aborts' | 'retryable' | 'cannot fail'>> = {
  'flat-bitmap': 'cannot fail',
  'xarray-6.16': 'aborts',
  'xarray-6.18': 'aborts',
  'xarray-6.19': 'retryable',
  ida: 'cannot fail',
  'radix-rfc': 'cannot fail',
  radix: 'cannot fail',
  'xarray-prealloc': 'cannot fail',
  'kho-array': 'cannot fail',
};

/** Folios that make every structure allocate: new orders, far-apart indices, bitmaps filling up (orders 0..9, which every format holds). */
const WORKLOAD: Folio[] = [
  ...Array.from({ length: 40 }, (_, i) => ({ phys: i * 2 ** 27 + 0x1000 * (i % 5), order: 0 })),
  ...Array.from({ length: 10 }, (_, o) => ({ phys: 2 ** 51 + (o % 7) * 2 ** 30, order: o })),
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
      expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, kept)));
    }
    console.log(`faults ${id}: ${points} allocation points in preserve, each failed once and survived`);
  });

  it('leaves after a finalize that ran out of memory what its kernel version leaves', () => {
    const kind = FINALIZE_FAILURE[id] ?? 'cannot fail';
    let points = 0;
    for (let nth = 1; ; nth++) {
      const tracker = newTracker(id);
      preserveAll(tracker, WORKLOAD);
      const emptyBytes = newTracker(id).heap.stats.bytes;
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
      if (kind === 'aborts') {
        // kho_abort: every bitmap, kho_mem_phys and node freed; only kho_mem_track's 16 bytes are left.
        expect(tracker.heap.stats.bytes).toBe(emptyBytes);
        expect(roundTrip(tracker)).toEqual([fdtFolio(tracker)]);
      } else if (nth % 2) {
        expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, WORKLOAD)));
      } else {
        tracker.preserve(0x7000, 0);
        expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, [...WORKLOAD, { phys: 0x7000, order: 0 }])));
      }
    }
    if (kind === 'cannot fail') expect(points).toBe(0);
    else expect(points).toBeGreaterThan(0);
    console.log(`faults ${id}: ${points} allocation points in finalize, each failed once (${kind})`);
  });

  it('does not leak across repeated hand-overs: abort/finalize cycles (6.16..6.18) or re-finalizing (elsewhere)', () => {
    const tracker = newTracker(id);
    preserveAll(tracker, WORKLOAD);
    if (FINALIZE_FAILURE[id] === 'aborts') {
      const emptyBytes = newTracker(id).heap.stats.bytes;
      for (let i = 0; i < 5; i++) {
        tracker.finalize();
        tracker.abort();
        expect(tracker.heap.stats.bytes).toBe(emptyBytes);
        preserveAll(tracker, WORKLOAD);
      }
      const pages = tracker.heap.stats.pages;
      tracker.finalize();
      tracker.abort();
      preserveAll(tracker, WORKLOAD);
      expect(tracker.heap.stats.pages).toBe(pages);
    } else {
      tracker.finalize();
      const pages = tracker.heap.stats.pages;
      for (let i = 0; i < 5; i++) tracker.finalize();
      expect(tracker.heap.stats.pages).toBe(pages);
    }
    expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, WORKLOAD)));
  });
});
