/* THE route table: every REST route, its methods, handler, database need and caching. */
#include "router.h"

#include "charts.h"
#include "health.h"

/* Cache-Control of 200 answers: data changes at most once per load, health never caches. */
#define CACHE_DATA "public, max-age=60"
#define CACHE_NONE "no-store"

const struct cp_route cp_routes[] = {
    /* methods        pattern                        handler          database       cache */
    {CP_METHOD_GET, "/healthz", cp_health_live, CP_DB_NONE, CACHE_NONE},
    {CP_METHOD_GET, "/readyz", cp_health_ready, CP_DB_PRIMARY, CACHE_NONE},
    {CP_METHOD_GET, "/v1/charts/{region}/{date}", cp_charts_show, CP_DB_READ, CACHE_DATA},
};

const size_t cp_routes_count = sizeof cp_routes / sizeof cp_routes[0];
