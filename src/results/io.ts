/**
 * Reading and writing results. Every write goes to a temporary file in the
 * same directory and is renamed over the target, so a reader (or an
 * interrupted run) only ever sees a complete file. Every read validates.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { JobOutput } from './job.ts';
import { Results } from './schema.ts';

export const RESULTS_FILE = 'results.json';
export const SUMMARY_FILE = 'summary.csv';
export const JOBS_DIR = 'jobs';

export class ResultsError extends Error {
  override readonly name = 'ResultsError';
}

/** Writes `text` to `file` atomically (temp file + rename). */
export function writeAtomic(file: string, text: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
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
