// Records of one series: most days (or weeks) at #1, longest runs, biggest debuts, most
// streams in one chart, counted over the loaded charts.
import { api } from './api.js';
import { regions, seriesParams, seriesPickers, settle, findSeries } from './series.js';
import { controls, dateInput, empty, fmt, h, link, panel, table, trackLink, unit } from './ui.js';

export default {
  title: 'Records',
  render(state, ctx) {
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Records'));
    const bar = h('div', { class: 'bar' });
    const body = panel(null, async (signal) => {
      const all = await regions();
      const s = settle(all, state);
      const series = findSeries(all, s);
      if (!series) return empty('No chart is loaded yet.');
      const rec = await api('/v1/records', { ...seriesParams(s), from: state.from, to: state.to, limit: 10 }, { signal });
      const u = unit(s.period);
      const sp = seriesParams(s);
      const chartLink = (d) => link({ view: 'chart', ...sp, date: d }, d);
      const track = (r) => [trackLink(r.track, sp), h('span', { class: 'track-artists' }, ` ${r.artists}`)];
      ctx.setTitle(`Records ${s.region}`);
      head.replaceChildren(h('h1', {}, 'Records', h('span', { class: 'sub' }, ` ${s.region} · ${s.period} ${s.kind}`)));
      bar.replaceChildren(controls(...seriesPickers(all, s, (n) => ctx.update({ ...n, from: undefined, to: undefined })),
        dateInput('From', 'from', rec.from, (v) => ctx.update({ from: v }), { min: series.first_date, max: series.last_date }),
        dateInput('To', 'to', rec.to, (v) => ctx.update({ to: v }), { min: series.first_date, max: series.last_date })));
      const section = (id, title, rows, columns, none) => h('section', { class: 'panel', id },
        h('h2', {}, title), rows.length ? table(columns, rows, { caption: title }) : h('p', { class: 'empty' }, none));
      const streamsNone = s.kind === 'viral' ? 'Viral charts have no streams.' : 'No chart with streams is loaded in this range.';
      return [
        h('p', { class: 'note', id: 'records-coverage' }, `Counted over ${fmt(rec.charts)} loaded charts from ${rec.from} to ${rec.to}`,
          rec.history_complete ? ', every one of the range.' : ` (${fmt(rec.charts_expected - rec.charts)} of the ${fmt(rec.charts_expected)} expected are missing: a gap ends a run, and records before the loaded charts are unknown).`),
        h('div', { class: 'grid' },
          section('most-number-ones', `Most ${u} at #1`, rec.most_number_ones, [
            { label: 'Track', cell: track },
            { label: u === 'weeks' ? 'Weeks' : 'Days', num: true, cell: (r) => fmt(r[`${u}_at_1`]) },
            { label: 'First', nowrap: true, cell: (r) => chartLink(r.first_date) },
            { label: 'Last', nowrap: true, cell: (r) => chartLink(r.last_date) },
          ], 'No #1 in this range.'),
          section('longest-runs', 'Longest runs', rec.longest_runs, [
            { label: 'Track', cell: track },
            { label: u === 'weeks' ? 'Weeks' : 'Days', num: true, cell: (r) => fmt(r.length) },
            { label: 'From', nowrap: true, cell: (r) => chartLink(r.from) },
            { label: 'To', nowrap: true, cell: (r) => [chartLink(r.to), r.ongoing ? h('span', { class: 'badge badge-re', title: 'still on the last chart of the range' }, 'ongoing') : null] },
          ], 'No run in this range.'),
          section('biggest-debuts', 'Biggest debuts', rec.biggest_debuts, [
            { label: 'Track', cell: track },
            { label: 'Rank', num: true, cell: (r) => `#${r.rank}` },
            { label: 'Date', nowrap: true, cell: (r) => chartLink(r.date) },
            { label: 'Streams', num: true, cell: (r) => fmt(r.streams) },
          ], 'No new entry in this range (the chart before each may not be loaded).'),
          section('most-streams', 'Most streams on one chart', rec.most_streams, [
            { label: 'Track', cell: track },
            { label: 'Streams', num: true, cell: (r) => fmt(r.streams) },
            { label: 'Rank', num: true, cell: (r) => `#${r.rank}` },
            { label: 'Date', nowrap: true, cell: (r) => chartLink(r.date) },
          ], streamsNone)),
      ];
    }, { signal: ctx.signal, className: 'quiet' });
    return [head, bar, body];
  },
};
