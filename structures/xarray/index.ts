import type { StructureSpec } from '../index.ts';
import { XarrayTracker, restoreXarray } from './kho-xarray.ts';

/** 6.16 and 6.17: 512-byte bitmaps from kmalloc-512. */
export const PRESERVE_BITS_6_16 = 4096;
/** 6.18: one whole zeroed page per bitmap. */
export const PRESERVE_BITS_6_18 = 32768;

export const xarray616: StructureSpec = {
  id: 'xarray-6.16',
  title: 'xarray + 512-byte bitmaps, serialized (6.16)',
  folder: 'structures/xarray',
  create: (machine) => new XarrayTracker(machine, 'xarray-6.16', PRESERVE_BITS_6_16),
  restore: restoreXarray(PRESERVE_BITS_6_16),
};

export const xarray618: StructureSpec = {
  id: 'xarray-6.18',
  title: 'xarray + page bitmaps, serialized (6.18)',
  folder: 'structures/xarray',
  create: (machine) => new XarrayTracker(machine, 'xarray-6.18', PRESERVE_BITS_6_18),
  restore: restoreXarray(PRESERVE_BITS_6_18),
};
