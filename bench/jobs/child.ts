/**
 * Entry of a job process. It receives one JobSpec over IPC, runs it, sends
 * back { ok, output } or { ok: false, message }, and exits. One process per
 * job: JIT state left by one structure never helps or hurts another.
 */
import type { JobSpec } from '../../src/results/job.ts';
import { executeJob } from './execute.ts';

export type ChildReply = { ok: true; output: unknown } | { ok: false; message: string; stack?: string };

// The runner is gone (interrupted, or killed): nobody will read the result.
process.on('disconnect', () => process.exit(0));

process.once('message', (spec: JobSpec) => {
  executeJob(spec).then(
    (output) => finish({ ok: true, output }),
    (e: unknown) => finish({ ok: false, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
  );
});

function finish(reply: ChildReply): void {
  process.send!(reply, () => {
    process.disconnect();
    process.exit(0);
  });
}
