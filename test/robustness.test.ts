/**
 * The next kernel trusts nothing it did not check.
 *
 * The seeded fuzz corrupts every structure's hand-over at random
 * (test/corrupt.ts, CORRUPTIONS): each restore must end, within a fixed
 * budget of metadata objects, in a well-formed restore (every folio aligned
 * and inside RAM) or a typed KhoError. KHO_FUZZ_CASES sets the cases per
 * structure (`npm run test:full` runs 10^5).
 *
 * The attacks (ATTACKS) are crafted on a 16 TiB machine to make the walk
 * loop, repeat itself or flood: each must be refused with ECORRUPT and the
 * message its mechanism calls for, having entered at most one object more
 * than the image holds and reported at most one bitmap page of folios more
 * than the clean image.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFdt } from '../src/fdt/fdt.ts';
import { writeDump } from '../src/kexec/dump.ts';
import type { Handover } from '../src/kexec/kexec.ts';
import { RestoreWalk } from '../src/kexec/restore-walk.ts';
import { PAGE_SIZE, PhysMem } from '../src/ram/phys-mem.ts';
import { isKhoError } from '../src/tracker/errors.ts';
import { STRUCTURE_IDS, type StructureId } from '../src/tracker/tracker.ts';
import { structureSpec } from '../structures/index.ts';
import { ATTACKS, type AttackFn, CORRUPTIONS, REFUSALS, type Refusal, buildAttack, fuzzRestores, seededRandom } from './corrupt.ts';
import { LARGEST, SMALL, runKho, sampleHandover } from './harness.ts';

const ids = (process.env.KHO_STRUCTURES?.split(',') ?? STRUCTURE_IDS) as StructureId[];
const CASES = Number(process.env.KHO_FUZZ_CASES ?? 400);
/** Tries of each attack mechanism (each with other random choices): 3, and 12 in test:full. */
const TRIES = Math.min(12, Math.max(3, Math.round(CASES / 150)));
/** Folios of one bitmap page: what a walk may report before it meets a second entry. */
const PAGE_FOLIOS = PAGE_SIZE * 8;

/** A restore that keeps its walk, to read how far it got when it threw. */
function walkOf(id: StructureId, h: Handover): { walk: RestoreWalk; error?: unknown; ms: number } {
  const walk = new RestoreWalk(PhysMem.fromImage(h.image), { add() {} });
  const started = performance.now();
  try {
    structureSpec(id).restore(walk, readFdt(h.fdt));
    return { walk, ms: performance.now() - started };
  } catch (error) {
    return { walk, error, ms: performance.now() - started };
  }
}

/** How a walk ended: the errno and named refusal, or "restored". */
function outcomeOf(error: unknown): string {
  if (!error) return 'restored';
  const message = error instanceof Error ? error.message : String(error);
  return isKhoError(error) ? `${error.errno} ${refusalOf(message.replace(/^\w+: /, ''))}` : `UNTYPED ${message}`;
}

/**
 * TRIES of one attack mechanism, each checked for its refusal and for the
 * work it took: at most one object more than the clean image's (plus 64
 * per page the attack adds), at most one bitmap page of folios more.
 */
function tryAttack(id: StructureId, h: Handover, clean: RestoreWalk, attack: AttackFn, name: string) {
  const rnd = seededRandom(name.length * 7919 + id.length);
  const tally: Record<string, number> = {};
  const failures: string[] = [];
  let tried = 0;
  let maxMs = 0;
  let maxObjects = 0;
  for (let k = 0; k < TRIES; k++) {
    const built = buildAttack(id, h, attack, rnd);
    if (!built) break;
    tried++;
    const { walk, error, ms } = walkOf(id, built.handover);
    maxMs = Math.max(maxMs, ms);
    maxObjects = Math.max(maxObjects, walk.objectsRead);
    const outcome = outcomeOf(error);
    tally[outcome] = (tally[outcome] ?? 0) + 1;
    if (!built.refusals.some((r) => outcome === `ECORRUPT ${r}`)) failures.push(`try ${k}: ${outcome}, expected ${built.refusals.join(' | ')}`);
    const objectBound = clean.objectsRead + 64 * built.pagesAdded + 1;
    const folioBound = clean.folios + PAGE_FOLIOS * (built.pagesAdded + 1);
    if (walk.objectsRead > objectBound || walk.folios > folioBound) {
      failures.push(`try ${k}: ${walk.objectsRead} objects (bound ${objectBound}), ${walk.folios} folios (bound ${folioBound})`);
    }
  }
  const summary = tried === 0 ? 'not in this format' : `${tried} tried, ${JSON.stringify(tally)}; at most ${maxObjects} objects, ${maxMs.toFixed(1)} ms`;
  return { summary, failures };
}

/** The named refusal a message is, or the message with its numbers masked. */
function refusalOf(message: string): string {
  const known = (Object.keys(REFUSALS) as Refusal[]).find((r) => REFUSALS[r].test(message));
  return known ?? message.replace(/0x[0-9a-f]+/g, '0x…').replace(/\d+/g, 'N');
}

describe.each(ids)('corrupted hand-over: %s', (id) => {
  it(`ends every one of ${CASES} corrupted images in a well-formed restore or a typed error`, () => {
    const { handover, machine, folios } = sampleHandover(id, SMALL);
    const { legitFolios, tally, failures } = fuzzRestores(handover, machine, CASES, 0x4b484f50 ^ id.length);
    expect(legitFolios).toBe(folios);
    console.log(`fuzz ${id}: ${CASES} corrupted images, outcomes ${JSON.stringify(tally)}`);
    expect(failures).toEqual([]);
  }, 60_000 + CASES * 10);

  it(`refuses every attack on a 16 TiB machine (${TRIES} tries of each), entering each object at most once`, () => {
    const { handover } = sampleHandover(id, LARGEST);
    const clean = walkOf(id, handover);
    expect(clean.error).toBeUndefined();
    const runs = Object.entries(ATTACKS).flatMap(([cls, mechanisms]) =>
      Object.entries(mechanisms).map(([name, attack]) => ({ name: `${cls}/${name}`, ...tryAttack(id, handover, clean.walk, attack, name) })),
    );
    console.log(
      `attacks ${id} (clean image: ${clean.walk.objectsRead} objects, ${clean.walk.folios} folios, ${clean.ms.toFixed(1)} ms):\n` +
        runs.map((r) => `  ${r.name}: ${r.summary}`).join('\n'),
    );
    expect(runs.flatMap((r) => r.failures.map((f) => `${r.name} ${f}`))).toEqual([]);
  }, 600_000);

  it('`kho restore` on a corrupted folder exits 0 or 2 with one line and prints only RAM', async () => {
    const { handover, machine } = sampleHandover(id, SMALL);
    const rnd = seededRandom(7);
    const dir = await mkdtemp(join(tmpdir(), `kho-corrupt-${id}-`));
    writeDump(dir, CORRUPTIONS.pointer(CORRUPTIONS['bit-flips'](handover, rnd), rnd));
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
