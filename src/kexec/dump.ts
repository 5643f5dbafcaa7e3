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
 * A dump folder is untrusted input: each file must be a regular file inside
 * the folder and within a size bound before a byte of it is read. Reading
 * memory.img puts each page straight into the next kernel's memory, a
 * chunk of records at a time: the image is never held twice.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../cli/guard.ts';
import { openInput, readExactly, readInput, readTextInput } from '../cli/input-file.ts';
import { writeAtomic } from '../results/io.ts';
import { type Bank, MAX_RAM, PAGE_SIZE, PHYS_LIMIT, PhysMem, type RamImage } from '../ram/phys-mem.ts';
import { KhoError, hex } from '../tracker/errors.ts';
import { STRUCTURE_IDS, type StructureId } from '../tracker/tracker.ts';
import type { Handover } from './kexec.ts';

const RECORD = 8 + PAGE_SIZE;
/** The next kernel's memblock starts with a static array of 128 regions (INIT_MEMBLOCK_REGIONS). */
export const MAX_BANKS = 128;
/** 128 banks take under 10 KiB of machine.json. */
const MAX_MACHINE_BYTES = 64 * 1024;
/**
 * 2^20 pages (4 GiB): four times the flat bitmap of a 16 TiB machine (the
 * least metadata any tracker needs there), and half of what the next
 * kernel's simulated memory holds.
 */
const MAX_RECORDS = 2 ** 20;
/** Records read (and written) at a time: 1 MiB, so no copy of the whole image is ever made. */
const CHUNK_RECORDS = 256;

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

/**
 * The banks in address order, or a UsageError naming `where` and the bank.
 * Overlapping banks would make RAM (and every folio in it) appear twice.
 */
export function checkBanks(banks: readonly Bank[], where: string): Bank[] {
  const fail = (why: string): never => {
    throw new UsageError(`${where}: ${why}`);
  };
  if (banks.length === 0) fail('no RAM banks');
  if (banks.length > MAX_BANKS) fail(`${banks.length} RAM banks, more than the ${MAX_BANKS} memblock starts with`);
  const label = (b: Bank) => `RAM bank ${hex(b.start)}+${hex(b.size)}`;
  for (const b of banks) {
    if (b.size === 0) fail(`${label(b)} is empty`);
    if (b.start % PAGE_SIZE || b.size % PAGE_SIZE) fail(`${label(b)} is not page aligned`);
    if (b.start + b.size > PHYS_LIMIT) fail(`${label(b)} ends above 2^52`);
  }
  const sorted = [...banks].sort((a, b) => a.start - b.start);
  sorted.forEach((b, i) => {
    const prev = sorted[i - 1];
    if (prev && b.start === prev.start && b.size === prev.size) fail(`${label(b)} is listed twice`);
    if (prev && b.start < prev.start + prev.size) fail(`${label(b)} overlaps ${label(prev)}`);
  });
  const total = banks.reduce((s, b) => s + b.size, 0);
  if (total > MAX_RAM) fail(`${hex(total)} bytes of RAM, more than 16 TiB`);
  return sorted;
}

export interface WrittenFile {
  readonly path: string;
  readonly bytes: number;
}

/** Writes the three files into `dir`, which must exist. */
export function writeDump(dir: string, h: Handover): WrittenFile[] {
  const banks = h.image.banks;
  const total = banks.reduce((s, b) => s + b.size, 0);
  const single = banks.length === 1 && banks[0].start === 0;
  const machine = {
    structure: h.structure,
    ram: hex(total),
    ...(single ? {} : { banks: banks.map((b) => ({ start: hex(b.start), size: hex(b.size) })) }),
  };
  const files: [string, string | Uint8Array | Iterable<Uint8Array>][] = [
    ['fdt.dtb', h.fdt],
    ['memory.img', imageRecords(h.image)],
    ['machine.json', `${JSON.stringify(machine, null, 2)}\n`],
  ];
  return files.map(([name, data]) => {
    const path = join(dir, name);
    return { path, bytes: writeAtomic(path, data) };
  });
}

/** memory.img, a chunk of records at a time, since a whole image can exceed the largest typed array. */
function* imageRecords(image: RamImage): Generator<Uint8Array> {
  const pages = [...image.pfns].map((pfn, i) => [pfn, i] as const);
  const zeros = [...image.zeroPfns].map((pfn) => [pfn, -1] as const);
  const all = [...pages, ...zeros].sort((a, b) => a[0] - b[0]);
  for (let first = 0; first < all.length; first += CHUNK_RECORDS) {
    const records = all.slice(first, first + CHUNK_RECORDS);
    const chunk = new Uint8Array(records.length * RECORD);
    const view = new DataView(chunk.buffer);
    records.forEach(([pfn, i], r) => {
      view.setUint32(r * RECORD, pfn >>> 0, true);
      view.setUint32(r * RECORD + 4, Math.floor(pfn / 2 ** 32), true);
      if (i >= 0) chunk.set(image.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), r * RECORD + 8);
    });
    yield chunk;
  }
}

/** A dump as the next kernel finds it: its memory rebuilt from memory.img (only those pages hold bytes), and the FDT. */
export interface LoadedDump {
  readonly structure: StructureId;
  readonly mem: PhysMem;
  readonly fdt: Uint8Array;
}

export async function loadDump(dir: string): Promise<LoadedDump> {
  const machinePath = join(dir, 'machine.json');
  const text = await readTextInput(machinePath, { maxBytes: MAX_MACHINE_BYTES, why: `${MAX_BANKS} banks fit in far less`, within: dir });
  const { structure, banks } = parseMachine(machinePath, text);
  const fdt = await readInput(join(dir, 'fdt.dtb'), { maxBytes: PAGE_SIZE, why: 'the KHO root FDT is one page', within: dir });
  return { structure, mem: await loadImage(join(dir, 'memory.img'), banks, dir), fdt };
}

function parseMachine(path: string, text: string): { structure: Handover['structure']; banks: Bank[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
  const parsed = MachineFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${path}: ${issue.path.join('.') || 'root'}: ${issue.message}`);
  }
  const machine = parsed.data;
  const banks = checkBanks(machine.banks ?? [{ start: 0, size: machine.ram }], path);
  if (banks.reduce((s, b) => s + b.size, 0) !== machine.ram) throw new UsageError(`${path}: "ram" is not the sum of "banks"`);
  return { structure: machine.structure, banks };
}

/** The next kernel's memory, holding the pages of memory.img; `banks` are in address order. */
async function loadImage(path: string, banks: readonly Bank[], dir: string): Promise<PhysMem> {
  const why = `${MAX_RECORDS} pages, four times the flat bitmap of a 16 TiB machine`;
  const input = await openInput(path, { maxBytes: MAX_RECORDS * RECORD, why, within: dir });
  try {
    if (input.size % RECORD) throw new UsageError(`${path} is ${input.size} bytes, not a whole number of ${RECORD}-byte records`);
    const n = input.size / RECORD;
    const mem = PhysMem.forCarriedPages(banks, n);
    const chunk = new Uint8Array(Math.min(n, CHUNK_RECORDS) * RECORD);
    const view = new DataView(chunk.buffer);
    let bank = 0;
    let prev = -1;
    for (let first = 0; first < n; first += CHUNK_RECORDS) {
      const count = Math.min(CHUNK_RECORDS, n - first);
      await readExactly(input, path, chunk.subarray(0, count * RECORD), first * RECORD);
      for (let i = 0; i < count; i++) {
        const pfn = view.getUint32(i * RECORD, true) + view.getUint32(i * RECORD + 4, true) * 2 ** 32;
        const pa = pfn * PAGE_SIZE;
        if (pfn <= prev) throw new KhoError('ECORRUPT', `${path}: page frames are not ascending at record ${first + i}`);
        while (bank < banks.length && pa >= banks[bank].start + banks[bank].size) bank++;
        if (bank === banks.length || pa < banks[bank].start) throw new KhoError('ECORRUPT', `${path} holds page ${hex(pa)} outside RAM`);
        mem.carry(pfn, chunk.subarray(i * RECORD + 8, (i + 1) * RECORD));
        prev = pfn;
      }
    }
    return mem;
  } finally {
    await input.handle.close();
  }
}
