import type { StructureSpec } from '../index.ts';
import { KHO_V4 } from '../../src/tracker/kho-abi.ts';
import { KHO_ARRAY_LIFECYCLE, KhoArrayTracker, restoreKhoArray } from './kho-array.ts';

export const khoArray: StructureSpec = {
  id: 'kho-array',
  title: "KHO array: runs in page blocks, in place (Gunthorpe's bound)",
  folder: 'structures/kho-array',
  lifecycle: KHO_ARRAY_LIFECYCLE,
  abi: KHO_V4,
  create: (machine) => new KhoArrayTracker(machine),
  restore: restoreKhoArray,
};
