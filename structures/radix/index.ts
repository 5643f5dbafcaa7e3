import type { StructureSpec } from '../index.ts';
import { KHO_V4 } from '../../src/tracker/kho-abi.ts';
import { RADIX_LIFECYCLE, RadixTracker, restoreRadix } from './radix.ts';

export const radix: StructureSpec = {
  id: 'radix',
  title: 'KHO radix tree (merged)',
  folder: 'structures/radix',
  lifecycle: RADIX_LIFECYCLE,
  abi: KHO_V4,
  create: (machine) => new RadixTracker(machine),
  restore: restoreRadix,
};
