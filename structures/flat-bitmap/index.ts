import type { StructureSpec } from '../index.ts';
import { FLAT_ABI, FLAT_LIFECYCLE, FlatBitmapTracker, restoreFlatBitmap } from './flat-bitmap.ts';

export const flatBitmap: StructureSpec = {
  id: 'flat-bitmap',
  title: 'flat bitmap (lower bound)',
  folder: 'structures/flat-bitmap',
  lifecycle: FLAT_LIFECYCLE,
  abi: FLAT_ABI,
  create: (machine) => new FlatBitmapTracker(machine),
  restore: restoreFlatBitmap,
};
