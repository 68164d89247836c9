// Chart: one chart of one series, with pickers for the series and for the dates that
// have a chart, and the previous/next chart one key away.
import { api, seg } from './api.js';
import { regions, seriesPickers, settle, seriesParams } from './series.js';
import { controls, creditLine, empty, fmt, h, link, movementCell, onChart, panel, select, table, trackLink, unit } from './ui.js';

function chartTable(chart, state) {
  const series = seriesParams(state);
  const u = unit(state.period);
  const streams = chart.entries.some((e) => e.streams !== null);
  const columns = [
    { label: 'Rank', num: true, cell: (e) => e.rank },
    { label: 'Move', cell: (e) => movementCell(e), title: 'against the previous period’s chart' },
    { label: 'Track', cell: (e) => h('div', { class: 'track-cell' }, h('span', { class: 'track-name' }, trackLink(e.track, series)),
      h('span', { class: 'track-artists' }, creditLine(e.artists, e.credits, series))) },
    streams ? { label: 'Streams', num: true, cell: (e) => fmt(e.streams) } : null,
    { label: 'Peak', num: true, cell: (e) => fmt(e.peak_rank) },
    { label: u === 'weeks' ? 'Weeks' : 'Days', num: true, title: `${u} on chart: Spotify’s own figure where the file gives it, else counted over the loaded charts (*)`,
      cell: (e) => [fmt(onChart(e, state.period)), e.run_source === 'derived' ? h('span', { class: 'derived', title: 'counted over the loaded charts only' }, '*') : null] },
    { label: h('span', { class: 'sr' }, 'In every region'), cell: (e) => link({ view: 'regions', track: e.track.id, date: chart.date, period: state.period, kind: state.kind },
      h('span', { 'aria-hidden': 'true' }, '⊞'), h('span', { class: 'sr' }, `${e.track.name} in every region`)) },
  ].filter(Boolean);
  return table(columns, chart.entries, { caption: `${state.region} ${state.period} ${state.kind} chart of ${chart.date}`, className: 'data chart' });
}

function chartNote(chart, state) {
  const u = unit(state.period) === 'weeks' ? 'week' : 'day';
  const derived = chart.entries.some((e) => e.run_source === 'derived');
  return h('p', { class: 'note' },
    chart.previous_date
      ? ['Movement against the chart of ', link({ view: 'chart', ...seriesParams(state), date: chart.previous_date }, chart.previous_date), '. ']
      : `The ${u} before is not loaded: movement shows what the file says, and “?” where it says nothing. `,
    derived ? '* counted over the loaded charts only (the file has no run columns).' : '');
}

export default {
  title: 'Chart',
  render(state, ctx) {
    const head = h('div', { class: 'view-head' }, h('h1', {}, 'Chart'));
    const bar = h('div', { class: 'bar' });
    const body = h('div');
    const root = [head, bar, body];

    body.append(panel(null, async (signal) => {
      // The series asked for (or the default) is fetched at once, beside the list of series;
      // only when that series does not exist is it fetched again for the one settled on.
      const wanted = { region: state.region || 'global', period: state.period || 'daily', kind: state.kind || 'regional' };
      const latest = !state.date || state.date === 'latest';
      const fetchDates = (x) => api(`/v1/charts/${seg(x.region)}/dates`, { period: x.period, kind: x.kind }, { signal });
      const fetchChart = (x, date) => api(`/v1/charts/${seg(x.region)}/${seg(date)}`, { period: x.period, kind: x.kind, limit: 200 }, { signal });
      const quiet = (p) => p.catch(() => null); // a guess that missed is fetched again below
      const early = [quiet(fetchDates(wanted)), latest ? quiet(fetchChart(wanted, 'latest')) : null];
      const all = await regions();
      const s = settle(all, state);
      if (!all.length) return empty('No chart is loaded yet: run chartpulse ingest and chartpulse load.');
      const params = seriesParams(s);
      const same = s.region === wanted.region && s.period === wanted.period && s.kind === wanted.kind;
      const dates = (same && (await early[0])) || (await fetchDates(s));
      // a date without a chart is said so without asking for it
      const known = latest || dates.dates.includes(s.date);
      const chart = !known ? null : (same && latest && (await early[1])) || (await fetchChart(s, s.date || 'latest'));
      const list = dates.dates;
      const date = chart ? chart.date : s.date;
      const at = list.indexOf(date);
      const prev = at > 0 ? list[at - 1] : at < 0 ? list.filter((d) => d < date).pop() : null;
      const next = at >= 0 && at < list.length - 1 ? list[at + 1] : at < 0 ? list.find((d) => d > date) : null;
      const go = (d) => ctx.update({ ...params, date: d });
      ctx.keys.ArrowLeft = ctx.keys['['] = () => prev && go(prev);
      ctx.keys.ArrowRight = ctx.keys[']'] = () => next && go(next);

      const years = new Map();
      for (const d of [...list].reverse()) {
        const y = d.slice(0, 4);
        if (!years.has(y)) years.set(y, []);
        years.get(y).push([d, d]);
      }
      const dateOptions = [...years].map(([y, opts]) => ({ group: y, options: opts }));
      if (at < 0 && date) dateOptions.unshift([date, `${date} (no chart)`]);
      bar.replaceChildren(controls(
        ...seriesPickers(all, s, (n) => ctx.update({ ...n, date: undefined })),
        select('Date', 'date', date, dateOptions, go),
        h('div', { class: 'field buttons' },
          h('button', { type: 'button', id: 'prev-chart', disabled: !prev, onclick: () => go(prev), title: prev ? `previous chart: ${prev} (← or [)` : 'no earlier chart' }, '← Previous'),
          h('button', { type: 'button', id: 'next-chart', disabled: !next, onclick: () => go(next), title: next ? `next chart: ${next} (→ or ])` : 'no later chart' }, 'Next →'))));
      const name = all.find((r) => r.region === s.region).name;
      head.replaceChildren(h('h1', {}, `${name} · ${s.period} ${s.kind} chart`, h('span', { class: 'sub' }, date ? ` ${date}` : '')));
      ctx.setTitle(`${name} ${s.period} chart ${date || ''}`);
      if (!chart)
        return empty(`No ${s.kind} ${s.period} chart of ${name} is loaded for ${date}. ${list.length} charts are loaded, from ${list[0]} to ${list[list.length - 1]}; pick one of those dates.`);
      if (!chart.entries.length) return empty(`The chart of ${date} is loaded but has no entries.`);
      return [chartNote(chart, s), chartTable(chart, s)];
    }, { signal: ctx.signal, className: 'flush' }));
    return root;
  },
};
