#!/usr/bin/env node
// Dashboard timings in headless Chromium against a running server (the demo by default):
// the first load of / until the chart table is shown, and view changes (a click on a
// navigation link until every panel of the new view has loaded) on a warm server.
//
//   node bench/dashboard_bench.mjs [URL] [--rounds N]
//
// URL defaults to http://127.0.0.1:8080 (make demo). Prints median and p95 per step.
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const base = (args.find((a) => /^https?:/.test(a)) || 'http://127.0.0.1:8080').replace(/\/$/, '');
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 10;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const settled = (page) => page.waitForFunction(() => !document.querySelector('[aria-busy=true], .loading') && document.querySelector('main').children.length > 0, null, { timeout: 30000 });
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] };
};
const results = {};
const note = (name, ms) => (results[name] ||= []).push(ms);

for (let i = 0; i < rounds; i++) {
  // a cold browser each round: nothing cached
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let t = performance.now();
  await page.goto(`${base}/`);
  await page.waitForSelector('table.chart tbody tr', { timeout: 30000 });
  note('first load of / to the chart table', performance.now() - t);
  await settled(page);
  for (const view of ['Trends', 'Artists', 'Across regions', 'Records', 'Data', 'Chart']) {
    t = performance.now();
    await page.click(`#nav a:text-is("${view}")`);
    await settled(page);
    note(`view change to ${view}`, performance.now() - t);
  }
  await context.close();
}
await browser.close();

console.log(`dashboard at ${base}, ${rounds} rounds (ms)`);
console.log('step'.padEnd(42), 'median'.padStart(8), 'p95'.padStart(8));
for (const [name, xs] of Object.entries(results)) {
  const { median, p95 } = stats(xs);
  console.log(name.padEnd(42), median.toFixed(0).padStart(8), p95.toFixed(0).padStart(8));
}
