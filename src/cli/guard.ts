/**
 * The one way every command-line entry point fails: a single line on
 * stderr and a non-zero exit code, never a stack trace. Expected failures
 * (bad input, a corrupted image) exit with 2; anything else is a bug in
 * this suite and exits with 1, still in one line.
 */
import { isKhoError } from '../tracker/errors.ts';

/** Bad command-line input or input files. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function isExpectedFailure(e: unknown): boolean {
  if (e instanceof UsageError || isKhoError(e)) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || ['ENOENT', 'EISDIR', 'EACCES', 'ENOTDIR'].includes(code));
}

export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').trim();
}

/** Runs a command's main function, turning any failure into one line and an exit code. */
export async function runCli(name: string, main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (e) {
    process.stderr.write(`${name}: ${oneLine(e)}\n`);
    process.exitCode = isExpectedFailure(e) ? 2 : 1;
  }
}
