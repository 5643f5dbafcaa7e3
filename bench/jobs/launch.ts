/**
 * Runs one job in a fresh process and returns what it reported. The job's
 * stdout is dropped (benny talks); its stderr is kept for the error message.
 */
import { type ChildProcess, fork } from 'node:child_process';
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

export function launchJob(spec: JobSpec, launcher: JobLauncher): RunningJob {
  const child: ChildProcess = fork(launcher.entry, [], {
    execArgv: [...launcher.execArgv],
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
