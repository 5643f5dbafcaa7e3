/**
 * A user's own workload: the operations file of `kho dump` and `kho time`,
 * in either of two forms.
 *
 *   JSON  [{"op": "preserve" | "unpreserve", "phys": "0x…", "order": n},
 *          {"op": "preserve-range", "phys": "0x…", "size": "0x…"}, …]
 *   text  one operation per line, for traces of millions of operations:
 *            preserve 0x<phys> <order>
 *            unpreserve 0x<phys> <order>
 *            preserve-range 0x<phys> <size>      (a size: 0x…, 4096, 2M)
 *          blank lines and lines starting with # are skipped
 *
 * The file becomes flat typed arrays (a Workload: consecutive operations of
 * one kind form a phase), so replaying it costs the tracker calls and
 * nothing else. The live set at hand-over and the teardown (unpreserve of
 * every live folio, in the order they were preserved) are worked out here,
 * untimed, with a Map: a trace may preserve a folio twice.
 */
import { parseSize } from '../cli/sizes.ts';
import { UsageError } from '../cli/guard.ts';
import type { Bank } from '../ram/phys-mem.ts';
import { FOLIO_BYTES, splitRange } from '../tracker/tracker.ts';
import { type OpKind, type Phase, type Workload, folioHash } from './workload.ts';

export interface Op {
  readonly kind: OpKind;
  readonly phys: number;
  /** The order (preserve, unpreserve) or the size in bytes (range). */
  readonly arg: number;
}

const JSON_KIND: Record<string, OpKind> = { preserve: 'preserve', unpreserve: 'unpreserve', 'preserve-range': 'range' };

function bad(path: string, where: string, why: string): never {
  throw new UsageError(`${path}: ${where}: ${why}`);
}

function order(text: unknown, path: string, where: string): number {
  const n = typeof text === 'number' ? text : Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 63) bad(path, where, `order ${String(text)} is not an integer 0..63`);
  return n;
}

function fromJson(text: string, path: string): Op[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(json)) bad(path, 'root', 'expected a JSON array of operations');
  return json.map((o: unknown, i) => {
    const where = `operation ${i}`;
    if (typeof o !== 'object' || o === null) bad(path, where, 'expected an object');
    const r = o as Record<string, unknown>;
    const kind = typeof r.op === 'string' && Object.hasOwn(JSON_KIND, r.op) ? JSON_KIND[r.op] : bad(path, `${where}.op`, 'expected "preserve", "unpreserve" or "preserve-range"');
    if (typeof r.phys !== 'string') bad(path, `${where}.phys`, 'expected a hex string like "0x1000"');
    const phys = parseSize(r.phys, `${where} phys`);
    if (kind === 'range') {
      if (typeof r.size !== 'string') bad(path, `${where}.size`, 'expected a size string like "0x25000"');
      return { kind, phys, arg: parseSize(r.size, `${where} size`) };
    }
    return { kind, phys, arg: order(r.order, path, `${where}.order`) };
  });
}

function fromText(text: string, path: string): Op[] {
  const ops: Op[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) continue;
    const [op, phys, arg, extra] = s.split(/\s+/);
    const where = `line ${line}`;
    if (extra !== undefined || arg === undefined) bad(path, where, 'expected "<op> 0x<phys> <order or size>"');
    const kind = Object.hasOwn(JSON_KIND, op) ? JSON_KIND[op] : bad(path, where, `unknown operation "${op.slice(0, 32)}"`);
    const pa = parseSize(phys, `${where} phys`);
    ops.push({ kind, phys: pa, arg: kind === 'range' ? parseSize(arg, `${where} size`) : order(arg, path, where) });
  }
  return ops;
}

/** Parses an operations file's text (JSON if it starts with "[", else text lines). */
export function parseOps(text: string, path: string): Op[] {
  return text.trimStart().startsWith('[') ? fromJson(text, path) : fromText(text, path);
}

function phaseOf(kind: OpKind, ops: readonly Op[]): Phase {
  const a = Float64Array.from(ops, (o) => o.phys);
  const b = Float64Array.from(ops, (o) => o.arg);
  if (kind !== 'range') return { kind, a, b };
  const folios = Uint32Array.from(ops, (o) => [...splitRange(o.phys, o.arg)].length);
  return { kind, a, b, folios };
}

/** The workload of a list of operations on a machine of `banks`. */
export function opsWorkload(ops: readonly Op[], banks: readonly Bank[]): Workload {
  const build: Phase[] = [];
  for (let i = 0; i < ops.length; ) {
    let j = i;
    while (j < ops.length && ops[j].kind === ops[i].kind) j++;
    build.push(phaseOf(ops[i].kind, ops.slice(i, j)));
    i = j;
  }
  // Insertion order of a Map is preservation order: the teardown unpreserves in that order.
  const live = new Map<string, [number, number]>();
  const add = (phys: number, o: number) => live.set(`${phys}/${o}`, [phys, o]);
  for (const op of ops) {
    if (op.kind === 'preserve') add(op.phys, op.arg);
    else if (op.kind === 'unpreserve') live.delete(`${op.phys}/${op.arg}`);
    else for (const [pa, o] of splitRange(op.phys, op.arg)) add(pa, o);
  }
  let bytes = 0;
  let hash = 0;
  for (const [phys, o] of live.values()) {
    bytes += FOLIO_BYTES[o] ?? 0;
    hash = (hash + folioHash(phys, o)) >>> 0;
  }
  const rest = [...live.values()];
  const teardown: Phase[] = rest.length
    ? [{ kind: 'unpreserve', a: Float64Array.from(rest, (f) => f[0]), b: Float64Array.from(rest, (f) => f[1]) }]
    : [];
  return { banks, build, teardown, live: { folios: live.size, bytes, hash } };
}
