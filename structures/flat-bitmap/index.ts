import type { StructureSpec } from '../index.ts';
import { FlatBitmapTracker, restoreFlatBitmap } from './flat-bitmap.ts';

export const flatBitmap: StructureSpec = {
  id: 'flat-bitmap',
  title: 'flat bitmap (lower bound)',
  folder: 'structures/flat-bitmap',
  create: (machine) => new FlatBitmapTracker(machine),
  restore: restoreFlatBitmap,
};
