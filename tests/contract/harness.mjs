// Shared plumbing of the contract tests: the OpenAPI document and its validators, a real
// `chartpulse serve` on a free port, fixtures loaded with the binary's own ingest/load, and
// `call()`, which makes one request and checks its answer against the contract.
//
// Environment (set by ctest, see CMakeLists.txt): CHARTPULSE_BINARY, CHARTPULSE_SOURCE_DIR,
// DATABASE_URL (the migrated template; the suite works on its own copy), REDIS_URL.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = resolve(process.env.CHARTPULSE_SOURCE_DIR || join(here, '..', '..'));
export const BINARY = process.env.CHARTPULSE_BINARY || join(SOURCE_DIR, 'build', 'chartpulse');
// Defaults: the private services of scripts/env.sh, wherever CHARTPULSE_PG_PORT and
// CHARTPULSE_REDIS_PORT put them (make test sets both URLs).
const PG_PORT = process.env.CHARTPULSE_PG_PORT || '54320';
const REDIS_PORT = process.env.CHARTPULSE_REDIS_PORT || '63790';
const TEMPLATE_URL =
  process.env.DATABASE_URL || `postgresql://chartpulse@127.0.0.1:${PG_PORT}/chartpulse_test`;

// The suite writes (ingest, load, uploads, pipeline runs), so it works on a copy of the
// migrated template database, never on the template the other suites clone.
function freshDatabase(templateUrl, name) {
  const url = new URL(templateUrl);
  const template = url.pathname.slice(1);
  const psql = (sql) => {
    const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', url.hostname,
      '-p', url.port || '5432', '-U', 'postgres', '-d', 'postgres', '-c', sql], { encoding: 'utf8' });
    assert.equal(r.status, 0, `psql ${sql}: ${r.stderr}`);
  };
  psql(`drop database if exists "${name}" with (force)`);
  psql(`create database "${name}" owner chartpulse template "${template}"`);
  process.on('exit', () => spawnSync('psql', ['-X', '-q', '-h', url.hostname, '-p', url.port || '5432',
    '-U', 'postgres', '-d', 'postgres', '-c', `drop database if exists "${name}" with (force)`]));
  url.pathname = `/${name}`;
  return url.toString();
}

// one database per test file: node --test runs the files in parallel processes
export const DATABASE_URL = freshDatabase(TEMPLATE_URL, `chartpulse_test_contract_${process.pid}`);
const apiUrl = new URL(DATABASE_URL);
apiUrl.username = 'chartpulse_api';
export const API_DATABASE_URL = apiUrl.toString();
// Suites run in parallel: this one's own Redis database (CHARTPULSE_TEST_REDIS_DB, set by
// CMake), so its cache generation key and cached bodies are its own.
const REDIS_BASE = process.env.REDIS_URL ?? `redis://127.0.0.1:${REDIS_PORT}/15`;
export const REDIS_URL = process.env.CHARTPULSE_TEST_REDIS_DB
  ? REDIS_BASE.replace(/^(redis:\/\/[^/]*)(\/.*)?$/, `$1/${process.env.CHARTPULSE_TEST_REDIS_DB}`)
  : REDIS_BASE;
export const ADMIN_TOKEN = 'contract-admin-token';

// ---- the contract ------------------------------------------------------------------

export const spec = parseYaml(readFileSync(join(SOURCE_DIR, 'openapi', 'openapi.yaml'), 'utf8'));
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the spec as "METHOD /path". */
export function specOperations() {
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths))
    for (const method of Object.keys(item))
      if (HTTP_METHODS.includes(method)) ops.push(`${method.toUpperCase()} ${path}`);
  return ops;
}

// The components go in as one schema document; a response schema is compiled on its own
// with its `#/components/...` references pointed at that document.
const COMPONENTS_ID = 'https://chartpulse.invalid/openapi-components.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: COMPONENTS_ID, components: spec.components });
const validators = new Map();

function retarget(node) {
  if (Array.isArray(node)) return node.map(retarget);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node))
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? COMPONENTS_ID + v : retarget(v);
    return out;
  }
  return node;
}

function deref(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, '').split('/');
    obj = parts.reduce((o, p) => o?.[p.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return obj;
}

function validatorFor(key, schema) {
  if (!validators.has(key)) validators.set(key, ajv.compile(retarget(schema)));
  return validators.get(key);
}

/** The errors of value against schema (a schema of the spec, its `#/components/...`
 * references resolved), as text; '' when it matches. key names the schema for reuse. */
export function schemaErrors(key, schema, value) {
  const validate = validatorFor(key, schema);
  return validate(value) ? '' : ajv.errorsText(validate.errors);
}

// ---- the server ----------------------------------------------------------------------

/** Runs the binary to completion; returns {status, stdout, stderr}. */
export function runBinary(args, env = {}) {
  const r = spawnSync(BINARY, args, {
    env: { ...process.env, DATABASE_URL, API_DATABASE_URL, REDIS_URL, CHARTPULSE_LOG_FORMAT: 'text', ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

/** Starts `chartpulse serve` on a free port. Returns {url, env, stop()}. */
export async function startServer(extraEnv = {}) {
  const workdir = mkdtempSync(join(tmpdir(), 'cp-contract-'));
  const env = {
    ...process.env,
    DATABASE_URL,
    API_DATABASE_URL,
    REDIS_URL,
    CHARTPULSE_RAW_URI: `file://${join(workdir, 'raw')}`,
    CHARTPULSE_ADMIN_TOKEN: ADMIN_TOKEN,
    CHARTPULSE_LOG_FORMAT: 'json',
    ...extraEnv,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(BINARY, ['serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 15000);
    const onData = (chunk) => {
      log += chunk;
      const m = /listening on http:\/\/[^\s"]*:(\d+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    env,
    log: () => log,
    async stop() {
      const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      const { code } = await exited;
      rmSync(workdir, { recursive: true, force: true });
      // a sanitizer report (leak, UB) makes the server exit non-zero
      assert.equal(code, 0, `server exited with ${code}:\n${log.slice(-4000)}`);
    },
  };
}

// ---- fixtures ---------------------------------------------------------------------------

// Demo-like data: synthetic charts from the binary's own generator, far in the future so no
// other suite's data shares their dates.
export const FIXTURE_END_DATE = '2032-06-30';

/** Migrates the database and loads the fixtures (idempotent: same bytes ingest once). */
export function loadFixtures(rawUri) {
  const env = { CHARTPULSE_RAW_URI: rawUri };
  const migrate = runBinary(['migrate'], env);
  assert.equal(migrate.status, 0, `migrate failed: ${migrate.stderr}`);
  const out = mkdtempSync(join(tmpdir(), 'cp-contract-gen-'));
  try {
    const gen = runBinary(['generate', '--out', out, '--regions', '3', '--days', '21',
      '--chart-size', '50', '--end-date', FIXTURE_END_DATE, '--seed', '7'], env);
    assert.equal(gen.status, 0, `generate failed: ${gen.stderr}`);
    const ingest = runBinary(['ingest', out], env);
    assert.equal(ingest.status, 0, `ingest failed: ${ingest.stderr}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  // objects other suites left pending may fail to load here; ours must not
  const load = runBinary(['load'], env);
  if (load.status !== 0) console.warn(`# load: ${load.stderr.trim().split('\n').pop()}`);
  const refresh = runBinary(['refresh'], env);
  assert.equal(refresh.status, 0, `refresh failed: ${refresh.stderr}`);
}

// ---- one checked request --------------------------------------------------------------------

/**
 * Makes a request and checks the answer against the contract: the status must be one the
 * operation documents (so a 500 placeholder fails), the body must match that response's
 * schema for its content type, errors must be problem+json, every answer carries
 * X-Request-Id and every GET 200 an ETag. Returns {status, headers, body, text}.
 *   op: "GET /v1/charts/{region}/{date}" (the spec's path template)
 *   url: the concrete path and query, e.g. "/v1/charts/global/latest?limit=3"
 */
export async function call(server, op, url, { method, headers = {}, body, expect } = {}) {
  const [opMethod, specPath] = op.split(' ');
  method = method || opMethod;
  const res = await fetch(server.url + url, { method, headers, body, redirect: 'manual' });
  const text = method === 'HEAD' ? '' : await res.text();
  const where = `${method} ${url} -> ${res.status}`;
  const operation = spec.paths[specPath]?.[opMethod.toLowerCase()];
  assert.ok(operation, `${op} is not in openapi.yaml`);
  const documented = deref(operation.responses[String(res.status)] || operation.responses.default);
  assert.ok(documented, `${where}: status not documented for ${op}; body: ${text.slice(0, 300)}`);
  if (expect !== undefined) {
    const ok = Array.isArray(expect) ? expect.includes(res.status) : res.status === expect;
    assert.ok(ok, `${where}: expected ${expect}; body: ${text.slice(0, 300)}`);
  }
  assert.ok(res.headers.get('x-request-id'), `${where}: no X-Request-Id`);
  if (method === 'GET' && res.status === 200)
    assert.ok(res.headers.get('etag'), `${where}: no ETag`);

  let parsed;
  const type = (res.headers.get('content-type') || '').split(';')[0].trim();
  if (res.status >= 400) assert.equal(type, 'application/problem+json', `${where}: errors are problem+json`);
  if (documented.content && res.status !== 304 && method !== 'HEAD') {
    const media = documented.content[type];
    assert.ok(media, `${where}: content type '${type}' not documented (${Object.keys(documented.content)})`);
    if (type.endsWith('json')) {
      parsed = JSON.parse(text);
      if (media.schema) {
        const key = `${op} ${res.status} ${type}`;
        const validate = validatorFor(key, media.schema);
        assert.ok(validate(parsed), `${where}: body does not match the schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
      }
      if (type === 'application/problem+json') {
        assert.equal(parsed.status, res.status, `${where}: problem.status`);
      }
    }
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Parses RFC 4180 CSV (CRLF line ends, quoted fields) into rows of fields. */
export function parseCsv(text) {
  assert.ok(text.endsWith('\r\n'), 'CSV lines end with CRLF');
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    assert.ok(c !== '"' && c !== '\n' && c !== '\r', `bare ${JSON.stringify(c)} in an unquoted CSV field`);
    field += c; i++;
  }
  return rows;
}
