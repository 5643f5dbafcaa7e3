/**
 * HTML building with escaping by default.
 *
 * Every page of the report is written with the `html` tagged template: an
 * interpolated value is HTML-escaped unless it is already `SafeHtml` (the
 * result of another `html` template, or of `raw()` for markup the report
 * itself produced). Strings read from a results file therefore cannot
 * inject markup, whatever they contain.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for use in HTML content and in quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** Marks markup produced by the report itself as safe. Never pass results-file strings here. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

/** Tagged template: `html\`<td>${name}</td>\`` escapes `name` unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Joins fragments (each escaped unless SafeHtml) with an optional separator. */
export function join(parts: readonly Interpolated[], separator = ''): SafeHtml {
  return new SafeHtml(parts.map(render).join(separator));
}

/** Escapes a value for a Markdown table cell or paragraph. */
export function escapeMarkdown(text: unknown): string {
  return String(text)
    .replace(/\r?\n/g, ' ')
    .replace(/([\\`*_{}[\]<>|#!])/g, '\\$1')
    .replace(/&/g, '&amp;');
}

/** Quotes one CSV field (RFC 4180), and defuses spreadsheet formulas in strings. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',');
}

/**
 * JSON for an inline <script>: also escapes `<`, `>`, `&` and the line
 * separators, so a string can never close the script element.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
