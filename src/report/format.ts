/**
 * Number formatting for tables, sentences and chart axes. A time or a size
 * is shown in the unit its magnitude calls for (µs, not 0.00041 ms), an
 * interval in the unit of its value, and the lower bound of a quantity
 * that cannot be negative is never shown below zero.
 */
import type { MetricUnit } from '../results/metrics.ts';

/** Three significant digits, without exponent notation for ordinary magnitudes. */
export function sig(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  if (abs < 1e-4) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

export interface DisplayUnit {
  /** What the axis title or the table says: "µs", "KiB", "lines". */
  label: string;
  /** Values in the metric's own unit are divided by this to be shown in `label`. */
  divisor: number;
}

const TIME_UNITS: readonly { label: string; ns: number }[] = [
  { label: 'ns', ns: 1 },
  { label: 'µs', ns: 1e3 },
  { label: 'ms', ns: 1e6 },
  { label: 's', ns: 1e9 },
];
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

const COUNT_WORDS: Readonly<Record<string, string>> = {
  pages: 'pages',
  lines: 'lines',
  objects: 'objects',
  folios: 'folios',
  accesses: 'accesses',
  count: 'count',
};

/**
 * The unit to show values of `unit` in, chosen from a representative
 * magnitude (the largest value for a linear axis, so that ticks stay below
 * 1000 of the unit; the geometric middle for a log axis or a single value).
 */
export function displayUnit(unit: MetricUnit | string, magnitude: number): DisplayUnit {
  const a = Math.abs(magnitude);
  if (unit === 'ns' || unit === 'ms') {
    const toNs = unit === 'ms' ? 1e6 : 1;
    const ns = a * toNs;
    let chosen = TIME_UNITS[0];
    for (const u of TIME_UNITS) if (ns >= u.ns) chosen = u;
    return { label: chosen.label, divisor: chosen.ns / toNs };
  }
  if (unit === 'bytes') {
    let i = 0;
    while (i < BYTE_UNITS.length - 1 && a >= 1024 ** (i + 1)) i++;
    return { label: BYTE_UNITS[i], divisor: 1024 ** i };
  }
  return { label: COUNT_WORDS[unit] ?? unit, divisor: 1 };
}

/** A value with its unit, e.g. "412 µs", "24 MiB", "0.031 lines". */
export function formatValue(value: number, unit: MetricUnit | string): string {
  if (!Number.isFinite(value)) return '—';
  const d = displayUnit(unit, value);
  const shown = sig(value / d.divisor);
  return d.label === 'count' ? shown : `${shown} ${d.label}`;
}

/** A number in a given display unit, without the unit. */
export function formatIn(value: number, d: DisplayUnit): string {
  return sig(value / d.divisor);
}

/**
 * "[39.8, 42.6]": the bounds in the unit the value is shown in ('' without
 * an interval). `nonNegative` (times, sizes, counts) clamps the lower bound
 * at zero: a normal approximation may reach below it, the quantity cannot.
 */
export function formatBounds(value: number, low: number | undefined, high: number | undefined, unit: MetricUnit | string, nonNegative = true): string {
  if (low === undefined || high === undefined || !Number.isFinite(low) || !Number.isFinite(high) || (low === value && high === value)) return '';
  const d = displayUnit(unit, value);
  return `[${formatIn(nonNegative ? Math.max(0, low) : low, d)}, ${formatIn(high, d)}]`;
}

/** "41.2 ns [39.8, 42.6]" (just the value without an interval). */
export function formatWithInterval(value: number, low: number | undefined, high: number | undefined, unit: MetricUnit | string, nonNegative = true): string {
  const b = formatBounds(value, low, high, unit, nonNegative);
  return b ? `${formatValue(value, unit)} ${b}` : formatValue(value, unit);
}

export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '—';
  return `${sig(r)}×`;
}

/** "1.31× [1.20, 1.43]" (just the ratio when there is no interval). */
export function formatRatioInterval(value: number, low?: number, high?: number): string {
  if (low === undefined || high === undefined || !Number.isFinite(low) || !Number.isFinite(high) || (low === value && high === value)) {
    return formatRatio(value);
  }
  return `${formatRatio(value)} [${sig(low)}, ${sig(high)}]`;
}

/** "1.02 [0.98, 1.06]": a plain number with its interval (an exponent, a coefficient). */
export function formatNumberInterval(value: number, low: number, high: number): string {
  return low === value && high === value ? sig(value) : `${sig(value)} [${sig(low)}, ${sig(high)}]`;
}

export function formatPct(fraction: number, signed = false): string {
  if (!Number.isFinite(fraction)) return '—';
  const pct = fraction * 100;
  const abs = Math.abs(pct);
  const s = abs >= 100 ? pct.toFixed(0) : abs >= 10 ? pct.toFixed(1) : abs >= 0.1 || abs === 0 ? pct.toFixed(2) : pct.toPrecision(2);
  return `${signed && pct > 0 ? '+' : ''}${s}%`;
}

/** A threshold or share given as a round percentage: "5%", "2.5%". */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}

export function formatP(p: number): string {
  if (!Number.isFinite(p)) return '—';
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p.toFixed(3)}`;
}

export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** The date of a run for display: "2026-01-15 12:00 UTC" from an ISO string, else the string as given. */
export function formatDate(date: string): string {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return date;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "a, b and c" */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
