// Artists: the leaderboard (by, role, date range) as bars and a table, and an artist's
// page with its tracks, their runs and its share of chart streams over time.
import { api, seg } from './api.js';
import { barChart, timeChart } from './plots.js';
import { regions, seriesParams, seriesPickers, settle } from './series.js';
import { artistLink, controls, dateInput, empty, fmt, fmtPct, h, link, panel, select, table, trackLink, unit } from './ui.js';

const BY = [
  ['streams', 'streams'],
  ['entries', 'chart entries'],
  ['charts', 'charts on'],
  ['number_one_entries', '#1 entries'],
  ['number_one_songs', '#1 songs'],
  ['songs', 'songs charted'],
];

export const artists = {
  title: 'Artists',
  render(state, ctx) {
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Artist leaderboard'));
    const bar = h('div', { class: 'bar' });
    const body = panel(null, async (signal) => {
      const all = await regions();
      const s = settle(all, state);
      const by = BY.some(([b]) => b === state.by) ? state.by : 'streams';
      const role = state.role === 'lead' ? 'lead' : 'all';
      const board = await api('/v1/artists/leaderboard', { ...seriesParams(s), by, role, from: state.from, to: state.to, limit: 50 }, { signal })
        .catch((e) => {
          if (e.status === 404) return null;
          throw e;
        });
      bar.replaceChildren(controls(
        ...seriesPickers(all, s, (n) => ctx.update({ ...n, from: undefined, to: undefined })),
        select('Rank by', 'by', by, BY, (v) => ctx.update({ by: v })),
        select('Credit', 'role', role, [['all', 'every credited artist'], ['lead', 'lead artist only']], (v) => ctx.update({ role: v })),
        dateInput('From', 'from', state.from || (board && board.from), (v) => ctx.update({ from: v })),
        dateInput('To', 'to', state.to || (board && board.to), (v) => ctx.update({ to: v }))));
      if (!board) return empty(`No ${s.kind} ${s.period} chart of ${s.region} is loaded in that range.`);
      ctx.setTitle(`Artists by ${by}, ${s.region}`);
      head.replaceChildren(h('h1', {}, 'Artist leaderboard', h('span', { class: 'sub' }, ` ${s.region} · ${board.from} to ${board.to}`)));
      if (!board.rows.length) return empty(`No artist charted on the ${s.region} ${s.period} ${s.kind} chart between ${board.from} and ${board.to}.`);
      const label = BY.find(([b]) => b === by)[1];
      const top = board.rows.slice(0, 20);
      const series = seriesParams(s);
      return [
        barChart({ labels: top.map((r) => r.artist.name), values: top.map((r) => r[by] ?? 0), valueLabel: label,
          title: `Top ${top.length} artists by ${label} (${role === 'lead' ? 'lead artist only' : 'every credited artist'})`,
          description: top.slice(0, 5).map((r) => `#${r.rank} ${r.artist.name}: ${fmt(r[by])}`).join('; ') }),
        table([
          { label: '#', num: true, cell: (r) => r.rank },
          { label: 'Artist', cell: (r) => artistLink(r.artist, series) },
          { label: 'Streams', num: true, cell: (r) => fmt(r.streams) },
          { label: 'Entries', num: true, cell: (r) => fmt(r.entries) },
          { label: s.period === 'weekly' ? 'Weeks on' : 'Days on', num: true, cell: (r) => fmt(r.charts) },
          { label: '#1 entries', num: true, cell: (r) => fmt(r.number_one_entries) },
          { label: '#1 songs', num: true, cell: (r) => fmt(r.number_one_songs) },
          { label: 'Songs', num: true, cell: (r) => fmt(r.songs) },
        ], board.rows, { caption: `artist leaderboard by ${label}`, className: 'data leaderboard' }),
      ];
    }, { signal: ctx.signal, className: 'flush' });
    return [head, bar, body];
  },
};

function sharePanel(doc, s, ctx) {
  return panel('Share of chart streams over time', async (signal) => {
    if (s.kind === 'viral') return empty('Viral charts have no streams.');
    const r = await api(`/v1/artists/${seg(doc.id)}/streams`, { ...seriesParams(s), granularity: 'month', role: 'all' }, { signal });
    const points = r.points.filter((p) => p.share !== null);
    if (!points.length) return empty('No chart of this series with streams is loaded.');
    const best = points.reduce((a, b) => (b.share > a.share ? b : a));
    return [
      timeChart({ dates: points.map((p) => p.date), step: 31, series: [{ label: 'share of chart streams (%)', values: points.map((p) => +(p.share * 100).toFixed(3)), axisLabel: '%' }],
        title: `${doc.name}: share of all ${s.region} chart streams, per month`,
        description: `Highest in the month of ${best.date}: ${fmtPct(best.share)} of ${fmt(best.chart_streams)} streams.` }),
      h('p', { class: 'note' }, `Highest share: ${fmtPct(best.share)} in the month starting ${best.date} (${fmt(best.streams)} of ${fmt(best.chart_streams)} chart streams). Every credited artist counts a track’s streams.`),
    ];
  }, { signal: ctx.signal, id: 'share' });
}

export const artist = {
  title: 'Artist',
  render(state, ctx) {
    if (!state.id) return h('div', { class: 'view-head' }, h('h1', {}, 'Artist'), h('p', { class: 'empty' }, 'Search for an artist above, or pick one from the leaderboard.'));
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Artist'));
    const more = h('div', { class: 'grid' });
    const body = panel(null, async (signal) => {
      const all = await regions();
      const s = settle(all, state);
      const doc = await api(`/v1/artists/${seg(state.id)}`, { ...seriesParams(s), limit: 200 }, { signal });
      ctx.setTitle(doc.name);
      head.replaceChildren(h('h1', {}, doc.name), h('p', { class: 'byline' }, doc.genres && doc.genres.length ? doc.genres.join(', ') : '',
        doc.followers != null ? ` · ${fmt(doc.followers)} followers` : '', ' ',
        link({ view: 'regions', artist: doc.id, period: s.period, kind: s.kind }, 'In every region →')));
      const st = doc.stats;
      const u = unit(s.period);
      const series = seriesParams(s);
      more.replaceChildren(sharePanel(doc, s, ctx));
      const form = controls(...seriesPickers(all, s, (n) => ctx.update(n)));
      if (!doc.tracks.length) return [form, empty(`${doc.name} has no track on the loaded ${s.region} ${s.period} ${s.kind} charts.`)];
      return [
        form,
        h('dl', { class: 'stats' }, [
          ['Songs charted', fmt(st.songs)], ['Chart entries', fmt(st.entries)], ['#1 entries', fmt(st.number_one_entries)],
          ['#1 songs', fmt(st.number_one_songs)], ['Best rank', st.best_rank ? `#${st.best_rank}` : '—'], ['Streams', fmt(st.total_streams)],
          ['First chart', st.first_date || '—'], ['Last chart', st.last_date || '—'],
        ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
        h('h2', {}, 'Tracks'),
        table([
          { label: 'Track', cell: (t) => trackLink(t, series) },
          { label: 'Role', cell: (t) => t.role },
          { label: 'Peak', num: true, cell: (t) => fmt(t.peak_rank) },
          { label: u === 'weeks' ? 'Weeks on' : 'Days on', num: true, cell: (t) => fmt(t[`${u}_on_chart`]) },
          { label: 'History', cell: (t) => (t.history_complete ? 'complete' : 'incomplete') },
          { label: 'Streams', num: true, cell: (t) => fmt(t.total_streams) },
        ], doc.tracks, { caption: `${doc.name}'s charting tracks` }),
      ];
    }, { signal: ctx.signal, id: 'artist' });
    return [head, body, more];
  },
};
