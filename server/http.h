/* The REST server: libmicrohttpd glue (request context, dispatch through the route table,
 * the response cache (cache.h) on the fast path, a worker pool for database routes,
 * responses with problem+json, ETag, gzip, CORS, X-Cache and request ids, metrics) and the
 * `chartpulse serve` subcommand. */
#ifndef CP_HTTP_H
#define CP_HTTP_H

#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

struct cp_server;

/* Tunables of one server. A field left 0 takes the default shown. */
struct cp_server_opts {
    int http_threads;    /* libmicrohttpd polling threads (epoll each): 2 */
    int db_workers;      /* threads that run database routes: 4 */
    int db_pool_size;    /* connections per database URL: db_workers */
    int write_workers;   /* threads (and owner connections) for the admin write routes: 2 */
    int write_queue_max; /* admin writes waiting beyond those; more get 503 + Retry-After: 8 */
    int db_acquire_timeout_ms; /* wait for a free pooled connection: 2000 */
    int db_connect_timeout_s;  /* connect_timeout added to URLs that lack one: 3 */
    int queue_budget_ms; /* a read that would wait (or waited) longer for a worker gets 503: 1000 */
    int db_deadline_ms;  /* a connection held longer has its socket shut (hung server): 5000 */
    unsigned connection_timeout_s; /* idle keep-alive connections are closed after: 30 */
    unsigned connection_limit;     /* concurrent connections: 1000 */
    size_t
        max_request_header_bytes; /* request line + headers (MHD's per-connection memory): 32 KiB */
    size_t max_request_body_bytes; /* request bodies beyond this get 413: 1 MiB */
    size_t gzip_min_bytes;         /* bodies at least this long are gzipped when accepted: 1024 */
    size_t cache_bytes;            /* in-process response cache budget: 64 MiB */
    int cache_ttl_s;       /* Redis TTL; in-process life while Redis shares the generation: 600 */
    int cache_local_ttl_s; /* in-process life without a shared generation (no Redis): 60 */
    int cache_refresh_ms;  /* how often the cache generation is read from Redis: 1000 */
    int redis_timeout_ms;  /* connect and command timeout of each Redis call: 200 */
};

/* Fills opts with the defaults above. */
void cp_server_opts_init(struct cp_server_opts *opts);

/* Starts serving on cfg->listen_host:cfg->listen_port (port 0 picks a free port; see
 * cp_server_port). Database routes use cfg->api_database_url, or cfg->database_read_url
 * when set for routes that only read; connections open lazily, so the server starts (and
 * /healthz answers) while the database is down. Cacheable routes are cached in-process and
 * in cfg->redis_url when set; start-up waits at most opts->redis_timeout_ms for Redis, and
 * the server runs without it when it is down. opts may be NULL for the defaults. cfg is
 * not kept: the server copies what it needs. On success *out owns the server (release with
 * cp_server_stop); on failure returns CP_ERR_IO (cannot listen), CP_ERR_INVALID (REDIS_URL) or
 * CP_ERR_INTERNAL with one line in err, e.g. "cannot listen on 127.0.0.1:8080: Address already in
 * use". Ignores SIGPIPE for the process. */
cp_status cp_server_start(const struct cp_config *cfg, const struct cp_server_opts *opts,
                          struct cp_server **out, char *err, size_t errlen);

/* The port actually listened on. */
int cp_server_port(const struct cp_server *server);

/* Stops accepting work, lets the workers finish the requests they hold, stops the HTTP
 * threads, closes the database connections and frees server. NULL is ignored. */
void cp_server_stop(struct cp_server *server);

/* `chartpulse serve [--listen HOST:PORT] [--help]`. argv[0] is the subcommand name
 * ("serve"); main.c calls cp_server_main(argc - 1, argv + 1). Runs until SIGINT or
 * SIGTERM and returns the process exit status. */
int cp_server_main(int argc, char **argv);

#endif
