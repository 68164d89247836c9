/* The REST server end to end: a real server on port 0, real PostgreSQL, driven by libcurl. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
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

/* The template database the test runner migrated; this suite works on its own clone. */
#define API_TEST_DATABASE "chartpulse_test_api"
/* Nothing listens on port 1: a database that is down. */
#define DEAD_DATABASE_URL  "postgresql://chartpulse_api@127.0.0.1:1/chartpulse_test"
#define MAX_RESPONSE_BYTES (8u << 20)

/* Fixture tracks are CPAPITEST + 13 digits; charts sit in January 1999, far from any
 * other data. Global regional daily: 10 entries on 01-01, 12 on 01-02 where tracks 1 and
 * 2 swap places and 11, 12 are new. Sweden viral daily on both days, without streams, and
 * an empty Sweden regional weekly chart. */
/* clang-format off */
static const char FIXTURE_CLEAN_SQL[] =
    "delete from core.chart where chart_date between '1999-01-01' and '1999-01-31'"
    "  and region in ('global', 'se');"
    "delete from core.track where track_id like 'CPAPITEST%';";

static const char FIXTURE_SQL[] =
    "select etl.ensure_chart_entry_partitions('1999-01-01', '1999-01-31');"
    "insert into core.track (track_id, name, artist_names)"
    " select 'CPAPITEST' || lpad(i::text, 13, '0'), 'Test Song ' || i || ' – Señal',"
    "        'Artist ' || i || ', Guest'"
    " from generate_series(1, 12) i;"
    /* track 2's credits, as a load would split its line */
    "insert into core.artist (name) select n from (values ('Artist 2'), ('Guest')) v(n)"
    " where not exists (select 1 from core.artist a where a.name = v.n and a.spotify_id is null);"
    "insert into core.track_credit (track_id, position, artist_id, role)"
    " select 'CPAPITEST0000000000002', p, a.artist_id, case p when 1 then 'lead' else 'featured' end"
    " from (values (1, 'Artist 2'), (2, 'Guest')) v(p, n) join core.artist a on a.name = v.n"
    "  and a.spotify_id is null;"
    "insert into core.chart (chart_kind, region, period, chart_date, entries) values"
    " ('regional', 'global', 'daily', '1999-01-01', 10),"
    " ('regional', 'global', 'daily', '1999-01-02', 12),"
    " ('viral', 'se', 'daily', '1999-01-01', 2),"
    " ('viral', 'se', 'daily', '1999-01-02', 2),"
    " ('regional', 'se', 'weekly', '1999-01-07', 0);"
    "insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id,"
    "  streams, derived_previous_rank, derived_movement, derived_peak_rank,"
    "  derived_periods_on_chart, streak)"
    " select 'regional', 'global', 'daily', '1999-01-01', i,"
    "        'CPAPITEST' || lpad(i::text, 13, '0'), 2000000 - i * 1000, null, 'new', i, 1, 1"
    " from generate_series(1, 10) i;"
    "insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id,"
    "  streams, derived_previous_rank, derived_movement, derived_peak_rank,"
    "  derived_periods_on_chart, streak)"
    " select 'regional', 'global', 'daily', '1999-01-02', i,"
    "        'CPAPITEST' || lpad(t::text, 13, '0'), 2100000 - i * 1000,"
    "        case when t <= 10 then t end,"
    "        case when t > 10 then 'new' when t > i then 'up' when t < i then 'down'"
    "             else 'same' end,"
    "        least(t, i), case when t <= 10 then 2 else 1 end, case when t <= 10 then 2 else 1 end"
    " from generate_series(1, 12) i,"
    "      lateral (select case i when 1 then 2 when 2 then 1 else i end as t) s;"
    "insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id,"
    "  streams, derived_previous_rank, derived_movement, derived_peak_rank,"
    "  derived_periods_on_chart, streak) values"
    " ('viral', 'se', 'daily', '1999-01-01', 1, 'CPAPITEST0000000000001', null, null, 'new', 1, 1, 1),"
    " ('viral', 'se', 'daily', '1999-01-01', 2, 'CPAPITEST0000000000002', null, null, 'new', 2, 1, 1),"
    " ('viral', 'se', 'daily', '1999-01-02', 1, 'CPAPITEST0000000000003', null, null, 'new', 1, 1, 1),"
    " ('viral', 'se', 'daily', '1999-01-02', 2, 'CPAPITEST0000000000001', null, 1, 'down', 1, 2, 2);";

/* Five raw objects in the catalog, oldest first: two loaded global charts (the second with
 * two rejected rows), a pending Sweden viral chart, a Kaggle file whose load failed, and a
 * loaded Sweden weekly chart from another source. */
static const char CATALOG_FIXTURE_SQL[] =
    "delete from catalog.raw_object where object_key like 'cpapitest/%';"
    "insert into catalog.raw_object (source, format, object_key, original_name, chart_kind,"
    "  region, period, chart_date, bytes, sha256, ingested_at, loaded_at, rows_loaded,"
    "  rows_rejected, load_error) values"
    " ('charts.spotify.com', 'spotify_charts', 'cpapitest/1.csv',"
    "  'regional-global-daily-1999-01-01.csv', 'regional', 'global', 'daily', '1999-01-01',"
    "  100, repeat('1', 64), '1999-01-05 10:00:00+00', '1999-01-05 10:01:00.5+00', 10, 0, null),"
    " ('charts.spotify.com', 'spotify_charts', 'cpapitest/2.csv',"
    "  'regional-global-daily-1999-01-02.csv', 'regional', 'global', 'daily', '1999-01-02',"
    "  120, repeat('2', 64), '1999-01-05 10:00:01+00', '1999-01-05 10:01:01+00', 12, 2, null),"
    " ('charts.spotify.com', 'spotify_charts', 'cpapitest/3.csv',"
    "  'viral-se-daily-1999-01-01.csv', 'viral', 'se', 'daily', '1999-01-01',"
    "  50, repeat('3', 64), '1999-01-05 10:00:02+00', null, null, null, null),"
    " ('kaggle', 'kaggle_charts', 'cpapitest/4.csv', 'charts.csv', null, null, null, null,"
    "  5000, repeat('4', 64), '1999-01-05 10:00:03+00', null, null, null,"
    "  'missing column: streams'),"
    " ('spotifycharts.com', 'spotifycharts_legacy', 'cpapitest/5.csv',"
    "  'regional-se-weekly-1999-01-07.csv', 'regional', 'se', 'weekly', '1999-01-07',"
    "  70, repeat('5', 64), '1999-01-08 00:00:00+00', '1999-01-08 00:00:01+00', 7, 0, null);"
    "insert into etl.reject (object_id, line_no, raw_text, reason)"
    " select object_id, l.line_no, l.raw_text, l.reason"
    " from catalog.raw_object,"
    "      (values (7, '\"7\",\"spotify:track:x\"', 'uri: not a Spotify track URI'),"
    "              (3, '\"x\",\"spotify:track:CPAPITEST0000000000001\"', 'rank: not a number'))"
    "      as l (line_no, raw_text, reason)"
    " where object_key = 'cpapitest/2.csv';";
/* clang-format on */

static void owner_exec(const char *sql)
{
    char err[512];
    PGconn *conn = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(conn != NULL, "cannot connect as the owner: %s", err);
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "fixture SQL failed: %s",
                  PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

/* The first column of the first row sql returns, as the owner; caller frees. */
static char *owner_value(const char *sql)
{
    char err[512];
    PGconn *conn = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(conn != NULL, "cannot connect as the owner: %s", err);
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) >= 1, "%s: %s", sql,
                  PQresultErrorMessage(res));
    char *value = cp_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return value;
}

/* GET /v1/catalog/{id}/rejects reads etl.reject as chartpulse_api: the migrations must
 * grant it (0005_warehouse.sql). */
static void assert_rejects_readable(void)
{
    char *granted =
        owner_value("select has_schema_privilege('chartpulse_api', 'etl', 'usage')"
                    " and has_table_privilege('chartpulse_api', 'etl.reject', 'select')");
    ck_assert_msg(!strcmp(granted, "t"), "chartpulse_api cannot read etl.reject");
    free(granted);
}

/* Once, in the parent process: a clone of the migrated test database (DATABASE_URL names
 * the template), brought up to date and given the fixture rows. The servers read
 * DATABASE_URL and API_DATABASE_URL from the environment, pointed at the clone here. */
static void suite_setup(void)
{
    char *owner_url = tu_serve_fresh_database(API_TEST_DATABASE);
    free(owner_url);
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);

    char err[512];
    PGconn *conn = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(conn != NULL, "cannot connect as the owner: %s", err);
    ck_assert_msg(cp_migrate_run(conn, NULL, err, sizeof err) == CP_OK, "migrate: %s", err);
    PQfinish(conn);
    owner_exec(FIXTURE_CLEAN_SQL);
    owner_exec(FIXTURE_SQL);
    owner_exec(CATALOG_FIXTURE_SQL);
    assert_rejects_readable();

    /* the servers share Redis: a new generation keeps answers cached by other runs or
     * suites (other databases, same paths) out of this one */
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK,
                  "cache bump: %s", err);
}

static void suite_teardown(void)
{
    owner_exec(FIXTURE_CLEAN_SQL);
    curl_global_cleanup();
}

/* ---- a server per test (threads do not survive Check's fork) ----------------------- */

static struct tu_server live;

/* api_url NULL keeps the environment's API_DATABASE_URL. */
static void server_start(struct tu_server *ts, const char *api_url)
{
    const char *const settings[] = {"API_DATABASE_URL", api_url, NULL};
    tu_server_start(ts, settings, NULL);
}

static void server_stop(struct tu_server *ts)
{
    tu_server_stop(ts);
}

static void test_setup(void)
{
    server_start(&live, NULL);
}

static void test_teardown(void)
{
    server_stop(&live);
}

/* ---- an HTTP client ---------------------------------------------------------------- */

/* Performs one request; extra_headers is NULL or a NULL-terminated list of "Name: value". */
static void http_request(struct tu_http_result *r, const struct tu_server *ts, const char *method,
                         const char *path, const char *const *extra_headers, const char *body,
                         size_t body_len)
{
    char *url = cp_asprintf("%s%s", ts->base, path);
    tu_http_request(r, method, url, extra_headers, body, body_len);
    free(url);
}

static void http_get(struct tu_http_result *r, const char *path, const char *const *extra_headers)
{
    http_request(r, &live, "GET", path, extra_headers, NULL, 0);
}

/* The value of response header name (case-insensitive), copied into out; false if absent. */
static bool header(const struct tu_http_result *r, const char *name, char *out, size_t outlen)
{
    return tu_http_header(r->headers.data, name, out, outlen);
}

static void assert_header(const struct tu_http_result *r, const char *name, const char *expected)
{
    char value[512];
    ck_assert_msg(header(r, name, value, sizeof value), "no %s header", name);
    ck_assert_str_eq(value, expected);
}

static const char *json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static json_int_t json_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

/* An RFC 9457 problem with this status whose detail starts with detail_prefix (if given). */
static void assert_problem(const struct tu_http_result *r, long status, const char *detail_prefix)
{
    ck_assert_int_eq(r->status, status);
    assert_header(r, "Content-Type", "application/problem+json");
    ck_assert_msg(r->json != NULL, "problem body is not JSON: %s", r->body.data);
    ck_assert_int_eq(json_int(r->json, "status"), status);
    ck_assert(strncmp(json_str(r->json, "type"), "https://", 8) == 0);
    ck_assert(strlen(json_str(r->json, "title")) > 0);
    const char *detail = json_str(r->json, "detail");
    if (detail_prefix)
        ck_assert_msg(!strncmp(detail, detail_prefix, strlen(detail_prefix)),
                      "detail '%s' does not start with '%s'", detail, detail_prefix);
}

/* ---- health ------------------------------------------------------------------------ */

START_TEST(healthz_is_ok)
{
    struct tu_http_result r;
    http_get(&r, "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Type", "application/json; charset=utf-8");
    assert_header(&r, "Cache-Control", "no-store");
    ck_assert_str_eq(json_str(r.json, "status"), "ok");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(readyz_is_ready)
{
    struct tu_http_result r;
    http_get(&r, "/readyz", NULL);
    ck_assert_msg(r.status == 200, "readyz: %ld %s", r.status, r.body.data);
    ck_assert_str_eq(json_str(r.json, "status"), "ready");
    ck_assert_str_eq(json_str(r.json, "database"), "ok");
    ck_assert_str_eq(json_str(r.json, "migrations"), "current");
    assert_header(&r, "Cache-Control", "no-store");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(head_has_no_body)
{
    struct tu_http_result r;
    http_request(&r, &live, "HEAD", "/healthz", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body.len, 0);
    char etag[128];
    ck_assert(header(&r, "ETag", etag, sizeof etag));
    tu_http_result_free(&r);
}
END_TEST

/* ---- charts ------------------------------------------------------------------------ */

START_TEST(chart_by_date)
{
    struct tu_http_result r;
    http_get(&r, "/v1/charts/global/1999-01-02", NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    assert_header(&r, "Content-Type", "application/json; charset=utf-8");
    assert_header(&r, "Cache-Control", "public, max-age=60");
    const json_t *chart = r.json;
    ck_assert_str_eq(json_str(chart, "region"), "global");
    ck_assert_str_eq(json_str(chart, "period"), "daily");
    ck_assert_str_eq(json_str(chart, "chart_kind"), "regional");
    ck_assert_str_eq(json_str(chart, "date"), "1999-01-02");
    ck_assert_str_eq(json_str(chart, "previous_date"), "1999-01-01");
    ck_assert_int_eq(json_int(chart, "count"), 12);
    const json_t *entries = json_object_get(chart, "entries");
    ck_assert_uint_eq(json_array_size(entries), 12);

    const json_t *first = json_array_get(entries, 0);
    ck_assert_int_eq(json_int(first, "rank"), 1);
    const json_t *track = json_object_get(first, "track");
    ck_assert_str_eq(json_str(track, "id"), "CPAPITEST0000000000002");
    ck_assert_str_eq(json_str(track, "name"), "Test Song 2 – Señal");
    ck_assert_str_eq(json_str(first, "artists"), "Artist 2, Guest");
    /* the credited artists, each with the public id its links use ("pa-" + MD5 of the name) */
    const json_t *credits = json_object_get(first, "credits");
    ck_assert_uint_eq(json_array_size(credits), 2);
    ck_assert_str_eq(json_str(json_array_get(credits, 0), "name"), "Artist 2");
    ck_assert_str_eq(json_str(json_array_get(credits, 0), "id"), "pa-b1e45185b50f91d9");
    ck_assert_str_eq(json_str(json_array_get(credits, 1), "name"), "Guest");
    ck_assert_str_eq(json_str(json_array_get(credits, 1), "id"), "pa-adb831a7fdd83dd1");
    ck_assert_int_eq(json_int(first, "streams"), 2099000);
    ck_assert_int_eq(json_int(first, "previous_rank"), 2);
    ck_assert_str_eq(json_str(first, "movement"), "up");
    ck_assert_int_eq(json_int(first, "peak_rank"), 1);
    ck_assert_int_eq(json_int(first, "days_on_chart"), 2);

    const json_t *second = json_array_get(entries, 1);
    ck_assert_str_eq(json_str(second, "movement"), "down");

    const json_t *newcomer = json_array_get(entries, 10);
    ck_assert_int_eq(json_int(newcomer, "rank"), 11);
    ck_assert(json_is_null(json_object_get(newcomer, "previous_rank")));
    ck_assert_str_eq(json_str(newcomer, "movement"), "new");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(chart_first_of_series_has_no_previous)
{
    struct tu_http_result r;
    http_get(&r, "/v1/charts/global/1999-01-01?limit=3", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_null(json_object_get(r.json, "previous_date")));
    ck_assert_int_eq(json_int(r.json, "count"), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "entries")), 3);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(chart_latest_viral)
{
    struct tu_http_result r;
    http_get(&r, "/v1/charts/se/latest?kind=viral&period=daily", NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    ck_assert_str_eq(json_str(r.json, "chart_kind"), "viral");
    ck_assert_str_eq(json_str(r.json, "date"), "1999-01-02");
    ck_assert_str_eq(json_str(r.json, "previous_date"), "1999-01-01");
    const json_t *entries = json_object_get(r.json, "entries");
    ck_assert_uint_eq(json_array_size(entries), 2);
    ck_assert(json_is_null(json_object_get(json_array_get(entries, 0), "streams")));
    ck_assert_int_eq(json_int(json_array_get(entries, 1), "previous_rank"), 1);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(chart_without_entries)
{
    struct tu_http_result r;
    http_get(&r, "/v1/charts/se/1999-01-07?period=weekly", NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    ck_assert_str_eq(json_str(r.json, "period"), "weekly");
    ck_assert(json_is_null(json_object_get(r.json, "previous_date")));
    ck_assert_int_eq(json_int(r.json, "count"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "entries")), 0);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(chart_missing_is_404)
{
    static const char *const paths[] = {
        "/v1/charts/se/latest?kind=viral&period=weekly", "/v1/charts/global/1999-01-03",
        "/v1/charts/se/1999-01-02", /* regional: only viral exists */
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_http_result r;
        http_get(&r, paths[i], NULL);
        assert_problem(&r, 404, "no ");
        ck_assert_str_eq(json_str(r.json, "type"), "https://chartpulse.dev/problems/not-found");
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(chart_bad_parameters_are_400)
{
    static const struct {
        const char *path;
        const char *parameter;
    } cases[] = {
        {"/v1/charts/XX/1999-01-02", "region"},
        {"/v1/charts/swe/1999-01-02", "region"},
        {"/v1/charts/s1/1999-01-02", "region"},
        {"/v1/charts/global/1999-02-30", "date"},
        {"/v1/charts/global/1999-1-2", "date"},
        {"/v1/charts/global/yesterday", "date"},
        {"/v1/charts/global/1999-01-02?limit=0", "limit"},
        {"/v1/charts/global/1999-01-02?limit=1001", "limit"},
        {"/v1/charts/global/1999-01-02?limit=ten", "limit"},
        {"/v1/charts/global/1999-01-02?limit=", "limit"},
        {"/v1/charts/global/1999-01-02?limit=-5", "limit"},
        {"/v1/charts/global/1999-01-02?period=monthly", "period"},
        {"/v1/charts/global/1999-01-02?kind=top", "kind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_http_result r;
        http_get(&r, cases[i].path, NULL);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s:", cases[i].parameter);
        assert_problem(&r, 400, prefix);
        /* instance is the path, without the query */
        size_t pathlen = strcspn(cases[i].path, "?");
        ck_assert_uint_eq(strlen(json_str(r.json, "instance")), pathlen);
        ck_assert(!strncmp(json_str(r.json, "instance"), cases[i].path, pathlen));
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(limit_max_is_accepted)
{
    struct tu_http_result r;
    http_get(&r, "/v1/charts/global/1999-01-02?limit=1000&period=daily&kind=regional", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_int(r.json, "count"), 12);
    tu_http_result_free(&r);
}
END_TEST

/* ---- catalog ----------------------------------------------------------------------- */

/* The object_id of the fixture object stored under key, as text. Caller frees. */
static char *object_id_of(const char *key)
{
    char *sql =
        cp_asprintf("select object_id from catalog.raw_object where object_key = '%s'", key);
    char *id = owner_value(sql);
    free(sql);
    return id;
}

static json_int_t object_id_value(const char *key)
{
    char *id = object_id_of(key);
    json_int_t v = strtoll(id, NULL, 10);
    free(id);
    return v;
}

/* The object_ids of a listing, in order, as "a,b,c". */
static void listed_ids(const json_t *listing, char *out, size_t outlen)
{
    const json_t *objects = json_object_get(listing, "objects");
    ck_assert_msg(json_is_array(objects), "no objects array");
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(objects); i++) {
        int n = snprintf(out + used, outlen - used, "%s%lld", i ? "," : "",
                         (long long)json_int(json_array_get(objects, i), "object_id"));
        ck_assert(n > 0 && (size_t)n < outlen - used);
        used += (size_t)n;
    }
}

/* The expected id list for fixture keys given by number, e.g. "5,4,3". */
static void fixture_ids(const char *numbers, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = numbers; *p; p++) {
        if (*p == ',')
            continue;
        char key[32];
        snprintf(key, sizeof key, "cpapitest/%c.csv", *p);
        int n = snprintf(out + used, outlen - used, "%s%lld", used ? "," : "",
                         (long long)object_id_value(key));
        ck_assert(n > 0 && (size_t)n < outlen - used);
        used += (size_t)n;
    }
}

static void assert_listing(const char *path, const char *numbers)
{
    struct tu_http_result r;
    http_get(&r, path, NULL);
    ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body.data);
    char got[256], want[256];
    listed_ids(r.json, got, sizeof got);
    fixture_ids(numbers, want, sizeof want);
    ck_assert_msg(!strcmp(got, want), "%s: listed %s, expected %s (objects %s)", path, got, want,
                  numbers);
    ck_assert_int_eq(json_int(r.json, "count"),
                     (json_int_t)json_array_size(json_object_get(r.json, "objects")));
    tu_http_result_free(&r);
}

START_TEST(catalog_lists_newest_first)
{
    struct tu_http_result r;
    http_get(&r, "/v1/catalog", NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    assert_header(&r, "Content-Type", "application/json; charset=utf-8");
    assert_header(&r, "Cache-Control", "no-cache");
    char value[64];
    ck_assert_msg(!header(&r, "X-Cache", value, sizeof value), "the catalog is not cached");
    ck_assert_int_eq(json_int(r.json, "count"), 5);
    ck_assert_int_eq(json_int(r.json, "limit"), 100);
    ck_assert_int_eq(json_int(r.json, "offset"), 0);
    ck_assert(json_is_null(json_object_get(r.json, "next_before")));
    const json_t *objects = json_object_get(r.json, "objects");

    /* the newest: a loaded weekly chart */
    const json_t *newest = json_array_get(objects, 0);
    ck_assert_int_eq(json_int(newest, "object_id"), object_id_value("cpapitest/5.csv"));
    ck_assert_str_eq(json_str(newest, "source"), "spotifycharts.com");
    ck_assert_str_eq(json_str(newest, "format"), "spotifycharts_legacy");
    ck_assert_str_eq(json_str(newest, "key"), "cpapitest/5.csv");
    ck_assert_str_eq(json_str(newest, "original_name"), "regional-se-weekly-1999-01-07.csv");
    const json_t *partition = json_object_get(newest, "partition");
    ck_assert_str_eq(json_str(partition, "chart_kind"), "regional");
    ck_assert_str_eq(json_str(partition, "region"), "se");
    ck_assert_str_eq(json_str(partition, "period"), "weekly");
    ck_assert_str_eq(json_str(partition, "chart_date"), "1999-01-07");
    ck_assert_int_eq(json_int(newest, "bytes"), 70);
    ck_assert_str_eq(json_str(newest, "sha256"),
                     "5555555555555555555555555555555555555555555555555555555555555555");
    ck_assert_str_eq(json_str(newest, "ingested_at"), "1999-01-08T00:00:00.000000Z");
    ck_assert_str_eq(json_str(newest, "loaded_at"), "1999-01-08T00:00:01.000000Z");
    ck_assert_int_eq(json_int(newest, "rows_loaded"), 7);
    ck_assert_int_eq(json_int(newest, "rows_rejected"), 0);
    ck_assert(json_is_null(json_object_get(newest, "load_error")));
    ck_assert_str_eq(json_str(newest, "status"), "loaded");

    /* a failed Kaggle file: no partition, no counts, the reason */
    const json_t *failed = json_array_get(objects, 1);
    ck_assert_str_eq(json_str(failed, "status"), "failed");
    ck_assert_str_eq(json_str(failed, "load_error"), "missing column: streams");
    partition = json_object_get(failed, "partition");
    ck_assert(json_is_null(json_object_get(partition, "chart_kind")));
    ck_assert(json_is_null(json_object_get(partition, "region")));
    ck_assert(json_is_null(json_object_get(partition, "period")));
    ck_assert(json_is_null(json_object_get(partition, "chart_date")));
    ck_assert(json_is_null(json_object_get(failed, "loaded_at")));
    ck_assert(json_is_null(json_object_get(failed, "rows_loaded")));
    ck_assert(json_is_null(json_object_get(failed, "rows_rejected")));

    /* pending; then the one with rejects, with sub-second times kept */
    ck_assert_str_eq(json_str(json_array_get(objects, 2), "status"), "pending");
    const json_t *with_rejects = json_array_get(objects, 3);
    ck_assert_int_eq(json_int(with_rejects, "rows_rejected"), 2);
    ck_assert_str_eq(json_str(json_array_get(objects, 4), "loaded_at"),
                     "1999-01-05T10:01:00.500000Z");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(catalog_filters)
{
    assert_listing("/v1/catalog?source=kaggle", "4");
    assert_listing("/v1/catalog?source=charts.spotify.com", "3,2,1");
    assert_listing("/v1/catalog?region=se", "5,3");
    assert_listing("/v1/catalog?region=global&source=charts.spotify.com", "2,1");
    assert_listing("/v1/catalog?status=pending", "3");
    assert_listing("/v1/catalog?status=loaded", "5,2,1");
    assert_listing("/v1/catalog?status=failed", "4");
    assert_listing("/v1/catalog?status=failed&region=se", "");
    assert_listing("/v1/catalog?source=nobody", "");
}
END_TEST

START_TEST(catalog_pages)
{
    /* by cursor: each page hands the next one its `before` */
    struct tu_http_result r;
    http_get(&r, "/v1/catalog?limit=2", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_int(r.json, "count"), 2);
    json_int_t cursor = json_int(r.json, "next_before");
    ck_assert_int_eq(cursor, object_id_value("cpapitest/4.csv"));
    tu_http_result_free(&r);

    char path[96];
    snprintf(path, sizeof path, "/v1/catalog?limit=2&before=%lld", (long long)cursor);
    assert_listing(path, "3,2");
    http_get(&r, path, NULL);
    cursor = json_int(r.json, "next_before");
    tu_http_result_free(&r);
    snprintf(path, sizeof path, "/v1/catalog?limit=2&before=%lld", (long long)cursor);
    assert_listing(path, "1");
    http_get(&r, path, NULL);
    ck_assert(json_is_null(json_object_get(r.json, "next_before")));
    tu_http_result_free(&r);

    /* by offset, with filters */
    assert_listing("/v1/catalog?offset=3", "2,1");
    assert_listing("/v1/catalog?offset=1&limit=1&source=charts.spotify.com", "2");
    assert_listing("/v1/catalog?offset=99", "");
    assert_listing("/v1/catalog?limit=1000", "5,4,3,2,1");
}
END_TEST

START_TEST(catalog_rejects_of_an_object)
{
    char *id = object_id_of("cpapitest/2.csv");
    char path[96];
    snprintf(path, sizeof path, "/v1/catalog/%s/rejects", id);
    struct tu_http_result r;
    http_get(&r, path, NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    ck_assert_int_eq(json_int(r.json, "object_id"), strtoll(id, NULL, 10));
    ck_assert_int_eq(json_int(r.json, "total"), 2);
    ck_assert_int_eq(json_int(r.json, "count"), 2);
    const json_t *rejects = json_object_get(r.json, "rejects");
    ck_assert_uint_eq(json_array_size(rejects), 2);
    const json_t *first = json_array_get(rejects, 0);
    ck_assert_int_eq(json_int(first, "line_no"), 3);
    ck_assert_str_eq(json_str(first, "reason"), "rank: not a number");
    ck_assert_str_eq(json_str(first, "raw_text"), "\"x\",\"spotify:track:CPAPITEST0000000000001\"");
    ck_assert_int_eq(json_int(json_array_get(rejects, 1), "line_no"), 7);
    tu_http_result_free(&r);

    snprintf(path, sizeof path, "/v1/catalog/%s/rejects?limit=1&offset=1", id);
    http_get(&r, path, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_int(r.json, "total"), 2);
    ck_assert_int_eq(json_int(r.json, "count"), 1);
    rejects = json_object_get(r.json, "rejects");
    ck_assert_int_eq(json_int(json_array_get(rejects, 0), "line_no"), 7);
    tu_http_result_free(&r);
    free(id);

    /* an object without rejects has an empty list */
    id = object_id_of("cpapitest/1.csv");
    snprintf(path, sizeof path, "/v1/catalog/%s/rejects", id);
    http_get(&r, path, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_int(r.json, "total"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "rejects")), 0);
    tu_http_result_free(&r);
    free(id);

    /* an unknown object is 404 */
    http_get(&r, "/v1/catalog/999999999/rejects", NULL);
    assert_problem(&r, 404, "no raw object 999999999");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(catalog_bad_parameters_are_400)
{
    static const struct {
        const char *path;
        const char *parameter;
    } cases[] = {
        {"/v1/catalog?limit=0", "limit"},
        {"/v1/catalog?limit=1001", "limit"},
        {"/v1/catalog?limit=ten", "limit"},
        {"/v1/catalog?limit=", "limit"},
        {"/v1/catalog?offset=-1", "offset"},
        {"/v1/catalog?offset=1.5", "offset"},
        {"/v1/catalog?before=0", "before"},
        {"/v1/catalog?before=abc", "before"},
        {"/v1/catalog?status=done", "status"},
        {"/v1/catalog?status=", "status"},
        {"/v1/catalog?region=XX", "region"},
        {"/v1/catalog?source=", "source"},
        {"/v1/catalog/0/rejects", "object_id"},
        {"/v1/catalog/12x/rejects", "object_id"},
        {"/v1/catalog/99999999999999999999/rejects", "object_id"},
        {"/v1/catalog/1/rejects?limit=0", "limit"},
        {"/v1/catalog/1/rejects?offset=x", "offset"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_http_result r;
        http_get(&r, cases[i].path, NULL);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s:", cases[i].parameter);
        assert_problem(&r, 400, prefix);
        tu_http_result_free(&r);
    }
    struct tu_http_result r;
    http_request(&r, &live, "POST", "/v1/catalog", NULL, "x", 1);
    assert_problem(&r, 405, NULL);
    assert_header(&r, "Allow", "GET, HEAD");
    tu_http_result_free(&r);
}
END_TEST

/* ---- routing ----------------------------------------------------------------------- */

START_TEST(unknown_path_is_404)
{
    /* "/" is the dashboard (test_web.c) */
    static const char *const paths[] = {"/v1/nope", "/v1/charts/global", "/healthz/extra",
                                        "/v1/charts/global/1999-01-02/more", "/v1"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_http_result r;
        http_get(&r, paths[i], NULL);
        assert_problem(&r, 404, NULL);
        ck_assert_str_eq(json_str(r.json, "instance"), paths[i]);
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    static const char *const paths[] = {"/healthz", "/v1/charts/global/latest"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_http_result r;
        http_request(&r, &live, "POST", paths[i], NULL, "x", 1);
        assert_problem(&r, 405, NULL);
        assert_header(&r, "Allow", "GET, HEAD");
        tu_http_result_free(&r);
        http_request(&r, &live, "DELETE", paths[i], NULL, NULL, 0);
        assert_problem(&r, 405, NULL);
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(options_answers_preflight)
{
    struct tu_http_result r;
    http_request(&r, &live, "OPTIONS", "/v1/charts/global/latest", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 204);
    assert_header(&r, "Allow", "GET, HEAD, OPTIONS");
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(oversized_body_is_413)
{
    size_t len = 2u << 20;
    char *body = cp_malloc(len);
    memset(body, 'x', len);
    struct tu_http_result r;
    http_request(&r, &live, "POST", "/healthz", NULL, body, len);
    assert_problem(&r, 413, NULL);
    tu_http_result_free(&r);
    free(body);
}
END_TEST

/* ---- cross-cutting headers --------------------------------------------------------- */

START_TEST(etag_and_if_none_match)
{
    const char *path = "/v1/charts/global/1999-01-02";
    struct tu_http_result r;
    http_get(&r, path, NULL);
    ck_assert_int_eq(r.status, 200);
    char etag[128];
    ck_assert(header(&r, "ETag", etag, sizeof etag));
    ck_assert_msg(etag[0] == '"' && etag[strlen(etag) - 1] == '"', "not a strong ETag: %s", etag);
    tu_http_result_free(&r);

    /* the same body gives the same tag */
    http_get(&r, path, NULL);
    assert_header(&r, "ETag", etag);
    tu_http_result_free(&r);

    char inm[160];
    snprintf(inm, sizeof inm, "If-None-Match: \"other\", %s", etag);
    const char *const conditional[] = {inm, NULL};
    http_get(&r, path, conditional);
    ck_assert_int_eq(r.status, 304);
    ck_assert_uint_eq(r.body.len, 0);
    assert_header(&r, "ETag", etag);
    tu_http_result_free(&r);

    /* a different representation does not match */
    http_get(&r, "/v1/charts/global/1999-01-02?limit=5", conditional);
    ck_assert_int_eq(r.status, 200);
    tu_http_result_free(&r);

    const char *const stale[] = {"If-None-Match: \"0000\"", NULL};
    http_get(&r, path, stale);
    ck_assert_int_eq(r.status, 200);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(gzip_when_accepted)
{
    const char *path = "/v1/charts/global/1999-01-02";
    struct tu_http_result plain, zipped;
    http_get(&plain, path, NULL);
    ck_assert_int_eq(plain.status, 200);
    ck_assert_msg(plain.body.len > 1024, "fixture body too small for gzip: %zu", plain.body.len);
    char value[128];
    ck_assert(!header(&plain, "Content-Encoding", value, sizeof value));
    assert_header(&plain, "Vary", "Accept-Encoding, Accept");

    const char *const accept[] = {"Accept-Encoding: br;q=1.0, gzip;q=0.8", NULL};
    http_get(&zipped, path, accept);
    ck_assert_int_eq(zipped.status, 200);
    assert_header(&zipped, "Content-Encoding", "gzip");
    assert_header(&zipped, "Vary", "Accept-Encoding, Accept");
    ck_assert_uint_lt(zipped.body.len, plain.body.len);
    size_t len = 0;
    char *decoded = tu_gunzip(zipped.body.data, zipped.body.len, &len);
    ck_assert_uint_eq(len, plain.body.len);
    ck_assert(memcmp(decoded, plain.body.data, len) == 0);
    free(decoded);

    /* the two encodings have different strong tags, and either revalidates */
    char plain_tag[128], zipped_tag[128];
    ck_assert(header(&plain, "ETag", plain_tag, sizeof plain_tag));
    ck_assert(header(&zipped, "ETag", zipped_tag, sizeof zipped_tag));
    ck_assert_str_ne(plain_tag, zipped_tag);
    char inm[160];
    snprintf(inm, sizeof inm, "If-None-Match: %s", zipped_tag);
    const char *const conditional[] = {accept[0], inm, NULL};
    struct tu_http_result again;
    http_get(&again, path, conditional);
    ck_assert_int_eq(again.status, 304);
    assert_header(&again, "ETag", zipped_tag);
    tu_http_result_free(&again);
    tu_http_result_free(&plain);
    tu_http_result_free(&zipped);

    /* q=0 refuses gzip; small bodies are never compressed */
    const char *const refuse[] = {"Accept-Encoding: gzip;q=0, identity", NULL};
    http_get(&zipped, path, refuse);
    ck_assert(!header(&zipped, "Content-Encoding", value, sizeof value));
    tu_http_result_free(&zipped);
    const char *const gzip_only[] = {"Accept-Encoding: gzip", NULL};
    http_get(&zipped, "/healthz", gzip_only);
    ck_assert(!header(&zipped, "Content-Encoding", value, sizeof value));
    tu_http_result_free(&zipped);
}
END_TEST

START_TEST(request_id_echoed_or_generated)
{
    const char *const given[] = {"X-Request-Id: test-req-42", NULL};
    struct tu_http_result r;
    http_get(&r, "/v1/charts/global/1999-01-02?limit=1", given);
    assert_header(&r, "X-Request-Id", "test-req-42");
    tu_http_result_free(&r);

    const char *const odd[] = {"X-Request-Id: bad id with spaces", NULL};
    http_get(&r, "/healthz", odd);
    char id[128];
    ck_assert(header(&r, "X-Request-Id", id, sizeof id));
    ck_assert_uint_eq(strlen(id), 16);
    ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 16);
    tu_http_result_free(&r);

    char other[128];
    http_get(&r, "/healthz", NULL);
    ck_assert(header(&r, "X-Request-Id", other, sizeof other));
    ck_assert_str_ne(id, other);
    tu_http_result_free(&r);

    /* problems carry it too */
    http_get(&r, "/nope", given);
    assert_header(&r, "X-Request-Id", "test-req-42");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(cors_on_get)
{
    struct tu_http_result r;
    http_get(&r, "/v1/charts/global/1999-01-02?limit=1", NULL);
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    tu_http_result_free(&r);
    http_get(&r, "/v1/charts/global/bad", NULL);
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    tu_http_result_free(&r);
}
END_TEST

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    return cp_buf_add(userdata, data, size * n) == CP_OK ? size * n : 0;
}

START_TEST(keep_alive_connection_serves_many)
{
    /* one handle reuses its connection: suspended and inline requests interleave on it */
    CURL *curl = curl_easy_init();
    struct cp_buf body;
    cp_buf_init(&body, MAX_RESPONSE_BYTES);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    for (int i = 0; i < 20; i++) {
        char *url = cp_asprintf("%s%s", live.base,
                                i % 2 ? "/healthz" : "/v1/charts/global/1999-01-02?limit=2");
        curl_easy_setopt(curl, CURLOPT_URL, url);
        cp_buf_reset(&body);
        ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
        long status = 0, connects = -1;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
        ck_assert_int_eq(status, 200);
        if (i > 0)
            ck_assert_int_eq(connects, 0);
        free(url);
    }
    cp_buf_free(&body);
    curl_easy_cleanup(curl);
}
END_TEST

/* ---- pipeline runs ---------------------------------------------------------------- */

/* A run left `running` by a process that died (nobody holds the run lock) is listed failed,
 * saying why, at once: the API's role cannot write, and need not wait for the next run. */
START_TEST(pipeline_runs_list_dead_run_as_failed)
{
    owner_exec("delete from etl.pipeline_run;"
               "insert into etl.pipeline_run (trigger) values ('cli');"
               "insert into etl.pipeline_step (run_id, step_no, name, status, started_at)"
               " select run_id, 0, 'ingest', 'succeeded', now() from etl.pipeline_run;"
               "insert into etl.pipeline_step (run_id, step_no, name, status, started_at)"
               " select run_id, 1, 'load', 'running', now() from etl.pipeline_run;");
    struct tu_http_result r;
    http_get(&r, "/v1/pipeline/runs?limit=1", NULL);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    json_t *run = json_array_get(json_object_get(r.json, "runs"), 0);
    ck_assert_msg(run != NULL, "%s", r.body.data);
    ck_assert_str_eq(json_str(run, "status"), "failed");
    ck_assert_str_eq(json_str(run, "error"), "the process running it stopped (no lock held)");
    json_t *steps = json_object_get(run, "steps");
    ck_assert_str_eq(json_str(json_array_get(steps, 0), "status"), "succeeded");
    ck_assert_str_eq(json_str(json_array_get(steps, 1), "status"), "failed");
    tu_http_result_free(&r);
    owner_exec("delete from etl.pipeline_run;");
}
END_TEST

/* ---- database down ----------------------------------------------------------------- */

START_TEST(database_down_is_503)
{
    /* a new generation: the answers other tests left in Redis must not stand in for the
     * database here */
    char err[512];
    ck_assert_int_eq(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err), CP_OK);
    struct tu_server down;
    memset(&down, 0, sizeof down);
    server_start(&down, DEAD_DATABASE_URL);

    struct tu_http_result r;
    http_request(&r, &down, "GET", "/v1/charts/global/1999-01-02", NULL, NULL, 0);
    assert_problem(&r, 503, NULL);
    ck_assert_str_eq(json_str(r.json, "type"),
                     "https://chartpulse.dev/problems/database-unavailable");
    char value[64];
    ck_assert(header(&r, "Retry-After", value, sizeof value));
    tu_http_result_free(&r);

    http_request(&r, &down, "GET", "/readyz", NULL, NULL, 0);
    assert_problem(&r, 503, NULL);
    tu_http_result_free(&r);

    http_request(&r, &down, "GET", "/v1/catalog", NULL, NULL, 0);
    assert_problem(&r, 503, NULL);
    tu_http_result_free(&r);

    /* handlers validate before they take a connection: a bad parameter is the client's
     * mistake and says so (400), even while the database is down */
    static const struct {
        const char *path;
        const char *parameter;
    } bad[] = {
        {"/v1/charts/XX/latest", "region"},
        {"/v1/charts/global/1999-02-30", "date"},
        {"/v1/charts/global/latest?limit=0", "limit"},
        {"/v1/catalog?limit=5000", "limit"},
        {"/v1/catalog?status=done", "status"},
        {"/v1/catalog/abc/rejects", "object_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_request(&r, &down, "GET", bad[i].path, NULL, NULL, 0);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s:", bad[i].parameter);
        assert_problem(&r, 400, prefix);
        tu_http_result_free(&r);
    }

    /* liveness needs no database */
    http_request(&r, &down, "GET", "/healthz", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_str(r.json, "status"), "ok");
    tu_http_result_free(&r);

    server_stop(&down);
}
END_TEST

START_TEST(port_in_use_fails_clearly)
{
    struct cp_config cfg;
    char err[512], listen[32];
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", cp_server_port(live.server));
    ck_assert_int_eq(cp_config_set(&cfg, "CHARTPULSE_LISTEN", listen, err, sizeof err), CP_OK);
    struct cp_server *second = NULL;
    ck_assert_int_eq(cp_server_start(&cfg, NULL, &second, err, sizeof err), CP_ERR_IO);
    ck_assert_ptr_null(second);
    ck_assert_msg(strstr(err, "Address already in use") != NULL, "err: %s", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "err is not one line: %s", err);
    cp_config_cleanup(&cfg);
}
END_TEST

/* ---- uploads ----------------------------------------------------------------------- */

#define ADMIN_TOKEN "test-admin-token"
static const char *const ADMIN_AUTH[] = {"Authorization: Bearer " ADMIN_TOKEN, NULL};

static void admin_server_start(struct tu_server *ts, const struct cp_server_opts *opts)
{
    const char *const settings[] = {"CHARTPULSE_ADMIN_TOKEN", ADMIN_TOKEN, NULL};
    tu_server_start(ts, settings, opts);
}

/* How many files the suite's raw zone holds. */
static int raw_file_count(void)
{
    const char *uri = getenv("CHARTPULSE_RAW_URI");
    ck_assert_msg(uri && !strncmp(uri, "file://", 7), "CHARTPULSE_RAW_URI: %s", uri);
    char *cmd = cp_asprintf("find '%s' -type f 2>/dev/null | wc -l", uri + 7);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    int count = -1;
    ck_assert_int_eq(fscanf(p, "%d", &count), 1);
    pclose(p);
    free(cmd);
    return count;
}

/* A one-row chart of Argentina's daily series (no other test uses it), distinct per n. */
static char *upload_body(int n)
{
    return cp_asprintf("rank,uri,artist_names,track_name,source,peak_rank,previous_rank,"
                       "days_on_chart,streams\n"
                       "1,\"spotify:track:%022d\",\"Upload Artist\",\"Upload Song %d\","
                       "\"Label\",1,-1,1,\"%d\"\n",
                       n, n, 1000 + n);
}

/* A file name must be one a catalog can list and a file system can hold: valid UTF-8, no
 * control or bidirectional-override characters, no path, a sane length, a .csv ending.
 * Each is refused with a 400 naming the problem, before anything is stored. */
START_TEST(upload_bad_file_names_are_400_and_store_nothing)
{
    struct tu_server admin;
    admin_server_start(&admin, NULL);
    char *objects_before = owner_value("select count(*) from catalog.raw_object");
    int files_before = raw_file_count();
    char *body = upload_body(1);
    char *long_name = cp_malloc(301);
    memset(long_name, 'a', 296);
    memcpy(long_name + 296, ".csv", 5);
    char *long_path = cp_asprintf("/v1/uploads?filename=%s", long_name);
    static const struct {
        const char *path;
        const char *detail;
    } bad[] = {
        {"/v1/uploads?filename=se%FF.csv", "filename: not valid UTF-8 at offset 2 (byte 0xff)"},
        {"/v1/uploads?filename=se%C3.csv", "filename: not valid UTF-8"},
        {"/v1/uploads?filename=a%01b.csv", "filename: contains the control character U+0001"},
        {"/v1/uploads?filename=a%C2%85b.csv", "filename: contains the control character U+0085"},
        {"/v1/uploads?filename=x%E2%80%AEvsc.csv",
         "filename: contains the control character U+202E"},
        {"/v1/uploads?filename=..%2F..%2Fetc%2Fpasswd.csv", "filename: must be a plain file name"},
        {"/v1/uploads?filename=a%5Cb.csv", "filename: must be a plain file name"},
        {"/v1/uploads?filename=.hidden.csv", "filename: must not start with '.'"},
        {"/v1/uploads?filename=notes.txt", "filename: must end in .csv"},
        {"/v1/uploads?filename=.csv", "filename: must not start with '.'"},
        {"/v1/uploads?filename=", "filename: required"},
    };
    struct tu_http_result r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_request(&r, &admin, "POST", bad[i].path, ADMIN_AUTH, body, strlen(body));
        ck_assert_msg(r.status == 400, "%s: %ld %s", bad[i].path, r.status, r.body.data);
        assert_problem(&r, 400, bad[i].detail);
        tu_http_result_free(&r);
    }
    http_request(&r, &admin, "POST", long_path, ADMIN_AUTH, body, strlen(body));
    assert_problem(&r, 400, "filename: at most 255 bytes (got 300)");
    tu_http_result_free(&r);

    char *objects_after = owner_value("select count(*) from catalog.raw_object");
    ck_assert_str_eq(objects_after, objects_before);
    ck_assert_int_eq(raw_file_count(), files_before);
    /* the same body under a good name is stored: the refusals were the names' */
    http_request(&r, &admin, "POST", "/v1/uploads?filename=regional-ar-daily-1999-03-01.csv",
                 ADMIN_AUTH, body, strlen(body));
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body.data);
    tu_http_result_free(&r);
    char *objects_stored = owner_value("select count(*) - 1 from catalog.raw_object");
    ck_assert_str_eq(objects_stored, objects_before);
    free(objects_stored);
    free(objects_after);
    free(objects_before);
    free(long_path);
    free(long_name);
    free(body);
    server_stop(&admin);
}
END_TEST

/* Only the exact token passes: a prefix, an extension, one character off or another
 * scheme is a 401 with WWW-Authenticate (compared as digests, handlers/handler.c). */
START_TEST(admin_token_must_match_exactly)
{
    struct tu_server admin;
    admin_server_start(&admin, NULL);
    static const char *const wrong[] = {
        "Authorization: Bearer test-admin-toke",  "Authorization: Bearer test-admin-tokenx",
        "Authorization: Bearer test-admin-tokeN", "Authorization: Bearer ",
        "Authorization: Basic test-admin-token",  "Authorization: test-admin-token",
    };
    struct tu_http_result r;
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        const char *const headers[] = {wrong[i], NULL};
        http_request(&r, &admin, "POST", "/v1/uploads?filename=x.txt", headers, "x", 1);
        ck_assert_msg(r.status == 401, "%s: %ld", wrong[i], r.status);
        char value[64];
        ck_assert(header(&r, "WWW-Authenticate", value, sizeof value));
        tu_http_result_free(&r);
    }
    /* the right token gets past the check (to the file name's 400: nothing is stored) */
    http_request(&r, &admin, "POST", "/v1/uploads?filename=x.txt", ADMIN_AUTH, "x", 1);
    assert_problem(&r, 400, "filename:");
    tu_http_result_free(&r);
    server_stop(&admin);
}
END_TEST

struct upload_call {
    const struct tu_server *server;
    char *path;
    char *body;
    struct tu_http_result result;
    atomic_bool done;
};

static void *upload_thread(void *arg)
{
    struct upload_call *call = arg;
    http_request(&call->result, call->server, "POST", call->path, ADMIN_AUTH, call->body,
                 strlen(call->body));
    atomic_store(&call->done, true);
    return NULL;
}

static int uploads_done(struct upload_call *calls, int n)
{
    int done = 0;
    for (int i = 0; i < n; i++)
        done += atomic_load(&calls[i].done);
    return done;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define CONCURRENT_UPLOADS 6

/* More uploads at once than the server runs: the reads keep answering at once (uploads
 * have their own workers and owner connections), and the uploads beyond those running
 * and the few queued get a clean 503 with Retry-After at once, never a 500. A session here
 * holds the series' load lock, so the uploads that run wait as long as the test needs;
 * should a read wait behind them anyway, PostgreSQL ends that session after 8 s
 * (idle_in_transaction_session_timeout) and the read's time shows it. */
START_TEST(concurrent_uploads_never_block_reads)
{
    struct cp_server_opts opts;
    tu_server_opts(&opts);
    opts.write_workers = 2;
    opts.write_queue_max = 2;
    struct tu_server admin;
    admin_server_start(&admin, &opts);

    char err[512];
    PGconn *holder = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(holder != NULL, "%s", err);
    PGresult *res = PQexec(holder, "set idle_in_transaction_session_timeout = '8s'; begin;"
                                   " select pg_advisory_xact_lock("
                                   "  hashtextextended('regional/ar/daily', 0))");
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);

    /* two uploads first, until both run (they wait for the series lock), then the rest:
     * so which of them queue and which are refused does not depend on thread timing */
    struct upload_call calls[CONCURRENT_UPLOADS];
    pthread_t threads[CONCURRENT_UPLOADS];
    for (int i = 0; i < CONCURRENT_UPLOADS; i++) {
        calls[i].server = &admin;
        calls[i].path =
            cp_asprintf("/v1/uploads?filename=regional-ar-daily-1999-04-%02d.csv", i + 1);
        calls[i].body = upload_body(100 + i);
        atomic_init(&calls[i].done, false);
    }
    for (int i = 0; i < CONCURRENT_UPLOADS; i++) {
        if (i == 2) {
            char *waiting = NULL;
            for (int tries = 0; tries < 100; tries++) {
                free(waiting);
                waiting = owner_value("select count(*) from pg_locks where locktype = 'advisory'"
                                      " and not granted");
                if (atoi(waiting) >= 2)
                    break;
                usleep(100 * 1000);
            }
            ck_assert_msg(atoi(waiting) >= 2, "uploads waiting for the lock: %s", waiting);
            free(waiting);
        }
        ck_assert_int_eq(pthread_create(&threads[i], NULL, upload_thread, &calls[i]), 0);
    }

    for (int i = 0; i < 3; i++) {
        struct tu_http_result r;
        double started = now_seconds();
        http_request(&r, &admin, "GET", "/v1/catalog?limit=1", NULL, NULL, 0);
        double took = now_seconds() - started;
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
        ck_assert_msg(took < 1.0, "a read took %.2f s while uploads were going", took);
        tu_http_result_free(&r);
    }
    /* two running, two queued: the other two are refused without waiting */
    for (int i = 0; i < 100 && uploads_done(calls, CONCURRENT_UPLOADS) < 2; i++)
        usleep(50 * 1000);
    int done = uploads_done(calls, CONCURRENT_UPLOADS);
    for (int i = 0; i < CONCURRENT_UPLOADS && done != 2; i++)
        if (atomic_load(&calls[i].done))
            fprintf(stderr, "%s: %ld %s\n", calls[i].path, calls[i].result.status,
                    calls[i].result.body.data);
    ck_assert_int_eq(done, 2);

    PQclear(PQexec(holder, "commit"));
    PQfinish(holder);
    int created = 0, busy = 0;
    for (int i = 0; i < CONCURRENT_UPLOADS; i++) {
        pthread_join(threads[i], NULL);
        struct tu_http_result *r = &calls[i].result;
        if (r->status == 503) {
            assert_problem(r, 503, "the upload and pipeline-start queue is full");
            ck_assert_str_eq(json_str(r->json, "type"), "https://chartpulse.dev/problems/busy");
            char value[16];
            ck_assert_msg(header(r, "Retry-After", value, sizeof value), "no Retry-After");
            busy++;
        } else {
            ck_assert_msg(r->status == 201, "%s: %ld %s", calls[i].path, r->status, r->body.data);
            created++;
        }
        tu_http_result_free(r);
        free(calls[i].path);
        free(calls[i].body);
    }
    ck_assert_int_eq(created, 4);
    ck_assert_int_eq(busy, 2);
    server_stop(&admin);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, healthz_is_ok);
    tcase_add_test(tc, readyz_is_ready);
    tcase_add_test(tc, head_has_no_body);
    tcase_add_test(tc, chart_by_date);
    tcase_add_test(tc, chart_first_of_series_has_no_previous);
    tcase_add_test(tc, chart_latest_viral);
    tcase_add_test(tc, chart_without_entries);
    tcase_add_test(tc, chart_missing_is_404);
    tcase_add_test(tc, chart_bad_parameters_are_400);
    tcase_add_test(tc, limit_max_is_accepted);
    tcase_add_test(tc, catalog_lists_newest_first);
    tcase_add_test(tc, catalog_filters);
    tcase_add_test(tc, catalog_pages);
    tcase_add_test(tc, catalog_rejects_of_an_object);
    tcase_add_test(tc, catalog_bad_parameters_are_400);
    tcase_add_test(tc, unknown_path_is_404);
    tcase_add_test(tc, wrong_method_is_405_with_allow);
    tcase_add_test(tc, options_answers_preflight);
    tcase_add_test(tc, oversized_body_is_413);
    tcase_add_test(tc, etag_and_if_none_match);
    tcase_add_test(tc, gzip_when_accepted);
    tcase_add_test(tc, request_id_echoed_or_generated);
    tcase_add_test(tc, cors_on_get);
    tcase_add_test(tc, keep_alive_connection_serves_many);
    tcase_add_test(tc, pipeline_runs_list_dead_run_as_failed);
    tcase_add_test(tc, database_down_is_503);
    tcase_add_test(tc, port_in_use_fails_clearly);
    /* last: they add objects to the catalog the tests above list */
    tcase_add_test(tc, admin_token_must_match_exactly);
    tcase_add_test(tc, upload_bad_file_names_are_400_and_store_nothing);
    tcase_add_test(tc, concurrent_uploads_never_block_reads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(api_suite());
}
