/**
 * Opens a generated report in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core; no browser is ever downloaded) and checks that
 * it loads with no console error and no network request, and that every
 * chart image is present and not blank. Also checks, on the PNGs, that the
 * CI error bars are really drawn.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadImage, createCanvas } from 'canvas';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barChart, renderPng } from './charts.ts';
import { makeFixture, setEstimate } from './fixture.ts';
import { type RunReport, buildRunReport } from './index.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dir: string;
let report: RunReport;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kho-report-browser-'));
  const write = async (name: string, results: unknown) => {
    await mkdir(path.join(dir, 'reports', name), { recursive: true });
    const file = path.join(dir, 'reports', name, 'results.json');
    await writeFile(file, JSON.stringify(results));
    return file;
  };
  // Every structure and scenario, and a baseline, so that every section of the page is drawn.
  const baseline = await write('run-1', makeFixture({ seed: 1, date: '2026-01-01T00:00:00Z' }));
  const current = await write('run-2', makeFixture({ seed: 2, date: '2026-01-02T00:00:00Z', slowdown: { 'radix-rfc': 1.2 } }));
  [report, browser] = await Promise.all([
    buildRunReport(current, { baseline }),
    chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

interface PageLog {
  requests: string[];
  errors: string[];
}

async function open(file: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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
    return {
      id: img.dataset.chart ?? '',
      complete: img.complete,
      width: img.naturalWidth,
      height: img.naturalHeight,
      inkedFraction: inked / Math.max(1, (img.naturalWidth * img.naturalHeight) / 7),
      colours: colours.size,
    };
  });
}

describe('report in headless Chromium', () => {
  it.skipIf(!existsSync(CHROMIUM))('loads with no console error and no network request; every chart is present and not blank', async () => {
    const { page, log } = await open(report.html);
    const url = pathToFileURL(report.html).href;
    expect(log.errors).toEqual([]);
    // The document itself is the only request (inline images are data: URIs).
    expect(log.requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);

    const stats = await page.evaluate(imageStats);
    expect(stats.length).toBe(report.charts);
    expect(stats.length).toBe(10 * 5 + 1 + 2 * 4); // 5 per scenario, metadata, 4 sweep metrics on 2 axes
    for (const s of stats) {
      expect(s.complete, s.id).toBe(true);
      expect(s.width, s.id).toBeGreaterThan(300);
      expect(s.height, s.id).toBeGreaterThan(200);
      expect(s.inkedFraction, s.id).toBeGreaterThan(0.02);
      expect(s.colours, s.id).toBeGreaterThan(8);
    }

    // The decision table and the answers are at the top, before the charts.
    const order = await page.evaluate(() => ['decisions', 'summary', 'baseline', 'scenarios'].map((id) => document.getElementById(id)!.offsetTop));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(await page.locator('table.decisions tbody tr').count()).toBe(10);

    // The same chart config, made interactive with the inlined Chart.js and the same plugins.
    await page.locator('button.make-live').first().click();
    const live = await page.evaluate(() => {
      const canvas = document.querySelector('figure canvas') as HTMLCanvasElement | null;
      const Chart = (window as unknown as { Chart?: { getChart(c: HTMLCanvasElement): { data: { datasets: { errorBars?: unknown[] }[] } } | undefined } }).Chart;
      const chart = canvas && Chart?.getChart(canvas);
      return { canvas: !!canvas, errorBars: chart?.data.datasets[0].errorBars?.length ?? 0 };
    });
    expect(live.canvas).toBe(true);
    expect(live.errorBars).toBeGreaterThan(0);
    expect(log.errors).toEqual([]);
    expect(log.requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);
    await page.close();
  });

  it.skipIf(!existsSync(CHROMIUM))('the runs index loads and links every run', async () => {
    const { page, log } = await open(report.index!);
    expect(log.errors).toEqual([]);
    expect(log.requests).toEqual([pathToFileURL(report.index!).href]);
    const links = await page.locator('td a[href$="report.html"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(['run-2/report.html']); // run-1 has results but no report yet
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.close();
  });
});

describe('CI error bars', () => {
  it('are drawn on the bar charts (dark pixels where the PNG without them has none)', async () => {
    const r = makeFixture({ scenarios: ['vm-2m'], structures: ['ida', 'radix'] });
    setEstimate(r, 'ida', 'vm-2m', 'restoreMs', 10, 6, 14);
    setEstimate(r, 'radix', 'vm-2m', 'restoreMs', 20, 15, 25);
    const spec = barChart(r, 'vm-2m', 'restoreMs', 'c1')!;
    const bare = structuredClone(spec);
    delete (bare.config.data.datasets[0] as { errorBars?: unknown }).errorBars;
    const pixels = async (png: Buffer) => {
      const img = await loadImage(png);
      const c = createCanvas(img.width, img.height);
      c.getContext('2d').drawImage(img, 0, 0);
      return c.getContext('2d').getImageData(0, 0, img.width, img.height).data;
    };
    const [a, b] = await Promise.all([renderPng(spec).then(pixels), renderPng(bare).then(pixels)]);
    let darkAdded = 0;
    for (let i = 0; i < a.length; i += 4) {
      const dark = a[i] < 80 && a[i + 1] < 80 && a[i + 2] < 80;
      const wasDark = b[i] < 80 && b[i + 1] < 80 && b[i + 2] < 80;
      if (dark && !wasDark) darkAdded++;
    }
    // Two bars, each with a vertical line and two caps spanning a large part of the plot height.
    expect(darkAdded).toBeGreaterThan(300);
  });
});
