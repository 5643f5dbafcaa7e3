/**
 * Runs one job in a fresh process and returns what it reported. The job's
 * stdout is dropped (benny talks); its stderr is kept for the error message.
 *
 * A job may be pinned to one CPU (taskset): with two jobs on two cores,
 * unpinned, each job's main thread shared its core with the other job's
 * start-up and background threads. Pinned, the between-process spread
 * (median CV over pairs, 16 pairs of the default profile, two runs each)
 * fell from 0.33-0.35 to 0.24-0.27 on preserve, 0.31-0.39 to 0.07-0.08 on
 * unpreserve, 0.25-0.27 to 0.12-0.18 on the restore, and the runs took 40 s
 * instead of 43-45.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import type { JobSpec } from '../../src/results/job.ts';
import type { ChildReply } from './child.ts';
import type { JobLauncher } from './bundle.ts';

export type JobOutcome = { ok: true; output: unknown } | { ok: false; message: string; killed: boolean };

export interface RunningJob {
  readonly spec: JobSpec;
  readonly done: Promise<JobOutcome>;
  /** Kills the job's process (and with it its restore worker). */
  kill(): void;
}

/**
 * One CPU per job slot, `jobs` of them, if this machine lets every job run
 * on a core of its own (taskset works on each and there are enough);
 * otherwise none, and jobs are not pinned.
 */
export function cpusToPin(jobs: number): number[] {
  const usable: number[] = [];
  for (let cpu = 0; cpu < cpus().length && usable.length < jobs; cpu++) {
    if (spawnSync('taskset', ['-c', String(cpu), 'true'], { stdio: 'ignore' }).status === 0) usable.push(cpu);
  }
  return usable.length === jobs ? usable : [];
}

/**
 * The job's environment: the runner's, less what only costs a job its start.
 * NODE_EXTRA_CA_CERTS makes node read and parse a certificate bundle before
 * any code runs (on this machine 0.09-0.13 s against 0.03-0.04 for `node -e
 * 0`), and a job opens no connection.
 */
function jobEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _certs, ...env } = process.env;
  return env;
}

/** Starts `spec` in a fresh process, on `cpu` alone when one is given (see cpusToPin). */
export function launchJob(spec: JobSpec, launcher: JobLauncher, cpu?: number): RunningJob {
  const pinned = cpu === undefined ? {} : { execPath: 'taskset', execArgv: ['-c', String(cpu), process.execPath, ...launcher.execArgv] };
  const child: ChildProcess = fork(launcher.entry, [], {
    execArgv: [...launcher.execArgv],
    ...pinned,
    env: jobEnv(),
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let killed = false;
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });
  const done = new Promise<JobOutcome>((resolve) => {
    let reply: ChildReply | undefined;
    child.on('message', (m: ChildReply) => {
      reply = m;
    });
    child.on('error', (e) => resolve({ ok: false, message: e.message, killed }));
    child.on('exit', (code, signal) => {
      if (reply?.ok) resolve({ ok: true, output: reply.output });
      else if (reply) resolve({ ok: false, message: reply.message, killed });
      else {
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const last = stderr.trim().split('\n').filter(Boolean).slice(-1)[0];
        resolve({ ok: false, message: `job process ${why}${last ? `: ${last}` : ''}`, killed });
      }
    });
  });
  child.send(spec);
  return {
    spec,
    done,
    kill() {
      killed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
