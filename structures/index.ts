/**
 * The registry of trackers. Every consumer (conformance suite, kexec
 * boundary, CLI, benchmark runner, report) finds structures here, so a new
 * structure joins the whole suite by adding one line to STRUCTURES.
 */
import type { Machine } from '../src/ram/machine.ts';
import type { RestoreFn, StructureId, Tracker } from '../src/tracker/tracker.ts';
import { flatBitmap } from './flat-bitmap/index.ts';
import { ida } from './ida/index.ts';
import { radixRfc } from './radix-rfc/index.ts';
import { radix } from './radix/index.ts';
import { xarray616, xarray618 } from './xarray/index.ts';

export interface StructureSpec {
  readonly id: StructureId;
  /** One line for tables and charts. */
  readonly title: string;
  /** The folder holding the structure's README (its format and departures from the kernel). */
  readonly folder: string;
  create(machine: Machine): Tracker;
  readonly restore: RestoreFn;
}

export const STRUCTURES: Readonly<Record<StructureId, StructureSpec>> = {
  'flat-bitmap': flatBitmap,
  'xarray-6.16': xarray616,
  'xarray-6.18': xarray618,
  ida,
  'radix-rfc': radixRfc,
  radix,
};

/** Own properties only: "__proto__" or "toString" is an unknown id, not an inherited object. */
export function structureSpec(id: string): StructureSpec {
  if (!Object.hasOwn(STRUCTURES, id)) throw new Error(`unknown structure "${id}" (known: ${Object.keys(STRUCTURES).join(', ')})`);
  return STRUCTURES[id as StructureId];
}
