/**
 * The next kernel trusts nothing it did not check. Seeded fuzz: every
 * structure's hand-over is corrupted in many ways (test/corrupt.ts), and
 * each restore must end, within a fixed budget of metadata objects, in a
 * well-formed restore (every folio aligned and inside RAM) or a typed
 * KhoError. KHO_FUZZ_CASES sets the cases per structure (`npm run
 * test:full` runs 10^5).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDump } from '../src/kexec/dump.ts';
import { FolioList, handOver, restoreHandover, type Handover } from '../src/kexec/kexec.ts';
import { Machine } from '../src/ram/machine.ts';
import { PAGE_SIZE } from '../src/ram/phys-mem.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { STRUCTURE_IDS, type StructureId } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';
import { CORRUPTIONS, type CorruptionKind, seededRandom } from './corrupt.ts';
import { runKho } from './harness.ts';

const ids = (process.env.KHO_STRUCTURES?.split(',') ?? STRUCTURE_IDS) as StructureId[];
const CASES = Number(process.env.KHO_FUZZ_CASES ?? 400);
// The slowest structure (flat-bitmap, which scans whole bitmaps) takes about 3 ms a case.
const GiB = 2 ** 30;
const KINDS = Object.keys(CORRUPTIONS) as CorruptionKind[];

/** A hand-over with several orders, dense and sparse parts, and (for xarray) more than one chunk. */
function sampleHandover(id: StructureId): { handover: Handover; machine: Machine; folios: number } {
  const machine = new Machine({ banks: [{ start: 0, size: 5 * GiB }, { start: 2 ** 51, size: 2 * GiB }] });
  const tracker = structureSpec(id).create(machine);
  let folios = 0;
  const keep = (phys: number, order: number) => {
    tracker.preserve(phys, order);
    folios++;
  };
  for (let i = 0; i < 300; i++) keep(i * 16 * 2 ** 20 + PAGE_SIZE * (i % 7), 0);
  for (let i = 0; i < 64; i++) keep(2 * GiB + 2 ** 23 + i * PAGE_SIZE, 0);
  for (let i = 0; i < 16; i++) keep(3 * GiB + i * 2 ** 21, 9);
  keep(4 * GiB, 18);
  for (let o = 1; o <= 10; o++) keep(2 ** 51 + o * 2 ** 26, o);
  return { handover: handOver(tracker), machine, folios };
}

class CheckedSink extends FolioList {
  constructor(private readonly machine: Machine) {
    super();
  }

  override add(phys: number, order: number): void {
    const size = PAGE_SIZE * 2 ** order;
    if (!(order >= 0 && order <= 18 && phys % size === 0 && this.machine.mem.contains(phys, size))) {
      throw new Error(`restore reported 0x${phys.toString(16)} order ${order}, not aligned RAM`);
    }
    super.add(phys, order);
  }
}

describe.each(ids)('corrupted hand-over: %s', (id) => {
  it(`ends every one of ${CASES} corrupted images in a well-formed restore or a typed error`, () => {
    const { handover, machine, folios } = sampleHandover(id);
    const clean = new CheckedSink(machine);
    const legit = restoreHandover(handover, clean);
    expect(legit.folios).toBe(folios);
    const maxObjects = 4 * legit.metadataObjectsRead + 64;

    const rnd = seededRandom(0x4b484f50 ^ id.length);
    const tally: Record<string, number> = {};
    const failures: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const kind = KINDS[i % KINDS.length];
      const damaged = CORRUPTIONS[kind](handover, rnd);
      let outcome: string;
      try {
        restoreHandover(damaged, new CheckedSink(machine), { maxObjects });
        outcome = 'restored';
      } catch (e) {
        if (isKhoError(e)) outcome = e.errno;
        else {
          outcome = 'UNTYPED';
          if (failures.length < 5) failures.push(`case ${i} (${kind}): ${(e as Error).message}`);
        }
      }
      tally[outcome] = (tally[outcome] ?? 0) + 1;
    }
    console.log(`fuzz ${id}: ${CASES} corrupted images, outcomes ${JSON.stringify(tally)}`);
    expect(failures).toEqual([]);
  }, 60_000 + CASES * 10);

  it('`kho restore` on a corrupted folder exits 0 or 2 with one line and prints only RAM', async () => {
    const { handover, machine } = sampleHandover(id);
    const rnd = seededRandom(7);
    const dir = await mkdtemp(join(tmpdir(), `kho-corrupt-${id}-`));
    await writeDump(dir, CORRUPTIONS.pointer(CORRUPTIONS['bit-flips'](handover, rnd), rnd));
    const result = await runKho('restore', '--in', dir);
    expect([0, 2]).toContain(result.code);
    expect(result.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    for (const line of result.stdout.split('\n').filter(Boolean)) {
      const [phys, order] = line.split(' ');
      expect(machine.mem.contains(Number(phys), PAGE_SIZE * 2 ** Number(order))).toBe(true);
    }
  });
});
