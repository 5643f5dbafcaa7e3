import { describe, expect, it } from 'vitest';
import { Machine } from '../ram/machine.ts';
import { PhysMem } from '../ram/phys-mem.ts';
import type { StructureId } from '../tracker/tracker.ts';
import { structureSpec } from '../../structures/index.ts';
import type { RestoreBudget } from './budgets.ts';
import { RestoreMismatch, measureRestore, spacedFolios } from './restore.ts';
import { takeHandover } from './serialize.ts';
import { type LiveSet, withFolio } from './workload.ts';

const GiB = 2 ** 30;
const BUDGET: RestoreBudget = {
  walk: { samples: 5, minSamples: 3, maxMs: 50, warmupSamples: 1, warmupMs: 0 },
  parts: { samples: 1, minSamples: 1, maxMs: 10, warmupSamples: 0, warmupMs: 0 },
  partsWarmup: { folios: 256, rounds: 2 },
  total: { samples: 1, minSamples: 1, maxMs: 10, warmupSamples: 1, warmupMs: 0 },
};

/** A hand-over of `n` folios of `order`, 3 folios apart from 16 MiB up, and the live set the next kernel must restore. */
function handover(structure: StructureId, n: number, order = 0): { mem: PhysMem; fdt: Uint8Array; live: LiveSet } {
  const machine = new Machine({ banks: [{ start: 0, size: 4 * GiB }], heapSize: 64 * 2 ** 20 });
  const spec = structureSpec(structure);
  const tracker = spec.create(machine);
  let live: LiveSet = { folios: 0, bytes: 0, hash: 0 };
  for (let i = 0; i < n; i++) {
    const phys = 16 * 2 ** 20 + 3 * (4096 << order) * i;
    tracker.preserve(phys, order);
    live = withFolio(live, phys, order);
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

  it('times deferred init at both caps only when some folio has more than one page', () => {
    const opts = { magic: true };
    const pages = handover('radix', 500);
    expect(measureRestore('radix', pages.mem, pages.fdt, pages.live, BUDGET, 30, opts).deferredOne).toBeUndefined();
    const folios = handover('radix', 500, 3);
    const m = measureRestore('radix', folios.mem, folios.fdt, folios.live, BUDGET, 30, opts);
    expect(m.deferredOne?.summary.n).toBe(1);
    expect(m.deferredCounts.sample).toBeGreaterThan(m.deferredCounts.one);
  });

  it('still refuses a restore that does not give back the live set, though the walk is timed first', () => {
    const { mem, fdt, live } = handover('radix', 100);
    const claimed = withFolio(live, 2 * GiB, 0);
    expect(() => measureRestore('radix', mem, fdt, claimed, BUDGET, 30, { magic: true })).toThrow(RestoreMismatch);
  });
});

describe('spacedFolios', () => {
  it('samples a list grouped by order across every group, in order, and leaves a short list whole', () => {
    // 900 single pages, then 100 order-9 folios: the walk order of a per-order tracker.
    const list = new Float64Array(2000);
    for (let i = 0; i < 1000; i++) {
      list[2 * i] = i * 4096;
      list[2 * i + 1] = i < 900 ? 0 : 9;
    }
    const s = spacedFolios(list, 100);
    expect(s.length / 2).toBeLessThanOrEqual(100);
    expect(s.length / 2).toBeGreaterThanOrEqual(90);
    const orders = new Set(Array.from({ length: s.length / 2 }, (_, i) => s[2 * i + 1]));
    expect(orders).toEqual(new Set([0, 9]));
    for (let i = 1; i < s.length / 2; i++) expect(s[2 * i]).toBeGreaterThan(s[2 * i - 2]);
    expect(spacedFolios(list, 1000)).toBe(list);
  });
});
