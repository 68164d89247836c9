// The dashboard on the real chart files of ../shared/data/real (skipped, with a message,
// when that folder is absent): every view renders what the API says about them, clean
// and accessible, with screenshots of each at both widths.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';

import {
  api, assertAccessible, fmt, runBinary, screenshot, session, SOURCE_DIR, tableText, visit, WIDTHS, withPage,
} from './harness.mjs';

const REAL = resolve(SOURCE_DIR, '..', 'shared', 'data', 'real');
const present = existsSync(REAL);
if (!present) console.log(`# skipping the real-data browser tests: ${REAL} is absent`);

// the folders make demo loads, and the weekly US files
function loadReal(rawUri) {
  const env = { CHARTPULSE_RAW_URI: rawUri };
  const run = (args) => {
    const r = runBinary(args, env);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  run(['migrate']);
  run(['ingest', join(REAL, 'lycnda-charts-spotify-com'), join(REAL, 'mattleesounds-charts-spotify-com')]);
  run(['ingest', '--region', 'global', join(REAL, 'clayol-spotifycharts-daily-global')]);
  run(['ingest', '--region', 'us', '--period', 'weekly', join(REAL, 'sonyal-spotifycharts-weekly-us')]);
  run(['pipeline', 'run']);
}
const S = session(loadReal, { skip: !present });

describe('real chart files', { skip: !present && `${REAL} is absent` }, () => {
  test('global 2025-05-05: Spotify’s own run columns win, movement against the day before', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/2025-05-05?limit=200');
    await visit(page, S.server, '/?region=global&date=2025-05-05');
    const rows = await tableText(page, 'table.chart');
    assert.equal(rows.length, chart.count);
    for (const [i, e] of chart.entries.entries()) {
      assert.equal(rows[i][5].replace('*', ''), fmt(e.days_on_chart), `rank ${e.rank}`);
      assert.equal(rows[i][3], fmt(e.streams));
    }
    const smile = chart.entries.find((e) => e.track.name === 'Die With A Smile');
    assert.equal(smile.days_on_chart, 263); // the file's own column, not the 5 loaded days
    assert.match(await page.$eval('main .note', (n) => n.innerText), /Movement against the chart of 2025-05-04/);
  }));

  test('global 2025-05-01: the day before is not loaded, and the page says so', () => withPage(S, async (page) => {
    await visit(page, S.server, '/?region=global&date=2025-05-01');
    assert.match(await page.$eval('main .note', (n) => n.innerText), /The day before is not loaded/);
  }));

  test('a track with censored history shows both counts and says the history is incomplete', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/2025-05-05?limit=1');
    const id = chart.entries[0].track.id;
    const track = await api(S.server, `/v1/tracks/${id}`);
    const run = track.runs.find((r) => r.region === 'global' && r.period === 'daily');
    await visit(page, S.server, `/?view=track&id=${id}&region=global&period=daily`);
    const stats = Object.fromEntries(await page.$$eval('#run dl.stats div', (ds) => ds.map((d) => [d.querySelector('dt').innerText.toLowerCase(), d.querySelector('dd').innerText])));
    assert.equal(stats['days on chart'], fmt(run.days_on_chart));
    assert.equal(stats['spotify’s days on chart'], fmt(run.source_days_on_chart));
    assert.equal(run.history_complete, false);
    assert.match(await page.$eval('#run-window', (e) => e.innerText), /incomplete/);
  }));

  test('a weekly #1 across the regions that have that week', () => withPage(S, async (page) => {
    const chart = await api(S.server, '/v1/charts/global/2017-06-01?period=weekly&limit=1');
    const id = chart.entries[0].track.id;
    const doc = await api(S.server, `/v1/tracks/${id}/regions?date=2017-06-01&period=weekly`);
    await visit(page, S.server, `/?view=regions&track=${id}&date=2017-06-01&period=weekly`);
    const rows = await tableText(page, 'main table');
    assert.equal(rows.length, doc.regions.length);
    assert.ok(doc.regions.filter((r) => r.on_chart).length >= 2, 'global, au and us have that week');
    for (const r of doc.regions.filter((x) => x.on_chart)) {
      const row = rows.find((x) => x[0] === `${r.name} (${r.region})`);
      assert.equal(row[1], String(r.rank));
      assert.equal(row[5], fmt(r.weeks_on_chart));
    }
  }));

  for (const [label, width] of Object.entries(WIDTHS)) {
    test(`every view on the real files at ${label} width (${width} px)`, async () => {
      const board = await api(S.server, '/v1/artists/leaderboard?period=weekly&limit=1');
      const views = {
        chart: '/?region=global&date=2025-05-05',
        'chart-weekly': '/?region=global&period=weekly',
        track: '/?view=track&id=7so0lgd0zP2Sbgs2d7a1SZ',
        regions: '/?view=regions&period=weekly&date=2017-06-01',
        artists: '/?view=artists&period=weekly',
        artist: `/?view=artist&id=${board.rows[0].artist.id}&period=weekly`,
        trends: '/?view=trends&period=weekly',
        records: '/?view=records&period=weekly',
        data: '/?view=data',
      };
      for (const [name, path] of Object.entries(views)) {
        await withPage(S, async (page) => {
          await visit(page, S.server, path);
          assert.equal(await page.$$eval('[role=alert]', (a) => a.length), 0, `${name}: a panel failed`);
          await assertAccessible(page, `${name} at ${width} px`);
          await screenshot(page, `real-${name}`);
        }, { width });
      }
    });
  }
});
