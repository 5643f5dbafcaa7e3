import { describe, expect, it } from 'vitest';
import { Machine } from '../ram/machine.ts';
import { structureSpec } from '../../structures/index.ts';
import type { Tracker } from '../tracker/tracker.ts';
import type { SerializeBudget } from './budgets.ts';
import { Replay } from './replay.ts';
import { measureFinalize, takeHandover } from './serialize.ts';
import { type Phase, type Workload, blockShares, folioHash } from './workload.ts';

const MiB = 2 ** 20;
const BUDGET: SerializeBudget = { samples: 4, minSamples: 2, maxMs: 50, warmupSamples: 1, warmupMs: 0, warmup: { folios: 64, rounds: 3 }, inPlaceWarmupMs: 1 };

/** 600 scattered pages, a 4 MiB range (split into two 2 MiB folios), then unpreserves of every third page and of the range's first folio. */
function workload(): Workload {
  const pages = Float64Array.from({ length: 600 }, (_, i) => 64 * MiB + 4096 * 7 * i);
  const gone = pages.filter((_, i) => i % 3 === 0);
  const phase = (kind: Phase['kind'], a: Float64Array, b: Float64Array): Phase => ({ kind, a, b });
  const build = [
    phase('preserve', pages, new Float64Array(pages.length)),
    { ...phase('range', Float64Array.of(202 * MiB), Float64Array.of(4 * MiB)), folios: Uint32Array.of(2) },
    phase('unpreserve', Float64Array.of(...gone, 202 * MiB), Float64Array.of(...gone.map(() => 0), 9)),
  ];
  let hash = 0;
  for (let i = 0; i < pages.length; i++) if (i % 3 !== 0) hash = (hash + folioHash(pages[i], 0)) >>> 0;
  hash = (hash + folioHash(204 * MiB, 9)) >>> 0;
  return { banks: [{ start: 0, size: 1024 * MiB }], heapSize: 64 * MiB, build, teardown: [], live: { folios: 400 + 1, bytes: 400 * 4096 + 2 * MiB, hash } };
}

function build(w: Workload, structure = 'xarray-6.19'): Tracker {
  const replay = new Replay(w, (m: Machine) => structureSpec(structure).create(m), { preserve: 1 << 16, unpreserve: 1 << 16 });
  replay.runBuild();
  return replay.tracker;
}

describe('blockShares', () => {
  it('splits a build into shares that each replay cleanly and together hold its live set', () => {
    const w = workload();
    const parts = 5;
    let folios = 0;
    let bytes = 0;
    let hash = 0;
    const shares = blockShares(w, parts, parts);
    expect(shares).toHaveLength(parts);
    for (const share of shares) {
      expect(() => build(share)).not.toThrow();
      folios += share.live.folios;
      bytes += share.live.bytes;
      hash = (hash + share.live.hash) >>> 0;
    }
    expect({ folios, bytes, hash }).toEqual(w.live);
  });

  it('keeps a dense run dense: a share holds whole 2 MiB blocks', () => {
    const dense = Float64Array.from({ length: 4096 }, (_, i) => 64 * MiB + 4096 * i);
    const w: Workload = { banks: [{ start: 0, size: 1024 * MiB }], build: [{ kind: 'preserve', a: dense, b: new Float64Array(dense.length) }], teardown: [], live: { folios: 0, bytes: 0, hash: 0 } };
    const [, share] = blockShares(w, 4, 2);
    const perBlock = new Map<number, number>();
    for (const pa of share.build[0]?.a ?? []) perBlock.set(Math.floor(pa / (2 * MiB)), (perBlock.get(Math.floor(pa / (2 * MiB))) ?? 0) + 1);
    expect([...perBlock.values()].every((n) => n === 512)).toBe(true);
  });
});

describe('measureFinalize', () => {
  for (const structure of ['xarray-6.19', 'radix'] as const) {
    it(`${structure}: times finalize after the warm-up rounds`, () => {
      const w = workload();
      const tracker = build(w, structure);
      takeHandover(tracker);
      const r = measureFinalize(tracker, w, (x) => build(x, structure), BUDGET, 30);
      expect(r.summary.n).toBeGreaterThanOrEqual(BUDGET.minSamples);
      expect(r.summary.min).toBeGreaterThan(0);
    });
  }
});
