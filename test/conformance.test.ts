/**
 * The conformance suite every tracker runs. A structure joins by its line
 * in structures/index.ts; KHO_STRUCTURES=a,b narrows a run to some ids.
 *
 * What each structure's kernel version allows is written down here from the
 * facts sheet (`FACTS`), independently of the trackers' own lifecycle
 * descriptions, and every behaviour is checked against it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFdt } from '../src/fdt/fdt.ts';
import { handOver, restoreInWorker, type Folio } from '../src/kexec/kexec.ts';
import { KHO_TEST_FDT, TEST_KHO_FAILURE, TEST_KHO_MAX_MEM, TEST_KHO_SUCCESS, saveTestKho } from '../src/kexec/test-kho.ts';
import { PAGE_SIZE } from '../src/ram/phys-mem.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { MAX_ORDER, STRUCTURE_IDS, type StructureId, type Tracker } from '../src/tracker/tracker.ts';
import { FAMILY_IDS } from '../structures/family/index.ts';
import { structureSpec } from '../structures/index.ts';
import { errnoOf, fdtFolio, foliosOf, keyList, newTracker, preserveAll, roundTrip, wideMachine, withFdtPage } from './harness.ts';

// Every registered structure, and every point of the design-space family (a mainline-lifecycle tracker each).
const ids = (process.env.KHO_STRUCTURES?.split(',') ?? [...STRUCTURE_IDS, ...FAMILY_IDS]) as StructureId[];
const RUNS = Number(process.env.KHO_PROPERTY_RUNS ?? 25);

interface Facts {
  /** kho_unpreserve_folio exists (6.19 and later, the merged tree; the suite's own in-place trackers). */
  readonly unpreserve: boolean;
  /** 6.16..6.18: abort throws every preservation away; elsewhere there is no abort. */
  readonly abort: 'destructive' | 'none';
  /** preserve is -EBUSY while finalized (6.16..6.18). */
  readonly busy: boolean;
  /** A failed range preserve unpreserves what it did (all but RFC v1). */
  readonly rollback: boolean;
  /** The highest order with a place in the format (RFC v1: HUGETLB_PAGE_ORDER 9). */
  readonly maxOrder: number;
  /** Client subnode properties: kho-v1's `fdt`, or kho-v3+'s `preserved-data` and `blob-size`. */
  readonly subtree: readonly string[];
}

const MAINLINE: Facts = { unpreserve: true, abort: 'none', busy: false, rollback: true, maxOrder: MAX_ORDER, subtree: ['preserved-data', 'blob-size'] };
const XARRAY_6_16: Facts = { unpreserve: false, abort: 'destructive', busy: true, rollback: true, maxOrder: MAX_ORDER, subtree: ['fdt'] };

/** From the facts sheet, sections 1, 3 and 4, and "What KHO does"; the family's points are in-place trackers with mainline's lifecycle. */
const FACTS: Partial<Record<StructureId, Facts>> = {
  'flat-bitmap': MAINLINE,
  'xarray-6.16': XARRAY_6_16,
  'xarray-6.18': XARRAY_6_16,
  'xarray-6.19': { unpreserve: true, abort: 'none', busy: false, rollback: true, maxOrder: MAX_ORDER, subtree: ['fdt'] },
  ida: MAINLINE,
  'radix-rfc': { unpreserve: false, abort: 'none', busy: false, rollback: false, maxOrder: 9, subtree: ['fdt'] },
  radix: MAINLINE,
  'xarray-prealloc': { unpreserve: true, abort: 'none', busy: false, rollback: true, maxOrder: MAX_ORDER, subtree: ['fdt'] },
  'kho-array': MAINLINE,
};

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

/** Runs the ops as the version allows, with the model the facts predict; returns what must be restored (FDT page aside). */
function applyOps(ops: readonly Op[], tracker: Tracker, facts: Facts): Folio[] {
  const model = new Map<string, Folio>();
  for (const { kind, folio } of ops) {
    const key = `${folio.phys}:${folio.order}`;
    if (kind === 'preserve') {
      if (folio.order > facts.maxOrder) {
        expect(errnoOf(() => tracker.preserve(folio.phys, folio.order))).toBe('ERANGE');
        continue;
      }
      tracker.preserve(folio.phys, folio.order);
      model.set(key, folio);
    } else if (!facts.unpreserve) {
      expect(errnoOf(() => tracker.unpreserve(folio.phys, folio.order))).toBe('EOPNOTSUPP');
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

/** The longest prefix of a split the format can hold (RFC v1 stops at the first order above 9). */
function heldPrefix(split: readonly Folio[], facts: Facts): Folio[] {
  const stop = split.findIndex((f) => f.order > facts.maxOrder);
  return stop < 0 ? [...split] : split.slice(0, stop);
}

describe.each(ids)('conformance: %s', (id) => {
  const facts = FACTS[id] ?? MAINLINE;
  // The family's 32 points share one implementation: fewer random workloads each.
  const runs = id.startsWith('fam-') ? Math.max(2, Math.ceil(RUNS / 5)) : RUNS;

  it('declares the lifecycle, order limit and FDT ABI its kernel version has', () => {
    const spec = structureSpec(id);
    const t = newTracker(id);
    expect(t.lifecycle).toBe(spec.lifecycle);
    expect({
      unpreserve: t.lifecycle.unpreserve,
      abort: t.lifecycle.abort,
      busy: t.lifecycle.busyWhileFinalized,
      rollback: t.lifecycle.rollback,
      maxOrder: spec.maxOrder ?? MAX_ORDER,
      subtree: t.abi.subtree === 'fdt' ? ['fdt'] : t.abi.subtree === 'preserved-data' ? ['preserved-data'] : ['preserved-data', 'blob-size'],
    }).toEqual(facts);
    expect(t.lifecycle.finalizeAgain).toBe(!facts.busy);
  });

  it('restores exactly the preserved set and the FDT page (random orders 0..18, addresses up to 2^52, duplicates, unpreserves)', () => {
    const workload = wideMachine().workloadBanks;
    fc.assert(
      fc.property(opsArb(workload), (ops) => {
        const tracker = newTracker(id);
        const expected = applyOps(ops, tracker, facts);
        expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, expected)));
      }),
      { numRuns: runs, seed: 0x6b686f },
    );
  });

  it('restores only the root FDT page when nothing is preserved, and after everything is unpreserved', () => {
    const empty = newTracker(id);
    expect(roundTrip(empty)).toEqual([fdtFolio(empty)]);
    if (!facts.unpreserve) return;
    const tracker = newTracker(id);
    tracker.preserve(2 ** 51 + 2 ** 30, facts.maxOrder);
    tracker.preserve(0x5000, 0);
    tracker.unpreserve(2 ** 51 + 2 ** 30, facts.maxOrder);
    tracker.unpreserve(0x5000, 0);
    expect(roundTrip(tracker)).toEqual([fdtFolio(tracker)]);
  });

  it('keeps the root FDT in one preserved page whose bytes the image carries', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x20_0000, 9);
    const h = handOver(tracker, { clients: [{ name: 'client', phys: 0x40_0000, size: 0x1000 }] });
    expect(h.fdt.length).toBeLessThanOrEqual(4096);
    // The page is a page of RAM outside the tracker's own heap, and the image carries it.
    expect(tracker.fdtPage % PAGE_SIZE).toBe(0);
    expect(tracker.heap.ownedPfns()).not.toContain(tracker.fdtPage / PAGE_SIZE);
    const i = [...h.image.pfns].indexOf(tracker.fdtPage / PAGE_SIZE);
    expect(i).toBeGreaterThanOrEqual(0);
    const page = h.image.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
    expect([...page.subarray(0, h.fdt.length)]).toEqual([...h.fdt]);
    expect(page.subarray(h.fdt.length).every((b) => b === 0)).toBe(true);
    // The client subnode has exactly the properties of the version's ABI, u64 each.
    const client = readFdt(page.slice(0, h.fdt.length)).children.find((c) => c.name === 'client')!;
    expect([...client.props.keys()].sort()).toEqual([...facts.subtree].sort());
    const u64 = (name: string) => Buffer.from(client.props.get(name)!).readBigUInt64LE();
    if (facts.subtree.includes('fdt')) expect(u64('fdt')).toBe(0x40_0000n);
    else expect([u64('preserved-data'), u64('blob-size')]).toEqual([0x40_0000n, 0x1000n]);
  });

  it('refuses a root FDT that would not fit in its page with ENOSPC', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x20_0000, 9);
    const clients = Array.from({ length: 200 }, (_, i) => ({ name: `client-${i}`, phys: 0x100_0000 + i * PAGE_SIZE, size: PAGE_SIZE }));
    expect(errnoOf(() => tracker.finalize(clients))).toBe('ENOSPC');
    expect(tracker.finalized).toBe(false);
    // 6.16..6.18: the failed finalize aborted, throwing the preservation away; elsewhere it stays.
    const kept = facts.abort === 'destructive' ? [] : [{ phys: 0x20_0000, order: 9 }];
    expect(keyList(roundTrip(tracker, { clients: clients.slice(0, 20) }))).toEqual(keyList(withFdtPage(tracker, kept)));
  });

  it('splits a range greedily into maximal aligned folios (and refuses what the format has no place for)', () => {
    for (const [phys, size] of [
      [0x3000, 0x25000],
      [0, 2 ** 31 + 0x7000],
      [2 ** 51 + 0x1ff000, 0x40_2000],
      [0x1000, 0],
    ]) {
      const tracker = newTracker(id);
      const split = expectedSplit(phys, size);
      const held = heldPrefix(split, facts);
      if (held.length < split.length) {
        // RFC v1: ERANGE at the first folio above order 9, and no rollback of what came before.
        expect(errnoOf(() => tracker.preserveRange(phys, size))).toBe('ERANGE');
      } else {
        tracker.preserveRange(phys, size);
      }
      expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, held)));
    }
  });

  it('rolls a failed preserveRange back at every allocation it makes (or, RFC v1, keeps its prefix)', () => {
    const base: Folio[] = [{ phys: 2 ** 51, order: 3 }];
    // A range whose split stays within the format's orders.
    const [phys, size] = facts.maxOrder < MAX_ORDER ? [0x1ff000, 2 * 0x20_0000 + 0x3000] : [0x7ff000, 3 * 2 ** 30 + 0x3000];
    const split = expectedSplit(phys, size);
    let failures = 0;
    for (let nth = 1; nth < 64; nth++) {
      const tracker = newTracker(id);
      for (const f of base) tracker.preserve(f.phys, f.order);
      tracker.heap.injectFaults({ failNth: nth });
      try {
        tracker.preserveRange(phys, size);
      } catch (e) {
        expect(isKhoError(e, 'ENOMEM')).toBe(true);
        tracker.heap.injectFaults({});
        const got = keyList(roundTrip(tracker));
        if (facts.rollback) {
          expect(got).toEqual(keyList(withFdtPage(tracker, base)));
        } else {
          const k = got.length - keyList(withFdtPage(tracker, base)).length;
          expect(got).toEqual(keyList(withFdtPage(tracker, [...base, ...split.slice(0, k)])));
        }
        failures++;
        continue;
      }
      break;
    }
    // Only structures that allocate while preserving can fail here.
    const probe = newTracker(id);
    for (const f of base) probe.preserve(f.phys, f.order);
    const before = probe.heap.stats.allocations;
    probe.preserveRange(phys, size);
    expect(failures).toBe(probe.heap.stats.allocations - before);
  });

  it('runs the kernel\'s test_kho: random folios of orders 0..10 up to 8 MiB, a vmalloc table, restored in a worker', async () => {
    const machine = wideMachine();
    const tracker = newTracker(id, machine);
    const other: Folio = { phys: 0x20_0000, order: 9 };
    tracker.preserve(other.phys, other.order);
    const test = saveTestKho(tracker, { seed: 42, maxOrder: Math.min(10, facts.maxOrder), inUse: [other] });
    expect(test.folios.reduce((s, f) => s + PAGE_SIZE * 2 ** f.order, 0)).toBe(TEST_KHO_MAX_MEM);
    expect(Math.max(...test.folios.map((f) => f.order))).toBeLessThanOrEqual(10);
    const result = await restoreInWorker(handOver(tracker, { clients: [test.subtree], preserved: test.preserved }));
    expect(result.clientReports).toEqual([TEST_KHO_SUCCESS]);
    expect(keyList(foliosOf(result.folios))).toEqual(keyList(withFdtPage(tracker, [other, ...test.preserved])));
    expect(result.stats.folios).toBe(test.preserved.length + 2);
  });

  it('fails test_kho when a folio\'s contents did not cross (garbage) or a folio in the table was never preserved', async () => {
    const machine = wideMachine();
    const tracker = newTracker(id, machine);
    const test = saveTestKho(tracker, { seed: 7, maxMem: 256 * 1024, maxOrder: Math.min(10, facts.maxOrder) });
    const data = new Set(test.folios.map((f) => f.phys));
    const garbage = await restoreInWorker(
      handOver(tracker, { clients: [test.subtree], preserved: test.preserved.filter((f) => !data.has(f.phys)) }),
    );
    expect(garbage.clientReports[0]).toMatch(new RegExp(`^${TEST_KHO_FAILURE}: checksum`));

    const tracker2 = newTracker(id, wideMachine());
    const test2 = saveTestKho(tracker2, { seed: 7, maxMem: 256 * 1024, maxOrder: Math.min(10, facts.maxOrder) });
    // The table's first entry now names a page nobody preserved.
    const stray = 0x40_0000;
    tracker2.heap.machine.mem.store64(test2.tablePages[0], stray);
    const missing = await restoreInWorker(handOver(tracker2, { clients: [test2.subtree], preserved: test2.preserved }));
    expect(missing.clientReports).toEqual([`${TEST_KHO_FAILURE}: folio 0x400000 order 0 not restored`]);
  });

  it('hangs test_kho\'s FDT under the root subnode "kho_test" with the ABI\'s properties', () => {
    const tracker = newTracker(id);
    const test = saveTestKho(tracker, { seed: 3, maxMem: 64 * 1024, maxOrder: Math.min(10, facts.maxOrder) });
    const root = readFdt(handOver(tracker, { clients: [test.subtree], preserved: test.preserved }).fdt);
    const node = root.children.find((c) => c.name === KHO_TEST_FDT)!;
    expect([...node.props.keys()].sort()).toEqual([...facts.subtree].sort());
    const ptr = Buffer.from(node.props.get(facts.subtree[0])!).readBigUInt64LE();
    expect(ptr).toBe(BigInt(test.fdtPhys));
  });

  it('treats a double preserve as one and an unpreserve of what was never preserved as a no-op (where unpreserve exists)', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x20_0000, 9);
    tracker.preserve(0x20_0000, 9);
    if (facts.unpreserve) {
      tracker.unpreserve(0x40_0000, 9);
      tracker.unpreserve(2 ** 51, 9);
      tracker.unpreserve(0x20_0000, 0);
    } else {
      expect(errnoOf(() => tracker.unpreserve(0x20_0000, 9))).toBe('EOPNOTSUPP');
    }
    expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, [{ phys: 0x20_0000, order: 9 }])));
  });

  it('rejects bad folios with EINVAL (unpreserve: EOPNOTSUPP where it does not exist)', () => {
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
      expect(errnoOf(() => tracker.preserve(phys, order))).toBe('EINVAL');
      expect(errnoOf(() => tracker.unpreserve(phys, order))).toBe(facts.unpreserve ? 'EINVAL' : 'EOPNOTSUPP');
    }
    expect(errnoOf(() => tracker.preserveRange(0x1800, 0x1000))).toBe('EINVAL');
    expect(errnoOf(() => tracker.preserveRange(0x1000, 0x1800))).toBe('EINVAL');
    expect(errnoOf(() => tracker.preserveRange(8 * 2 ** 30 - 0x1000, 0x2000))).toBe('EINVAL');
  });

  it('refuses orders above the format\'s last slot with ERANGE, naming the order', () => {
    const tracker = newTracker(id);
    for (let order = facts.maxOrder + 1; order <= MAX_ORDER; order++) {
      expect(() => tracker.preserve(0, order)).toThrow(
        `ERANGE: RFC v1 has no slot for order ${order} (orders 0..9): the kernel would silently lose this folio`,
      );
    }
    tracker.preserve(0, facts.maxOrder);
    expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, [{ phys: 0, order: facts.maxOrder }])));
  });

  it('follows the finalize and abort lifecycle of its kernel version', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x1000, 0);
    tracker.finalize();
    if (facts.busy) {
      // 6.16..6.18: finalized; preserve is EBUSY, finalize again EEXIST, abort throws everything away.
      expect(tracker.finalized).toBe(true);
      expect(errnoOf(() => tracker.preserve(0x2000, 0))).toBe('EBUSY');
      expect(errnoOf(() => tracker.preserveRange(0x2000, 0x1000))).toBe('EBUSY');
      expect(errnoOf(() => tracker.unpreserve(0x1000, 0))).toBe('EOPNOTSUPP');
      expect(errnoOf(() => tracker.finalize())).toBe('EEXIST');
      tracker.abort();
      expect(tracker.finalized).toBe(false);
      expect(errnoOf(() => tracker.abort())).toBe('ENOENT');
      tracker.preserve(0x2000, 0);
      expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, [{ phys: 0x2000, order: 0 }])));
    } else {
      // No finalized state: preserve still counts, finalize may run again, and there is no abort.
      expect(tracker.finalized).toBe(false);
      tracker.preserve(0x2000, 0);
      if (facts.unpreserve) tracker.unpreserve(0x1000, 0);
      expect(errnoOf(() => tracker.abort())).toBe('EOPNOTSUPP');
      const want = facts.unpreserve ? [{ phys: 0x2000, order: 0 }] : [{ phys: 0x1000, order: 0 }, { phys: 0x2000, order: 0 }];
      expect(keyList(roundTrip(tracker, { fdt: tracker.finalize() }))).toEqual(keyList(withFdtPage(tracker, want)));
    }
  });

  it('fails with ENOMEM when the kernel heap is exhausted, keeping what was preserved', () => {
    const tracker = newTracker(id);
    tracker.preserve(0x1000, 0);
    tracker.heap.injectFaults({ pageLimit: tracker.heap.stats.pages });
    const more = Array.from({ length: 8 }, (_, i) => ({ phys: 2 ** 51 + (i + 1) * 2 ** 29, order: i % 2 ? 9 : 0 }));
    const { kept, failed } = preserveAll(tracker, more);
    tracker.heap.injectFaults({});
    expect(keyList(roundTrip(tracker))).toEqual(keyList(withFdtPage(tracker, [{ phys: 0x1000, order: 0 }, ...kept])));
    expect(failed + kept.length).toBe(8);
  });
});
