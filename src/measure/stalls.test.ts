import { describe, expect, it } from 'vitest';
import { structureSpec } from '../../structures/index.ts';
import type { Machine } from '../ram/machine.ts';
import type { Tracker } from '../tracker/tracker.ts';
import { GcPauses } from './gc-pauses.ts';
import { measureLatency } from './latency.ts';
import { Replay } from './replay.ts';
import { STALL_FACTOR, replaceStalls, rerunStalls } from './stalls.ts';
import type { Workload } from './workload.ts';

const MiB = 2 ** 20;
const PAGES = 4096;
const BATCH = 256;

function workload(): Workload {
  const a = Float64Array.from({ length: PAGES }, (_, i) => 64 * MiB + 4096 * i);
  const build = [{ kind: 'preserve' as const, a, b: new Float64Array(PAGES) }];
  return { banks: [{ start: 0, size: 1024 * MiB }], heapSize: 64 * MiB, build, teardown: [], live: { folios: PAGES, bytes: PAGES * 4096, hash: 0 } };
}

/** Blocks for `ms` without allocating (a busy loop on performance.now() would set off collections, and the batch would be left out as paused). */
function spin(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The flat bitmap, with `hook` run before each preserve. */
function hooked(hook: (phys: number) => void): (m: Machine) => Tracker {
  return (m) => {
    const t = structureSpec('flat-bitmap').create(m);
    const preserve = t.preserve.bind(t);
    t.preserve = (phys, order) => {
      hook(phys);
      preserve(phys, order);
    };
    return t;
  };
}

describe('rerunStalls', () => {
  it('times again the samples above the bound, slowest first, at most STALL_SHARE of them', () => {
    const samples = new Float64Array(200).fill(1);
    [10, 60, 20, 50, 30, 40].forEach((v, k) => (samples[7 * k + 3] = v));
    const asked: number[] = [];
    const rerun = rerunStalls(samples, (i) => (asked.push(i), { value: 1.5, start: i, end: i + 1 }), 1000);
    expect(rerun.bound).toBe(STALL_FACTOR);
    expect(asked).toEqual([10, 24, 38, 31]); // 60, 50, 40, 30: 2% of 200
    expect(rerun.reruns.map((r) => r.value)).toEqual([1.5, 1.5, 1.5, 1.5]);
    // The span is the re-run's own timed part, as it reported it.
    expect(rerun.reruns[0]).toEqual({ index: 10, value: 1.5, start: 10, end: 11 });
    expect(samples[10]).toBe(60);
  });

  it('times nothing again when no sample is above the bound', () => {
    const samples = Float64Array.of(1, 2, 4, 3, 1);
    expect(rerunStalls(samples, () => ({ value: 0, start: 0, end: 1 }), 1000).reruns).toEqual([]);
  });
});

describe('replaceStalls', () => {
  it('replaces a re-run back under the bound, and only one that no collection overlapped', () => {
    const samples = Float64Array.of(1, 1, 90, 1, 80, 70);
    const rerun = {
      bound: 5,
      reruns: [
        { index: 2, value: 1.2, start: 10, end: 11 },
        { index: 4, value: 75, start: 12, end: 13 },
        { index: 5, value: 1.1, start: 14, end: 15 },
      ],
    };
    expect(replaceStalls(samples, rerun, Float64Array.of(14.5, 14.6))).toEqual({ retimed: 3, replaced: 1, meanBefore: 243 / 6 });
    expect(Array.from(samples)).toEqual([1, 1, 1.2, 1, 80, 70]);
  });
});

describe('Replay.replayTo', () => {
  it('leaves a fresh tracker with exactly the batches before the one asked for run', () => {
    let calls = 0;
    const replay = new Replay(workload(), hooked(() => calls++), { preserve: BATCH, unpreserve: BATCH });
    const target = replay.batches[5];
    replay.replayTo(true, target);
    expect(calls).toBe(5 * BATCH);
    calls = 0;
    replay.replayTo(true, replay.batches[0]);
    expect(calls).toBe(0);
  });
});

describe('measureLatency', () => {
  it('times again a batch that stalled once, and does not count the stall', async () => {
    let calls = 0;
    // Past tinybench's warm-up (4 batches) and one timed pass: a stall in a timed batch, once.
    const stallAt = (4 + PAGES / BATCH) * BATCH + 100;
    const stall = hooked(() => ++calls === stallAt && spin(40));
    const replay = new Replay(workload(), stall, { preserve: BATCH, unpreserve: BATCH });
    const budget = { targetFolios: 3 * PAGES, minPasses: 3, maxPasses: 3, maxMs: 2000, warmupBatches: 4, warmupPasses: 0, warmupMs: 0 };
    const pauses = new GcPauses();
    const result = await measureLatency(replay, true, budget, 50, 50, pauses);
    pauses.stop();
    expect(calls).toBeGreaterThan(stallAt);
    expect(result.replacedBatches).toBeGreaterThanOrEqual(1);
    expect(result.retimedBatches).toBeGreaterThanOrEqual(1);
    // 40 ms over 256 folios would be 156 us a folio.
    expect(result.summary.max).toBeLessThan(40e6 / BATCH / 10);
  });

  it('keeps a batch that is as slow every time it runs', async () => {
    const costly = 64 * MiB + 4096 * (5 * BATCH + 17);
    const replay = new Replay(workload(), hooked((phys) => phys === costly && spin(20)), { preserve: BATCH, unpreserve: BATCH });
    const budget = { targetFolios: 3 * PAGES, minPasses: 3, maxPasses: 3, maxMs: 2000, warmupBatches: 4, warmupPasses: 2, warmupMs: 2000 };
    const pauses = new GcPauses();
    const result = await measureLatency(replay, true, budget, 50, 50, pauses);
    pauses.stop();
    expect(result.retimedBatches).toBeGreaterThanOrEqual(1);
    // Every pass's copy of the batch costs 20 ms over 256 folios, 78 us a folio; none was replaced.
    expect(result.summary.sketch.filter((ns) => ns > 20e6 / BATCH).length).toBe(3);
  });
});
