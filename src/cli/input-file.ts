/**
 * Reading files a user names on the command line, or that a dump folder
 * holds, without trusting what kind of file they are.
 *
 * Only regular files are read: a named pipe would block the open or the
 * read for ever, a device such as /dev/zero never ends, and a size bound
 * is only meaningful for a file whose size fstat reports. The file is
 * checked before it is opened (so no device is ever opened), opened
 * non-blocking, and checked again on the opened descriptor, so a file
 * swapped between the check and the open is caught too.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { UsageError } from './guard.ts';

export interface InputLimit {
  /** The largest size accepted, in bytes. */
  readonly maxBytes: number;
  /** Why that bound, for the message of a file over it. */
  readonly why: string;
  /** The folder the file must stay in: a symbolic link is followed only while it does. */
  readonly within?: string;
}

export interface OpenInput {
  readonly handle: FileHandle;
  readonly size: number;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkRegular(path: string, st: Stats, limit: InputLimit): void {
  if (!st.isFile()) throw new UsageError(`${path} is ${kind(st)}, not a regular file`);
  if (st.size > limit.maxBytes) {
    throw new UsageError(`${path} is ${st.size} bytes, over the limit of ${limit.maxBytes} (${limit.why})`);
  }
}

/** The path to open: inside `within` after resolving every symbolic link, or the path itself. */
async function resolveInside(path: string, within: string | undefined): Promise<string> {
  if (within === undefined) return path;
  // The folder first, so that a missing folder is named rather than whichever
  // of the two lookups happened to fail first.
  const folder = await realpath(within);
  const real = await realpath(path);
  if (!real.startsWith(folder.endsWith(sep) ? folder : folder + sep)) {
    throw new UsageError(`${path} is a symbolic link that leads out of ${within}`);
  }
  return real;
}

/** Opens a regular file within the limit; the caller closes the handle. */
export async function openInput(path: string, limit: InputLimit): Promise<OpenInput> {
  const target = await resolveInside(path, limit.within);
  // Inside a folder the resolved path has no symbolic link left, so one
  // appearing at open time is a swap and O_NOFOLLOW refuses it.
  const before = await (limit.within === undefined ? stat(target) : lstat(target));
  checkRegular(path, before, limit);
  const nofollow = limit.within === undefined ? 0 : constants.O_NOFOLLOW;
  const handle = await open(target, constants.O_RDONLY | constants.O_NONBLOCK | nofollow);
  try {
    const st = await handle.stat();
    checkRegular(path, st, limit);
    if (st.ino !== before.ino || st.dev !== before.dev) throw new UsageError(`${path} was replaced while it was opened`);
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Fills `buf` from `position`; a file that ends early has shrunk since fstat. */
export async function readExactly(input: OpenInput, path: string, buf: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesRead } = await input.handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new UsageError(`${path} shrank while it was read`);
    done += bytesRead;
  }
}

/** The whole of a regular file within the limit. */
export async function readInput(path: string, limit: InputLimit): Promise<Uint8Array> {
  const input = await openInput(path, limit);
  try {
    const buf = new Uint8Array(input.size);
    await readExactly(input, path, buf, 0);
    return buf;
  } finally {
    await input.handle.close();
  }
}

/** A regular file within the limit, as UTF-8 text. */
export async function readTextInput(path: string, limit: InputLimit): Promise<string> {
  const bytes = await readInput(path, limit);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${path} is not UTF-8 text`);
  }
}
