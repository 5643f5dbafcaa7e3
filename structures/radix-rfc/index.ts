import type { StructureSpec } from '../index.ts';
import { KHO_V1 } from '../../src/tracker/kho-abi.ts';
import { RFC_LIFECYCLE, RFC_MAX_ORDER, RadixRfcTracker, restoreRadixRfc } from './radix-rfc.ts';

export const radixRfc: StructureSpec = {
  id: 'radix-rfc',
  title: 'KHO page tables per order (RFC v1)',
  folder: 'structures/radix-rfc',
  lifecycle: RFC_LIFECYCLE,
  abi: KHO_V1,
  maxOrder: RFC_MAX_ORDER,
  create: (machine) => new RadixRfcTracker(machine),
  restore: restoreRadixRfc,
};
