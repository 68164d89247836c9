/* Prometheus metrics: C11 atomic counters and histograms, and their text exposition. */
#include "server/metrics.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "pipeline/scheduler.h"

#ifndef CHARTPULSE_VERSION
#define CHARTPULSE_VERSION "unknown"
#endif

/* Upper bounds (seconds) of the request duration buckets; +Inf is implicit. A local cache
 * hit answers in tens of microseconds, a database miss in milliseconds, a stuck pool in
 * seconds. */
static const double duration_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define N_BOUNDS       (sizeof duration_bounds / sizeof duration_bounds[0])
#define N_STATUS_CLASS 5 /* 1xx .. 5xx */

/* The label of requests that matched no route. */
#define UNMATCHED_ROUTE "unmatched"

typedef atomic_uint_fast64_t counter;

struct route_metrics {
    counter requests[N_STATUS_CLASS];
    counter duration_buckets[N_BOUNDS + 1]; /* per bucket, not cumulative; last is +Inf */
    counter duration_sum_ns;
};

struct cp_metrics {
    double start_time_seconds;
    size_t route_count; /* cp_routes_count + 1: the last slot is "unmatched" */
    struct route_metrics *per_route;
    atomic_int_fast64_t in_flight;
    counter cache_hits[CP_CACHE_LEVEL_COUNT];
    counter cache_misses[CP_CACHE_LEVEL_COUNT];
    counter redis_errors;
    counter redis_skips;
    counter cache_evictions;
    atomic_int_fast64_t cache_entries;
    atomic_int_fast64_t cache_bytes;
    counter cache_generation;
    counter db_acquires[CP_DB_POOL_COUNT];
    counter db_waits[CP_DB_POOL_COUNT];
    counter db_timeouts[CP_DB_POOL_COUNT];
    counter db_errors[CP_DB_POOL_COUNT];
    counter db_acquire_ns[CP_DB_POOL_COUNT];
    counter db_query_errors;
    counter refused[CP_REFUSAL_COUNT];
    counter queue_over_budget;
    counter client_gone;
};

static const char *const level_names[CP_CACHE_LEVEL_COUNT] = {"local", "redis"};
static const char *const pool_names[CP_DB_POOL_COUNT] = {"primary", "read"};
static const char *const refusal_names[CP_REFUSAL_COUNT] = {"rate_limit", "head_timeout",
                                                            "body_too_large"};

/* The process's start time from /proc (field 22 of /proc/self/stat is the start in clock
 * ticks after boot; btime in /proc/stat is the boot time), or now when /proc is unreadable. */
static double process_start_time(void)
{
    double now = (double)time(NULL);
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return now;
    char line[1024];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return now;
    /* the command name (field 2) is parenthesised and may hold spaces: skip past it */
    const char *p = strrchr(line, ')');
    if (!p)
        return now;
    p++;
    unsigned long long start_ticks = 0;
    for (int field = 3; field <= 22 && *p; field++) {
        while (*p == ' ')
            p++;
        if (field == 22)
            start_ticks = strtoull(p, NULL, 10);
        p += strcspn(p, " ");
    }
    f = fopen("/proc/stat", "r");
    if (!f)
        return now;
    unsigned long long btime = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "btime ", 6))
            btime = strtoull(line + 6, NULL, 10);
    fclose(f);
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    if (!btime || !start_ticks || ticks_per_second <= 0)
        return now;
    return (double)btime + (double)start_ticks / (double)ticks_per_second;
}

struct cp_metrics *cp_metrics_new(void)
{
    struct cp_metrics *m = cp_calloc(1, sizeof *m);
    m->start_time_seconds = process_start_time();
    m->route_count = cp_routes_count + 1;
    m->per_route = cp_calloc(m->route_count, sizeof *m->per_route);
    /* calloc's zero bytes are a valid initial state for lock-free atomics of these types on
     * every platform we build for; atomic_init keeps the C11 letter for the scalars */
    atomic_init(&m->in_flight, 0);
    atomic_init(&m->cache_entries, 0);
    atomic_init(&m->cache_bytes, 0);
    return m;
}

void cp_metrics_free(struct cp_metrics *m)
{
    if (!m)
        return;
    free(m->per_route);
    free(m);
}

static void add(counter *c, uint_fast64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(const counter *c)
{
    return (uint64_t)atomic_load_explicit((counter *)c, memory_order_relaxed);
}

void cp_metrics_request_begin(struct cp_metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->in_flight, 1, memory_order_relaxed);
}

long long cp_metrics_in_flight(struct cp_metrics *m)
{
    return m ? (long long)atomic_load_explicit(&m->in_flight, memory_order_relaxed) : 0;
}

void cp_metrics_request_end(struct cp_metrics *m)
{
    if (m)
        atomic_fetch_sub_explicit(&m->in_flight, 1, memory_order_relaxed);
}

static size_t route_slot(const struct cp_metrics *m, const struct cp_route *route)
{
    if (route && route >= cp_routes && route < cp_routes + cp_routes_count)
        return (size_t)(route - cp_routes);
    return m->route_count - 1;
}

void cp_metrics_observe_request(struct cp_metrics *m, const struct cp_route *route,
                                unsigned http_status, double seconds)
{
    if (!m)
        return;
    struct route_metrics *rm = &m->per_route[route_slot(m, route)];
    if (http_status >= 100 && http_status < 600)
        add(&rm->requests[http_status / 100 - 1], 1);
    size_t bucket = 0;
    while (bucket < N_BOUNDS && seconds > duration_bounds[bucket])
        bucket++;
    add(&rm->duration_buckets[bucket], 1);
    if (seconds > 0)
        add(&rm->duration_sum_ns, (uint_fast64_t)(seconds * 1e9));
}

void cp_metrics_cache_hit(struct cp_metrics *m, enum cp_cache_level level)
{
    if (m && level < CP_CACHE_LEVEL_COUNT)
        add(&m->cache_hits[level], 1);
}

void cp_metrics_cache_miss(struct cp_metrics *m, enum cp_cache_level level)
{
    if (m && level < CP_CACHE_LEVEL_COUNT)
        add(&m->cache_misses[level], 1);
}

void cp_metrics_redis_error(struct cp_metrics *m)
{
    if (m)
        add(&m->redis_errors, 1);
}

void cp_metrics_redis_skip(struct cp_metrics *m)
{
    if (m)
        add(&m->redis_skips, 1);
}

void cp_metrics_cache_evict(struct cp_metrics *m)
{
    if (m)
        add(&m->cache_evictions, 1);
}

void cp_metrics_cache_size(struct cp_metrics *m, long long entries_delta, long long bytes_delta)
{
    if (!m)
        return;
    atomic_fetch_add_explicit(&m->cache_entries, entries_delta, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->cache_bytes, bytes_delta, memory_order_relaxed);
}

void cp_metrics_cache_generation(struct cp_metrics *m, unsigned long long generation)
{
    if (m)
        atomic_store_explicit(&m->cache_generation, generation, memory_order_relaxed);
}

void cp_metrics_db_acquire(struct cp_metrics *m, enum cp_db_pool_kind pool,
                           enum cp_db_acquire_outcome outcome, double seconds)
{
    if (!m || pool >= CP_DB_POOL_COUNT)
        return;
    switch (outcome) {
    case CP_DB_ACQUIRED:
        add(&m->db_acquires[pool], 1);
        break;
    case CP_DB_ACQUIRED_WAIT:
        add(&m->db_acquires[pool], 1);
        add(&m->db_waits[pool], 1);
        break;
    case CP_DB_TIMEOUT:
        add(&m->db_waits[pool], 1);
        add(&m->db_timeouts[pool], 1);
        break;
    case CP_DB_CONNECT_ERROR:
        add(&m->db_errors[pool], 1);
        break;
    }
    if (seconds > 0)
        add(&m->db_acquire_ns[pool], (uint_fast64_t)(seconds * 1e9));
}

void cp_metrics_db_query_error(struct cp_metrics *m)
{
    if (m)
        add(&m->db_query_errors, 1);
}

void cp_metrics_refused(struct cp_metrics *m, enum cp_refusal reason, unsigned count)
{
    if (m && reason < CP_REFUSAL_COUNT)
        add(&m->refused[reason], count);
}

void cp_metrics_queue_over_budget(struct cp_metrics *m)
{
    if (m)
        add(&m->queue_over_budget, 1);
}

void cp_metrics_client_gone(struct cp_metrics *m)
{
    if (m)
        add(&m->client_gone, 1);
}

/* ---- exposition --------------------------------------------------------------------- */

/* A label value with \, " and newline escaped as the text format asks. */
static cp_status add_label_value(struct cp_buf *out, const char *value)
{
    cp_status st = CP_OK;
    for (const char *p = value; *p && st == CP_OK; p++) {
        if (*p == '\\')
            st = cp_buf_adds(out, "\\\\");
        else if (*p == '"')
            st = cp_buf_adds(out, "\\\"");
        else if (*p == '\n')
            st = cp_buf_adds(out, "\\n");
        else
            st = cp_buf_add(out, p, 1);
    }
    return st;
}

static cp_status header(struct cp_buf *out, const char *name, const char *type, const char *help)
{
    return cp_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{label="value"[,extra]} ` -- the caller appends the sample value and newline. */
static cp_status sample_start(struct cp_buf *out, const char *name, const char *label,
                              const char *value, const char *extra)
{
    cp_status st = cp_buf_addf(out, "%s{%s=\"", name, label);
    if (st == CP_OK)
        st = add_label_value(out, value);
    if (st == CP_OK)
        st = cp_buf_addf(out, "\"%s%s} ", extra ? "," : "", extra ? extra : "");
    return st;
}

static const char *route_label(const struct cp_metrics *m, size_t slot)
{
    return slot + 1 < m->route_count ? cp_routes[slot].pattern : UNMATCHED_ROUTE;
}

static cp_status render_http(struct cp_metrics *m, struct cp_buf *out)
{
    static const char *const classes[N_STATUS_CLASS] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    const char *requests = "chartpulse_http_requests_total";
    cp_status st = header(out, requests, "counter",
                          "HTTP requests answered, by route pattern and status class.");
    for (size_t r = 0; r < m->route_count && st == CP_OK; r++)
        for (size_t c = 0; c < N_STATUS_CLASS && st == CP_OK; c++) {
            char extra[32];
            snprintf(extra, sizeof extra, "status=\"%s\"", classes[c]);
            st = sample_start(out, requests, "route", route_label(m, r), extra);
            if (st == CP_OK)
                st = cp_buf_addf(out, "%" PRIu64 "\n", get(&m->per_route[r].requests[c]));
        }

    const char *duration = "chartpulse_http_request_duration_seconds";
    if (st == CP_OK)
        st = header(out, duration, "histogram",
                    "Time from a request's arrival to its response, by route pattern.");
    for (size_t r = 0; r < m->route_count && st == CP_OK; r++) {
        const struct route_metrics *rm = &m->per_route[r];
        const char *route = route_label(m, r);
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= N_BOUNDS && st == CP_OK; b++) {
            cumulative += get(&rm->duration_buckets[b]);
            char extra[40];
            if (b < N_BOUNDS)
                snprintf(extra, sizeof extra, "le=\"%g\"", duration_bounds[b]);
            else
                snprintf(extra, sizeof extra, "le=\"+Inf\"");
            st = sample_start(out, "chartpulse_http_request_duration_seconds_bucket", "route",
                              route, extra);
            if (st == CP_OK)
                st = cp_buf_addf(out, "%" PRIu64 "\n", cumulative);
        }
        if (st == CP_OK)
            st = sample_start(out, "chartpulse_http_request_duration_seconds_sum", "route", route,
                              NULL);
        if (st == CP_OK)
            st = cp_buf_addf(out, "%.9f\n", (double)get(&rm->duration_sum_ns) / 1e9);
        if (st == CP_OK)
            st = sample_start(out, "chartpulse_http_request_duration_seconds_count", "route", route,
                              NULL);
        if (st == CP_OK)
            st = cp_buf_addf(out, "%" PRIu64 "\n", cumulative);
    }
    if (st == CP_OK)
        st = header(out, "chartpulse_http_requests_in_flight", "gauge",
                    "Requests received and not yet completed.");
    if (st == CP_OK)
        st = cp_buf_addf(out, "chartpulse_http_requests_in_flight %lld\n",
                         (long long)atomic_load(&m->in_flight));
    return st;
}

/* One counter per label value: name{label="values[i]"} counters[i]. */
static cp_status labelled_counters(struct cp_buf *out, const char *name, const char *help,
                                   const char *label, const char *const *values,
                                   const counter *counters, size_t count)
{
    cp_status st = header(out, name, "counter", help);
    for (size_t i = 0; i < count && st == CP_OK; i++) {
        st = sample_start(out, name, label, values[i], NULL);
        if (st == CP_OK)
            st = cp_buf_addf(out, "%" PRIu64 "\n", get(&counters[i]));
    }
    return st;
}

static cp_status plain(struct cp_buf *out, const char *name, const char *type, const char *help,
                       uint64_t value)
{
    cp_status st = header(out, name, type, help);
    if (st == CP_OK)
        st = cp_buf_addf(out, "%s %" PRIu64 "\n", name, value);
    return st;
}

static cp_status render_cache(struct cp_metrics *m, struct cp_buf *out)
{
    cp_status st = labelled_counters(out, "chartpulse_cache_hits_total",
                                     "Response cache lookups answered, by cache level.", "level",
                                     level_names, m->cache_hits, CP_CACHE_LEVEL_COUNT);
    if (st == CP_OK)
        st = labelled_counters(out, "chartpulse_cache_misses_total",
                               "Response cache lookups not answered, by cache level.", "level",
                               level_names, m->cache_misses, CP_CACHE_LEVEL_COUNT);
    if (st == CP_OK)
        st = plain(out, "chartpulse_cache_redis_errors_total", "counter",
                   "Redis calls that failed (connect, timeout, protocol or server error).",
                   get(&m->redis_errors));
    if (st == CP_OK)
        st = plain(out, "chartpulse_cache_redis_skipped_total", "counter",
                   "Redis lookups and stores skipped while Redis was unavailable.",
                   get(&m->redis_skips));
    if (st == CP_OK)
        st = plain(out, "chartpulse_cache_local_evictions_total", "counter",
                   "In-process cache entries dropped to stay within the byte budget.",
                   get(&m->cache_evictions));
    if (st == CP_OK)
        st = header(out, "chartpulse_cache_local_entries", "gauge",
                    "Responses held by the in-process cache.");
    if (st == CP_OK)
        st = cp_buf_addf(out, "chartpulse_cache_local_entries %lld\n",
                         (long long)atomic_load(&m->cache_entries));
    if (st == CP_OK)
        st = header(out, "chartpulse_cache_local_bytes", "gauge",
                    "Bytes held by the in-process cache (bodies, variants and keys).");
    if (st == CP_OK)
        st = cp_buf_addf(out, "chartpulse_cache_local_bytes %lld\n",
                         (long long)atomic_load(&m->cache_bytes));
    if (st == CP_OK)
        st = plain(out, "chartpulse_cache_generation", "gauge",
                   "The shared cache generation in use (bumped after every load).",
                   get(&m->cache_generation));
    return st;
}

static cp_status render_db(struct cp_metrics *m, struct cp_buf *out)
{
    cp_status st = labelled_counters(out, "chartpulse_db_pool_acquires_total",
                                     "Pooled database connections handed to a request.", "pool",
                                     pool_names, m->db_acquires, CP_DB_POOL_COUNT);
    if (st == CP_OK)
        st = labelled_counters(out, "chartpulse_db_pool_waits_total",
                               "Requests that found every pooled connection busy and waited.",
                               "pool", pool_names, m->db_waits, CP_DB_POOL_COUNT);
    if (st == CP_OK)
        st = labelled_counters(out, "chartpulse_db_pool_timeouts_total",
                               "Requests that got no pooled connection within the timeout.", "pool",
                               pool_names, m->db_timeouts, CP_DB_POOL_COUNT);
    if (st == CP_OK)
        st = labelled_counters(out, "chartpulse_db_pool_errors_total",
                               "Failed attempts to open a database connection.", "pool", pool_names,
                               m->db_errors, CP_DB_POOL_COUNT);
    if (st == CP_OK)
        st = header(out, "chartpulse_db_pool_acquire_seconds_total", "counter",
                    "Time spent taking pooled connections (waiting and connecting).");
    for (size_t i = 0; i < CP_DB_POOL_COUNT && st == CP_OK; i++) {
        st = sample_start(out, "chartpulse_db_pool_acquire_seconds_total", "pool", pool_names[i],
                          NULL);
        if (st == CP_OK)
            st = cp_buf_addf(out, "%.9f\n", (double)get(&m->db_acquire_ns[i]) / 1e9);
    }
    if (st == CP_OK)
        st = plain(out, "chartpulse_db_query_errors_total", "counter",
                   "Requests whose database query failed on a pooled connection.",
                   get(&m->db_query_errors));
    if (st == CP_OK)
        st = plain(out, "chartpulse_queue_over_budget_total", "counter",
                   "Reads answered 503 because their wait for a database worker would exceed, or "
                   "exceeded, the queue budget.",
                   get(&m->queue_over_budget));
    if (st == CP_OK)
        st = plain(out, "chartpulse_requests_client_gone_total", "counter",
                   "Queued requests dropped unserved because the client had closed the connection.",
                   get(&m->client_gone));
    return st;
}

cp_status cp_metrics_render(struct cp_metrics *m, struct cp_buf *out)
{
    cp_status st =
        header(out, "chartpulse_build_info", "gauge", "Build information; the value is always 1.");
    if (st == CP_OK)
        st = cp_buf_adds(out, "chartpulse_build_info{version=\"");
    if (st == CP_OK)
        st = add_label_value(out, CHARTPULSE_VERSION);
    if (st == CP_OK)
        st = cp_buf_adds(out, "\"} 1\n");
    if (st == CP_OK)
        st = header(out, "process_start_time_seconds", "gauge",
                    "Start time of the process since the Unix epoch, in seconds.");
    if (st == CP_OK)
        st = cp_buf_addf(out, "process_start_time_seconds %.2f\n", m->start_time_seconds);
    if (st == CP_OK)
        st = render_http(m, out);
    if (st == CP_OK)
        st = render_cache(m, out);
    if (st == CP_OK)
        st = render_db(m, out);
    if (st == CP_OK)
        st = header(
            out, "chartpulse_pipeline_next_run_timestamp_seconds", "gauge",
            "When this server's scheduler starts the next pipeline run (CHARTPULSE_SCHEDULE),"
            " since the Unix epoch; 0 when it has no schedule.");
    if (st == CP_OK)
        st = cp_buf_addf(out, "chartpulse_pipeline_next_run_timestamp_seconds %lld\n",
                         (long long)cp_scheduler_next_run());
    if (st == CP_OK)
        st = header(out, "chartpulse_http_refused_total", "counter",
                    "Clients turned away by the server's defences, by reason.");
    for (int i = 0; st == CP_OK && i < CP_REFUSAL_COUNT; i++) {
        st = sample_start(out, "chartpulse_http_refused_total", "reason", refusal_names[i], NULL);
        if (st == CP_OK)
            st = cp_buf_addf(out, "%llu\n", (unsigned long long)get(&m->refused[i]));
    }
    return st;
}

/* The exposition is about twenty lines per route; far below this. */
#define METRICS_TEXT_MAX (4u << 20)

cp_status cp_metrics_show(const struct cp_request *req, struct cp_reply *reply)
{
    if (!req->metrics)
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "this server keeps no metrics");
    struct cp_buf text;
    cp_buf_init(&text, METRICS_TEXT_MAX);
    if (cp_metrics_render(req->metrics, &text) != CP_OK) {
        cp_buf_free(&text);
        cp_log_error("the metrics text exceeds %u bytes", METRICS_TEXT_MAX);
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "the metrics could not be rendered");
    }
    size_t len = 0;
    char *body = cp_buf_take(&text, &len);
    return cp_reply_text(reply, body, len, CP_METRICS_CONTENT_TYPE);
}
