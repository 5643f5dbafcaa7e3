import { notImplemented } from '../not-implemented.ts';
import type { StructureSpec } from '../index.ts';

export const radixRfc: StructureSpec = notImplemented('radix-rfc', 'structures/radix-rfc');
