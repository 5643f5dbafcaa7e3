/**
 * Parsing of the sizes and addresses users type: "0x1000", "4096",
 * "64G", "16T"; and RAM layouts: one size ("64G", a bank at 0) or banks
 * "SIZE@START,SIZE@START" (e.g. "4G@0,1G@0x8000000000000").
 */
import type { Bank } from '../ram/phys-mem.ts';
import { UsageError } from './guard.ts';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

export function parseSize(text: string, what: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  const value = m ? Number(m[1]) * UNITS[m[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UsageError(`${what} "${text}" is not a size or address (like 0x1000, 4096, 64G)`);
  }
  return value;
}

export function parseRam(text: string): Bank[] {
  return text.split(',').map((part) => {
    const [size, start = '0'] = part.split('@');
    return { start: parseSize(start, 'RAM bank start'), size: parseSize(size, 'RAM size') };
  });
}

export function formatBanks(banks: readonly Bank[]): string {
  return banks.map((b) => `0x${b.size.toString(16)}@0x${b.start.toString(16)}`).join(',');
}
