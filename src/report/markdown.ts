/**
 * A small Markdown-to-HTML renderer for the structures' READMEs, so the
 * report can carry each format description inside its one file. It
 * covers what those READMEs use: ATX headings, paragraphs, nested bullet
 * and numbered lists with continuation lines, fenced code, pipe tables
 * (also inside list items), code spans, bold, emphasis, links and
 * backslash escapes. Everything else is text.
 *
 * Safe by construction: every piece of text is HTML-escaped, raw HTML in
 * the Markdown shows as text, and a link keeps its href only when it is
 * absolute http(s) (or, with `linksBase`, a relative path resolved against
 * it); any other link is shown as its text, so the report never points
 * into a checkout.
 */
import { escapeHtml } from './html.ts';

export interface MarkdownOptions {
  /** Heading levels are shifted so that `#` becomes this level (default 4: under the report's own h2/h3). */
  topHeading?: number;
  /** Absolute URL that relative links resolve against (the README's own folder at a stable location). */
  linksBase?: string;
}

const FENCE = /^\s*(```+|~~~+)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])(\s+)(.*)$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}

function isTableStart(lines: readonly string[], i: number): boolean {
  return lines[i].includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].includes('-');
}

function startsBlock(lines: readonly string[], i: number): boolean {
  const l = lines[i];
  return FENCE.test(l) || HEADING.test(l) || ITEM.test(l) || isTableStart(lines, i);
}

/** Resolves a link target to an href the report may carry, or undefined (then the text alone is shown). */
function hrefOf(target: string, options: MarkdownOptions): string | undefined {
  if (/^https?:\/\//i.test(target)) return target;
  if (!options.linksBase || target.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  try {
    const url = new URL(target, options.linksBase.endsWith('/') ? options.linksBase : `${options.linksBase}/`);
    return /^https?:$/.test(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const ESCAPABLE = '\\`*_{}[]()#+-.!|<>~';

/** Inline Markdown to HTML: escapes, code spans, links, bold, emphasis; the rest escaped as text. */
export function renderInline(text: string, options: MarkdownOptions = {}): string {
  let out = '';
  let i = 0;
  let plain = '';
  const flush = () => {
    out += escapeHtml(plain);
    plain = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && ESCAPABLE.includes(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))![0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        out += `<code>${escapeHtml(text.slice(i + run.length, end).trim())}</code>`;
        i = end + run.length;
        continue;
      }
    }
    if (c === '[') {
      const m = /^\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)(?:\s+"[^"]*")?\)/.exec(text.slice(i));
      if (m) {
        flush();
        const href = hrefOf(m[2], options);
        const label = renderInline(m[1], options);
        out += href ? `<a href="${escapeHtml(href)}">${label}</a>` : label;
        i += m[0].length;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] === c) {
      const end = text.indexOf(c + c, i + 2);
      if (end > i + 2) {
        flush();
        out += `<strong>${renderInline(text.slice(i + 2, end), options)}</strong>`;
        i = end + 2;
        continue;
      }
    }
    if (c === '*' || (c === '_' && !/[A-Za-z0-9]/.test(text[i - 1] ?? ''))) {
      const rest = text.slice(i + 1);
      const m = c === '*' ? /^([^*\s](?:[^*]*[^*\s])?)\*/.exec(rest) : /^([^_\s](?:[^_]*[^_\s])?)_(?![A-Za-z0-9])/.exec(rest);
      if (m) {
        flush();
        out += `<em>${renderInline(m[1], options)}</em>`;
        i += 1 + m[0].length;
        continue;
      }
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

/** Splits a table row on the pipes that are not escaped or inside a code span. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cur = '';
  let code = false;
  const s = row.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && s[i + 1] === '|') {
      cur += '\\|';
      i++;
    } else if (c === '`') {
      code = !code;
      cur += c;
    } else if (c === '|' && !code) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  // Inside a code span the escaped pipe is a pipe.
  return out.map((x) => x.replace(/`[^`]*`/g, (span) => span.replace(/\\\|/g, '|')));
}

function table(lines: readonly string[], options: MarkdownOptions): string {
  const head = cells(lines[0]);
  const align = cells(lines[1]).map((a) => (a.startsWith(':') && a.endsWith(':') ? 'center' : a.endsWith(':') ? 'right' : ''));
  const cell = (tag: string, text: string, k: number) => `<${tag}${align[k] ? ` style="text-align:${align[k]}"` : ''}>${renderInline(text, options)}</${tag}>`;
  const body = lines.slice(2).map((l) => `<tr>${cells(l).map((c, k) => cell('td', c, k)).join('')}</tr>`);
  return `<div class="table-wrap"><table><thead><tr>${head.map((h, k) => cell('th', h, k)).join('')}</tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}

function list(lines: readonly string[], start: number, options: MarkdownOptions): { html: string; next: number } {
  const first = ITEM.exec(lines[start])!;
  const base = first[1].length;
  const ordered = /\d/.test(first[2]);
  const items: string[] = [];
  let i = start;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m || m[1].length !== base || /\d/.test(m[2]) !== ordered) break;
    const contentIndent = base + m[2].length + m[3].length;
    const body = [m[4]];
    i++;
    while (i < lines.length) {
      const l = lines[i];
      if (isBlank(l)) {
        // A blank line continues the item only if indented content follows.
        let j = i;
        while (j < lines.length && isBlank(lines[j])) j++;
        if (j < lines.length && indentOf(lines[j]) > base && !(ITEM.test(lines[j]) && indentOf(lines[j]) === base)) {
          for (; i < j; i++) body.push('');
          continue;
        }
        break;
      }
      const ind = indentOf(l);
      if (ind <= base && (ITEM.test(l) || startsBlock(lines, i) || ind < base)) break;
      if (ind <= base && !ITEM.test(l)) {
        // A lazy continuation line of the item's paragraph.
        body.push(l.trim());
        i++;
        continue;
      }
      body.push(l.slice(Math.min(ind, contentIndent)));
      i++;
    }
    // A tight item (no blank line inside) shows its first paragraph without <p>, as CommonMark does.
    const tight = !body.some((l) => isBlank(l));
    const inner = tight ? blocks(body, options).replace(/^<p>([\s\S]*?)<\/p>\n?/, '$1') : blocks(body, options);
    items.push(`<li>${inner}</li>`);
  }
  const tag = ordered ? 'ol' : 'ul';
  const startAt = ordered && parseInt(first[2], 10) !== 1 ? ` start="${parseInt(first[2], 10)}"` : '';
  return { html: `<${tag}${startAt}>${items.join('')}</${tag}>`, next: i };
}

function blocks(lines: readonly string[], options: MarkdownOptions): string {
  const out: string[] = [];
  const top = options.topHeading ?? 4;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
      const indent = indentOf(line);
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(marker)) {
        const l = lines[i++];
        code.push(l.slice(Math.min(indent, indentOf(l))));
      }
      i++;
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1].length - 1 + top);
      out.push(`<h${level}>${renderInline(heading[2], options)}</h${level}>`);
      i++;
      continue;
    }
    if (isTableStart(lines, i)) {
      const rows = [lines[i], lines[i + 1]];
      i += 2;
      while (i < lines.length && !isBlank(lines[i]) && lines[i].includes('|')) rows.push(lines[i++]);
      out.push(table(rows, options));
      continue;
    }
    if (ITEM.test(line)) {
      const l = list(lines, i, options);
      out.push(l.html);
      i = l.next;
      continue;
    }
    const para = [line.trim()];
    i++;
    while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines, i)) para.push(lines[i++].trim());
    out.push(`<p>${renderInline(para.join(' '), options)}</p>`);
  }
  return out.join('\n');
}

/** Markdown to an HTML fragment (escaped; see the module comment). */
export function renderMarkdown(markdown: string, options: MarkdownOptions = {}): string {
  return blocks(markdown.replace(/\r\n?/g, '\n').split('\n'), options);
}
