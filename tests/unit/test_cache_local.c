/* The in-process response cache (level 1): keys, entries and their variants, generations,
 * byte-bounded LRU eviction, reference counts, threads; and the metrics it reports. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "core/buf.h"
#include "core/generation.h"
#include "core/mem.h"
#include "server/cache.h"
#include "server/metrics.h"
#include "tests/testutil.h"

/* Nothing listens on port 1. */
#define CLOSED_REDIS_URL "redis://127.0.0.1:1/0"

static struct cp_cache *local_cache(size_t max_bytes, int local_ttl_s, struct cp_metrics *m)
{
    struct cp_cache_opts opts = {.max_bytes = max_bytes, .local_ttl_s = local_ttl_s};
    struct cp_cache *cache = NULL;
    char err[256];
    ck_assert_msg(cp_cache_new(&opts, m, &cache, err, sizeof err) == CP_OK, "%s", err);
    return cache;
}

/* An entry whose body is `len` copies of c (no gzip). */
static struct cp_cache_entry *filled_entry(char c, size_t len)
{
    char *body = cp_malloc(len + 1);
    memset(body, c, len);
    body[len] = '\0';
    return cp_cache_entry_new(NULL, body, len, "application/json", "no-store", false, 0);
}

/* Stores a new entry under key for the current generation and drops our reference. */
static void store(struct cp_cache *cache, const char *key, char c, size_t len)
{
    struct cp_cache_generation gen;
    cp_cache_current_generation(cache, &gen);
    struct cp_cache_entry *entry = filled_entry(c, len);
    cp_cache_store(cache, key, strlen(key), &gen, entry);
    cp_cache_entry_unref(entry);
}

/* Whether key is served now (and with body byte c when it is). */
static bool cached(struct cp_cache *cache, const char *key, char c)
{
    struct cp_cache_entry *e = cp_cache_lookup(cache, key, strlen(key));
    if (!e)
        return false;
    ck_assert_int_eq(e->body[0], c);
    cp_cache_entry_unref(e);
    return true;
}

START_TEST(key_sorts_and_encodes_the_query)
{
    static const struct cp_route chart = {.pattern = "/v1/charts/{region}/{date}"};
    static const struct cp_route search = {.pattern = "/v1/search"};
    static const struct {
        const struct cp_route *route;
        struct cp_param params[2];
        size_t param_count;
        struct cp_param query[4];
        size_t count;
        const char *key;
    } cases[] = {
        {&chart,
         {{"region", "global"}, {"date", "latest"}},
         2,
         {{0}},
         0,
         "GET /v1/charts/{region}/{date} region=global&date=latest"},
        {&search,
         {{0}},
         0,
         {{"period", "weekly"}, {"limit", "5"}},
         2,
         "GET /v1/search?limit=5&period=weekly"},
        {&search,
         {{0}},
         0,
         {{"limit", "5"}, {"period", "weekly"}},
         2,
         "GET /v1/search?limit=5&period=weekly"},
        /* a separator inside a value cannot forge another parameter */
        {&search, {{0}}, 0, {{"q", "a&b=c"}}, 1, "GET /v1/search?q=a%26b%3Dc"},
        {&search, {{0}}, 0, {{"q", "a"}, {"b", "c"}}, 2, "GET /v1/search?b=c&q=a"},
        /* a path parameter holding '/', '?' or '&' stays one value */
        {&chart,
         {{"region", "a/b?c&d"}, {"date", "x"}},
         2,
         {{0}},
         0,
         "GET /v1/charts/{region}/{date} region=a%2Fb%3Fc%26d&date=x"},
        {&search, {{0}}, 0, {{"flag", ""}}, 1, "GET /v1/search?flag="},
        {&search, {{0}}, 0, {{"q", "Beyoncé ü"}}, 1, "GET /v1/search?q=Beyonc%C3%A9%20%C3%BC"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        char *key = cp_cache_key(cases[i].route, cases[i].params, cases[i].param_count,
                                 cases[i].query, cases[i].count, &len);
        ck_assert_str_eq(key, cases[i].key);
        ck_assert_uint_eq(len, strlen(key));
        free(key);
    }
}
END_TEST

START_TEST(entry_has_etags_and_gzip_variant)
{
    size_t len = 4000;
    char *body = cp_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        body[i] = (char)('a' + i % 7);
    body[len] = '\0';
    char *copy = cp_strdup(body);
    struct cp_cache_entry *e =
        cp_cache_entry_new(NULL, body, len, "application/json", "public", true, 1024);
    ck_assert_uint_eq(strlen(e->etag), 34); /* quotes around 32 hex digits */
    ck_assert_int_eq(e->etag[0], '"');
    ck_assert_uint_eq(strspn(e->etag + 1, "0123456789abcdef"), 32);
    char expected[64];
    snprintf(expected, sizeof expected, "%.33s-gzip\"", e->etag);
    ck_assert_str_eq(e->gzip_etag, expected);
    ck_assert_ptr_nonnull(e->gzip_body);
    ck_assert_uint_lt(e->gzip_len, len);

    /* the gzip variant decodes to the body */
    char *plain = cp_malloc(len + 16);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (Bytef *)e->gzip_body;
    zs.avail_in = (uInt)e->gzip_len;
    zs.next_out = (Bytef *)plain;
    zs.avail_out = (uInt)(len + 16);
    ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(zs.total_out, len);
    inflateEnd(&zs);
    ck_assert(memcmp(plain, copy, len) == 0);
    free(plain);

    /* the same body gives the same tag; small bodies and uncompressed entries get no
     * variant, but still know its tag */
    struct cp_cache_entry *same =
        cp_cache_entry_new(NULL, copy, len, "application/json", "public", false, 1024);
    ck_assert_str_eq(same->etag, e->etag);
    ck_assert_str_eq(same->gzip_etag, e->gzip_etag);
    ck_assert_ptr_null(same->gzip_body);
    struct cp_cache_entry *small =
        cp_cache_entry_new(NULL, cp_strdup("{}"), 2, "application/json", "public", true, 1024);
    ck_assert_ptr_null(small->gzip_body);
    ck_assert_str_ne(small->etag, e->etag);
    cp_cache_entry_unref(e);
    cp_cache_entry_unref(same);
    cp_cache_entry_unref(small);
}
END_TEST

START_TEST(store_then_lookup)
{
    struct cp_metrics *m = cp_metrics_new();
    struct cp_cache *cache = local_cache(0, 0, m);
    ck_assert(!cached(cache, "GET /a", 'a'));
    store(cache, "GET /a", 'a', 100);
    store(cache, "GET /b", 'b', 100);
    ck_assert(cached(cache, "GET /a", 'a'));
    ck_assert(cached(cache, "GET /b", 'b'));
    ck_assert(!cached(cache, "GET /c", 'c'));
    /* a newer answer replaces the older one */
    store(cache, "GET /a", 'A', 100);
    ck_assert(cached(cache, "GET /a", 'A'));

    /* the counts reach the exposition */
    struct cp_buf text;
    cp_buf_init(&text, TU_TEXT_MAX);
    ck_assert_int_eq(cp_metrics_render(m, &text), CP_OK);
    ck_assert_msg(strstr(text.data, "chartpulse_cache_hits_total{level=\"local\"} 3\n"), "%s",
                  text.data);
    ck_assert(strstr(text.data, "chartpulse_cache_misses_total{level=\"local\"} 2\n"));
    ck_assert(strstr(text.data, "chartpulse_cache_local_entries 2\n"));
    cp_buf_free(&text);
    cp_cache_free(cache);
    cp_metrics_free(m);
}
END_TEST

START_TEST(bump_invalidates_everything)
{
    struct cp_cache *cache = local_cache(0, 0, NULL);
    store(cache, "GET /a", 'a', 10);
    store(cache, "GET /b", 'b', 10);
    char err[256];
    ck_assert_int_eq(cp_generation_bump(NULL, err, sizeof err), CP_OK);
    ck_assert(!cached(cache, "GET /a", 'a'));
    ck_assert(!cached(cache, "GET /b", 'b'));
    store(cache, "GET /a", 'a', 10);
    ck_assert(cached(cache, "GET /a", 'a'));
    cp_cache_free(cache);
}
END_TEST

START_TEST(answer_from_before_a_bump_is_not_stored)
{
    struct cp_cache *cache = local_cache(0, 0, NULL);
    struct cp_cache_generation before;
    cp_cache_current_generation(cache, &before);
    char err[256];
    ck_assert_int_eq(cp_generation_bump("", err, sizeof err), CP_OK);
    /* a worker read the database before the load committed and answers after the bump */
    struct cp_cache_entry *stale = filled_entry('s', 10);
    cp_cache_store(cache, "GET /a", 6, &before, stale);
    cp_cache_entry_unref(stale);
    ck_assert(!cached(cache, "GET /a", 's'));
    cp_cache_free(cache);
}
END_TEST

START_TEST(local_entries_expire)
{
    struct cp_cache *cache = local_cache(0, 1, NULL);
    store(cache, "GET /a", 'a', 10);
    ck_assert(cached(cache, "GET /a", 'a'));
    usleep(1100 * 1000);
    ck_assert(!cached(cache, "GET /a", 'a'));
    cp_cache_free(cache);
}
END_TEST

START_TEST(eviction_keeps_the_budget_and_recent_entries)
{
    struct cp_metrics *m = cp_metrics_new();
    /* 16 shards of 8 KiB: about five 1 KiB entries each */
    size_t budget = 128 * 1024;
    struct cp_cache *cache = local_cache(budget, 0, m);
    store(cache, "GET /kept", 'k', 1024);
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "GET /filler/%d", i);
        store(cache, key, 'f', 1024);
        /* used after every store, so always the most recent in its shard */
        ck_assert_msg(cached(cache, "GET /kept", 'k'), "evicted after %d stores", i);
    }
    ck_assert(cached(cache, "GET /filler/1999", 'f'));
    ck_assert(!cached(cache, "GET /filler/0", 'f'));

    struct cp_buf text;
    cp_buf_init(&text, TU_TEXT_MAX);
    ck_assert_int_eq(cp_metrics_render(m, &text), CP_OK);
    const char *bytes_line = strstr(text.data, "\nchartpulse_cache_local_bytes ");
    ck_assert_ptr_nonnull(bytes_line);
    long long bytes = strtoll(bytes_line + strlen("\nchartpulse_cache_local_bytes "), NULL, 10);
    ck_assert_int_gt(bytes, 0);
    ck_assert_int_le(bytes, (long long)budget);
    const char *evictions = strstr(text.data, "\nchartpulse_cache_local_evictions_total ");
    ck_assert_ptr_nonnull(evictions);
    ck_assert_int_gt(
        strtoll(evictions + strlen("\nchartpulse_cache_local_evictions_total "), NULL, 10), 1500);
    cp_buf_free(&text);

    /* an entry larger than a shard's budget is not cached at all */
    store(cache, "GET /huge", 'h', budget);
    ck_assert(!cached(cache, "GET /huge", 'h'));
    cp_cache_free(cache);
    cp_metrics_free(m);
}
END_TEST

START_TEST(held_entry_outlives_eviction)
{
    struct cp_cache *cache = local_cache(0, 0, NULL);
    store(cache, "GET /a", 'a', 100);
    struct cp_cache_entry *held = cp_cache_lookup(cache, "GET /a", 6);
    ck_assert_ptr_nonnull(held);
    char err[256];
    ck_assert_int_eq(cp_generation_bump(NULL, err, sizeof err), CP_OK);
    ck_assert(!cached(cache, "GET /a", 'a')); /* dropped from the cache ... */
    cp_cache_free(cache);
    /* ... and the cache is gone, but a response in flight still reads the body */
    ck_assert_int_eq(held->body[99], 'a');
    cp_cache_entry_unref(held);
}
END_TEST

struct hammer_arg {
    struct cp_cache *cache;
    unsigned seed;
};

static void *hammer(void *p)
{
    struct hammer_arg *arg = p;
    unsigned seed = arg->seed;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        char key[32];
        snprintf(key, sizeof key, "GET /k/%u", (seed >> 8) % 300);
        if (seed % 3 == 0) {
            store(arg->cache, key, 'x', 64 + seed % 2048);
        } else {
            struct cp_cache_entry *e = cp_cache_lookup(arg->cache, key, strlen(key));
            if (e && e->body[e->body_len - 1] != 'x')
                return "torn entry";
            cp_cache_entry_unref(e);
        }
    }
    return NULL;
}

START_TEST(threads_share_the_cache)
{
    struct cp_metrics *m = cp_metrics_new();
    struct cp_cache *cache = local_cache(256 * 1024, 0, m);
    pthread_t threads[4];
    struct hammer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct hammer_arg){cache, (unsigned)i * 7919u + 1};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *result = NULL;
        pthread_join(threads[i], &result);
        ck_assert_msg(result == NULL, "%s", (const char *)result);
    }
    cp_cache_free(cache);
    /* every entry the cache held was counted out again */
    struct cp_buf text;
    cp_buf_init(&text, TU_TEXT_MAX);
    ck_assert_int_eq(cp_metrics_render(m, &text), CP_OK);
    ck_assert(strstr(text.data, "\nchartpulse_cache_local_entries 0\n"));
    ck_assert(strstr(text.data, "\nchartpulse_cache_local_bytes 0\n"));
    cp_buf_free(&text);
    cp_metrics_free(m);
}
END_TEST

START_TEST(bad_redis_urls_are_refused)
{
    static const char *const bad[] = {
        "http://127.0.0.1:6379", "redis://",     "redis://host:0", "redis://host:99999",
        "redis://host:6379/x",   "redis://[::1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cp_cache_opts opts = {.redis_url = bad[i]};
        struct cp_cache *cache = NULL;
        char err[256] = "";
        ck_assert_msg(cp_cache_new(&opts, NULL, &cache, err, sizeof err) == CP_ERR_INVALID,
                      "accepted %s", bad[i]);
        ck_assert_ptr_null(cache);
        ck_assert_msg(!strncmp(err, "REDIS_URL: ", 11), "err: %s", err);
        ck_assert_int_eq(cp_generation_bump(bad[i], err, sizeof err), CP_ERR_INVALID);
    }
}
END_TEST

START_TEST(unreachable_redis_is_an_error_not_a_hang)
{
    char err[256] = "";
    ck_assert_int_eq(cp_generation_bump(CLOSED_REDIS_URL, err, sizeof err), CP_ERR_IO);
    ck_assert_msg(strstr(err, "cannot bump the cache generation") != NULL, "err: %s", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "err is not one line: %s", err);

    /* a cache still starts, counts the failure, and works in-process */
    struct cp_metrics *m = cp_metrics_new();
    struct cp_cache_opts opts = {.redis_url = CLOSED_REDIS_URL, .refresh_ms = 50};
    struct cp_cache *cache = NULL;
    ck_assert_int_eq(cp_cache_new(&opts, m, &cache, err, sizeof err), CP_OK);
    struct cp_cache_generation gen;
    cp_cache_current_generation(cache, &gen);
    ck_assert(!gen.fresh);
    store(cache, "GET /a", 'a', 10);
    ck_assert(cached(cache, "GET /a", 'a'));
    struct cp_cache_client *client = cp_cache_client_new(cache);
    ck_assert_ptr_nonnull(client);
    size_t len;
    ck_assert_ptr_null(cp_cache_redis_get(client, &gen, "GET /a", 6, &len));
    cp_cache_redis_set(client, &gen, "GET /a", 6, "x", 1);
    cp_cache_client_free(client);
    usleep(200 * 1000); /* a few refresh attempts */
    cp_cache_free(cache);
    struct cp_buf text;
    cp_buf_init(&text, TU_TEXT_MAX);
    ck_assert_int_eq(cp_metrics_render(m, &text), CP_OK);
    const char *errors = strstr(text.data, "\nchartpulse_cache_redis_errors_total ");
    ck_assert_ptr_nonnull(errors);
    ck_assert_int_ge(strtoll(errors + strlen("\nchartpulse_cache_redis_errors_total "), NULL, 10),
                     1);
    ck_assert(strstr(text.data, "\nchartpulse_cache_redis_skipped_total 2\n"));
    cp_buf_free(&text);
    cp_metrics_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, key_sorts_and_encodes_the_query);
    tcase_add_test(tc, entry_has_etags_and_gzip_variant);
    tcase_add_test(tc, store_then_lookup);
    tcase_add_test(tc, bump_invalidates_everything);
    tcase_add_test(tc, answer_from_before_a_bump_is_not_stored);
    tcase_add_test(tc, local_entries_expire);
    tcase_add_test(tc, eviction_keeps_the_budget_and_recent_entries);
    tcase_add_test(tc, held_entry_outlives_eviction);
    tcase_add_test(tc, threads_share_the_cache);
    tcase_add_test(tc, bad_redis_urls_are_refused);
    tcase_add_test(tc, unreachable_redis_is_an_error_not_a_hang);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
