import { describe, expect, it } from 'vitest';
import { PAIR_METRICS } from '../../src/results/metrics.ts';
import { makeFixture } from '../../src/report/fixture.ts';
import { TABLE_METRICS, TABLE_WIDTH, renderWrapped, summaryTables } from '../table.ts';

describe('terminal tables', () => {
  it('fit in 100 columns, for every structure of the suite and a long structure name', () => {
    for (const results of [makeFixture(), makeFixture({ profile: 'smoke' }), makeFixture({ structures: ['radix', 'a-very-long-structure-name-indeed'], scenarios: ['vm-2m'] })]) {
      const lines = summaryTables(results).split('\n');
      const wide = lines.filter((l) => l.length > TABLE_WIDTH);
      expect(wide).toEqual([]);
    }
  });

  it('name metrics as summary.csv does, with n/a for what a structure cannot have', () => {
    const text = summaryTables(makeFixture({ scenarios: ['vm-2m'], structures: ['xarray-6.16', 'radix'] }));
    const names = new Set(PAIR_METRICS.map((m) => m.name));
    for (const m of TABLE_METRICS) expect(names.has(m), m).toBe(true);
    const rows = text.split('\n').filter((l) => /^[a-z_]+ {2,}/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.filter((r) => r !== 'metric' && !names.has(r))).toEqual([]);
    expect(text).toMatch(/^unpreserve_ns_per_folio +n\/a +[\d.]+±[\d.]+$/m);
    expect(text).toMatch(/^vm-2m: RAM 256 GiB, 110,592 folios, n = 10 processes/m);
    expect(text).toMatch(/^growth exponents against folios \(cost ~ x\^k, k ± 95% interval\)$/m);
  });

  it('say when the sweeps are too small to fit', () => {
    expect(summaryTables(makeFixture({ profile: 'smoke', scenarios: ['vm-2m'] }))).toContain('growth exponents: none (2 points: too few to fit (at least 5))');
  });

  it('wrap the columns into blocks that repeat the first column', () => {
    const head = ['metric', 'aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc'];
    const out = renderWrapped(head, [['x', '1', '2', '3']], 30);
    expect(out).toBe(['metric  aaaaaaaaaa  bbbbbbbbbb', '------  ----------  ----------', 'x                1           2', '', 'metric  cccccccccc', '------  ----------', 'x                3'].join('\n'));
  });
});
