/* Hostile input end to end (docs/security.md): request targets and query strings built to
 * confuse the response cache, the parameter parser, the request framing and the logs, and
 * chart text built to run as a spreadsheet formula. A real server on port 0, real
 * PostgreSQL and Redis; requests go byte for byte over a socket where libcurl would
 * rewrite them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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
    /* both test cases share the database; the first to start sets it up */
    static bool done;
    if (done)
        return;
    done = true;
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

/* ---- 6. connection defences ----------------------------------------------------------- */

/* These tests start servers with settings of their own (no `live` server). */
static struct tu_server own;

static void own_teardown(void)
{
    if (own.server)
        tu_server_stop(&own);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A TCP connection to the server from source address src (any 127.x.y.z is loopback), or -1
 * when the connection is refused. */
static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    ck_assert_int_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
    ck_assert_msg(bind(fd, (struct sockaddr *)&from, sizeof from) == 0, "bind %s: %s", src,
                  strerror(errno));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends request on fd and reads the answer until the server closes the connection or
 * timeout_s passes. Returns what arrived (maybe empty), NUL-terminated. */
static char *exchange_on(int fd, const char *request, size_t len, double timeout_s)
{
    ck_assert_int_eq(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    struct cp_buf answer;
    cp_buf_init(&answer, 1 << 20);
    double until = now_s() + timeout_s;
    for (;;) {
        int left_ms = (int)((until - now_s()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0)
            break;
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            break;
        ck_assert_int_eq(cp_buf_add(&answer, chunk, (size_t)n), CP_OK);
    }
    cp_buf_add(&answer, "", 1);
    return cp_buf_take(&answer, NULL);
}

/* Whether the server has closed fd (EOF or reset), waiting up to timeout_s. */
static bool closed_by_server(int fd, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        int left_ms = (int)((until - now_s()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0)
            return false;
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
}

/* The value of one sample of the server's /metrics, or -1 when absent. */
static long long metric_of(struct tu_server *ts, const char *sample)
{
    char *url = cp_asprintf("%s/metrics", ts->base);
    struct tu_http_result r;
    tu_http_request(&r, "GET", url, NULL, NULL, 0);
    free(url);
    long long value = -1;
    char *line = r.body.data ? strstr(r.body.data, sample) : NULL;
    if (line && line[strlen(sample)] == ' ')
        value = atoll(line + strlen(sample) + 1);
    tu_http_result_free(&r);
    return value;
}

/* A request's body was read before anything looked at its path or token: 400 connections
 * announcing 1 MB each to a path that does not exist grew the server by 400 MB. The head is
 * judged first now; the answer comes without a byte of the body sent. */
START_TEST(a_body_is_refused_before_it_is_read)
{
    static const char *const settings[] = {"CHARTPULSE_ADMIN_TOKEN", "the-token", NULL};
    tu_server_start(&own, settings, NULL);
    int port = cp_server_port(own.server);
    struct {
        const char *head;
        int status;
    } cases[] = {
        {"POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", 404},
        {"POST /v1/nothing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 404},
        {"POST /v1/regions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", 405},
        {"POST /v1/uploads?filename=a.csv HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
         401},
        {"POST /v1/uploads?filename=a.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         401},
        {"POST /v1/uploads?nope=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer the-token\r\n"
         "Content-Length: 1000000\r\n\r\n",
         400},
        {"POST /v1/pipeline/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", 401},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = connect_from("127.0.0.1", port);
        ck_assert_int_ge(fd, 0);
        char *answer = exchange_on(fd, cases[i].head, strlen(cases[i].head), 5.0);
        ck_assert_msg(answer[0], "no answer before the body to: %s", cases[i].head);
        ck_assert_msg(tu_raw_status(answer) == cases[i].status, "%s -> %.300s", cases[i].head,
                      answer);
        ck_assert_msg(strstr(answer, "application/problem+json") != NULL, "%s", answer);
        ck_assert_msg(closed_by_server(fd, 2.0), "the connection stays open: %s", cases[i].head);
        free(answer);
        close(fd);
    }
}
END_TEST

/* A chunked body has no length to refuse up front: it was read to its end (500 MB) before
 * the 413. The connection now closes as soon as the cap is crossed. */
START_TEST(a_chunked_body_past_the_cap_is_not_read_to_its_end)
{
    static const char *const settings[] = {"CHARTPULSE_ADMIN_TOKEN", "the-token", NULL};
    struct cp_server_opts opts;
    tu_server_opts(&opts);
    opts.max_request_body_bytes = 64 * 1024;
    tu_server_start(&own, settings, &opts);
    int fd = connect_from("127.0.0.1", cp_server_port(own.server));
    ck_assert_int_ge(fd, 0);
    static const char head[] = "POST /v1/uploads?filename=a.csv HTTP/1.1\r\nHost: x\r\n"
                               "Authorization: Bearer the-token\r\nContent-Type: text/csv\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    ck_assert_int_eq(send(fd, head, sizeof head - 1, MSG_NOSIGNAL), (ssize_t)(sizeof head - 1));
    /* 256 MiB offered in 64 KiB chunks; the server must stop taking them long before */
    static char chunk[8 + 65536 + 2];
    int n = snprintf(chunk, sizeof chunk, "10000\r\n");
    memset(chunk + n, 'x', 65536);
    memcpy(chunk + n + 65536, "\r\n", 2);
    size_t chunk_len = (size_t)n + 65536 + 2;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    unsigned long long sent = 0;
    const unsigned long long offered = 256ull << 20;
    while (sent < offered) {
        ssize_t w = send(fd, chunk, chunk_len, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (unsigned long long)w;
    }
    ck_assert_msg(sent < offered, "the server read all %llu bytes", sent);
    ck_assert_msg(sent < (64ull << 20), "the server read %llu bytes past a 64 KiB cap", sent);
    close(fd);
}
END_TEST

/* One header byte every few seconds held a connection for ever (the idle timeout restarts
 * on each byte). A request head must now be complete within CHARTPULSE_HEADER_TIMEOUT. */
START_TEST(a_request_head_has_a_deadline)
{
    static const char *const settings[] = {"CHARTPULSE_HEADER_TIMEOUT", "1", NULL};
    tu_server_start(&own, settings, NULL);
    int port = cp_server_port(own.server);
    int slow = connect_from("127.0.0.1", port);
    ck_assert_int_ge(slow, 0);
    static const char head[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    double started = now_s();
    bool closed = false;
    for (size_t i = 0; i < sizeof head - 1 && !closed; i++) {
        if (send(slow, head + i, 1, MSG_NOSIGNAL) != 1)
            closed = true;
        else
            closed = closed_by_server(slow, 0.3);
    }
    double took = now_s() - started;
    ck_assert_msg(closed, "a head dripped over %.1f s was still being read", took);
    ck_assert_msg(took < 4.0, "closed only after %.1f s", took);
    close(slow);
    ck_assert_int_ge(metric_of(&own, "chartpulse_http_refused_total{reason=\"head_timeout\"}"), 1);

    /* a head sent at once is answered as always, and the next one on the connection too */
    int fd = connect_from("127.0.0.1", port);
    char *answer = exchange_on(fd, head, sizeof head - 1, 0.5);
    ck_assert_int_eq(tu_raw_status(answer), 200);
    free(answer);
    answer = exchange_on(fd, head, sizeof head - 1, 0.5);
    ck_assert_int_eq(tu_raw_status(answer), 200);
    free(answer);
    close(fd);
}
END_TEST

/* One client's flood of database requests is its own problem: it gets 429 with Retry-After
 * past its share, and a client at another address is served as before. */
START_TEST(a_client_over_its_rate_gets_429)
{
    static const char *const settings[] = {"CHARTPULSE_RATE_LIMIT", "2/s,5", NULL};
    tu_server_start(&own, settings, NULL);
    int port = cp_server_port(own.server);
    static const char request[] = "GET /v1/catalog?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n";
    int ok = 0, limited = 0;
    char *refusal = NULL;
    for (int i = 0; i < 8; i++) {
        int fd = connect_from("127.0.0.1", port);
        char *answer = exchange_on(fd, request, sizeof request - 1, 5.0);
        int status = tu_raw_status(answer);
        if (status == 200)
            ok++;
        else if (status == 429 && !refusal)
            refusal = cp_strdup(answer);
        limited += status == 429;
        free(answer);
        close(fd);
    }
    ck_assert_msg(ok >= 5 && ok <= 6 && limited == 8 - ok, "%d answered, %d refused", ok, limited);
    ck_assert_msg(strstr(refusal, "Retry-After: ") != NULL, "%s", refusal);
    ck_assert_msg(strstr(refusal, "application/problem+json") != NULL, "%s", refusal);
    ck_assert_msg(strstr(refusal, "https://chartpulse.dev/problems/rate-limited") != NULL, "%s",
                  refusal);
    free(refusal);
    ck_assert_int_eq(metric_of(&own, "chartpulse_http_refused_total{reason=\"rate_limit\"}"),
                     limited);

    int other = connect_from("127.0.0.3", port);
    char *answer = exchange_on(other, request, sizeof request - 1, 5.0);
    ck_assert_int_eq(tu_raw_status(answer), 200);
    free(answer);
    close(other);
    /* answers that need no database are not counted */
    static const char health[] =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < 20; i++) {
        int fd = connect_from("127.0.0.1", port);
        answer = exchange_on(fd, health, sizeof health - 1, 5.0);
        ck_assert_int_eq(tu_raw_status(answer), 200);
        free(answer);
        close(fd);
    }
}
END_TEST

static size_t discard(char *data, size_t size, size_t n, void *cls)
{
    (void)data;
    (void)cls;
    return size * n;
}

/* With a certificate configured the server speaks TLS (libmicrohttpd's GnuTLS). */
START_TEST(tls_when_a_certificate_is_configured)
{
    char dir[] = "/tmp/chartpulse-tls-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *cert = cp_asprintf("%s/cert.pem", dir), *key = cp_asprintf("%s/key.pem", dir);
    char *command =
        cp_asprintf("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                    "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
                    key, cert);
    ck_assert_msg(system(command) == 0, "openssl could not make a certificate: %s", command);
    const char *settings[] = {"CHARTPULSE_TLS_CERT", cert, "CHARTPULSE_TLS_KEY", key, NULL};
    tu_server_start(&own, settings, NULL);
    char *https = cp_asprintf("https://127.0.0.1:%d/healthz", cp_server_port(own.server));
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, https);
    curl_easy_setopt(curl, CURLOPT_CAINFO, cert);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_msg(rc == CURLE_OK && status == 200, "https: %s, status %ld", curl_easy_strerror(rc),
                  status);
    /* the certificate is checked, not merely offered: without the CA the client refuses */
    curl_easy_setopt(curl, CURLOPT_CAINFO, "/dev/null");
    ck_assert_int_ne(curl_easy_perform(curl), CURLE_OK);
    curl_easy_cleanup(curl);
    /* and plain HTTP gets no answer */
    int fd = connect_from("127.0.0.1", cp_server_port(own.server));
    static const char plain[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *answer = exchange_on(fd, plain, sizeof plain - 1, 2.0);
    ck_assert_msg(strncmp(answer, "HTTP/1.1 200", 12) != 0, "plain HTTP answered: %s", answer);
    free(answer);
    close(fd);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    free(https);
    free(command);
    free(cert);
    free(key);
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

    TCase *conn = tcase_create("connections");
    tcase_set_timeout(conn, 60);
    tcase_add_unchecked_fixture(conn, suite_setup, suite_teardown);
    tcase_add_checked_fixture(conn, NULL, own_teardown);
    tcase_add_test(conn, a_body_is_refused_before_it_is_read);
    tcase_add_test(conn, a_chunked_body_past_the_cap_is_not_read_to_its_end);
    tcase_add_test(conn, a_request_head_has_a_deadline);
    tcase_add_test(conn, a_client_over_its_rate_gets_429);
    tcase_add_test(conn, tls_when_a_certificate_is_configured);
    suite_add_tcase(s, conn);
    return s;
}

int main(void)
{
    return tu_run_suite(hostile_suite());
}
