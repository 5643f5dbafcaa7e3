/**
 * What the report adds to Chart.js, written as plain JavaScript source so
 * that exactly the same code runs in Node (to render the PNGs) and, inlined,
 * in the browser (interactive charts). Chart.js has neither error bars nor
 * box plots, and functions cannot travel in a JSON config.
 *
 * - `khoErrorBars`: a dataset may carry `errorBars: [[low, high] | null, ...]`
 *   (one per data index, in the axis's units, already placed on the stack
 *   for stacked bars); each is drawn as a vertical bar with caps.
 * - `khoBoxPlot`: a floating-bar dataset ([q1, q3] per index) may carry
 *   `boxes: [{ whiskerLow, median, whiskerHigh, points } | null, ...]`:
 *   whiskers, the median line and every per-process value as a dot.
 * - `prepare(config)`: tick labels as plain numbers (the unit is in the
 *   axis title, chosen from the data), readable tick positions on log axes
 *   (`khoLog: true`: 1-2-5 per decade), and tooltips from the dataset's
 *   `khoTips` (one string per data index, with unit and interval).
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
  function clipTo(chart, ctx) {
    var area = chart.chartArea;
    ctx.beginPath();
    ctx.rect(area.left, area.top - 6, area.right - area.left, area.bottom - area.top + 6);
    ctx.clip();
  }
  var errorBars = {
    id: 'khoErrorBars',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, di) {
        if (!ds.errorBars || !chart.isDatasetVisible(di)) return;
        var meta = chart.getDatasetMeta(di);
        var yScale = chart.scales[meta.yAxisID];
        ctx.save();
        clipTo(chart, ctx);
        ctx.strokeStyle = ds.errorBarColor || '#222';
        ctx.lineWidth = 1.5;
        ds.errorBars.forEach(function (eb, i) {
          var el = meta.data[i];
          if (!eb || !el) return;
          var lo = eb[0], hi = eb[1];
          if (yScale.type === 'logarithmic') {
            if (!(hi > 0)) return;
            if (!(lo > 0)) lo = yScale.min;
          }
          var x = el.x, yl = yScale.getPixelForValue(lo), yh = yScale.getPixelForValue(hi);
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
        ctx.save();
        clipTo(chart, ctx);
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
          // Every process as a dot, spread sideways in a fixed pattern so that equal values stay visible.
          ctx.fillStyle = 'rgba(20,20,20,0.7)';
          (b.points || []).forEach(function (v, k) {
            var dx = ((k % 5) - 2) * Math.min(4, w / 3);
            ctx.beginPath();
            ctx.arc(x + dx, y(v), 2.2, 0, 2 * Math.PI);
            ctx.fill();
          });
        });
        ctx.restore();
      });
    }
  };
  // 1, 2 and 5 times powers of ten between min and max (or every power of ten when that gives too many).
  function logTicks(min, max) {
    var out = [], k, v, i, sets = [[1, 2, 5], [1]];
    if (!(min > 0) || !(max > min)) return out;
    for (i = 0; i < sets.length; i++) {
      out = [];
      for (k = Math.floor(Math.log10(min)) - 1; k <= Math.ceil(Math.log10(max)); k++) {
        sets[i].forEach(function (m) {
          v = Number((m * Math.pow(10, k)).toPrecision(6));
          if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
        });
      }
      if (out.length <= 12) return out;
    }
    return out;
  }
  function prepare(config) {
    var scales = (config.options && config.options.scales) || {};
    Object.keys(scales).forEach(function (id) {
      var s = scales[id];
      if (s.type === 'category') return;
      s.ticks = s.ticks || {};
      if (s.khoLog) {
        s.afterBuildTicks = function (scale) {
          var t = logTicks(scale.min, scale.max);
          if (t.length >= 2) scale.ticks = t.map(function (v) { return { value: v }; });
        };
      }
      s.ticks.callback = function (v) { return fmtNum(Number(v)); };
    });
    config.options = config.options || {};
    config.options.plugins = config.options.plugins || {};
    var tooltip = config.options.plugins.tooltip = config.options.plugins.tooltip || {};
    tooltip.callbacks = tooltip.callbacks || {};
    tooltip.callbacks.label = function (item) {
      var tips = item.dataset.khoTips;
      return tips && tips[item.dataIndex] ? tips[item.dataIndex] : (item.dataset.label || '') + ': ' + fmtNum(Number(item.parsed.y));
    };
    return config;
  }
  return { plugins: [errorBars, boxPlot], prepare: prepare, fmtNum: fmtNum };
})()`;

interface PluginBundle {
  plugins: Plugin[];
  prepare<T extends ChartConfiguration>(config: T): T;
  fmtNum(value: number): string;
}

let bundle: PluginBundle | undefined;

/** The plugins evaluated in Node, from the same source that is inlined in interactive reports. */
export function chartPlugins(): PluginBundle {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  bundle ??= new Function(`return ${CHART_PLUGINS_SOURCE};`)() as PluginBundle;
  return bundle;
}
