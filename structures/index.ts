/**
 * The registry of trackers. Every consumer (conformance suite, kexec
 * boundary, CLI, benchmark runner, report) finds structures here, so a new
 * structure joins the whole suite by adding one line to STRUCTURES.
 */
import type { Machine } from '../src/ram/machine.ts';
import type { KhoAbi } from '../src/tracker/kho-abi.ts';
import type { Lifecycle, RestoreFn, StructureId, Tracker } from '../src/tracker/tracker.ts';
import { FAMILY_ABI, familySpec, isFamilyId } from './family/index.ts';
import { flatBitmap } from './flat-bitmap/index.ts';
import { ida } from './ida/index.ts';
import { khoArray } from './kho-array/index.ts';
import { radixRfc } from './radix-rfc/index.ts';
import { radix } from './radix/index.ts';
import { xarray616, xarray618, xarray619 } from './xarray/index.ts';
import { xarrayPrealloc } from './xarray-prealloc/index.ts';

export interface StructureSpec {
  readonly id: StructureId;
  /** One line for tables and charts. */
  readonly title: string;
  /** The folder holding the structure's README (its format and departures from the kernel). */
  readonly folder: string;
  /** What its kernel version lets users do: which operations exist, what abort and finalize do. */
  readonly lifecycle: Lifecycle;
  /** Its FDT ABI: the root compatible and how client subtrees are referenced. */
  readonly abi: KhoAbi;
  /**
   * The highest order it can preserve, where that is below MAX_ORDER
   * (radix-rfc: 9, RFC v1's HUGETLB_PAGE_ORDER); preserve above it is ERANGE.
   */
  readonly maxOrder?: number;
  create(machine: Machine): Tracker;
  readonly restore: RestoreFn;
}

export const STRUCTURES: Readonly<Record<StructureId, StructureSpec>> = {
  'flat-bitmap': flatBitmap,
  'xarray-6.16': xarray616,
  'xarray-6.18': xarray618,
  'xarray-6.19': xarray619,
  ida,
  'radix-rfc': radixRfc,
  radix,
  'xarray-prealloc': xarrayPrealloc,
  'kho-array': khoArray,
};

/** The ABI of a root FDT's compatible string (every structure of one compatible shares its subtree properties). */
export function abiOfCompatible(compatible: string | undefined): KhoAbi | undefined {
  if (compatible === FAMILY_ABI.compatible) return FAMILY_ABI;
  return Object.values(STRUCTURES).find((s) => s.abi.compatible === compatible)?.abi;
}

/**
 * A registered structure, or a point of the design-space family
 * (structures/family: not registered, so that not every benchmark runs
 * all 32). Own properties only: "__proto__" or "toString" is an unknown
 * id, not an inherited object.
 */
export function structureSpec(id: string): StructureSpec {
  if (Object.hasOwn(STRUCTURES, id)) return STRUCTURES[id as keyof typeof STRUCTURES];
  if (isFamilyId(id)) return familySpec(id);
  throw new Error(`unknown structure "${id}" (known: ${Object.keys(STRUCTURES).join(', ')}, and the family's fam-l<leaf>-f<fanout>-<key|perorder>-<bitmap|extent>)`);
}
