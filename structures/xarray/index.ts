import type { StructureSpec } from '../index.ts';
import type { Lifecycle } from '../../src/tracker/tracker.ts';
import { KHO_V1 } from '../../src/tracker/kho-abi.ts';
import { XarrayTracker, restoreXarray } from './kho-xarray.ts';

/** 6.16 and 6.17: 512-byte bitmaps from kmalloc-512. */
export const PRESERVE_BITS_6_16 = 4096;
/** 6.18 and 6.19: one whole zeroed page per bitmap. */
export const PRESERVE_BITS_6_18 = 32768;

/**
 * 6.16 .. 6.18: no unpreserve export (the only bit clearing is the rollback
 * of a failed range preserve); kho_abort is destructive, and a finalize
 * that fails part-way calls it; preserve is -EBUSY while finalized; finalize
 * preserves the root FDT's page first, then serializes.
 */
export const LIFECYCLE_6_16: Lifecycle = {
  kernel: 'Linux 6.16..6.18',
  unpreserve: false,
  abort: 'destructive',
  finalizeAgain: false,
  busyWhileFinalized: true,
  fdtPreserved: 'finalize',
  rollback: true,
  pageMagic: false,
};

/**
 * 6.19: kho_unpreserve_folio/kho_unpreserve_pages exist (clear the bit, free
 * nothing, no -EBUSY check); abort is gone; finalize may run again,
 * re-serializing and freeing the old chunk list; the root FDT's page is
 * preserved at boot (kho_alloc_preserve in kho_init).
 */
export const LIFECYCLE_6_19: Lifecycle = {
  kernel: 'Linux 6.19',
  unpreserve: true,
  abort: 'none',
  finalizeAgain: true,
  busyWhileFinalized: false,
  fdtPreserved: 'init',
  rollback: true,
  pageMagic: true,
  missing: { abort: 'xarray-6.19 has no abort: 6.19 removed it (finalize may simply run again)' },
};

const noUnpreserve = (id: string): Lifecycle => ({
  ...LIFECYCLE_6_16,
  missing: { unpreserve: `${id} has no unpreserve; it appeared in 6.19` },
});

export const xarray616: StructureSpec = {
  id: 'xarray-6.16',
  title: 'xarray + 512-byte bitmaps, serialized (6.16)',
  folder: 'structures/xarray',
  lifecycle: noUnpreserve('xarray-6.16'),
  abi: KHO_V1,
  create: (machine) => new XarrayTracker(machine, 'xarray-6.16', PRESERVE_BITS_6_16, xarray616.lifecycle),
  restore: restoreXarray(PRESERVE_BITS_6_16),
};

export const xarray618: StructureSpec = {
  id: 'xarray-6.18',
  title: 'xarray + page bitmaps, serialized (6.18)',
  folder: 'structures/xarray',
  lifecycle: { ...noUnpreserve('xarray-6.18'), pageMagic: true },
  abi: KHO_V1,
  create: (machine) => new XarrayTracker(machine, 'xarray-6.18', PRESERVE_BITS_6_18, xarray618.lifecycle),
  restore: restoreXarray(PRESERVE_BITS_6_18),
};

/** 6.19: 6.18's format and restore, 6.19's lifecycle. */
export const xarray619: StructureSpec = {
  id: 'xarray-6.19',
  title: 'xarray + page bitmaps, serialized, re-finalizable (6.19)',
  folder: 'structures/xarray',
  lifecycle: LIFECYCLE_6_19,
  abi: KHO_V1,
  create: (machine) => new XarrayTracker(machine, 'xarray-6.19', PRESERVE_BITS_6_18, LIFECYCLE_6_19),
  restore: xarray618.restore,
};
