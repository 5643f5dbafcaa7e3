/**
 * Reading and writing results. Every write goes to a temporary file in the
 * same directory and is renamed over the target, so a reader (or an
 * interrupted run) only ever sees a complete file. Every read validates.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { JobOutput } from './job.ts';
import { Results } from './schema.ts';

export const RESULTS_FILE = 'results.json';
export const SUMMARY_FILE = 'summary.csv';
export const JOBS_DIR = 'jobs';

export class ResultsError extends Error {
  override readonly name = 'ResultsError';
}

/**
 * Creates the temporary only if nothing is at its name, and never through
 * a symbolic link: a link planted there would otherwise have its target
 * overwritten. The random suffix keeps the name from being planted ahead.
 */
function createTemp(file: string): { tmp: string; fd: number } {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  return { tmp, fd: openSync(tmp, flags, 0o644) };
}

/** Writes every chunk, then closes `fd`; returns the bytes written. */
function writeChunks(fd: number, data: string | Uint8Array | Iterable<Uint8Array>): number {
  try {
    let bytes = 0;
    const chunks = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
      bytes += chunk.length;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `file` atomically (temp file + rename) and returns the
 * bytes written; chunks let a file larger than one buffer be written.
 * On any failure the temporary is removed and the target left as it was.
 */
export function writeAtomic(file: string, data: string | Uint8Array | Iterable<Uint8Array>): number {
  mkdirSync(dirname(file), { recursive: true });
  const { tmp, fd } = createTemp(file);
  try {
    const bytes = writeChunks(fd, data);
    renameSync(tmp, file);
    return bytes;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes results.json atomically; `validate` checks it against the schema first (the runner does at the end of a run). */
export function writeResults(dir: string, results: Results, validate = true): string {
  const file = join(dir, RESULTS_FILE);
  writeAtomic(file, `${JSON.stringify(validate ? Results.parse(results) : results, null, 1)}\n`);
  return file;
}

/** Reads and validates a results file; throws ResultsError with a one-line reason. */
export function readResults(file: string): Results {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ResultsError(`cannot read ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const parsed = Results.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ResultsError(`${file} is not a valid results file: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function writeJobOutput(dir: string, output: JobOutput): void {
  writeAtomic(join(dir, JOBS_DIR, `${output.id}.json`), `${JSON.stringify(output)}\n`);
}

/** Every valid job output in a run directory; invalid or partial files are ignored (and redone on resume). */
export function readJobOutputs(dir: string): JobOutput[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, JOBS_DIR));
  } catch {
    return [];
  }
  const out: JobOutput[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
    try {
      const parsed = JobOutput.safeParse(JSON.parse(readFileSync(join(dir, JOBS_DIR, name), 'utf8')));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // unreadable: redone
    }
  }
  return out;
}
