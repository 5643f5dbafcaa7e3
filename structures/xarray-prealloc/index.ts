import type { StructureSpec } from '../index.ts';
import { KHO_V1 } from '../../src/tracker/kho-abi.ts';
import { xarray618 } from '../xarray/index.ts';
import { PREALLOC_LIFECYCLE, PreallocXarrayTracker } from './xarray-prealloc.ts';

/** 6.18's format and restore; chunks preallocated as the bitmaps grow; 6.19's lifecycle. */
export const xarrayPrealloc: StructureSpec = {
  id: 'xarray-prealloc',
  title: 'xarray + page bitmaps, chunks preallocated, serialized at kexec (Rapoport)',
  folder: 'structures/xarray-prealloc',
  lifecycle: PREALLOC_LIFECYCLE,
  abi: KHO_V1,
  create: (machine) => new PreallocXarrayTracker(machine),
  restore: xarray618.restore,
};
