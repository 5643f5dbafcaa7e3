/**
 * Seeded randomness for scenarios: sfc32 (a small, fast, well-tested 32-bit
 * generator), plus the draws the scenarios need. Same seed, same workload,
 * on every machine and Node version.
 */

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [0, n), n up to 2^53. */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Shuffles a typed array (or several parallel ones) in place, Fisher-Yates. */
  shuffle(...arrays: { length: number; [i: number]: number }[]): void {
    const n = arrays[0].length;
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1);
      for (const arr of arrays) {
        const t = arr[i];
        arr[i] = arr[j];
        arr[j] = t;
      }
    }
  }
}

/** A seed for one named stream of a run: FNV-1a of the name, mixed with the run seed. */
export function deriveSeed(runSeed: number, name: string): number {
  let h = 0x811c9dc5 ^ (runSeed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
