import type { StructureSpec } from '../index.ts';
import { RadixTracker, restoreRadix } from './radix.ts';

export const radix: StructureSpec = {
  id: 'radix',
  title: 'KHO radix tree (merged)',
  folder: 'structures/radix',
  create: (machine) => new RadixTracker(machine),
  restore: restoreRadix,
};
