// Every view of the dashboard on generated charts: it shows the numbers the API returns
// for the same parameters (read from the API here, never typed in), its controls work,
// back/forward restore it, and it has no console error, no off-host request and no
// serious accessibility violation, at desktop and phone width.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  api, assertAccessible, fmt, fmtDec, LEGACY_DATE, loadGenerated, screenshot, session, settled, stateOf, tableText, visit, WIDTHS,
  withPage,
} from './harness.mjs';

const S = session((rawUri) => loadGenerated(rawUri));

const chartRows = (page) => tableText(page, 'table.chart');

describe('chart view', () => {
  test('shows the latest global chart as the API gives it, with working date and series controls', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/latest?limit=200');
    const dates = (await api(S.server, '/v1/charts/global/dates')).dates;
    await visit(page, S.server, '/');
    const rows = await chartRows(page);
    assert.equal(rows.length, chart.count);
    for (const [i, e] of chart.entries.entries()) {
      assert.equal(rows[i][0], String(e.rank));
      assert.ok(rows[i][2].startsWith(e.track.name), `row ${i + 1}: ${rows[i][2]} is not ${e.track.name}`);
      assert.equal(rows[i][3], fmt(e.streams), `row ${i + 1} streams`);
      assert.equal(rows[i][4], fmt(e.peak_rank), `row ${i + 1} peak`);
      assert.equal(rows[i][5].replace('*', ''), fmt(e.days_on_chart), `row ${i + 1} days`);
    }
    // movement: arrows with places moved, badges for new and re-entries
    for (const [i, e] of chart.entries.entries()) {
      const cell = rows[i][1];
      if (e.movement === 'up' || e.movement === 'down') assert.match(cell, new RegExp(`${Math.abs(e.previous_rank - e.rank)}$`));
      if (e.movement === 'new') assert.equal(cell, 'NEW');
      if (e.movement === 're-entry') assert.equal(cell, 'RE');
    }
    // every credited artist is a link to its page
    const links = await page.$$eval('table.chart tbody tr:first-child .track-artists a', (as) => as.map((a) => new URL(a.href).searchParams.get('id')));
    assert.deepEqual(links, chart.entries[0].credits.map((c) => c.id));
    // the date picker holds exactly the dates that have a chart, newest first
    const options = await page.$$eval('#f-date option', (os) => os.map((o) => o.value));
    assert.deepEqual(options, [...dates].reverse());

    // the previous chart is one key away, and back/forward restore the view
    const prev = dates[dates.length - 2];
    await page.keyboard.press('ArrowLeft');
    await settled(page);
    assert.equal(stateOf(page).date, prev);
    const prevChart = await api(S.server, `/v1/charts/global/${prev}?limit=200`);
    assert.ok((await chartRows(page))[0][2].startsWith(prevChart.entries[0].track.name));
    await page.keyboard.press(']');
    await settled(page);
    assert.equal(stateOf(page).date, chart.date);
    await page.goBack();
    await settled(page);
    assert.equal(stateOf(page).date, prev);
    assert.equal(await page.$eval('#f-date', (s) => s.value), prev);
    await page.goForward();
    await settled(page);
    assert.equal(stateOf(page).date, chart.date);

    // the period picker switches to the weekly series
    await page.selectOption('#f-period', 'weekly');
    await settled(page);
    assert.equal(stateOf(page).period, 'weekly');
    const weekly = await api(S.server, '/v1/charts/global/latest?period=weekly&limit=200');
    const wrows = await chartRows(page);
    assert.equal(wrows.length, weekly.count);
    assert.equal(wrows[0][5].replace('*', ''), fmt(weekly.entries[0].weeks_on_chart));
    assert.match(await page.$eval('table.chart thead', (t) => t.innerText), /WEEKS/i);
  }));

  test('a date without a chart says so, and names the loaded range', () => withPage(S, async (page) => {
    const dates = (await api(S.server, '/v1/charts/global/dates')).dates;
    await visit(page, S.server, '/?view=chart&region=global&date=1999-01-01');
    const text = await page.$eval('main', (m) => m.innerText);
    assert.match(text, /No regional daily chart of Global is loaded for 1999-01-01/);
    assert.ok(text.includes(dates[0]) && text.includes(dates[dates.length - 1]));
  }));

  test('viral charts are one picker away, without a streams column', () => withPage(S, async (page) => {
    const viral = await api(S.server, '/v1/charts/global/latest?kind=viral');
    await visit(page, S.server, '/?region=global&kind=viral');
    const rows = await chartRows(page);
    assert.equal(rows.length, viral.count);
    assert.equal(rows.length, viral.entries.length);
    // no streams column on viral charts
    assert.doesNotMatch(await page.$eval('table.chart thead', (t) => t.innerText), /STREAMS/i);
    for (const [i, e] of viral.entries.entries()) if (e.movement === 'unknown') assert.match(rows[i][1], /^\?/);
  }));
});

describe('unknown movement', () => {
  test('a chart with no run columns and no chart the day before shows its movement as unknown', () => withPage(S, async (page) => {
    const chart = await api(S.server, `/v1/charts/gb/${LEGACY_DATE}`);
    assert.ok(chart.entries.length > 0 && chart.entries.every((e) => e.movement === 'unknown'), 'the fixture has unknown movement');
    await visit(page, S.server, `/?region=gb&date=${LEGACY_DATE}`);
    const rows = await chartRows(page);
    assert.equal(rows.length, chart.count);
    for (const r of rows) assert.match(r[1], /^\?/);
    assert.match(await page.$eval('main .note', (n) => n.innerText), /The day before is not loaded/);
    const title = await page.$eval('table.chart tbody tr:first-child .badge-unknown', (b) => b.title);
    assert.match(title, /unknown: the previous chart is not loaded/);
  }));
});

describe('track view', () => {
  test('shows the chart run, history chart, forecast and its error as the API gives them', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/latest?limit=1');
    await visit(page, S.server, '/');
    await page.click('table.chart tbody tr:first-child .track-name a');
    await settled(page);
    const id = chart.entries[0].track.id;
    assert.deepEqual([stateOf(page).view, stateOf(page).id], ['track', id]);
    const track = await api(S.server, `/v1/tracks/${id}`);
    const run = track.runs.find((r) => r.region === 'global' && r.period === 'daily' && r.chart_kind === 'regional');
    assert.equal(await page.$eval('h1', (e) => e.innerText), track.name);
    const stats = Object.fromEntries(await page.$$eval('#run dl.stats div', (ds) => ds.map((d) => [d.querySelector('dt').innerText.toLowerCase(), d.querySelector('dd').innerText])));
    assert.equal(stats['days on chart'], fmt(run.days_on_chart));
    assert.equal(stats['days at #1'], fmt(run.days_at_1));
    assert.equal(stats.debut, `#${run.debut_rank} on ${run.debut_date}`);
    assert.equal(stats.peak, `#${run.peak_rank} on ${run.peak_date}`);
    assert.equal(stats['streams on loaded charts'], fmt(run.total_streams));
    const windowText = await page.$eval('#run-window', (e) => e.innerText);
    assert.ok(windowText.includes(`${run.window.from} to ${run.window.to}`), windowText);
    assert.match(windowText, run.history_complete ? /complete/ : /incomplete/);
    // the history is drawn (uPlot canvas) and tabled
    assert.ok(await page.$('#history .uplot canvas'));
    const hist = await api(S.server, `/v1/tracks/${id}/history`);
    assert.equal((await tableText(page, '#history table')).length, hist.points.length);
    // the forecast: its points, its model and its measured error
    const fc = await api(S.server, `/v1/tracks/${id}/forecast?horizon=7`);
    assert.ok(await page.$('#forecast .uplot canvas'));
    const fcRows = await tableText(page, '#forecast table');
    assert.deepEqual(fcRows.map((r) => r[0]), fc.points.map((p) => p.date));
    const err = await page.$eval('#forecast-error', (e) => e.innerText);
    assert.ok(err.includes(fc.model) && err.includes(fc.origin), err);
    if (fc.backtest.evaluated_points) assert.ok(err.includes(fmt(fc.backtest.evaluated_points)), err);
    // the pooled model's stored forecast (the track is on the latest chart) with its backtest
    assert.ok(fc.pooled, 'refresh stored a pooled forecast for a track of the latest chart');
    const pooledRows = await tableText(page, '#forecast-pooled table');
    assert.deepEqual(pooledRows.map((r) => r[0]), fc.pooled.points.map((p) => p.date));
    assert.deepEqual(pooledRows.map((r) => r[1]), fc.pooled.points.map((p) => fmtDec(p.rank)));
    assert.deepEqual(pooledRows.map((r) => r[5]), fc.pooled.points.map((p) => fmtDec(p.backtest.rank_mae)));
    assert.ok((await page.$eval('#pooled-note', (e) => e.innerText)).includes(fc.pooled.model));
    // back returns to the chart
    await page.goBack();
    await settled(page);
    assert.equal(stateOf(page).view, undefined);
    assert.ok(await page.$('table.chart'));
  }));

  test('the series switch shows another region’s run', () => withPage(S, async (page) => {
    // a track that charted in more than one region
    const chart = await api(S.server, '/v1/charts/global/latest?limit=50');
    let track = null;
    for (const e of chart.entries) {
      const t = await api(S.server, `/v1/tracks/${e.track.id}`);
      if (new Set(t.runs.map((r) => r.region)).size > 1) {
        track = t;
        break;
      }
    }
    assert.ok(track, 'the generated charts share tracks between regions');
    const other = track.runs.find((r) => r.region !== 'global');
    await visit(page, S.server, `/?view=track&id=${track.id}`);
    await page.selectOption('#f-series', `${other.region}|${other.period}|${other.chart_kind}`);
    await settled(page);
    assert.equal(stateOf(page).region, other.region);
    const heading = await page.$eval('#run h2', (e) => e.innerText);
    assert.ok(heading.includes(other.region), heading);
  }));

  test('an unknown track says what failed and offers a retry', () => withPage(S, async (page) => {
    await visit(page, S.server, '/?view=track&id=0000000000000000000000');
    const alert = await page.$eval('[role=alert]', (e) => e.innerText);
    assert.match(alert, /404/);
    assert.ok(await page.$('[role=alert] button'));
  }, { allow: [(u) => u.includes('/v1/tracks/0000000000000000000000')] }));
});

describe('across regions', () => {
  test('one track on one date in every region, as a table and a grid', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/latest?limit=1');
    const id = chart.entries[0].track.id;
    const doc = await api(S.server, `/v1/tracks/${id}/regions?date=${chart.date}`);
    await visit(page, S.server, `/?view=regions&track=${id}&date=${chart.date}`);
    const rows = await tableText(page, 'main table');
    assert.equal(rows.length, doc.regions.length);
    const cells = await page.$$eval('ul.cells li', (ls) => ls.length);
    assert.equal(cells, doc.regions.length);
    for (const r of doc.regions) {
      const row = rows.find((x) => x[0] === `${r.name} (${r.region})`);
      assert.ok(row, `no row for ${r.region}`);
      if (r.on_chart) {
        assert.equal(row[1], String(r.rank));
        assert.equal(row[3], fmt(r.streams));
        assert.equal(row[5], fmt(r.days_on_chart));
      }
    }
  }));

  test('an artist in every region', () => withPage(S, async (page) => {
    const board = await api(S.server, '/v1/artists/leaderboard?limit=1');
    const a = board.rows[0].artist;
    const doc = await api(S.server, `/v1/artists/${a.id}/regions`);
    await visit(page, S.server, `/?view=regions&artist=${a.id}`);
    assert.ok((await page.$eval('h1', (e) => e.innerText)).startsWith(a.name));
    const rows = await tableText(page, 'main table');
    assert.equal(rows.length, doc.regions.length);
    for (const r of doc.regions.filter((x) => x.entries > 0)) {
      const row = rows.find((x) => x[0] === `${r.name} (${r.region})`);
      assert.equal(row[1], String(r.entries));
      assert.equal(row[2], String(r.best_rank));
    }
  }));
});

describe('artists', () => {
  test('the leaderboard as the API ranks it, by any measure', () => withPage(S, async (page) => {
    const board = await api(S.server, '/v1/artists/leaderboard?limit=50');
    await visit(page, S.server, '/?view=artists');
    assert.ok(await page.$('main .uplot canvas'), 'the bar chart is drawn');
    let rows = await tableText(page, 'table.leaderboard');
    assert.deepEqual(rows.map((r) => r[1]), board.rows.map((r) => r.artist.name));
    assert.deepEqual(rows.map((r) => r[2]), board.rows.map((r) => fmt(r.streams)));
    await page.selectOption('#f-by', 'entries');
    await settled(page);
    assert.equal(stateOf(page).by, 'entries');
    const byEntries = await api(S.server, '/v1/artists/leaderboard?limit=50&by=entries');
    rows = await tableText(page, 'table.leaderboard');
    assert.deepEqual(rows.map((r) => r[1]), byEntries.rows.map((r) => r.artist.name));
    await page.selectOption('#f-role', 'lead');
    await settled(page);
    const lead = await api(S.server, '/v1/artists/leaderboard?limit=50&by=entries&role=lead');
    rows = await tableText(page, 'table.leaderboard');
    assert.deepEqual(rows.map((r) => r[3]), lead.rows.map((r) => fmt(r.entries)));
    await page.goBack();
    await settled(page);
    assert.equal(stateOf(page).role, undefined);
    assert.equal(await page.$eval('#f-role', (s) => s.value), 'all');
  }));

  test('an artist page: stats, tracks and share of chart streams', () => withPage(S, async (page) => {
    const board = await api(S.server, '/v1/artists/leaderboard?limit=1');
    const a = board.rows[0].artist;
    const doc = await api(S.server, `/v1/artists/${a.id}?limit=200`);
    await visit(page, S.server, '/?view=artists');
    await page.click('table.leaderboard tbody tr:first-child a');
    await settled(page);
    assert.deepEqual([stateOf(page).view, stateOf(page).id], ['artist', a.id]);
    assert.equal(await page.$eval('h1', (e) => e.innerText), doc.name);
    const stats = Object.fromEntries(await page.$$eval('#artist dl.stats div', (ds) => ds.map((d) => [d.querySelector('dt').innerText.toLowerCase(), d.querySelector('dd').innerText])));
    assert.equal(stats['chart entries'], fmt(doc.stats.entries));
    assert.equal(stats.streams, fmt(doc.stats.total_streams));
    const rows = await tableText(page, '#artist table');
    assert.deepEqual(rows.map((r) => r[0]), doc.tracks.map((t) => t.name));
    assert.ok(await page.$('#share .uplot canvas'), 'the share chart is drawn');
    const share = await api(S.server, `/v1/artists/${a.id}/streams?granularity=month`);
    const best = share.points.filter((p) => p.share !== null).reduce((x, y) => (y.share > x.share ? y : x));
    const note = await page.$eval('#share .note', (e) => e.innerText);
    assert.ok(note.includes(best.date) && note.includes(fmt(best.streams)), note);
  }));
});

describe('trends', () => {
  test('insights, movers, new entries, stream totals and momentum come from the API', () => withPage(S, async (page) => {
    const regions = (await api(S.server, '/v1/regions')).regions;
    const series = regions.find((r) => r.region === 'global').series.find((s) => s.period === 'daily' && s.chart_kind === 'regional');
    const range = `from=${series.first_date}&to=${series.last_date}`;
    const [rec, board, totals, movers] = await Promise.all([
      api(S.server, `/v1/records?${range}&limit=1`),
      api(S.server, `/v1/artists/leaderboard?${range}&limit=1`),
      api(S.server, `/v1/trends/streams?${range}&granularity=month`),
      api(S.server, '/v1/trends/movers?limit=10'),
    ]);
    await visit(page, S.server, '/?view=trends');
    const insight = async (id) => page.$eval(`[data-insight=${id}]`, (e) => e.innerText);
    const run = rec.longest_runs[0];
    const longest = await insight('longest-run');
    assert.ok(longest.includes(run.track.name) && longest.includes(`${fmt(run.length)} days`) && longest.includes(run.from), longest);
    const debut = rec.biggest_debuts[0];
    if (debut) assert.ok((await insight('biggest-debut')).includes(`#${debut.rank} on ${debut.date}`));
    const top = rec.most_number_ones[0];
    assert.ok((await insight('most-number-ones')).includes(`${fmt(top.days_at_1)} day`));
    const total = totals.points.reduce((s, p) => s + (p.streams || 0), 0);
    const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(board.rows[0].streams / total);
    const share = await insight('artist-share');
    assert.ok(share.includes(board.rows[0].artist.name) && share.includes(pct) && share.includes(fmt(total)), share);
    const moved = await tableText(page, '#movers table');
    assert.deepEqual(moved.map((r) => r[0]), [...movers.gainers, ...movers.losers].map((m) => String(m.rank)));
    assert.deepEqual(moved.map((r) => r[3]), [...movers.gainers, ...movers.losers].map((m) => String(m.previous_rank)));
    assert.ok(await page.$('#streams .uplot canvas'));
    // the granularity switch
    await page.selectOption('#f-granularity', 'week');
    await settled(page);
    assert.equal(stateOf(page).granularity, 'week');
  }));
});

describe('records', () => {
  test('the four record lists as the API counts them', () => withPage(S, async (page) => {
    const rec = await api(S.server, '/v1/records?limit=10');
    await visit(page, S.server, '/?view=records');
    const names = async (id) => (await tableText(page, `#${id} table`)).map((r) => r[0]);
    assert.deepEqual(await names('most-number-ones'), rec.most_number_ones.map((r) => `${r.track.name} ${r.artists}`));
    assert.deepEqual(await names('longest-runs'), rec.longest_runs.map((r) => `${r.track.name} ${r.artists}`));
    assert.deepEqual((await tableText(page, '#most-streams table')).map((r) => r[1]), rec.most_streams.map((r) => fmt(r.streams)));
    assert.deepEqual((await tableText(page, '#biggest-debuts table')).map((r) => r[1]), rec.biggest_debuts.map((r) => `#${r.rank}`));
    const coverage = await page.$eval('#records-coverage', (e) => e.innerText);
    assert.ok(coverage.includes(`${fmt(rec.charts)} loaded charts from ${rec.from} to ${rec.to}`), coverage);
  }));
});

describe('data', () => {
  test('coverage, the catalog with its rejects, and pipeline runs', () => withPage(S, async (page) => {
    const regions = (await api(S.server, '/v1/regions')).regions;
    const catalog = await api(S.server, '/v1/catalog?limit=25');
    const runs = await api(S.server, '/v1/pipeline/runs?limit=10');
    await visit(page, S.server, '/?view=data');
    const cov = await tableText(page, '#coverage table');
    assert.equal(cov.length, regions.reduce((n, r) => n + r.series.length, 0));
    const cat = await tableText(page, '#catalog table');
    assert.deepEqual(cat.map((r) => r[0]), catalog.objects.map((o) => String(o.object_id)));
    const runRows = await tableText(page, '#runs table');
    assert.equal(runRows.length, runs.runs.length);
    assert.ok(runRows.length >= 1 && runRows[0][3].startsWith(runs.runs[0].status));
    // the object with a rejected row: its rejects with their reasons
    const bad = catalog.objects.find((o) => o.rows_rejected > 0);
    assert.ok(bad, 'the fixture has an object with a rejected row');
    await page.click(`#catalog a[href*="object=${bad.object_id}"]`);
    await settled(page);
    const rejects = await api(S.server, `/v1/catalog/${bad.object_id}/rejects`);
    const rows = await tableText(page, '#rejects table');
    assert.deepEqual(rows.map((r) => r[1]), rejects.rejects.map((r) => r.reason));
  }));
});

describe('search and shortcuts', () => {
  test('search finds a track accent- and case-insensitively; Enter opens it', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/latest?limit=1');
    const name = chart.entries[0].track.name;
    const q = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toUpperCase().slice(0, 6);
    const found = await api(S.server, `/v1/search?q=${encodeURIComponent(q)}&limit=6`);
    await visit(page, S.server, '/?view=records');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'search-q');
    await page.keyboard.type(q);
    await page.waitForSelector('#search-results [role=option]');
    const options = await page.$$eval('#search-results [role=option] .opt-main', (os) => os.map((o) => o.innerText));
    assert.deepEqual(options, [...found.tracks.map((t) => t.name), ...found.artists.map((a) => a.name)]);
    await page.keyboard.press('Enter');
    await settled(page);
    assert.deepEqual([stateOf(page).view, stateOf(page).id], ['track', found.tracks[0].id]);
  }));

  test('? lists the keyboard shortcuts; g then a key changes view', () => withPage(S, async (page) => {
    await visit(page, S.server, '/');
    await page.keyboard.press('?');
    assert.ok(await page.$eval('#help', (d) => d.open));
    assert.match(await page.$eval('#help', (d) => d.innerText), /g r\s+go to Records/);
    await page.keyboard.press('Escape');
    assert.equal(await page.$eval('#help', (d) => d.open), false);
    await page.keyboard.press('g');
    await page.keyboard.press('r');
    await settled(page);
    assert.equal(stateOf(page).view, 'records');
    // every control is reachable from the keyboard: Tab reaches the search box and the pickers
    await page.keyboard.press('Tab');
    const seen = new Set();
    for (let i = 0; i < 20; i++) {
      seen.add(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
      await page.keyboard.press('Tab');
    }
    assert.ok(seen.has('search-q') && seen.has('f-region') && seen.has('f-period'), [...seen].join(' '));
  }));
});

// every view, at both widths: clean, accessible, screenshotted
const VIEWS = async () => {
  const chart = await api(S.server, '/v1/charts/global/latest?limit=1');
  const board = await api(S.server, '/v1/artists/leaderboard?limit=1');
  const id = chart.entries[0].track.id;
  return {
    chart: '/',
    track: `/?view=track&id=${id}`,
    regions: `/?view=regions&track=${id}`,
    artists: '/?view=artists',
    artist: `/?view=artist&id=${board.rows[0].artist.id}`,
    trends: '/?view=trends',
    records: '/?view=records',
    data: '/?view=data',
  };
};

describe('every view at desktop and phone width', () => {
  for (const [label, width] of Object.entries(WIDTHS)) {
    test(`${label} (${width} px): no fault, no serious accessibility violation, no horizontal page scroll`, async () => {
      for (const [name, path] of Object.entries(await VIEWS())) {
        await withPage(S, async (page) => {
          await visit(page, S.server, path);
          await assertAccessible(page, `${name} at ${width} px`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 1, `${name} at ${width} px scrolls sideways by ${overflow} px`);
          await screenshot(page, `generated-${name}`);
        }, { width });
      }
    });
  }
});
