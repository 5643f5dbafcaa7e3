import type { StructureSpec } from '../index.ts';
import { IDA_ABI, IDA_LIFECYCLE, IdaTracker, restoreIda } from './ida.ts';

export const ida: StructureSpec = {
  id: 'ida',
  title: 'IDA per order (xarray of 1024-bit bitmaps, in place)',
  folder: 'structures/ida',
  lifecycle: IDA_LIFECYCLE,
  abi: IDA_ABI,
  create: (machine) => new IdaTracker(machine),
  restore: restoreIda,
};
