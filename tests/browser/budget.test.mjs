// The first load of / stays under its byte budget (300 KB on the wire, everything the
// page fetched to show the chart table), the dashboard's assets are cacheable for long
// (versioned URLs, ETag, immutable) and a second visit fetches only what changed.
// Bytes, not time: time on these machines is noise; see bench/ for timings.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadGenerated, openPage, session, settled } from './harness.mjs';

const BUDGET = 300 * 1024;
const S = session((rawUri) => loadGenerated(rawUri, { regions: 2, days: 20 }));

// Loads path in page and returns {bytes, responses}: bytes as the network counted them
// (headers and compressed bodies; 0 for what came from the browser's cache).
async function measuredLoad(page, path) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  const responses = new Map();
  cdp.on('Network.responseReceived', (e) => responses.set(e.requestId, e.response));
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
  });
  await page.goto(S.server.url + path);
  await settled(page);
  await page.waitForSelector('table.chart tbody tr');
  return { bytes, responses: [...responses.values()] };
}

test(`the first load of / transfers under ${BUDGET / 1024} KB and shows the chart table`, async () => {
  const page = await openPage(S.browser, S.server);
  try {
    const { bytes, responses } = await measuredLoad(page, '/');
    console.log(`# first load of /: ${bytes} bytes in ${responses.length} responses`);
    assert.ok(bytes < BUDGET, `the first load transferred ${bytes} bytes (budget ${BUDGET})`);
    assert.ok(bytes > 10 * 1024, `only ${bytes} bytes: did the page load at all?`);
    const rows = await page.$$eval('table.chart tbody tr', (r) => r.length);
    assert.ok(rows > 0);

    // every dashboard asset: versioned URL, ETag, a year of immutable cache; the page itself
    // revalidates (so a new build's asset version is seen) and sets a strict CSP
    const assets = responses.filter((r) => new URL(r.url).pathname.startsWith('/assets/'));
    assert.ok(assets.length >= 4, `${assets.length} assets`);
    for (const r of assets) {
      const h = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
      assert.ok(h.etag, `${r.url} has no ETag`);
      assert.match(h['cache-control'] || '', /max-age=31536000/, `${r.url}: ${h['cache-control']}`);
      assert.match(h['cache-control'] || '', /immutable/);
    }
    const doc = responses.find((r) => new URL(r.url).pathname === '/');
    const dh = Object.fromEntries(Object.entries(doc.headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.match(dh['content-security-policy'] || '', /script-src 'self'/);
    assert.doesNotMatch(dh['content-security-policy'] || '', /unsafe-inline/);
    assert.ok(dh.etag);
    // gzip on the wire for the text assets
    for (const r of assets.filter((x) => /\.(js|css)$/.test(new URL(x.url).pathname))) {
      const h = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
      assert.equal(h['content-encoding'], 'gzip', `${r.url} was not compressed`);
    }

    // a second visit in the same browser takes the assets from its cache
    const again = await measuredLoad(page, '/');
    console.log(`# second load of /: ${again.bytes} bytes`);
    assert.ok(again.bytes < bytes / 2, `the second load transferred ${again.bytes} bytes of ${bytes}`);
    page.assertClean();
  } finally {
    await page.closeAll();
  }
});

test('the page runs under its Content-Security-Policy: no inline script, no violation', async () => {
  const page = await openPage(S.browser, S.server);
  try {
    const violations = [];
    await page.exposeFunction('cpViolation', (v) => violations.push(v));
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => window.cpViolation(`${e.violatedDirective} ${e.blockedURI}`)));
    await page.goto(S.server.url + '/?view=trends');
    await settled(page);
    assert.deepEqual(violations, []);
    const inline = await page.$$eval('script', (ss) => ss.filter((s) => !s.src).length);
    assert.equal(inline, 0, 'inline scripts on the page');
    page.assertClean();
  } finally {
    await page.closeAll();
  }
});
