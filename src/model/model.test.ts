/**
 * The machine model, against costs worked out by hand: on the default CPU
 * where the brief asks for exact ns, and otherwise on a toy CPU with round
 * numbers (1 GHz, so cycles = ns; free ALU work and free translations
 * unless a test turns them on).
 */
import { describe, expect, it } from 'vitest';
import { type CpuParams, DEFAULT_CPU, ModelError } from './cpu.ts';
import { MachineModel, type ModelTotals, type OpCost } from './model.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** L1 1 KiB 2-way (8 sets), L2 4 KiB 4-way (16 sets), LLC 16 KiB 4-way (64 sets); DRAM 100 cycles; 1 cycle per DRAM line of bandwidth. */
function toyCpu(patch: (c: CpuParams) => void = () => {}): CpuParams {
  const c: CpuParams = structuredClone(DEFAULT_CPU);
  c.name = 'toy';
  c.frequencyGHz = 1;
  c.l1d = { sizeBytes: 1 * KiB, ways: 2, latencyCycles: 4 };
  c.l2 = { sizeBytes: 4 * KiB, ways: 4, latencyCycles: 14 };
  c.llc = { sizeBytes: 16 * KiB, ways: 4, latencyCycles: 50 };
  c.dram = { latencyNs: 100, streamGBps: 64 };
  c.mlp = 4;
  c.prefetch = { degree: 4 };
  c.tlb = { pageBytes: GiB, l1Entries: 4, stlbEntries: 8, stlbWays: 2, stlbEntryBytes: GiB, stlbHitCycles: 0, walkCycles: 0 };
  c.atomicCycles = 10;
  c.aluCycles = { alu: 0, bitop: 0, shift: 0, mul: 0, branch: 0, call: 0 };
  c.implied = { load: {}, store: {}, deref: {}, atomic: {}, op: {} };
  patch(c);
  return c;
}

function op(m: MachineModel, body: () => void): OpCost {
  m.beginOp();
  body();
  return m.endOp();
}

describe('a line hit twice (default CPU: EPYC 9654 at 3.7 GHz)', () => {
  it('costs DRAM plus a page walk the first time and an L1 hit the second, exactly', () => {
    const m = new MachineModel(DEFAULT_CPU);
    // 115 ns * 3.7 GHz = 425.5, rounded half up.
    expect(m.latency).toEqual({ l1: 4, l2: 14, llc: 50, dram: 426 });
    const first = op(m, () => m.load(0x1000, 8));
    // Memory: DRAM 426 + L1 DTLB miss 7 + STLB miss (walk) 35 = 468, one step.
    // ALU: op = call 2 + 6 alu * 0.25 + 2 branch * 0.5 = 4.5; load = 1 alu * 0.25. Total 4.75.
    expect(first.hits).toEqual({ l1: 0, l2: 0, llc: 0, dram: 1 });
    expect(first.tlbMisses).toBe(1);
    expect(first.stlbMisses).toBe(1);
    expect(first.pathCycles).toBe(468);
    expect(first.memCycles).toBe(468);
    expect(first.aluCycles).toBe(4.75);
    expect(first.instructions).toBe(10);
    expect(first.cycles).toBe(472.75);
    expect(first.ns).toBe(472.75 / 3.7);
    expect(first.chain).toBe(1);

    const second = op(m, () => m.load(0x1000, 8));
    expect(second.hits).toEqual({ l1: 1, l2: 0, llc: 0, dram: 0 });
    expect(second.tlbMisses).toBe(0);
    expect(second.cycles).toBe(4 + 4.75);
    expect(second.ns).toBe(8.75 / 3.7);
  });
});

describe('set-associative LRU', () => {
  it('ways+1 lines of one L1 set evict the least recently used, which then hits L2', () => {
    const m = new MachineModel(DEFAULT_CPU);
    // 64 L1 sets of 64-byte lines: addresses 4 KiB apart share a set; 8 ways.
    for (let k = 0; k <= 8; k++) m.load(k * 4096, 8);
    expect(op(m, () => m.load(2 * 4096, 8)).hits).toEqual({ l1: 1, l2: 0, llc: 0, dram: 0 });
    const evicted = op(m, () => m.load(0, 8));
    expect(evicted.hits).toEqual({ l1: 0, l2: 1, llc: 0, dram: 0 });
    expect(evicted.pathCycles).toBe(14);
  });

  it('an L2 victim goes to the LLC and is served from there, then from L1', () => {
    const m = new MachineModel(toyCpu());
    // Toy L2: 16 sets, 4 ways; lines 16 apart (1 KiB) share an L2 set.
    for (let k = 0; k <= 4; k++) m.load(k * 1024, 8);
    const c = op(m, () => m.load(0, 8));
    expect(c.hits).toEqual({ l1: 0, l2: 0, llc: 1, dram: 0 });
    expect(c.pathCycles).toBe(50);
    expect(op(m, () => m.load(0, 8)).hits.l1).toBe(1);
  });
});

describe('dependent and independent misses', () => {
  // i MiB apart, each in its own toy-L1 set (line offset i + 1 in its page).
  const spread = (i: number) => i * MiB + (i + 1) * 64;

  it('a dependent chain of N misses costs N x DRAM latency', () => {
    const m = new MachineModel(toyCpu());
    const c = op(m, () => {
      for (let i = 0; i < 6; i++) {
        if (i > 0) m.deref();
        m.load(spread(i), 8);
      }
    });
    expect(c.hits.dram).toBe(6);
    expect(c.chain).toBe(6);
    expect(c.pathCycles).toBe(6 * 100);
    expect(c.memCycles).toBe(600);
  });

  it('N independent misses cost ceil(N / MLP) x DRAM latency', () => {
    const m = new MachineModel(toyCpu());
    const c = op(m, () => {
      for (let i = 0; i < 10; i++) m.load(spread(i), 8);
    });
    expect(c.hits.dram).toBe(10);
    expect(c.chain).toBe(1);
    expect(c.pathCycles).toBe(Math.ceil(10 / 4) * 100);
    expect(c.bandwidthCycles).toBe(10);
  });

  it('a chain of L1 hits costs the L1 latency per step, and a batch costs its slowest request', () => {
    const m = new MachineModel(toyCpu());
    for (let i = 0; i < 3; i++) m.load(spread(i), 8);
    const hits = op(m, () => {
      for (let i = 0; i < 3; i++) {
        m.load(spread(i), 8);
        m.deref();
      }
    });
    expect(hits.pathCycles).toBe(3 * 4);
    expect(hits.chain).toBe(3);
    // One step: an L1 hit (hidden), a DRAM miss (100) and an L2 hit (14) overlap: 100.
    m.load(64 * MiB, 8);
    for (let k = 1; k <= 2; k++) m.load(k * 1024 + 64 * MiB, 8); // push line 64 MiB out of L1, not L2
    const mixed = op(m, () => {
      m.load(spread(0), 8);
      m.load(200 * MiB, 8);
      m.load(64 * MiB, 8);
    });
    expect(mixed.hits).toEqual({ l1: 1, l2: 1, llc: 0, dram: 1 });
    expect(mixed.pathCycles).toBe(100);
  });
});

describe('next-line prefetcher', () => {
  const scan = (m: MachineModel, base: number) =>
    op(m, () => {
      for (let off = 0; off < 4096; off += 8) m.load(base + off, 8);
    });

  it('a sequential scan of a page stalls on DRAM far fewer times than it has lines', () => {
    const m = new MachineModel(DEFAULT_CPU);
    const c = scan(m, 0x40000000);
    // Line 0 misses (no predecessor in the page), line 1 misses and starts the
    // stream; every later line was prefetched.
    expect(c.hits.dram).toBe(2);
    expect(c.prefetches).toBe(62);
    expect(c.hits.l1).toBe(512 - 2);
    // One step; both misses in one MLP batch: 426 + the walk 42 on the first.
    expect(c.pathCycles).toBe(468);
    // 64 DRAM lines of bandwidth at 40 GB/s and 3.7 GHz.
    expect(c.bandwidthCycles).toBe(64 * m.dramLineCycles);
  });

  it('without the prefetcher the same scan misses on every line', () => {
    const m = new MachineModel({ ...DEFAULT_CPU, prefetch: { degree: 0 } });
    const c = scan(m, 0x40000000);
    expect(c.hits.dram).toBe(64);
    expect(c.prefetches).toBe(0);
    // 64 misses in batches of 24: three batches.
    expect(c.pathCycles).toBe(468 + 426 + 426);
  });

  it('does not cross a 4 KiB page', () => {
    const m = new MachineModel(toyCpu());
    const c = op(m, () => {
      m.load(4096 - 128, 8);
      m.load(4096 - 64, 8);
      m.load(4096, 8);
    });
    expect(c.prefetches).toBe(0);
    expect(c.hits.dram).toBe(3);
  });
});

describe('data TLB', () => {
  it('accesses spread over more 1 GiB pages than the L1 DTLB holds miss; the STLB catches them', () => {
    const m = new MachineModel(toyCpu((c) => Object.assign(c.tlb, { stlbHitCycles: 7, walkCycles: 30 })));
    const round = (pages: number) =>
      op(m, () => {
        for (let p = 0; p < pages; p++) m.load(p * GiB, 8);
      });
    round(5);
    const again = round(5); // 5 pages through 4 LRU entries: every one misses
    expect(again.tlbMisses).toBe(5);
    expect(again.stlbMisses).toBe(0);
    m.flush();
    round(20);
    const over = round(20); // more pages than the STLB's 8 entries as well
    expect(over.tlbMisses).toBe(20);
    expect(over.stlbMisses).toBe(20);
  });

  it('within one page they hit', () => {
    const m = new MachineModel(DEFAULT_CPU);
    const c = op(m, () => {
      for (let i = 0; i < 1000; i++) m.load(3 * GiB + i * 1000 * 1000, 8);
    });
    expect(c.tlbMisses).toBe(1);
    expect(c.stlbMisses).toBe(1);
  });

  it('the default CPU holds 72 direct-map pages in its L1 DTLB and smashes them into 2 MiB STLB entries', () => {
    const m = new MachineModel(DEFAULT_CPU);
    // Offsets of p * 2 MiB put each page's STLB entry in its own set.
    const round = (pages: number) =>
      op(m, () => {
        for (let p = 0; p < pages; p++) m.load(p * GiB + p * 2 * MiB, 8);
      });
    expect(round(72).tlbMisses).toBe(72);
    expect(round(72).tlbMisses).toBe(0);
    const over = round(73);
    expect(round(73).tlbMisses).toBe(73);
    expect(over.stlbMisses).toBe(1);
    // Same page, another 2 MiB window: an L1 DTLB hit.
    expect(op(m, () => m.load(72 * GiB + 1000 * MiB, 8)).tlbMisses).toBe(0);
  });
});

describe('stores and atomics', () => {
  it('a store miss is off the critical path, but a later load of its line waits for it', () => {
    const m = new MachineModel(toyCpu());
    const alone = op(m, () => m.store(0x10000, 8));
    expect(alone.hits.dram).toBe(1);
    expect(alone.pathCycles).toBe(0);
    expect(alone.memCycles).toBe(1); // one DRAM line of bandwidth
    const reread = op(m, () => {
      m.store(0x20000, 8);
      m.load(0x20000, 8);
    });
    expect(reread.pathCycles).toBe(100);
    // The same line read after a dependent step of 100 cycles: already there.
    const later = op(m, () => {
      m.store(0x30000, 8);
      m.load(0x40000, 8);
      m.deref();
      m.load(0x30000, 8);
    });
    expect(later.pathCycles).toBe(100 + 4);
    expect(later.chain).toBe(2);
  });

  it('zeroing a page costs bandwidth, not latency', () => {
    const m = new MachineModel(toyCpu());
    const c = op(m, () => m.store(0x50000, 4096));
    expect(c.hits.dram + c.hits.l1).toBe(64);
    expect(c.hits.dram).toBe(2); // the prefetcher streams the rest
    expect(c.prefetches).toBe(62);
    expect(c.pathCycles).toBe(0);
    expect(c.bandwidthCycles).toBe(64);
  });

  it('an atomic is a barrier: it drains pending store misses and costs its latency plus the RMW', () => {
    const m = new MachineModel(toyCpu());
    m.load(0x60000, 8);
    const c = op(m, () => {
      m.store(0x70000, 8); // completes at 100
      m.load(0x60000, 8); // an L1 hit: one step of 4
      m.atomic(0x60000, 8); // waits 96 more for the store, then 4 + 10
    });
    expect(c.atomics).toBe(1);
    expect(c.chain).toBe(2);
    expect(c.pathCycles).toBe(4 + 96 + 4 + 10);
    const lone = op(m, () => m.atomic(0x60000, 8));
    expect(lone.pathCycles).toBe(14);
    expect(lone.chain).toBe(1);
  });
});

describe('ALU work', () => {
  it('charges implied instructions per event and explicit alu() per class', () => {
    const m = new MachineModel(DEFAULT_CPU);
    m.load(0x1000, 8);
    const c = op(m, () => {
      m.load(0x1000, 8);
      m.deref();
      m.load(0x1008, 8);
      m.alu('mul', 3);
      m.alu('bitop', 2);
    });
    // op 4.5 + 2 loads 0.5 + deref (shift 0.5 + 2 alu 0.5 + branch 0.5) 1.5 + 3 mul 3 + 2 bitop 1.
    expect(c.aluCycles).toBe(4.5 + 0.5 + 1.5 + 3 + 1);
    expect(c.instructions).toBe(9 + 2 + 4 + 3 + 2);
    expect(c.pathCycles).toBe(8);
    expect(c.cycles).toBe(8 + 10.5);
  });

  it('rejects an unknown class or a bad count', () => {
    const m = new MachineModel(DEFAULT_CPU);
    expect(() => m.alu('fma' as never, 1)).toThrow(ModelError);
    expect(() => m.alu('mul', -1)).toThrow(ModelError);
    expect(() => m.alu('mul', 1.5)).toThrow(ModelError);
    expect(() => m.alu('mul', Number.POSITIVE_INFINITY)).toThrow(ModelError);
  });
});

describe('ops and validation', () => {
  it('accesses outside an op update the caches but are not costed', () => {
    const m = new MachineModel(DEFAULT_CPU);
    m.load(0x9000, 8);
    m.deref();
    m.atomic(0xa000, 8);
    expect(m.totals.ops).toBe(0);
    expect(m.totals.cycles).toBe(0);
    expect(op(m, () => m.load(0x9000, 8)).hits.l1).toBe(1);
  });

  it('rejects accesses outside 1..4096 bytes, across a page, or at an address that is not an integer below 2^52', () => {
    const m = new MachineModel(DEFAULT_CPU);
    expect(() => m.load(0, 0)).toThrow(ModelError);
    expect(() => m.load(0, 4097)).toThrow(ModelError);
    expect(() => m.store(4090, 8)).toThrow(/within one 4 KiB page/);
    expect(() => m.load(2 ** 52, 8)).toThrow(ModelError);
    expect(() => m.load(-8, 8)).toThrow(ModelError);
    expect(() => m.atomic(0.5, 8)).toThrow(ModelError);
    expect(() => m.load(Number.NaN, 8)).toThrow(ModelError);
    m.load(2 ** 52 - 4096, 4096);
  });

  it('rejects nested or unopened ops', () => {
    const m = new MachineModel(DEFAULT_CPU);
    expect(() => m.endOp()).toThrow(ModelError);
    m.beginOp();
    expect(() => m.beginOp()).toThrow(ModelError);
    m.endOp();
  });

  it('endOp(out) fills the given object, and totals sum the ops', () => {
    const m = new MachineModel(DEFAULT_CPU);
    const a = op(m, () => m.load(0x1000, 8));
    const out = op(m, () => {}); // warm-up of the shape
    m.beginOp();
    m.load(0x1000, 8);
    const same = m.endOp(out);
    expect(same).toBe(out);
    const t = m.totals;
    expect(t.ops).toBe(3);
    expect(t.cycles).toBe(a.cycles + 4.5 + same.cycles);
    expect(t.maxChain).toBe(1);
    m.resetTotals();
    expect(m.totals.ops).toBe(0);
  });
});

describe('determinism', () => {
  /** A fixed pseudo-random trace (an LCG) over 64 GiB: loads, stores, atomics, derefs and ALU work. */
  function replay(m: MachineModel): ModelTotals {
    let x = 12345;
    const next = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x;
    };
    for (let o = 0; o < 2000; o++) {
      m.beginOp();
      const n = 1 + (next() % 40);
      for (let i = 0; i < n; i++) {
        const r = next();
        const page = (next() % (16 * 1024 * 1024)) * 4096; // 64 GiB of pages
        const off = (r >>> 8) % 4096;
        const bytes = Math.min(1 + (r % 64), 4096 - off);
        switch (r % 7) {
          case 0:
            m.store(page + off, bytes);
            break;
          case 1:
            m.atomic(page + (off & ~7), 8);
            break;
          case 2:
            m.deref();
            m.load(page + off, bytes);
            break;
          case 3:
            m.alu('branch', 1 + (r % 3));
            m.load(page + (off & ~63), 64);
            break;
          default:
            m.load(page + off, bytes);
        }
      }
      m.endOp();
    }
    return m.totals;
  }

  it('the same trace twice gives bit-identical totals', () => {
    const a = replay(new MachineModel(DEFAULT_CPU));
    const b = replay(new MachineModel(DEFAULT_CPU));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    for (const key of ['ns', 'cycles', 'memCycles', 'bandwidthCycles', 'aluCycles'] as const) {
      expect(Object.is(a[key], b[key])).toBe(true);
    }
    expect(a.ops).toBe(2000);
    expect(a.hits.dram).toBeGreaterThan(0);
  });

  it('flush() makes the next access a miss in every cache and the TLB', () => {
    const m = new MachineModel(DEFAULT_CPU);
    m.load(0x1000, 8);
    expect(op(m, () => m.load(0x1000, 8)).hits.l1).toBe(1);
    m.flush();
    const cold = op(m, () => m.load(0x1000, 8));
    expect(cold.hits).toEqual({ l1: 0, l2: 0, llc: 0, dram: 1 });
    expect(cold.tlbMisses).toBe(1);
    expect(cold.stlbMisses).toBe(1);
  });
});
