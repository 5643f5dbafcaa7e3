import type { StructureSpec } from '../index.ts';
import { RadixRfcTracker, restoreRadixRfc } from './radix-rfc.ts';

export const radixRfc: StructureSpec = {
  id: 'radix-rfc',
  title: 'KHO page tables per order (RFC v1)',
  folder: 'structures/radix-rfc',
  create: (machine) => new RadixRfcTracker(machine),
  restore: restoreRadixRfc,
};
