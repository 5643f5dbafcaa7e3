/**
 * Progress of a run: a bar with an ETA on a terminal (cli-progress, on
 * stderr), plain lines on stdout otherwise (CI logs, pipes). Messages
 * (failures, notes) go above the bar, or to stderr as lines.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** A job finished (ok or not); `weight` is its share of the run for the ETA. */
  done(label: string, weight: number, seconds: number, ok: boolean): void;
  /** A line for the user that must not be lost under the bar. */
  note(line: string): void;
  stop(): void;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * `totalJobs`, `totalWeight`: of the whole run; `doneJobs`, `doneWeight`:
 * already finished before this session (a resumed run).
 */
export function createProgress(tty: boolean, totalJobs: number, totalWeight: number, doneJobs: number, doneWeight: number): Progress {
  const started = Date.now();
  let jobs = doneJobs;
  let weight = doneWeight;
  const eta = () => {
    const elapsed = (Date.now() - started) / 1000;
    const doneHere = weight - doneWeight;
    return doneHere > 0 ? (elapsed * (totalWeight - weight)) / doneHere : NaN;
  };
  if (tty) {
    const multi = new cliProgress.MultiBar(
      {
        format: ' {bar} {percentage}% | {value}/{total} jobs | ETA {etaText} | {label}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        etaBuffer: 1000,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    const bar = multi.create(totalJobs, doneJobs, { etaText: '?', label: 'starting' });
    return {
      done(label, w, seconds, ok) {
        jobs++;
        weight += w;
        bar.update(jobs, { etaText: formatDuration(eta()), label: `${ok ? '' : 'FAILED '}${label} (${seconds.toFixed(1)}s)` });
      },
      note(line) {
        multi.log(`${line}\n`);
      },
      stop() {
        multi.stop();
      },
    };
  }
  return {
    done(label, w, seconds, ok) {
      jobs++;
      weight += w;
      const pct = Math.floor((100 * weight) / Math.max(totalWeight, 1e-9));
      process.stdout.write(
        `[${String(jobs).padStart(String(totalJobs).length)}/${totalJobs}] ${String(pct).padStart(3)}% ` +
          `${ok ? 'done' : 'FAILED'} ${label} in ${seconds.toFixed(1)}s, ETA ${formatDuration(eta())}\n`,
      );
    },
    note(line) {
      process.stderr.write(`${line}\n`);
    },
    stop() {},
  };
}
