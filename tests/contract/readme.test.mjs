// The README's curl examples work verbatim against a server with demo-like data: every line
// of a code block that starts with `curl ` is run with its host:port pointed at the test
// server and must exit 0 with HTTP 200.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { SOURCE_DIR, loadFixtures, startServer } from './harness.mjs';

/** Lines starting with `curl ` inside the README's fenced code blocks. */
function readmeCurls() {
  const lines = readFileSync(join(SOURCE_DIR, 'README.md'), 'utf8').split('\n');
  const curls = [];
  let inBlock = false;
  for (const line of lines) {
    if (line.startsWith('```')) inBlock = !inBlock;
    else if (inBlock && line.startsWith('curl ')) curls.push(line);
  }
  return curls;
}

let server;

before(async () => {
  server = await startServer();
  loadFixtures(server.env.CHARTPULSE_RAW_URI);
});

after(async () => {
  await server?.stop();
});

test('README has curl examples', () => {
  assert.ok(readmeCurls().length > 0);
});

for (const line of readmeCurls()) {
  test(`README: ${line}`, () => {
    const command = line.replace(/http:\/\/(127\.0\.0\.1|localhost):8080/g, server.url);
    assert.notEqual(command, line, 'the example names the demo address http://127.0.0.1:8080');
    // the example as written, plus: fail on HTTP errors, print the status on fd 3
    const r = spawnSync('bash', ['-c', `${command} -sS -o /dev/null -w '%{http_code}'`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
    assert.equal(r.stdout, '200', `HTTP ${r.stdout}`);
  });
}
