/**
 * How job processes are started.
 *
 * Node 20 runs TypeScript only through tsx's loader, and starting it costs
 * about 0.4 s per process (and again per worker thread). With one process
 * per job and a restore worker in each, that would be most of a smoke run.
 * So the runner first bundles the job entry and the restore worker into
 * plain ESM with esbuild (the transformer tsx itself uses; dependencies stay
 * external), once per run, and each job then starts in ~0.1 s. The bundle
 * is the same code with types stripped, nothing minified.
 *
 * If esbuild cannot be loaded or fails, jobs run through tsx instead
 * (slower to start, same measurements).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface JobLauncher {
  /** The module to fork. */
  readonly entry: string;
  /** Node flags for the job process. */
  readonly execArgv: readonly string[];
  /** 'bundle' or 'tsx'. */
  readonly mode: 'bundle' | 'tsx';
  /** Removes the bundle. */
  cleanup(): void;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
/**
 * A job runs pinned to one CPU (launch.ts), and V8's own threads (concurrent
 * compilation, concurrent marking, parallel scavenges) ran on that CPU too,
 * taking it from the timed code at moments no two processes shared: that,
 * more than the host, was the spread between processes. --single-threaded
 * does V8's work on the main thread, where a collection is a pause that
 * gc-pauses.ts sees and a compilation lands in the warm-up. Smoke, three
 * runs each way interleaved on the 2-core EPYC: 18.3-19.5 s against
 * 15.0-15.9, median CV of the 9 processes a pair 0.85 -> 0.12 on preserve,
 * 0.49 -> 0.13 unpreserve, 0.56 -> 0.07 restore, 0.28 -> 0.16 restore walk.
 */
const NODE_FLAGS = ['--expose-gc', '--single-threaded'];

/** Removes bundles left by runs that were killed before they could clean up. */
function removeStaleBundles(cacheDir: string): void {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^jobs-(\d+)-\d+$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(cacheDir, name), { recursive: true, force: true });
    }
  }
}

export async function prepareLauncher(): Promise<JobLauncher> {
  const cacheDir = join(repoRoot, 'node_modules', '.cache', 'kho-bench');
  removeStaleBundles(cacheDir);
  const outdir = join(cacheDir, `jobs-${process.pid}-${Date.now()}`);
  try {
    const esbuild = await import('esbuild');
    mkdirSync(outdir, { recursive: true });
    await esbuild.build({
      entryPoints: { child: join(here, 'child.ts'), 'restore-worker': join(here, 'restore-entry.ts') },
      bundle: true,
      // Shared code in chunks, and a module imported only on demand (the CPU-file validator) in its own.
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir,
      outExtension: { '.js': '.mjs' },
      keepNames: true,
      logLevel: 'silent',
    });
    return {
      entry: join(outdir, 'child.mjs'),
      execArgv: NODE_FLAGS,
      mode: 'bundle',
      cleanup: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } catch {
    rmSync(outdir, { recursive: true, force: true });
    return {
      entry: join(here, 'child.ts'),
      execArgv: ['--import', import.meta.resolve('tsx'), ...NODE_FLAGS],
      mode: 'tsx',
      cleanup: () => {},
    };
  }
}
