// Across regions: one track (or artist) on one date in every loaded region, as a table
// and a grid of regions shaded by rank.
import { api, seg } from './api.js';
import { controls, dateInput, empty, fmt, h, link, onChart, panel, select, table, trackLink, unit } from './ui.js';

const tier = (rank) => (rank === 1 ? 't1' : rank <= 10 ? 't10' : rank <= 50 ? 't50' : 'tlow');
const byRank = (a, b) => (a.rank ?? a.best_rank ?? 1e9) - (b.rank ?? b.best_rank ?? 1e9) || a.region.localeCompare(b.region);

function status(r) {
  if (!r.chart_loaded) return 'no chart loaded that date';
  return null;
}

// The regions as cells shaded by rank, best first. reading(r): {on, rank, sub} for a region
// the track or artist is on the chart of.
function grid(doc, state, label, reading) {
  return h('ul', { class: 'cells', 'aria-label': `${label} by region on ${doc.date}` }, [...doc.regions].sort(byRank).map((r) => {
    const { on, rank, sub } = reading(r);
    const shown = r.chart_loaded && on;
    return h('li', { class: `cell ${shown ? tier(rank) : r.chart_loaded ? 'off' : 'missing'}` },
      h('span', { class: 'cell-region' }, link({ view: 'chart', region: r.region, period: state.period, kind: state.kind, date: doc.date }, r.name)),
      h('span', { class: shown ? 'cell-rank' : 'cell-rank none' }, shown ? `#${rank}` : r.chart_loaded ? 'not on chart' : 'no chart'),
      shown ? h('span', { class: 'cell-sub' }, sub) : null);
  }));
}

const trackGrid = (doc, state) => grid(doc, state, doc.track.name, (r) => ({
  on: r.on_chart,
  rank: r.rank,
  sub: [r.streams == null ? null : `${fmt(r.streams)} streams`, `${fmt(onChart(r, state.period))} ${unit(state.period)}`].filter(Boolean).join(' · '),
}));

const artistGrid = (doc, state) => grid(doc, state, doc.artist.name, (r) => ({
  on: r.entries > 0,
  rank: r.best_rank,
  sub: `${r.entries} ${r.entries === 1 ? 'entry' : 'entries'}${r.streams == null ? '' : ` · ${fmt(r.streams)} streams`}`,
}));

function trackTable(doc, state) {
  const u = unit(state.period);
  return table([
    { label: 'Region', cell: (r) => link({ view: 'chart', region: r.region, period: state.period, kind: state.kind, date: doc.date }, `${r.name} (${r.region})`) },
    { label: 'Rank', num: true, cell: (r) => (r.on_chart ? r.rank : status(r) || 'not on chart') },
    { label: 'Move', cell: (r) => (r.on_chart ? r.movement : '') },
    { label: 'Streams', num: true, cell: (r) => (r.on_chart ? fmt(r.streams) : '') },
    { label: 'Peak', num: true, cell: (r) => (r.on_chart ? fmt(r.peak_rank) : '') },
    { label: u === 'weeks' ? 'Weeks on chart' : 'Days on chart', num: true, cell: (r) => (r.on_chart ? fmt(onChart(r, state.period)) : '') },
    { label: 'Track id', cell: (r) => (r.on_chart && r.track_id !== doc.track.id ? h('code', { title: 'a relinked id of the same song' }, r.track_id) : '') },
  ], [...doc.regions].sort(byRank), { caption: `${doc.track.name} in every region on ${doc.date}` });
}

function artistTable(doc, state) {
  return table([
    { label: 'Region', cell: (r) => link({ view: 'chart', region: r.region, period: state.period, kind: state.kind, date: doc.date }, `${r.name} (${r.region})`) },
    { label: 'Entries', num: true, cell: (r) => (r.chart_loaded ? r.entries : 'no chart loaded') },
    { label: 'Best rank', num: true, cell: (r) => (r.entries ? r.best_rank : '') },
    { label: 'Best track', cell: (r) => (r.best_track ? trackLink(r.best_track, { region: r.region, period: state.period, kind: state.kind }) : '') },
    { label: 'Streams', num: true, cell: (r) => (r.entries ? fmt(r.streams) : '') },
  ], [...doc.regions].sort(byRank), { caption: `${doc.artist.name} in every region on ${doc.date}` });
}

export default {
  title: 'Across regions',
  render(state, ctx) {
    const period = state.period || 'daily';
    const kind = state.kind || 'regional';
    const s = { ...state, period, kind };
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Across regions'));
    const body = panel(null, async (signal) => {
      let trackId = state.track;
      if (!trackId && !state.artist) {
        // nothing chosen: the #1 of the global chart of that date (or the latest)
        const top = await api(`/v1/charts/global/${seg(state.date || 'latest')}`, { period, kind, limit: 1 }, { signal })
          .catch((e) => (e.status === 404 ? null : Promise.reject(e)));
        if (!top || !top.entries.length) return empty('Pick a track or an artist (search above) to see it in every region.');
        trackId = top.entries[0].track.id;
      }
      const isArtist = !trackId;
      const path = isArtist ? `/v1/artists/${seg(state.artist)}/regions` : `/v1/tracks/${seg(trackId)}/regions`;
      const doc = await api(path, { date: state.date || 'latest', period, kind }, { signal });
      const who = isArtist ? doc.artist.name : doc.track.name;
      ctx.setTitle(`${who} across regions`);
      head.replaceChildren(h('h1', {}, `${who} across regions`, h('span', { class: 'sub' }, ` ${doc.date}`)));
      const on = doc.regions.filter((r) => (isArtist ? r.entries > 0 : r.on_chart)).length;
      const loaded = doc.regions.filter((r) => r.chart_loaded).length;
      const form = controls(
        select('Period', 'period', period, [['daily', 'daily'], ['weekly', 'weekly']], (p) => ctx.update({ period: p, date: undefined })),
        select('Chart', 'kind', kind, [['regional', 'regional'], ['viral', 'viral']], (k) => ctx.update({ kind: k, date: undefined })),
        dateInput('Date', 'date', doc.date, (v) => ctx.update({ date: v })),
        h('div', { class: 'field buttons' }, isArtist
          ? link({ view: 'artist', id: doc.artist.id, period, kind }, 'Artist page →')
          : link({ view: 'track', id: doc.track.id, period, kind }, 'Track page →')));
      const summary = h('p', { class: 'note', id: 'regions-summary' },
        `On ${doc.date}, ${isArtist ? 'charting' : 'on the chart'} in ${on} of the ${loaded} regions with a ${period} ${kind} chart that date` +
        (doc.regions.length > loaded ? ` (${doc.regions.length - loaded === 1 ? '1 more region has' : `${doc.regions.length - loaded} more regions have`} no chart loaded for it).` : '.'));
      return [form, summary, isArtist ? artistGrid(doc, s) : trackGrid(doc, s), isArtist ? artistTable(doc, s) : trackTable(doc, s)];
    }, { signal: ctx.signal });
    return [head, body];
  },
};
