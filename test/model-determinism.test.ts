/**
 * The machine model's figures are the same bit for bit in any process:
 * two separate processes run the exact pass (preserve, finalize, teardown,
 * and the restore from the image) of the same scenario and seed, and print
 * every modeled figure with all its digits; the outputs must be identical.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = `
import { measureExact, measureTeardownModel } from './src/measure/exact.ts';
import { restoreExact } from './src/measure/restore.ts';
import { DEFAULT_CPU } from './src/model/cpu.ts';
import { SCENARIOS } from './bench/scenarios.ts';
import { structureSpec } from './structures/index.ts';
const out = {};
for (const id of ['xarray-6.19', 'radix', 'ida']) {
  const w = SCENARIOS['mixed-test-kho'].workload('smoke', 7);
  const create = (m) => structureSpec(id).create(m);
  const f = measureExact(w, create, DEFAULT_CPU);
  const r = restoreExact(id, f.handover.image, f.handover.fdt, DEFAULT_CPU, { magic: true, deferredInit: true });
  out[id] = { preserve: f.model.preserve, finalize: f.model.finalize, teardown: measureTeardownModel(w, create, DEFAULT_CPU), restore: r.model, touches: f.touches, lines: r.lines };
}
process.stdout.write(JSON.stringify(out, (_k, v) => (typeof v === 'number' ? v.toString(16) + ':' + v.toPrecision(17) : v)));
`;

function run(): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    timeout: 110_000,
  });
}

describe('the machine model', () => {
  it('gives bit-identical figures in two separate processes', () => {
    const a = run();
    const b = run();
    expect(a.length).toBeGreaterThan(100);
    expect(a).toBe(b);
    const parsed = JSON.parse(a) as Record<string, { preserve: { ns: string } }>;
    expect(Object.keys(parsed)).toEqual(['xarray-6.19', 'radix', 'ida']);
  });
});
