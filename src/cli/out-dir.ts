/**
 * The folder a command writes into, checked before the command does any
 * work so that bad output paths fail at once and leave nothing behind.
 *
 * Only the last component is ever created, one mkdir without `recursive`:
 * Node's recursive mkdir loops for ever on procfs, and creating missing
 * parents would put folders wherever a mistyped path points. Kernel
 * pseudo-filesystems are refused by their type, wherever they are mounted.
 */
import { type Stats, accessSync, constants, lstatSync, mkdirSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './guard.ts';

/** statfs f_type values of filesystems that are views of the kernel, not storage. */
const PSEUDO_FILESYSTEMS = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroupfs'],
  [0x63677270, 'cgroup2fs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
]);

export interface OutDirOptions {
  /** Accept a folder that already holds files (a run being resumed); the caller checks what they are. */
  readonly allowExistingRun?: boolean;
}

export interface OutDir {
  /** The absolute path of the folder. */
  readonly path: string;
  /** Creates the folder if it is missing; call it just before the first write. */
  create(): void;
}

/** The entry at `path`, or undefined when there is none (or a parent is not a folder). */
function statIfAny(path: string, stat: (path: string) => Stats = lstatSync): Stats | undefined {
  try {
    return stat(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Throws unless `folder` is on real storage and this process may create files in it. */
function checkWritable(folder: string, label: string): void {
  const fs = PSEUDO_FILESYSTEMS.get(statfsSync(folder).type);
  if (fs) throw new UsageError(`${label} is on ${fs}, a view of the kernel, not storage`);
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === 'EROFS' ? 'on a read-only filesystem' : code === 'EPERM' ? 'immutable' : 'not writable';
    throw new UsageError(`${label} cannot be written: ${folder} is ${why}`);
  }
}

function checkExisting(path: string, st: Stats, label: string, options: OutDirOptions): void {
  if (st.isSymbolicLink()) throw new UsageError(`${label} is a symbolic link; name the folder itself`);
  if (!st.isDirectory()) throw new UsageError(`${label} exists and is not a folder`);
  if (!options.allowExistingRun && readdirSync(path).length > 0) throw new UsageError(`${label} is a folder that is not empty`);
  checkWritable(path, label);
}

function checkCreatable(path: string, label: string): void {
  const parent = dirname(path);
  const st = statIfAny(parent, statSync);
  if (!st) throw new UsageError(`${label} cannot be created: ${parent} does not exist`);
  if (!st.isDirectory()) throw new UsageError(`${label} cannot be created: ${parent} is not a folder`);
  checkWritable(parent, label);
}

/**
 * Checks that `path` is a folder that can be created, or an existing empty
 * one (any existing one with `allowExistingRun`); else a one-line UsageError.
 */
export function prepareOutDir(path: string, options: OutDirOptions = {}): OutDir {
  const abs = resolve(path);
  const label = `output folder ${path}`;
  const check = () => {
    const st = statIfAny(abs);
    if (st) checkExisting(abs, st, label, options);
    else checkCreatable(abs, label);
    return st !== undefined;
  };
  check();
  return {
    path: abs,
    create() {
      if (check()) return;
      try {
        mkdirSync(abs, { mode: 0o755 });
      } catch (e) {
        // Created by someone else since the check: it must pass as an existing folder.
        if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
        check();
      }
    },
  };
}
