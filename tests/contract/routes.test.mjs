// The route table (server/routes.c) and the contract (openapi/openapi.yaml) list the same
// routes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { SOURCE_DIR, specOperations } from './harness.mjs';

/** "METHOD /pattern" for every row of cp_routes[] in routes.c, parsed from its text. */
function tableRoutes() {
  const text = readFileSync(join(SOURCE_DIR, 'server', 'routes.c'), 'utf8');
  const table = /cp_routes\[\]\s*=\s*\{([\s\S]*?)\n\};/.exec(text);
  assert.ok(table, 'routes.c has a cp_routes[] table');
  const body = table[1].replace(/\/\*[\s\S]*?\*\//g, ''); // drop comments
  const routes = [];
  for (const row of body.matchAll(/\{\s*([A-Z_ |]+?)\s*,\s*"([^"]+)"/g)) {
    const methods = row[1].split('|').map((m) => m.trim().replace(/^CP_METHOD_/, ''));
    // a wildcard `{path...}` (several segments) is the spec's `{path}`: OpenAPI has no
    // multi-segment template, the parameter's description says it may hold '/'
    const pattern = row[2].replace(/\{(\w+)\.\.\.\}/g, '{$1}');
    for (const m of methods) routes.push(`${m} ${pattern}`);
  }
  assert.ok(routes.length > 0, 'parsed some routes');
  return routes;
}

test('routes.c and openapi.yaml list the same routes', () => {
  const inTable = new Set(tableRoutes());
  const inSpec = new Set(specOperations());
  const notInSpec = [...inTable].filter((r) => !inSpec.has(r));
  const notInTable = [...inSpec].filter((r) => !inTable.has(r));
  assert.deepEqual(notInSpec, [], 'routes in server/routes.c missing from openapi.yaml');
  assert.deepEqual(notInTable, [], 'operations in openapi.yaml missing from server/routes.c');
});
