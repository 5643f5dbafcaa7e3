/**
 * Number formatting for tables, sentences and chart labels.
 */
import type { Unit } from './metrics.ts';

/** Three significant digits, without exponent notation for ordinary magnitudes. */
export function sig(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  if (abs < 1e-4) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : sig(v)} ${BYTE_UNITS[i]}`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  if (abs !== 0 && abs < 0.001) return `${sig(ms * 1e6)} ns`;
  if (abs !== 0 && abs < 1) return `${sig(ms * 1e3)} µs`;
  if (abs >= 10_000) return `${sig(ms / 1e3)} s`;
  return `${sig(ms)} ms`;
}

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (Math.abs(ns) >= 1e6) return formatMs(ns / 1e6);
  if (Math.abs(ns) >= 1e3) return `${sig(ns / 1e3)} µs`;
  return `${sig(ns)} ns`;
}

export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'ns':
      return formatNs(value);
    case 'ms':
      return formatMs(value);
    case 'bytes':
      return formatBytes(value);
  }
}

/** "1.23 [1.10, 1.40]" in the metric's unit (just the value when the interval is a point). */
export function formatWithCi(value: number, low: number, high: number, unit: Unit): string {
  if (low === high && low === value) return formatValue(value, unit);
  return `${formatValue(value, unit)} [${formatValue(low, unit)}, ${formatValue(high, unit)}]`;
}

export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '—';
  if (r >= 1000) return `${sig(r, 2)}×`.replace(/,/g, ' ');
  return `${sig(r)}×`;
}

export function formatRatioCi(value: number, low: number, high: number): string {
  if (!Number.isFinite(low) || !Number.isFinite(high) || (low === value && high === value)) return formatRatio(value);
  return `${formatRatio(value)} [${sig(low)}, ${sig(high)}]`;
}

export function formatPct(fraction: number, signed = false): string {
  if (!Number.isFinite(fraction)) return '—';
  const pct = fraction * 100;
  const s = Math.abs(pct) >= 100 ? pct.toFixed(0) : Math.abs(pct) >= 10 ? pct.toFixed(1) : pct.toFixed(2);
  return `${signed && pct > 0 ? '+' : ''}${s}%`;
}

export function formatP(p: number): string {
  if (!Number.isFinite(p)) return '—';
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p.toFixed(3)}`;
}

/** The date of a run for display: "2026-01-15 12:00 UTC" from an ISO string, else the string as given. */
export function formatDate(date: string): string {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return date;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
