// DOM building blocks shared by the views: elements, numbers in the reader's locale,
// links to views, tables, and panels that show loading, error (with retry) and empty
// states the same way everywhere.

// h('a', {href, class: 'x', onclick}, child, 'text', [more]) -> element. Attributes set
// as properties when the element has one (value, checked, hidden), else as attributes.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const DASH = '—';
export const fmt = (n) => (n === null || n === undefined ? DASH : integer.format(n));
export const fmtDec = (n) => (n === null || n === undefined ? DASH : decimal.format(n));
export const fmtPct = (n) => (n === null || n === undefined ? DASH : percent.format(n));
export const fmtCompact = (n) => (n === null || n === undefined ? DASH : compact.format(n));

// Days on daily series, weeks on weekly ones: the API names its counts the same way.
export const unit = (period) => (period === 'weekly' ? 'weeks' : 'days');
export const onChart = (row, period) => row[`${unit(period)}_on_chart`];

// ---- links -------------------------------------------------------------------------

// The URL of a view: the page itself with the view's state in the query string.
export function href(state) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return `./?${q.toString()}`;
}

// A link the router handles without a page load (data-nav).
export const link = (state, ...children) => h('a', { href: href(state), 'data-nav': '' }, ...children);

export const trackLink = (track, series = {}) =>
  link({ view: 'track', id: track.id, ...series }, track.name);
export const artistLink = (artist, series = {}) =>
  link({ view: 'artist', id: artist.id, ...series }, artist.name);

// The printed credit line with each credited artist's name in it linked; credited
// artists the line does not name are added after it.
export function creditLine(line, credits, series) {
  if (!credits || !credits.length) return [line];
  const out = [];
  let rest = line;
  const missing = [];
  for (const a of credits) {
    const at = rest.indexOf(a.name);
    if (at < 0) {
      missing.push(a);
      continue;
    }
    if (at > 0) out.push(rest.slice(0, at));
    out.push(artistLink(a, series));
    rest = rest.slice(at + a.name.length);
  }
  if (rest) out.push(rest);
  if (missing.length)
    out.push(h('span', { class: 'also' }, ' · also credited: ', missing.map((a, i) => [i ? ', ' : '', artistLink(a, series)])));
  return out;
}

// ---- movement ----------------------------------------------------------------------

const MOVEMENT_TEXT = {
  up: 'up',
  down: 'down',
  same: 'no change',
  new: 'new entry',
  're-entry': 're-entry',
  unknown: 'unknown: the previous chart is not loaded',
};

// The arrow and places moved, or a badge (NEW, RE, ?).
export function movementCell(row) {
  const m = row.movement;
  const places = row.previous_rank && row.rank ? Math.abs(row.previous_rank - row.rank) : null;
  const label = MOVEMENT_TEXT[m] || m;
  if (m === 'up' || m === 'down')
    return h('span', { class: `mv mv-${m}`, title: `${label} ${places} from ${row.previous_rank}` },
      h('span', { 'aria-hidden': 'true' }, m === 'up' ? '▲' : '▼'), h('span', { class: 'sr' }, `${label} `), places);
  if (m === 'same') return h('span', { class: 'mv mv-same', title: label }, h('span', { 'aria-hidden': 'true' }, '='), h('span', { class: 'sr' }, label));
  if (m === 'new') return h('span', { class: 'badge badge-new', title: label }, 'NEW');
  if (m === 're-entry') return h('span', { class: 'badge badge-re', title: label }, 'RE');
  return h('span', { class: 'badge badge-unknown', title: label }, '?', h('span', { class: 'sr' }, ` ${label}`));
}

// ---- tables ------------------------------------------------------------------------

// columns: [{label, cell: row => node|text, num: bool, nowrap: bool, title}]; caption for screen readers.
export function table(columns, rows, { caption, className } = {}) {
  // a table wider than the screen scrolls inside its box, which the keyboard can reach
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'table' },
    h('table', { class: className || 'data' },
      caption ? h('caption', { class: 'sr' }, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null, title: c.title }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : c.nowrap ? 'nowrap' : null }, c.cell(r))))))));
}

// ---- panels ------------------------------------------------------------------------

// An empty result, said with its reason.
export class Empty {
  constructor(message) {
    this.message = message;
  }
}
export const empty = (message) => new Empty(message);

// A titled section whose body comes from load(signal): a node (or list of nodes), or
// Empty. Shows "Loading…" meanwhile, and on failure what failed with a Retry button.
export function panel(title, load, { signal, className, id } = {}) {
  const body = h('div', { class: 'panel-body', 'aria-live': 'polite' });
  const section = h('section', { class: `panel ${className || ''}`, id, 'aria-busy': 'true' },
    title ? h('h2', {}, title) : null, body);
  const run = async () => {
    section.setAttribute('aria-busy', 'true');
    body.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    try {
      const out = await load(signal);
      if (signal && signal.aborted) return;
      if (out instanceof Empty) body.replaceChildren(h('p', { class: 'empty' }, out.message));
      else body.replaceChildren(...[].concat(out));
    } catch (e) {
      if (e.name === 'AbortError') return;
      body.replaceChildren(h('div', { class: 'error', role: 'alert' },
        h('p', {}, `Could not load ${title ? title.toLowerCase() : 'this panel'}: ${e.message}`),
        h('button', { type: 'button', onclick: run }, 'Retry')));
      console.warn(e); // eslint-disable-line no-console
    } finally {
      section.setAttribute('aria-busy', 'false');
    }
  };
  run();
  return section;
}

// A labelled <select>; options: [[value, label]] or [{group, options}].
export function select(label, name, value, options, onchange) {
  const id = `f-${name}`;
  const sel = h('select', { id, name, onchange: (e) => onchange(e.target.value) });
  for (const o of options) {
    if (o.group) {
      const g = h('optgroup', { label: o.group });
      for (const [v, l] of o.options) g.append(h('option', { value: v, selected: v === value }, l));
      sel.append(g);
    } else sel.append(h('option', { value: o[0], selected: o[0] === value }, o[1]));
  }
  sel.value = value;
  return h('div', { class: 'field' }, h('label', { for: id }, label), sel);
}

// Dates are read and shown as ISO (YYYY-MM-DD) whatever the reader's locale, so a text
// field checked against that form rather than the browser's localised date picker.
export function dateInput(label, name, value, onchange, { min, max } = {}) {
  const id = `f-${name}`;
  const hint = h('span', { class: 'hint', id: `${id}-hint` }, min && max ? `${min} … ${max}` : 'YYYY-MM-DD');
  const input = h('input', {
    id, name, type: 'text', inputmode: 'numeric', value: value || '', placeholder: 'YYYY-MM-DD', size: 11,
    pattern: '\\d{4}-\\d{2}-\\d{2}', 'aria-describedby': hint.id,
    onchange: (e) => {
      const v = e.target.value.trim();
      const ok = /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v));
      e.target.setAttribute('aria-invalid', ok || v === '' ? 'false' : 'true');
      hint.textContent = ok || v === '' ? (min && max ? `${min} … ${max}` : 'YYYY-MM-DD') : `“${v}” is not a date YYYY-MM-DD`;
      if (ok || v === '') onchange(v || undefined);
    },
  });
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint);
}

export const controls = (...fields) => h('form', { class: 'controls', onsubmit: (e) => e.preventDefault() }, ...fields);
