/* libmicrohttpd glue: per-request context, dispatch through the route table, a worker pool
 * for database routes (suspend/resume), and every response's cross-cutting headers. */
#include "server/http.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/ticker.h"
#include "db/pool.h"
#include "handlers/csv.h"
#include "pipeline/pipeline_run.h"
#include "pipeline/scheduler.h"
#include "server/cache.h"
#include "server/connguard.h"
#include "server/guard.h"
#include "server/metrics.h"
#include "server/query.h"
#include "server/ratelimit.h"
#include "server/router.h"

#define CONTENT_TYPE_JSON    "application/json; charset=utf-8"
#define CONTENT_TYPE_PROBLEM "application/problem+json"
#define CONTENT_TYPE_TEXT    "text/plain; charset=utf-8"
/* X-Cache values: where a cacheable route's answer came from. */
#define X_CACHE_HIT_LOCAL "hit-local"
#define X_CACHE_HIT_REDIS "hit-redis"
#define X_CACHE_MISS      "miss"
/* An incoming X-Request-Id longer than this (or with odd characters) is replaced. */
#define REQUEST_ID_MAX 63
/* Clients retry a 503 after this many seconds. */
#define RETRY_AFTER_SECONDS "5"
#define CORS_EXPOSE         "ETag, X-Request-Id, X-Cache"
#define CORS_ALLOW_HEADERS  "Authorization, Content-Type, If-None-Match, X-Request-Id"
#define LISTEN_BACKLOG      511
/* Answers vary with these request headers (gzip; CSV negotiated by Accept, csv.h). */
#define VARY_HEADERS "Accept-Encoding, Accept"
/* A problem's detail or instance is cut at this many bytes. */
#define PROBLEM_TEXT_MAX 4096
/* Appended to the cache key of a request that negotiates CSV through Accept (a `format`
 * query parameter is part of the key already), so CSV and JSON never share an entry. */
#define CACHE_KEY_CSV_SUFFIX " accept=text/csv"

struct request_ctx;
struct cp_server;

/* Suspended requests waiting for a worker, and the workers that take them in order. */
struct work_queue {
    struct cp_server *server;
    const char *name; /* for the 503 a full queue answers */
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct request_ctx *head, *tail;
    int length;            /* waiting, not yet taken by a worker */
    int max_length;        /* more are refused (503); 0: no bound */
    int budget_ms;         /* a longer wait for a worker is answered 503 instead; 0: no budget */
    int busy;              /* workers serving a request, under lock */
    double avg_service_ms; /* recent time a worker spends on a request, under lock */
    bool stopping;         /* under lock: no more suspensions; workers drain and exit */
    pthread_t *workers;
    int worker_count; /* started */
};

/* One pooled database, and how many of its connections requests hold right now (to tell
 * a wait for a free connection from an immediate hand-out, for metrics). */
struct db_slot {
    struct cp_pool *pool;
    enum cp_db_pool_kind kind;
    int size;
    int acquire_timeout_ms;
    atomic_int in_use;
};

struct cp_server {
    struct MHD_Daemon *daemon;
    int port;
    struct cp_server_opts opts;
    struct db_slot api_db;
    struct db_slot read_db;  /* .pool is NULL unless DATABASE_READ_URL is set */
    struct db_slot write_db; /* DATABASE_URL, for CP_DB_WRITE routes */
    struct cp_config config; /* the server's own copy, handed to handlers */
    struct cp_metrics *metrics;
    struct cp_cache *cache;
    struct cp_connguard *guard;     /* request-head deadlines (connguard.h) */
    struct cp_ratelimit *ratelimit; /* per-client database requests; NULL: off */

    /* Database routes wait for a worker here. The admin write routes (uploads, starting
     * a run) have workers and a bounded queue of their own, so however many arrive they
     * never hold a thread the reads need, and each write worker always finds an owner
     * connection free (write_db has one per worker). */
    struct work_queue reads;
    struct work_queue writes;
    /* answers reads that waited past the budget and ends database calls past their
     * deadline, even when every worker is stuck */
    struct cp_ticker *watchdog;

    char *tls_cert, *tls_key;     /* PEM texts libmicrohttpd reads from while it runs */
    pthread_mutex_t mhd_log_lock; /* on_mhd_log's budget of lines per second */
    time_t mhd_log_second;
    unsigned mhd_log_lines;
    unsigned long mhd_log_suppressed;

    uint64_t request_id_seed;
    atomic_uint_fast64_t request_id_counter;
};

/* One HTTP request, from the first access-handler call to MHD's completion notice. */
struct request_ctx {
    struct cp_server *server;
    struct MHD_Connection *connection;
    struct request_ctx *next; /* in the worker queue */
    struct timespec enqueued; /* when it joined the worker queue */
    struct timespec started;
    enum cp_method method;
    bool initialised; /* false between on_uri and the first access-handler call */
    char *method_name;
    char *raw_path;  /* the path as the client sent it, still percent-encoded: routed on */
    char *path;      /* percent-decoded by libmicrohttpd: for handlers and logs */
    char *raw_query; /* after '?', as sent (server/query.h parses it); NULL when none */
    char request_id[REQUEST_ID_MAX + 1];
    char *if_none_match;    /* NULL when absent */
    char *accept_encoding;  /* NULL when absent */
    char *accept;           /* NULL when absent */
    char *authorization;    /* NULL when absent */
    char *content_type;     /* NULL when absent */
    bool has_body;          /* a Content-Length above 0 or a Transfer-Encoding was sent */
    bool routed;            /* route_request ran (match, query) and did not answer */
    unsigned retry_after_s; /* a 429's Retry-After */
    struct cp_connguard_conn *guard_conn; /* the connection's head deadline, or NULL */
    struct cp_buf body;                   /* a POST's body, up to max_request_body_bytes */
    unsigned success_status;              /* 200, 201 or 202: what a handler's CP_OK answer means */
    struct cp_param query[CP_REQUEST_MAX_QUERY];
    size_t query_count;
    struct cp_route_match match;
    char *cache_key; /* set when the answer may come from or go to the response cache */
    size_t cache_key_len;
    unsigned long long body_bytes;
    bool body_too_large;
    const char *ambiguous_length;  /* why the body's end is ambiguous, or NULL (static) */
    bool responded;                /* a response was queued */
    struct MHD_Response *response; /* built, not yet queued */
    unsigned http_status;
    size_t response_bytes;
};

/* ---- small helpers ---------------------------------------------------------------- */

static struct MHD_Response *must(struct MHD_Response *response)
{
    if (!response) {
        fprintf(stderr, "chartpulse: out of memory creating an HTTP response\n");
        abort();
    }
    return response;
}

static void add_header(struct MHD_Response *response, const char *name, const char *value)
{
    if (MHD_add_response_header(response, name, value) != MHD_YES)
        cp_log_warn("could not add response header %s", name);
}

/* Takes data (malloc'd, or NULL when len is 0). */
static struct MHD_Response *buffer_response(char *data, size_t len)
{
    if (!len) {
        free(data);
        return must(MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
    }
    return must(MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE));
}

/* A JSON string of s in the safe text form (core/text.h: bytes that are not valid UTF-8 as
 * `\xNN`), so a detail or instance quoting what a client sent is always a string. New
 * reference. */
static json_t *json_text(const char *s)
{
    char *safe = cp_text_safe_dup(s, strlen(s), PROBLEM_TEXT_MAX);
    json_t *value = json_string(safe);
    free(safe);
    return value;
}

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* An incoming request id is kept when it is short and made of URL-safe characters, so it
 * can go into logs and headers as is. */
static bool sane_request_id(const char *id)
{
    size_t len = strlen(id);
    return len >= 1 && len <= REQUEST_ID_MAX &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:") == len;
}

static void assign_request_id(struct cp_server *server, struct request_ctx *ctx,
                              const char *incoming)
{
    if (incoming && sane_request_id(incoming)) {
        snprintf(ctx->request_id, sizeof ctx->request_id, "%s", incoming);
        return;
    }
    uint64_t n = atomic_fetch_add(&server->request_id_counter, 1);
    snprintf(ctx->request_id, sizeof ctx->request_id, "%016llx",
             (unsigned long long)splitmix64(server->request_id_seed + n));
}

/* ---- content negotiation ---------------------------------------------------------- */

/* Whether an Accept-Encoding value allows gzip (RFC 9110 §12.5.3: q=0 refuses). */
static bool accepts_gzip(const char *header)
{
    double gzip_q = -1, any_q = -1;
    const char *p = header;
    while (p && *p) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        size_t toklen = strcspn(p, " \t,;");
        const char *token = p;
        p += toklen;
        double q = 1.0;
        while (*p && *p != ',') {
            p += strspn(p, " \t;");
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                char *end;
                q = strtod(p + 2, &end);
                p = end > p + 2 ? end : p + 2;
            } else {
                p += strcspn(p, ";,");
            }
        }
        if ((toklen == 4 && !strncasecmp(token, "gzip", 4)) ||
            (toklen == 6 && !strncasecmp(token, "x-gzip", 6)))
            gzip_q = q;
        else if (toklen == 1 && token[0] == '*')
            any_q = q;
    }
    return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

/* Whether an If-None-Match value lists tag (quoted) or is `*`. Weak comparison, as RFC
 * 9110 §13.1.2 asks for If-None-Match. */
static bool etag_listed(const char *header, const char *tag)
{
    size_t taglen = strlen(tag);
    const char *p = header;
    while (p && *p) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        if (*p != '"') {
            p += strcspn(p, ",");
            continue;
        }
        const char *close = strchr(p + 1, '"');
        if (!close)
            return false;
        size_t len = (size_t)(close - p) + 1;
        if (len == taglen && !memcmp(p, tag, len))
            return true;
        p = close + 1;
    }
    return false;
}

/* ---- responses -------------------------------------------------------------------- */

/* Adds the headers every response carries and hands response to ctx for queuing.
 * x_cache (NULL for routes that are not cached) says where the answer came from. */
static void finish(struct request_ctx *ctx, struct MHD_Response *response, unsigned http_status,
                   size_t body_bytes, const char *x_cache)
{
    add_header(response, "X-Request-Id", ctx->request_id);
    /* every answer: the browser trusts our Content-Type (an error page is never sniffed
     * into script), and over TLS it keeps to HTTPS from then on */
    add_header(response, "X-Content-Type-Options", "nosniff");
    if (ctx->server->tls_cert)
        add_header(response, "Strict-Transport-Security", "max-age=31536000");
    const struct cp_route *route = ctx->match.route;
    for (const struct cp_header *h = route ? route->headers : NULL; h && h->name; h++)
        add_header(response, h->name, h->value);
    if (x_cache)
        add_header(response, "X-Cache", x_cache);
    if (ctx->method & (CP_METHOD_GET | CP_METHOD_HEAD | CP_METHOD_OPTIONS)) {
        add_header(response, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        add_header(response, "Access-Control-Expose-Headers", CORS_EXPOSE);
    }
    if (ctx->response)
        MHD_destroy_response(ctx->response);
    ctx->response = response;
    ctx->http_status = http_status;
    ctx->response_bytes = body_bytes;
}

/* An RFC 9457 problem for st; detail NULL uses the status's own message. Problems are never
 * cached, so on a cacheable route they are a miss. */
static void respond_problem(struct request_ctx *ctx, cp_status st, const char *detail)
{
    if (st == CP_OK)
        st = CP_ERR_INTERNAL; /* a handler said OK without a body: a bug */
    int http = cp_status_http(st);
    json_t *problem = json_object();
    json_object_set_new(problem, "type", json_string(cp_status_type(st)));
    json_object_set_new(problem, "title", json_string(cp_status_title(st)));
    json_object_set_new(problem, "status", json_integer(http));
    json_object_set_new(problem, "detail", json_text(detail ? detail : cp_strerror(st)));
    json_object_set_new(problem, "instance", json_text(ctx->path));
    char *text = json_dumps(problem, JSON_COMPACT);
    json_decref(problem);
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *response = buffer_response(text, len);
    add_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_PROBLEM);
    add_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (st == CP_ERR_METHOD) {
        char allow[128];
        cp_router_allow_header(ctx->match.allowed, allow, sizeof allow);
        add_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    }
    if (http == MHD_HTTP_SERVICE_UNAVAILABLE)
        add_header(response, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_SECONDS);
    if (st == CP_ERR_RATE_LIMITED) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%u", ctx->retry_after_s ? ctx->retry_after_s : 1u);
        add_header(response, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (st == CP_ERR_UNAUTHORIZED)
        add_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"chartpulse\"");
    finish(ctx, response, (unsigned)http, len, ctx->cache_key ? X_CACHE_MISS : NULL);
}

/* libmicrohttpd calls this when a response built over an entry's buffer is destroyed. */
static void release_entry(void *cls)
{
    cp_cache_entry_unref(cls);
}

/* A 200 answer from a built entry (fresh or cached): ETag and If-None-Match (304) on
 * GET/HEAD, the gzip variant when the entry has one and the client accepts it. The response
 * borrows the entry's bytes and holds a reference until libmicrohttpd is done with it, so
 * a hit copies nothing and builds nothing but headers. */
static void respond_entry(struct request_ctx *ctx, struct cp_cache_entry *entry,
                          const char *x_cache)
{
    bool use_gzip = entry->gzip_body && accepts_gzip(ctx->accept_encoding);
    bool validate = (ctx->method & (CP_METHOD_GET | CP_METHOD_HEAD)) != 0;
    const char *etag = use_gzip ? entry->gzip_etag : entry->etag;
    if (validate && ctx->if_none_match &&
        (etag_listed(ctx->if_none_match, entry->etag) ||
         etag_listed(ctx->if_none_match, entry->gzip_etag))) {
        struct MHD_Response *response = buffer_response(NULL, 0);
        add_header(response, MHD_HTTP_HEADER_ETAG, etag);
        add_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, entry->cache_control);
        add_header(response, MHD_HTTP_HEADER_VARY, VARY_HEADERS);
        finish(ctx, response, MHD_HTTP_NOT_MODIFIED, 0, x_cache);
        return;
    }
    char *data = use_gzip ? entry->gzip_body : entry->body;
    size_t len = use_gzip ? entry->gzip_len : entry->body_len;
    struct MHD_Response *response = must(MHD_create_response_from_buffer_with_free_callback_cls(
        len, data, release_entry, cp_cache_entry_ref(entry)));
    add_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, entry->content_type);
    add_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, entry->cache_control);
    add_header(response, MHD_HTTP_HEADER_VARY, VARY_HEADERS);
    if (use_gzip)
        add_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (validate)
        add_header(response, MHD_HTTP_HEADER_ETAG, etag);
    finish(ctx, response, ctx->success_status ? ctx->success_status : MHD_HTTP_OK, len, x_cache);
}

/* A CORS preflight (or plain OPTIONS) on a path that exists. */
static void respond_options(struct request_ctx *ctx)
{
    char allow[128];
    cp_router_allow_header(ctx->match.allowed | CP_METHOD_OPTIONS, allow, sizeof allow);
    struct MHD_Response *response = buffer_response(NULL, 0);
    add_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    add_header(response, "Access-Control-Allow-Methods", allow);
    add_header(response, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    add_header(response, "Access-Control-Max-Age", "86400");
    add_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    finish(ctx, response, MHD_HTTP_NO_CONTENT, 0, NULL);
}

/* ---- database connections, taken on the handler's first use ------------------------ */

struct cp_db_lease {
    struct cp_server *server;
    struct db_slot *slot;
    PGconn *conn;
    bool tried;
    bool may_retry; /* a read: a lost connection is retried once on a fresh one */
    bool retry;     /* set by run_handler: answer nothing, run again */
};

static double seconds_since(const struct timespec *since)
{
    return elapsed_ms(since) / 1e3;
}

static PGconn *lease_acquire(struct cp_db_lease *lease)
{
    if (lease->conn || lease->tried)
        return lease->conn;
    lease->tried = true;
    struct db_slot *slot = lease->slot;
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    /* every connection of the pool is handed out through here, so this count says whether
     * the pool had one free */
    bool busy = atomic_load(&slot->in_use) >= slot->size;
    cp_status st;
    PGconn *conn = cp_pool_acquire(slot->pool, &st);
    double seconds = seconds_since(&started);
    enum cp_db_acquire_outcome outcome;
    if (conn) {
        atomic_fetch_add(&slot->in_use, 1);
        outcome = busy ? CP_DB_ACQUIRED_WAIT : CP_DB_ACQUIRED;
    } else {
        outcome = busy && seconds * 1e3 >= slot->acquire_timeout_ms * 0.9 ? CP_DB_TIMEOUT
                                                                          : CP_DB_CONNECT_ERROR;
    }
    cp_metrics_db_acquire(lease->server->metrics, slot->kind, outcome, seconds);
    lease->conn = conn;
    return conn;
}

static void lease_release(struct cp_db_lease *lease)
{
    if (!lease->conn)
        return;
    cp_pool_release(lease->slot->pool, lease->conn);
    atomic_fetch_sub(&lease->slot->in_use, 1);
    lease->conn = NULL;
}

/* ---- running a route ------------------------------------------------------------- */

/* Runs the matched route's handler. On a 200 returns the built entry (a new reference; the
 * caller answers with it and may cache it), else answers the problem and returns NULL.
 * lease is NULL for routes without a database. */
static struct cp_cache_entry *run_handler(struct request_ctx *ctx, struct cp_db_lease *lease)
{
    struct cp_server *server = ctx->server;
    const struct cp_route *route = ctx->match.route;
    struct cp_request req = {
        .method = ctx->method,
        .path = ctx->path,
        .params = ctx->match.params,
        .param_count = ctx->match.param_count,
        .query = ctx->query,
        .query_count = ctx->query_count,
        .db_acquire = lease ? lease_acquire : NULL,
        .db_lease = lease,
        .metrics = server->metrics,
        .accept = ctx->accept,
        .authorization = ctx->authorization,
        .content_type = ctx->content_type,
        .body = ctx->body.data,
        .body_len = ctx->body.len,
        .config = &server->config,
    };
    struct cp_reply reply = {0};
    cp_status st = route->handler(&req, &reply);
    struct cp_cache_entry *entry = NULL;
    if (st == CP_OK && (reply.body || reply.text)) {
        if (reply.outcome == CP_REPLY_CREATED)
            ctx->success_status = MHD_HTTP_CREATED;
        else if (reply.outcome == CP_REPLY_ACCEPTED)
            ctx->success_status = MHD_HTTP_ACCEPTED;
        char *text;
        size_t len;
        const char *content_type;
        if (reply.text) {
            text = reply.text;
            len = reply.text_len;
            content_type = reply.text_type ? reply.text_type : CONTENT_TYPE_TEXT;
            reply.text = NULL;
        } else {
            text = json_dumps(reply.body, JSON_COMPACT | JSON_REAL_PRECISION(12));
            len = text ? strlen(text) : 0;
            content_type = CONTENT_TYPE_JSON;
        }
        if (text) {
            /* a cached entry gets its gzip variant now, for every later client; an uncached
             * one only when this client wants it */
            bool with_gzip = ctx->cache_key || accepts_gzip(ctx->accept_encoding);
            const char *cache_control =
                reply.cache_control ? reply.cache_control : route->cache_control;
            entry = cp_cache_entry_new(route, text, len, content_type, cache_control, with_gzip,
                                       server->opts.gzip_min_bytes);
        } else {
            cp_log_error("could not serialise the JSON answer");
            respond_problem(ctx, CP_ERR_INTERNAL, NULL);
        }
    } else if (st == CP_ERR_DB && lease && lease->may_retry && cp_pool_conn_lost(lease->conn)) {
        /* the server went away under this connection (a restart): not this request's
         * fault, and a read is safe to run again */
        cp_log_warn("database connection lost during %s %s; retrying once on a fresh one",
                    ctx->method_name, ctx->path);
        lease->retry = true;
    } else {
        if (st == CP_ERR_DB && lease && lease->conn)
            cp_metrics_db_query_error(server->metrics);
        respond_problem(ctx, st, reply.detail);
    }
    cp_reply_cleanup(&reply);
    return entry;
}

/* ---- the database worker pool ----------------------------------------------------- */

/* What a worker still has to do for a request after handing its connection back. */
struct fill {
    struct cp_cache_entry *entry; /* to store in Redis, or NULL */
    char *key;                    /* its cache key */
    size_t key_len;
    struct cp_cache_generation generation;
};

/* Answers ctx on a worker: a cacheable request looks in Redis first, then runs the handler
 * and fills both levels. Sets fill->entry when the body still has to go to Redis, which
 * the caller does after resuming the connection, so the client does not wait for it. */
static void serve_on_worker(struct request_ctx *ctx, struct cp_cache_client *redis,
                            struct fill *fill)
{
    struct cp_server *server = ctx->server;
    const struct cp_route *route = ctx->match.route;
    struct cp_cache_generation gen;
    /* read before the database: a generation bumped after a load commits then never labels
     * an answer read before that commit */
    cp_cache_current_generation(server->cache, &gen);

    if (ctx->cache_key) {
        size_t len = 0;
        char *body = cp_cache_redis_get(redis, &gen, ctx->cache_key, ctx->cache_key_len, &len);
        if (body) {
            struct cp_cache_entry *entry =
                cp_cache_entry_new(route, body, len, CONTENT_TYPE_JSON, route->cache_control, true,
                                   server->opts.gzip_min_bytes);
            cp_cache_store(server->cache, ctx->cache_key, ctx->cache_key_len, &gen, entry);
            respond_entry(ctx, entry, X_CACHE_HIT_REDIS);
            cp_cache_entry_unref(entry);
            return;
        }
    }

    struct db_slot *slot = &server->api_db;
    if (route->db == CP_DB_READ && server->read_db.pool)
        slot = &server->read_db;
    else if (route->db == CP_DB_WRITE)
        slot = &server->write_db;
    struct cp_db_lease lease = {
        .server = server, .slot = slot, .may_retry = route->db != CP_DB_WRITE};
    struct cp_cache_entry *entry = run_handler(ctx, &lease);
    lease_release(&lease);
    if (lease.retry) { /* never for writes */
        lease = (struct cp_db_lease){.server = server, .slot = slot};
        entry = run_handler(ctx, &lease);
        lease_release(&lease);
    }
    if (!entry)
        return;
    if (ctx->cache_key && !ctx->success_status) {
        cp_cache_store(server->cache, ctx->cache_key, ctx->cache_key_len, &gen, entry);
        if (redis && !strcmp(entry->content_type, CONTENT_TYPE_JSON)) {
            fill->entry = cp_cache_entry_ref(entry);
            fill->key = cp_strndup(ctx->cache_key, ctx->cache_key_len);
            fill->key_len = ctx->cache_key_len;
            fill->generation = gen;
        }
    }
    respond_entry(ctx, entry, ctx->cache_key ? X_CACHE_MISS : NULL);
    cp_cache_entry_unref(entry);
}

/* Answers a read that waited for a worker longer than the queue's budget. */
static void answer_over_budget(struct request_ctx *ctx, struct work_queue *queue, double waited_ms)
{
    char detail[192];
    snprintf(detail, sizeof detail,
             "waited %.0f ms for a database worker, over the %d ms budget; retry "
             "after " RETRY_AFTER_SECONDS " s",
             waited_ms, queue->budget_ms);
    cp_metrics_queue_over_budget(queue->server->metrics);
    respond_problem(ctx, CP_ERR_BUSY, detail);
}

/* Whether the client closed its connection while its request waited (the peer's FIN reads
 * as end of file; pipelined bytes or nothing yet read as still there). */
static bool client_gone(struct request_ctx *ctx)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(ctx->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info)
        return false;
    char byte;
    ssize_t n = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
}

static void *worker_main(void *arg)
{
    struct work_queue *queue = arg;
    struct cp_server *server = queue->server;
    /* hiredis contexts are not thread-safe: each worker has its own */
    struct cp_cache_client *redis = cp_cache_client_new(server->cache);
    for (;;) {
        pthread_mutex_lock(&queue->lock);
        while (!queue->head && !queue->stopping)
            pthread_cond_wait(&queue->work, &queue->lock);
        struct request_ctx *ctx = queue->head;
        if (ctx) {
            queue->head = ctx->next;
            if (!queue->head)
                queue->tail = NULL;
            queue->length--;
            queue->busy++;
        }
        pthread_mutex_unlock(&queue->lock);
        if (!ctx)
            break; /* stopping and drained */

        cp_log_set_request_id(ctx->request_id);
        struct fill fill = {0};
        struct timespec started;
        clock_gettime(CLOCK_MONOTONIC, &started);
        double waited_ms = elapsed_ms(&ctx->enqueued);
        bool served = false;
        if (queue->budget_ms && waited_ms > queue->budget_ms) {
            answer_over_budget(ctx, queue, waited_ms);
        } else if (client_gone(ctx)) {
            /* nobody is waiting for this answer: do not spend the database on it */
            cp_metrics_client_gone(server->metrics);
            respond_problem(ctx, CP_ERR_BUSY,
                            "the client closed the connection before a "
                            "worker took the request");
        } else {
            serve_on_worker(ctx, redis, &fill);
            served = true;
        }
        cp_log_set_request_id(NULL);
        pthread_mutex_lock(&queue->lock);
        queue->busy--;
        if (served) /* a moving average over roughly the last 8 requests */
            queue->avg_service_ms = queue->avg_service_ms * 0.875 + elapsed_ms(&started) * 0.125;
        pthread_mutex_unlock(&queue->lock);
        /* ctx belongs to the HTTP thread again from here on */
        MHD_resume_connection(ctx->connection);
        if (fill.entry) {
            cp_cache_redis_set(redis, &fill.generation, fill.key, fill.key_len, fill.entry->body,
                               fill.entry->body_len);
            cp_cache_entry_unref(fill.entry);
            free(fill.key);
        }
    }
    cp_cache_client_free(redis);
    return NULL;
}

enum enqueue_outcome { ENQUEUED, QUEUE_STOPPING, QUEUE_FULL, QUEUE_OVER_BUDGET };

/* Suspends ctx's connection and queues it for a worker of queue, unless the server is
 * stopping or the queue is full (the caller answers instead). */
static enum enqueue_outcome enqueue(struct work_queue *queue, struct request_ctx *ctx)
{
    pthread_mutex_lock(&queue->lock);
    if (queue->stopping) {
        pthread_mutex_unlock(&queue->lock);
        return QUEUE_STOPPING;
    }
    if (queue->max_length && queue->length >= queue->max_length) {
        pthread_mutex_unlock(&queue->lock);
        return QUEUE_FULL;
    }
    if (queue->budget_ms && queue->worker_count > 0) {
        /* the requests ahead that no idle worker takes at once, served worker_count at a
         * time at the recent pace */
        int idle = queue->worker_count - queue->busy;
        int ahead = queue->length - (idle > 0 ? idle : 0);
        double predicted_ms =
            ahead < 0 ? 0 : (double)(ahead / queue->worker_count + 1) * queue->avg_service_ms;
        if (predicted_ms > queue->budget_ms) {
            pthread_mutex_unlock(&queue->lock);
            return QUEUE_OVER_BUDGET;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &ctx->enqueued);
    MHD_suspend_connection(ctx->connection);
    ctx->next = NULL;
    if (queue->tail)
        queue->tail->next = ctx;
    else
        queue->head = ctx;
    queue->tail = ctx;
    queue->length++;
    pthread_cond_signal(&queue->work);
    pthread_mutex_unlock(&queue->lock);
    return ENQUEUED;
}

static void queue_init(struct work_queue *queue, struct cp_server *server, const char *name,
                       int workers, int max_length, int budget_ms)
{
    queue->budget_ms = budget_ms;
    queue->server = server;
    queue->name = name;
    pthread_mutex_init(&queue->lock, NULL);
    pthread_cond_init(&queue->work, NULL);
    queue->max_length = max_length;
    queue->workers = cp_calloc((size_t)workers, sizeof *queue->workers);
}

/* Starts count workers on queue; false with err set when a thread cannot start. */
static bool queue_start(struct work_queue *queue, int count, char *err, size_t errlen)
{
    for (int i = 0; i < count; i++) {
        int rc = pthread_create(&queue->workers[i], NULL, worker_main, queue);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start database workers: %s", strerror(rc));
            return false;
        }
        queue->worker_count++;
    }
    return true;
}

/* How often the watchdog looks at the read queue and the connections handed out. */
#define WATCHDOG_PERIOD_MS 50

/* Answers the reads that have waited past the budget (a worker would only refuse them when it
 * got free, which a hung database delays) and ends database calls past their deadline. */
static void watchdog_tick(void *arg)
{
    struct cp_server *server = arg;
    struct work_queue *queue = &server->reads;
    cp_pool_watchdog(server->api_db.pool);
    cp_pool_watchdog(server->read_db.pool);
    cp_pool_watchdog(server->write_db.pool);
    if (!queue->budget_ms)
        return;
    struct request_ctx *expired = NULL, **tail = &expired;
    pthread_mutex_lock(&queue->lock);
    struct request_ctx **link = &queue->head, *prev = NULL;
    while (*link) {
        struct request_ctx *ctx = *link;
        if (elapsed_ms(&ctx->enqueued) > queue->budget_ms) {
            *link = ctx->next;
            if (queue->tail == ctx)
                queue->tail = prev;
            queue->length--;
            ctx->next = NULL;
            *tail = ctx;
            tail = &ctx->next;
        } else {
            prev = ctx;
            link = &ctx->next;
        }
    }
    pthread_mutex_unlock(&queue->lock);
    while (expired) {
        struct request_ctx *ctx = expired;
        expired = ctx->next;
        cp_log_set_request_id(ctx->request_id);
        answer_over_budget(ctx, queue, elapsed_ms(&ctx->enqueued));
        cp_log_set_request_id(NULL);
        MHD_resume_connection(ctx->connection);
    }
}

/* Stops and joins queue's workers after they drained it. */
static void queue_stop(struct work_queue *queue)
{
    pthread_mutex_lock(&queue->lock);
    queue->stopping = true;
    pthread_cond_broadcast(&queue->work);
    pthread_mutex_unlock(&queue->lock);
    for (int i = 0; i < queue->worker_count; i++)
        pthread_join(queue->workers[i], NULL);
    queue->worker_count = 0;
}

static void queue_free(struct work_queue *queue)
{
    pthread_mutex_destroy(&queue->lock);
    pthread_cond_destroy(&queue->work);
    free(queue->workers);
}

/* ---- the request lifecycle -------------------------------------------------------- */

static char *header_copy(struct MHD_Connection *connection, const char *name)
{
    return cp_strdup(MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name));
}

/* libmicrohttpd decodes the path before the access handler sees it, after which an
 * encoded '/' inside a segment (a track's open.spotify.com URL given as its id) can no
 * longer be told from a separator. The URI log callback runs first and sees the request
 * target as sent: the context is born here with that path, and the router splits it and
 * decodes each segment itself. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    (void)cls;
    (void)connection;
    struct request_ctx *ctx = cp_calloc(1, sizeof *ctx);
    size_t path_len = strcspn(uri, "?#");
    ctx->raw_path = cp_strndup(uri, path_len);
    if (uri[path_len] == '?')
        ctx->raw_query = cp_strndup(uri + path_len + 1, strcspn(uri + path_len + 1, "#"));
    return ctx;
}

/* How a request says where its body ends: its Content-Length and Transfer-Encoding headers. */
struct framing {
    unsigned content_lengths;
    unsigned transfer_encodings;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    (void)value;
    struct framing *framing = cls;
    if (key && !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        framing->content_lengths++;
    else if (key && !strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        framing->transfer_encodings++;
    return MHD_YES;
}

/* Completes the context on_uri began (or a new one). Everything a handler or a worker needs
 * is copied here, on the first call, so that nothing later reads the connection from
 * another thread. */
static struct request_ctx *ctx_new(struct cp_server *server, struct request_ctx *ctx,
                                   struct MHD_Connection *connection, const char *url,
                                   const char *method)
{
    if (!ctx)
        ctx = cp_calloc(1, sizeof *ctx);
    if (!ctx->raw_path)
        ctx->raw_path = cp_strdup(url);
    ctx->initialised = true;
    clock_gettime(CLOCK_MONOTONIC, &ctx->started);
    cp_metrics_request_begin(server->metrics);
    ctx->server = server;
    ctx->connection = connection;
    ctx->method = cp_method_parse(method);
    ctx->method_name = cp_strdup(method);
    ctx->path = cp_strdup(url);
    ctx->if_none_match = header_copy(connection, MHD_HTTP_HEADER_IF_NONE_MATCH);
    ctx->accept_encoding = header_copy(connection, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    ctx->accept = header_copy(connection, MHD_HTTP_HEADER_ACCEPT);
    ctx->authorization = header_copy(connection, MHD_HTTP_HEADER_AUTHORIZATION);
    ctx->content_type = header_copy(connection, MHD_HTTP_HEADER_CONTENT_TYPE);
    cp_buf_init(&ctx->body, server->opts.max_request_body_bytes);
    assign_request_id(server, ctx,
                      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-Request-Id"));
    struct framing framing = {0};
    MHD_get_connection_values(connection, MHD_HEADER_KIND, count_framing, &framing);
    /* libmicrohttpd 0.9.75 reads the body by the first Content-Length and ignores the others,
     * and prefers chunked to a Content-Length beside it: a proxy in front that reads it the
     * other way sees a different request boundary (request smuggling) */
    if (framing.content_lengths > 1)
        ctx->ambiguous_length = "more than one Content-Length header";
    else if (framing.content_lengths && framing.transfer_encodings)
        ctx->ambiguous_length = "both Content-Length and Transfer-Encoding";

    const char *length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(length, &end, 10);
        if (errno || *end || n > server->opts.max_request_body_bytes)
            ctx->body_too_large = true;
        ctx->has_body = n > 0 || errno || *end;
    }
    /* a request whose framing is refused is answered before its body too, and its
     * connection closed: what follows the head is not trusted to be a next request */
    if (framing.transfer_encodings || ctx->ambiguous_length)
        ctx->has_body = true;

    /* the head is complete: its deadline is off until the answer is done */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    ctx->guard_conn = info ? info->socket_context : NULL;
    cp_connguard_head_done(ctx->guard_conn);
    return ctx;
}

static void ctx_free(struct request_ctx *ctx)
{
    if (ctx->response)
        MHD_destroy_response(ctx->response);
    for (size_t i = 0; i < ctx->query_count; i++) {
        free(ctx->query[i].name);
        free(ctx->query[i].value);
    }
    cp_router_match_cleanup(&ctx->match);
    free(ctx->cache_key);
    free(ctx->method_name);
    free(ctx->raw_path);
    free(ctx->raw_query);
    free(ctx->path);
    free(ctx->if_none_match);
    free(ctx->accept_encoding);
    free(ctx->accept);
    free(ctx->authorization);
    free(ctx->content_type);
    cp_buf_free(&ctx->body);
    free(ctx);
}

static enum MHD_Result queue_built(struct request_ctx *ctx)
{
    enum MHD_Result result = MHD_queue_response(ctx->connection, ctx->http_status, ctx->response);
    MHD_destroy_response(ctx->response);
    ctx->response = NULL;
    ctx->responded = result == MHD_YES;
    return result;
}

/* Finds the request's route and reads its query string, once. True when that answered the
 * request (framing, 413, 404, 405, OPTIONS, a bad query string). */
static bool route_request(struct cp_server *server, struct request_ctx *ctx)
{
    if (ctx->ambiguous_length) {
        respond_problem(ctx, CP_ERR_INVALID, ctx->ambiguous_length);
        return true;
    }
    if (ctx->body_too_large) {
        char detail[96];
        snprintf(detail, sizeof detail, "the request body exceeds %zu bytes",
                 server->opts.max_request_body_bytes);
        respond_problem(ctx, CP_ERR_TOO_LARGE, detail);
        return true;
    }
    if (ctx->routed)
        return false;
    cp_status st = cp_router_match(ctx->raw_path, ctx->method, &ctx->match);
    if (st == CP_ERR_METHOD && ctx->method == CP_METHOD_OPTIONS) {
        respond_options(ctx);
        return true;
    }
    if (st == CP_ERR_NOT_FOUND) {
        respond_problem(ctx, st, "no resource at this path");
        return true;
    }
    if (st == CP_ERR_METHOD) {
        char allow[128], detail[192];
        cp_router_allow_header(ctx->match.allowed, allow, sizeof allow);
        snprintf(detail, sizeof detail, "%.16s is not allowed here; allowed: %s", ctx->method_name,
                 allow);
        respond_problem(ctx, st, detail);
        return true;
    }
    const struct cp_route *route = ctx->match.route;
    char *query_problem = NULL;
    if (cp_query_parse(ctx->raw_query, route->query, ctx->query, CP_REQUEST_MAX_QUERY,
                       &ctx->query_count, &query_problem) != CP_OK) {
        respond_problem(ctx, CP_ERR_INVALID, query_problem);
        free(query_problem);
        return true;
    }
    ctx->routed = true;
    return false;
}

/* A request that comes with a body is judged on its head before a byte of the body is read:
 * its route, method and query string, and for the admin write routes the token. Anything
 * refused here is answered at once and libmicrohttpd closes the connection after the answer
 * instead of reading the body, so bodies sent to paths that do not exist, or without the
 * token, cost neither memory nor time. True when answered. */
static bool judge_head(struct cp_server *server, struct request_ctx *ctx)
{
    if (route_request(server, ctx))
        return true;
    if (ctx->match.route->db != CP_DB_WRITE)
        return false;
    struct cp_request req = {
        .method = ctx->method,
        .path = ctx->path,
        .authorization = ctx->authorization,
        .config = &server->config,
    };
    struct cp_reply reply = {0};
    cp_status st = cp_request_authorize_admin(&req, &reply);
    if (st != CP_OK)
        respond_problem(ctx, st, reply.detail);
    cp_reply_cleanup(&reply);
    return st != CP_OK;
}

/* The client's address as rate-limiting sees it: an IPv4 address, or the /64 network of an
 * IPv6 one (one host usually has a whole /64 to pick addresses from). Returns its length in
 * out (0 when unknown). */
static size_t client_key(struct MHD_Connection *connection, unsigned char out[16])
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a, v4mapped, 12)) {
            memcpy(out, a + 12, 4);
            return 4;
        }
        memcpy(out, a, 8);
        return 8;
    }
    return 0;
}

/* Whether this client may start another database request now; answers 429 when not. */
static bool within_rate(struct cp_server *server, struct request_ctx *ctx)
{
    if (!server->ratelimit)
        return true;
    unsigned char key[16];
    size_t len = client_key(ctx->connection, key);
    if (!len)
        return true;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (cp_ratelimit_take(server->ratelimit, key, len, (double)now.tv_sec + now.tv_nsec / 1e9,
                          &ctx->retry_after_s))
        return true;
    cp_metrics_refused(server->metrics, CP_REFUSED_RATE_LIMIT, 1);
    char detail[160];
    snprintf(detail, sizeof detail,
             "more than %g database requests per second from this client (bursts up to %u); "
             "retry after %u s",
             server->config.rate_limit_per_s, server->config.rate_limit_burst, ctx->retry_after_s);
    respond_problem(ctx, CP_ERR_RATE_LIMITED, detail);
    return false;
}

/* Decides how to answer a fully received request: inline (cheap routes, local cache hits,
 * 404, 405, 413) or by a worker (database routes). Returns false when handed to a worker. */
static bool dispatch(struct cp_server *server, struct request_ctx *ctx)
{
    if (route_request(server, ctx))
        return true;
    const struct cp_route *route = ctx->match.route;
    if (route->cacheable && (ctx->method & (CP_METHOD_GET | CP_METHOD_HEAD))) {
        /* the fast path: an already-built answer, served on this thread without blocking.
         * The key is what the handler reads -- the route, its path parameters, its query
         * parameters -- never the decoded path, which two different requests can share. */
        ctx->cache_key = cp_cache_key(route, ctx->match.params, ctx->match.param_count, ctx->query,
                                      ctx->query_count, &ctx->cache_key_len);
        if (cp_csv_wanted_by_accept(ctx->query, ctx->query_count, ctx->accept)) {
            char *key = cp_asprintf("%s%s", ctx->cache_key, CACHE_KEY_CSV_SUFFIX);
            free(ctx->cache_key);
            ctx->cache_key = key;
            ctx->cache_key_len = strlen(key);
        }
        struct cp_cache_entry *entry =
            cp_cache_lookup(server->cache, ctx->cache_key, ctx->cache_key_len);
        if (entry) {
            respond_entry(ctx, entry, X_CACHE_HIT_LOCAL);
            cp_cache_entry_unref(entry);
            return true;
        }
    }
    if (route->db == CP_DB_NONE) {
        struct cp_cache_generation gen;
        cp_cache_current_generation(server->cache, &gen);
        struct cp_cache_entry *entry = run_handler(ctx, NULL);
        if (entry) {
            /* a cacheable answer built here (e.g. /docs and its megabytes of script) is kept
             * with its gzip variant, so it is compressed once, not per request */
            if (ctx->cache_key && !ctx->success_status)
                cp_cache_store(server->cache, ctx->cache_key, ctx->cache_key_len, &gen, entry);
            respond_entry(ctx, entry, ctx->cache_key ? X_CACHE_MISS : NULL);
            cp_cache_entry_unref(entry);
        }
        return true;
    }
    if (!within_rate(server, ctx))
        return true;
    struct work_queue *queue = route->db == CP_DB_WRITE ? &server->writes : &server->reads;
    enum enqueue_outcome queued = enqueue(queue, ctx);
    if (queued == ENQUEUED)
        return false;
    if (queued == QUEUE_OVER_BUDGET) {
        char detail[192];
        snprintf(detail, sizeof detail,
                 "the %s queue would make this request wait longer than its %d ms budget; "
                 "retry after " RETRY_AFTER_SECONDS " s",
                 queue->name, queue->budget_ms);
        cp_metrics_queue_over_budget(server->metrics);
        respond_problem(ctx, CP_ERR_BUSY, detail);
        return true;
    }
    if (queued == QUEUE_FULL) {
        /* refused at once, holding nothing: better than a wait that ends in a timeout */
        char detail[192];
        snprintf(
            detail, sizeof detail,
            "the %s queue is full (%d in progress, %d waiting); retry after " RETRY_AFTER_SECONDS
            " s",
            queue->name, queue->worker_count, queue->max_length);
        cp_log_warn("%s queue full: refused %s %s", queue->name, ctx->method_name, ctx->path);
        respond_problem(ctx, CP_ERR_BUSY, detail);
        return true;
    }
    respond_problem(ctx, CP_ERR_DB, "the server is shutting down");
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct cp_server *server = cls;
    struct request_ctx *ctx = *req_cls;
    if (!ctx || !ctx->initialised) {
        /* First call: only set up. Queuing a response now would make libmicrohttpd close
         * the connection after it (NOTES-performance.md) -- which is exactly what we want
         * for a body we refuse to read. */
        ctx = ctx_new(server, ctx, connection, url, method);
        *req_cls = ctx;
        if (ctx->has_body) {
            cp_log_set_request_id(ctx->request_id);
            bool refused = judge_head(server, ctx);
            cp_log_set_request_id(NULL);
            if (refused)
                return queue_built(ctx);
        }
        return MHD_YES;
    }
    if (ctx->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* a POST's body is kept for its handler; others are counted against the cap and
         * dropped */
        ctx->body_bytes += *upload_data_size;
        if (ctx->body_bytes > server->opts.max_request_body_bytes)
            ctx->body_too_large = true;
        else if (ctx->method == CP_METHOD_POST &&
                 cp_buf_add(&ctx->body, upload_data, *upload_data_size) != CP_OK)
            ctx->body_too_large = true;
        *upload_data_size = 0;
        if (ctx->body_too_large) {
            /* A chunked body has no length to judge up front. libmicrohttpd 0.9.75 takes no
             * answer before a body's end, so the choice is reading all of it (however large)
             * or closing the connection now, the rest unread: closing it. A body announced
             * with a Content-Length over the cap gets its 413 before any of it is read. */
            cp_metrics_refused(server->metrics, CP_REFUSED_BODY_TOO_LARGE, 1);
            cp_log_set_request_id(ctx->request_id);
            cp_log_warn("request body over %zu bytes: connection closed without reading the rest",
                        server->opts.max_request_body_bytes);
            cp_log_set_request_id(NULL);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (ctx->response) /* resumed: a worker built it */
        return queue_built(ctx);
    cp_log_set_request_id(ctx->request_id);
    bool answered = dispatch(server, ctx);
    cp_log_set_request_id(NULL);
    return answered ? queue_built(ctx) : MHD_YES;
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read-error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client-abort";
    }
    return "unknown";
}

/* The access log line, and the end of the request context. */

/* The access log line, the request's metrics, and the end of the request context. */
static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct cp_server *server = cls;
    (void)connection;
    struct request_ctx *ctx = *req_cls;
    if (!ctx)
        return;
    *req_cls = NULL;
    if (!ctx->initialised) { /* the request ended before its access handler ran */
        ctx_free(ctx);
        return;
    }
    cp_connguard_answered(ctx->guard_conn); /* the next request's head clock starts */
    double duration_ms = elapsed_ms(&ctx->started);
    if (ctx->responded)
        cp_metrics_observe_request(server->metrics, ctx->match.route, ctx->http_status,
                                   duration_ms / 1e3);
    cp_metrics_request_end(server->metrics);
    char status[8], bytes[24], duration[24];
    snprintf(status, sizeof status, "%u", ctx->responded ? ctx->http_status : 0u);
    snprintf(bytes, sizeof bytes, "%zu", ctx->responded ? ctx->response_bytes : (size_t)0);
    snprintf(duration, sizeof duration, "%.3f", duration_ms);
    const char *terminated = termination_name(toe);
    const char *fields[] = {"method",
                            ctx->method_name,
                            "path",
                            ctx->path,
                            "status",
                            status,
                            "bytes",
                            bytes,
                            "duration_ms",
                            duration,
                            terminated ? "terminated" : NULL,
                            terminated,
                            NULL};
    cp_log_set_request_id(ctx->request_id);
    cp_log_fields(CP_LOG_INFO, fields, "request");
    cp_log_set_request_id(NULL);
    ctx_free(ctx);
}

/* Each connection's head deadline, from its start to its end (connguard.h). */
static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct cp_server *server = cls;
    if (!server->guard)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info ? cp_connguard_open(server->guard, info->connect_fd) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        cp_connguard_close(server->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* Slow clients shut out are logged once per sweep, not once each. */
static void on_heads_expired(void *cls, unsigned count)
{
    struct cp_server *server = cls;
    cp_metrics_refused(server->metrics, CP_REFUSED_HEAD_TIMEOUT, count);
    cp_log_warn("closed %u connection%s that sent no complete request head within %u s", count,
                count == 1 ? "" : "s", server->config.header_timeout_s);
}

/* libmicrohttpd writes a line per refused or broken connection: a flood of connections
 * would be a flood of log lines. At most MHD_LOG_BURST lines a second get through; the
 * first line of a later second says how many were left out. */
#define MHD_LOG_BURST 5
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct cp_server *server = cls;
    time_t now = time(NULL);
    unsigned long suppressed = 0;
    bool show;
    pthread_mutex_lock(&server->mhd_log_lock);
    if (now != server->mhd_log_second) {
        suppressed = server->mhd_log_suppressed;
        server->mhd_log_second = now;
        server->mhd_log_lines = 0;
        server->mhd_log_suppressed = 0;
    }
    show = server->mhd_log_lines < MHD_LOG_BURST;
    if (show)
        server->mhd_log_lines++;
    else
        server->mhd_log_suppressed++;
    pthread_mutex_unlock(&server->mhd_log_lock);
    if (suppressed)
        cp_log_warn("libmicrohttpd: %lu more messages in the last second were not logged",
                    suppressed);
    if (!show)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    cp_log_warn("libmicrohttpd: %s", line);
}

/* ---- start and stop --------------------------------------------------------------- */

void cp_server_opts_init(struct cp_server_opts *opts)
{
    opts->http_threads = 2;
    opts->db_workers = 4;
    opts->db_pool_size = 0; /* = db_workers */
    opts->write_workers = 2;
    opts->write_queue_max = 8;
    opts->db_acquire_timeout_ms = 2000;
    opts->db_connect_timeout_s = 3;
    opts->queue_budget_ms = 1000;
    opts->db_deadline_ms = 5000;
    opts->connection_timeout_s = 30;
    opts->connection_limit = 1000;
    opts->max_request_header_bytes = 32 * 1024;
    opts->max_request_body_bytes = 1024 * 1024;
    opts->gzip_min_bytes = 1024;
    opts->cache_bytes = 64u << 20;
    opts->cache_ttl_s = 600;
    opts->cache_local_ttl_s = 60;
    opts->cache_refresh_ms = 1000;
    opts->redis_timeout_ms = 200;
}

static void resolve_opts(const struct cp_server_opts *given, struct cp_server_opts *opts)
{
    cp_server_opts_init(opts);
    if (given) {
#define TAKE(field)                                                                                \
    do {                                                                                           \
        if (given->field > 0)                                                                      \
            opts->field = given->field;                                                            \
    } while (0)
        TAKE(http_threads);
        TAKE(db_workers);
        TAKE(db_pool_size);
        TAKE(write_workers);
        TAKE(write_queue_max);
        TAKE(db_acquire_timeout_ms);
        TAKE(db_connect_timeout_s);
        TAKE(queue_budget_ms);
        TAKE(db_deadline_ms);
        TAKE(connection_timeout_s);
        TAKE(connection_limit);
        TAKE(max_request_header_bytes);
        TAKE(max_request_body_bytes);
        TAKE(gzip_min_bytes);
        TAKE(cache_bytes);
        TAKE(cache_ttl_s);
        TAKE(cache_local_ttl_s);
        TAKE(cache_refresh_ms);
        TAKE(redis_timeout_ms);
#undef TAKE
    }
    if (opts->db_pool_size <= 0)
        opts->db_pool_size = opts->db_workers;
}

/* Binds and listens ourselves (rather than letting libmicrohttpd do it) so that a failure
 * says why, e.g. "Address already in use". Returns the socket or -1 with err set. */
static int open_listener(const char *host, int port, int *family, int *bound_port, char *err,
                         size_t errlen)
{
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo *addrs = NULL;
    int rc = getaddrinfo(host && *host ? host : NULL, service, &hints, &addrs);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = addrs; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0) {
            *family = ai->ai_family;
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(addrs);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(saved));
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t addrlen = sizeof addr;
    *bound_port = port;
    if (getsockname(fd, (struct sockaddr *)&addr, &addrlen) == 0) {
        if (addr.ss_family == AF_INET)
            *bound_port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        else if (addr.ss_family == AF_INET6)
            *bound_port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    }
    return fd;
}

/* The URL with a connect_timeout, so that an unreachable database costs a bounded wait
 * instead of the kernel's TCP timeout, and with TCP keepalives and a user timeout, so that
 * a vanished peer (a host gone, not a stopped server, which the deadline covers) is noticed. */
static char *with_connect_timeout(const char *url, int seconds)
{
    static const char *const tcp[] = {"keepalives=1", "keepalives_idle=10", "keepalives_interval=5",
                                      "keepalives_count=3", "tcp_user_timeout=20000"};
    char *out =
        strstr(url, "connect_timeout=")
            ? cp_strdup(url)
            : cp_asprintf("%s%cconnect_timeout=%d", url, strchr(url, '?') ? '&' : '?', seconds);
    for (size_t i = 0; i < sizeof tcp / sizeof tcp[0]; i++) {
        size_t key = strcspn(tcp[i], "=") + 1;
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)key, tcp[i]);
        if (strstr(out, name))
            continue;
        char *longer = cp_asprintf("%s&%s", out, tcp[i]);
        free(out);
        out = longer;
    }
    return out;
}

static struct cp_pool *pool_for(const char *url, const struct cp_server_opts *opts)
{
    char *conninfo = with_connect_timeout(url, opts->db_connect_timeout_s);
    struct cp_pool *pool = cp_pool_new(conninfo, opts->db_pool_size, opts->db_acquire_timeout_ms);
    cp_pool_set_deadline(pool, opts->db_deadline_ms);
    free(conninfo);
    return pool;
}

/* Stops and joins the workers after they drained their queues. */
static void stop_workers(struct cp_server *server)
{
    queue_stop(&server->reads);
    queue_stop(&server->writes);
    /* last: a worker stuck on a hung database is freed by it */
    cp_ticker_stop(server->watchdog);
    server->watchdog = NULL;
}

static void server_free(struct cp_server *server)
{
    cp_connguard_free(server->guard); /* after the daemon: no connection reports any more */
    cp_ratelimit_free(server->ratelimit);
    free(server->tls_cert);
    free(server->tls_key);
    pthread_mutex_destroy(&server->mhd_log_lock);
    cp_pool_free(server->api_db.pool);
    cp_pool_free(server->read_db.pool);
    cp_pool_free(server->write_db.pool);
    cp_config_cleanup(&server->config);
    /* after the daemon: responses in flight may still hold cache entries until then */
    cp_cache_free(server->cache);
    cp_metrics_free(server->metrics);
    queue_free(&server->reads);
    queue_free(&server->writes);
    free(server);
}

static unsigned poll_flag(void)
{
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        return MHD_USE_EPOLL;
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
        return MHD_USE_POLL;
    return 0; /* select() */
}

static void db_slot_init(struct db_slot *slot, const char *url, enum cp_db_pool_kind kind,
                         const struct cp_server_opts *opts)
{
    slot->pool = pool_for(url, opts);
    slot->kind = kind;
    slot->size = opts->db_pool_size;
    slot->acquire_timeout_ms = opts->db_acquire_timeout_ms;
    atomic_init(&slot->in_use, 0);
}

/* The owner's pool: one connection per write worker (only the admin write routes use it),
 * so a write worker never waits for one. */
static void write_slot_init(struct db_slot *slot, const char *url,
                            const struct cp_server_opts *opts)
{
    struct cp_server_opts small = *opts;
    small.db_pool_size = opts->write_workers;
    slot->pool = pool_for(url, &small);
    slot->kind = CP_DB_POOL_PRIMARY; /* counted with the primary in metrics */
    slot->size = opts->write_workers;
    slot->acquire_timeout_ms = opts->db_acquire_timeout_ms;
    atomic_init(&slot->in_use, 0);
}

/* The whole of a PEM file, NUL-terminated (libmicrohttpd takes certificates as text); NULL
 * with err set when it cannot be read. */
static char *read_pem(const char *setting, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct cp_buf buf;
    cp_buf_init(&buf, 1u << 20);
    char chunk[4096];
    size_t n;
    bool fine = f != NULL;
    while (fine && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fine = cp_buf_add(&buf, chunk, n) == CP_OK;
    if (f && ferror(f))
        fine = false;
    int saved = errno;
    if (f)
        fclose(f);
    if (!fine || !buf.len || cp_buf_add(&buf, "", 1) != CP_OK) {
        snprintf(err, errlen, "%s: cannot read %s: %s", setting, path,
                 !f        ? strerror(saved)
                 : buf.len ? "larger than 1 MiB"
                           : "empty file");
        cp_buf_free(&buf);
        return NULL;
    }
    return buf.data; /* owned by the caller now */
}

/* A deep copy of cfg for handlers (cp_request.config): the caller's may go away. */
cp_status cp_server_start(const struct cp_config *cfg, const struct cp_server_opts *given,
                          struct cp_server **out, char *err, size_t errlen)
{
    struct cp_server_opts opts;
    resolve_opts(given, &opts);

    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, NULL);

    int family = AF_INET, port = 0;
    int fd = open_listener(cfg->listen_host, cfg->listen_port, &family, &port, err, errlen);
    if (fd < 0)
        return CP_ERR_IO;

    struct cp_server *server = cp_calloc(1, sizeof *server);
    pthread_mutex_init(&server->mhd_log_lock, NULL);
    server->opts = opts;
    server->port = port;
    queue_init(&server->reads, server, "database", opts.db_workers, 0, opts.queue_budget_ms);
    queue_init(&server->writes, server, "upload and pipeline-start", opts.write_workers,
               opts.write_queue_max, 0);
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    server->request_id_seed = seed;
    atomic_init(&server->request_id_counter, 0);
    server->metrics = cp_metrics_new();
    struct cp_cache_opts cache_opts = {
        .redis_url = cfg->redis_url,
        .max_bytes = opts.cache_bytes,
        .ttl_s = opts.cache_ttl_s,
        .local_ttl_s = opts.cache_local_ttl_s,
        .refresh_ms = opts.cache_refresh_ms,
        .redis_timeout_ms = opts.redis_timeout_ms,
    };
    cp_status st = cp_cache_new(&cache_opts, server->metrics, &server->cache, err, errlen);
    if (st != CP_OK) {
        close(fd);
        server_free(server);
        return st;
    }
    db_slot_init(&server->api_db, cfg->api_database_url, CP_DB_POOL_PRIMARY, &opts);
    if (cfg->database_read_url)
        db_slot_init(&server->read_db, cfg->database_read_url, CP_DB_POOL_READ, &opts);
    if (cfg->database_url)
        write_slot_init(&server->write_db, cfg->database_url, &opts);
    else
        db_slot_init(&server->write_db, cfg->api_database_url, CP_DB_POOL_PRIMARY, &opts);
    cp_config_copy(&server->config, cfg);

    if (cfg->rate_limit_per_s > 0)
        server->ratelimit = cp_ratelimit_new(cfg->rate_limit_per_s, cfg->rate_limit_burst);
    /* TLS when a certificate is configured: libmicrohttpd's GnuTLS support */
    struct MHD_OptionItem tls_options[3] = {{MHD_OPTION_END, 0, NULL}};
    if (cfg->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen,
                     "CHARTPULSE_TLS_CERT: this libmicrohttpd was built without TLS support");
            close(fd);
            server_free(server);
            return CP_ERR_INVALID;
        }
        server->tls_cert = read_pem("CHARTPULSE_TLS_CERT", cfg->tls_cert, err, errlen);
        server->tls_key =
            server->tls_cert ? read_pem("CHARTPULSE_TLS_KEY", cfg->tls_key, err, errlen) : NULL;
        if (!server->tls_key) {
            close(fd);
            server_free(server);
            return CP_ERR_INVALID;
        }
        tls_options[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, server->tls_cert};
        tls_options[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, server->tls_key};
    }
    server->guard = cp_connguard_new(cfg->header_timeout_s ? cfg->header_timeout_s : 10,
                                     on_heads_expired, server, err, errlen);
    if (server->guard)
        server->watchdog = cp_ticker_start(WATCHDOG_PERIOD_MS, watchdog_tick, server, err, errlen);
    if (!server->watchdog || !server->guard ||
        !queue_start(&server->reads, opts.db_workers, err, errlen) ||
        !queue_start(&server->writes, opts.write_workers, err, errlen)) {
        close(fd);
        stop_workers(server);
        server_free(server);
        return CP_ERR_INTERNAL;
    }

    /* STRICT_FOR_CLIENT 1: an HTTP/1.1 request without Host, or with a space in its target,
     * is refused (400) instead of guessed at. The 400/413/414/431 pages libmicrohttpd writes
     * itself are fixed HTML in 0.9.75 (no option or callback replaces them): docs/security.md. */
    /* MHD_USE_ITC: cp_server_stop quiesces the daemon (stops accepting) while it runs */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | poll_flag() | (family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                     (cfg->tls_cert ? MHD_USE_TLS : 0);
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)opts.http_threads, MHD_OPTION_CONNECTION_TIMEOUT, opts.connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, opts.connection_limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        opts.max_request_header_bytes, MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, server, MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->connections_per_ip, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, server, MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
    if (!server->daemon) {
        snprintf(err, errlen, "cannot start the HTTP server on %s:%d (see the log above)",
                 cfg->listen_host, port);
        close(fd); /* libmicrohttpd leaves a socket it was given open when it fails */
        stop_workers(server);
        server_free(server);
        return CP_ERR_INTERNAL;
    }
    cp_pipeline_run_request_stop_reset();
    if (cp_scheduler_start(cfg, err, errlen) != CP_OK) {
        cp_server_stop(server);
        return CP_ERR_INTERNAL;
    }
    *out = server;
    return CP_OK;
}

int cp_server_port(const struct cp_server *server)
{
    return server->port;
}

void cp_server_stop(struct cp_server *server)
{
    if (!server)
        return;
    /* No new slot starts, and a step waiting for a retry gives up (the run ends failed, to
     * be resumed) instead of keeping the server up for its backoff. */
    cp_scheduler_stop();
    cp_pipeline_run_request_stop();
    /* Stop accepting, then let the requests in flight finish before anything is torn down
     * (SIGTERM loses no request that was accepted). */
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);
    for (int waited = 0; waited < 300 && cp_metrics_in_flight(server->metrics) > 0; waited++)
        usleep(100 * 1000);
    /* Workers first: they answer and resume every suspended connection, and from now on
     * the HTTP threads answer database routes with 503 instead of suspending, so
     * libmicrohttpd never stops with a connection suspended. */
    stop_workers(server);
    MHD_stop_daemon(server->daemon);
    if (listener != MHD_INVALID_SOCKET) /* quiesced: the daemon no longer owns it */
        close(listener);
    cp_pipeline_run_join_background(); /* a run POST /v1/pipeline/runs started */
    server_free(server);
}

/* ---- chartpulse serve ------------------------------------------------------------- */

static const char SERVE_USAGE[] =
    "Usage: chartpulse serve [--listen HOST:PORT]\n"
    "\n"
    "Serves the REST API (/v1/...), /healthz, /readyz, /metrics, the API reference\n"
    "(/docs) and the dashboard (/) until SIGINT or SIGTERM.\n"
    "\n"
    "  --listen HOST:PORT  where to listen (overrides CHARTPULSE_LISTEN, default\n"
    "                      127.0.0.1:8080; port 0 picks a free port)\n"
    "  --help              show this help\n"
    "\n"
    "Settings: API_DATABASE_URL (read-only role, derived from DATABASE_URL),\n"
    "DATABASE_READ_URL (optional replica), REDIS_URL (shared response cache; empty\n"
    "disables it), CHARTPULSE_LOG_FORMAT; see docs.\n";

int cp_server_main(int argc, char **argv)
{
    const char *listen_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(SERVE_USAGE, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--listen")) {
            if (i + 1 >= argc)
                return cp_cli_fail("serve", "--listen needs HOST:PORT");
            listen_arg = argv[++i];
        } else if (!strncmp(argv[i], "--listen=", 9)) {
            listen_arg = argv[i] + 9;
        } else {
            return cp_cli_fail("serve", "unknown argument '%s' (try --help)", argv[i]);
        }
    }

    struct cp_config cfg;
    if (!cp_cli_setup("serve", &cfg))
        return 1;
    char err[512];
    if (listen_arg &&
        cp_config_set(&cfg, "CHARTPULSE_LISTEN", listen_arg, err, sizeof err) != CP_OK) {
        cp_config_cleanup(&cfg);
        return cp_cli_fail("serve", "--listen: %s", err);
    }

    /* Block the stop signals (and SIGHUP) before any thread starts, so every thread
     * inherits the mask and only sigwait below receives them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    struct cp_server *server = NULL;
    if (cp_server_start(&cfg, NULL, &server, err, sizeof err) != CP_OK) {
        cp_config_cleanup(&cfg);
        return cp_cli_fail("serve", "%s", err);
    }
    struct cp_guard *guard = cp_guard_start(cfg.database_url);
    bool ipv6_literal = strchr(cfg.listen_host, ':') != NULL;
    cp_log_info("listening on %s://%s%s%s:%d/", cfg.tls_cert ? "https" : "http",
                ipv6_literal ? "[" : "", cfg.listen_host, ipv6_literal ? "]" : "",
                cp_server_port(server));

    int signal_number = 0;
    while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP)
        cp_log_reopen();
    cp_log_info("received %s, stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    cp_guard_stop(guard);
    cp_server_stop(server);
    cp_config_cleanup(&cfg);
    cp_log_info("stopped");
    return 0;
}
