/**
 * Reading and validating a results file, with errors a user can act on.
 */
import { readFile } from 'node:fs/promises';
import { RESULTS_SCHEMA_VERSION, Results } from '../results/schema.ts';

/** Bad input from the user (missing file, wrong JSON, wrong schema): the CLI exits 2 on it. */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
}

function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const shown = error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

/** Validates parsed JSON as a results file; `source` names it in errors. */
export function parseResults(json: unknown, source: string): Results {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ReportInputError(`${source}: not a kho-bench results file (expected a JSON object)`);
  }
  const version = (json as { schemaVersion?: unknown }).schemaVersion;
  if (version === undefined) {
    throw new ReportInputError(`${source}: not a kho-bench results file (no "schemaVersion" field)`);
  }
  if (version !== RESULTS_SCHEMA_VERSION) {
    throw new ReportInputError(
      `${source}: results schema version ${JSON.stringify(version)} is not supported: this report reads schema version ${RESULTS_SCHEMA_VERSION}` +
        (typeof version === 'number' && version > RESULTS_SCHEMA_VERSION
          ? ' (the file is newer than this report code: update kho-bench)'
          : ' (re-run the benchmark to produce a current file)'),
    );
  }
  const parsed = Results.safeParse(json);
  if (!parsed.success) {
    throw new ReportInputError(`${source}: invalid results file: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Reads and validates a results file. Throws ReportInputError on any problem with it. */
export async function loadResults(file: string): Promise<Results> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? String(err);
    throw new ReportInputError(`${file}: cannot read results file (${why})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const hint = text.trim().length === 0 ? 'the file is empty' : `invalid JSON, truncated or not a results file: ${detail}`;
    throw new ReportInputError(`${file}: ${hint}`);
  }
  return parseResults(json, file);
}
