// The loaded series (region × period × kind) from /v1/regions, read once per page load,
// and the pickers every view uses to choose one.
import { api } from './api.js';
import { select } from './ui.js';

let regionsPromise = null;

export function regions() {
  if (!regionsPromise) {
    regionsPromise = api('/v1/regions').then((r) => r.regions);
    regionsPromise.catch(() => {
      regionsPromise = null; // a failed read is tried again next time
    });
  }
  return regionsPromise;
}

export const KINDS = ['regional', 'viral'];
export const PERIODS = ['daily', 'weekly'];

// The series of a region, regional and viral only (playlist snapshots are not charts).
export const chartSeries = (region) => region.series.filter((s) => KINDS.includes(s.chart_kind));

export function findSeries(all, { region, period, kind }) {
  const r = all.find((x) => x.region === region);
  return r && chartSeries(r).find((s) => s.period === period && s.chart_kind === kind);
}

// state with region/period/kind set to a loaded series: the asked one if it exists, else
// the closest (same region, then global), so a shared URL never shows nothing.
export function settle(all, state) {
  const wanted = { region: state.region || 'global', period: state.period || 'daily', kind: state.kind || 'regional' };
  if (findSeries(all, wanted)) return { ...state, ...wanted };
  const region = all.find((r) => r.region === wanted.region && chartSeries(r).length) ||
    all.find((r) => r.region === 'global' && chartSeries(r).length) || all.find((r) => chartSeries(r).length);
  if (!region) return { ...state, ...wanted };
  const series = chartSeries(region);
  const s = series.find((x) => x.period === wanted.period && x.chart_kind === wanted.kind) ||
    series.find((x) => x.chart_kind === wanted.kind) || series.find((x) => x.period === wanted.period) || series[0];
  return { ...state, region: region.region, period: s.period, kind: s.chart_kind };
}

// Region, period and kind selects; onchange(next) gets the settled state.
export function seriesPickers(all, state, onchange) {
  const regionOptions = all.filter((r) => chartSeries(r).length).map((r) => [r.region, `${r.name} (${r.region})`]);
  const current = all.find((r) => r.region === state.region);
  const has = (p, k) => current && chartSeries(current).some((s) => s.period === p && s.chart_kind === k);
  const periods = PERIODS.filter((p) => KINDS.some((k) => has(p, k)));
  const kinds = KINDS.filter((k) => has(state.period, k));
  return [
    select('Region', 'region', state.region, regionOptions, (region) => onchange(settle(all, { ...state, region }))),
    select('Period', 'period', state.period, periods.map((p) => [p, p]), (period) => onchange(settle(all, { ...state, period }))),
    select('Chart', 'kind', state.kind, kinds.map((k) => [k, k === 'regional' ? 'regional (Top 200)' : 'viral (50)']),
      (kind) => onchange(settle(all, { ...state, kind }))),
  ];
}

export const seriesParams = (state) => ({ region: state.region, period: state.period, kind: state.kind });
