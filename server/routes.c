/* THE route table: every REST route, its methods, handler, database need and caching. */
#include "router.h"

#include "catalog.h"
#include "charts.h"
#include "health.h"
#include "prometheus.h"

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
    {CP_METHOD_GET, "/metrics",                           cp_prometheus_show, CP_DB_NONE,    CACHE_NONE,    UNCACHED},
    {CP_METHOD_GET, "/v1/charts/{region}/{date}",         cp_charts_show,     CP_DB_READ,    CACHE_DATA,    CACHED},
    {CP_METHOD_GET, "/v1/catalog",                        cp_catalog_index,   CP_DB_READ,    CACHE_CATALOG, UNCACHED},
    {CP_METHOD_GET, "/v1/catalog/{object_id}/rejects",    cp_catalog_rejects, CP_DB_READ,    CACHE_CATALOG, UNCACHED},
};
/* clang-format on */

const size_t cp_routes_count = sizeof cp_routes / sizeof cp_routes[0];
