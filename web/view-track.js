// Track: its chart runs per series with the window they cover, rank and streams over
// time (rank on an inverted axis), the forecast with its interval band and measured
// error, and the song's other track ids.
import { api, seg } from './api.js';
import { timeChart } from './plots.js';
import { artistLink, controls, empty, fmt, fmtDec, h, link, panel, select, table, trackLink, unit } from './ui.js';

// a date never broken across lines
const day = (iso) => h('span', { class: 'date' }, iso);
// load() called once however many callers ask; a failed call is made again by the next one
// (a panel's Retry)
function shared(load) {
  let p = null;
  return () => {
    if (!p) {
      p = load();
      p.catch(() => {
        p = null;
      });
    }
    return p;
  };
}

const seriesKey = (r) => `${r.region}|${r.period}|${r.chart_kind}`;
const seriesLabel = (r) => `${r.region} · ${r.period} ${r.chart_kind}`;

function runStats(run) {
  const u = unit(run.period);
  const one = u === 'weeks' ? 'week' : 'day';
  const rows = [
    ['Debut', [`#${run.debut_rank} on `, day(run.debut_date)]],
    ['Peak', [`#${run.peak_rank} on `, day(run.peak_date)]],
    ['Last seen', [`#${run.last_rank} on `, day(run.last_date)]],
    [`${u[0].toUpperCase()}${u.slice(1)} on chart`, fmt(run[`${u}_on_chart`])],
    [`${u[0].toUpperCase()}${u.slice(1)} at #1`, fmt(run[`${u}_at_1`])],
    [`${u[0].toUpperCase()}${u.slice(1)} in top 10`, fmt(run[`${u}_in_top10`])],
    ['Longest streak', `${fmt(run.longest_streak)} ${run.longest_streak === 1 ? one : u}`],
    ['Current streak', `${fmt(run.current_streak)} ${run.current_streak === 1 ? one : u}`],
    ['Re-entries', fmt(run.reentries)],
    ['Streams on loaded charts', fmt(run.total_streams)],
    [`Spotify’s ${u} on chart`, run[`source_${u}_on_chart`] == null ? '— (the files give none)' : fmt(run[`source_${u}_on_chart`])],
    ['Spotify’s peak', run.source_peak_rank == null ? '—' : `#${run.source_peak_rank}`],
  ];
  return [
    h('dl', { class: 'stats' }, rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
    h('p', { class: 'note', id: 'run-window' },
      `Counted over the loaded charts of this series, ${run.window.from} to ${run.window.to}. `,
      run.history_complete
        ? 'The history is complete: the debut lies inside the loaded charts.'
        : h('strong', {}, 'The history is incomplete: the track may have charted before the loaded charts, or in gaps between them; Spotify’s own figures are shown beside ours where the files give them.')),
  ];
}

function historyPanel(track, run, history, ctx) {
  return panel('Rank and streams over time', async (signal) => {
    const hist = await history();
    if (!hist.points.length) return empty('No chart position of this track is loaded in this series.');
    const dates = hist.points.map((p) => p.date);
    const streams = hist.points.some((p) => p.streams !== null);
    const series = [{ label: 'rank', scale: 'rank', values: hist.points.map((p) => p.rank) }];
    if (streams) series.push({ label: 'streams', scale: 'streams', values: hist.points.map((p) => p.streams), color: '#1d4ed8' });
    const last = hist.points[hist.points.length - 1];
    return [
      timeChart({ dates, series, step: run.period === 'weekly' ? 7 : 1, title: `${track.name}: rank${streams ? ' and streams' : ''}, ${seriesLabel(run)}`,
        description: `${hist.points.length} chart positions from ${dates[0]} to ${last.date}; best rank ${Math.min(...hist.points.map((p) => p.rank))}.` }),
      h('details', {}, h('summary', {}, `The ${hist.points.length} positions as a table`),
        table([
          { label: 'Date', nowrap: true, cell: (p) => link({ view: 'chart', region: run.region, period: run.period, kind: run.chart_kind, date: p.date }, p.date) },
          { label: 'Rank', num: true, cell: (p) => p.rank },
          { label: 'Streams', num: true, cell: (p) => fmt(p.streams) },
          { label: 'Movement', cell: (p) => p.movement },
        ], [...hist.points].reverse(), { caption: 'chart positions, newest first' })),
    ];
  }, { signal: ctx.signal, id: 'history' });
}

function forecastPanel(track, run, history, ctx) {
  return panel('Forecast', async (signal) => {
    const [hist, fc] = await Promise.all([
      history(),
      api(`/v1/tracks/${seg(track.id)}/forecast`, { region: run.region, period: run.period, kind: run.chart_kind, horizon: 7 }, { signal }),
    ]);
    const past = hist.points.slice(-28);
    const dates = [...past.map((p) => p.date), ...fc.points.map((p) => p.date)];
    const pad = (arr, before) => [...Array(before).fill(null), ...arr];
    const n = past.length;
    const bt = fc.backtest || {};
    const error = bt.evaluated_points
      ? `Measured on the track’s own history (${fmt(bt.evaluated_points)} points held out): rank off by ${fmtDec(bt.rank_mae)} places on average${bt.streams_mape == null ? '' : `, streams by ${fmtDec(bt.streams_mape)} %`}.`
      : 'Too little history to measure the model’s error on this track yet.';
    return [
      timeChart({
        dates,
        step: run.period === 'weekly' ? 7 : 1,
        title: `Forecast of rank, next ${fc.points.length} charts (${fc.model}, ${Math.round((fc.interval || 0.8) * 100)} % interval)`,
        description: `From ${fc.origin}: rank ${fmtDec(fc.points[0].rank)} next, ${fmtDec(fc.points[fc.points.length - 1].rank)} at ${fc.points[fc.points.length - 1].date}.`,
        series: [
          { label: 'rank', scale: 'rank', values: [...past.map((p) => p.rank), ...Array(fc.points.length).fill(null)] },
          { label: 'forecast rank', scale: 'rank', dash: [6, 4], color: '#c2410c', values: pad(fc.points.map((p) => p.rank), n),
            band: [pad(fc.points.map((p) => p.rank_high), n), pad(fc.points.map((p) => p.rank_low), n)] },
        ],
      }),
      h('p', { class: 'note', id: 'forecast-error' }, `Model ${fc.model}, fitted on ${fmt(fc.observations)} observations up to ${fc.origin}. ${error}`),
      table([
        { label: 'Date', nowrap: true, cell: (p) => p.date },
        { label: 'Rank', num: true, cell: (p) => fmtDec(p.rank) },
        { label: 'Interval', cell: (p) => `${fmtDec(p.rank_low)} – ${fmtDec(p.rank_high)}` },
        { label: 'Streams', num: true, cell: (p) => fmt(p.streams) },
        { label: 'Interval', cell: (p) => (p.streams == null ? '—' : `${fmt(p.streams_low)} – ${fmt(p.streams_high)}`) },
      ], fc.points, { caption: 'forecast points' }),
    ];
  }, { signal: ctx.signal, id: 'forecast' });
}

// The pooled model's forecast stored by `chartpulse refresh`: only for tracks on the
// series' latest chart, with the model's backtest over the whole series at each horizon.
function pooledPanel(track, run, ctx) {
  return panel('Pooled forecast', async (signal) => {
    const fc = await api(`/v1/tracks/${seg(track.id)}/forecast`, { region: run.region, period: run.period, kind: run.chart_kind, horizon: 7 }, { signal });
    const pooled = fc.pooled;
    if (!pooled) return [h('p', { class: 'note', id: 'pooled-note' }, 'No stored forecast: the track is not on this series’ latest chart, or none has been computed (chartpulse refresh).')];
    return [
      h('p', { class: 'note', id: 'pooled-note' }, `Model ${pooled.model}, learned across every track of the series, from ${pooled.origin}; ${Math.round(pooled.interval * 100)} % intervals from its backtest errors. The backtest columns are its error over the whole series at that horizon (docs/methodology.md).`),
      table([
        { label: 'Date', nowrap: true, cell: (p) => p.date },
        { label: 'Rank', num: true, cell: (p) => fmtDec(p.rank) },
        { label: 'Interval', cell: (p) => `${fmtDec(p.rank_low)} – ${fmtDec(p.rank_high)}` },
        { label: 'Streams', num: true, cell: (p) => fmt(p.streams) },
        { label: 'Interval', cell: (p) => `${fmt(p.streams_low)} – ${fmt(p.streams_high)}` },
        { label: 'Rank MAE', num: true, cell: (p) => fmtDec(p.backtest.rank_mae) },
        { label: 'Streams MAPE', num: true, cell: (p) => `${fmtDec(p.backtest.streams_mape)} %` },
        { label: 'Coverage', num: true, cell: (p) => `${fmtDec(p.backtest.streams_coverage)} %` },
      ], pooled.points, { caption: 'pooled forecast points' }),
    ];
  }, { signal: ctx.signal, id: 'forecast-pooled' });
}

function songPanel(track, ctx) {
  return panel('The song’s other track ids', async () => {
    const song = track.song;
    if (!song || !song.other_tracks.length) return empty('Spotify has not relinked this song: it charted under this one id.');
    return [
      h('p', { class: 'note' }, 'Spotify moves a song to a new track id now and then (same title and lead artist one period apart, or the same ISRC). These ids are one song:'),
      h('ul', { class: 'plain' }, song.other_tracks.map((t) => h('li', {}, trackLink(t), ` — ${t.artist_names} `, h('code', {}, t.id)))),
    ];
  }, { signal: ctx.signal, id: 'song' });
}

export default {
  title: 'Track',
  render(state, ctx) {
    if (!state.id) return h('div', { class: 'view-head' }, h('h1', {}, 'Track'), h('p', { class: 'empty' }, 'Search for a track above, or pick one from a chart.'));
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Track'));
    const rest = h('div', { class: 'grid' });
    const main = panel(null, async (signal) => {
      const track = await api(`/v1/tracks/${seg(state.id)}`, {}, { signal });
      ctx.setTitle(track.name);
      head.replaceChildren(h('h1', {}, track.name),
        h('p', { class: 'byline' }, track.artists.length ? track.artists.map((a, i) => [i ? ', ' : '', artistLink(a, { region: state.region, period: state.period, kind: state.kind })]) : track.artist_names,
          track.album && track.album.name ? ` · ${track.album.name}` : '', track.label ? ` · ${track.label}` : '', ' · ', h('code', {}, track.id)));
      if (!track.runs.length) return empty('This track has no loaded chart position.');
      const want = `${state.region || 'global'}|${state.period || 'daily'}|${state.kind || 'regional'}`;
      const run = track.runs.find((r) => seriesKey(r) === want) || track.runs.find((r) => r.region === (state.region || 'global')) || track.runs[0];
      const switcher = controls(select('Series', 'series', seriesKey(run), track.runs.map((r) => [seriesKey(r), seriesLabel(r)]), (v) => {
        const [region, period, kind] = v.split('|');
        ctx.update({ region, period, kind });
      }), h('div', { class: 'field buttons' }, link({ view: 'regions', track: track.id, date: run.last_date, period: run.period, kind: run.chart_kind }, `In every region on ${run.last_date} →`)));
      // one read of the history for both panels that draw it
      const history = shared(() => api(`/v1/tracks/${seg(track.id)}/history`, { region: run.region, period: run.period, kind: run.chart_kind }, { signal }));
      rest.replaceChildren(historyPanel(track, run, history, ctx), forecastPanel(track, run, history, ctx), pooledPanel(track, run, ctx), songPanel(track, ctx));
      return [switcher, h('h2', {}, `Chart run: ${seriesLabel(run)}`), ...runStats(run)];
    }, { signal: ctx.signal, id: 'run' });
    return [head, main, rest];
  },
};
