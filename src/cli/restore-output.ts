/**
 * What `kho restore` does with the folios a walk reports, without holding
 * them:
 *
 *   Containers    marks every folio above order 0 (the first walk, which
 *                 also proves the image sound before a line is printed),
 *                 and answers whether a folio lies inside a larger one;
 *   FolioPrinter  writes "0x<phys> <order>" lines, 64 KiB at a time, and
 *                 counts the folios that lie inside a larger one.
 *
 * Folios are naturally aligned powers of two, so two folios of different
 * orders overlap only when the larger holds the smaller: counting the
 * folios that lie inside a larger one counts every overlap. Containers
 * keeps one bit per possible folio of each order that has one, in 4 KiB
 * chunks of 32768 folios made on first use: at most 4 KiB per folio above
 * order 0 and RAM / 32768 bytes in all (512 MiB on 16 TiB, 2 MiB on
 * 64 GiB); a tree's leaf covers exactly one chunk, so for radix, radix-rfc
 * and xarray-6.18 images it is at most the size of their leaves.
 */
import { writeSync } from 'node:fs';
import { INV_TWO32 } from '../ram/phys-mem.ts';
import { type FolioSink, INV_FOLIO_BYTES, MAX_ORDER } from '../tracker/tracker.ts';

const CHUNK_FOLIOS = 32768;
const INV_CHUNK_FOLIOS = 2 ** -15;

export class Containers implements FolioSink {
  private readonly chunks: Map<number, Int32Array>[] = Array.from({ length: MAX_ORDER + 1 }, () => new Map());
  /** Orders with a marked folio, ascending. */
  private readonly marked: number[] = [];
  /** Per order, the chunk last looked up (folios of an order come out ascending, so it is usually the next one's). */
  private readonly lastKey = new Float64Array(MAX_ORDER + 1).fill(-1);
  private readonly lastChunk: (Int32Array | undefined)[] = [];

  add(phys: number, order: number): void {
    if (order === 0) return;
    const map = this.chunks[order];
    if (map.size === 0) {
      this.marked.push(order);
      this.marked.sort((a, b) => a - b);
    }
    const f = phys * INV_FOLIO_BYTES[order];
    const key = Math.floor(f * INV_CHUNK_FOLIOS);
    let chunk = map.get(key);
    if (chunk === undefined) map.set(key, (chunk = new Int32Array(CHUNK_FOLIOS / 32)));
    const bit = f - key * CHUNK_FOLIOS;
    chunk[bit >>> 5] |= 1 << (bit & 31);
  }

  /** Whether the folio lies inside a marked folio of a higher order. */
  holds(phys: number, order: number): boolean {
    for (const o of this.marked) {
      if (o <= order) continue;
      const f = Math.floor(phys * INV_FOLIO_BYTES[o]);
      const key = Math.floor(f * INV_CHUNK_FOLIOS);
      if (key !== this.lastKey[o]) {
        this.lastKey[o] = key;
        this.lastChunk[o] = this.chunks[o].get(key);
      }
      const chunk = this.lastChunk[o];
      const bit = f - key * CHUNK_FOLIOS;
      if (chunk !== undefined && (chunk[bit >>> 5] & (1 << (bit & 31))) !== 0) return true;
    }
    return false;
  }
}

const BUFFER_BYTES = 64 * 1024;
/** The longest line: "0x" + 13 hex digits + " 18\n". */
const MAX_LINE = 2 + 13 + 4;
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const SPACE = 0x20;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const LOWER_X = 0x78;

/** "0x<phys> <order>" per folio, as bytes, written to `fd` whenever 64 KiB are ready; counts the folios inside larger ones. */
export class FolioPrinter implements FolioSink {
  overlaps = 0;
  private readonly buf = new Uint8Array(BUFFER_BYTES);
  private at = 0;

  constructor(
    private readonly fd: number,
    private readonly containers: Containers,
  ) {}

  add(phys: number, order: number): void {
    if (this.at > BUFFER_BYTES - MAX_LINE) this.flush();
    const b = this.buf;
    let at = this.at;
    b[at++] = DIGIT_0;
    b[at++] = LOWER_X;
    const hi = Math.floor(phys * INV_TWO32);
    at = hi > 0 ? putHex(b, putHex(b, at, hi, 1), phys >>> 0, 8) : putHex(b, at, phys >>> 0, 1);
    b[at++] = SPACE;
    if (order >= 10) b[at++] = DIGIT_0 + Math.floor(order / 10);
    b[at++] = DIGIT_0 + (order % 10);
    b[at++] = NEWLINE;
    this.at = at;
    if (this.containers.holds(phys, order)) this.overlaps++;
  }

  flush(): void {
    writeAll(this.fd, this.buf.subarray(0, this.at));
    this.at = 0;
  }
}

/** Writes the hex digits of the uint32 `v`, at least `minDigits` of them, at `at`; returns the end. */
function putHex(b: Uint8Array, at: number, v: number, minDigits: number): number {
  const digits = Math.max(minDigits, (32 - Math.clz32(v) + 3) >>> 2);
  for (let i = digits - 1; i >= 0; i--) {
    b[at + i] = HEX[v & 15];
    v >>>= 4;
  }
  return at + digits;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Synchronous, so the walk never runs ahead of its output; a descriptor a
 * parent left non-blocking is waited on. Errors name "standard output" so
 * that they end as one line.
 */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EAGAIN') throw Object.assign(e as Error, { path: 'standard output' });
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
