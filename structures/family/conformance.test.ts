/**
 * What the family's points need beyond the suites every structure runs
 * (test/conformance.test.ts and test/faults.test.ts iterate the family
 * too): random workloads packed into one 48 MiB window, so that leaves fill
 * up and extent lists switch to bitmaps; ENOMEM at every allocation point
 * leaving the image byte for byte as before; and the corruption fuzz on a
 * hand-over with full extent lists.
 *
 * KHO_PROPERTY_RUNS sets the random workloads per point (10 in `npm test`),
 * KHO_FUZZ_CASES the corrupted images per point (150 in `npm test`; the
 * full profile's 10^5 is capped at 2000 per point here, 64000 in all).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handOver, type Folio, type Handover } from '../../src/kexec/kexec.ts';
import { Machine } from '../../src/ram/machine.ts';
import { PAGE_SIZE } from '../../src/ram/phys-mem.ts';
import { MAX_ORDER, type Tracker } from '../../src/tracker/tracker.ts';
import { fuzzRestores } from '../../test/corrupt.ts';
import { errnoOf, keyList, roundTrip, wideMachine, withFdtPage } from '../../test/harness.ts';
import { FAMILY_IDS, familySpec } from './index.ts';


const RUNS = Number(process.env.KHO_PROPERTY_RUNS ?? 10);
const CASES = Math.min(2000, Number(process.env.KHO_FUZZ_CASES ?? 150));
const GiB = 2 ** 30;

const newTracker = (id: string, machine: Machine = wideMachine()): Tracker => familySpec(id).create(machine);

/** A folio anywhere in the workload RAM, or in one 48 MiB window (neighbours: runs, full leaves, extent lists switching). */
const folioArb = (workload: readonly { start: number; size: number }[]): fc.Arbitrary<Folio> => {
  const anywhere = fc
    .record({ bank: fc.nat(workload.length - 1), order: fc.nat(MAX_ORDER), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) })
    .map(({ bank, order, at }): Folio => {
      const b = workload[bank];
      const size = PAGE_SIZE * 2 ** order;
      const first = Math.ceil(b.start / size);
      const count = Math.floor((b.start + b.size) / size) - first;
      return { phys: (first + Math.floor(at * count)) * size, order };
    });
  const near = fc.record({ order: fc.nat(2), i: fc.nat(3000) }).map(({ order, i }): Folio => ({ phys: 2 ** 51 + i * PAGE_SIZE * 2 ** order, order }));
  return fc.oneof(anywhere, near);
};

type Op = { kind: 'preserve' | 'unpreserve'; folio: Folio };

/** Random preserves, with duplicates and unpreserves of earlier folios. */
const opsArb = (workload: readonly { start: number; size: number }[]) =>
  fc.array(folioArb(workload), { minLength: 1, maxLength: 160 }).chain((folios) =>
    fc
      .array(fc.record({ kind: fc.constantFrom<Op['kind']>('preserve', 'preserve', 'unpreserve'), pick: fc.nat(folios.length - 1) }), { maxLength: 240 })
      .map((extra) => [...folios.map((folio): Op => ({ kind: 'preserve', folio })), ...extra.map(({ kind, pick }): Op => ({ kind, folio: folios[pick] }))]),
  );

function applyOps(ops: readonly Op[], tracker: Tracker): Folio[] {
  const model = new Map<string, Folio>();
  for (const { kind, folio } of ops) {
    const key = `${folio.phys}:${folio.order}`;
    if (kind === 'preserve') {
      tracker.preserve(folio.phys, folio.order);
      model.set(key, folio);
    } else {
      tracker.unpreserve(folio.phys, folio.order);
      model.delete(key);
    }
  }
  return [...model.values()];
}

/** Folios that make every point allocate: new orders, far-apart indices, leaves filling up (test/faults.test.ts's, with orders to 18). */
const WORKLOAD: Folio[] = [
  ...Array.from({ length: 40 }, (_, i) => ({ phys: i * 2 ** 27 + 0x1000 * (i % 5), order: 0 })),
  ...Array.from({ length: 19 }, (_, o) => ({ phys: 2 ** 51 + (o % 7) * 2 ** 30, order: o })),
  ...Array.from({ length: 70 }, (_, i) => ({ phys: 2 ** 52 - 16 * 2 ** 30 + i * 64 * 0x1000, order: 0 })),
  ...Array.from({ length: 300 }, (_, i) => ({ phys: 3 * GiB + 0x1000 * (i + (i >> 4)), order: 0 })),
];

/** The image's page list and bytes, for comparing two hand-overs. */
function imageBytes(h: Handover): { pfns: number[]; zero: number[]; data: Buffer } {
  return { pfns: [...h.image.pfns], zero: [...h.image.zeroPfns], data: Buffer.from(h.image.data) };
}

/** A hand-over with several orders, dense and sparse parts and full extent lists (test/robustness.test.ts's sample). */
function sampleHandover(id: string): { handover: Handover; machine: Machine; folios: number } {
  const machine = new Machine({ banks: [{ start: 0, size: 5 * GiB }, { start: 2 ** 51, size: 2 * GiB }] });
  const tracker = familySpec(id).create(machine);
  let folios = 0;
  const keep = (phys: number, order: number) => {
    tracker.preserve(phys, order);
    folios++;
  };
  for (let i = 0; i < 300; i++) keep(i * 16 * 2 ** 20 + PAGE_SIZE * (i % 7), 0);
  for (let i = 0; i < 64; i++) keep(2 * GiB + 2 ** 23 + i * PAGE_SIZE, 0);
  for (let i = 0; i < 40; i++) keep(2 * GiB + 2 ** 24 + 2 * i * PAGE_SIZE, 0);
  for (let i = 0; i < 16; i++) keep(3 * GiB + i * 2 ** 21, 9);
  keep(4 * GiB, 18);
  for (let o = 1; o <= 10; o++) keep(2 ** 51 + o * 2 ** 26, o);
  return { handover: handOver(tracker), machine, folios };
}

describe.each(FAMILY_IDS)('family conformance: %s', (id) => {
  it('restores exactly the preserved set and the FDT page (random orders 0..18, addresses up to 2^52, duplicates, unpreserves)', () => {
    const workload = wideMachine().workloadBanks;
    fc.assert(
      fc.property(opsArb(workload), (ops) => {
        const tracker = newTracker(id);
        const expected = applyOps(ops, tracker);
        expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, expected)));
      }),
      { numRuns: RUNS, seed: 0x6b686f },
    );
  });

  it('fails with ENOMEM at every allocation point of a workload, leaving the tracker as if the call had not been made', () => {
    const clean = newTracker(id);
    for (const f of WORKLOAD) clean.preserve(f.phys, f.order);
    const tracker = newTracker(id);
    let points = 0;
    for (const [k, f] of WORKLOAD.entries()) {
      for (let nth = 1; ; nth++) {
        const pages = tracker.heap.stats.pages;
        tracker.heap.injectFaults({ failNth: nth });
        const errno = errnoOf(() => tracker.preserve(f.phys, f.order));
        tracker.heap.injectFaults({});
        if (errno === undefined) break;
        expect(errno).toBe('ENOMEM');
        expect(tracker.heap.stats.pages).toBe(pages);
        points++;
      }
      // Now and then, the next kernel sees exactly what was preserved so far.
      if (k % 50 === 7) expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, WORKLOAD.slice(0, k + 1))));
    }
    // Each failed add undid itself exactly, so retrying built the very pages, bytes and addresses of a run without failures.
    const [got, want] = [imageBytes(handOver(tracker)), imageBytes(handOver(clean))];
    expect([got.pfns, got.zero]).toEqual([want.pfns, want.zero]);
    expect(got.data.equals(want.data)).toBe(true);
    expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, WORKLOAD)));
    expect(points).toBe(clean.heap.stats.allocations - newTracker(id).heap.stats.allocations);
    console.log(`faults ${id}: ${points} allocation points in preserve, each failed once and undone`);
  });

  it(`ends every one of ${CASES} corrupted images in a well-formed restore or a typed error`, () => {
    const { handover, machine, folios } = sampleHandover(id);
    const { legitFolios, tally, failures } = fuzzRestores(handover, machine, CASES, 0x4b484f50 ^ id.length);
    expect(legitFolios).toBe(folios + 1);
    console.log(`fuzz ${id}: ${CASES} corrupted images, outcomes ${JSON.stringify(tally)}`);
    expect(failures).toEqual([]);
    expect(tally.ECORRUPT ?? 0).toBeGreaterThan(0);
  });
});
