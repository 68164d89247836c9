/* Prometheus metrics of one server: counters, gauges and histograms updated lock-free (C11
 * atomics) from any thread, and rendered in the text exposition format (version 0.0.4) for
 * GET /metrics. Every recording function ignores a NULL metrics pointer, so modules can be
 * used without a server (unit tests, the CLI). */
#ifndef CP_METRICS_H
#define CP_METRICS_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/status.h"
#include "server/router.h"

/* Content-Type of the rendered text. */
#define CP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct cp_metrics;

/* The response cache's levels (cache.c). */
enum cp_cache_level {
    CP_CACHE_LEVEL_LOCAL, /* the in-process cache */
    CP_CACHE_LEVEL_REDIS, /* the shared Redis cache */
    CP_CACHE_LEVEL_COUNT
};

/* Which pooled database a connection came from. */
enum cp_db_pool_kind {
    CP_DB_POOL_PRIMARY, /* API_DATABASE_URL */
    CP_DB_POOL_READ,    /* DATABASE_READ_URL */
    CP_DB_POOL_COUNT
};

/* How one attempt to take a pooled connection ended. */
enum cp_db_acquire_outcome {
    CP_DB_ACQUIRED,      /* a connection, free at once */
    CP_DB_ACQUIRED_WAIT, /* a connection, after waiting for one to be released */
    CP_DB_TIMEOUT,       /* none became free within the acquire timeout */
    CP_DB_CONNECT_ERROR, /* the database could not be reached */
};

/* A new, zeroed set of metrics, sized for the route table (cp_routes). Release with
 * cp_metrics_free. */
struct cp_metrics *cp_metrics_new(void);
void cp_metrics_free(struct cp_metrics *m);

/* A request started / ended (the in-flight gauge). */
void cp_metrics_request_begin(struct cp_metrics *m);
/* Requests begun and not ended yet. */
long long cp_metrics_in_flight(struct cp_metrics *m);
void cp_metrics_request_end(struct cp_metrics *m);
/* One answered request: route is the matched route (NULL when none matched: 404, 405,
 * 413, OPTIONS), http_status the status sent, seconds the time from the first byte to the
 * response being queued or the connection closing. */
void cp_metrics_observe_request(struct cp_metrics *m, const struct cp_route *route,
                                unsigned http_status, double seconds);

void cp_metrics_cache_hit(struct cp_metrics *m, enum cp_cache_level level);
void cp_metrics_cache_miss(struct cp_metrics *m, enum cp_cache_level level);
/* A Redis call failed (connect, timeout, protocol or server error). */
void cp_metrics_redis_error(struct cp_metrics *m);
/* A Redis lookup or store was skipped because Redis is known to be unavailable. */
void cp_metrics_redis_skip(struct cp_metrics *m);
/* An in-process entry was dropped to make room (not for being stale). */
void cp_metrics_cache_evict(struct cp_metrics *m);
/* The in-process cache grew or shrank by these amounts. */
void cp_metrics_cache_size(struct cp_metrics *m, long long entries_delta, long long bytes_delta);
/* The shared cache generation the server currently uses. */
void cp_metrics_cache_generation(struct cp_metrics *m, unsigned long long generation);

/* One attempt to take a pooled connection, and how long it took. */
void cp_metrics_db_acquire(struct cp_metrics *m, enum cp_db_pool_kind pool,
                           enum cp_db_acquire_outcome outcome, double seconds);
/* A handler holding a connection answered CP_ERR_DB (a failed query). */
void cp_metrics_db_query_error(struct cp_metrics *m);

/* Why the server's defences turned a client away (docs/security.md). */
enum cp_refusal {
    CP_REFUSED_RATE_LIMIT,     /* 429: the client's bucket was empty */
    CP_REFUSED_HEAD_TIMEOUT,   /* a connection without a complete request head in time */
    CP_REFUSED_BODY_TOO_LARGE, /* a chunked body crossed the cap: connection closed */
    CP_REFUSAL_COUNT
};
/* count clients were turned away for reason. */
void cp_metrics_refused(struct cp_metrics *m, enum cp_refusal reason, unsigned count);
/* A read refused because its wait for a worker would exceed (or exceeded) the budget. */
void cp_metrics_queue_over_budget(struct cp_metrics *m);
/* A queued request dropped unserved because its client had closed the connection. */
void cp_metrics_client_gone(struct cp_metrics *m);

/* Appends every metric, with HELP and TYPE lines, to out. Returns CP_ERR_TOO_LARGE when out's
 * cap is reached. */
cp_status cp_metrics_render(struct cp_metrics *m, struct cp_buf *out);

/* GET /metrics: the Prometheus exposition of req->metrics (a route of server/routes.c). */
cp_status cp_metrics_show(const struct cp_request *req, struct cp_reply *reply);

#endif
