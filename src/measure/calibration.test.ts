import { describe, expect, it } from 'vitest';
import { normalDeviate, seededUniform } from '../stats/rng.ts';
import {
  CALIBRATION_STEPS,
  HOST_DRIFT_THRESHOLD,
  type ProcessCalibration,
  SLOW_PROCESS_THRESHOLD,
  hostSlowdown,
  runCalibration,
} from './calibration.ts';

/** Calibrations of `n` processes around 18 ms with 3% noise, each multiplied by `speed(i)`. */
function run(seed: number, n: number, speed: (i: number) => number = () => 1): ProcessCalibration[] {
  const rnd = seededUniform(seed);
  const one = (i: number) => 18e6 * speed(i) * (1 + 0.03 * normalDeviate(rnd));
  return Array.from({ length: n }, (_, i) => ({ startNs: one(i), endNs: one(i) }));
}

describe('runCalibration', () => {
  it('does fixed work: the same checksum every time, a positive time, the work size', () => {
    const a = runCalibration(100_000);
    const b = runCalibration(100_000);
    expect(a.checksum).toBe(b.checksum);
    expect(a.steps).toBe(100_000);
    expect(a.ns).toBeGreaterThan(0);
    expect(runCalibration(100_001).checksum).not.toBe(a.checksum);
    expect(CALIBRATION_STEPS).toBe(500_000);
  });
});

describe('hostSlowdown', () => {
  it('a steady host: nothing flagged', () => {
    const h = hostSlowdown(run(301, 10), run(302, 10));
    expect(h.flagged).toBe(false);
    expect(h.message).toBeUndefined();
    expect(h.slowProcesses).toEqual([]);
    expect(Math.abs(h.drift)).toBeLessThan(HOST_DRIFT_THRESHOLD);
    expect(h.baseline?.flagged).toBe(false);
    expect(h.medianNs).toBeGreaterThan(17e6);
    expect(h.medianNs).toBeLessThan(19e6);
  });

  it('flags a host that slowed down during the run: the second half of the processes 20% slower', () => {
    const h = hostSlowdown(run(303, 10, (i) => (i < 5 ? 1 : 1.2)));
    expect(h.flagged).toBe(true);
    expect(h.drift).toBeGreaterThan(0.15);
    expect(h.drift).toBeLessThan(0.25);
    expect(h.driftP).toBeLessThan(0.001);
    expect(h.message).toMatch(/^host slowed down during the run: calibration \d+% slower in the later half of the processes \(p = [^)]+\)/);
    expect(h.message).not.toContain('\n');
    expect(h.baseline).toBeUndefined();
  });

  it('flags single slow processes against the run median', () => {
    const h = hostSlowdown(run(304, 10, (i) => (i === 3 ? 1 + 2 * SLOW_PROCESS_THRESHOLD : 1)));
    expect(h.slowProcesses).toEqual([3]);
    expect(h.flagged).toBe(true);
    expect(h.message).toMatch(/^1 of 10 processes ran a calibration more than 20% above the run's median of that calibration \(#3\)/);
  });

  it('compares a start with the starts and an end with the ends: starts 1.8x the ends on a steady host flag nothing', () => {
    // A process's first and last calibrations run in different company, and their medians differ.
    const h = hostSlowdown(run(307, 40).map((c) => ({ startNs: 1.8 * c.startNs, endNs: c.endNs })));
    expect(h.slowProcesses).toEqual([]);
    expect(h.flagged).toBe(false);
    const one = hostSlowdown(run(307, 40).map((c, i) => ({ startNs: 1.8 * c.startNs, endNs: i === 7 ? 1.5 * c.endNs : c.endNs })));
    expect(one.slowProcesses).toEqual([7]);
  });

  it('flags a host slower or faster than during the baseline, with the ratio and its interval', () => {
    const slower = hostSlowdown(run(305, 10, () => 1.12), run(306, 10));
    expect(slower.flagged).toBe(true);
    expect(slower.baseline!.ratio.value).toBeGreaterThan(1.07);
    expect(slower.baseline!.ratio.low).toBeGreaterThan(1);
    expect(slower.message).toMatch(/^host 1\d% slower than during the baseline \[\d+%, \d+%\]/);
    const faster = hostSlowdown(run(307, 10, () => 0.85), run(308, 10));
    expect(faster.message).toMatch(/^host 1\d% faster than during the baseline/);
    expect(hostSlowdown(run(309, 10, () => 1.02), run(310, 10)).flagged).toBe(false);
  });

  it('a drift needs at least 4 processes to be detectable', () => {
    const h = hostSlowdown(run(311, 3, (i) => 1 + 0.15 * i));
    expect(h.driftP).toBeGreaterThan(0.05);
    expect(hostSlowdown(run(312, 4, (i) => (i < 2 ? 1 : 1.2))).driftP).toBeLessThan(0.05);
  });
});
