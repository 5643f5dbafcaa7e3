/**
 * The project's one seeded generator for statistics (bootstraps,
 * simulations, synthetic data): sfc32, seeded and drawn exactly as the
 * workload generator in bench/rng.ts, so that the same seed gives the same
 * stream in both and the project has one algorithm to trust. sfc32 passes
 * PractRand and has a 128-bit state; mulberry32, used here before, has a
 * 32-bit state and cannot produce every 32-bit output.
 */

/** A stream of uniform floats in [0, 1), each with 53 random bits. */
export type Uniform = () => number;

/** A seeded uniform stream (any 32-bit seed; the same seed gives the same stream on every machine). */
export function seededUniform(seed: number): Uniform {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Nearby seeds start from nearly equal states: the warm-up decorrelates them.
  for (let i = 0; i < 16; i++) u32();
  return () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
}

/** A standard normal draw (Box–Muller, one of the pair): for simulations, not for speed. */
export function normalDeviate(rnd: Uniform): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}
