/**
 * The restore worker (see restore-entry.ts), started first: a job starts it
 * and waits until it has loaded its modules (`ready`) before timing
 * anything, so that a booting thread never shares the cores with a timed
 * region, then hands it the request once the image exists. The worker
 * waits idle, blocked on its message port, in between.
 */
import { Worker } from 'node:worker_threads';
import type { RestoreExact, RestoreTiming } from '../../src/results/job.ts';
import type { ExactRequest, RestoreReply, RestoreRequest, TimingRequest } from './restore-protocol.ts';

export class RestoreFailed extends Error {
  override readonly name = 'RestoreFailed';
}

export interface RestoreWorker {
  /** Resolves once the worker has loaded and sits idle. */
  readonly ready: Promise<void>;
  /** Sends the request and waits for the figures; the worker exits after one request. */
  timing(req: TimingRequest): Promise<RestoreTiming>;
  exact(req: ExactRequest): Promise<RestoreExact>;
  /** Stops the worker if it was never used. */
  stop(): void;
}

export function startRestoreWorker(): RestoreWorker {
  // Beside this module: the tsx shim in bench/jobs, or the bundled worker next to the bundled job.
  const worker = new Worker(new URL('./restore-worker.mjs', import.meta.url));
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new RestoreFailed(`restore worker exited with code ${code} while loading`)));
  });
  // A worker that fails while loading is reported by the request that needs it.
  ready.catch(() => {});
  const run = async (req: RestoreRequest): Promise<RestoreReply & { ok: true }> => {
    await ready;
    return new Promise((resolve, reject) => {
      let settled = false;
      worker.once('message', (msg: RestoreReply) => {
        settled = true;
        // Settled once the worker is gone: tearing down its heap (the next kernel's memory) beside the job's end
        // calibration slowed that (60 processes: median 5.13 ms against 3.74, 75th percentile 7.84 against 4.58).
        void worker.terminate().then(() => (msg.ok ? resolve(msg) : reject(new RestoreFailed(msg.message))));
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
  };
  return {
    ready,
    timing: async (req) => (await run(req)).timing!,
    exact: async (req) => (await run(req)).exact!,
    stop() {
      void worker.terminate();
    },
  };
}
