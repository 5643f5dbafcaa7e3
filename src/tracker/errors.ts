/**
 * Typed errors of the KHO simulation. Each carries the errno the kernel
 * would return where it has one, so tests and the CLI can tell them apart
 * without parsing messages.
 *
 *   EINVAL     unaligned address, order outside 0..18, address outside RAM
 *   EBUSY      preserve (or preserveRange) while a 6.16..6.18 hand-over is
 *              finalized
 *   EEXIST     finalize of a 6.16..6.18 hand-over that is already finalized
 *              (kho_finalize's -EEXIST)
 *   ENOENT     abort of a 6.16..6.18 hand-over that is not finalized
 *              (kho_abort's -ENOENT)
 *   ENOMEM     the kernel heap could not satisfy an allocation
 *   EOPNOTSUPP the operation does not exist in the kernel version this
 *              tracker models: unpreserve in xarray-6.16/6.18 (it appeared
 *              in 6.19) and in radix-rfc (RFC v1 had none); abort in
 *              xarray-6.19 (removed) and in every stateless tracker (never
 *              had one)
 *   ERANGE     radix-rfc: a folio of order 10..18, for which RFC v1's order
 *              table has no slot (it would have written past the table and
 *              silently lost the folio)
 *   ENOSPC     the root KHO FDT would not fit in its one page (4096 bytes);
 *              the kernel's libfdt says -FDT_ERR_NOSPACE and mainline's
 *              kho_add_subtree turns it into -ENOMEM, kept apart here so that
 *              callers can tell the page limit from heap exhaustion
 *   ECORRUPT   the next kernel found the hand-over image malformed
 *   ENOEXEC    the FDT is not a KHO FDT this restore understands
 */
export type KhoErrno =
  | 'EINVAL'
  | 'EBUSY'
  | 'EEXIST'
  | 'ENOMEM'
  | 'ENOENT'
  | 'EOPNOTSUPP'
  | 'ERANGE'
  | 'ENOSPC'
  | 'ECORRUPT'
  | 'ENOEXEC';

export class KhoError extends Error {
  readonly errno: KhoErrno;

  constructor(errno: KhoErrno, message: string) {
    super(`${errno}: ${message}`);
    this.name = 'KhoError';
    this.errno = errno;
  }
}

export function isKhoError(e: unknown, errno?: KhoErrno): e is KhoError {
  return e instanceof KhoError && (errno === undefined || e.errno === errno);
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
