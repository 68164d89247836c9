// The typed example client (examples/client.ts) compiles against types generated from the
// current contract and calls every endpoint of a real server successfully.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ADMIN_TOKEN, SOURCE_DIR, loadFixtures, startServer } from './harness.mjs';

const bin = (name) => join(SOURCE_DIR, 'node_modules', '.bin', name);
let server;

before(async () => {
  server = await startServer();
  loadFixtures(server.env.CHARTPULSE_RAW_URI);
});

after(async () => {
  await server?.stop();
});

test('examples/schema.d.ts is generated from the current openapi.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-types-'));
  try {
    const out = join(dir, 'schema.d.ts');
    const r = spawnSync(bin('openapi-typescript'), [join(SOURCE_DIR, 'openapi/openapi.yaml'), '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(SOURCE_DIR, 'examples/schema.d.ts'), 'utf8'), readFileSync(out, 'utf8'),
      'examples/schema.d.ts is stale: run npm run example:types');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/client.ts compiles and calls every endpoint', () => {
  const tsc = spawnSync(bin('tsc'), ['-p', join(SOURCE_DIR, 'examples')], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  const run = spawnSync(process.execPath, [join(SOURCE_DIR, 'examples/dist/client.js')], {
    env: { ...process.env, CHARTPULSE_URL: server.url, CHARTPULSE_ADMIN_TOKEN: ADMIN_TOKEN },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `the client failed:\n${run.stdout}${run.stderr}`);
  assert.doesNotMatch(run.stdout, /FAIL|skip/);
  assert.match(run.stdout, /ok +20[01] POST \/v1\/uploads/);
});
