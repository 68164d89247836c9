/* The response cache end to end: real servers on port 0, real PostgreSQL and Redis, libcurl;
 * local and Redis hits, restarts, generation bumps from another process, Redis and the
 * database going away, ETag/304 and gzip on hits, and the /metrics exposition. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/generation.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "server/cache.h"
#include "server/http.h"
#include "tests/testutil.h"

#define CACHE_TEST_DATABASE "chartpulse_test_cache"
/* Nothing listens on port 1. */
#define DEAD_DATABASE_URL "postgresql://chartpulse_api@127.0.0.1:1/chartpulse_test_cache"
#define CLOSED_REDIS_URL  "redis://127.0.0.1:1/15"
/* The servers here read the generation this often, so a bump shows within a test. */
#define REFRESH_MS 100

#define CHART_PATH  "/v1/charts/global/1998-06-01"
#define ROUTE_LABEL "/v1/charts/{region}/{date}"

/* Tracks CPCACHETST + 12 digits; one global regional daily chart of 30 entries on
 * 1998-06-01 (over 1 KiB of JSON, so it has a gzip variant), none on 1998-06-02. */
/* clang-format off */
static const char FIXTURE_SQL[] =
    "select etl.ensure_chart_entry_partitions('1998-01-01', '1998-12-31');"
    "delete from core.chart where chart_date between '1998-06-01' and '1998-06-30';"
    "delete from core.track where track_id like 'CPCACHETST%';"
    "insert into core.track (track_id, name, artist_names)"
    " select 'CPCACHETST' || lpad(i::text, 12, '0'), 'Cached Song ' || i, 'Artist ' || i"
    " from generate_series(1, 30) i;"
    "insert into core.chart (chart_kind, region, period, chart_date, entries)"
    " values ('regional', 'global', 'daily', '1998-06-01', 30);"
    "insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id,"
    "  streams, derived_previous_rank, derived_movement, derived_peak_rank,"
    "  derived_periods_on_chart, streak)"
    " select 'regional', 'global', 'daily', '1998-06-01', i,"
    "        'CPCACHETST' || lpad(i::text, 12, '0'), 1000000 - i * 1000, null, 'new', i, 1, 1"
    " from generate_series(1, 30) i;";
/* clang-format on */

static void owner_exec(const char *sql)
{
    char err[512];
    PGconn *conn = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(conn != NULL, "cannot connect as the owner: %s", err);
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
                  "fixture SQL failed: %s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

static void rename_first_track(const char *name)
{
    char *sql = cp_asprintf("update core.track set name = '%s'"
                            " where track_id = 'CPCACHETST000000000001'",
                            name);
    owner_exec(sql);
    free(sql);
}

static void suite_setup(void)
{
    char *owner_url = tu_serve_fresh_database(CACHE_TEST_DATABASE);
    free(owner_url);
    cp_log_init(CP_LOG_TEXT, CP_LOG_ERROR);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    char err[512];
    PGconn *conn = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(conn != NULL, "cannot connect as the owner: %s", err);
    ck_assert_msg(cp_migrate_run(conn, NULL, err, sizeof err) == CP_OK, "migrate: %s", err);
    PQfinish(conn);
    owner_exec(FIXTURE_SQL);
}

static void suite_teardown(void)
{
    curl_global_cleanup();
}

/* ---- servers ----------------------------------------------------------------------- */

static struct tu_server live;

/* api_url / redis_url NULL keep the environment's; redis_url "" disables Redis. */
static void server_start(struct tu_server *ts, const char *api_url, const char *redis_url)
{
    const char *const settings[] = {"API_DATABASE_URL", api_url, "REDIS_URL", redis_url, NULL};
    struct cp_server_opts opts;
    tu_server_opts(&opts);
    opts.cache_refresh_ms = REFRESH_MS;
    tu_server_start(ts, settings, &opts);
}

static void server_stop(struct tu_server *ts)
{
    tu_server_stop(ts);
}

/* Every test starts from a new generation (nothing another test or run left in Redis is
 * current) and a fresh server. */
static void test_setup(void)
{
    char err[512];
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK, "bump: %s",
                  err);
    server_start(&live, NULL, NULL);
}

static void test_teardown(void)
{
    if (live.server)
        server_stop(&live);
}

/* ---- an HTTP client ---------------------------------------------------------------- */

static void http_request(struct tu_http_result *r, const struct tu_server *ts, const char *method,
                         const char *path, const char *const *extra_headers)
{
    char *url = cp_asprintf("%s%s", ts->base, path);
    tu_http_request(r, method, url, extra_headers, NULL, 0);
    free(url);
}

static void http_get(struct tu_http_result *r, const struct tu_server *ts, const char *path,
                     const char *const *extra_headers)
{
    http_request(r, ts, "GET", path, extra_headers);
}

static bool header(const struct tu_http_result *r, const char *name, char *out, size_t outlen)
{
    return tu_http_header(r->headers.data, name, out, outlen);
}

static void assert_header(const struct tu_http_result *r, const char *name, const char *expected)
{
    char value[512];
    ck_assert_msg(header(r, name, value, sizeof value), "no %s header", name);
    ck_assert_msg(!strcmp(value, expected), "%s: '%s', expected '%s'", name, value, expected);
}

static void assert_no_header(const struct tu_http_result *r, const char *name)
{
    char value[512];
    ck_assert_msg(!header(r, name, value, sizeof value), "unexpected %s: %s", name, value);
}

/* GETs path and checks the status and where the answer came from. */
static void get_expecting(struct tu_http_result *r, const struct tu_server *ts, const char *path,
                          const char *const *extra_headers, long status, const char *x_cache)
{
    http_get(r, ts, path, extra_headers);
    ck_assert_msg(r->status == status, "%s: %ld, expected %ld: %s", path, r->status, status,
                  r->body.data ? r->body.data : "");
    assert_header(r, "X-Cache", x_cache);
}

static const char *first_track_name(const struct tu_http_result *r)
{
    const json_t *entries = json_object_get(r->json, "entries");
    const json_t *track = json_object_get(json_array_get(entries, 0), "track");
    ck_assert_msg(json_is_string(json_object_get(track, "name")), "no first track in %s",
                  r->body.data);
    return json_string_value(json_object_get(track, "name"));
}

/* ---- the metrics exposition -------------------------------------------------------- */

/* The value of the sample whose name and labels are exactly `series` (e.g.
 * `chartpulse_cache_hits_total{level="local"}`); fails when absent. */
static double metric(const struct tu_server *ts, const char *series)
{
    struct tu_http_result r;
    http_get(&r, ts, "/metrics", NULL);
    ck_assert_int_eq(r.status, 200);
    size_t len = strlen(series);
    for (const char *line = r.body.data; line && *line;) {
        if (!strncmp(line, series, len) && line[len] == ' ') {
            double value = strtod(line + len + 1, NULL);
            tu_http_result_free(&r);
            return value;
        }
        const char *eol = strchr(line, '\n');
        line = eol ? eol + 1 : NULL;
    }
    ck_abort_msg("no sample %s in:\n%s", series, r.body.data);
    return 0;
}

/* ---- levels ------------------------------------------------------------------------ */

START_TEST(second_request_is_a_local_hit)
{
    struct tu_http_result first, second;
    get_expecting(&first, &live, CHART_PATH, NULL, 200, "miss");
    get_expecting(&second, &live, CHART_PATH, NULL, 200, "hit-local");
    ck_assert_uint_eq(first.body.len, second.body.len);
    ck_assert(memcmp(first.body.data, second.body.data, first.body.len) == 0);
    char tag1[128], tag2[128];
    ck_assert(header(&first, "ETag", tag1, sizeof tag1));
    ck_assert(header(&second, "ETag", tag2, sizeof tag2));
    ck_assert_str_eq(tag1, tag2);
    assert_header(&second, "Content-Type", "application/json; charset=utf-8");
    assert_header(&second, "Cache-Control", "public, max-age=60");
    assert_header(&second, "Vary", "Accept-Encoding, Accept");
    assert_header(&second, "Access-Control-Allow-Origin", "*");
    char id[64];
    ck_assert(header(&second, "X-Request-Id", id, sizeof id));
    tu_http_result_free(&first);
    tu_http_result_free(&second);

    /* the query's order does not matter; its content does */
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH "?limit=5&period=daily", NULL, 200, "miss");
    tu_http_result_free(&r);
    get_expecting(&r, &live, CHART_PATH "?period=daily&limit=5", NULL, 200, "hit-local");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "count")), 5);
    tu_http_result_free(&r);
    get_expecting(&r, &live, CHART_PATH "?period=daily&limit=6", NULL, 200, "miss");
    tu_http_result_free(&r);

    /* HEAD shares GET's entry */
    http_request(&r, &live, "HEAD", CHART_PATH, NULL);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "X-Cache", "hit-local");
    ck_assert_uint_eq(r.body.len, 0);
    tu_http_result_free(&r);

    /* a request id is per request, even on a hit */
    const char *const given[] = {"X-Request-Id: cache-test-1", NULL};
    get_expecting(&r, &live, CHART_PATH, given, 200, "hit-local");
    assert_header(&r, "X-Request-Id", "cache-test-1");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(restarted_server_hits_redis)
{
    struct tu_http_result first, r;
    get_expecting(&first, &live, CHART_PATH, NULL, 200, "miss");
    server_stop(&live);

    server_start(&live, NULL, NULL); /* new process state: an empty local cache */
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-redis");
    ck_assert_uint_eq(r.body.len, first.body.len);
    ck_assert(memcmp(r.body.data, first.body.data, r.body.len) == 0);
    char tag1[128], tag2[128];
    ck_assert(header(&first, "ETag", tag1, sizeof tag1));
    ck_assert(header(&r, "ETag", tag2, sizeof tag2));
    ck_assert_str_eq(tag1, tag2);
    tu_http_result_free(&r);
    /* and the Redis hit filled the local level */
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-local");
    tu_http_result_free(&r);
    tu_http_result_free(&first);
}
END_TEST

/* Bumps the generation from a child process, as `chartpulse load` would: only Redis
 * carries the bump to the server, not this process's memory. */
static void bump_from_another_process(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char err[512];
        cp_status st = cp_generation_bump(getenv("REDIS_URL"), err, sizeof err);
        if (st != CP_OK)
            fprintf(stderr, "bump: %s\n", err);
        _exit(st == CP_OK ? 0 : 1);
    }
    int wstatus = 0;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "the bump failed");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(bump_serves_fresh_data)
{
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    ck_assert_str_eq(first_track_name(&r), "Cached Song 1");
    tu_http_result_free(&r);

    /* new data without a bump: the cache still answers the old */
    rename_first_track("Renamed Once");
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-local");
    ck_assert_str_eq(first_track_name(&r), "Cached Song 1");
    tu_http_result_free(&r);

    /* another process bumps: the server sees it within its refresh interval */
    bump_from_another_process();
    double started = now_s();
    for (;;) {
        http_get(&r, &live, CHART_PATH, NULL);
        char x_cache[32] = "";
        header(&r, "X-Cache", x_cache, sizeof x_cache);
        if (strcmp(x_cache, "hit-local"))
            break;
        tu_http_result_free(&r);
        ck_assert_msg(now_s() - started < 5, "still a local hit 5 s after the bump");
        usleep(20 * 1000);
    }
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "X-Cache", "miss");
    ck_assert_str_eq(first_track_name(&r), "Renamed Once");
    tu_http_result_free(&r);
    ck_assert_msg(now_s() - started < 2.0, "the bump took %.2f s to show", now_s() - started);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-local");
    ck_assert_str_eq(first_track_name(&r), "Renamed Once");
    tu_http_result_free(&r);

    /* a bump in this process (the server's own) shows at once */
    rename_first_track("Renamed Twice");
    char err[512];
    ck_assert_int_eq(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err), CP_OK);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    ck_assert_str_eq(first_track_name(&r), "Renamed Twice");
    tu_http_result_free(&r);

    /* the old generation's Redis entry is not served to a new server either */
    server_stop(&live);
    rename_first_track("Cached Song 1");
    bump_from_another_process();
    server_start(&live, NULL, NULL);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    ck_assert_str_eq(first_track_name(&r), "Cached Song 1");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(redis_down_still_answers)
{
    server_stop(&live);
    server_start(&live, NULL, CLOSED_REDIS_URL);
    double before_errors = metric(&live, "chartpulse_cache_redis_errors_total");
    ck_assert_msg(before_errors >= 1, "the failed start-up read was not counted");

    double started = now_s();
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    ck_assert_str_eq(first_track_name(&r), "Cached Song 1");
    tu_http_result_free(&r);
    ck_assert_msg(now_s() - started < 1.0, "a request waited %.2f s on Redis", now_s() - started);
    /* the local level works without Redis */
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-local");
    tu_http_result_free(&r);
    get_expecting(&r, &live, CHART_PATH "?limit=3", NULL, 200, "miss");
    tu_http_result_free(&r);

    usleep(3 * REFRESH_MS * 1000);
    ck_assert(metric(&live, "chartpulse_cache_redis_errors_total") > before_errors);
    ck_assert(metric(&live, "chartpulse_cache_redis_skipped_total") >= 2);
    ck_assert(metric(&live, "chartpulse_cache_hits_total{level=\"redis\"}") == 0);
    ck_assert(metric(&live, "chartpulse_cache_hits_total{level=\"local\"}") >= 1);
}
END_TEST

START_TEST(without_redis_the_local_level_works)
{
    server_stop(&live);
    server_start(&live, NULL, "");
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    tu_http_result_free(&r);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-local");
    tu_http_result_free(&r);
    ck_assert(metric(&live, "chartpulse_cache_redis_errors_total") == 0);
    ck_assert(metric(&live, "chartpulse_cache_redis_skipped_total") == 0);
    /* the process-local generation: a bump here (REDIS_URL empty) still invalidates */
    char err[512];
    ck_assert_int_eq(cp_generation_bump(NULL, err, sizeof err), CP_OK);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(redis_answers_while_database_is_down)
{
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    tu_http_result_free(&r);
    server_stop(&live);

    server_start(&live, DEAD_DATABASE_URL, NULL);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-redis");
    ck_assert_str_eq(first_track_name(&r), "Cached Song 1");
    tu_http_result_free(&r);
    /* what was never cached needs the database */
    get_expecting(&r, &live, CHART_PATH "?limit=2", NULL, 503, "miss");
    tu_http_result_free(&r);
    /* and a bad parameter is still the client's error */
    get_expecting(&r, &live, "/v1/charts/global/1998-13-01", NULL, 400, "miss");
    tu_http_result_free(&r);
    ck_assert(metric(&live, "chartpulse_db_pool_errors_total{pool=\"primary\"}") >= 1);
}
END_TEST

/* A command on the test Redis (REDIS_URL, redis://host:port/db), checked for an error. */
static void redis_run(const char *command)
{
    const char *url = getenv("REDIS_URL");
    ck_assert_msg(url && !strncmp(url, "redis://", 8), "REDIS_URL: %s", url ? url : "(unset)");
    char host[128];
    const char *colon = strchr(url + 8, ':');
    ck_assert_ptr_nonnull(colon);
    snprintf(host, sizeof host, "%.*s", (int)(colon - (url + 8)), url + 8);
    int port = (int)strtol(colon + 1, NULL, 10);
    const char *slash = strchr(colon, '/');
    long db = slash ? strtol(slash + 1, NULL, 10) : 0;
    redisContext *ctx = redisConnect(host, port);
    ck_assert_msg(ctx && !ctx->err, "redis: %s", ctx ? ctx->errstr : "no context");
    redisReply *reply = redisCommand(ctx, "SELECT %ld", db);
    ck_assert(reply && reply->type != REDIS_REPLY_ERROR);
    freeReplyObject(reply);
    reply = redisCommand(ctx, command);
    ck_assert_msg(reply && reply->type != REDIS_REPLY_ERROR, "%s failed", command);
    freeReplyObject(reply);
    redisFree(ctx);
}

START_TEST(lost_generation_never_comes_back)
{
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    tu_http_result_free(&r);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "hit-local");
    tu_http_result_free(&r);
    double before = metric(&live, "chartpulse_cache_generation");

    /* Redis loses the counter (restart, eviction) but keeps cached bodies: the counter comes
     * back above every generation used before, so no old body or entry is current again */
    redis_run("DEL " CP_GENERATION_KEY);
    double started = now_s();
    while (metric(&live, "chartpulse_cache_generation") == before) {
        ck_assert_msg(now_s() - started < 5, "the lost generation was not replaced");
        usleep(20 * 1000);
    }
    ck_assert(metric(&live, "chartpulse_cache_generation") > before);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    tu_http_result_free(&r);

    /* and a bump from there still moves forward */
    bump_from_another_process();
    server_stop(&live);
    server_start(&live, NULL, NULL);
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    tu_http_result_free(&r);
}
END_TEST

/* ---- HTTP semantics on hits -------------------------------------------------------- */

START_TEST(etag_and_304_on_hits)
{
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, NULL, 200, "miss");
    char etag[128], inm[160];
    ck_assert(header(&r, "ETag", etag, sizeof etag));
    tu_http_result_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *const conditional[] = {inm, NULL};

    get_expecting(&r, &live, CHART_PATH, conditional, 304, "hit-local");
    ck_assert_uint_eq(r.body.len, 0);
    assert_header(&r, "ETag", etag);
    assert_header(&r, "Cache-Control", "public, max-age=60");
    tu_http_result_free(&r);

    const char *const stale[] = {"If-None-Match: \"0000\"", NULL};
    get_expecting(&r, &live, CHART_PATH, stale, 200, "hit-local");
    tu_http_result_free(&r);

    server_stop(&live);
    server_start(&live, NULL, NULL);
    get_expecting(&r, &live, CHART_PATH, conditional, 304, "hit-redis");
    assert_header(&r, "ETag", etag);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(gzip_variants_on_hits)
{
    const char *const gzip[] = {"Accept-Encoding: gzip", NULL};
    struct tu_http_result zipped_miss, zipped_hit, plain_hit;
    get_expecting(&zipped_miss, &live, CHART_PATH, gzip, 200, "miss");
    assert_header(&zipped_miss, "Content-Encoding", "gzip");
    get_expecting(&zipped_hit, &live, CHART_PATH, gzip, 200, "hit-local");
    assert_header(&zipped_hit, "Content-Encoding", "gzip");
    ck_assert_uint_eq(zipped_hit.body.len, zipped_miss.body.len);
    ck_assert(memcmp(zipped_hit.body.data, zipped_miss.body.data, zipped_hit.body.len) == 0);
    get_expecting(&plain_hit, &live, CHART_PATH, NULL, 200, "hit-local");
    assert_no_header(&plain_hit, "Content-Encoding");
    ck_assert_uint_gt(plain_hit.body.len, zipped_hit.body.len);

    size_t len = 0;
    char *decoded = tu_gunzip(zipped_hit.body.data, zipped_hit.body.len, &len);
    ck_assert_uint_eq(len, plain_hit.body.len);
    ck_assert(memcmp(decoded, plain_hit.body.data, len) == 0);
    free(decoded);

    char zipped_tag[128], plain_tag[128];
    ck_assert(header(&zipped_hit, "ETag", zipped_tag, sizeof zipped_tag));
    ck_assert(header(&plain_hit, "ETag", plain_tag, sizeof plain_tag));
    ck_assert_str_ne(zipped_tag, plain_tag);

    /* a gzip tag revalidates on a plain hit and the other way round */
    char inm[160];
    snprintf(inm, sizeof inm, "If-None-Match: %s", zipped_tag);
    const char *const conditional[] = {gzip[0], inm, NULL};
    struct tu_http_result r;
    get_expecting(&r, &live, CHART_PATH, conditional, 304, "hit-local");
    assert_header(&r, "ETag", zipped_tag);
    tu_http_result_free(&r);

    /* a Redis hit rebuilds the same variants */
    server_stop(&live);
    server_start(&live, NULL, NULL);
    get_expecting(&r, &live, CHART_PATH, gzip, 200, "hit-redis");
    assert_header(&r, "Content-Encoding", "gzip");
    assert_header(&r, "ETag", zipped_tag);
    decoded = tu_gunzip(r.body.data, r.body.len, &len);
    ck_assert_uint_eq(len, plain_hit.body.len);
    ck_assert(memcmp(decoded, plain_hit.body.data, len) == 0);
    free(decoded);
    tu_http_result_free(&r);
    tu_http_result_free(&zipped_miss);
    tu_http_result_free(&zipped_hit);
    tu_http_result_free(&plain_hit);
}
END_TEST

START_TEST(only_successful_cacheable_answers_are_cached)
{
    /* a 404 is not cached: once the chart exists it is served */
    struct tu_http_result r;
    const char *missing = "/v1/charts/global/1998-06-02";
    get_expecting(&r, &live, missing, NULL, 404, "miss");
    tu_http_result_free(&r);
    owner_exec("insert into core.chart (chart_kind, region, period, chart_date, entries)"
               " values ('regional', 'global', 'daily', '1998-06-02', 0)");
    get_expecting(&r, &live, missing, NULL, 200, "miss");
    tu_http_result_free(&r);
    owner_exec("delete from core.chart where chart_date = '1998-06-02'");

    /* a 400 neither */
    get_expecting(&r, &live, CHART_PATH "?limit=0", NULL, 400, "miss");
    tu_http_result_free(&r);
    get_expecting(&r, &live, CHART_PATH "?limit=0", NULL, 400, "miss");
    tu_http_result_free(&r);

    /* routes not marked cacheable carry no X-Cache and are built every time */
    static const char *const uncached[] = {"/healthz", "/readyz", "/metrics", "/v1/catalog"};
    for (size_t i = 0; i < sizeof uncached / sizeof uncached[0]; i++)
        for (int round = 0; round < 2; round++) {
            http_get(&r, &live, uncached[i], NULL);
            ck_assert_msg(r.status == 200, "%s: %ld %s", uncached[i], r.status, r.body.data);
            assert_no_header(&r, "X-Cache");
            tu_http_result_free(&r);
        }
}
END_TEST

/* ---- metrics ----------------------------------------------------------------------- */

START_TEST(metrics_parse_and_move)
{
    struct tu_http_result r;
    http_get(&r, &live, "/metrics", NULL);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    assert_header(&r, "Cache-Control", "no-store");
    ck_assert(strstr(r.body.data, "chartpulse_build_info{version=\"" CHARTPULSE_VERSION "\"} 1\n"));
    ck_assert(strstr(r.body.data, "\nprocess_start_time_seconds "));
    ck_assert(strstr(r.body.data, "# TYPE chartpulse_http_request_duration_seconds histogram\n"));

    /* promtool, when installed, is the judge of the format */
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[] = "/tmp/chartpulse-metrics-XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, r.body.data, r.body.len), (ssize_t)r.body.len);
        close(fd);
        char *cmd = cp_asprintf("promtool check metrics < %s 2>&1", path);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        char output[4096] = "";
        size_t n = fread(output, 1, sizeof output - 1, p);
        output[n] = '\0';
        int rc = pclose(p);
        unlink(path);
        free(cmd);
        ck_assert_msg(rc == 0 && n == 0, "promtool check metrics failed (%d):\n%s", rc, output);
    } else {
        fprintf(stderr, "test_cache: SKIP promtool check: promtool is not installed "
                        "(apt-get install prometheus)\n");
    }
    tu_http_result_free(&r);

    const char *ok_series =
        "chartpulse_http_requests_total{route=\"" ROUTE_LABEL "\",status=\"2xx\"}";
    const char *count_series =
        "chartpulse_http_request_duration_seconds_count{route=\"" ROUTE_LABEL "\"}";
    const char *inf_series =
        "chartpulse_http_request_duration_seconds_bucket{route=\"" ROUTE_LABEL "\",le=\"+Inf\"}";
    const char *local_hits = "chartpulse_cache_hits_total{level=\"local\"}";
    const char *local_misses = "chartpulse_cache_misses_total{level=\"local\"}";
    const char *redis_misses = "chartpulse_cache_misses_total{level=\"redis\"}";
    const char *unmatched = "chartpulse_http_requests_total{route=\"unmatched\",status=\"4xx\"}";
    const char *acquires = "chartpulse_db_pool_acquires_total{pool=\"primary\"}";
    double ok0 = metric(&live, ok_series), count0 = metric(&live, count_series);
    double hits0 = metric(&live, local_hits), misses0 = metric(&live, local_misses);
    double redis0 = metric(&live, redis_misses), unmatched0 = metric(&live, unmatched);
    double acquires0 = metric(&live, acquires);

    for (int i = 0; i < 3; i++) {
        get_expecting(&r, &live, CHART_PATH "?limit=7", NULL, 200, i ? "hit-local" : "miss");
        tu_http_result_free(&r);
    }
    http_get(&r, &live, "/no/such/path", NULL);
    tu_http_result_free(&r);

    ck_assert(metric(&live, ok_series) == ok0 + 3);
    ck_assert(metric(&live, count_series) == count0 + 3);
    ck_assert(metric(&live, inf_series) == metric(&live, count_series));
    ck_assert(metric(&live, local_hits) == hits0 + 2);
    ck_assert(metric(&live, local_misses) == misses0 + 1);
    ck_assert(metric(&live, redis_misses) == redis0 + 1);
    ck_assert(metric(&live, unmatched) == unmatched0 + 1);
    ck_assert(metric(&live, acquires) == acquires0 + 1); /* hits take no connection */
    ck_assert(metric(&live, "chartpulse_http_requests_in_flight") >= 1); /* this scrape */
    ck_assert(metric(&live, "chartpulse_cache_local_entries") >= 1);
    ck_assert(metric(&live, "chartpulse_cache_local_bytes") > 0);
    ck_assert(metric(&live, "chartpulse_cache_generation") >= 1);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, second_request_is_a_local_hit);
    tcase_add_test(tc, restarted_server_hits_redis);
    tcase_add_test(tc, bump_serves_fresh_data);
    tcase_add_test(tc, redis_down_still_answers);
    tcase_add_test(tc, without_redis_the_local_level_works);
    tcase_add_test(tc, redis_answers_while_database_is_down);
    tcase_add_test(tc, lost_generation_never_comes_back);
    tcase_add_test(tc, etag_and_304_on_hits);
    tcase_add_test(tc, gzip_variants_on_hits);
    tcase_add_test(tc, only_successful_cacheable_answers_are_cached);
    tcase_add_test(tc, metrics_parse_and_move);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(cache_suite());
}
