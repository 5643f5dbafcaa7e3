/**
 * `npm run kho -- <command>`: inspect what a tracker hands over.
 *
 *   dump --structure <id> --ops <ops.json> [--ram <size>] --out <dir>
 *       runs the operations on a fresh machine, finalizes, writes the
 *       hand-over (fdt.dtb, memory.img, machine.json) into <dir> (a new or
 *       empty folder) and prints "wrote <file> (<n> bytes)" per file
 *   restore --in <dir>
 *       the next kernel: prints "0x<phys> <order>" per restored folio,
 *       sorted by address then order
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { checkBanks, readDump, writeDump } from '../kexec/dump.ts';
import { FolioList, handOver, restoreHandover } from '../kexec/kexec.ts';
import { Machine } from '../ram/machine.ts';
import { structureSpec } from '../../structures/index.ts';
import { UsageError, joinNegativeValues, runCli } from './guard.ts';
import { readTextInput } from './input-file.ts';
import { prepareOutDir } from './out-dir.ts';
import { parseRam, parseSize } from './sizes.ts';

const USAGE = `usage:
  npm run kho -- dump --structure <id> --ops <ops.json> [--ram <size>] --out <dir>
  npm run kho -- restore --in <dir>
ops.json: [{"op": "preserve" | "unpreserve" | "preserve-range", "phys": "0x…", "order": n, "size": "0x…"}, …]
--ram: a size (64G, 0x1000000000; default 64G) or banks SIZE@START,SIZE@START`;

const Op = z.discriminatedUnion('op', [
  z.object({ op: z.literal('preserve'), phys: z.string(), order: z.number().int() }),
  z.object({ op: z.literal('unpreserve'), phys: z.string(), order: z.number().int() }),
  z.object({ op: z.literal('preserve-range'), phys: z.string(), size: z.string() }),
]);
const Ops = z.array(Op);

/** About 300 000 operations: inspection inputs, not benchmark workloads (those are scenarios). */
const MAX_OPS_BYTES = 16 * 2 ** 20;

async function readOps(path: string): Promise<z.infer<typeof Ops>> {
  const text = await readTextInput(path, { maxBytes: MAX_OPS_BYTES, why: 'inspection inputs are small; benchmark workloads are scenarios' });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = Ops.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${path}: operation ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
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
    const phys = parseSize(op.phys, `operation ${i} phys`);
    try {
      if (op.op === 'preserve-range') tracker.preserveRange(phys, parseSize(op.size, `operation ${i} size`));
      else if (op.op === 'preserve') tracker.preserve(phys, op.order);
      else tracker.unpreserve(phys, op.order);
    } catch (e) {
      throw Object.assign(e as Error, { message: `operation ${i} (${op.op} ${op.phys}): ${(e as Error).message}` });
    }
  });
  const handover = handOver(tracker);
  out.create();
  for (const file of writeDump(out.path, handover)) process.stdout.write(`wrote ${file.path} (${file.bytes} bytes)\n`);
}

async function restore(args: string[]): Promise<void> {
  const { values } = parseArgs({ args: joinNegativeValues(args), options: { in: { type: 'string' } } });
  if (!values.in) throw new UsageError('restore needs --in <dir>');
  const list = new FolioList();
  restoreHandover(await readDump(values.in), list);
  const flat = list.toArray();
  const folios: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) folios.push([flat[i], flat[i + 1]]);
  folios.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  process.stdout.write(folios.map(([p, o]) => `0x${p.toString(16)} ${o}\n`).join(''));
}

await runCli('kho', async () => {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'dump') return dump(rest);
  if (command === 'restore') return restore(rest);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  throw new UsageError(`unknown command "${command ?? ''}"; ${USAGE.split('\n')[1].trim()} | restore --in <dir>`);
});
