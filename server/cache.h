/* The response cache, in two levels. Level 1 lives in the process: a byte-bounded LRU of
 * finished responses (body, ETag, gzip body and its ETag, content type, cache control),
 * sharded under short mutexes, so an HTTP thread can answer a hit without blocking on I/O
 * and without building JSON. Level 2 is Redis (REDIS_URL), shared by every server: it keeps
 * the JSON body under `chartpulse:v1:<generation>:<cp_cache_key>` with a TTL.
 *
 * The cache generation (core/generation.h) invalidates everything at once; a background
 * thread reads it every refresh interval (~1 s), so HTTP threads only read atomics. Without Redis
 * (REDIS_URL empty), or while Redis cannot be reached, the generation is process-local and
 * level-1 entries live only a short TTL. Redis failures never fail a request: the level is
 * skipped, counted in metrics, and each connection is thrown away and reopened with backoff.
 *
 * Ownership: the cache owns its entries; a caller that gets an entry gets its own reference
 * (cp_cache_entry_unref). A cp_cache_client (one Redis connection) belongs to one thread. */
#ifndef CP_CACHE_H
#define CP_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "server/metrics.h"
#include "server/router.h"

/* Prefix of every cached body's Redis key. */
#define CP_CACHE_KEY_PREFIX "chartpulse:v1:"
/* Quoted strong ETag: 32 hex digits, optional "-gzip", quotes, NUL. */
#define CP_CACHE_ETAG_SIZE 48

/* The generation a cached response belongs to; an entry is served only while the cache's
 * current generation equals the one it was filled under. */
struct cp_cache_generation {
    uint64_t shared; /* the Redis counter (0 when Redis is disabled or never answered) */
    uint64_t local;  /* bumped in-process by cp_generation_bump */
    bool fresh;      /* shared was read from Redis at the last refresh, after the last local
                      * bump: only then is Redis used */
};

/* One response as served: immutable once built, shared by reference count between the cache
 * and responses in flight. The strings it points at are owned by the entry, except
 * content_type and cache_control, which are static. */
struct cp_cache_entry {
    const struct cp_route *route; /* the route that produced it (metrics, Cache-Control) */
    char *body;                   /* the identity body */
    size_t body_len;
    char etag[CP_CACHE_ETAG_SIZE];
    char *gzip_body; /* NULL when not built (small bodies, or not asked for) */
    size_t gzip_len;
    char gzip_etag[CP_CACHE_ETAG_SIZE]; /* the gzip variant's tag, set even when not built */
    const char *content_type;
    const char *cache_control;

    /* private to cache.c */
    atomic_uint refs;
    char *key;
    size_t key_len;
    uint64_t hash;
    struct cp_cache_generation generation;
    int64_t created_ms;
    size_t charge; /* bytes counted against the budget */
    struct cp_cache_entry *lru_prev, *lru_next, *chain_next;
};

/* Builds a response entry; steals body (mem.h-allocated, body_len bytes). The ETag is the
 * first 128 bits of the body's SHA-256 in hex; the gzip variant (built when with_gzip and
 * body_len >= gzip_min_bytes) gets the same digits plus "-gzip", since strong validators
 * differ per content coding. content_type and cache_control must be static. Returns a new
 * entry holding one reference. */
struct cp_cache_entry *cp_cache_entry_new(const struct cp_route *route, char *body, size_t body_len,
                                          const char *content_type, const char *cache_control,
                                          bool with_gzip, size_t gzip_min_bytes);
/* Takes another reference to entry and returns it. */
struct cp_cache_entry *cp_cache_entry_ref(struct cp_cache_entry *entry);
/* Drops one reference; the last one frees the entry. NULL is ignored. */
void cp_cache_entry_unref(struct cp_cache_entry *entry);

/* The cache key of a GET or HEAD request, built from what its handler reads and never from
 * the decoded path (`/v1/tracks/a%2Fhistory` and `/v1/tracks/a/history` decode alike but
 * are different routes): "GET <route pattern>", then " name=value&..." for the path
 * parameters in pattern order, then "?name=value&..." for the query parameters sorted by
 * name (the route accepted each once, server/query.h). Names and values are percent-encoded
 * except unreserved characters, so `?b=2&a=1` and `?a=1&b=2` share an entry and no value can
 * forge a separator. Returns a new string; *len (may be NULL) receives its length. */
char *cp_cache_key(const struct cp_route *route, const struct cp_param *params, size_t param_count,
                   const struct cp_param *query, size_t query_count, size_t *len);

/* Tunables of a cache. A field left 0 takes the default shown. */
struct cp_cache_opts {
    const char *redis_url;  /* NULL or "" disables level 2 (copied) */
    size_t max_bytes;       /* level-1 budget: 64 MiB */
    int ttl_s;              /* Redis TTL, and level-1 life while the generation is shared: 600 */
    int local_ttl_s;        /* level-1 life while the generation is process-local: 60 */
    int refresh_ms;         /* how often the generation is read from Redis: 1000 */
    int redis_timeout_ms;   /* connect and command timeout of every Redis call: 200 */
    size_t max_entry_bytes; /* larger bodies are not cached: 8 MiB */
};

struct cp_cache;

/* Starts a cache. With a Redis URL it reads the generation once (bounded by the Redis
 * timeout; a failure only means Redis starts out unavailable) and starts the refresh
 * thread. metrics may be NULL. Returns CP_ERR_INVALID with a message in err when the Redis
 * URL cannot be parsed; otherwise CP_OK with *out owning the cache (cp_cache_free). */
cp_status cp_cache_new(const struct cp_cache_opts *opts, struct cp_metrics *metrics,
                       struct cp_cache **out, char *err, size_t errlen);
/* Stops the refresh thread and frees every entry no response still holds. NULL is ignored. */
void cp_cache_free(struct cp_cache *cache);

/* The generation now in effect (atomic reads only; never blocks on I/O). */
void cp_cache_current_generation(const struct cp_cache *cache, struct cp_cache_generation *out);

/* Level 1. A new reference to the entry under key when it is current (same generation,
 * within its TTL), else NULL (a stale entry is dropped). Counts a local hit or miss. Takes
 * only a shard mutex: safe on an HTTP thread. */
struct cp_cache_entry *cp_cache_lookup(struct cp_cache *cache, const char *key, size_t key_len);
/* Stores entry (the cache takes its own reference) under key for generation gen, replacing
 * any older entry; evicts least recently used entries to stay within the budget. An entry
 * whose generation is already outdated, or larger than max_entry_bytes, is not stored. */
void cp_cache_store(struct cp_cache *cache, const char *key, size_t key_len,
                    const struct cp_cache_generation *gen, struct cp_cache_entry *entry);

/* Level 2: a Redis connection for one thread; it connects on first use. NULL when the cache
 * has no Redis URL. */
struct cp_cache_client;
struct cp_cache_client *cp_cache_client_new(struct cp_cache *cache);
void cp_cache_client_free(struct cp_cache_client *client);
/* The body cached in Redis for key under gen, as a new string (*len bytes, NUL-terminated;
 * caller frees), or NULL on a miss, when Redis is unavailable or disabled (client NULL), or
 * when gen was not read from Redis. Counts a Redis hit, miss, error or skip. Blocks for at
 * most the Redis timeout: call it from a worker, never from an HTTP thread. */
char *cp_cache_redis_get(struct cp_cache_client *client, const struct cp_cache_generation *gen,
                         const char *key, size_t key_len, size_t *len);
/* Stores body in Redis under key for gen with the cache's TTL. Failures are counted and
 * otherwise ignored. Same blocking rule as cp_cache_redis_get. */
void cp_cache_redis_set(struct cp_cache_client *client, const struct cp_cache_generation *gen,
                        const char *key, size_t key_len, const char *body, size_t len);

#endif
