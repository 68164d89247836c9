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
#include "handlers/tracks.h"
#include "handlers/trends.h"
#include "handlers/uploads.h"

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

/* clang-format off */
const struct cp_route cp_routes[] = {
    /* methods      pattern                               handler             database       Cache-Control  cached */
    {CP_METHOD_GET, "/healthz",                           cp_health_live,     CP_DB_NONE,    CACHE_NONE,    UNCACHED},
    {CP_METHOD_GET, "/readyz",                            cp_health_ready,    CP_DB_PRIMARY, CACHE_NONE,    UNCACHED},
    {CP_METHOD_GET, "/metrics",                           cp_metrics_show,    CP_DB_NONE,    CACHE_NONE,    UNCACHED},
    /* the literal segment first: the first route whose pattern matches wins */
    {CP_METHOD_GET, "/v1/charts/{region}/dates",          cp_charts_dates,    CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/charts/{region}/{date}",         cp_charts_show,     CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/catalog",                        cp_catalog_index,   CP_DB_READ,    CACHE_CATALOG, UNCACHED},
    {CP_METHOD_GET, "/v1/catalog/{object_id}/rejects",    cp_catalog_rejects, CP_DB_READ,    CACHE_CATALOG, UNCACHED},
    {CP_METHOD_GET, "/v1/regions",                        cp_regions_index,   CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/tracks/{id}",                    cp_tracks_show,     CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/tracks/{id}/history",            cp_tracks_history,  CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/tracks/{id}/forecast",           cp_tracks_forecast, CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/tracks/{id}/regions",            cp_tracks_regions,  CP_DB_READ,    CACHE_DATA,    CACHED},
    /* the literal segment first: the first route whose pattern matches wins */
    {CP_METHOD_GET, "/v1/artists/leaderboard",            cp_artists_leaderboard, CP_DB_READ, CACHE_DATA,   CACHED},
    {CP_METHOD_GET, "/v1/artists/{id}",                   cp_artists_show,    CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/artists/{id}/regions",           cp_artists_regions, CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/artists/{id}/streams",           cp_artists_streams, CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/records",                        cp_records_show,    CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/trends/movers",                  cp_trends_movers,   CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/trends/new-entries",             cp_trends_new_entries, CP_DB_READ, CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/trends/streams",                 cp_trends_streams,  CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/trends/momentum",                cp_trends_momentum, CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/search",                         cp_search_index,    CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/pipeline/runs",                  cp_pipeline_runs_index, CP_DB_PRIMARY, CACHE_CATALOG, UNCACHED},
    {CP_METHOD_POST, "/v1/pipeline/runs",                 cp_pipeline_runs_create, CP_DB_WRITE, CACHE_NONE, UNCACHED},
    {CP_METHOD_POST, "/v1/uploads",                       cp_uploads_create,  CP_DB_WRITE,   CACHE_NONE,    UNCACHED},
    {CP_METHOD_GET, "/openapi.json",                      cp_docs_openapi,    CP_DB_NONE,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/docs",                              cp_docs_page,       CP_DB_NONE,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/docs/{asset}",                      cp_docs_asset,      CP_DB_NONE,    CACHE_DATA,    CACHED},
};
/* clang-format on */

const size_t cp_routes_count = sizeof cp_routes / sizeof cp_routes[0];
