// Every route of openapi.yaml against the real server: good and bad inputs, status codes,
// bodies validated against the response schemas (harness.mjs `call`), CSV, ETag/304.
// A route still answering the 500 placeholder fails here: 500 is documented nowhere.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import {
  ADMIN_TOKEN, FIXTURE_END_DATE, SOURCE_DIR, call, loadFixtures, parseCsv, runBinary, spec,
  specOperations, startServer,
} from './harness.mjs';

let server;
const ids = {}; // discovered from the data: track, artist, objectWithRejects
const succeeded = new Set(); // operations that answered 2xx somewhere below
const refused = new Set(); // operations that answered 400 somewhere below

async function ok(op, url, opts = {}) {
  const r = await call(server, op, url, { expect: 200, ...opts });
  succeeded.add(op);
  return r;
}
async function bad(op, url, status = 400, opts = {}) {
  const r = await call(server, op, url, { expect: status, ...opts });
  if (status === 400) refused.add(op);
  if (status === 400) assert.ok(r.body.detail, 'a 400 says which parameter is wrong');
  return r;
}
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** POSTs body with `Expect: 100-continue`; resolves {status, headers, text}. */
function postExpectingContinue(url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { ...headers, Expect: '100-continue', 'Content-Length': body.length },
    });
    req.on('continue', () => req.end(body));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** The first value of key `key` anywhere in obj that matches re. */
function findValue(obj, key, re) {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const [k, v] of Object.entries(obj)) {
    if (k === key && typeof v === 'string' && re.test(v)) return v;
    const inner = findValue(v, key, re);
    if (inner) return inner;
  }
  return undefined;
}

before(async () => {
  server = await startServer();
  loadFixtures(server.env.CHARTPULSE_RAW_URI);
});

after(async () => {
  await server?.stop();
});

test('operations: health, readiness, metrics', async () => {
  await ok('GET /healthz', '/healthz');
  await ok('GET /readyz', '/readyz');
  const m = await call(server, 'GET /metrics', '/metrics', { expect: 200 });
  succeeded.add('GET /metrics');
  assert.match(m.text, /# TYPE /);
  // 404 and 405 are nobody's documented answer: checked by hand
  const res = await fetch(`${server.url}/healthz`, { method: 'DELETE' });
  assert.equal(res.status, 405);
  assert.ok(res.headers.get('allow').includes('GET'));
  const missing = await fetch(`${server.url}/v1/no-such-thing`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'application/problem+json');
});

test('GET /openapi.json and /docs are served by the binary', async () => {
  const r = await ok('GET /openapi.json', '/openapi.json');
  assert.deepEqual(r.body, spec, '/openapi.json is the openapi.yaml the binary was built from (rebuild?)');
  const page = await ok('GET /docs', '/docs');
  assert.match(page.text, /swagger-ui-bundle\.js/);
  const js = await ok('GET /docs/{asset}', '/docs/swagger-ui-bundle.js');
  assert.ok(js.text.length > 100000, 'the renderer is built in');
  await ok('GET /docs/{asset}', '/docs/swagger-ui.css');
  await call(server, 'GET /docs/{asset}', '/docs/nothing.js', { expect: 404 });
});

test('GET /, its assets and /favicon.ico: the dashboard, served by the binary', async () => {
  const page = await ok('GET /', '/');
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
  assert.ok(!page.text.includes('__ASSET_VERSION__'), 'the asset version is filled in');
  const urls = [...page.text.matchAll(/(?:href|src)="(assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(urls.length > 0, 'the page links its assets');
  for (const url of urls) {
    const asset = await ok('GET /assets/{version}/{path}', `/${url}`);
    assert.match(asset.headers.get('cache-control'), /immutable/);
  }
  await call(server, 'GET /assets/{version}/{path}', `/${urls[0].replace(/[^/]+$/, 'nothing.js')}`,
    { expect: 404 });
  const icon = await ok('GET /favicon.ico', '/favicon.ico');
  assert.match(icon.text, /<svg/);
});

test('GET /v1/charts/{region}/{date}', async () => {
  const op = 'GET /v1/charts/{region}/{date}';
  const latest = await ok(op, '/v1/charts/global/latest?limit=5');
  assert.equal(latest.body.date, FIXTURE_END_DATE);
  assert.equal(latest.body.entries.length, 5);
  ids.track = latest.body.entries[0].track.id;
  await ok(op, `/v1/charts/global/${FIXTURE_END_DATE}?period=daily&kind=regional&limit=3`);
  // ETag and If-None-Match
  const again = await fetch(`${server.url}/v1/charts/global/latest?limit=5`, {
    headers: { 'If-None-Match': latest.headers.get('etag') },
  });
  assert.equal(again.status, 304);
  // CSV by ?format= and by Accept, never served to a JSON client from the cache
  const csv = await ok(op, '/v1/charts/global/latest?limit=5&format=csv');
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const rows = parseCsv(csv.text);
  assert.equal(rows.length, 6);
  assert.equal(rows[0][0], 'rank');
  const byAccept = await ok(op, '/v1/charts/global/latest?limit=5', { headers: { Accept: 'text/csv' } });
  assert.equal(byAccept.text, csv.text);
  assert.match(byAccept.headers.get('vary') || '', /Accept\b/);
  const json = await ok(op, '/v1/charts/global/latest?limit=5', { headers: { Accept: 'application/json' } });
  assert.equal(json.body.entries.length, 5);
  await bad(op, '/v1/charts/global/latest?format=xml');
  await bad(op, '/v1/charts/Global/latest');
  await bad(op, '/v1/charts/global/2024-02-30');
  await bad(op, '/v1/charts/global/latest?limit=0');
  await bad(op, '/v1/charts/global/latest?period=monthly');
  await bad(op, '/v1/charts/global/1999-01-01', 404);
});

/** Days from ISO date a to ISO date b. */
const daysBetween = (a, b) => (Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000;
const addDays = (a, n) => new Date(Date.parse(`${a}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);

/** The series (kind, period) of region in a /v1/regions body. */
function regionSeries(body, region, kind, period) {
  const series = body.regions.find((x) => x.region === region)?.series
    .find((s) => s.chart_kind === kind && s.period === period);
  assert.ok(series, `no ${region} ${kind} ${period} series`);
  return series;
}

/** What every series of /v1/regions must satisfy, whatever the data. */
function assertCoherentCoverage(body) {
  for (const region of body.regions)
    for (const s of region.series) {
      const where = `${region.region} ${s.chart_kind} ${s.period}`;
      const step = s.period === 'weekly' ? 7 : 1;
      assert.equal(s.charts_expected, Math.floor(daysBetween(s.first_date, s.last_date) / step) + 1, where);
      assert.ok(s.charts_missing <= s.charts_expected && s.charts + s.charts_missing >= s.charts_expected, where);
      const listed = s.missing_ranges.reduce((n, r) => n + r.charts, 0);
      if (s.missing_ranges_truncated) assert.ok(listed < s.charts_missing, where);
      else assert.equal(listed, s.charts_missing, `${where}: the ranges add up to charts_missing`);
      let previousTo = s.first_date;
      for (const r of s.missing_ranges) {
        assert.ok(r.from > previousTo && r.from <= r.to && r.to < s.last_date, `${where}: ranges in date order, inside the series`);
        assert.equal(Math.floor(daysBetween(r.from, r.to) / step) + 1, r.charts, `${where}: ${r.from}..${r.to}`);
        previousTo = r.to;
      }
    }
}

test('GET /v1/regions', async () => {
  const r = await ok('GET /v1/regions', '/v1/regions');
  assert.equal(r.body.regions[0].region, 'global');
  assertCoherentCoverage(r.body);
  // the generated fixture: 21 consecutive days and their 2 weeks in every region
  const daily = regionSeries(r.body, 'global', 'regional', 'daily');
  assert.deepEqual(daily, {
    chart_kind: 'regional', period: 'daily', first_date: addDays(FIXTURE_END_DATE, -20),
    last_date: FIXTURE_END_DATE, charts: 21, charts_expected: 21, charts_missing: 0,
    missing_ranges: [], missing_ranges_truncated: false,
  });
  const weekly = regionSeries(r.body, 'global', 'regional', 'weekly');
  assert.equal(weekly.charts, 2);
  assert.equal(weekly.charts_expected, 2);
  const csv = await ok('GET /v1/regions', '/v1/regions?format=csv');
  const rows = parseCsv(csv.text);
  assert.deepEqual(rows[0], ['region', 'name', 'chart_kind', 'period', 'first_date', 'last_date',
    'charts', 'charts_expected', 'charts_missing']);
  assert.deepEqual(rows[1], ['global', 'Global', 'regional', 'daily', daily.first_date,
    FIXTURE_END_DATE, '21', '21', '0']);
  await bad('GET /v1/regions', '/v1/regions?format=yaml');
});

test('GET /v1/tracks/{id}, history, forecast', async () => {
  assert.ok(ids.track, 'a track id from the chart');
  const t = await ok('GET /v1/tracks/{id}', `/v1/tracks/${ids.track}`);
  // runs name their unit and say which window they cover (SPEC 4a)
  for (const run of t.body.runs) {
    const unit = run.period === 'weekly' ? 'weeks' : 'days';
    const other = unit === 'weeks' ? 'days' : 'weeks';
    assert.equal(typeof run[`${unit}_on_chart`], 'number', `${run.period} run has ${unit}_on_chart`);
    assert.equal(run[`${other}_on_chart`], undefined, `${run.period} run has no ${other}_on_chart`);
    assert.ok(run.window.from <= run.debut_date && run.last_date <= run.window.to);
  }
  assert.equal(t.body.song.id <= ids.track, true, 'a song is named by its smallest id');
  ids.artist = findValue(t.body.artists, 'id', /./);
  await ok('GET /v1/tracks/{id}', `/v1/tracks/${encodeURIComponent(`spotify:track:${ids.track}`)}`);
  await bad('GET /v1/tracks/{id}', '/v1/tracks/short');
  await bad('GET /v1/tracks/{id}', '/v1/tracks/0000000000000000000000', 404);

  await ok('GET /v1/tracks/{id}/history', `/v1/tracks/${ids.track}/history`);
  await ok('GET /v1/tracks/{id}/history', `/v1/tracks/${ids.track}/history?format=csv`);
  await bad('GET /v1/tracks/{id}/history', `/v1/tracks/${ids.track}/history?from=2032-06-30&to=2032-06-01`);
  await bad('GET /v1/tracks/{id}/history', '/v1/tracks/0000000000000000000000/history', 404);

  // the track is on the latest chart, so refresh stored its pooled forecast (7 daily points)
  const f = await ok('GET /v1/tracks/{id}/forecast', `/v1/tracks/${ids.track}/forecast`);
  assert.equal(f.body.pooled.model, 'pooled-ridge');
  assert.equal(f.body.pooled.origin, FIXTURE_END_DATE);
  assert.deepEqual(f.body.pooled.points.map((p) => p.horizon), [1, 2, 3, 4, 5, 6, 7]);
  for (const p of f.body.pooled.points) {
    assert.ok(p.streams_low <= p.streams && p.streams <= p.streams_high, 'streams inside its interval');
    assert.ok(p.backtest.scored > 0, 'a backtest behind every horizon');
  }
  const f3 = await ok('GET /v1/tracks/{id}/forecast', `/v1/tracks/${ids.track}/forecast?horizon=3`);
  assert.equal(f3.body.pooled.points.length, 3);
  await bad('GET /v1/tracks/{id}/forecast', `/v1/tracks/${ids.track}/forecast?horizon=0`);
  await bad('GET /v1/tracks/{id}/forecast', '/v1/tracks/0000000000000000000000/forecast', 404);
});

test('GET /v1/artists/leaderboard and /v1/artists/{id}', async () => {
  const op = 'GET /v1/artists/leaderboard';
  const lb = await ok(op, '/v1/artists/leaderboard?limit=5');
  ids.artist = ids.artist || lb.body.rows[0]?.artist?.id;
  await ok(op, '/v1/artists/leaderboard?by=entries&role=lead&limit=5');
  await ok(op, '/v1/artists/leaderboard?by=number_ones&format=csv');
  for (const by of ['charts', 'number_one_entries', 'number_one_songs', 'songs']) {
    const r = await ok(op, `/v1/artists/leaderboard?by=${by}&limit=5`);
    const values = r.body.rows.map((row) => row[by]);
    assert.deepEqual(values, [...values].sort((a, b) => b - a), `by=${by} orders by ${by}`);
  }
  await bad(op, '/v1/artists/leaderboard?by=fame');
  await bad(op, '/v1/artists/leaderboard?role=ghost');

  assert.ok(ids.artist, 'an artist id from the data');
  await ok('GET /v1/artists/{id}', `/v1/artists/${encodeURIComponent(ids.artist)}`);
  await bad('GET /v1/artists/{id}', '/v1/artists/0000000000000000000000', 404);
  await bad('GET /v1/artists/{id}', `/v1/artists/${encodeURIComponent(ids.artist)}?period=hourly`);
});

test('GET /v1/trends/*', async () => {
  await ok('GET /v1/trends/movers', '/v1/trends/movers');
  await ok('GET /v1/trends/movers', `/v1/trends/movers?date=${FIXTURE_END_DATE}&limit=5&format=csv`);
  await bad('GET /v1/trends/movers', '/v1/trends/movers?date=yesterday');
  await bad('GET /v1/trends/movers', '/v1/trends/movers?date=1999-01-01', 404);

  await ok('GET /v1/trends/new-entries', '/v1/trends/new-entries');
  await ok('GET /v1/trends/new-entries', '/v1/trends/new-entries?format=csv');
  await bad('GET /v1/trends/new-entries', '/v1/trends/new-entries?limit=5000');
  await bad('GET /v1/trends/new-entries', '/v1/trends/new-entries?date=1999-01-01', 404);

  await ok('GET /v1/trends/streams', '/v1/trends/streams');
  await ok('GET /v1/trends/streams', '/v1/trends/streams?granularity=week&format=csv');
  await bad('GET /v1/trends/streams', '/v1/trends/streams?granularity=decade');

  await ok('GET /v1/trends/momentum', '/v1/trends/momentum');
  await ok('GET /v1/trends/momentum', '/v1/trends/momentum?window=3&limit=5&format=csv');
  await bad('GET /v1/trends/momentum', '/v1/trends/momentum?window=-1');
  await bad('GET /v1/trends/momentum', '/v1/trends/momentum?date=1999-01-01', 404);

  const sv = await ok('GET /v1/survival', '/v1/survival');
  for (const band of sv.body.bands) {
    const s = band.curve.map((p) => p.survival);
    assert.deepEqual(s, [...s].sort((a, b) => b - a), `${band.debut_band}: survival never rises`);
  }
  await ok('GET /v1/survival', '/v1/survival?region=global&period=daily&kind=regional');
  await bad('GET /v1/survival', '/v1/survival?period=hourly');
  await bad('GET /v1/survival', '/v1/survival?limit=5');
  await bad('GET /v1/survival', '/v1/survival?kind=viral', 404);
});

test('dashboard reads: chart dates, regions, artist streams, records', async () => {
  const dop = 'GET /v1/charts/{region}/dates';
  const dates = await ok(dop, '/v1/charts/global/dates');
  assert.equal(dates.body.count, dates.body.dates.length);
  assert.equal(dates.body.dates.at(-1), FIXTURE_END_DATE);
  assert.deepEqual(dates.body.dates, [...dates.body.dates].sort(), 'oldest first');
  await ok(dop, '/v1/charts/global/dates?period=weekly&kind=regional');
  await bad(dop, '/v1/charts/global/dates?period=monthly');
  await bad(dop, '/v1/charts/xx1/dates');
  await bad(dop, '/v1/charts/global/dates?kind=viral', 404);
  // the chart route still answers beside it
  await ok('GET /v1/charts/{region}/{date}', `/v1/charts/global/${dates.body.dates[0]}?limit=1`);

  assert.ok(ids.track && ids.artist, 'ids from the earlier tests');
  const top = '/v1/charts/global/latest?limit=1';
  const chart = (await call(server, 'GET /v1/charts/{region}/{date}', top)).body;
  const top1 = chart.entries[0];
  const trop = 'GET /v1/tracks/{id}/regions';
  const tr = await ok(trop, `/v1/tracks/${top1.track.id}/regions`);
  assert.equal(tr.body.date, FIXTURE_END_DATE);
  assert.equal(tr.body.regions[0].region, 'global');
  const g = tr.body.regions[0];
  assert.deepEqual([g.rank, g.streams, g.previous_rank, g.movement, g.peak_rank, g.days_on_chart],
    [top1.rank, top1.streams, top1.previous_rank, top1.movement, top1.peak_rank, top1.days_on_chart],
    'the values the chart shows');
  await ok(trop, `/v1/tracks/${top1.track.id}/regions?date=${FIXTURE_END_DATE}&period=weekly`);
  await bad(trop, `/v1/tracks/${top1.track.id}/regions?date=someday`);
  await bad(trop, '/v1/tracks/0000000000000000000000/regions', 404);

  const arop = 'GET /v1/artists/{id}/regions';
  const artist = encodeURIComponent(ids.artist);
  const ar = await ok(arop, `/v1/artists/${artist}/regions`);
  assert.ok(ar.body.regions.some((r) => r.entries > 0));
  await ok(arop, `/v1/artists/${artist}/regions?date=${ar.body.date}&period=daily&kind=regional`);
  await bad(arop, `/v1/artists/${artist}/regions?kind=top`);
  await bad(arop, '/v1/artists/0000000000000000000000/regions', 404);

  const asop = 'GET /v1/artists/{id}/streams';
  const as = await ok(asop, `/v1/artists/${artist}/streams?granularity=week`);
  const totals = await call(server, 'GET /v1/trends/streams', '/v1/trends/streams?granularity=week');
  assert.deepEqual(as.body.points.map((p) => [p.date, p.chart_streams, p.charts]),
    totals.body.points.map((p) => [p.date, p.streams, p.charts]), 'the totals of /v1/trends/streams');
  await ok(asop, `/v1/artists/${artist}/streams?role=lead&granularity=month&from=${FIXTURE_END_DATE}`);
  await bad(asop, `/v1/artists/${artist}/streams?granularity=year`);
  await bad(asop, '/v1/artists/0000000000000000000000/streams', 404);

  const rop = 'GET /v1/records';
  const rec = await ok(rop, '/v1/records?limit=3');
  assert.equal(rec.body.to, FIXTURE_END_DATE);
  assert.equal(rec.body.charts, dates.body.count);
  assert.ok(rec.body.most_number_ones.length <= 3);
  await ok(rop, '/v1/records?period=weekly&limit=100');
  await bad(rop, '/v1/records?limit=101');
  await bad(rop, '/v1/records?from=2032-06-30&to=2032-06-01');
  await bad(rop, '/v1/records?kind=viral&region=global&from=1999-01-01&to=1999-12-31', 404);
});

test('GET /v1/search', async () => {
  const chart = await call(server, 'GET /v1/charts/{region}/{date}', '/v1/charts/global/latest?limit=1');
  const word = chart.body.entries[0].track.name.split(/\s+/)[0];
  const r = await ok('GET /v1/search', `/v1/search?q=${encodeURIComponent(word)}`);
  assert.ok(r.body, 'search answers');
  await bad('GET /v1/search', '/v1/search');
  await bad('GET /v1/search', '/v1/search?q=x&limit=abc');
});

test('POST /v1/uploads', async () => {
  const op = 'POST /v1/uploads';
  const good = readFileSync(join(SOURCE_DIR, 'tests/fixtures/charts/mixed-rejects.csv'));
  const name = 'regional-us-daily-2033-01-01.csv';
  await call(server, op, `/v1/uploads?filename=${name}`, { body: good, expect: 401 });
  await call(server, op, `/v1/uploads?filename=${name}`, {
    body: good, headers: { Authorization: 'Bearer wrong' }, expect: 401,
  }).then((r) => assert.match(r.headers.get('www-authenticate') || '', /^Bearer/));
  await bad(op, '/v1/uploads', 400, { body: good, headers: admin });
  await bad(op, `/v1/uploads?filename=${name}&period=hourly`, 400, { body: good, headers: admin });
  await bad(op, '/v1/uploads?filename=..%2F..%2Fetc%2Fpasswd.csv', 400, { body: good, headers: admin });
  const first = await call(server, op, `/v1/uploads?filename=${name}`, {
    body: good, headers: { ...admin, 'Content-Type': 'text/csv' }, expect: [200, 201],
  });
  succeeded.add(op);
  assert.ok(first.body.rows_rejected > 0, 'the fixture has bad rows');
  ids.objectWithRejects = first.body.object_id;
  // a chart half a year after the fixture's last: the months between show as one range
  const coverage = await ok('GET /v1/regions', '/v1/regions');
  assertCoherentCoverage(coverage.body);
  const us = regionSeries(coverage.body, 'us', 'regional', 'daily');
  const hole = daysBetween(FIXTURE_END_DATE, '2033-01-01') - 1;
  assert.equal(us.last_date, '2033-01-01');
  assert.equal(us.charts_missing, hole);
  assert.deepEqual(us.missing_ranges, [{ from: addDays(FIXTURE_END_DATE, 1), to: '2032-12-31', charts: hole }]);
  const second = await call(server, op, `/v1/uploads?filename=${name}`, { body: good, headers: admin, expect: 200 });
  assert.equal(second.body.object_id, first.body.object_id);
  await call(server, op, '/v1/uploads?filename=notes.csv', {
    body: 'hello,world\r\n1,2\r\n', headers: admin, expect: 422,
  });
  // over the cap: the server answers 413 without reading the body, so the body is only sent
  // after `100 Continue` (as curl does), never racing the early answer
  const tooLarge = await postExpectingContinue(`${server.url}/v1/uploads?filename=${name}`,
    Buffer.alloc(2 * 1024 * 1024, 'a'), admin);
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.headers['content-type'], 'application/problem+json');
  assert.equal(JSON.parse(tooLarge.text).status, 413);
});

test('GET /v1/catalog and /v1/catalog/{object_id}/rejects', async () => {
  const op = 'GET /v1/catalog';
  const page = await ok(op, '/v1/catalog?limit=5');
  assert.ok(page.body.objects.length > 0);
  await ok(op, `/v1/catalog?limit=2&before=${page.body.objects[0].object_id}`);
  await ok(op, '/v1/catalog?status=loaded&region=global&format=csv');
  const csv = await ok(op, '/v1/catalog?limit=3', { headers: { Accept: 'text/csv, application/json;q=0.5' } });
  assert.equal(parseCsv(csv.text)[0][0], 'object_id');
  const preferJson = await ok(op, '/v1/catalog?limit=3', { headers: { Accept: 'application/json, text/csv;q=0.5' } });
  assert.ok(Array.isArray(preferJson.body.objects), 'JSON when Accept ranks it first');
  const refuseCsv = await ok(op, '/v1/catalog?limit=3', { headers: { Accept: 'text/csv;q=0, */*' } });
  assert.ok(refuseCsv.body, 'q=0 refuses CSV');
  await bad(op, '/v1/catalog?status=lost');
  await bad(op, '/v1/catalog?before=-1');

  const rop = 'GET /v1/catalog/{object_id}/rejects';
  assert.ok(ids.objectWithRejects, 'the upload test ran first');
  const rejects = await ok(rop, `/v1/catalog/${ids.objectWithRejects}/rejects`);
  assert.ok(rejects.body.rejects.length > 0);
  const rcsv = await ok(rop, `/v1/catalog/${ids.objectWithRejects}/rejects?format=csv`);
  assert.deepEqual(parseCsv(rcsv.text)[0], ['line_no', 'reason', 'raw_text']);
  await bad(rop, '/v1/catalog/abc/rejects');
  await bad(rop, '/v1/catalog/999999999/rejects', 404);
});

test('GET /v1/catalog shows a failed object with its error; later loads skip it', async () => {
  const op = 'GET /v1/catalog';
  const env = { CHARTPULSE_RAW_URI: server.env.CHARTPULSE_RAW_URI };
  const dir = mkdtempSync(join(tmpdir(), 'cp-contract-failed-'));
  const name = 'regional-global-daily-2033-02-01.csv';
  try {
    writeFileSync(join(dir, name),
      'rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams\n' +
      '1,spotify:track:0aAaAaAaAaAaAaAaAaAaA1,A,T,L,1,-1,1,10\n');
    const ingest = runBinary(['ingest', join(dir, name)], env);
    assert.equal(ingest.status, 0, ingest.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pending = (await ok(op, '/v1/catalog?status=pending')).body.objects.find((o) => o.original_name === name);
  assert.ok(pending, 'the object is pending');
  assert.equal(pending.status, 'pending');
  // its bytes go missing from the raw zone: the load fails, and says which object
  unlinkSync(join(fileURLToPath(env.CHARTPULSE_RAW_URI), pending.key));
  const load = runBinary(['load'], env);
  assert.equal(load.status, 1, load.stderr);
  assert.match(load.stderr, new RegExp(`object ${pending.object_id} \\(${name}\\): not loaded`));
  const failed = (await ok(op, '/v1/catalog?status=failed')).body.objects.find((o) => o.object_id === pending.object_id);
  assert.ok(failed, 'the object is listed as failed');
  assert.equal(failed.status, 'failed');
  assert.equal(failed.loaded_at, null);
  assert.match(failed.load_error, /cannot read raw object/);
  const csv = parseCsv((await ok(op, '/v1/catalog?status=failed&format=csv')).text);
  const status = csv[0].indexOf('status');
  assert.ok(csv.slice(1).some((row) => row[status] === 'failed'));
  // the next load skips it and succeeds
  const again = runBinary(['load'], env);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /skipped \d+ failed objects?.*--retry-failed/);
});

test('GET and POST /v1/pipeline/runs', async () => {
  const op = 'POST /v1/pipeline/runs';
  await call(server, op, '/v1/pipeline/runs', { expect: 401 });
  await call(server, op, '/v1/pipeline/runs', { headers: { Authorization: 'Bearer nope' }, expect: 401 });
  const started = await call(server, op, '/v1/pipeline/runs', { headers: admin, expect: [202, 409] });
  succeeded.add(op);
  if (started.status === 202) {
    assert.equal(started.body.trigger, 'api');
    const again = await call(server, op, '/v1/pipeline/runs', { headers: admin, expect: [202, 409] });
    assert.ok(again.status === 409 || again.body.run_id !== started.body.run_id);
  }
  // wait for the run to end and check it recorded every step
  let run;
  for (let i = 0; i < 100; i++) {
    const list = await ok('GET /v1/pipeline/runs', '/v1/pipeline/runs?limit=5');
    run = list.body.runs[0];
    if (run.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.notEqual(run.status, 'running', 'the run ends');
  assert.deepEqual(run.steps.map((s) => s.name), ['ingest', 'load', 'enrich', 'refresh']);
  if (run.status === 'failed') assert.ok(run.error, 'a failed run says why');
  // `chartpulse pipeline run` is tracked the same way, as trigger cli
  const cli = runBinary(['pipeline', 'run'], { CHARTPULSE_RAW_URI: server.env.CHARTPULSE_RAW_URI });
  const runs = (await ok('GET /v1/pipeline/runs', '/v1/pipeline/runs?limit=1')).body.runs;
  assert.equal(runs[0].trigger, 'cli', `pipeline run: ${cli.stdout}${cli.stderr}`);
  assert.equal(runs[0].status, cli.status === 0 ? 'succeeded' : 'failed');
  assert.ok(runs[0].steps.every((step) => step.status !== 'running' && step.status !== 'pending'));
  await bad('GET /v1/pipeline/runs', '/v1/pipeline/runs?limit=0');
});

test('write endpoints answer 404 when no admin token is configured', async () => {
  const plain = await startServer({ CHARTPULSE_ADMIN_TOKEN: undefined });
  try {
    await call(plain, 'POST /v1/pipeline/runs', '/v1/pipeline/runs', { headers: admin, expect: 404 });
    await call(plain, 'POST /v1/uploads', '/v1/uploads?filename=x.csv', { body: 'x', headers: admin, expect: 404 });
  } finally {
    await plain.stop();
  }
});

test('every operation of the contract was exercised', () => {
  const missing = specOperations().filter((op) => !succeeded.has(op));
  assert.deepEqual(missing, [], 'operations never answered 2xx above');
  const documents400 = specOperations().filter((op) => {
    const [m, p] = op.split(' ');
    return spec.paths[p][m.toLowerCase()].responses['400'];
  });
  const untested = documents400.filter((op) => !refused.has(op));
  assert.deepEqual(untested, [], 'operations documenting 400 without a bad-input case');
});
