/**
 * Opens a generated report in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core; no browser is ever downloaded) at 1280 px and
 * checks what a reader relies on: no console error and no network request;
 * every chart present, not blank, with axis titles that carry a unit; no
 * table wider than the page; every link resolving inside the file; the
 * sticky bar not hiding a heading jumped to; the three answers in the first
 * screen; and a chart made interactive, with tooltips that give the unit,
 * the interval and the processes. Also checks, on the PNGs, that the
 * error bars and the per-process dots are really drawn.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCanvas, loadImage } from 'canvas';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackoutChart, processChart, renderPng } from './charts.ts';
import { makeFixture } from './fixture.ts';
import { type RunReport, buildRunReport } from './index.ts';
import { measuredScenarios } from './metrics.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1280, height: 900 };

let dir: string;
let report: RunReport;
/** A `--design-space` run: every family point, the named structures, one timing process per pair. */
let designReport: RunReport;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kho-report-browser-'));
  const write = async (name: string, results: unknown, root = 'reports') => {
    await mkdir(path.join(dir, root, name), { recursive: true });
    const file = path.join(dir, root, name, 'results.json');
    await writeFile(file, JSON.stringify(results));
    return file;
  };
  // Every structure and scenario, and a baseline, so that every section of the page is drawn.
  const baseline = await write('run-1', makeFixture({ seed: 1, date: '2026-01-01T00:00:00Z' }));
  const current = await write('run-2', makeFixture({ seed: 2, date: '2026-01-02T00:00:00Z', slowdown: { 'radix-rfc': 1.2 } }));
  // Outside reports/, so that the runs index above lists only the two runs.
  const design = makeFixture({ seed: 3, designSpace: {}, processes: 1, sweeps: false });
  design.plan!.sweeps = false;
  const designFile = await write('run-ds', design, 'design');
  [report, designReport, browser] = await Promise.all([
    buildRunReport(current, { baseline }),
    buildRunReport(designFile),
    chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
  ]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

interface PageLog {
  requests: string[];
  errors: string[];
}

async function open(file: string) {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const log: PageLog = { requests: [], errors: [] };
  page.on('request', (r) => log.requests.push(r.url()));
  page.on('requestfailed', (r) => log.errors.push(`request failed: ${r.url()}`));
  page.on('console', (m) => {
    if (m.type() === 'error') log.errors.push(m.text());
  });
  page.on('pageerror', (e) => log.errors.push(String(e)));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, log };
}

/** Per <img>: its size and, drawn to a canvas, how many pixels are not background and how many colours it has. */
function imageStats() {
  return Array.from(document.images).map((img) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d')!;
    let inked = 0;
    const colours = new Set<number>();
    if (img.naturalWidth > 0) {
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4 * 7) {
        const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        colours.add(rgb);
        if (rgb !== 0xffffff) inked++;
      }
    }
    const fig = img.closest('figure') as HTMLElement | null;
    return {
      id: img.dataset.chart ?? '',
      complete: img.complete,
      width: img.naturalWidth,
      height: img.naturalHeight,
      inkedFraction: inked / Math.max(1, (img.naturalWidth * img.naturalHeight) / 7),
      colours: colours.size,
      x: fig?.dataset.xTitle ?? '',
      y: fig?.dataset.yTitle ?? '',
    };
  });
}

const UNIT = /\((ns|µs|ms|s|B|KiB|MiB|GiB|TiB|count|folios|lines|pages|accesses|×)(, log scale)?\)$/;

describe('report in headless Chromium', () => {
  it.skipIf(!existsSync(CHROMIUM))('loads with no console error and no network request; every chart is present, not blank, and titled with a unit', async () => {
    const { page, log } = await open(report.html);
    const url = pathToFileURL(report.html).href;
    expect(log.errors).toEqual([]);
    // The document itself is the only request (inline images are data: URIs).
    expect(log.requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);

    const stats = await page.evaluate(imageStats);
    expect(stats.length).toBe(report.charts);
    // 6 per scenario, metadata, the model against the measurement, 6 sweep metrics on 2 axes.
    expect(stats.length).toBe(measuredScenarios(report.results).length * 6 + 2 + 12);
    for (const s of stats) {
      expect(s.complete, s.id).toBe(true);
      expect(s.width, s.id).toBeGreaterThan(300);
      expect(s.height, s.id).toBeGreaterThan(200);
      expect(s.inkedFraction, s.id).toBeGreaterThan(0.02);
      expect(s.colours, s.id).toBeGreaterThan(8);
      expect(s.x.trim().length, `${s.id} x axis`).toBeGreaterThan(0);
      expect(s.y, `${s.id} y axis`).toMatch(UNIT);
      if (s.x !== 'structure' && s.x !== 'scenario') expect(s.x, `${s.id} x axis`).toMatch(UNIT);
    }
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('no table is wider than the page at 1280 px, with every section open', async () => {
    const { page } = await open(report.html);
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      return Array.from(document.querySelectorAll('table'))
        .filter((t) => t.getBoundingClientRect().right > width + 0.5 || t.scrollWidth > (t.parentElement?.clientWidth ?? width) + 0.5)
        .map((t) => `${t.closest('section')?.id}: ${t.scrollWidth}px in ${t.parentElement?.clientWidth}px`);
    });
    expect(overflow).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('every link resolves inside the file, and the sticky bar hides no heading jumped to', async () => {
    const { page } = await open(report.html);
    const links = await page.evaluate(() => Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')!));
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((h) => !h.startsWith('#'))).toEqual([]);
    const missing = await page.evaluate((hrefs) => hrefs.filter((h) => !document.getElementById(decodeURIComponent(h.slice(1)))), links);
    expect(missing).toEqual([]);
    for (const target of ['decisions', 'scaling', 'numbers']) {
      await page.click(`nav.toc a[href="#${target}"]`);
      const { navBottom, top } = await page.evaluate((id) => {
        const heading = document.getElementById(id)!.querySelector('h2')!;
        return { navBottom: document.querySelector('nav.toc')!.getBoundingClientRect().bottom, top: heading.getBoundingClientRect().top };
      }, target);
      expect(top, target).toBeGreaterThanOrEqual(navBottom);
    }
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('the three answers come first, each with its figure in the first screen; the decision table has a row per scenario', async () => {
    const { page } = await open(report.html);
    const order = await page.evaluate(() => ['answers', 'decisions', 'baseline', 'model', 'scenarios'].map((id) => document.getElementById(id)!.offsetTop));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const answers = await page.evaluate(() => Array.from(document.querySelectorAll('article.answer')).map((a) => ({ bottom: a.querySelector('p.headline')!.getBoundingClientRect().bottom, text: a.textContent ?? '' })));
    expect(answers).toHaveLength(3);
    for (const a of answers) expect(a.bottom).toBeLessThanOrEqual(VIEWPORT.height);
    expect(answers[0].text).toMatch(/Serialization at kexec costs [\d.]+ µs on xarray-6\.19/);
    expect(await page.locator('table.decisions tbody tr').count()).toBe(measuredScenarios(report.results).length);
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('a chart made interactive uses the same plugins, and its tooltips give unit, interval and processes', async () => {
    const { page, log } = await open(report.html);
    await page.locator('#scenarios button.make-live').first().click();
    const live = await page.evaluate(() => {
      type Item = { dataset: unknown; dataIndex: number; parsed: { y: number } };
      type Live = { data: { datasets: { boxes?: unknown[] }[] }; options: { plugins: { tooltip: { callbacks: { label(i: Item): string } } } } };
      const canvas = document.querySelector('#scenarios figure canvas') as HTMLCanvasElement | null;
      const Chart = (window as unknown as { Chart?: { getChart(c: HTMLCanvasElement): Live | undefined } }).Chart;
      const chart = canvas && Chart?.getChart(canvas);
      const ds = chart?.data.datasets[0];
      return {
        canvas: !!canvas,
        boxes: ds?.boxes?.length ?? 0,
        tip: chart && ds ? chart.options.plugins.tooltip.callbacks.label({ dataset: ds, dataIndex: 0, parsed: { y: 0 } }) : '',
      };
    });
    expect(live.canvas).toBe(true);
    expect(live.boxes).toBeGreaterThan(0);
    expect(live.tip).toMatch(/^flat-bitmap: [\d.]+ ns \[[\d.]+, [\d.]+\] \(mean, 95% interval\), n = 10/);
    expect(log.errors).toEqual([]);
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('the runs index loads and links every run with a report', async () => {
    const { page, log } = await open(report.index!);
    expect(log.errors).toEqual([]);
    expect(log.requests).toEqual([pathToFileURL(report.index!).href]);
    const links = await page.locator('td a[href$="report.html"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(['run-2/report.html']); // run-1 has results but no report
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.close();
  });
});

async function pixels(png: Buffer): Promise<Uint8ClampedArray> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  c.getContext('2d').drawImage(img, 0, 0);
  return c.getContext('2d').getImageData(0, 0, img.width, img.height).data;
}

/** Pixels that got darker by more than 60 in every channel: what a drawn line or dot adds. */
function darkAdded(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (b[i] - a[i] > 60 && b[i + 1] - a[i + 1] > 60 && b[i + 2] - a[i + 2] > 60) n++;
  return n;
}

describe('the design-space section in headless Chromium', () => {
  it.skipIf(!existsSync(CHROMIUM))('renders at 1280 px without overflowing: conclusions first, a frontier chart per scenario and axis, titled with units, every table inside the page, every link inside the file', async () => {
    const { page, log } = await open(designReport.html);
    expect(log.errors).toEqual([]);
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const ds = designReport.designSpace!;
    const section = await page.evaluate(() => {
      const next = document.getElementById('next')!;
      const width = document.documentElement.clientWidth;
      return {
        first: next.querySelector('article.answer p.headline')?.textContent ?? '',
        items: next.querySelectorAll('article.answer li').length,
        figures: Array.from(next.querySelectorAll('figure')).map((f) => ({ x: (f as HTMLElement).dataset.xTitle ?? '', y: (f as HTMLElement).dataset.yTitle ?? '', right: f.getBoundingClientRect().right })),
        tables: next.querySelectorAll('table').length,
        overflow: Array.from(next.querySelectorAll('table, figure, img'))
          .filter((t) => t.getBoundingClientRect().right > width + 0.5 || (t.tagName === 'TABLE' && t.scrollWidth > (t.parentElement?.clientWidth ?? width) + 0.5))
          .map((t) => `${t.tagName} ${t.scrollWidth}px`),
        scroll: document.documentElement.scrollWidth <= width,
      };
    });
    expect(section.first).toBe(ds.conclusions[0]);
    expect(section.items).toBe(ds.conclusions.length - 1);
    expect(section.figures).toHaveLength(ds.scenarios.length * 2);
    for (const f of section.figures) {
      expect(f.x).toMatch(/^metadata_bytes_handover \((B|KiB|MiB|GiB)(, log scale)?\)$/);
      expect(f.y).toMatch(/^(blackout_model_ms|preserve_model_ns) \((ns|µs|ms|s)(, log scale)?\)$/);
    }
    // Two charts a row, both inside the 1280 px page.
    expect(Math.max(...section.figures.map((f) => f.right))).toBeLessThanOrEqual(VIEWPORT.width);
    expect(section.tables).toBeGreaterThan(ds.scenarios.length);
    expect(section.overflow).toEqual([]);
    expect(section.scroll).toBe(true);
    // Links stay in the file (the family's README is embedded) and resolve.
    const links = await page.evaluate(() => Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')!));
    expect(links).toContain('#structure-family');
    expect(links.filter((h) => !h.startsWith('#'))).toEqual([]);
    expect(await page.evaluate((hrefs) => hrefs.filter((h) => !document.getElementById(decodeURIComponent(h.slice(1)))), links)).toEqual([]);
    // Every chart of the page drawn, the section's among them.
    const stats = await page.evaluate(imageStats);
    expect(stats.length).toBe(designReport.charts);
    for (const s of stats) {
      expect(s.inkedFraction, s.id).toBeGreaterThan(0.02);
      expect(s.y, `${s.id} y axis`).toMatch(UNIT);
    }
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('a frontier chart made interactive names each point, what it hands over and where it stands', async () => {
    const { page, log } = await open(designReport.html);
    await page.locator('#next button.make-live').first().click();
    const tips = await page.evaluate(() => {
      type Item = { dataset: unknown; dataIndex: number; parsed: { y: number } };
      type Live = { data: { datasets: { label: string; data: unknown[] }[] }; options: { plugins: { tooltip: { callbacks: { label(i: Item): string } } } } };
      const canvas = document.querySelector('#next figure canvas') as HTMLCanvasElement | null;
      const Chart = (window as unknown as { Chart?: { getChart(c: HTMLCanvasElement): Live | undefined } }).Chart;
      const chart = canvas && Chart?.getChart(canvas);
      if (!chart) return [];
      return chart.data.datasets.flatMap((ds) => ds.data.map((_, i) => chart.options.plugins.tooltip.callbacks.label({ dataset: ds, dataIndex: i, parsed: { y: 0 } })));
    });
    expect(tips.some((t) => /^radix: [\d.]+ [KM]?i?B handed over \(exact\), [\d.]+ (ns|µs|ms) blackout \(model, AMD EPYC 9654\); (on the frontier|dominated by )/.test(t))).toBe(true);
    expect(tips.some((t) => /^fam-l\d+-f\d+-(key|perorder)-(bitmap|extent) \(\d+ [K]?i?B (bitmap|extent-list) leaves/.test(t))).toBe(true);
    expect(log.errors).toEqual([]);
    await page.close();
  });
});

describe('drawn on the PNGs', () => {
  it('error bars on stacked bars, and the per-process dots of a box plot', async () => {
    const r = makeFixture({ scenarios: ['sparse-4k-16m'], structures: ['xarray-6.19', 'radix'], cv: 0.15, sweeps: false });
    const stacked = blackoutChart(r, 'sparse-4k-16m', 'c1')!;
    const bare = structuredClone(stacked);
    for (const ds of bare.config.data.datasets as { errorBars?: unknown }[]) delete ds.errorBars;
    const box = processChart(r, 'sparse-4k-16m', 'preserve_ns_per_folio', 'c2')!;
    const noDots = structuredClone(box);
    for (const b of (noDots.config.data.datasets[0] as unknown as { boxes: { points: number[] }[] }).boxes) b.points = [];
    const [a, b, c, d] = await Promise.all([renderPng(stacked), renderPng(bare), renderPng(box), renderPng(noDots)].map((p) => p.then(pixels)));
    expect(darkAdded(a, b)).toBeGreaterThan(100);
    // Ten processes a box, two boxes: twenty dots of a few pixels each.
    expect(darkAdded(c, d)).toBeGreaterThan(200);
  });
});
