/**
 * A hand-over on disk, for inspection with other tools:
 *
 *   fdt.dtb       the FDT blob, as the next kernel receives it
 *   machine.json  {"structure": "<id>", "ram": "0x<total bytes>"} and, for
 *                 machines whose RAM is not one bank at 0,
 *                 "banks": [{"start": "0x…", "size": "0x…"}, …]
 *   memory.img    one record per page the tracker holds, ascending:
 *                 the page frame number as 8 little-endian bytes, then
 *                 the page's 4096 bytes
 *
 * Every other page of RAM is garbage to the reader, as to the next kernel.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../cli/guard.ts';
import { writeAtomic } from '../results/io.ts';
import { type Bank, PAGE_SIZE, type RamImage } from '../ram/phys-mem.ts';
import { KhoError } from '../tracker/errors.ts';
import { STRUCTURE_IDS } from '../tracker/tracker.ts';
import type { Handover } from './kexec.ts';

const RECORD = 8 + PAGE_SIZE;
const hexNumber = z
  .string()
  .regex(/^0x[0-9a-f]+$/i, 'expected a hex string like "0x1000"')
  .transform(Number)
  .refine(Number.isSafeInteger, 'too large');

const MachineFile = z.object({
  structure: z.enum(STRUCTURE_IDS),
  ram: hexNumber,
  banks: z.array(z.object({ start: hexNumber, size: hexNumber })).optional(),
});

const hex = (n: number) => `0x${n.toString(16)}`;

export async function writeDump(dir: string, h: Handover): Promise<void> {
  const banks = h.image.banks;
  const total = banks.reduce((s, b) => s + b.size, 0);
  const single = banks.length === 1 && banks[0].start === 0;
  const machine = {
    structure: h.structure,
    ram: hex(total),
    ...(single ? {} : { banks: banks.map((b) => ({ start: hex(b.start), size: hex(b.size) })) }),
  };
  const pages = [...h.image.pfns].map((pfn, i) => [pfn, i] as const);
  const zeros = [...h.image.zeroPfns].map((pfn) => [pfn, -1] as const);
  const all = [...pages, ...zeros].sort((a, b) => a[0] - b[0]);
  const img = new Uint8Array(all.length * RECORD);
  const view = new DataView(img.buffer);
  all.forEach(([pfn, i], r) => {
    view.setUint32(r * RECORD, pfn >>> 0, true);
    view.setUint32(r * RECORD + 4, Math.floor(pfn / 4294967296), true);
    if (i >= 0) img.set(h.image.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), r * RECORD + 8);
  });
  writeAtomic(join(dir, 'fdt.dtb'), h.fdt);
  writeAtomic(join(dir, 'memory.img'), img);
  writeAtomic(join(dir, 'machine.json'), `${JSON.stringify(machine, null, 2)}\n`);
}

export async function readDump(dir: string): Promise<Handover> {
  const machineText = await readFile(join(dir, 'machine.json'), 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(machineText);
  } catch {
    throw new UsageError(`${join(dir, 'machine.json')} is not valid JSON`);
  }
  const parsed = MachineFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${join(dir, 'machine.json')}: ${issue.path.join('.') || 'root'}: ${issue.message}`);
  }
  const machine = parsed.data;
  const banks: Bank[] = machine.banks ?? [{ start: 0, size: machine.ram }];
  if (banks.reduce((s, b) => s + b.size, 0) !== machine.ram) {
    throw new UsageError(`${join(dir, 'machine.json')}: "ram" is not the sum of "banks"`);
  }
  const fdt = new Uint8Array(await readFile(join(dir, 'fdt.dtb')));
  const img = new Uint8Array(await readFile(join(dir, 'memory.img')));
  return { structure: machine.structure, image: parseImage(img, banks), fdt };
}

function parseImage(img: Uint8Array, banks: Bank[]): RamImage {
  if (img.length % RECORD !== 0) throw new KhoError('ECORRUPT', `memory.img is ${img.length} bytes, not whole records`);
  const n = img.length / RECORD;
  const view = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const pfns = new Float64Array(n);
  const data = new Uint8Array(n * PAGE_SIZE);
  for (let r = 0; r < n; r++) {
    const pfn = view.getUint32(r * RECORD, true) + view.getUint32(r * RECORD + 4, true) * 4294967296;
    const pa = pfn * PAGE_SIZE;
    if (r > 0 && pfn <= pfns[r - 1]) throw new KhoError('ECORRUPT', 'memory.img page frames are not ascending');
    if (!banks.some((b) => pa >= b.start && pa + PAGE_SIZE <= b.start + b.size)) {
      throw new KhoError('ECORRUPT', `memory.img holds page ${hex(pa)} outside RAM`);
    }
    pfns[r] = pfn;
    data.set(img.subarray(r * RECORD + 8, (r + 1) * RECORD), r * PAGE_SIZE);
  }
  return { banks, pfns, data, zeroPfns: new Float64Array(0) };
}
