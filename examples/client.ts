// A typed chartpulse client: calls every endpoint of the API once against a running server.
//
// The types in schema.d.ts are generated from the contract (npm run example:types), and
// openapi-fetch checks every path, parameter and body below against them at compile time.
//
//   npm run example:client            # compiles with tsc, then runs against CHARTPULSE_URL
//   CHARTPULSE_URL=http://127.0.0.1:8080 CHARTPULSE_ADMIN_TOKEN=... node examples/dist/client.js
//
// Without CHARTPULSE_ADMIN_TOKEN the write endpoints (uploads, pipeline runs) are skipped.
// Exits non-zero when an endpoint answers something the contract does not promise.
import createClient from 'openapi-fetch';

import type { paths } from './schema.js';

// the little of node's API used here (no @types/node needed)
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

const baseUrl = process.env.CHARTPULSE_URL || 'http://127.0.0.1:8080';
const token = process.env.CHARTPULSE_ADMIN_TOKEN;
const client = createClient<paths>({ baseUrl });
let failures = 0;

/** The JSON variant of a body that may also be CSV (list endpoints answer both). */
function asJson<T>(data: T | undefined): Exclude<T, string> | undefined {
  return typeof data === 'string' ? undefined : (data as Exclude<T, string> | undefined);
}

/** Prints one call's outcome; counts it as a failure unless its status is expected. */
function report(name: string, response: Response, expected: number[] = [200]): void {
  const ok = expected.includes(response.status);
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${response.status} ${name}`);
}

async function main(): Promise<void> {
  const health = await client.GET('/healthz');
  report('GET /healthz', health.response);
  report('GET /readyz', (await client.GET('/readyz')).response);
  report('GET /metrics', (await client.GET('/metrics', { parseAs: 'text' })).response);
  report('GET /openapi.json', (await client.GET('/openapi.json')).response);
  report('GET /docs', (await client.GET('/docs', { parseAs: 'text' })).response);
  report('GET /docs/{asset}', (await client.GET('/docs/{asset}', {
    params: { path: { asset: 'swagger-ui.css' } }, parseAs: 'text',
  })).response);
  const page = await client.GET('/', { parseAs: 'text' });
  report('GET /', page.response);
  // openapi-fetch encodes '/' inside a path parameter, which the server refuses: a file at
  // the top of web/ (the page links its icon first)
  const asset = /assets\/([0-9a-f]+)\/([^"/]+)"/.exec(page.data ?? '');
  report('GET /assets/{version}/{path}', (await client.GET('/assets/{version}/{path}', {
    params: { path: { version: asset?.[1] ?? '', path: asset?.[2] ?? '' } }, parseAs: 'text',
  })).response);
  report('GET /favicon.ico', (await client.GET('/favicon.ico', { parseAs: 'text' })).response);

  const regions = await client.GET('/v1/regions');
  report('GET /v1/regions', regions.response);
  for (const region of asJson(regions.data)?.regions ?? [])
    for (const s of region.series)
      if (s.charts_missing > 0)
        console.log(`     ${region.region} ${s.chart_kind} ${s.period}: ${s.charts_missing} of ` +
          `${s.charts_expected} charts missing, first gap ${s.missing_ranges[0]?.from}`);

  const chart = await client.GET('/v1/charts/{region}/{date}', {
    params: { path: { region: 'global', date: 'latest' }, query: { limit: 5 } },
  });
  report('GET /v1/charts/{region}/{date}', chart.response);
  const top = asJson(chart.data)?.entries[0];
  if (top) console.log(`     #1 on ${asJson(chart.data)?.date}: ${top.track.name} by ${top.artists}`);
  const trackId = top?.track.id ?? '0000000000000000000000';

  const track = await client.GET('/v1/tracks/{id}', { params: { path: { id: trackId } } });
  report('GET /v1/tracks/{id}', track.response);
  report('GET /v1/tracks/{id}/history', (await client.GET('/v1/tracks/{id}/history', {
    params: { path: { id: trackId }, query: { region: 'global' } },
  })).response);
  report('GET /v1/tracks/{id}/forecast', (await client.GET('/v1/tracks/{id}/forecast', {
    params: { path: { id: trackId }, query: { horizon: 3 } },
  })).response);

  const leaderboard = await client.GET('/v1/artists/leaderboard', {
    params: { query: { by: 'streams', limit: 5 } },
  });
  report('GET /v1/artists/leaderboard', leaderboard.response);
  const artistId = track.data?.artists[0]?.id ?? asJson(leaderboard.data)?.rows[0]?.artist.id ?? '0';
  report('GET /v1/artists/{id}', (await client.GET('/v1/artists/{id}', {
    params: { path: { id: artistId } },
  })).response);

  report('GET /v1/trends/movers', (await client.GET('/v1/trends/movers', {
    params: { query: { limit: 5 } },
  })).response);
  report('GET /v1/trends/new-entries', (await client.GET('/v1/trends/new-entries')).response);
  report('GET /v1/trends/streams', (await client.GET('/v1/trends/streams', {
    params: { query: { granularity: 'week' } },
  })).response);
  report('GET /v1/trends/momentum', (await client.GET('/v1/trends/momentum')).response);
  const word = top?.track.name.split(/\s+/)[0] ?? 'love';
  report('GET /v1/search', (await client.GET('/v1/search', { params: { query: { q: word } } })).response);

  const catalog = await client.GET('/v1/catalog', { params: { query: { limit: 5 } } });
  report('GET /v1/catalog', catalog.response);
  const objectId = asJson(catalog.data)?.objects[0]?.object_id ?? 1;
  report('GET /v1/catalog/{object_id}/rejects', (await client.GET('/v1/catalog/{object_id}/rejects', {
    params: { path: { object_id: objectId } },
  })).response);
  report('GET /v1/pipeline/runs', (await client.GET('/v1/pipeline/runs')).response);

  if (!token) {
    console.log('skip POST /v1/uploads and POST /v1/pipeline/runs (no CHARTPULSE_ADMIN_TOKEN)');
  } else {
    const headers = { Authorization: `Bearer ${token}` };
    // a one-row viral chart, in a series of its own so it changes no other chart
    const csv = 'rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart\r\n' +
      '1,spotify:track:0123456789abcdefABCDEF,Example Artist,Example Track,Example Label,1,-1,1\r\n';
    const upload = await client.POST('/v1/uploads', {
      params: { query: { filename: 'viral-us-daily-2001-01-01.csv' } },
      headers: { ...headers, 'Content-Type': 'text/csv' },
      body: csv,
      bodySerializer: (body: string) => body,
    });
    report('POST /v1/uploads', upload.response, [200, 201]);
    const run = await client.POST('/v1/pipeline/runs', { headers });
    report('POST /v1/pipeline/runs', run.response, [202, 409]);
  }

  if (failures) {
    console.error(`${failures} call(s) failed`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
