/**
 * The one way every command-line entry point fails: a single line on
 * stderr and a non-zero exit code, never a stack trace. Expected failures
 * (bad input, a corrupted image, a file that cannot be read or written)
 * exit with 2; anything else is a bug in this suite and exits with 1,
 * still in one line.
 */
import { getSystemErrorMap } from 'node:util';
import { isKhoError } from '../tracker/errors.ts';

/** Bad command-line input or input files. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What Node's fs functions throw. */
interface SystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  readonly dest?: string;
}

function isSystemError(e: unknown): e is SystemError {
  const s = e as Partial<SystemError> | null;
  return e instanceof Error && typeof s?.code === 'string' && typeof s.errno === 'number' && typeof s.syscall === 'string';
}

const VERBS = new Map([
  ['open', 'open'],
  ['read', 'read'],
  ['realpath', 'read'],
  ['stat', 'read'],
  ['lstat', 'read'],
  ['fstat', 'read'],
  ['statfs', 'read'],
  ['scandir', 'list'],
  ['opendir', 'list'],
  ['access', 'use'],
  ['mkdir', 'create'],
  ['write', 'write'],
  ['rename', 'write'],
  ['unlink', 'remove'],
  ['rm', 'remove'],
]);

/** "cannot read /x/fdt.dtb: no such file or directory", rather than "ENOENT: …, open '/x/fdt.dtb'". */
function describeSystemError(e: SystemError & { path: string }): string {
  const verb = VERBS.get(e.syscall) ?? e.syscall;
  const reason = getSystemErrorMap().get(e.errno)?.[1] ?? e.code;
  return `cannot ${verb} ${e.path}${e.dest ? ` to ${e.dest}` : ''}: ${reason}`;
}

const hasPath = (e: unknown): e is SystemError & { path: string } => isSystemError(e) && typeof e.path === 'string';

export function isExpectedFailure(e: unknown): boolean {
  if (e instanceof UsageError || isKhoError(e) || hasPath(e)) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/**
 * The message on one line. Control and format characters left in it (from
 * a path or a file's contents) are escaped so they cannot drive the
 * terminal; image bytes are already quoted by the FDT reader.
 */
export function oneLine(e: unknown): string {
  const text = hasPath(e) ? describeSystemError(e) : e instanceof Error ? e.message : String(e);
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\p{Cc}\p{Cf}]/gu, (c) => {
      const code = c.codePointAt(0)!;
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
    });
}

/**
 * parseArgs refuses "--seed -1" as an ambiguous option; joining it into
 * "--seed=-1" lets the option's own check say what a good value is. Only
 * words that look like negative numbers are joined: no option looks so.
 */
export function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[^=]+$/.test(args[i]) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
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
