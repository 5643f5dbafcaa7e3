/**
 * Typed errors of the KHO simulation. Each carries the errno the kernel
 * would return where it has one, so tests and the CLI can tell them apart
 * without parsing messages.
 *
 *   EINVAL   unaligned address, order outside 0..18, address outside RAM
 *   EBUSY    preserve/unpreserve while the hand-over is finalized
 *   ENOMEM   the kernel heap could not satisfy an allocation
 *   ENOENT   unpreserve of a folio that is not preserved (where detectable)
 *   ECORRUPT the next kernel found the hand-over image malformed
 *   ENOEXEC  the FDT is not a KHO FDT this restore understands
 */
export type KhoErrno = 'EINVAL' | 'EBUSY' | 'ENOMEM' | 'ENOENT' | 'ECORRUPT' | 'ENOEXEC';

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
