/**
 * Flattened Device Tree (DTB, version 17) writer and reader.
 *
 * Layout written: a 40-byte big-endian header; the memory reservation map
 * (just its 16-byte terminator); the structure block of FDT_BEGIN_NODE /
 * FDT_PROP / FDT_END_NODE tokens ending in FDT_END, every item padded to 4
 * bytes; the strings block of NUL-terminated property names.
 *
 * KHO's one twist (see the facts sheet): a u64 property that holds a
 * physical address is the raw 8 bytes of a native little-endian u64, not
 * two big-endian cells, and must be exactly 8 bytes long. `u64Prop` and
 * `getU64` encode and enforce that.
 *
 * The reader trusts nothing: every offset and length is bounds-checked and
 * any violation is a KhoError('ENOEXEC'), never a RangeError. Where it
 * must choose, it does what libfdt (and so the kernel) does: the header
 * checks of fdt_check_header, and the first of two same-named properties.
 */
import { KhoError } from '../tracker/errors.ts';

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
const MAX_DEPTH = 64;
/** libfdt's FDT_FIRST_SUPPORTED_VERSION and FDT_LAST_SUPPORTED_VERSION. */
const FIRST_SUPPORTED_VERSION = 0x02;
const LAST_SUPPORTED_VERSION = 0x11;
/** size_dt_struct, which this reader bounds the structure block by, came in version 17. */
const READ_VERSION = 17;
const INT_MAX = 2 ** 31 - 1;
/** Characters of image bytes a message quotes at most. */
const QUOTE_LIMIT = 64;

export interface FdtNode {
  readonly name: string;
  readonly props: ReadonlyMap<string, Uint8Array>;
  readonly children: readonly FdtNode[];
}

/** A property value: a string (NUL-terminated on the wire) or raw bytes. */
export type FdtValue = string | Uint8Array;

export interface FdtNodeSpec {
  readonly name: string;
  readonly props: Readonly<Record<string, FdtValue>>;
  readonly children?: readonly FdtNodeSpec[];
}

/** The 8 raw bytes of a native little-endian u64 (KHO's physical-address property). */
export function u64Prop(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, value >>> 0, true);
  view.setUint32(4, Math.floor(value / 4294967296), true);
  return out;
}

export function writeFdt(root: FdtNodeSpec): Uint8Array {
  const strings: string[] = [];
  const stringOffsets = new Map<string, number>();
  let stringsSize = 0;
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = stringsSize;
      stringOffsets.set(name, off);
      strings.push(name);
      stringsSize += Buffer.byteLength(name) + 1;
    }
    return off;
  };

  const struct: number[] = [];
  const pushU32 = (v: number) => struct.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  const pushBytes = (b: Uint8Array) => {
    for (const x of b) struct.push(x);
    while (struct.length % 4) struct.push(0);
  };
  const emit = (node: FdtNodeSpec) => {
    pushU32(FDT_BEGIN_NODE);
    pushBytes(Buffer.from(`${node.name}\0`));
    for (const [name, value] of Object.entries(node.props)) {
      const bytes = typeof value === 'string' ? Buffer.from(`${value}\0`) : value;
      pushU32(FDT_PROP);
      pushU32(bytes.length);
      pushU32(nameOffset(name));
      pushBytes(bytes);
    }
    for (const child of node.children ?? []) emit(child);
    pushU32(FDT_END_NODE);
  };
  emit(root);
  pushU32(FDT_END);

  const rsvOff = HEADER_SIZE;
  const structOff = rsvOff + 16;
  const stringsOff = structOff + struct.length;
  const total = stringsOff + stringsSize;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const header = [FDT_MAGIC, total, structOff, stringsOff, rsvOff, 17, 16, 0, stringsSize, struct.length];
  header.forEach((v, i) => view.setUint32(i * 4, v));
  out.set(struct, structOff);
  let p = stringsOff;
  for (const s of strings) {
    out.set(Buffer.from(`${s}\0`), p);
    p += Buffer.byteLength(s) + 1;
  }
  return out;
}

/**
 * Image bytes as a message may show them: in double quotes, printable
 * ASCII as is, every other byte as \xNN, at most QUOTE_LIMIT characters
 * then an ellipsis. A hostile image cannot then move the cursor, ring the
 * bell, cut the line or make it arbitrarily long.
 */
export function quoteImageBytes(bytes: Uint8Array | string): string {
  let out = '';
  for (const b of typeof bytes === 'string' ? Buffer.from(bytes) : bytes) {
    const c = escapeByte(b);
    if (out.length + c.length > QUOTE_LIMIT) return `"${out}"…`;
    out += c;
  }
  return `"${out}"`;
}

function escapeByte(b: number): string {
  if (b === 0x22 || b === 0x5c) return `\\${String.fromCharCode(b)}`;
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** fdt_check_header's rules, for a blob of `length` bytes. */
function checkHeader(view: DataView, length: number, bad: (why: string) => never): void {
  if (length < HEADER_SIZE) bad(`${length} bytes is shorter than the header`);
  if (view.getUint32(0) !== FDT_MAGIC) bad('bad magic');
  const total = view.getUint32(4);
  const version = view.getUint32(20);
  const lastComp = view.getUint32(24);
  if (version < FIRST_SUPPORTED_VERSION || lastComp > LAST_SUPPORTED_VERSION || version < lastComp) {
    bad(`version ${version} (last compatible ${lastComp}) is not supported`);
  }
  if (version < READ_VERSION) bad(`version ${version} is older than ${READ_VERSION}`);
  if (total < HEADER_SIZE || total > INT_MAX) bad(`totalsize ${total} is not a possible size`);
  if (total > length) bad(`totalsize ${total} exceeds the ${length} bytes given`);
  const inside = (off: number, size: number) => off >= HEADER_SIZE && off + size <= total;
  if (!inside(view.getUint32(16), 0)) bad('memory reservation map outside the blob');
  if (!inside(view.getUint32(8), view.getUint32(36))) bad('structure block outside the blob');
  if (!inside(view.getUint32(12), view.getUint32(32))) bad('strings block outside the blob');
}

export function readFdt(blob: Uint8Array): FdtNode {
  const bad = (why: string): never => {
    throw new KhoError('ENOEXEC', `malformed FDT: ${why}`);
  };
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  checkHeader(view, blob.length, bad);
  const structOff = view.getUint32(8);
  const stringsOff = view.getUint32(12);
  const stringsSize = view.getUint32(32);
  const structSize = view.getUint32(36);

  const structEnd = structOff + structSize;
  let p = structOff;
  const u32 = (): number => {
    if (p + 4 > structEnd) bad('structure block ends early');
    const v = view.getUint32(p);
    p += 4;
    return v;
  };
  /** The string at `from` and the offset of its NUL (its decoded length can differ from its bytes'). */
  const cstring = (from: number, limit: number): [string, number] => {
    let end = from;
    while (end < limit && blob[end] !== 0) end++;
    if (end >= limit) bad('unterminated string');
    return [Buffer.from(blob.subarray(from, end)).toString('utf8'), end];
  };
  // Tokens are aligned from the start of the structure block, which libfdt does not require to be aligned itself.
  const align = () => {
    p = structOff + Math.ceil((p - structOff) / 4) * 4;
  };

  const parseNode = (depth: number): FdtNode => {
    if (depth > MAX_DEPTH) bad('nodes nested too deep');
    const [name, nul] = cstring(p, structEnd);
    p = nul + 1;
    align();
    const props = new Map<string, Uint8Array>();
    const children: FdtNode[] = [];
    for (;;) {
      const token = u32();
      if (token === FDT_PROP) {
        const len = u32();
        const nameoff = u32();
        if (nameoff >= stringsSize) bad('property name outside the strings block');
        if (p + len > structEnd) bad('property value outside the structure block');
        const [propName] = cstring(stringsOff + nameoff, stringsOff + stringsSize);
        // fdt_getprop returns the first property of a name: a second one cannot override it.
        if (!props.has(propName)) props.set(propName, blob.slice(p, p + len));
        p += len;
        align();
      } else if (token === FDT_BEGIN_NODE) {
        children.push(parseNode(depth + 1));
      } else if (token === FDT_END_NODE) {
        return { name, props, children };
      } else if (token !== FDT_NOP) {
        bad(`unexpected token ${token}`);
      }
    }
  };

  if (u32() !== FDT_BEGIN_NODE) bad('no root node');
  const root = parseNode(0);
  while (u32() === FDT_NOP);
  if (view.getUint32(p - 4) !== FDT_END) bad('missing FDT_END');
  return root;
}

/** A string property, without its NUL; throws if absent or not a string. */
export function getString(node: FdtNode, name: string): string {
  const v = node.props.get(name);
  if (!v || v.length === 0 || v[v.length - 1] !== 0) {
    throw new KhoError('ENOEXEC', `FDT property "${name}" is missing or not a string`);
  }
  return Buffer.from(v.subarray(0, v.length - 1)).toString('utf8');
}

/** A KHO u64 property: exactly 8 raw little-endian bytes. */
export function getU64(node: FdtNode, name: string): number {
  const v = node.props.get(name);
  if (!v) throw new KhoError('ENOEXEC', `FDT property "${name}" is missing`);
  if (v.length !== 8) throw new KhoError('ENOEXEC', `FDT property "${name}" is ${v.length} bytes, not 8`);
  const view = new DataView(v.buffer, v.byteOffset, 8);
  return view.getUint32(0, true) + view.getUint32(4, true) * 4294967296;
}

/** Throws unless the root's compatible string is `expected`. */
export function expectCompatible(root: FdtNode, expected: string): void {
  const got = getString(root, 'compatible');
  if (got !== expected) {
    const raw = root.props.get('compatible')!;
    throw new KhoError('ENOEXEC', `FDT compatible ${quoteImageBytes(raw.subarray(0, raw.length - 1))}, expected "${expected}"`);
  }
}
