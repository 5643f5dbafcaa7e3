/**
 * Titles and format descriptions of the structures, from the registry
 * (structures/index.ts) and each structure's README. The registry imports
 * every implementation; if one fails to load, the report still renders
 * with the fallback table below. The README text is read here so that the
 * report can carry it: nothing in a published report points into a
 * checkout.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDesignPoint } from './metrics.ts';

export interface StructureInfo {
  id: string;
  title: string;
  /** Folder relative to the repository root. */
  folder: string;
  /** The folder's README.md (format and departures from the kernel), if it exists. */
  readme?: string;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const FALLBACK: Record<string, { title: string; folder: string }> = {
  'flat-bitmap': { title: 'flat bitmap (lower bound)', folder: 'structures/flat-bitmap' },
  'xarray-6.16': { title: 'xarray + 512-byte bitmaps, serialized (6.16)', folder: 'structures/xarray' },
  'xarray-6.18': { title: 'xarray + page bitmaps, serialized (6.18)', folder: 'structures/xarray' },
  ida: { title: 'IDA-shaped tree', folder: 'structures/ida' },
  'radix-rfc': { title: 'RFC v1 per-order page tables', folder: 'structures/radix-rfc' },
  radix: { title: 'KHO radix tree (merged)', folder: 'structures/radix' },
};

/** The design-space family's points share one folder and README; they are not in the registry (structures/family/index.ts). */
const FAMILY = { title: 'a point of the tracker family', folder: 'structures/family' };

let registry: Record<string, { title: string; folder: string }> | undefined;

async function loadRegistry(): Promise<Record<string, { title: string; folder: string }>> {
  if (registry) return registry;
  try {
    const mod = await import('../../structures/index.ts');
    const out: Record<string, { title: string; folder: string }> = {};
    for (const [id, spec] of Object.entries(mod.STRUCTURES)) out[id] = { title: spec.title, folder: spec.folder };
    registry = out;
  } catch {
    registry = FALLBACK;
  }
  return registry;
}

/** Info for every id; undefined for ids the suite does not know (e.g. from a foreign results file). */
export async function structureInfos(ids: readonly string[]): Promise<Map<string, StructureInfo | undefined>> {
  const reg = await loadRegistry();
  const out = new Map<string, StructureInfo | undefined>();
  for (const id of ids) {
    const known = Object.hasOwn(reg, id) ? reg[id] : (FALLBACK[id] ?? (isDesignPoint(id) ? FAMILY : undefined));
    if (!known) {
      out.set(id, undefined);
      continue;
    }
    const file = path.join(REPO_ROOT, known.folder, 'README.md');
    const readme = existsSync(file) ? await readFile(file, 'utf8') : undefined;
    out.set(id, { id, title: known.title, folder: known.folder, ...(readme !== undefined ? { readme } : {}) });
  }
  return out;
}
