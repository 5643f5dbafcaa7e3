/**
 * The family's points as structure specs. They are not in the registry
 * (structures/index.ts): a consumer that wants them (a suite, the
 * design-space sweep) takes FAMILY or familySpec(id).
 */
import type { StructureSpec } from '../index.ts';
import {
  ALL_PARAMS,
  FAMILY_ABI,
  FamilyTracker,
  familyId,
  familyLevels,
  familyLifecycle,
  restoreFamily,
  type FamilyId,
  type FamilyParams,
} from './family.ts';

export { FAMILY_ABI, FAMILY_COMPATIBLE, FamilyTracker, familyId, familyLevels, restoreFamily, tableLevels } from './family.ts';
export type { FamilyId, FamilyParams, Fanout, LeafBytes, LeafKind, OrderEncoding } from './family.ts';

export interface FamilySpec extends StructureSpec {
  /** The point's parameters. */
  readonly params: FamilyParams;
  /** Levels of each order's path, the leaf included (index: order 0..18). */
  readonly levels: readonly number[];
}

const ENCODING_TITLE = { key: 'order-bit key', perorder: 'per-order trees' } as const;
const KIND_TITLE = { bitmap: 'bitmap', extent: 'extent-list' } as const;

function size(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function specOf(params: FamilyParams): FamilySpec {
  const id = familyId(params);
  const lifecycle = familyLifecycle(id);
  const levels = Array.from({ length: 19 }, (_, o) => familyLevels(params, o));
  return {
    id,
    title: `family: ${size(params.leafBytes)} ${KIND_TITLE[params.leafKind]} leaves, ${params.fanout}-entry tables, ${ENCODING_TITLE[params.encoding]} (${levels[0]} levels at order 0)`,
    folder: 'structures/family',
    lifecycle,
    abi: FAMILY_ABI,
    params,
    levels,
    create: (machine) => new FamilyTracker(machine, params, id, lifecycle),
    restore: restoreFamily,
  };
}

/** The 32 points: leaf bytes 64, 128, 512, 4096 x fanout 64, 512 x key, perorder x bitmap, extent. */
export const FAMILY: readonly FamilySpec[] = ALL_PARAMS.map(specOf);

export const FAMILY_IDS: readonly FamilyId[] = ALL_PARAMS.map(familyId);

const KNOWN: ReadonlySet<string> = new Set(FAMILY_IDS);

export function isFamilyId(id: string): boolean {
  return KNOWN.has(id);
}

/** Own entries only, as structureSpec: an unknown id is an error naming the known ones. */
export function familySpec(id: string): FamilySpec {
  const spec = FAMILY.find((s) => s.id === id);
  if (!spec) throw new Error(`unknown family point "${id}" (known: ${FAMILY_IDS.join(', ')})`);
  return spec;
}
