/**
 * `npm run kho -- <command>`: inspect what a tracker hands over.
 *
 *   dump --structure <id> --ops <ops.json> [--ram <size>] --out <dir>
 *       runs the operations on a fresh machine, finalizes, writes the
 *       hand-over (fdt.dtb, memory.img, machine.json) into <dir> (a new or
 *       empty folder) and prints "wrote <file> (<n> bytes)" per file
 *   restore --in <dir>
 *       the next kernel: prints "0x<phys> <order>" per restored folio, in
 *       the order the structure's walk finds them; folios inside a larger
 *       folio (preserved twice, at two orders) are legal and counted in
 *       one warning line
 *   time --structure <id> --ops <file> [--ram <size>] [--processes N]
 *       times the operations as the benchmark times a scenario (see
 *       bench/time.ts); one JSON object per structure on stdout
 *
 * The operations file is JSON or one operation per text line (see
 * src/measure/ops-file.ts).
 */
import { parseArgs } from 'node:util';
import { type Op, parseOps } from '../measure/ops-file.ts';
import { checkBanks, loadDump, writeDump } from '../kexec/dump.ts';
import { handOver, restoreFromMemory } from '../kexec/kexec.ts';
import type { FolioSink } from '../tracker/tracker.ts';
import { Machine } from '../ram/machine.ts';
import { structureSpec } from '../../structures/index.ts';
import { UsageError, joinNegativeValues, runCli } from './guard.ts';
import { readTextInput } from './input-file.ts';
import { prepareOutDir } from './out-dir.ts';
import { Containers, FolioPrinter } from './restore-output.ts';
import { parseRam } from './sizes.ts';

const USAGE = `usage:
  npm run kho -- dump --structure <id> --ops <ops> [--ram <size>] --out <dir>
  npm run kho -- restore --in <dir>
  npm run kho -- time --structure <id> | --structures <ids|all> --ops <file> [--ram <size>] [--processes N] [--cpu <file.json>]
ops: JSON [{"op": "preserve" | "unpreserve" | "preserve-range", "phys": "0x…", "order": n, "size": "0x…"}, …]
     or text lines "preserve|unpreserve 0x<phys> <order>", "preserve-range 0x<phys> <size>"
--ram: a size (64G, 0x1000000000; default 64G) or banks SIZE@START,SIZE@START`;

/** Written to directly: process.stdout would make a pipe non-blocking and queue what it cannot write yet. */
const STDOUT = 1;

/** About 300 000 operations: inspection inputs, not benchmark workloads (those are scenarios, or `time`). */
const MAX_OPS_BYTES = 16 * 2 ** 20;

async function readOps(path: string): Promise<Op[]> {
  return parseOps(await readTextInput(path, { maxBytes: MAX_OPS_BYTES, why: 'inspection inputs are small; benchmark workloads are scenarios' }), path);
}

async function dump(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args: joinNegativeValues(args),
    options: { structure: { type: 'string' }, ops: { type: 'string' }, ram: { type: 'string', default: '64G' }, out: { type: 'string' } },
  });
  if (!values.structure || !values.ops || !values.out) throw new UsageError('dump needs --structure, --ops and --out');
  const spec = (() => {
    try {
      return structureSpec(values.structure);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  const banks = checkBanks(parseRam(values.ram), '--ram');
  const out = prepareOutDir(values.out);
  const ops = await readOps(values.ops);
  const tracker = spec.create(new Machine({ banks }));
  ops.forEach((op, i) => {
    try {
      if (op.kind === 'range') tracker.preserveRange(op.phys, op.arg);
      else if (op.kind === 'preserve') tracker.preserve(op.phys, op.arg);
      else tracker.unpreserve(op.phys, op.arg);
    } catch (e) {
      throw Object.assign(e as Error, { message: `operation ${i} (${op.kind} 0x${op.phys.toString(16)}): ${(e as Error).message}` });
    }
  });
  const handover = handOver(tracker);
  out.create();
  for (const file of writeDump(out.path, handover)) process.stdout.write(`wrote ${file.path} (${file.bytes} bytes)\n`);
}

async function restore(args: string[]): Promise<void> {
  const { values } = parseArgs({ args: joinNegativeValues(args), options: { in: { type: 'string' } } });
  if (!values.in) throw new UsageError('restore needs --in <dir>');
  const { structure, mem, fdt } = await loadDump(values.in);
  // The walk is cheap next to printing, so it runs twice rather than hold a folio.
  const walk = (sink: FolioSink) => restoreFromMemory(structure, mem, fdt, sink);
  const containers = new Containers();
  walk(containers); // a corrupted image ends here, before a line is printed
  const printer = new FolioPrinter(STDOUT, containers);
  walk(printer);
  printer.flush();
  if (printer.overlaps > 0) process.stderr.write(`kho: warning: ${printer.overlaps} folios overlap folios of another order\n`);
}

await runCli('kho', async () => {
  const [command, ...rest] = process.argv.slice(2);
  const isFlag = (a: string | undefined) => a === '--help' || a === '-h';
  if (isFlag(command) || command === 'help' || (['dump', 'restore', 'time'].includes(command ?? '') && rest.some(isFlag))) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'dump') return dump(rest);
  if (command === 'restore') return restore(rest);
  // Loaded only for `time`: it pulls in the benchmark's job machinery.
  if (command === 'time') return (await import('../../bench/time.ts')).runTime(rest, (t) => process.stdout.write(t));
  throw new UsageError(`unknown command "${command ?? ''}"; ${USAGE.split('\n')[1].trim()} | restore --in <dir>`);
});
