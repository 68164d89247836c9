// Charts, drawn by uPlot (web/vendor, MIT): time series on UTC dates, an inverted rank
// axis, interval bands, and bars. Every chart is a figure with a text alternative, and
// resizes with its container.
import { fmt, fmtCompact, h } from './ui.js';

const uPlot = globalThis.uPlot;
const COLORS = ['#0b6e4f', '#c2410c', '#1d4ed8', '#7c3aed', '#b91c1c', '#0e7490'];

export const dayOf = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 1000;
const isoOf = (sec) => new Date(sec * 1000).toISOString().slice(0, 10);
const utc = (sec) => uPlot.tzDate(new Date(sec * 1000), 'Etc/UTC');

function sized(fig, build) {
  let plot = null;
  const draw = () => {
    const width = Math.max(280, Math.floor(fig.clientWidth || 600));
    if (plot) plot.setSize({ width, height: plot.height });
    else plot = build(width);
  };
  const ro = new ResizeObserver(() => draw());
  ro.observe(fig);
  requestAnimationFrame(draw);
  return fig;
}

// dates: ISO strings; series: [{label, values, scale ('rank' | 'streams' | other), color,
// dash, band: [lowValues, highValues]}]. A 'rank' scale runs top-down (1 at the top).
// Breaks the lines where points are further apart than step days (a gap in the loaded
// charts is drawn as a gap, not as a straight line across it): a null row in between.
function withGaps(dates, series, step) {
  if (!step) return { dates, series };
  const keep = [];
  dates.forEach((d, i) => {
    if (i && dayOf(d) - dayOf(dates[i - 1]) > step * 86400 * 1.5) keep.push(-1);
    keep.push(i);
  });
  const pick = (values) => values && keep.map((i) => (i < 0 ? null : values[i]));
  return {
    dates: keep.map((i, j) => (i >= 0 ? dates[i] : isoOf(dayOf(dates[keep[j - 1]]) + 86400))),
    series: series.map((s) => ({ ...s, values: pick(s.values), band: s.band && [pick(s.band[0]), pick(s.band[1])] })),
  };
}

export function timeChart({ dates: rawDates, series: rawSeries, title, description, height = 260, step }) {
  const fig = h('figure', { class: 'plot' }, h('figcaption', {}, title), h('p', { class: 'sr' }, description || title));
  const { dates, series } = withGaps(rawDates, rawSeries, step);
  const x = dates.map(dayOf);
  const data = [x];
  const opts = {
    height,
    tzDate: utc,
    legend: { live: true },
    cursor: { focus: { prox: 16 } },
    scales: { x: { time: true } },
    axes: [{ values: (u, ticks) => ticks.map((t) => isoOf(t)), space: 90 }],
    series: [{ label: 'date', value: (u, v) => (v == null ? '' : isoOf(v)) }],
    bands: [],
  };
  const scalesSeen = new Set();
  series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    const scale = s.scale || 'y';
    if (!scalesSeen.has(scale)) {
      scalesSeen.add(scale);
      opts.scales[scale] = scale === 'rank' ? { dir: -1, range: (u, min, max) => [1, Math.max(max || 1, 10)] } : { auto: true };
      opts.axes.push({
        scale,
        side: scalesSeen.size === 1 ? 3 : 1,
        grid: { show: scalesSeen.size === 1 },
        label: scale === 'rank' ? 'rank' : s.axisLabel || s.label,
        values: (u, ticks) => ticks.map((t) => (scale === 'rank' ? fmt(t) : fmtCompact(t))),
        size: 60,
      });
    }
    if (s.band) {
      const lo = data.length;
      data.push(s.band[0]);
      data.push(s.band[1]);
      opts.series.push({ label: `${s.label} (low)`, scale, stroke: color, width: 0.5, dash: [2, 3], value: (u, v) => fmt(v) });
      opts.series.push({ label: `${s.label} (high)`, scale, stroke: color, width: 0.5, dash: [2, 3], value: (u, v) => fmt(v) });
      opts.bands.push({ series: [lo + 1, lo], fill: `${color}40` });
    }
    data.push(s.values);
    opts.series.push({
      label: s.label,
      scale,
      stroke: color,
      width: 2,
      dash: s.dash,
      spanGaps: false,
      points: { show: s.points ?? dates.length < 60 },
      value: (u, v) => (v == null ? '—' : fmt(v)),
    });
  });
  return sized(fig, (width) => new uPlot({ ...opts, width }, data, fig));
}

// Vertical bars for a ranked list: labels under the bars are the ranks, the legend names
// the hovered bar.
export function barChart({ labels, values, title, description, valueLabel, height = 240 }) {
  const fig = h('figure', { class: 'plot' }, h('figcaption', {}, title), h('p', { class: 'sr' }, description || title));
  const x = labels.map((_, i) => i + 1);
  const opts = {
    height,
    legend: { live: true },
    scales: { x: { time: false, range: (u, min, max) => [min - 0.6, max + 0.6] }, y: { range: (u, min, max) => [0, max * 1.05 || 1] } },
    axes: [{ values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) && t >= 1 && t <= labels.length ? `#${t}` : '')), space: 24 },
      { values: (u, ticks) => ticks.map(fmtCompact), size: 60 }],
    series: [
      { label: 'artist', value: (u, v) => (v == null ? '' : labels[v - 1] || '') },
      { label: valueLabel, fill: `${COLORS[0]}cc`, stroke: COLORS[0], width: 1, paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false }, value: (u, v) => fmt(v) },
    ],
  };
  return sized(fig, (width) => new uPlot({ ...opts, width }, [x, values], fig));
}
