/** The machine context a results file carries: where and how it was measured. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { MachineContext } from './schema.ts';

/** `git rev-parse HEAD`, with "-dirty" when the tree has changes; "unknown" outside git. */
export function gitCommit(cwd = process.cwd()): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

export function machineContext(profile: MachineContext['profile'], seed: number, date = new Date()): MachineContext {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() || 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    gitCommit: gitCommit(),
    date: date.toISOString(),
    profile,
    seed,
  };
}
