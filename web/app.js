// The dashboard: a router over views whose whole state lives in the query string (so every
// view has a URL to share, and back/forward restore it), the search box, and keyboard
// shortcuts. Views are modules with render(state, ctx).
import { api } from './api.js';
import { h, href } from './ui.js';
import chart from './view-chart.js';
import track from './view-track.js';
import across from './view-regions.js';
import { artist, artists } from './view-artists.js';
import trends from './view-trends.js';
import records from './view-records.js';
import data from './view-data.js';

const VIEWS = { chart, track, regions: across, artists, artist, trends, records, data };
// the navigation bar: [view, label, shortcut after g]
const NAV = [
  ['chart', 'Chart', 'c'],
  ['trends', 'Trends', 't'],
  ['artists', 'Artists', 'a'],
  ['regions', 'Across regions', 'x'],
  ['records', 'Records', 'r'],
  ['data', 'Data', 'd'],
];
// the series and dates that follow the reader from view to view
const CARRIED = ['region', 'period', 'kind'];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let current = null; // {controller, keys}

const readState = () => Object.fromEntries(new URLSearchParams(location.search));

function carried(state) {
  const out = {};
  for (const k of CARRIED) if (state[k]) out[k] = state[k];
  return out;
}

// Changes the URL (a new history entry unless replace) and renders it.
function navigate(state, { replace = false } = {}) {
  const url = href(state);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render({ focusMain: false });
}

function renderNav(state) {
  const view = state.view || 'chart';
  nav.replaceChildren(...NAV.map(([v, label]) =>
    h('a', { href: href({ view: v, ...carried(state) }), 'data-nav': '', 'aria-current': v === view || (v === 'artists' && view === 'artist') ? 'page' : null }, label)));
}

function render({ focusMain = false } = {}) {
  const state = readState();
  const name = VIEWS[state.view] ? state.view : 'chart';
  const view = VIEWS[name];
  if (current) current.controller.abort();
  const controller = new AbortController();
  const keys = {};
  // keep the focused control focused across a re-render (a select that changed the URL)
  const focusedId = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : null;
  renderNav(state);
  const ctx = {
    signal: controller.signal,
    navigate,
    // merges changes into the current state
    update: (changes, opts) => navigate({ ...readState(), ...changes }, opts),
    keys,
    setTitle: (t) => {
      document.title = t ? `${t} · chartpulse` : 'chartpulse';
    },
  };
  ctx.setTitle(view.title);
  main.replaceChildren(...[].concat(view.render({ ...state, view: name }, ctx)));
  current = { controller, keys };
  if (focusedId) {
    const again = document.getElementById(focusedId);
    if (again) again.focus();
  } else if (focusMain) main.focus({ preventScroll: true });
}

// ---- links without page loads ------------------------------------------------------------

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  closeSearch();
  history.pushState(null, '', url.pathname + url.search);
  render({ focusMain: true });
  window.scrollTo(0, 0);
});
window.addEventListener('popstate', () => render({ focusMain: true }));

// ---- search ------------------------------------------------------------------------------

const form = document.getElementById('search');
const input = document.getElementById('search-q');
const results = document.getElementById('search-results');
input.setAttribute('role', 'combobox');
input.setAttribute('aria-autocomplete', 'list');
let searchTimer = null;
let searchController = null;
let active = -1;

function closeSearch() {
  results.hidden = true;
  input.setAttribute('aria-expanded', 'false');
  input.removeAttribute('aria-activedescendant');
  active = -1;
}

function options() {
  return [...results.querySelectorAll('[role=option]')];
}

function setActive(i) {
  const opts = options();
  if (!opts.length) return;
  active = (i + opts.length) % opts.length;
  opts.forEach((o, j) => o.setAttribute('aria-selected', j === active ? 'true' : 'false'));
  input.setAttribute('aria-activedescendant', opts[active].id);
  opts[active].scrollIntoView({ block: 'nearest' });
}

async function search(q) {
  if (searchController) searchController.abort();
  searchController = new AbortController();
  try {
    const r = await api('/v1/search', { q, limit: 6 }, { signal: searchController.signal });
    const state = carried(readState());
    const opt = (id, state2, main2, sub) =>
      h('a', { id, role: 'option', href: href(state2), 'data-nav': '', 'aria-selected': 'false' },
        h('span', { class: 'opt-main' }, main2), sub ? h('span', { class: 'opt-sub' }, sub) : null);
    const items = [
      ...r.tracks.map((t, i) => opt(`sr-t${i}`, { view: 'track', id: t.id, ...state }, t.name, `${t.artists} · best #${t.best_rank} · ${t.first_chart_date}…${t.last_chart_date}`)),
      ...r.artists.map((a, i) => opt(`sr-a${i}`, { view: 'artist', id: a.id, ...state }, a.name, 'artist')),
    ];
    results.replaceChildren(...(items.length ? [
      r.tracks.length ? h('div', { class: 'opt-group', role: 'presentation' }, 'Tracks') : null,
      ...items.slice(0, r.tracks.length),
      r.artists.length ? h('div', { class: 'opt-group', role: 'presentation' }, 'Artists') : null,
      ...items.slice(r.tracks.length),
    ].filter(Boolean) : [h('div', { class: 'opt-empty', role: 'presentation' }, `No track or artist matches “${q}”.`)]));
  } catch (e) {
    if (e.name === 'AbortError') return;
    results.replaceChildren(h('div', { class: 'opt-empty error', role: 'presentation' }, `Search failed: ${e.message}`));
  }
  results.hidden = false;
  input.setAttribute('aria-expanded', 'true');
  active = -1;
}

input.addEventListener('input', () => {
  clearTimeout(searchTimer);
  const q = input.value.trim();
  if (!q) return closeSearch();
  searchTimer = setTimeout(() => search(q), 150);
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowDown') {
    e.preventDefault();
    setActive(active + 1);
  } else if (e.key === 'ArrowUp') {
    e.preventDefault();
    setActive(active - 1);
  } else if (e.key === 'Escape') {
    closeSearch();
    input.blur();
  }
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const opts = options();
  const pick = opts[active >= 0 ? active : 0];
  if (pick) {
    pick.click();
    input.value = '';
  }
});
document.addEventListener('click', (e) => {
  if (!form.contains(e.target)) closeSearch();
});

// ---- keyboard shortcuts --------------------------------------------------------------------

const help = document.getElementById('help');
const SHORTCUTS = [
  ['/', 'search tracks and artists'],
  ['?', 'show these shortcuts'],
  ...NAV.map(([, label, key]) => [`g ${key}`, `go to ${label}`]),
  ['← or [', 'previous chart (chart view)'],
  ['→ or ]', 'next chart (chart view)'],
  ['Esc', 'close this or the search results'],
];
help.replaceChildren(
  h('h2', { id: 'help-title' }, 'Keyboard shortcuts'),
  h('dl', { class: 'keys' }, SHORTCUTS.map(([k, what]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, what)])),
  h('form', { method: 'dialog' }, h('button', { type: 'submit' }, 'Close')));

let pendingG = false;
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName))) return;
  if (help.open) return;
  if (pendingG) {
    pendingG = false;
    const item = NAV.find(([, , key]) => key === e.key);
    if (item) {
      e.preventDefault();
      navigate({ view: item[0], ...carried(readState()) });
    }
    return;
  }
  if (e.key === '/') {
    e.preventDefault();
    input.focus();
  } else if (e.key === '?') {
    e.preventDefault();
    help.showModal();
  } else if (e.key === 'g') {
    pendingG = true;
  } else if (current && current.keys[e.key]) {
    e.preventDefault();
    current.keys[e.key]();
  }
});

render();
