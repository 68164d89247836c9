// Trends: movers and new entries on one chart, total chart streams over time, momentum,
// and insights: sentences computed from the API for the chosen series and range.
import { api } from './api.js';
import { timeChart } from './plots.js';
import { regions, seriesParams, seriesPickers, settle, findSeries } from './series.js';
import { controls, dateInput, empty, fmt, fmtPct, h, link, movementCell, onChart, panel, select, table, trackLink, unit } from './ui.js';

const plural = (n, one, many) => `${fmt(n)} ${n === 1 ? one : many}`;

// The insights panel: every sentence from an API answer, none written by hand.
export function insights(s, range, signal) {
  return panel('Insights', async () => {
    const params = { ...seriesParams(s), from: range.from, to: range.to };
    const [rec, board, totals] = await Promise.all([
      api('/v1/records', { ...params, limit: 1 }, { signal }),
      api('/v1/artists/leaderboard', { ...params, by: 'streams', role: 'all', limit: 1 }, { signal }).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
      api('/v1/trends/streams', { ...params, granularity: 'month' }, { signal }),
    ]);
    const u = unit(s.period);
    const one = u === 'weeks' ? 'week' : 'day';
    const series = seriesParams(s);
    const out = [];
    const say = (id, ...parts) => out.push(h('li', { 'data-insight': id }, ...parts));
    if (!rec.charts) return empty(`No chart of this series is loaded between ${range.from} and ${range.to}.`);
    const run = rec.longest_runs[0];
    if (run)
      say('longest-run', trackLink(run.track, series), ` by ${run.artists} had the longest run: ${plural(run.length, one, u)} on the chart in a row, from ${run.from} to ${run.to}${run.ongoing ? ' (still running on the last chart of the range)' : ''}.`);
    const debut = rec.biggest_debuts[0];
    if (debut)
      say('biggest-debut', 'The biggest debut was ', trackLink(debut.track, series), ` by ${debut.artists}, new at #${debut.rank} on ${debut.date}${debut.streams == null ? '' : ` with ${fmt(debut.streams)} streams`}.`);
    const top = rec.most_number_ones[0];
    if (top)
      say('most-number-ones', trackLink(top.track, series), ` by ${top.artists} spent the most ${u} at #1: ${plural(top[`${u}_at_1`], one, u)}, between ${top.first_date} and ${top.last_date}.`);
    const total = totals.points.reduce((a, p) => a + (p.streams || 0), 0);
    const lead = board && board.rows[0];
    if (lead && lead.streams && total)
      say('artist-share', link({ view: 'artist', id: lead.artist.id, ...series }, lead.artist.name),
        ` drew the most chart streams: ${fmt(lead.streams)}, ${fmtPct(lead.streams / total)} of the ${fmt(total)} streams on these charts.`);
    say('coverage', rec.history_complete
      ? `Every ${one} of the range has its chart loaded (${plural(rec.charts, 'chart', 'charts')}).`
      : `Only ${fmt(rec.charts)} of the ${fmt(rec.charts_expected)} charts of the range are loaded: runs break at the gaps, and counts cover the loaded charts only.`);
    return [h('p', { class: 'note' }, `The ${s.region} ${s.period} ${s.kind} charts from ${rec.from} to ${rec.to}:`), h('ul', { class: 'insights' }, out)];
  }, { signal, id: 'insights' });
}

function moversPanel(s, date, signal) {
  return panel('Movers', async () => {
    const m = await api('/v1/trends/movers', { ...seriesParams(s), date, limit: 10 }, { signal });
    if (m.previous_period_loaded === false) return empty(m.note || 'The previous chart is not loaded, so nobody moved.');
    const cols = (list) => [
      { label: 'Rank', num: true, cell: (r) => r.rank },
      { label: 'Change', num: true, cell: (r) => movementCell({ ...r, movement: r.rank_change > 0 ? 'up' : 'down' }) },
      { label: 'Track', cell: (r) => [trackLink(r.track, seriesParams(s)), h('span', { class: 'track-artists' }, ` ${r.artists}`)] },
      { label: 'From', num: true, cell: (r) => r.previous_rank },
    ];
    return h('div', { class: 'two' },
      h('div', {}, h('h3', {}, `Gainers on ${m.date}`), m.gainers.length ? table(cols(), m.gainers, { caption: 'gainers' }) : h('p', { class: 'empty' }, 'Nobody climbed.')),
      h('div', {}, h('h3', {}, `Losers on ${m.date}`), m.losers.length ? table(cols(), m.losers, { caption: 'losers' }) : h('p', { class: 'empty' }, 'Nobody fell.')));
  }, { signal, id: 'movers' });
}

function newEntriesPanel(s, date, signal) {
  return panel('New entries and re-entries', async () => {
    const n = await api('/v1/trends/new-entries', { ...seriesParams(s), date, limit: 20 }, { signal });
    if (n.previous_period_loaded === false) return empty(n.note || 'The previous chart is not loaded.');
    if (!n.entries.length) return empty(`No new entry or re-entry on ${n.date}.`);
    return table([
      { label: 'Rank', num: true, cell: (e) => e.rank },
      { label: '', cell: (e) => movementCell(e) },
      { label: 'Track', cell: (e) => [trackLink(e.track, seriesParams(s)), h('span', { class: 'track-artists' }, ` ${e.artists}`)] },
      { label: 'Streams', num: true, cell: (e) => fmt(e.streams) },
      { label: unit(s.period) === 'weeks' ? 'Weeks' : 'Days', num: true, cell: (e) => fmt(onChart(e, s.period)) },
    ], n.entries, { caption: `new entries on ${n.date}` });
  }, { signal, id: 'new-entries' });
}

function streamsPanel(s, range, granularity, ctx) {
  return panel('Total chart streams', async (signal) => {
    if (s.kind === 'viral') return empty('Viral charts have no streams.');
    const t = await api('/v1/trends/streams', { ...seriesParams(s), from: range.from, to: range.to, granularity }, { signal });
    const pts = t.points.filter((p) => p.streams !== null);
    if (!pts.length) return empty('No chart with streams is loaded in this range.');
    return [
      controls(select('Per', 'granularity', granularity, [['day', 'day'], ['week', 'week'], ['month', 'month']], (g) => ctx.update({ granularity: g }))),
      timeChart({ dates: pts.map((p) => p.date), step: { day: 1, week: 7, month: 31 }[granularity], series: [{ label: `streams per ${granularity}`, values: pts.map((p) => p.streams), scale: 'streams' }],
        title: `All chart streams per ${granularity}, ${s.region}`, description: `${pts.length} ${granularity}s; highest ${fmt(Math.max(...pts.map((p) => p.streams)))}.` }),
      h('p', { class: 'note' }, `Only ${granularity}s with a loaded chart appear; a ${granularity} with fewer charts loaded sums fewer charts (see Data).`),
    ];
  }, { signal: ctx.signal, id: 'streams' });
}

function momentumPanel(s, date, signal) {
  return panel('Momentum', async () => {
    if (s.kind === 'viral') return empty('Viral charts have no streams to grow.');
    const m = await api('/v1/trends/momentum', { region: s.region, period: s.period, date, limit: 10 }, { signal });
    if (!m.tracks.length) return empty('No track to rank.');
    return [h('p', { class: 'note' }, `Streams over the last ${m.window} charts against the ${m.window} before, on ${m.date}.`),
      table([
        { label: 'Rank', num: true, cell: (t) => t.rank },
        { label: 'Track', cell: (t) => [trackLink(t.track, seriesParams(s)), h('span', { class: 'track-artists' }, ` ${t.artists}`)] },
        { label: 'Recent', num: true, cell: (t) => fmt(t.recent_streams) },
        { label: 'Before', num: true, cell: (t) => fmt(t.earlier_streams) },
        { label: 'Growth', num: true, cell: (t) => fmtPct(t.growth) },
      ], m.tracks, { caption: 'momentum' })];
  }, { signal, id: 'momentum' });
}

export default {
  title: 'Trends',
  render(state, ctx) {
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Trends'));
    const bar = h('div', { class: 'bar' });
    const grid = h('div', { class: 'grid' });
    const boot = panel(null, async (signal) => {
      const all = await regions();
      const s = settle(all, state);
      const series = findSeries(all, s);
      if (!series) return empty('No chart is loaded yet.');
      const range = { from: state.from || series.first_date, to: state.to || series.last_date };
      const date = state.date || 'latest';
      const granularity = ['day', 'week', 'month'].includes(state.granularity) ? state.granularity : s.period === 'weekly' ? 'week' : 'day';
      head.replaceChildren(h('h1', {}, 'Trends', h('span', { class: 'sub' }, ` ${s.region} · ${s.period} ${s.kind}`)));
      ctx.setTitle(`Trends ${s.region}`);
      bar.replaceChildren(controls(
        ...seriesPickers(all, s, (n) => ctx.update({ ...n, from: undefined, to: undefined, date: undefined })),
        dateInput('From', 'from', range.from, (v) => ctx.update({ from: v }), { min: series.first_date, max: series.last_date }),
        dateInput('To', 'to', range.to, (v) => ctx.update({ to: v }), { min: series.first_date, max: series.last_date }),
        dateInput('Chart date', 'date', state.date || series.last_date, (v) => ctx.update({ date: v }), { min: series.first_date, max: series.last_date })));
      grid.replaceChildren(insights(s, range, signal), moversPanel(s, date, signal), newEntriesPanel(s, date, signal),
        streamsPanel(s, range, granularity, ctx), momentumPanel(s, date, signal));
      return [];
    }, { signal: ctx.signal, className: 'quiet' });
    return [head, bar, boot, grid];
  },
};
