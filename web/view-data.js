// Data, for the person who runs the system: coverage of every series with its gaps, the
// raw-zone catalog (objects, rows, rejects with their reasons) and recent pipeline runs.
import { api, seg } from './api.js';
import { regions } from './series.js';
import { controls, empty, fmt, h, link, panel, select, table } from './ui.js';

const days = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86400000;

// A bar from the series' first to last chart, the missing ranges cut out of it in red.
function timeline(s) {
  const start = days(s.first_date);
  const span = Math.max(1, days(s.last_date) - start + 1);
  const pos = (d) => `${(((days(d) - start) / span) * 100).toFixed(3)}%`;
  const width = (from, to) => `${Math.max(0.3, ((days(to) - days(from) + (s.period === 'weekly' ? 7 : 1)) / span) * 100).toFixed(3)}%`;
  const bar = h('div', { class: 'timeline', role: 'img', 'aria-label': `${s.charts} of ${s.charts_expected} charts loaded from ${s.first_date} to ${s.last_date}; ${s.charts_missing} missing` });
  for (const g of s.missing_ranges) {
    const gap = h('span', { class: 'gap', title: `missing ${g.from} to ${g.to} (${g.charts})` });
    gap.style.left = pos(g.from);
    gap.style.width = width(g.from, g.to);
    bar.append(gap);
  }
  return bar;
}

function coveragePanel(signal) {
  return panel('Coverage', async () => {
    const all = await regions();
    const rows = all.flatMap((r) => r.series.map((s) => ({ ...s, region: r.region, name: r.name })));
    if (!rows.length) return empty('Nothing is loaded yet: run chartpulse ingest and chartpulse load.');
    return table([
      { label: 'Series', cell: (s) => link({ view: 'chart', region: s.region, period: s.period, kind: s.chart_kind }, `${s.name} · ${s.period} ${s.chart_kind}`) },
      { label: 'First', nowrap: true, cell: (s) => s.first_date },
      { label: 'Last', nowrap: true, cell: (s) => s.last_date },
      { label: 'Loaded', num: true, cell: (s) => fmt(s.charts) },
      { label: 'Expected', num: true, cell: (s) => fmt(s.charts_expected) },
      { label: 'Missing', num: true, cell: (s) => fmt(s.charts_missing) },
      { label: 'Timeline (gaps in red)', cell: (s) => timeline(s) },
      { label: 'Largest gaps', cell: (s) => (s.missing_ranges.length
        ? [...s.missing_ranges].sort((a, b) => b.charts - a.charts).slice(0, 3).map((g) => `${g.from}…${g.to} (${fmt(g.charts)})`).join(', ') + (s.missing_ranges_truncated || s.missing_ranges.length > 3 ? ', …' : '')
        : 'none') },
    ], rows, { caption: 'coverage per series', className: 'data coverage' });
  }, { signal, id: 'coverage' });
}

function catalogPanel(state, ctx) {
  return panel('Catalog', async (signal) => {
    const status = ['pending', 'loaded', 'failed'].includes(state.status) ? state.status : '';
    const page = await api('/v1/catalog', { status, before: state.before, limit: 25 }, { signal });
    const form = controls(select('Status', 'status', status, [['', 'any'], ['pending', 'pending'], ['loaded', 'loaded'], ['failed', 'failed']],
      (v) => ctx.update({ status: v || undefined, before: undefined, object: undefined })));
    if (!page.objects.length) return [form, empty(status ? `No ${status} object in the catalog.` : 'The catalog is empty: nothing was ingested yet.')];
    return [form, table([
      { label: 'Id', num: true, cell: (o) => o.object_id },
      { label: 'File', cell: (o) => h('span', { title: o.key }, o.original_name) },
      { label: 'Source', cell: (o) => o.source },
      { label: 'Chart', cell: (o) => [o.partition.region, o.partition.period, o.partition.chart_kind, o.partition.chart_date].filter(Boolean).join(' · ') },
      { label: 'Bytes', num: true, cell: (o) => fmt(o.bytes) },
      { label: 'Rows', num: true, cell: (o) => fmt(o.rows_loaded) },
      { label: 'Rejected', num: true, cell: (o) => (o.rows_rejected ? link({ view: 'data', status: state.status, before: state.before, object: o.object_id }, fmt(o.rows_rejected)) : fmt(o.rows_rejected)) },
      { label: 'Status', cell: (o) => [h('span', { class: `status status-${o.status}` }, o.status), o.load_error ? h('span', { class: 'load-error' }, ` ${o.load_error}`) : null] },
    ], page.objects, { caption: 'raw objects, newest first' }),
    h('p', { class: 'pager' }, state.before ? link({ view: 'data', status: state.status }, '← Newest') : null, ' ',
      page.next_before && page.objects.length === 25 ? link({ view: 'data', status: state.status, before: page.next_before }, 'Older →') : null)];
  }, { signal: ctx.signal, id: 'catalog' });
}

function rejectsPanel(state, signal) {
  return panel(`Rejected rows of object ${state.object}`, async () => {
    const r = await api(`/v1/catalog/${seg(state.object)}/rejects`, { limit: 100 }, { signal });
    if (!r.rejects.length) return empty('This object has no rejected row.');
    return table([
      { label: 'Line', num: true, cell: (x) => x.line_no },
      { label: 'Reason', cell: (x) => x.reason },
      { label: 'Row as in the file', cell: (x) => h('code', { class: 'raw' }, x.raw_text) },
    ], r.rejects, { caption: 'rejected rows' });
  }, { signal, id: 'rejects' });
}

function runsPanel(signal) {
  return panel('Pipeline runs', async () => {
    const r = await api('/v1/pipeline/runs', { limit: 10 }, { signal });
    if (!r.runs.length) return empty('No pipeline run yet: chartpulse pipeline run (or POST /v1/pipeline/runs) records one.');
    return table([
      { label: 'Run', num: true, cell: (x) => x.run_id },
      { label: 'Started', nowrap: true, cell: (x) => x.started_at.replace('T', ' ').slice(0, 19) },
      { label: 'Trigger', cell: (x) => x.trigger || '' },
      { label: 'Status', cell: (x) => [h('span', { class: `status status-${x.status}` }, x.status), x.error ? h('span', { class: 'load-error' }, ` ${x.error}`) : null] },
      { label: 'Steps', cell: (x) => x.steps.map((s) => `${s.name} ${s.status}${s.seconds == null ? '' : ` ${s.seconds.toFixed(1)} s`}`).join(' · ') },
    ], r.runs, { caption: 'pipeline runs, newest first' });
  }, { signal, id: 'runs' });
}

export default {
  title: 'Data',
  render(state, ctx) {
    return [
      h('div', { class: 'view-head' }, h('h1', {}, 'Data'), h('p', { class: 'byline' }, 'What is loaded, what is missing, and what the pipeline did.')),
      coveragePanel(ctx.signal),
      state.object ? rejectsPanel(state, ctx.signal) : null,
      catalogPanel(state, ctx),
      runsPanel(ctx.signal),
    ].filter(Boolean);
  },
};
