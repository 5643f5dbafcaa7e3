/**
 * What warm code costs, for comparison with the benchmark's fresh
 * processes: in one process, preserve a scenario's build into `passes`
 * fresh trackers, then walk the last one's hand-over `passes` times into a
 * counting sink, and print preserve's every pass, then the first pass and
 * the median of the last half (ns per folio). Untimed set-up as in the benchmark (host memory
 * prefaulted); no restore worker, no kernel work, no statistics.
 *
 *   npx tsx bench/warm-process.ts <structure> <scenario> [passes] [ram GiB]   (default 20 passes)
 *
 * With a RAM size (random-4k only), the scenario's pages are drawn over
 * that much RAM instead: at 1 GiB every structure fits in the caches, so
 * the figure is the code's own cost, and the difference to the scenario's
 * 64 GiB is what its cache misses add.
 */
import { restoreFromMemory } from '../src/kexec/kexec.ts';
import { prefault } from '../src/measure/replay.ts';
import { takeHandover } from '../src/measure/serialize.ts';
import { CountSink } from '../src/measure/workload.ts';
import { Machine } from '../src/ram/machine.ts';
import { PhysMem } from '../src/ram/phys-mem.ts';
import { quantile } from '../src/stats/percentile.ts';
import type { StructureId, Tracker } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';
import { scenarioSeed } from './jobs/seeds.ts';
import { SCENARIOS, type ScenarioId, randomPages } from './scenarios.ts';

const hr = process.hrtime.bigint;

function main(argv: readonly string[]): void {
  const [structure, scenario, passArg = '20', ramArg] = argv;
  const passes = Number(passArg);
  const ramGiB = ramArg === undefined ? undefined : Number(ramArg);
  if (!(scenario in SCENARIOS) || !Number.isInteger(passes) || passes < 2 || (ramGiB !== undefined && !(scenario === 'random-4k' && Number.isInteger(ramGiB) && ramGiB >= 1 && ramGiB <= 16384))) {
    console.error('usage: warm-process.ts <structure> <scenario> [passes >= 2] [ram GiB 1..16384, random-4k only]');
    process.exit(2);
  }
  const spec = structureSpec(structure);
  const seed = scenarioSeed(1, scenario);
  const given = SCENARIOS[scenario as ScenarioId].workload('default', seed);
  const w = ramGiB === undefined ? given : randomPages(ramGiB * 2 ** 30, given.build[0].a.length, seed);
  const phase = w.build[0];
  const preserve: number[] = [];
  let last: Tracker | undefined;
  for (let p = 0; p < passes; p++) {
    const machine = new Machine({ banks: w.banks, heapSize: w.heapSize });
    const tracker = spec.create(machine);
    prefault(machine, 1200);
    const t0 = hr();
    for (let i = 0; i < phase.a.length; i++) tracker.preserve(phase.a[i], phase.b[i]);
    preserve.push(Number(hr() - t0) / phase.a.length);
    last = tracker;
  }
  const { handover } = takeHandover(last!);
  const mem = PhysMem.fromImage(handover.image);
  const sink = new CountSink();
  const walk: number[] = [];
  for (let p = 0; p < passes; p++) {
    sink.reset();
    const t0 = hr();
    restoreFromMemory(structure as StructureId, mem, handover.fdt, sink);
    walk.push(Number(hr() - t0) / sink.folios);
  }
  const late = (xs: number[]) => quantile(xs.slice(passes >> 1), 0.5).toFixed(1);
  console.log(`preserve ns/folio by pass: ${preserve.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`${structure} ${scenario}${ramGiB === undefined ? '' : ` over ${ramGiB} GiB`}: preserve ${preserve[0].toFixed(1)} ns/folio first, ${late(preserve)} warm; walk ${walk[0].toFixed(1)} first, ${late(walk)} warm`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`warm-process: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
