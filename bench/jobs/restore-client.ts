/**
 * The restore worker (see restore-entry.ts), started early: a job starts it
 * as soon as it begins, so that the worker's start-up (loading its modules)
 * overlaps the job's untimed set-up instead of adding to the job's wall
 * time, and hands it the request once the image exists. The worker waits
 * idle, blocked on its message port, in between.
 */
import { Worker } from 'node:worker_threads';
import type { RestoreExact, RestoreTiming } from '../../src/results/job.ts';
import type { ExactRequest, RestoreReply, RestoreRequest, TimingRequest } from './restore-protocol.ts';

export class RestoreFailed extends Error {
  override readonly name = 'RestoreFailed';
}

export interface RestoreWorker {
  /** Sends the request and waits for the figures; the worker exits after one request. */
  timing(req: TimingRequest): Promise<RestoreTiming>;
  exact(req: ExactRequest): Promise<RestoreExact>;
  /** Stops the worker if it was never used. */
  stop(): void;
}

export function startRestoreWorker(): RestoreWorker {
  // Beside this module: the tsx shim in bench/jobs, or the bundled worker next to the bundled job.
  const worker = new Worker(new URL('./restore-worker.mjs', import.meta.url));
  let early: Error | undefined;
  const onEarlyError = (e: Error) => {
    early = e;
  };
  worker.on('error', onEarlyError);
  const run = (req: RestoreRequest): Promise<RestoreReply & { ok: true }> =>
    new Promise((resolve, reject) => {
      if (early) {
        reject(early);
        return;
      }
      worker.off('error', onEarlyError);
      let settled = false;
      worker.once('message', (msg: RestoreReply) => {
        settled = true;
        if (msg.ok) resolve(msg);
        else reject(new RestoreFailed(msg.message));
        void worker.terminate();
      });
      worker.once('error', (e) => {
        settled = true;
        reject(e);
      });
      worker.once('exit', (code) => {
        if (!settled) reject(new RestoreFailed(`restore worker exited with code ${code} before reporting`));
      });
      worker.postMessage(req);
    });
  return {
    timing: async (req) => (await run(req)).timing!,
    exact: async (req) => (await run(req)).exact!,
    stop() {
      void worker.terminate();
    },
  };
}
