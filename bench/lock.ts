/**
 * One runner per run folder. `lockRun` creates `<dir>/.lock` exclusively,
 * holding the runner's pid and its parent's; a second runner on the same
 * folder (two `--resume` at once) is refused with one line, unless the
 * holder is dead (a killed run), whose lock is taken over. `orphaned()`
 * tells a runner that the process that started it (npm, tsx) has died: its
 * parent pid changed.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../src/cli/guard.ts';

export interface RunLock {
  /** Whether this runner's parent has died since the lock was taken. */
  orphaned(): boolean;
  release(): void;
}

const LOCK_FILE = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function create(file: string): boolean {
  try {
    const fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o644);
    writeSync(fd, `${process.pid} ${process.ppid}\n`);
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export function lockRun(dir: string): RunLock {
  const file = join(dir, LOCK_FILE);
  if (!create(file)) {
    let holder = NaN;
    try {
      holder = Number(readFileSync(file, 'utf8').split(' ')[0]);
    } catch {
      // unreadable: treated as stale
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new UsageError(`${dir} is being run by process ${holder}; wait for it, or stop it first`);
    }
    rmSync(file, { force: true });
    if (!create(file)) throw new UsageError(`${dir} was locked by another runner just now`);
  }
  const parent = process.ppid;
  let released = false;
  return {
    orphaned: () => process.ppid !== parent,
    release() {
      if (released) return;
      released = true;
      rmSync(file, { force: true });
    },
  };
}
