import { notImplemented } from '../not-implemented.ts';
import type { StructureSpec } from '../index.ts';

export const ida: StructureSpec = notImplemented('ida', 'structures/ida');
