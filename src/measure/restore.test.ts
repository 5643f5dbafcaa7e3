import { describe, expect, it } from 'vitest';
import { Machine } from '../ram/machine.ts';
import { PhysMem } from '../ram/phys-mem.ts';
import type { StructureId } from '../tracker/tracker.ts';
import { structureSpec } from '../../structures/index.ts';
import type { RestoreBudget } from './budgets.ts';
import { RestoreMismatch, measureRestore } from './restore.ts';
import { takeHandover } from './serialize.ts';
import { type LiveSet, withFolio } from './workload.ts';

const GiB = 2 ** 30;
const BUDGET: RestoreBudget = {
  walk: { samples: 5, minSamples: 3, maxMs: 50, warmupSamples: 1, warmupMs: 0 },
  parts: { samples: 1, minSamples: 1, maxMs: 10, warmupSamples: 0, warmupMs: 0 },
};

/** A hand-over of `n` order-0 pages, 3 pages apart from 16 MiB up, and the live set the next kernel must restore. */
function handover(structure: StructureId, n: number): { mem: PhysMem; fdt: Uint8Array; live: LiveSet } {
  const machine = new Machine({ banks: [{ start: 0, size: 4 * GiB }], heapSize: 64 * 2 ** 20 });
  const spec = structureSpec(structure);
  const tracker = spec.create(machine);
  let live: LiveSet = { folios: 0, bytes: 0, hash: 0 };
  for (let i = 0; i < n; i++) {
    const phys = 16 * 2 ** 20 + 3 * 4096 * i;
    tracker.preserve(phys, 0);
    live = withFolio(live, phys, 0);
  }
  live = withFolio(live, tracker.fdtPage, 0);
  const { handover: h } = takeHandover(tracker);
  return { mem: PhysMem.fromImage(h.image), fdt: h.fdt, live };
}

describe('measureRestore', () => {
  for (const structure of ['radix', 'xarray-6.18'] as const) {
    it(`${structure}: times the bare walk in several runs and checks the restore`, () => {
      const { mem, fdt, live } = handover(structure, 2000);
      const m = measureRestore(structure, mem, fdt, live, BUDGET, 30, { magic: structureSpec(structure).lifecycle.pageMagic });
      expect(m.stats.folios).toBe(live.folios);
      expect(m.walk.summary.n).toBeGreaterThanOrEqual(BUDGET.walk.minSamples);
      expect(m.walk.summary.min).toBeGreaterThan(0);
      expect(m.total.summary.n).toBe(1);
    });
  }

  it('still refuses a restore that does not give back the live set, though the walk is timed first', () => {
    const { mem, fdt, live } = handover('radix', 100);
    const claimed = withFolio(live, 2 * GiB, 0);
    expect(() => measureRestore('radix', mem, fdt, claimed, BUDGET, 30, { magic: true })).toThrow(RestoreMismatch);
  });
});
