import { notImplemented } from '../not-implemented.ts';
import type { StructureSpec } from '../index.ts';

export const xarray616: StructureSpec = notImplemented('xarray-6.16', 'structures/xarray');
export const xarray618: StructureSpec = notImplemented('xarray-6.18', 'structures/xarray');
