/* THE route table: every REST route, its methods, handler, database need and caching. */
#include "server/metrics.h"
#include "server/router.h"

#include "handlers/artists.h"
#include "handlers/catalog.h"
#include "handlers/charts.h"
#include "handlers/coverage.h"
#include "handlers/docs.h"
#include "handlers/health.h"
#include "handlers/pipeline_runs.h"
#include "handlers/records.h"
#include "handlers/search.h"
#include "handlers/survival.h"
#include "handlers/tracks.h"
#include "handlers/trends.h"
#include "handlers/uploads.h"
#include "handlers/web.h"

/* Cache-Control of 200 answers: chart data changes at most once per load; the catalog
 * changes on every ingest, so clients revalidate it (ETag); health never caches. */
#define CACHE_DATA    "public, max-age=60"
#define CACHE_CATALOG "no-cache"
#define CACHE_NONE    "no-store"

/* `cached`: kept in the response cache (cache.h) until the next load bumps the cache
 * generation. Only answers that change with loads alone: the catalog also changes when a
 * file is ingested, which bumps nothing. */
#define CACHED   true
#define UNCACHED false

/* The dashboard's answers (/, its assets, /favicon.ico) may run only what the dashboard
 * itself serves: no inline script or style, no other origin, no framing. /docs keeps its
 * inline Swagger UI bootstrap script, so it does not get this policy. (Every answer has
 * nosniff, http.c.) no-referrer keeps dashboard URLs out of other sites' logs. */
#define DASHBOARD_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"
static const struct cp_header DASHBOARD[] = {
    {"Content-Security-Policy", DASHBOARD_CSP},
    {"Referrer-Policy", "no-referrer"},
    {NULL, NULL},
};
#define NO_HEADERS NULL

/* The query parameters each route's handler reads (router.h `query`), as openapi.yaml
 * documents them (tests/contract/routes.test.mjs holds the two equal). `format` wherever the
 * answer can be CSV (handlers/csv.h). */
static const char *const Q_REGIONS[] = {"format", NULL};
static const char *const Q_CHART_DATES[] = {"period", "kind", NULL};
static const char *const Q_CHART[] = {"period", "kind", "limit", "format", NULL};
static const char *const Q_CATALOG[] = {"source", "region", "status", "before",
                                        "limit",  "offset", "format", NULL};
static const char *const Q_REJECTS[] = {"limit", "offset", "format", NULL};
static const char *const Q_HISTORY[] = {"region", "period", "kind", "from", "to", "format", NULL};
static const char *const Q_FORECAST[] = {"region", "period", "kind", "horizon", NULL};
static const char *const Q_ON_DATE[] = {"date", "period", "kind", NULL};
static const char *const Q_LEADERBOARD[] = {"region", "period", "kind",  "from",   "to",
                                            "by",     "role",   "limit", "format", NULL};
static const char *const Q_ARTIST[] = {"region", "period", "kind", "limit", NULL};
static const char *const Q_ARTIST_STREAMS[] = {"region",      "period", "kind", "role",
                                               "granularity", "from",   "to",   NULL};
static const char *const Q_RECORDS[] = {"region", "period", "kind", "from", "to", "limit", NULL};
static const char *const Q_CHART_TREND[] = {"region", "period", "kind", "date",
                                            "limit",  "format", NULL};
static const char *const Q_STREAMS[] = {"region", "period",      "kind",   "from",
                                        "to",     "granularity", "format", NULL};
static const char *const Q_MOMENTUM[] = {"region", "period", "date", "window",
                                         "limit",  "format", NULL};
static const char *const Q_SERIES[] = {"region", "period", "kind", NULL};
static const char *const Q_SEARCH[] = {"q", "limit", NULL};
static const char *const Q_LIMIT[] = {"limit", NULL};
static const char *const Q_UPLOAD[] = {"filename", "region", "period", "kind", "date", NULL};
/* The dashboard's page keeps its view's whole state in its query string (README): the
 * server never reads it, so it accepts any and keys its cache entry without it. */
const char *const cp_query_any[] = {NULL};
#define Q_NONE NULL

/* clang-format off */
const struct cp_route cp_routes[] = {
    /* methods      pattern                               handler             database       Cache-Control  cached    headers     query */
    {CP_METHOD_GET, "/healthz",                           cp_health_live,     CP_DB_NONE,    CACHE_NONE,    UNCACHED, NO_HEADERS, Q_NONE},
    {CP_METHOD_GET, "/readyz",                            cp_health_ready,    CP_DB_PRIMARY, CACHE_NONE,    UNCACHED, NO_HEADERS, Q_NONE},
    {CP_METHOD_GET, "/metrics",                           cp_metrics_show,    CP_DB_NONE,    CACHE_NONE,    UNCACHED, NO_HEADERS, Q_NONE},
    /* the literal segment first: the first route whose pattern matches wins */
    {CP_METHOD_GET, "/v1/charts/{region}/dates",          cp_charts_dates,    CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_CHART_DATES},
    {CP_METHOD_GET, "/v1/charts/{region}/{date}",         cp_charts_show,     CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_CHART},
    {CP_METHOD_GET, "/v1/catalog",                        cp_catalog_index,   CP_DB_READ,    CACHE_CATALOG, UNCACHED, NO_HEADERS, Q_CATALOG},
    {CP_METHOD_GET, "/v1/catalog/{object_id}/rejects",    cp_catalog_rejects, CP_DB_READ,    CACHE_CATALOG, UNCACHED, NO_HEADERS, Q_REJECTS},
    {CP_METHOD_GET, "/v1/regions",                        cp_regions_index,   CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_REGIONS},
    {CP_METHOD_GET, "/v1/tracks/{id}",                    cp_tracks_show,     CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_NONE},
    {CP_METHOD_GET, "/v1/tracks/{id}/history",            cp_tracks_history,  CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_HISTORY},
    {CP_METHOD_GET, "/v1/tracks/{id}/forecast",           cp_tracks_forecast, CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_FORECAST},
    {CP_METHOD_GET, "/v1/tracks/{id}/regions",            cp_tracks_regions,  CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_ON_DATE},
    /* the literal segment first: the first route whose pattern matches wins */
    {CP_METHOD_GET, "/v1/artists/leaderboard",            cp_artists_leaderboard, CP_DB_READ, CACHE_DATA,   CACHED,   NO_HEADERS, Q_LEADERBOARD},
    {CP_METHOD_GET, "/v1/artists/{id}",                   cp_artists_show,    CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_ARTIST},
    {CP_METHOD_GET, "/v1/artists/{id}/regions",           cp_artists_regions, CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_ON_DATE},
    {CP_METHOD_GET, "/v1/artists/{id}/streams",           cp_artists_streams, CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_ARTIST_STREAMS},
    {CP_METHOD_GET, "/v1/records",                        cp_records_show,    CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_RECORDS},
    {CP_METHOD_GET, "/v1/trends/movers",                  cp_trends_movers,   CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_CHART_TREND},
    {CP_METHOD_GET, "/v1/trends/new-entries",             cp_trends_new_entries, CP_DB_READ, CACHE_DATA,    CACHED,   NO_HEADERS, Q_CHART_TREND},
    {CP_METHOD_GET, "/v1/trends/streams",                 cp_trends_streams,  CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_STREAMS},
    {CP_METHOD_GET, "/v1/trends/momentum",                cp_trends_momentum, CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_MOMENTUM},
    {CP_METHOD_GET, "/v1/survival",                       cp_survival_show,   CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_SERIES},
    {CP_METHOD_GET, "/v1/search",                         cp_search_index,    CP_DB_READ,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_SEARCH},
    {CP_METHOD_GET, "/v1/pipeline/runs",                  cp_pipeline_runs_index, CP_DB_PRIMARY, CACHE_CATALOG, UNCACHED, NO_HEADERS, Q_LIMIT},
    {CP_METHOD_POST, "/v1/pipeline/runs",                 cp_pipeline_runs_create, CP_DB_WRITE, CACHE_NONE, UNCACHED, NO_HEADERS, Q_NONE},
    {CP_METHOD_POST, "/v1/uploads",                       cp_uploads_create,  CP_DB_WRITE,   CACHE_NONE,    UNCACHED, NO_HEADERS, Q_UPLOAD},
    {CP_METHOD_GET, "/openapi.json",                      cp_docs_openapi,    CP_DB_NONE,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_NONE},
    {CP_METHOD_GET, "/docs",                              cp_docs_page,       CP_DB_NONE,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_NONE},
    {CP_METHOD_GET, "/docs/{asset}",                      cp_docs_asset,      CP_DB_NONE,    CACHE_DATA,    CACHED,   NO_HEADERS, Q_NONE},
    /* The dashboard (handlers/web.h). Its files are in memory already, yet they go through
     * the response cache: an entry keeps the ETag (a SHA-256 of the body) and the gzip
     * variant, built once instead of on every request. Entries are small, bounded by the
     * cache's LRU, dropped on a load like any other (rebuilt on the next request) and never
     * sent to Redis, which holds JSON only. An asset's Cache-Control is set by the handler:
     * immutable under the build's version, no-cache under any other. */
    {CP_METHOD_GET, "/",                                  cp_web_index,       CP_DB_NONE,    CP_WEB_CACHE_REVALIDATE, CACHED, DASHBOARD, cp_query_any},
    {CP_METHOD_GET, "/assets/{version}/{path...}",        cp_web_asset,       CP_DB_NONE,    CP_WEB_CACHE_IMMUTABLE,  CACHED, DASHBOARD, Q_NONE},
    /* browsers ask for it on their own; the dashboard's icon is an SVG */
    {CP_METHOD_GET, "/favicon.ico",                       cp_web_favicon,     CP_DB_NONE,    CP_WEB_CACHE_REVALIDATE, CACHED, DASHBOARD, Q_NONE},
};
/* clang-format on */

const size_t cp_routes_count = sizeof cp_routes / sizeof cp_routes[0];
