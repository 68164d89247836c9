/* Hostile input end to end (docs/security.md): request targets and query strings built to
 * confuse the response cache, the parameter parser, the request framing and the logs, and
 * chart text built to run as a spreadsheet formula. A real server on port 0, real
 * PostgreSQL and Redis; requests go byte for byte over a socket where libcurl would
 * rewrite them. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/generation.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "server/http.h"
#include "tests/testutil.h"

#define HOSTILE_TEST_DATABASE "chartpulse_test_hostile"
/* Fixture tracks: CPHOSTILE + 13 digits. Two global daily charts in February 1999: track 1
 * (a formula for a name, a formula-like artist) falls from #1 to #2, track 2 climbs. */
#define TRACK_1 "CPHOSTILE0000000000001"
#define TRACK_2 "CPHOSTILE0000000000002"

/* clang-format off */
static const char FIXTURE_SQL[] =
    "select etl.ensure_chart_entry_partitions('1999-02-01', '1999-02-28');"
    "insert into core.track (track_id, name, artist_names) values"
    " ('" TRACK_1 "', '=HYPERLINK(\"http://evil.example/\",\"click\")', '@evil'),"
    " ('" TRACK_2 "', 'Plain Song', 'Plain Artist');"
    "insert into core.chart (chart_kind, region, period, chart_date, entries) values"
    " ('regional', 'global', 'daily', '1999-02-01', 2),"
    " ('regional', 'global', 'daily', '1999-02-02', 2);"
    "insert into core.chart_entry (chart_kind, region, period, chart_date, rank, track_id,"
    "  streams, derived_previous_rank, derived_movement, derived_peak_rank,"
    "  derived_periods_on_chart, streak) values"
    " ('regional', 'global', 'daily', '1999-02-01', 1, '" TRACK_1 "', 2000, null, 'new', 1, 1, 1),"
    " ('regional', 'global', 'daily', '1999-02-01', 2, '" TRACK_2 "', 1000, null, 'new', 2, 1, 1),"
    " ('regional', 'global', 'daily', '1999-02-02', 1, '" TRACK_2 "', 3000, 2, 'up', 1, 2, 2),"
    " ('regional', 'global', 'daily', '1999-02-02', 2, '" TRACK_1 "', 1500, 1, 'down', 1, 2, 2);";
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

static void suite_setup(void)
{
    char *owner_url = tu_serve_fresh_database(HOSTILE_TEST_DATABASE);
    free(owner_url);
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    char err[512];
    PGconn *conn = cp_db_connect(getenv("DATABASE_URL"), err, sizeof err);
    ck_assert_msg(conn != NULL, "cannot connect as the owner: %s", err);
    ck_assert_msg(cp_migrate_run(conn, NULL, err, sizeof err) == CP_OK, "migrate: %s", err);
    PQfinish(conn);
    owner_exec(FIXTURE_SQL);
    /* a generation of our own: nothing another run cached answers here */
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK,
                  "cache bump: %s", err);
}

static void suite_teardown(void)
{
    curl_global_cleanup();
}

static struct tu_server live;

static void test_setup(void)
{
    tu_server_start(&live, NULL, NULL);
}

static void test_teardown(void)
{
    tu_server_stop(&live);
}

/* ---- helpers ----------------------------------------------------------------------- */

static void get(struct tu_http_result *r, const char *target)
{
    char *url = cp_asprintf("%s%s", live.base, target);
    tu_http_request(r, "GET", url, NULL, NULL, 0);
    free(url);
}

static void header_of(const struct tu_http_result *r, const char *name, char *out, size_t outlen)
{
    if (!tu_http_header(r->headers.data, name, out, outlen))
        out[0] = '\0';
}

/* A 400 problem document whose detail starts with want. */
static void assert_bad_request(const char *target, const char *want)
{
    struct tu_http_result r;
    get(&r, target);
    ck_assert_msg(r.status == 400, "%s: %ld %s", target, r.status, r.body.data);
    char type[128];
    header_of(&r, "Content-Type", type, sizeof type);
    ck_assert_str_eq(type, "application/problem+json");
    const char *detail = json_string_value(json_object_get(r.json, "detail"));
    ck_assert_msg(detail && !strncmp(detail, want, strlen(want)),
                  "%s: detail '%s' does not start with '%s'", target, detail ? detail : "(none)",
                  want);
    tu_http_result_free(&r);
}

static char *raw_exchange(const char *request, size_t len)
{
    return tu_raw_exchange(cp_server_port(live.server), request, len);
}

/* ---- 1. the response cache keys on the route, not on the decoded path ---------------- */

/* A track's open.spotify.com URL given as its id, percent-encoded into one segment. */
#define URL_PREFIX "/v1/tracks/open.spotify.com%2Ftrack%2F"

/* `URL_PREFIX <id>%3Fsi%3D%2Fhistory` is the track document (one {id} segment: a URL with
 * the query `si=/history`); `URL_PREFIX <id>%3Fsi%3D/history` is the history route. Both
 * decode to the same path: a key built from it gave the second the first's answer, from
 * level 1 and, after a restart, from Redis. */
START_TEST(cache_key_is_the_route_and_its_parameters)
{
    static const char doc_target[] = URL_PREFIX TRACK_1 "%3Fsi%3D%2Fhistory";
    static const char history_target[] = URL_PREFIX TRACK_1 "%3Fsi%3D/history";
    struct tu_http_result doc, history, direct;
    get(&doc, doc_target);
    ck_assert_msg(doc.status == 200, "%s: %ld %s", doc_target, doc.status, doc.body.data);
    get(&history, history_target);
    ck_assert_msg(history.status == 200, "%ld %s", history.status, history.body.data);
    char x_cache[32], doc_etag[64], history_etag[64];
    header_of(&history, "X-Cache", x_cache, sizeof x_cache);
    ck_assert_str_eq(x_cache, "miss");
    header_of(&doc, "ETag", doc_etag, sizeof doc_etag);
    header_of(&history, "ETag", history_etag, sizeof history_etag);
    ck_assert_str_ne(doc_etag, history_etag);
    get(&direct, "/v1/tracks/" TRACK_1 "/history");
    ck_assert_str_eq(history.body.data, direct.body.data);
    tu_http_result_free(&doc);
    tu_http_result_free(&history);
    tu_http_result_free(&direct);

    /* level 2: the document of track 2 goes to Redis; a new server asked for the history
     * must not find it there */
    static const char doc2_target[] = URL_PREFIX TRACK_2 "%3Fsi%3D%2Fhistory";
    static const char history2_target[] = URL_PREFIX TRACK_2 "%3Fsi%3D/history";
    get(&doc, doc2_target);
    ck_assert_int_eq(doc.status, 200);
    tu_http_result_free(&doc);
    tu_server_stop(&live); /* joins the workers: the Redis write is done */
    tu_server_start(&live, NULL, NULL);
    get(&history, history2_target);
    ck_assert_int_eq(history.status, 200);
    header_of(&history, "X-Cache", x_cache, sizeof x_cache);
    ck_assert_str_eq(x_cache, "miss");
    get(&direct, "/v1/tracks/" TRACK_2 "/history");
    ck_assert_str_eq(history.body.data, direct.body.data);
    tu_http_result_free(&history);
    tu_http_result_free(&direct);
}
END_TEST

/* ---- 2. query parameters: only the route's, once each, as text ----------------------- */

START_TEST(query_values_must_be_text)
{
    /* was 503 (the bytes reached PostgreSQL as an encoding error) */
    assert_bad_request("/v1/catalog?source=%FF", "source: not valid UTF-8");
    /* was read as limit=5 */
    assert_bad_request("/v1/charts/global/latest?limit=5%00abc", "limit: contains a NUL byte");
    assert_bad_request("/v1/search?q=%C0%AF", "q: not valid UTF-8"); /* an overlong '/' */
}
END_TEST

START_TEST(query_names_are_the_routes_and_given_once)
{
    /* was: the first taken */
    assert_bad_request("/v1/charts/global/latest?limit=5&limit=6", "parameter 'limit' given twice");
    /* was: accepted, and one more cache entry per name */
    assert_bad_request("/v1/charts/global/latest?foo=1", "unknown query parameter 'foo'");
    assert_bad_request("/v1/tracks/" TRACK_1 "?region=global", "unknown query parameter 'region'");
    assert_bad_request("/healthz?x", "unknown query parameter 'x'");
    assert_bad_request("/v1/search?q=a&%FF=1", "unknown query parameter '\\xff'");
    /* was: the 33rd and later dropped unread */
    struct cp_buf target;
    cp_buf_init(&target, TU_SHORT_MAX);
    cp_buf_adds(&target, "/v1/search?q=a");
    for (int i = 0; i < 32; i++)
        cp_buf_adds(&target, "&limit=1");
    char *many = cp_buf_take(&target, NULL);
    assert_bad_request(many, "more than 32 query parameters");
    free(many);
}
END_TEST

START_TEST(documented_query_strings_still_work)
{
    static const char *const targets[] = {
        "/v1/search?q=plain+song&limit=5", /* '+' is a space */
        "/v1/charts/global/1999-02-02?period=daily&kind=regional&limit=2&format=csv",
        "/v1/trends/movers?date=1999-02-02&limit=5",
        "/v1/catalog?limit=5&offset=0",
        "/?view=track&id=" TRACK_1 "&region=global", /* the dashboard's own state */
        "/v1/tracks/" TRACK_1 "?",                   /* an empty query */
        "/v1/charts/global/latest?&&limit=1&",       /* empty pairs */
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        struct tu_http_result r;
        get(&r, targets[i]);
        ck_assert_msg(r.status == 200, "%s: %ld %s", targets[i], r.status, r.body.data);
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(path_parameters_must_be_text)
{
    static const char *const targets[] = {"/v1/tracks/%FF", "/v1/artists/%C3%28",
                                          "/v1/charts/glob%00al/latest", "/v1/catalog/%FF/rejects"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        struct tu_http_result r;
        get(&r, targets[i]);
        ck_assert_msg(r.status == 404, "%s: %ld %s", targets[i], r.status, r.body.data);
        tu_http_result_free(&r);
    }
}
END_TEST

/* ---- 3. request framing ----------------------------------------------------------- */

/* Two Content-Length headers: libmicrohttpd reads the first, a proxy might honour the
 * other, and the bytes left over would become a request of their own. */
START_TEST(two_content_lengths_are_refused)
{
    static const char request[] = "POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Length: 5\r\nContent-Length: 40\r\n\r\n"
                                  "helloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char *answer = raw_exchange(request, sizeof request - 1);
    ck_assert_int_eq(tu_raw_status(answer), 400);
    ck_assert_msg(strstr(answer, "application/problem+json") != NULL, "%s", answer);
    ck_assert_msg(strstr(answer, "more than one Content-Length header") != NULL, "%s", answer);
    ck_assert_msg(strstr(answer + 12, "HTTP/1.1") == NULL, "a second answer: %s", answer);
    free(answer);
}
END_TEST

START_TEST(content_length_beside_chunked_is_refused)
{
    static const char request[] = "POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "0\r\n\r\n";
    char *answer = raw_exchange(request, sizeof request - 1);
    ck_assert_int_eq(tu_raw_status(answer), 400);
    ck_assert_msg(strstr(answer, "both Content-Length and Transfer-Encoding") != NULL, "%s",
                  answer);
    free(answer);
}
END_TEST

/* MHD_OPTION_STRICT_FOR_CLIENT: an HTTP/1.1 request must say which host it is for. */
START_TEST(http11_without_host_is_refused)
{
    static const char request[] = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
    char *answer = raw_exchange(request, sizeof request - 1);
    ck_assert_int_eq(tu_raw_status(answer), 400);
    free(answer);
}
END_TEST

/* ---- 4. logs ------------------------------------------------------------------------ */

/* Runs one GET of target with the request log on, and returns what the process wrote to
 * stderr meanwhile (the server is stopped first, so its access line is written). */
static char *logged_by(const char *target, enum cp_log_format format)
{
    struct tu_stderr capture;
    tu_stderr_begin(&capture);
    cp_log_init(format, CP_LOG_INFO);
    char *request =
        cp_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target);
    free(raw_exchange(request, strlen(request)));
    free(request);
    tu_server_stop(&live);
    char *text = tu_stderr_end(&capture);
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    tu_server_start(&live, NULL, NULL); /* for the teardown */
    return text;
}

START_TEST(a_newline_in_the_path_cannot_forge_a_log_line)
{
    char *text = logged_by("/v1/x%0A2099-01-01T00:00:00.000Z%20info%20forged", CP_LOG_TEXT);
    ck_assert_msg(strstr(text, "\n2099-01-01") == NULL && strncmp(text, "2099", 4) != 0,
                  "a forged line: %s", text);
    ck_assert_msg(strstr(text, "path=/v1/x\\x0a2099-01-01T00:00:00.000Z info forged") != NULL,
                  "the path is not escaped: %s", text);
    free(text);
}
END_TEST

START_TEST(a_json_log_line_keeps_a_path_that_is_not_utf8)
{
    char *text = logged_by("/v1/%FF", CP_LOG_JSON);
    ck_assert_msg(strstr(text, "\"path\":\"/v1/\\\\xff\"") != NULL, "no path field: %s", text);
    free(text);
}
END_TEST

/* ---- 5. CSV answers ----------------------------------------------------------------- */

START_TEST(csv_text_cannot_run_as_a_formula)
{
    struct tu_http_result r;
    get(&r, "/v1/trends/movers?date=1999-02-02&format=csv");
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body.data);
    ck_assert_msg(strstr(r.body.data,
                         ",\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\","
                         "'@evil,") != NULL,
                  "formula not neutralised: %s", r.body.data);
    ck_assert_msg(strstr(r.body.data, ",-1," TRACK_1 ",") != NULL, "rank_change changed: %s",
                  r.body.data);
    ck_assert_msg(strstr(r.body.data, "Plain Song,Plain Artist") != NULL, "%s", r.body.data);
    tu_http_result_free(&r);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, cache_key_is_the_route_and_its_parameters);
    tcase_add_test(tc, query_values_must_be_text);
    tcase_add_test(tc, query_names_are_the_routes_and_given_once);
    tcase_add_test(tc, documented_query_strings_still_work);
    tcase_add_test(tc, path_parameters_must_be_text);
    tcase_add_test(tc, two_content_lengths_are_refused);
    tcase_add_test(tc, content_length_beside_chunked_is_refused);
    tcase_add_test(tc, http11_without_host_is_refused);
    tcase_add_test(tc, a_newline_in_the_path_cannot_forge_a_log_line);
    tcase_add_test(tc, a_json_log_line_keeps_a_path_that_is_not_utf8);
    tcase_add_test(tc, csv_text_cannot_run_as_a_formula);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(hostile_suite());
}
