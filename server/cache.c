/* The two-level response cache: a sharded, byte-bounded in-process LRU and Redis. */
#include "server/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/generation.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/redis.h"

/* A key is the path and query of a request, which libmicrohttpd bounds far below this. */
#define CACHE_KEY_MAX (1u << 20)

/* Level 1 is split into this many independently locked LRUs (a power of two), so HTTP
 * threads and workers rarely wait for each other. */
#define N_SHARDS        16
#define INITIAL_BUCKETS 64
/* Fixed cost charged per entry besides its strings. */
#define ENTRY_OVERHEAD (sizeof(struct cp_cache_entry) + 64)
/* Reconnect backoff after a Redis failure: doubles from the first to the last. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- entries ------------------------------------------------------------------------ */

static void make_etag(const char *body, size_t len, char out[CP_CACHE_ETAG_SIZE])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, digest);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    snprintf(out, CP_CACHE_ETAG_SIZE, "\"%s\"", hex);
}

/* gzip of data (mem.h-allocated, caller frees), or NULL when zlib fails. */
static char *gzip_body(const char *data, size_t len, size_t *outlen)
{
    if (len > (size_t)UINT32_MAX / 2)
        return NULL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* 15 + 16: the largest window, with a gzip header and trailer instead of zlib's */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return NULL;
    uLong bound = deflateBound(&zs, (uLong)len);
    char *out = cp_malloc(bound);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    *outlen = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

struct cp_cache_entry *cp_cache_entry_new(const struct cp_route *route, char *body, size_t body_len,
                                          const char *content_type, const char *cache_control,
                                          bool with_gzip, size_t gzip_min_bytes)
{
    struct cp_cache_entry *entry = cp_calloc(1, sizeof *entry);
    atomic_init(&entry->refs, 1);
    entry->route = route;
    entry->body = body;
    entry->body_len = body_len;
    entry->content_type = content_type;
    entry->cache_control = cache_control;
    make_etag(body, body_len, entry->etag);
    /* the gzip tag is known even without the variant, so a client holding it revalidates */
    snprintf(entry->gzip_etag, sizeof entry->gzip_etag, "%.*s-gzip\"", (int)strlen(entry->etag) - 1,
             entry->etag);
    if (with_gzip && body_len >= gzip_min_bytes) {
        entry->gzip_body = gzip_body(body, body_len, &entry->gzip_len);
        if (!entry->gzip_body)
            cp_log_warn("gzip failed; the response is served uncompressed");
    }
    return entry;
}

struct cp_cache_entry *cp_cache_entry_ref(struct cp_cache_entry *entry)
{
    atomic_fetch_add_explicit(&entry->refs, 1, memory_order_relaxed);
    return entry;
}

void cp_cache_entry_unref(struct cp_cache_entry *entry)
{
    if (!entry || atomic_fetch_sub_explicit(&entry->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(entry->body);
    free(entry->gzip_body);
    free(entry->key);
    free(entry);
}

/* ---- keys --------------------------------------------------------------------------- */

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void add_encoded(struct cp_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            cp_buf_add(b, p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            cp_buf_add(b, esc, 3);
        }
    }
}

/* Query names are unique once server/query.h accepted them: the name alone orders them. */
static int compare_params(const void *a, const void *b)
{
    const struct cp_param *x = *(const struct cp_param *const *)a;
    const struct cp_param *y = *(const struct cp_param *const *)b;
    return strcmp(x->name, y->name);
}

char *cp_cache_key(const struct cp_route *route, const struct cp_param *params, size_t param_count,
                   const struct cp_param *query, size_t query_count, size_t *len)
{
    struct cp_buf b;
    cp_buf_init(&b, CACHE_KEY_MAX);
    cp_buf_adds(&b, "GET ");
    cp_buf_adds(&b, route->pattern); /* the route's own text: a client cannot choose it */
    for (size_t i = 0; i < param_count; i++) {
        cp_buf_add(&b, i ? "&" : " ", 1);
        add_encoded(&b, params[i].name);
        cp_buf_add(&b, "=", 1);
        add_encoded(&b, params[i].value);
    }
    if (query_count) {
        const struct cp_param **sorted = cp_calloc(query_count, sizeof *sorted);
        for (size_t i = 0; i < query_count; i++)
            sorted[i] = &query[i];
        qsort(sorted, query_count, sizeof *sorted, compare_params);
        for (size_t i = 0; i < query_count; i++) {
            cp_buf_add(&b, i ? "&" : "?", 1);
            add_encoded(&b, sorted[i]->name);
            cp_buf_add(&b, "=", 1);
            add_encoded(&b, sorted[i]->value ? sorted[i]->value : "");
        }
        free(sorted);
    }
    size_t n = 0;
    char *key = cp_buf_take(&b, &n);
    if (len)
        *len = n;
    return key;
}

/* FNV-1a, 64 bits: keys are short and the table is private, so a simple hash will do. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- Redis connections ------------------------------------------------------------- */

/* One thread's connection, thrown away after any error and reopened after a backoff. */
struct redis_conn {
    redisContext *ctx;
    int64_t retry_at_ms;
    int backoff_ms;
    bool warned; /* the current outage was logged */
};

static void conn_failed(struct redis_conn *conn, struct cp_metrics *metrics, const char *why)
{
    cp_metrics_redis_error(metrics);
    if (!conn->warned)
        cp_log_warn("Redis cache unavailable, continuing without it: %s", why);
    conn->warned = true;
    if (conn->ctx)
        redisFree(conn->ctx);
    conn->ctx = NULL;
    conn->backoff_ms = conn->backoff_ms ? conn->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (conn->backoff_ms > BACKOFF_MAX_MS)
        conn->backoff_ms = BACKOFF_MAX_MS;
    conn->retry_at_ms = now_ms() + conn->backoff_ms;
}

static void conn_succeeded(struct redis_conn *conn)
{
    if (conn->warned)
        cp_log_info("Redis cache reachable again");
    conn->warned = false;
    conn->backoff_ms = 0;
}

/* The connection's context, opening it when due; NULL while backing off (*skipped set) or
 * when opening failed (counted). */
static redisContext *conn_get(struct redis_conn *conn, const struct cp_redis_address *addr,
                              int timeout_ms, struct cp_metrics *metrics, bool *skipped)
{
    *skipped = false;
    if (conn->ctx)
        return conn->ctx;
    if (now_ms() < conn->retry_at_ms) {
        *skipped = true;
        return NULL;
    }
    char err[512];
    conn->ctx = cp_redis_open(addr, timeout_ms, err, sizeof err);
    if (!conn->ctx)
        conn_failed(conn, metrics, err);
    return conn->ctx;
}

static void conn_close(struct redis_conn *conn)
{
    if (conn->ctx)
        redisFree(conn->ctx);
    conn->ctx = NULL;
}

/* ---- the cache ---------------------------------------------------------------------- */

struct shard {
    pthread_mutex_t lock;
    struct cp_cache_entry **buckets;
    size_t bucket_count; /* a power of two */
    size_t count;
    size_t bytes;
    size_t budget;
    struct cp_cache_entry *lru_head, *lru_tail; /* head: most recently used */
};

struct cp_cache {
    struct cp_cache_opts opts;
    char *redis_url;
    struct cp_redis_address redis;
    bool has_redis;
    struct cp_metrics *metrics;
    struct shard shards[N_SHARDS];
    /* The last read of the shared generation, packed so readers get it in one atomic
     * load: (shared << 16) | (local generation when read, low 15 bits) << 1 | read ok. */
    atomic_uint_fast64_t shared_state;

    pthread_t refresher;
    bool refresher_started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping; /* under stop_lock */
};

struct cp_cache_client {
    struct cp_cache *cache;
    struct redis_conn conn;
};

#define STATE_LOCAL_BITS 15
#define STATE_LOCAL_MASK ((UINT64_C(1) << STATE_LOCAL_BITS) - 1)
/* Shared generations beyond this do not fit the packed state (2^48 ms: the year 10889). */
#define SHARED_GENERATION_MAX (UINT64_MAX >> (STATE_LOCAL_BITS + 1))

void cp_cache_current_generation(const struct cp_cache *cache, struct cp_cache_generation *out)
{
    uint64_t state =
        atomic_load_explicit((atomic_uint_fast64_t *)&cache->shared_state, memory_order_acquire);
    out->local = cp_generation_local();
    out->shared = state >> (STATE_LOCAL_BITS + 1);
    /* A bump in this process INCRs Redis first, then the local generation; a shared value
     * read before that local bump may predate the INCR, so it is not trusted (and Redis is
     * not used) until the refresher has read it again. */
    uint64_t read_at_local = state >> 1 & STATE_LOCAL_MASK;
    out->fresh = (state & 1) && read_at_local == (out->local & STATE_LOCAL_MASK);
}

static bool same_generation(const struct cp_cache_generation *a,
                            const struct cp_cache_generation *b)
{
    return a->shared == b->shared && a->local == b->local;
}

static struct shard *shard_for(struct cp_cache *cache, uint64_t hash)
{
    return &cache->shards[hash >> 60 & (N_SHARDS - 1)];
}

static void lru_unlink(struct shard *s, struct cp_cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        s->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct shard *s, struct cp_cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = s->lru_head;
    if (s->lru_head)
        s->lru_head->lru_prev = e;
    s->lru_head = e;
    if (!s->lru_tail)
        s->lru_tail = e;
}

/* Unlinks e from its chain and the LRU; the cache's reference moves to *dropped (a list
 * through chain_next), released by drop_all once the lock is let go, so freeing bodies never
 * happens under a shard lock. Under s->lock. */
static void shard_remove(struct cp_cache *cache, struct shard *s, struct cp_cache_entry *e,
                         struct cp_cache_entry **dropped)
{
    struct cp_cache_entry **link = &s->buckets[e->hash & (s->bucket_count - 1)];
    while (*link && *link != e)
        link = &(*link)->chain_next;
    if (*link)
        *link = e->chain_next;
    lru_unlink(s, e);
    s->count--;
    s->bytes -= e->charge;
    cp_metrics_cache_size(cache->metrics, -1, -(long long)e->charge);
    e->chain_next = *dropped;
    *dropped = e;
}

static void drop_all(struct cp_cache_entry *dropped)
{
    while (dropped) {
        struct cp_cache_entry *next = dropped->chain_next;
        dropped->chain_next = NULL;
        cp_cache_entry_unref(dropped);
        dropped = next;
    }
}

static struct cp_cache_entry *shard_find(struct shard *s, uint64_t hash, const char *key,
                                         size_t key_len)
{
    for (struct cp_cache_entry *e = s->buckets[hash & (s->bucket_count - 1)]; e; e = e->chain_next)
        if (e->hash == hash && e->key_len == key_len && !memcmp(e->key, key, key_len))
            return e;
    return NULL;
}

static void shard_grow(struct shard *s)
{
    size_t n = s->bucket_count * 2;
    struct cp_cache_entry **buckets = cp_calloc(n, sizeof *buckets);
    for (size_t i = 0; i < s->bucket_count; i++) {
        struct cp_cache_entry *e = s->buckets[i];
        while (e) {
            struct cp_cache_entry *next = e->chain_next;
            size_t b = e->hash & (n - 1);
            e->chain_next = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = buckets;
    s->bucket_count = n;
}

/* Whether e may still be served under the current generation at time now. */
static bool entry_current(const struct cp_cache *cache, const struct cp_cache_entry *e,
                          const struct cp_cache_generation *current, int64_t now)
{
    if (!same_generation(&e->generation, current))
        return false;
    /* a generation shared through Redis is trusted for the long TTL; a process-local one
     * cannot see other processes' bumps, so its entries live only briefly */
    int ttl_s = current->fresh && e->generation.fresh ? cache->opts.ttl_s : cache->opts.local_ttl_s;
    return now - e->created_ms < (int64_t)ttl_s * 1000;
}

struct cp_cache_entry *cp_cache_lookup(struct cp_cache *cache, const char *key, size_t key_len)
{
    struct cp_cache_generation current;
    cp_cache_current_generation(cache, &current);
    uint64_t hash = hash_key(key, key_len);
    struct shard *s = shard_for(cache, hash);
    int64_t now = now_ms();
    struct cp_cache_entry *dropped = NULL;
    pthread_mutex_lock(&s->lock);
    struct cp_cache_entry *e = shard_find(s, hash, key, key_len);
    if (e && !entry_current(cache, e, &current, now)) {
        shard_remove(cache, s, e, &dropped);
        e = NULL;
    }
    if (e) {
        lru_unlink(s, e);
        lru_push_front(s, e);
        cp_cache_entry_ref(e);
    }
    pthread_mutex_unlock(&s->lock);
    drop_all(dropped);
    if (e)
        cp_metrics_cache_hit(cache->metrics, CP_CACHE_LEVEL_LOCAL);
    else
        cp_metrics_cache_miss(cache->metrics, CP_CACHE_LEVEL_LOCAL);
    return e;
}

void cp_cache_store(struct cp_cache *cache, const char *key, size_t key_len,
                    const struct cp_cache_generation *gen, struct cp_cache_entry *entry)
{
    if (entry->key || entry->body_len > cache->opts.max_entry_bytes)
        return; /* already stored once, or too large to be worth a slot */
    struct cp_cache_generation current;
    cp_cache_current_generation(cache, &current);
    if (!same_generation(gen, &current))
        return; /* filled under a generation that has since been invalidated */

    uint64_t hash = hash_key(key, key_len);
    struct shard *s = shard_for(cache, hash);
    size_t charge = ENTRY_OVERHEAD + key_len + entry->body_len + entry->gzip_len;
    if (charge > s->budget)
        return;
    entry->key = cp_strndup(key, key_len);
    entry->key_len = key_len;
    entry->hash = hash;
    entry->generation = *gen;
    entry->created_ms = now_ms();
    entry->charge = charge;

    struct cp_cache_entry *dropped = NULL;
    pthread_mutex_lock(&s->lock);
    struct cp_cache_entry *old = shard_find(s, hash, key, key_len);
    if (old)
        shard_remove(cache, s, old, &dropped);
    while (s->bytes + charge > s->budget && s->lru_tail) {
        shard_remove(cache, s, s->lru_tail, &dropped);
        cp_metrics_cache_evict(cache->metrics);
    }
    if (s->count + 1 > s->bucket_count)
        shard_grow(s);
    size_t b = hash & (s->bucket_count - 1);
    cp_cache_entry_ref(entry);
    entry->chain_next = s->buckets[b];
    s->buckets[b] = entry;
    lru_push_front(s, entry);
    s->count++;
    s->bytes += charge;
    pthread_mutex_unlock(&s->lock);
    drop_all(dropped);
    cp_metrics_cache_size(cache->metrics, 1, (long long)charge);
}

/* ---- the generation refresher ------------------------------------------------------ */

/* read_at_local: the local generation read before the shared one was asked for. */
static void publish_generation(struct cp_cache *cache, uint64_t shared, uint64_t read_at_local,
                               bool fresh)
{
    uint64_t state = shared << (STATE_LOCAL_BITS + 1) | (read_at_local & STATE_LOCAL_MASK) << 1 |
                     (fresh ? 1u : 0u);
    atomic_store_explicit(&cache->shared_state, state, memory_order_release);
    cp_metrics_cache_generation(cache->metrics, shared);
}

/* Reads the shared generation once. On failure the last known value stays, marked stale. */
static void refresh_generation(struct cp_cache *cache, struct redis_conn *conn)
{
    struct cp_cache_generation current;
    cp_cache_current_generation(cache, &current); /* current.local: before the GET */
    bool skipped;
    redisContext *ctx =
        conn_get(conn, &cache->redis, cache->opts.redis_timeout_ms, cache->metrics, &skipped);
    if (!ctx) {
        publish_generation(cache, current.shared, current.local, false);
        return;
    }
    uint64_t generation = 0;
    char why[256];
    bool ok = cp_generation_read(ctx, &generation, why, sizeof why) == CP_OK;
    if (ok && generation > SHARED_GENERATION_MAX) {
        snprintf(why, sizeof why, "%s is beyond the largest generation", CP_GENERATION_KEY);
        ok = false;
    }
    if (!ok) {
        conn_failed(conn, cache->metrics, why);
        publish_generation(cache, current.shared, current.local, false);
        return;
    }
    conn_succeeded(conn);
    uint64_t read_at_local = current.local;
    if (generation < current.shared) {
        /* Only when clocks disagree or someone set the counter by hand: later bumps could
         * reach generations this process still has entries for; a local bump drops them. */
        cp_log_warn("cache generation went back from %llu to %llu: dropping the in-process "
                    "cache",
                    (unsigned long long)current.shared, (unsigned long long)generation);
        read_at_local = cp_generation_local_bump();
    }
    publish_generation(cache, generation, read_at_local, true);
}

static void *refresher_main(void *arg)
{
    struct cp_cache *cache = arg;
    struct redis_conn conn = {0};
    pthread_mutex_lock(&cache->stop_lock);
    while (!cache->stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        long ns = deadline.tv_nsec + (long)(cache->opts.refresh_ms % 1000) * 1000000L;
        deadline.tv_sec += cache->opts.refresh_ms / 1000 + ns / 1000000000L;
        deadline.tv_nsec = ns % 1000000000L;
        while (!cache->stopping &&
               pthread_cond_timedwait(&cache->stop_cond, &cache->stop_lock, &deadline) == 0)
            ;
        if (cache->stopping)
            break;
        pthread_mutex_unlock(&cache->stop_lock);
        refresh_generation(cache, &conn);
        pthread_mutex_lock(&cache->stop_lock);
    }
    pthread_mutex_unlock(&cache->stop_lock);
    conn_close(&conn);
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void resolve_opts(const struct cp_cache_opts *given, struct cp_cache_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->max_bytes = 64u << 20;
    opts->ttl_s = 600;
    opts->local_ttl_s = 60;
    opts->refresh_ms = 1000;
    opts->redis_timeout_ms = 200;
    opts->max_entry_bytes = 8u << 20;
    if (!given)
        return;
    opts->redis_url = given->redis_url;
    if (given->max_bytes)
        opts->max_bytes = given->max_bytes;
    if (given->ttl_s > 0)
        opts->ttl_s = given->ttl_s;
    if (given->local_ttl_s > 0)
        opts->local_ttl_s = given->local_ttl_s;
    if (given->refresh_ms > 0)
        opts->refresh_ms = given->refresh_ms;
    if (given->redis_timeout_ms > 0)
        opts->redis_timeout_ms = given->redis_timeout_ms;
    if (given->max_entry_bytes)
        opts->max_entry_bytes = given->max_entry_bytes;
}

cp_status cp_cache_new(const struct cp_cache_opts *given, struct cp_metrics *metrics,
                       struct cp_cache **out, char *err, size_t errlen)
{
    struct cp_cache_opts opts;
    resolve_opts(given, &opts);
    struct cp_redis_address redis;
    bool has_redis = opts.redis_url && *opts.redis_url;
    if (has_redis && !cp_redis_parse_url(opts.redis_url, &redis, err, errlen))
        return CP_ERR_INVALID;

    struct cp_cache *cache = cp_calloc(1, sizeof *cache);
    cache->opts = opts;
    cache->metrics = metrics;
    cache->has_redis = has_redis;
    if (has_redis) {
        cache->redis = redis;
        cache->redis_url = cp_strdup(opts.redis_url);
    }
    cache->opts.redis_url = cache->redis_url;
    atomic_init(&cache->shared_state, 0);
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &cache->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->bucket_count = INITIAL_BUCKETS;
        s->buckets = cp_calloc(s->bucket_count, sizeof *s->buckets);
        s->budget = opts.max_bytes / N_SHARDS;
    }
    pthread_mutex_init(&cache->stop_lock, NULL);
    pthread_cond_init(&cache->stop_cond, NULL);
    if (has_redis) {
        /* one synchronous read, so the first requests already share the generation */
        struct redis_conn conn = {0};
        refresh_generation(cache, &conn);
        conn_close(&conn);
        int rc = pthread_create(&cache->refresher, NULL, refresher_main, cache);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start the cache generation thread: %s", strerror(rc));
            cp_cache_free(cache);
            return CP_ERR_INTERNAL;
        }
        cache->refresher_started = true;
    }
    *out = cache;
    return CP_OK;
}

void cp_cache_free(struct cp_cache *cache)
{
    if (!cache)
        return;
    if (cache->refresher_started) {
        pthread_mutex_lock(&cache->stop_lock);
        cache->stopping = true;
        pthread_cond_broadcast(&cache->stop_cond);
        pthread_mutex_unlock(&cache->stop_lock);
        pthread_join(cache->refresher, NULL);
    }
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &cache->shards[i];
        struct cp_cache_entry *dropped = NULL;
        while (s->lru_head)
            shard_remove(cache, s, s->lru_head, &dropped);
        drop_all(dropped);
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    pthread_mutex_destroy(&cache->stop_lock);
    pthread_cond_destroy(&cache->stop_cond);
    free(cache->redis_url);
    free(cache);
}

/* ---- level 2 ------------------------------------------------------------------------ */

struct cp_cache_client *cp_cache_client_new(struct cp_cache *cache)
{
    if (!cache || !cache->has_redis)
        return NULL;
    struct cp_cache_client *client = cp_calloc(1, sizeof *client);
    client->cache = cache;
    return client;
}

void cp_cache_client_free(struct cp_cache_client *client)
{
    if (!client)
        return;
    conn_close(&client->conn);
    free(client);
}

static char *redis_key(const struct cp_cache_generation *gen, const char *key, size_t key_len,
                       size_t *len)
{
    char *rkey = cp_asprintf(CP_CACHE_KEY_PREFIX "%llu:%.*s", (unsigned long long)gen->shared,
                             (int)key_len, key);
    *len = strlen(rkey);
    return rkey;
}

/* The client's context when Redis may be used for gen, else NULL (the skip is counted). */
static redisContext *client_context(struct cp_cache_client *client,
                                    const struct cp_cache_generation *gen)
{
    struct cp_cache *cache = client->cache;
    if (!gen->fresh) {
        /* the refresher could not read the generation: Redis is down, or the key we would
         * use may be outdated -- skip rather than wait on a timeout per request */
        cp_metrics_redis_skip(cache->metrics);
        return NULL;
    }
    bool skipped;
    redisContext *ctx = conn_get(&client->conn, &cache->redis, cache->opts.redis_timeout_ms,
                                 cache->metrics, &skipped);
    if (skipped)
        cp_metrics_redis_skip(cache->metrics);
    return ctx;
}

char *cp_cache_redis_get(struct cp_cache_client *client, const struct cp_cache_generation *gen,
                         const char *key, size_t key_len, size_t *len)
{
    if (!client)
        return NULL;
    struct cp_cache *cache = client->cache;
    redisContext *ctx = client_context(client, gen);
    if (!ctx)
        return NULL;
    size_t rkey_len;
    char *rkey = redis_key(gen, key, key_len, &rkey_len);
    redisReply *reply = redisCommand(ctx, "GET %b", rkey, rkey_len);
    free(rkey);
    char *body = NULL;
    if (reply && reply->type == REDIS_REPLY_STRING &&
        (size_t)reply->len <= cache->opts.max_entry_bytes) {
        body = cp_strndup(reply->str, (size_t)reply->len);
        *len = (size_t)reply->len;
        cp_metrics_cache_hit(cache->metrics, CP_CACHE_LEVEL_REDIS);
        conn_succeeded(&client->conn);
    } else if (reply && (reply->type == REDIS_REPLY_NIL || reply->type == REDIS_REPLY_STRING)) {
        cp_metrics_cache_miss(cache->metrics, CP_CACHE_LEVEL_REDIS);
        conn_succeeded(&client->conn);
    } else {
        char why[256];
        cp_redis_reply_problem(ctx, reply, why, sizeof why);
        conn_failed(&client->conn, cache->metrics, why);
    }
    freeReplyObject(reply);
    return body;
}

void cp_cache_redis_set(struct cp_cache_client *client, const struct cp_cache_generation *gen,
                        const char *key, size_t key_len, const char *body, size_t len)
{
    if (!client || len > client->cache->opts.max_entry_bytes)
        return;
    struct cp_cache *cache = client->cache;
    redisContext *ctx = client_context(client, gen);
    if (!ctx)
        return;
    size_t rkey_len;
    char *rkey = redis_key(gen, key, key_len, &rkey_len);
    redisReply *reply =
        redisCommand(ctx, "SET %b %b EX %d", rkey, rkey_len, body, len, cache->opts.ttl_s);
    free(rkey);
    if (reply && reply->type == REDIS_REPLY_STATUS) {
        conn_succeeded(&client->conn);
    } else {
        char why[256];
        cp_redis_reply_problem(ctx, reply, why, sizeof why);
        conn_failed(&client->conn, cache->metrics, why);
    }
    freeReplyObject(reply);
}
