import { notImplemented } from '../not-implemented.ts';
import type { StructureSpec } from '../index.ts';

export const radix: StructureSpec = notImplemented('radix', 'structures/radix');
