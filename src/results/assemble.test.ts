import { describe, expect, it } from 'vitest';
import { summarize } from '../stats/summary.ts';
import { processEstimates } from './assemble.ts';
import type { TimingJobOutput } from './job.ts';

const repeat = (ms: number[]) => ({ summary: summarize(ms), callsPerSample: 1, overheadFraction: 0 });

describe('processEstimates', () => {
  it("takes a process's walk as the median of its runs and its other restore parts as their mean", () => {
    const job = {
      folios: 1000,
      restore: {
        // One run of the walk carries a stall (a V8 pause): the median leaves it out.
        walk: repeat([0.005, 0.005, 0.006, 0.007, 0.06]),
        total: repeat([0.2, 0.4]),
        memblock: repeat([0.1]),
        heads: repeat([0.05]),
        deferredOne: repeat([0.05]),
        deferredSample: repeat([0.05]),
        deferredCounts: { one: 1000, sample: 1000, all: 1000 },
        deferredInit: false,
      },
    } as unknown as TimingJobOutput;
    const e = processEstimates(job);
    expect(e.restore_walk_ms).toBeCloseTo(0.006, 12);
    expect(e.restore_walk_ns_per_folio).toBeCloseTo(6, 9);
    expect(e.restore_ms).toBeCloseTo(0.3, 12);
  });
});
