import { readdirSync, readFileSync } from 'node:fs';
import { compareHalves } from '../src/results/assemble.ts';
const dir = process.argv[2] + '/jobs/';
const jobs = readdirSync(dir).map((f) => JSON.parse(readFileSync(dir + f, 'utf8')));
const { rows, summary } = compareHalves(jobs);
console.log(summary.message);
for (const r of rows) if (r.comparison.kind === 'timing' && r.comparison.flagged) console.log(r.structure, r.scenario, r.metric, r.comparison.change.value.toFixed(3), r.comparison.pAdjusted.toPrecision(2), r.comparison.derivedFrom ?? '');
const ps = rows.filter((r) => r.comparison.kind === 'timing' && !r.comparison.derivedFrom).map((r) => (r.comparison as any).pAdjusted).sort((a, b) => a - b);
console.log('smallest adjusted p', ps.slice(0, 5).map((p) => p.toPrecision(2)).join(' '));
