/**
 * The two Chart.js plugins the report draws with, written as plain
 * JavaScript source so that exactly the same code runs in Node (to render
 * the PNGs) and, inlined, in the browser (interactive charts). Chart.js
 * has neither error bars nor box plots built in.
 *
 * - `khoErrorBars`: a dataset may carry `errorBars: [[low, high] | null, ...]`
 *   (one per data index, in data units); each is drawn as a vertical bar
 *   with caps over the dataset's element at that index.
 * - `khoBoxPlot`: a floating-bar dataset ([q1, q3] per index) may carry
 *   `boxes: [{ whiskerLow, median, whiskerHigh, outliers } | null, ...]`;
 *   whiskers, the median line and outlier dots are drawn over the bar.
 * - `withTicks` (a config helper, not a plugin): adds unit-aware tick
 *   labels from `options.scales.<id>.khoUnit` ('ns' | 'ms' | 'bytes' |
 *   'count'), and readable tick positions on log axes (1-2-5 decades, or
 *   powers of two for bytes), since functions cannot travel in a JSON config.
 */
import type { ChartConfiguration, Plugin } from 'chart.js';

export const CHART_PLUGINS_SOURCE = String.raw`(function () {
  function fmtNum(v) {
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1000) return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    if (a < 0.001) return v.toExponential(1);
    return String(Number(v.toPrecision(3)));
  }
  function fmtUnit(v, unit) {
    var a = Math.abs(v);
    if (unit === 'bytes') {
      var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], i = 0;
      while (a >= 1024 && i < u.length - 1) { a /= 1024; v /= 1024; i++; }
      return fmtNum(v) + ' ' + u[i];
    }
    if (unit === 'ms') {
      if (a !== 0 && a < 0.001) return fmtNum(v * 1e6) + ' ns';
      if (a !== 0 && a < 1) return fmtNum(v * 1e3) + ' µs';
      if (a >= 10000) return fmtNum(v / 1e3) + ' s';
      return fmtNum(v) + ' ms';
    }
    if (unit === 'ns') {
      if (a >= 1e6) return fmtNum(v / 1e6) + ' ms';
      if (a >= 1e3) return fmtNum(v / 1e3) + ' µs';
      return fmtNum(v) + ' ns';
    }
    return fmtNum(v);
  }
  var errorBars = {
    id: 'khoErrorBars',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, di) {
        if (!ds.errorBars || !chart.isDatasetVisible(di)) return;
        var meta = chart.getDatasetMeta(di);
        var yScale = chart.scales[meta.yAxisID];
        var area = chart.chartArea;
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top - 6, area.right - area.left, area.bottom - area.top + 6);
        ctx.clip();
        ctx.strokeStyle = ds.errorBarColor || '#222';
        ctx.lineWidth = 1.5;
        ds.errorBars.forEach(function (eb, i) {
          var el = meta.data[i];
          if (!eb || !el) return;
          var lo = eb[0], hi = eb[1];
          if (yScale.type === 'logarithmic') {
            var floor = yScale.min;
            if (!(lo > 0)) lo = floor;
            if (!(hi > 0)) return;
          }
          var x = el.x;
          var yl = yScale.getPixelForValue(lo), yh = yScale.getPixelForValue(hi);
          var w = Math.max(3, Math.min(8, (el.width || 12) / 4));
          ctx.beginPath();
          ctx.moveTo(x, yl); ctx.lineTo(x, yh);
          ctx.moveTo(x - w, yl); ctx.lineTo(x + w, yl);
          ctx.moveTo(x - w, yh); ctx.lineTo(x + w, yh);
          ctx.stroke();
        });
        ctx.restore();
      });
    }
  };
  var boxPlot = {
    id: 'khoBoxPlot',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, di) {
        if (!ds.boxes || !chart.isDatasetVisible(di)) return;
        var meta = chart.getDatasetMeta(di);
        var yScale = chart.scales[meta.yAxisID];
        var area = chart.chartArea;
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        ctx.clip();
        ds.boxes.forEach(function (b, i) {
          var el = meta.data[i];
          if (!b || !el) return;
          var x = el.x, w = (el.width || 12) / 2;
          var y = function (v) { return yScale.getPixelForValue(v); };
          ctx.strokeStyle = '#222';
          ctx.lineWidth = 1.25;
          ctx.beginPath();
          ctx.moveTo(x, y(b.whiskerLow)); ctx.lineTo(x, y(b.q1));
          ctx.moveTo(x, y(b.q3)); ctx.lineTo(x, y(b.whiskerHigh));
          ctx.moveTo(x - w / 2, y(b.whiskerLow)); ctx.lineTo(x + w / 2, y(b.whiskerLow));
          ctx.moveTo(x - w / 2, y(b.whiskerHigh)); ctx.lineTo(x + w / 2, y(b.whiskerHigh));
          ctx.stroke();
          ctx.lineWidth = 2.5;
          ctx.beginPath();
          ctx.moveTo(x - w, y(b.median)); ctx.lineTo(x + w, y(b.median));
          ctx.stroke();
          ctx.fillStyle = 'rgba(34,34,34,0.55)';
          (b.outliers || []).forEach(function (o) {
            ctx.beginPath();
            ctx.arc(x, y(o), 2, 0, 2 * Math.PI);
            ctx.fill();
          });
        });
        ctx.restore();
      });
    }
  };
  // Tick positions for log axes: 1, 2, 5 × 10^k (fewer when the range is wide, more when narrow);
  // for byte axes powers of two, which read as whole KiB / MiB / GiB.
  function logTicks(min, max, unit) {
    var out = [], k, v, i;
    if (!(min > 0) || !(max > min)) return out;
    if (unit === 'bytes') {
      var lo = Math.ceil(Math.log2(min) - 1e-9), hi = Math.floor(Math.log2(max) + 1e-9);
      var steps = [1, 2, 5, 10], step = 1;
      for (i = 0; i < steps.length; i++) { step = steps[i]; if ((hi - lo) / step <= 8) break; }
      for (k = Math.ceil(lo / step) * step; k <= hi; k += step) out.push(Math.pow(2, k));
      return out;
    }
    var sets = [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]];
    for (i = 0; i < sets.length; i++) {
      out = [];
      for (k = Math.floor(Math.log10(min)) - 1; k <= Math.ceil(Math.log10(max)); k++) {
        sets[i].forEach(function (m) {
          v = Number((m * Math.pow(10, k)).toPrecision(6));
          if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
        });
      }
      if (out.length >= 4 || i === sets.length - 1) {
        if (i === 0 && out.length < 4) continue;
        return out;
      }
    }
    return out;
  }
  // Linear byte axes: steps of 1, 2 or 5 × 10^k B, KiB, MiB, GiB or TiB, so labels read whole units.
  function byteTicks(min, max) {
    var span = max - min, out = [], step = 0, u, i, v;
    if (!(span > 0)) return out;
    var mults = [1, 2, 5, 10, 20, 50, 100, 200, 500];
    for (u = 0; u < 5 && !step; u++) {
      for (i = 0; i < mults.length; i++) {
        if (span / (mults[i] * Math.pow(1024, u)) <= 8) { step = mults[i] * Math.pow(1024, u); break; }
      }
    }
    if (!step) return out;
    for (v = Math.ceil(min / step) * step; v <= max * (1 + 1e-9); v += step) out.push(v);
    return out;
  }
  function withTicks(config) {
    var scales = (config.options && config.options.scales) || {};
    Object.keys(scales).forEach(function (id) {
      var s = scales[id];
      if (!s.khoUnit) return;
      s.ticks = s.ticks || {};
      var unit = s.khoUnit;
      if (s.type === 'logarithmic' || unit === 'bytes') {
        var log = s.type === 'logarithmic';
        s.afterBuildTicks = function (scale) {
          var t = log ? logTicks(scale.min, scale.max, unit) : byteTicks(scale.min, scale.max);
          if (t.length >= 2) scale.ticks = t.map(function (v) { return { value: v }; });
        };
      }
      s.ticks.callback = function (v) { return fmtUnit(Number(v), unit); };
    });
    return config;
  }
  return { plugins: [errorBars, boxPlot], withTicks: withTicks, fmtUnit: fmtUnit };
})()`;

interface PluginBundle {
  plugins: Plugin[];
  withTicks<T extends ChartConfiguration>(config: T): T;
  fmtUnit(value: number, unit: string): string;
}

let bundle: PluginBundle | undefined;

/** The plugins evaluated in Node, from the same source that is inlined in interactive reports. */
export function chartPlugins(): PluginBundle {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  bundle ??= new Function(`return ${CHART_PLUGINS_SOURCE};`)() as PluginBundle;
  return bundle;
}
