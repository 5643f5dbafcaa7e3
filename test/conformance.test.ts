/**
 * The conformance suite every tracker runs. A structure joins by its line
 * in structures/index.ts; KHO_STRUCTURES=a,b narrows a run to some ids.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handOver, restoreInWorker, type Folio } from '../src/kexec/kexec.ts';
import { prepareTestKho, TEST_KHO_SUCCESS } from '../src/kexec/test-kho.ts';
import { PAGE_SIZE } from '../src/ram/phys-mem.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { MAX_ORDER, STRUCTURE_IDS, type StructureId } from '../src/tracker/tracker.ts';
import { foliosOf, keyList, newTracker, preserveAll, roundTrip, wideMachine } from './harness.ts';

const ids = (process.env.KHO_STRUCTURES?.split(',') ?? STRUCTURE_IDS) as StructureId[];
const RUNS = Number(process.env.KHO_PROPERTY_RUNS ?? 25);

/** A folio drawn anywhere in the workload RAM of wideMachine(). */
const folioArb = (workload: readonly { start: number; size: number }[]) =>
  fc
    .record({ bank: fc.nat(workload.length - 1), order: fc.nat(MAX_ORDER), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) })
    .map(({ bank, order, at }): Folio => {
      const b = workload[bank];
      const size = PAGE_SIZE * 2 ** order;
      const first = Math.ceil(b.start / size);
      const count = Math.floor((b.start + b.size) / size) - first;
      return { phys: (first + Math.floor(at * count)) * size, order };
    });

type Op = { kind: 'preserve' | 'unpreserve'; folio: Folio };

/** Random preserves, with duplicates and unpreserves of earlier folios. */
const opsArb = (workload: readonly { start: number; size: number }[]) =>
  fc.array(folioArb(workload), { minLength: 1, maxLength: 120 }).chain((folios) =>
    fc
      .array(fc.record({ kind: fc.constantFrom<Op['kind']>('preserve', 'preserve', 'unpreserve'), pick: fc.nat(folios.length - 1) }), {
        maxLength: 200,
      })
      .map((extra) => [
        ...folios.map((folio): Op => ({ kind: 'preserve', folio })),
        ...extra.map(({ kind, pick }): Op => ({ kind, folio: folios[pick] })),
      ]),
  );

function applyOps(ops: readonly Op[], tracker: ReturnType<typeof newTracker>): Folio[] {
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

/** The greedy split, written independently of the implementation. */
function expectedSplit(phys: number, size: number): Folio[] {
  const out: Folio[] = [];
  let pa = phys;
  while (pa < phys + size) {
    let order = 0;
    while (order < MAX_ORDER && pa % (PAGE_SIZE * 2 ** (order + 1)) === 0 && PAGE_SIZE * 2 ** (order + 1) <= phys + size - pa) order++;
    out.push({ phys: pa, order });
    pa += PAGE_SIZE * 2 ** order;
  }
  return out;
}

describe.each(ids)('conformance: %s', (id) => {
  it('restores exactly the preserved set (random orders 0..18, addresses up to 2^52, duplicates, unpreserves)', () => {
    const workload = wideMachine().workloadBanks;
    fc.assert(
      fc.property(opsArb(workload), (ops) => {
        const tracker = newTracker(id);
        const expected = applyOps(ops, tracker);
        expect(keyList(roundTrip(tracker))).toEqual(keyList(expected));
      }),
      { numRuns: RUNS, seed: 0x6b686f },
    );
  });

  it('restores nothing when nothing is preserved, and nothing after everything is unpreserved', () => {
    expect(roundTrip(newTracker(id))).toEqual([]);
    const tracker = newTracker(id);
    tracker.preserve(2 ** 51 + 2 ** 30, 18);
    tracker.preserve(0x5000, 0);
    tracker.unpreserve(2 ** 51 + 2 ** 30, 18);
    tracker.unpreserve(0x5000, 0);
    expect(roundTrip(tracker)).toEqual([]);
  });

  it('splits a range greedily into maximal aligned folios', () => {
    for (const [phys, size] of [
      [0x3000, 0x25000],
      [0, 2 ** 31 + 0x7000],
      [2 ** 51 + 0x1ff000, 0x40_2000],
      [0x1000, 0],
    ]) {
      const tracker = newTracker(id);
      tracker.preserveRange(phys, size);
      expect(keyList(roundTrip(tracker))).toEqual(keyList(expectedSplit(phys, size)));
    }
  });

  it('rolls a failed preserveRange back, at every allocation it makes', () => {
    const base: Folio[] = [{ phys: 2 ** 51, order: 3 }];
    let failures = 0;
    for (let nth = 1; nth < 64; nth++) {
      const tracker = newTracker(id);
      for (const f of base) tracker.preserve(f.phys, f.order);
      tracker.heap.injectFaults({ failNth: nth });
      try {
        tracker.preserveRange(0x7ff000, 3 * 2 ** 30 + 0x3000);
      } catch (e) {
        expect(isKhoError(e, 'ENOMEM')).toBe(true);
        tracker.heap.injectFaults({});
        expect(keyList(roundTrip(tracker))).toEqual(keyList(base));
        failures++;
        continue;
      }
      break;
    }
    // Only structures that allocate while preserving can fail here.
    const probe = newTracker(id);
    for (const f of base) probe.preserve(f.phys, f.order);
    const before = probe.heap.stats.allocations;
    probe.preserveRange(0x7ff000, 3 * 2 ** 30 + 0x3000);
    expect(failures).toBe(probe.heap.stats.allocations - before);
  });

  it('carries the contents of preserved folios across the kexec (test_kho), restoring in a worker', async () => {
    const machine = wideMachine();
    const tracker = newTracker(id, machine);
    const folios: Folio[] = [
      { phys: 0x20_0000, order: 9 },
      { phys: 0x1234_5000, order: 0 },
      { phys: 2 ** 51 + 2 ** 30, order: 18 },
      { phys: 2 ** 52 - 16 * 2 ** 30 + 0x8000, order: 3 },
      { phys: 0x4000_0000, order: 10 },
    ];
    for (const f of folios) tracker.preserve(f.phys, f.order);
    const client = prepareTestKho(machine.mem, folios, 42);
    const result = await restoreInWorker(handOver(tracker, { clients: [client], preserved: folios }));
    expect(result.clientReports).toEqual([TEST_KHO_SUCCESS]);
    expect(keyList(foliosOf(result.folios))).toEqual(keyList(folios));
    expect(result.stats.folios).toBe(folios.length);
  });

  it('detects contents that were not preserved: they are garbage in the next kernel', async () => {
    const machine = wideMachine();
    const tracker = newTracker(id, machine);
    const folios: Folio[] = [{ phys: 0x40_0000, order: 1 }];
    const client = prepareTestKho(machine.mem, folios, 7);
    const result = await restoreInWorker(handOver(tracker, { clients: [client], preserved: [] }));
    expect(result.clientReports[0]).toMatch(/not restored/);
  });

  it('treats a double preserve as one and an unpreserve of what was never preserved as a no-op, as the kernel does', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x20_0000, 9);
    tracker.preserve(0x20_0000, 9);
    tracker.unpreserve(0x40_0000, 9);
    tracker.unpreserve(2 ** 51, 18);
    tracker.unpreserve(0x20_0000, 0);
    expect(keyList(roundTrip(tracker))).toEqual(keyList([{ phys: 0x20_0000, order: 9 }]));
  });

  it('rejects bad folios with EINVAL', () => {
    const tracker = newTracker(id);
    const bad: [number, number][] = [
      [0x1800, 0],
      [0x1000, 1],
      [0, MAX_ORDER + 1],
      [0, -1],
      [0, 1.5],
      [8 * 2 ** 30, 0],
      [2 ** 52, 0],
      [-4096, 0],
    ];
    for (const [phys, order] of bad) {
      expect(() => tracker.preserve(phys, order)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
      expect(() => tracker.unpreserve(phys, order)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    }
    expect(() => tracker.preserveRange(0x1800, 0x1000)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => tracker.preserveRange(0x1000, 0x1800)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => tracker.preserveRange(8 * 2 ** 30 - 0x1000, 0x2000)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
  });

  it('follows the finalize state machine of its kind', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x1000, 0);
    tracker.finalize();
    if (tracker.serializes) {
      expect(() => tracker.preserve(0x2000, 0)).toThrow(expect.objectContaining({ errno: 'EBUSY' }));
      expect(() => tracker.unpreserve(0x1000, 0)).toThrow(expect.objectContaining({ errno: 'EBUSY' }));
      expect(() => tracker.preserveRange(0x2000, 0x1000)).toThrow(expect.objectContaining({ errno: 'EBUSY' }));
      expect(() => tracker.finalize()).toThrow(expect.objectContaining({ errno: 'EBUSY' }));
      tracker.abort();
      tracker.preserve(0x2000, 0);
      expect(keyList(roundTrip(tracker))).toEqual(keyList([{ phys: 0x1000, order: 0 }, { phys: 0x2000, order: 0 }]));
    } else {
      // Stateless: the structure is already in place, so preserving after publication still counts.
      tracker.preserve(0x2000, 0);
      expect(keyList(roundTrip(tracker, { fdt: tracker.finalize() }))).toEqual(
        keyList([{ phys: 0x1000, order: 0 }, { phys: 0x2000, order: 0 }]),
      );
    }
  });

  it('fails with ENOMEM when the kernel heap is exhausted, keeping what was preserved', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x1000, 0);
    tracker.heap.injectFaults({ pageLimit: tracker.heap.stats.pages });
    const more = Array.from({ length: 8 }, (_, i) => ({ phys: 2 ** 51 + (i + 1) * 2 ** 29, order: i % 2 ? 9 : 0 }));
    const { kept, failed } = preserveAll(tracker, more);
    tracker.heap.injectFaults({});
    expect(keyList(roundTrip(tracker))).toEqual(keyList([{ phys: 0x1000, order: 0 }, ...kept]));
    expect(failed + kept.length).toBe(8);
  });
});
