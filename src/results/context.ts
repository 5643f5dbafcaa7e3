/** The machine context a results file carries: where and how it was measured. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** One sysfs value, or undefined where the kernel does not export it (containers, other systems). */
function sysfs(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** "32K" -> 32768. */
function cacheBytes(text: string): number {
  const m = /^(\d+)([KMG]?)$/.exec(text);
  return m ? Number(m[1]) * ({ '': 1, K: 1024, M: 2 ** 20, G: 2 ** 30 } as Record<string, number>)[m[2]] : 0;
}

/** The number of CPUs in a sysfs list such as "0-3,8". */
function cpuCount(list: string): number {
  return list.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a + 1);
  }, 0);
}

/** The host as Google Benchmark's context describes it: name, MHz, frequency scaling, CPU 0's caches. */
export function hostContext(): NonNullable<MachineContext['host']> {
  const base = '/sys/devices/system/cpu/cpu0/cache';
  const caches: NonNullable<NonNullable<MachineContext['host']>['caches']> = [];
  for (let i = 0; i < 8; i++) {
    const type = sysfs(`${base}/index${i}/type`);
    if (type === undefined) break;
    caches.push({
      type,
      level: Number(sysfs(`${base}/index${i}/level`) ?? 0),
      size: cacheBytes(sysfs(`${base}/index${i}/size`) ?? ''),
      numSharing: cpuCount(sysfs(`${base}/index${i}/shared_cpu_list`) ?? '0'),
    });
  }
  const governor = sysfs('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor');
  return {
    name: os.hostname(),
    mhzPerCpu: os.cpus()[0]?.speed,
    ...(governor !== undefined ? { cpuScalingEnabled: governor !== 'performance' } : {}),
    caches,
  };
}

export function machineContext(profile: MachineContext['profile'], seed: number, date = new Date()): MachineContext {
  const cpus = os.cpus();
  return {
    host: hostContext(),
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
