import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderInline, renderMarkdown } from './markdown.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('Markdown to HTML', () => {
  it('headings shifted under the report, paragraphs joined, code spans, bold and emphasis', () => {
    const out = renderMarkdown('# Title\n\nSome *text* on\ntwo lines with `a < b` and **bold _x_**.\n\n## Part');
    expect(out).toBe('<h4>Title</h4>\n<p>Some <em>text</em> on two lines with <code>a &lt; b</code> and <strong>bold <em>x</em></strong>.</p>\n<h5>Part</h5>');
  });

  it('nested lists with continuation lines, numbered lists, fenced code', () => {
    const md = ['- one', '  continued', '  - inner', '- two', '', '3. three', '4. four', '', '```', 'x <y>', '  z', '```'].join('\n');
    expect(renderMarkdown(md)).toBe(
      '<ul><li>one continued<ul><li>inner</li></ul></li><li>two</li></ul>\n<ol start="3"><li>three</li><li>four</li></ol>\n<pre><code>x &lt;y&gt;\n  z</code></pre>',
    );
  });

  it('pipe tables, also inside a list item, with escaped pipes and alignment', () => {
    const md = ['- a list item:', '', '  | a | b |', '  |---|--:|', '  | `x \\| 1` | y\\|z |', '', 'after'].join('\n');
    expect(renderMarkdown(md)).toBe(
      '<ul><li><p>a list item:</p>\n<div class="table-wrap"><table><thead><tr><th>a</th><th style="text-align:right">b</th></tr></thead><tbody><tr><td><code>x | 1</code></td><td style="text-align:right">y|z</td></tr></tbody></table></div></li></ul>\n<p>after</p>',
    );
  });

  it('escapes raw HTML, and keeps only absolute http(s) links unless a links base is given', () => {
    expect(renderMarkdown('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(renderInline('[doc](../x.md) [web](https://example.org/a?b=1&c=2) [js](javascript:alert(1)) [frag](#x)')).toBe(
      'doc <a href="https://example.org/a?b=1&amp;c=2">web</a> js frag',
    );
    expect(renderInline('[doc](x.md)', { linksBase: 'https://example.org/repo/blob/v1/structures/radix/' })).toBe(
      '<a href="https://example.org/repo/blob/v1/structures/radix/x.md">doc</a>',
    );
  });

  it("renders every structure README without losing text or leaving Markdown table syntax", () => {
    for (const id of ['flat-bitmap', 'xarray', 'ida', 'radix-rfc', 'radix']) {
      const md = readFileSync(path.join(ROOT, 'structures', id, 'README.md'), 'utf8');
      const html = renderMarkdown(md);
      expect(html, id).not.toMatch(/<(?!\/?(h[4-6]|p|ul|ol|li|code|pre|strong|em|a|div|table|thead|tbody|tr|th|td)[ >])/);
      expect(html, id).not.toMatch(/\|\s*---/);
      const words = (s: string) => (s.match(/[A-Za-z]{4,}/g) ?? []).length;
      const text = html.replace(/<[^>]+>/g, ' ').replace(/&[a-z#0-9]+;/g, ' ');
      expect(words(text), id).toBeGreaterThanOrEqual(words(md.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')) * 0.98);
    }
  });
});
