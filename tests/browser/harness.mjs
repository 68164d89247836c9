// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core,
// against a real `chartpulse serve` (tests/contract/harness.mjs starts it on its own copy
// of the test database). Every page opened here records console errors, page errors,
// failed requests and requests to any other host, so a test can say there were none.
//
// Environment (ctest sets it, see CMakeLists.txt): as tests/contract/harness.mjs, plus
// CHARTPULSE_SCREENSHOTS (where screenshots go; default var/screenshots, git-ignored).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

import { runBinary, SOURCE_DIR, startServer } from '../contract/harness.mjs';

export { API_DATABASE_URL, DATABASE_URL } from '../contract/harness.mjs';
export { runBinary, SOURCE_DIR, startServer };

export const SCREENSHOTS = process.env.CHARTPULSE_SCREENSHOTS || join(SOURCE_DIR, 'var', 'screenshots');
export const WIDTHS = { desktop: 1280, phone: 390 };
// Numbers on the page are formatted for the reader's locale: the browser runs in en-US so
// the test can format the API's numbers the same way.
export const LOCALE = 'en-US';
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
export const fmt = (n) => (n === null || n === undefined ? '—' : integer.format(n));
const decimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
export const fmtDec = (n) => (n === null || n === undefined ? '—' : decimal.format(n));

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHARTPULSE_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** GET a /v1 path from the server (what the page should show). */
export async function api(server, path) {
  const res = await fetch(server.url + path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/**
 * A new page at width (default desktop) that records what went wrong. allow: predicates
 * over URLs whose failing answer (a 404 the view expects) is not a fault.
 */
export async function openPage(browser, server, { width = WIDTHS.desktop, allow = [] } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: LOCALE });
  const page = await context.newPage();
  const host = new URL(server.url).host;
  const faults = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location() && m.location().url;
    if (/Failed to load resource/.test(m.text()) && url && allow.some((a) => a(url))) return;
    faults.push(`console error: ${m.text()} (${url || ''})`);
  });
  page.on('pageerror', (e) => faults.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.host !== host) faults.push(`request to another host: ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    if (r.failure() && r.failure().errorText === 'net::ERR_ABORTED') return; // a superseded fetch
    faults.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !allow.some((a) => a(r.url()))) faults.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.faults = faults;
  page.assertClean = () => assert.deepEqual(faults, [], `the page had faults:\n${faults.join('\n')}`);
  page.closeAll = () => context.close();
  return page;
}

/** Waits until every panel has finished loading (no aria-busy, no "Loading…"). */
export async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('[aria-busy=true], .loading') && document.querySelector('main').children.length > 0,
    null, { timeout: 15000 });
  // charts draw on the next frame
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Opens path (relative to the server) and waits for it to settle. */
export async function visit(page, server, path) {
  await page.goto(server.url + path);
  await settled(page);
}

/** No serious or critical accessibility violation (axe-core). */
export async function assertAccessible(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`), [],
    `${what}: accessibility violations`);
}

/** A full-page screenshot into SCREENSHOTS/<name>-<width>.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const width = page.viewportSize().width;
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
}

/** Text of the cells of the tables selector finds, ending in `table` (rows of cell texts). */
export async function tableText(page, selector) {
  // (uPlot's legend is a table too: never one of these)
  return page.$$eval(`${selector}:not(.u-legend) tbody tr`, (rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
}

/** The query string of the page's URL as an object. */
export const stateOf = (page) => Object.fromEntries(new URL(page.url()).searchParams);

/**
 * Generated charts (the binary's own generator), one file holding a bad row and one legacy
 * chart whose movement is unknown, run
 * through `pipeline run` so the catalog, rejects and a pipeline run are all there.
 */
/** The date of loadGenerated's legacy gb chart. */
export const LEGACY_DATE = '2020-01-15';

export function loadGenerated(rawUri, { endDate = '2031-03-31', regions = 3, days = 40 } = {}) {
  const env = { CHARTPULSE_RAW_URI: rawUri };
  const migrate = runBinary(['migrate'], env);
  assert.equal(migrate.status, 0, `migrate failed: ${migrate.stderr}`);
  const out = mkdtempSync(join(tmpdir(), 'cp-browser-gen-'));
  try {
    const gen = runBinary(['generate', '--out', out, '--regions', String(regions), '--days', String(days),
      '--chart-size', '50', '--end-date', endDate, '--seed', '11'], env);
    assert.equal(gen.status, 0, `generate failed: ${gen.stderr}`);
    // a viral chart with a row whose rank is not a number: one reject with its reason
    writeFileSync(join(out, `viral-global-daily-${endDate}.csv`),
      '\ufeffrank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart\n' +
      '1,spotify:track:0BRWSER000000000000001,"Viral Artist","Viral Song",Label,1,-1,1\n' +
      'one,spotify:track:0BRWSER000000000000002,"Viral Artist","Broken Row",Label,2,-1,1\n');
    const ingest = runBinary(['ingest', out], env);
    assert.equal(ingest.status, 0, `ingest failed: ${ingest.stderr}`);
    // a legacy spotifycharts.com chart (no run columns), years before the generated ones so
    // no chart precedes it: its movement is unknown (SPEC 4a)
    const legacy = join(out, 'legacy');
    mkdirSync(legacy);
    writeFileSync(join(legacy, `${LEGACY_DATE}.csv`),
      ',,,"Note that these figures are generated using a formula that protects against any artificial inflation of chart positions.",\n' +
      'Position,"Track Name",Artist,Streams,URL\n' +
      '1,"Legacy Song","Legacy Artist",1000,https://open.spotify.com/track/0BRWSER000000000000003\n' +
      '2,"Other Song","Other Artist",900,https://open.spotify.com/track/0BRWSER000000000000004\n');
    const old = runBinary(['ingest', '--region', 'gb', legacy], env);
    assert.equal(old.status, 0, `ingest failed: ${old.stderr}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const run = runBinary(['pipeline', 'run'], env);
  assert.equal(run.status, 0, `pipeline run failed: ${run.stderr}`);
}

/**
 * One test file's fixture: before its tests, load(rawUri) fills the database, then the
 * server and the browser start; after them all three are undone. Returns {server,
 * browser}, filled in once the tests run. skip: nothing is started.
 */
export function session(load, { skip = false } = {}) {
  const s = { server: null, browser: null, raw: null };
  before(async () => {
    if (skip) return;
    s.raw = mkdtempSync(join(tmpdir(), 'cp-browser-raw-'));
    load(`file://${s.raw}`);
    s.server = await startServer();
    s.browser = await launch();
  });
  after(async () => {
    if (s.browser) await s.browser.close();
    if (s.server) await s.server.stop();
    if (s.raw) rmSync(s.raw, { recursive: true, force: true });
  });
  return s;
}

/** Opens a page of session s, runs fn(page), then checks the page stayed clean. */
export async function withPage(s, fn, opts) {
  const page = await openPage(s.browser, s.server, opts);
  try {
    await fn(page);
    page.assertClean();
  } finally {
    await page.closeAll();
  }
}
