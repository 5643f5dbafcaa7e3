import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GcPauses, overlapsPause } from './gc-pauses.ts';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

describe('overlapsPause', () => {
  const pauses = Float64Array.of(10, 12, 20, 21);
  it('finds a span that a pause starts, ends or falls in', () => {
    expect(overlapsPause(9, 10.5, pauses)).toBe(true);
    expect(overlapsPause(11, 15, pauses)).toBe(true);
    expect(overlapsPause(19, 22, pauses)).toBe(true);
  });
  it('passes spans between and beside the pauses', () => {
    expect(overlapsPause(12, 20, pauses)).toBe(false);
    expect(overlapsPause(0, 10, pauses)).toBe(false);
    expect(overlapsPause(21, 30, pauses)).toBe(false);
  });
});

describe('GcPauses', () => {
  it("places a collection V8 reports inside the process.hrtime span that forced it, and none in a span before", async () => {
    const pauses = new GcPauses();
    try {
      const quiet0 = nowMs();
      const quiet1 = nowMs();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const t0 = nowMs();
      collect();
      const t1 = nowMs();
      const seen = await pauses.soFar();
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(overlapsPause(t0, t1, seen)).toBe(true);
      expect(overlapsPause(quiet0, quiet1, seen)).toBe(false);
    } finally {
      pauses.stop();
    }
  });
});
