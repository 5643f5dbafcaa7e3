import type { StructureSpec } from '../index.ts';
import { IdaTracker, restoreIda } from './ida.ts';

export const ida: StructureSpec = {
  id: 'ida',
  title: 'IDA per order (xarray of 1024-bit bitmaps, in place)',
  folder: 'structures/ida',
  create: (machine) => new IdaTracker(machine),
  restore: restoreIda,
};
