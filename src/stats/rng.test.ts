import { describe, expect, it } from 'vitest';
import { normalDeviate, seededUniform } from './rng.ts';

describe('seededUniform (sfc32)', () => {
  it('is the stream of bench/rng.ts for the same seed, so the project has one generator', () => {
    // Rng(seed).float() of bench/rng.ts, three draws each.
    const expected: Record<number, number[]> = {
      0: [0.5714294084099681, 0.37681682124747373, 0.37627329555896905],
      1: [0.9230146373398983, 0.4921440315117651, 0.5257062570664262],
      0xdeadbeef: [0.538714593218077, 0.9947443247093739, 0.24729991983338795],
    };
    for (const [seed, values] of Object.entries(expected)) {
      const rnd = seededUniform(Number(seed));
      expect([rnd(), rnd(), rnd()]).toEqual(values);
    }
  });

  it('draws uniformly from [0, 1)', () => {
    const rnd = seededUniform(42);
    const bins = new Array<number>(10).fill(0);
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rnd();
      if (!(u >= 0 && u < 1)) outside++;
      else bins[Math.floor(u * 10)]++;
    }
    expect(outside).toBe(0);
    // Chi-square with 9 df: the 99.9% point is 27.9.
    const chi2 = bins.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9);
  });

  it('normal deviates have mean 0 and sd 1', () => {
    const rnd = seededUniform(7);
    const xs = Array.from({ length: 50_000 }, () => normalDeviate(rnd));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(sd - 1)).toBeLessThan(0.02);
  });
});
