// The route table (server/routes.c) and the contract (openapi/openapi.yaml) list the same
// routes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { SOURCE_DIR, spec, specOperations } from './harness.mjs';

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

/** "METHOD /pattern" -> the query parameter names its row of routes.c accepts (its last
 * column: a Q_* list, Q_NONE, or cp_query_any, which maps to null). */
function tableQueries() {
  const text = readFileSync(join(SOURCE_DIR, 'server', 'routes.c'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const lists = new Map([['Q_NONE', []], ['cp_query_any', null]]);
  for (const m of text.matchAll(/static const char \*const (Q_\w+)\[\]\s*=\s*\{([^}]*)\}/g))
    lists.set(m[1], [...m[2].matchAll(/"([^"]+)"/g)].map((n) => n[1]));
  const table = /cp_routes\[\]\s*=\s*\{([\s\S]*?)\n\};/.exec(text)[1];
  const out = new Map();
  for (const row of table.matchAll(/\{\s*([A-Z_ |]+?)\s*,\s*"([^"]+)"[^\n]*?,\s*(\w+)\s*\},/g)) {
    assert.ok(lists.has(row[3]), `routes.c: no query list ${row[3]}`);
    const pattern = row[2].replace(/\{(\w+)\.\.\.\}/g, '{$1}');
    for (const m of row[1].split('|').map((x) => x.trim().replace(/^CP_METHOD_/, '')))
      out.set(`${m} ${pattern}`, lists.get(row[3]));
  }
  return out;
}

/** The query parameter names openapi.yaml documents for "METHOD /path". */
function specQuery(op) {
  const [method, path] = op.split(' ');
  const item = spec.paths[path];
  const resolve = (p) => (p.$ref ? spec.components.parameters[p.$ref.split('/').pop()] : p);
  return [...(item.parameters || []), ...(item[method.toLowerCase()].parameters || [])]
    .map(resolve)
    .filter((p) => p.in === 'query')
    .map((p) => p.name);
}

test('each route accepts exactly the query parameters openapi.yaml documents', () => {
  const queries = tableQueries();
  assert.equal(queries.size, tableRoutes().length, 'every row of routes.c has a query list');
  for (const op of specOperations()) {
    const accepted = queries.get(op);
    if (accepted === null) continue; // the dashboard's page: its query string is its own
    assert.deepEqual([...accepted].sort(), specQuery(op).sort(), `${op}: routes.c vs openapi.yaml`);
  }
});
