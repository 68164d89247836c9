/* Regions, artists, trends and search end to end: a real server on port 0 over a database of
 * its own, loaded through the real binary (ingest + load) from small fixtures whose numbers
 * are computed by hand below; then, when ../shared/data/real exists, the leaderboard and
 * movers on real chart files against numbers computed here in C from the files themselves. */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
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
#include "db/pool.h"
#include "server/cache.h"
#include "server/http.h"
#include "tests/testutil.h"

#define FIXTURE_DATABASE "chartpulse_test_artists"
#define REAL_DATABASE    "chartpulse_test_artists_real"

/* The fixture (tests/fixtures/artists_trends): global regional daily charts on five
 * consecutive days, 2031-01-30 (Thu) .. 2031-02-03 (Mon), four positions each, and one
 * Sweden weekly chart. Tracks (id CPTRENDS + 14 digits) and their credit lines:
 *   1 Halo (Beyoncé)          2 Flowers (ROSÉ, Bruno Mars)   3 APT. (ROSÉ, Bruno Mars)
 *   4 Crazy in Love (Beyoncé, JAY-Z)   5 Wildflowers (Zed)   6 Flowers Remix (Zed, Beyoncé)
 * Charts (rank: track streams):
 *   01-30: 1:T1 1000  2:T2  900  3:T3  800  4:T4 700
 *   01-31: 1:T2 1100  2:T1 1000  3:T5  600  4:T4 650
 *   02-01: 1:T3 1200  2:T2 1000  3:T4  900  4:T6 500
 *   02-02: 1:T4 1300  2:T3 1100  3:T1  700  4:T2 600
 *   02-03: 1:T1 2000  2:T4 1200  3:T6  400  4:T5 300 */
#define T(n) "CPTRENDS0000000000000" #n

static char *raw_dir;
static char *cli_env[4];
static char *real; /* ../shared/data/real, or NULL */

/* ---- database and server ------------------------------------------------------------ */

static void cli_env_set(const char *owner_url)
{
    for (int i = 0; cli_env[i]; i++)
        free(cli_env[i]);
    free(raw_dir);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", owner_url);
    cli_env[1] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[2] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[3] = NULL;
}

static void cli_env_free(void)
{
    char *rm = cp_asprintf("rm -rf '%s'", raw_dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(raw_dir);
    raw_dir = NULL;
    for (int i = 0; cli_env[i]; i++) {
        free(cli_env[i]);
        cli_env[i] = NULL;
    }
}

static void run_cli(const char *const *args)
{
    char *out = NULL;
    int rc = tu_run_cli(args, (const char *const *)cli_env, &out);
    ck_assert_msg(rc == 0, "chartpulse %s failed (%d): %s", args[0], rc, out);
    free(out);
}

/* A fresh database named name, pointed at by DATABASE_URL and API_DATABASE_URL (the
 * servers read them), with a raw zone of its own; and a new cache generation, so answers
 * cached by other suites (same paths, other data) stay out. */
static void use_fresh_database(const char *name)
{
    char *owner_url = tu_serve_fresh_database(name);
    cli_env_set(owner_url);
    free(owner_url);
    char err[512];
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK,
                  "cache bump: %s", err);
}

static void fixture_setup(void)
{
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    use_fresh_database(FIXTURE_DATABASE);
    char *dir = tu_fixture_path("artists_trends");
    const char *ingest[] = {"ingest", dir, NULL};
    run_cli(ingest);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(dir);
}

static void fixture_teardown(void)
{
    cli_env_free();
    curl_global_cleanup();
}

static struct tu_server live;

static void server_start(void)
{
    tu_server_start(&live, NULL, NULL);
}

static void server_stop(void)
{
    tu_server_stop(&live);
}

/* ---- an HTTP client ------------------------------------------------------------------ */

static void http_request(struct tu_http_result *r, const char *method, const char *path,
                         const char *header_line)
{
    char *url = cp_asprintf("%s%s", live.base, path);
    const char *headers[] = {header_line, NULL};
    tu_http_request(r, method, url, headers, NULL, 0);
    free(url);
}

/* GET path, which must answer 200 with JSON; the caller frees r. */
static const json_t *get_ok(struct tu_http_result *r, const char *path)
{
    http_request(r, "GET", path, NULL);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status,
                  r->body.data ? r->body.data : "");
    ck_assert_msg(r->json != NULL, "GET %s: not JSON", path);
    return r->json;
}

static const char *str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static json_int_t num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static const json_t *arr(const json_t *obj, const char *key, size_t expected_size)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_array(v), "%s is not an array", key);
    ck_assert_msg(json_array_size(v) == expected_size, "%s has %zu elements, expected %zu", key,
                  json_array_size(v), expected_size);
    return v;
}

static bool is_null(const json_t *obj, const char *key)
{
    return json_is_null(json_object_get(obj, key));
}

/* A 400 problem whose detail starts with the parameter's name and a colon. */
static void assert_bad_request(const char *path, const char *param)
{
    struct tu_http_result r;
    http_request(&r, "GET", path, NULL);
    ck_assert_msg(r.status == 400, "GET %s: %ld, expected 400", path, r.status);
    ck_assert_msg(strstr(r.headers.data, "application/problem+json") != NULL, "GET %s", path);
    const char *detail = str(r.json, "detail");
    size_t n = strlen(param);
    ck_assert_msg(!strncmp(detail, param, n) && detail[n] == ':',
                  "GET %s: detail '%s' does not start with '%s:'", path, detail, param);
    tu_http_result_free(&r);
}

static void assert_status(const char *method, const char *path, long status)
{
    struct tu_http_result r;
    http_request(&r, method, path, NULL);
    ck_assert_msg(r.status == status, "%s %s: %ld, expected %ld: %s", method, path, r.status,
                  status, r.body.data ? r.body.data : "");
    tu_http_result_free(&r);
}

/* ---- regions --------------------------------------------------------------------------- */

START_TEST(regions_list_coverage)
{
    struct tu_http_result r;
    const json_t *regions = arr(get_ok(&r, "/v1/regions"), "regions", 2);
    const json_t *global = json_array_get(regions, 0);
    ck_assert_str_eq(str(global, "region"), "global");
    ck_assert_str_eq(str(global, "name"), "Global");
    const json_t *series = json_array_get(arr(global, "series", 1), 0);
    ck_assert_str_eq(str(series, "chart_kind"), "regional");
    ck_assert_str_eq(str(series, "period"), "daily");
    ck_assert_str_eq(str(series, "first_date"), "2031-01-30");
    ck_assert_str_eq(str(series, "last_date"), "2031-02-03");
    ck_assert_int_eq(num(series, "charts"), 5);
    ck_assert_int_eq(num(series, "charts_expected"), 5);
    ck_assert_int_eq(num(series, "charts_missing"), 0);
    arr(series, "missing_ranges", 0);
    ck_assert(json_is_false(json_object_get(series, "missing_ranges_truncated")));
    const json_t *se = json_array_get(regions, 1);
    ck_assert_str_eq(str(se, "region"), "se");
    ck_assert_str_eq(str(se, "name"), "Sweden");
    series = json_array_get(arr(se, "series", 1), 0);
    ck_assert_str_eq(str(series, "period"), "weekly");
    ck_assert_str_eq(str(series, "first_date"), "2031-02-06");
    tu_http_result_free(&r);

    http_request(&r, "GET", "/v1/regions?format=csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.headers.data, "text/csv") != NULL, "%s", r.headers.data);
    ck_assert_str_eq(r.body.data, "region,name,chart_kind,period,first_date,last_date,charts,"
                                  "charts_expected,charts_missing\r\n"
                                  "global,Global,regional,daily,2031-01-30,2031-02-03,5,5,0\r\n"
                                  "se,Sweden,regional,weekly,2031-02-06,2031-02-06,1,1,0\r\n");
    tu_http_result_free(&r);

    assert_bad_request("/v1/regions?format=xml", "format");
    assert_status("DELETE", "/v1/regions", 405);
}
END_TEST

/* ---- leaderboard ----------------------------------------------------------------------- */

struct expected_row {
    const char *name;
    long long streams, entries, charts, number_one_entries, number_one_songs, songs;
};

static void assert_leaderboard(const char *path, const char *from, const char *to,
                               const struct expected_row *expected, size_t count)
{
    struct tu_http_result r;
    const json_t *board = get_ok(&r, path);
    ck_assert_str_eq(str(board, "from"), from);
    ck_assert_str_eq(str(board, "to"), to);
    const json_t *rows = arr(board, "rows", count);
    for (size_t i = 0; i < count; i++) {
        const json_t *row = json_array_get(rows, i);
        const json_t *artist = json_object_get(row, "artist");
        ck_assert_msg(!strcmp(str(artist, "name"), expected[i].name), "%s row %zu: %s, expected %s",
                      path, i + 1, str(artist, "name"), expected[i].name);
        ck_assert_int_eq(num(row, "rank"), (json_int_t)i + 1);
        ck_assert_int_eq(num(row, "streams"), expected[i].streams);
        ck_assert_int_eq(num(row, "entries"), expected[i].entries);
        ck_assert_int_eq(num(row, "charts"), expected[i].charts);
        ck_assert_int_eq(num(row, "number_one_entries"), expected[i].number_one_entries);
        ck_assert_int_eq(num(row, "number_one_songs"), expected[i].number_one_songs);
        ck_assert_int_eq(num(row, "songs"), expected[i].songs);
        /* provisional artists have a public id made from their name: pa- and 16 hex */
        ck_assert(is_null(artist, "spotify_id"));
        const char *id = str(artist, "id");
        ck_assert_msg(strlen(id) == 19 && !strncmp(id, "pa-", 3) &&
                          strspn(id + 3, "0123456789abcdef") == 16,
                      "%s", id);
    }
    tu_http_result_free(&r);
}

START_TEST(leaderboard_whole_range_all_credits)
{
    /* every credited artist: Beyoncé = T1 4700 + T4 4750 + T6 900; ROSÉ and Bruno Mars
     * tie on T2 3600 + T3 3100 and are ordered by name */
    static const struct expected_row all[] = {
        {"Beyoncé", 10350, 11, 5, 3, 2, 3}, {"Bruno Mars", 6700, 7, 4, 2, 2, 2},
        {"ROSÉ", 6700, 7, 4, 2, 2, 2},      {"JAY-Z", 4750, 5, 5, 1, 1, 1},
        {"Zed", 1800, 4, 3, 0, 0, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard", "2031-01-30", "2031-02-03", all, 5);
    assert_leaderboard("/v1/artists/leaderboard?by=streams&role=all&region=global&period=daily",
                       "2031-01-30", "2031-02-03", all, 5);
}
END_TEST

START_TEST(leaderboard_lead_credits)
{
    /* first-credited artists only: Bruno Mars and JAY-Z drop out, Beyoncé loses T6 */
    static const struct expected_row lead[] = {
        {"Beyoncé", 9450, 9, 5, 3, 2, 2},
        {"ROSÉ", 6700, 7, 4, 2, 2, 2},
        {"Zed", 1800, 4, 3, 0, 0, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard?role=lead", "2031-01-30", "2031-02-03", lead, 3);
}
END_TEST

START_TEST(leaderboard_partial_months)
{
    /* 01-31 and 02-01 only: the partial months at both ends come from the fact table */
    static const struct expected_row partial[] = {
        {"Bruno Mars", 3300, 3, 2, 2, 2, 2}, {"ROSÉ", 3300, 3, 2, 2, 2, 2},
        {"Beyoncé", 3050, 4, 2, 0, 0, 3},    {"JAY-Z", 1550, 2, 2, 0, 0, 1},
        {"Zed", 1100, 2, 2, 0, 0, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard?from=2031-01-31&to=2031-02-01", "2031-01-31",
                       "2031-02-01", partial, 5);
    /* all of February (02-01 .. 02-03) from the monthly summary, by entries */
    static const struct expected_row february[] = {
        {"Beyoncé", 7000, 7, 3, 2, 2, 3}, {"Bruno Mars", 3900, 4, 2, 1, 1, 2},
        {"ROSÉ", 3900, 4, 2, 1, 1, 2},    {"JAY-Z", 3400, 3, 3, 1, 1, 1},
        {"Zed", 1200, 3, 2, 0, 0, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard?from=2031-02-01&to=2031-02-28&by=entries",
                       "2031-02-01", "2031-02-28", february, 5);
    /* only `from`: `to` defaults to the latest chart */
    assert_leaderboard("/v1/artists/leaderboard?from=2031-02-01&by=entries&limit=5", "2031-02-01",
                       "2031-02-03", february, 5);
}
END_TEST

START_TEST(leaderboard_by_days_and_number_ones)
{
    static const struct expected_row days[] = {
        {"Beyoncé", 10350, 11, 5, 3, 2, 3},  {"JAY-Z", 4750, 5, 5, 1, 1, 1},
        {"Bruno Mars", 6700, 7, 4, 2, 2, 2}, {"ROSÉ", 6700, 7, 4, 2, 2, 2},
        {"Zed", 1800, 4, 3, 0, 0, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard?by=days", "2031-01-30", "2031-02-03", days, 5);
    assert_leaderboard("/v1/artists/leaderboard?by=charts", "2031-01-30", "2031-02-03", days, 5);
    static const struct expected_row ones[] = {
        {"Beyoncé", 10350, 11, 5, 3, 2, 3},
        {"Bruno Mars", 6700, 7, 4, 2, 2, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard?by=number_ones&limit=2", "2031-01-30", "2031-02-03",
                       ones, 2);
    assert_leaderboard("/v1/artists/leaderboard?by=number_one_entries&limit=2", "2031-01-30",
                       "2031-02-03", ones, 2);
    /* #1 songs: Beyoncé's three #1 positions are two songs (Halo twice, Crazy in Love) */
    static const struct expected_row one_songs[] = {
        {"Beyoncé", 10350, 11, 5, 3, 2, 3},
        {"Bruno Mars", 6700, 7, 4, 2, 2, 2},
        {"ROSÉ", 6700, 7, 4, 2, 2, 2},
    };
    assert_leaderboard("/v1/artists/leaderboard?by=number_one_songs&limit=3", "2031-01-30",
                       "2031-02-03", one_songs, 3);
    static const struct expected_row songs[] = {
        {"Beyoncé", 10350, 11, 5, 3, 2, 3}, {"Bruno Mars", 6700, 7, 4, 2, 2, 2},
        {"ROSÉ", 6700, 7, 4, 2, 2, 2},      {"Zed", 1800, 4, 3, 0, 0, 2},
        {"JAY-Z", 4750, 5, 5, 1, 1, 1},
    };
    assert_leaderboard("/v1/artists/leaderboard?by=songs", "2031-01-30", "2031-02-03", songs, 5);
}
END_TEST

START_TEST(leaderboard_csv_and_errors)
{
    struct tu_http_result r;
    http_request(&r, "GET", "/v1/artists/leaderboard?role=lead&format=csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!strncmp(r.body.data,
                           "rank,artist.id,artist.spotify_id,artist.name,streams,entries,charts,"
                           "number_one_entries,number_one_songs,songs\r\n1,",
                           100),
                  "%s", r.body.data);
    ck_assert_msg(strstr(r.body.data, ",,Beyoncé,9450,9,5,3,2,2\r\n") != NULL, "%s", r.body.data);
    tu_http_result_free(&r);
    http_request(&r, "GET", "/v1/artists/leaderboard?role=lead", "Accept: text/csv");
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.headers.data, "text/csv") != NULL, "%s", r.headers.data);
    tu_http_result_free(&r);

    assert_bad_request("/v1/artists/leaderboard?by=plays", "by");
    assert_bad_request("/v1/artists/leaderboard?role=featured", "role");
    assert_bad_request("/v1/artists/leaderboard?from=2031-02-30", "from");
    assert_bad_request("/v1/artists/leaderboard?to=yesterday", "to");
    assert_bad_request("/v1/artists/leaderboard?from=2031-02-02&to=2031-02-01", "from");
    assert_bad_request("/v1/artists/leaderboard?limit=0", "limit");
    assert_bad_request("/v1/artists/leaderboard?limit=1001", "limit");
    assert_bad_request("/v1/artists/leaderboard?region=Global", "region");
    assert_bad_request("/v1/artists/leaderboard?period=monthly", "period");
    assert_bad_request("/v1/artists/leaderboard?kind=top", "kind");
    assert_bad_request("/v1/artists/leaderboard?format=xls", "format");
    /* a series without charts has no default range */
    assert_status("GET", "/v1/artists/leaderboard?region=fr", 404);
    /* an explicit range over it is just empty */
    get_ok(&r, "/v1/artists/leaderboard?region=fr&from=2031-01-01&to=2031-12-31");
    arr(r.json, "rows", 0);
    tu_http_result_free(&r);
    assert_status("POST", "/v1/artists/leaderboard", 405);
}
END_TEST

/* ---- one artist ------------------------------------------------------------------------ */

/* The id the API gives the artist named name (from the leaderboard); caller frees. */
static char *artist_id(const char *name)
{
    struct tu_http_result r;
    const json_t *rows = json_object_get(get_ok(&r, "/v1/artists/leaderboard"), "rows");
    char *id = NULL;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *artist = json_object_get(json_array_get(rows, i), "artist");
        if (!strcmp(str(artist, "name"), name))
            id = cp_strdup(str(artist, "id"));
    }
    tu_http_result_free(&r);
    ck_assert_msg(id != NULL, "no artist %s on the leaderboard", name);
    return id;
}

START_TEST(artist_stats_and_tracks)
{
    char *id = artist_id("Beyoncé");
    char *path = cp_asprintf("/v1/artists/%s", id);
    struct tu_http_result r;
    const json_t *artist = get_ok(&r, path);
    ck_assert_str_eq(str(artist, "id"), id);
    ck_assert_str_eq(str(artist, "name"), "Beyoncé");
    ck_assert(is_null(artist, "spotify_id"));
    ck_assert(is_null(artist, "genres"));
    ck_assert(is_null(artist, "popularity"));
    ck_assert(is_null(artist, "followers"));
    const json_t *stats = json_object_get(artist, "stats");
    ck_assert_int_eq(num(stats, "songs"), 3);
    ck_assert_int_eq(num(stats, "entries"), 11);
    ck_assert_int_eq(num(stats, "number_one_entries"), 3);
    ck_assert_int_eq(num(stats, "number_one_songs"), 2);
    ck_assert_int_eq(num(stats, "best_rank"), 1);
    ck_assert_int_eq(num(stats, "total_streams"), 10350);
    ck_assert_str_eq(str(stats, "first_date"), "2031-01-30");
    ck_assert_str_eq(str(stats, "last_date"), "2031-02-03");
    const json_t *tracks = arr(artist, "tracks", 3);
    static const struct {
        const char *id, *name, *role;
        int peak, days;
        long long streams;
    } expected[] = {
        {T(4), "Crazy in Love", "lead", 1, 5, 4750},
        {T(1), "Halo", "lead", 1, 4, 4700},
        {T(6), "Flowers Remix", "featured", 3, 2, 900},
    };
    for (size_t i = 0; i < 3; i++) {
        const json_t *t = json_array_get(tracks, i);
        ck_assert_str_eq(str(t, "id"), expected[i].id);
        ck_assert_str_eq(str(t, "name"), expected[i].name);
        ck_assert_str_eq(str(t, "role"), expected[i].role);
        ck_assert_int_eq(num(t, "peak_rank"), expected[i].peak);
        ck_assert_int_eq(num(t, "days_on_chart"), expected[i].days);
        ck_assert(json_is_true(json_object_get(t, "history_complete")));
        ck_assert_int_eq(num(t, "total_streams"), expected[i].streams);
    }
    tu_http_result_free(&r);
    free(path);

    /* another series: Sweden weekly has Halo only; a series without charts has no stats */
    path = cp_asprintf("/v1/artists/%s?region=se&period=weekly", id);
    stats = json_object_get(get_ok(&r, path), "stats");
    ck_assert_int_eq(num(stats, "songs"), 1);
    ck_assert_int_eq(num(stats, "total_streams"), 4000);
    ck_assert_int_eq(num(stats, "best_rank"), 2);
    arr(r.json, "tracks", 1);
    tu_http_result_free(&r);
    free(path);
    path = cp_asprintf("/v1/artists/%s?region=fr", id);
    stats = json_object_get(get_ok(&r, path), "stats");
    ck_assert_int_eq(num(stats, "songs"), 0);
    ck_assert(is_null(stats, "best_rank") && is_null(stats, "total_streams"));
    ck_assert(is_null(stats, "first_date"));
    arr(r.json, "tracks", 0);
    tu_http_result_free(&r);
    free(path);

    path = cp_asprintf("/v1/artists/%s?limit=1", id);
    arr(get_ok(&r, path), "tracks", 1);
    tu_http_result_free(&r);
    free(path);
    free(id);
}
END_TEST

START_TEST(artist_errors)
{
    assert_status("GET", "/v1/artists/pa-0000000000000000", 404);
    assert_status("GET", "/v1/artists/0000000000000000000000", 404);
    assert_bad_request("/v1/artists/not-an-id", "id");
    /* internal numbers are not public ids */
    assert_bad_request("/v1/artists/54", "id");
    assert_bad_request("/v1/artists/pa-0000000000000000a", "id");
    assert_bad_request("/v1/artists/pa-000000000000000G", "id");
    assert_bad_request("/v1/artists/pa-0000000000000000?period=hourly", "period");
    assert_bad_request("/v1/artists/pa-0000000000000000?region=xyz", "region");
    assert_status("PUT", "/v1/artists/pa-0000000000000000", 405);
}
END_TEST

/* ---- trends ---------------------------------------------------------------------------- */

static void assert_mover(const json_t *m, int rank, int previous_rank, const char *track,
                         long long streams)
{
    ck_assert_int_eq(num(m, "rank"), rank);
    ck_assert_int_eq(num(m, "previous_rank"), previous_rank);
    ck_assert_int_eq(num(m, "rank_change"), previous_rank - rank);
    ck_assert_str_eq(str(json_object_get(m, "track"), "id"), track);
    ck_assert_int_eq(num(m, "streams"), streams);
}

START_TEST(movers_gainers_and_losers)
{
    struct tu_http_result r;
    /* 02-02 against 02-01: T4 3 -> 1; T3 1 -> 2 and T2 2 -> 4 fall; T1 re-enters */
    const json_t *movers = get_ok(&r, "/v1/trends/movers?date=2031-02-02");
    ck_assert_str_eq(str(movers, "date"), "2031-02-02");
    ck_assert_str_eq(str(movers, "previous_date"), "2031-02-01");
    const json_t *gainers = arr(movers, "gainers", 1);
    assert_mover(json_array_get(gainers, 0), 1, 3, T(4), 1300);
    ck_assert_str_eq(str(json_array_get(gainers, 0), "artists"), "Beyoncé, JAY-Z");
    const json_t *losers = arr(movers, "losers", 2);
    assert_mover(json_array_get(losers, 0), 4, 2, T(2), 600);
    assert_mover(json_array_get(losers, 1), 2, 1, T(3), 1100);
    tu_http_result_free(&r);

    /* latest (02-03) against 02-02 */
    movers = get_ok(&r, "/v1/trends/movers");
    ck_assert_str_eq(str(movers, "date"), "2031-02-03");
    assert_mover(json_array_get(arr(movers, "gainers", 1), 0), 1, 3, T(1), 2000);
    assert_mover(json_array_get(arr(movers, "losers", 1), 0), 2, 1, T(4), 1200);
    tu_http_result_free(&r);

    /* limit applies to each list; the first chart has no previous one */
    arr(get_ok(&r, "/v1/trends/movers?date=2031-02-02&limit=1"), "losers", 1);
    tu_http_result_free(&r);
    movers = get_ok(&r, "/v1/trends/movers?date=2031-01-30");
    ck_assert(is_null(movers, "previous_date"));
    ck_assert(json_is_false(json_object_get(movers, "previous_period_loaded")));
    ck_assert_msg(strstr(str(movers, "note"), "2031-01-30") != NULL, "%s", str(movers, "note"));
    arr(movers, "gainers", 0);
    arr(movers, "losers", 0);
    tu_http_result_free(&r);
    movers = get_ok(&r, "/v1/trends/movers?date=2031-02-02");
    ck_assert(json_is_true(json_object_get(movers, "previous_period_loaded")));
    ck_assert(json_object_get(movers, "note") == NULL);
    tu_http_result_free(&r);

    http_request(&r, "GET", "/v1/trends/movers?date=2031-02-02&format=csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(
        r.body.data,
        "list,rank,previous_rank,rank_change,track.id,track.name,artists,streams\r\n"
        "gainers,1,3,2," T(4) ",Crazy in Love,\"Beyoncé, JAY-Z\",1300\r\n"
                              "losers,4,2,-2," T(2) ",Flowers,\"ROSÉ, Bruno Mars\",600\r\n"
                                                    "losers,2,1,-1," T(
                                                        3) ",APT.,\"ROSÉ, Bruno Mars\",1100\r\n");
    tu_http_result_free(&r);

    assert_status("GET", "/v1/trends/movers?date=2031-02-04", 404);
    assert_status("GET", "/v1/trends/movers?region=fr", 404);
    assert_bad_request("/v1/trends/movers?date=2031-13-01", "date");
    assert_bad_request("/v1/trends/movers?limit=abc", "limit");
    assert_bad_request("/v1/trends/movers?kind=x", "kind");
    assert_status("POST", "/v1/trends/movers", 405);
}
END_TEST

START_TEST(new_entries_new_and_reentries)
{
    struct tu_http_result r;
    /* 02-01: T3 comes back (re-entry), T6 debuts (new) */
    const json_t *body = get_ok(&r, "/v1/trends/new-entries?date=2031-02-01");
    ck_assert_str_eq(str(body, "date"), "2031-02-01");
    const json_t *entries = arr(body, "entries", 2);
    const json_t *e = json_array_get(entries, 0);
    ck_assert_int_eq(num(e, "rank"), 1);
    ck_assert_str_eq(str(json_object_get(e, "track"), "id"), T(3));
    ck_assert_str_eq(str(e, "movement"), "re-entry");
    ck_assert(is_null(e, "previous_rank"));
    ck_assert_int_eq(num(e, "streams"), 1200);
    ck_assert_int_eq(num(e, "peak_rank"), 1);
    ck_assert_int_eq(num(e, "days_on_chart"), 2);
    e = json_array_get(entries, 1);
    ck_assert_int_eq(num(e, "rank"), 4);
    ck_assert_str_eq(str(json_object_get(e, "track"), "id"), T(6));
    ck_assert_str_eq(str(e, "movement"), "new");
    ck_assert_int_eq(num(e, "days_on_chart"), 1);
    tu_http_result_free(&r);

    /* latest: T6 and T5 both come back */
    entries = arr(get_ok(&r, "/v1/trends/new-entries"), "entries", 2);
    ck_assert_str_eq(str(json_array_get(entries, 0), "movement"), "re-entry");
    ck_assert_str_eq(str(json_array_get(entries, 1), "movement"), "re-entry");
    ck_assert_str_eq(str(json_object_get(json_array_get(entries, 1), "track"), "id"), T(5));
    tu_http_result_free(&r);

    /* limit cuts by rank */
    entries = arr(get_ok(&r, "/v1/trends/new-entries?date=2031-02-01&limit=1"), "entries", 1);
    ck_assert_int_eq(num(json_array_get(entries, 0), "rank"), 1);
    tu_http_result_free(&r);
    /* the first chart: the day before is not loaded, so nothing is new against it (SPEC 4a) */
    body = get_ok(&r, "/v1/trends/new-entries?date=2031-01-30");
    arr(body, "entries", 0);
    ck_assert(json_is_false(json_object_get(body, "previous_period_loaded")));
    ck_assert(json_is_string(json_object_get(body, "note")));
    tu_http_result_free(&r);
    /* 02-02: only T1's re-entry */
    arr(get_ok(&r, "/v1/trends/new-entries?date=2031-02-02"), "entries", 1);
    tu_http_result_free(&r);

    http_request(&r, "GET", "/v1/trends/new-entries?date=2031-02-01", "Accept: text/csv");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body.data,
                     "rank,track.id,track.name,artists,streams,movement,peak_rank,days_on_chart\r\n"
                     "1," T(3) ",APT.,\"ROSÉ, Bruno Mars\",1200,re-entry,1,2\r\n"
                               "4," T(6) ",Flowers Remix,\"Zed, Beyoncé\",500,new,4,1\r\n");
    tu_http_result_free(&r);

    assert_status("GET", "/v1/trends/new-entries?date=1999-01-01", 404);
    assert_bad_request("/v1/trends/new-entries?date=soon", "date");
    assert_bad_request("/v1/trends/new-entries?period=yearly", "period");
}
END_TEST

static void assert_point(const json_t *p, const char *date, long long streams, int charts)
{
    ck_assert_str_eq(str(p, "date"), date);
    ck_assert_int_eq(num(p, "streams"), streams);
    ck_assert_int_eq(num(p, "charts"), charts);
}

START_TEST(stream_buckets)
{
    struct tu_http_result r;
    const json_t *points = arr(get_ok(&r, "/v1/trends/streams"), "points", 5);
    ck_assert_str_eq(str(r.json, "granularity"), "day");
    assert_point(json_array_get(points, 0), "2031-01-30", 3400, 1);
    assert_point(json_array_get(points, 1), "2031-01-31", 3350, 1);
    assert_point(json_array_get(points, 2), "2031-02-01", 3600, 1);
    assert_point(json_array_get(points, 3), "2031-02-02", 3700, 1);
    assert_point(json_array_get(points, 4), "2031-02-03", 3900, 1);
    tu_http_result_free(&r);

    /* weeks start on Monday: 01-30 (Thu) .. 02-02 (Sun) are the week of 01-27 */
    points = arr(get_ok(&r, "/v1/trends/streams?granularity=week"), "points", 2);
    assert_point(json_array_get(points, 0), "2031-01-27", 14050, 4);
    assert_point(json_array_get(points, 1), "2031-02-03", 3900, 1);
    tu_http_result_free(&r);

    points = arr(get_ok(&r, "/v1/trends/streams?granularity=month"), "points", 2);
    assert_point(json_array_get(points, 0), "2031-01-01", 6750, 2);
    assert_point(json_array_get(points, 1), "2031-02-01", 11200, 3);
    tu_http_result_free(&r);

    points = arr(get_ok(&r, "/v1/trends/streams?granularity=month&from=2031-01-31&to=2031-02-02"),
                 "points", 2);
    assert_point(json_array_get(points, 0), "2031-01-01", 3350, 1);
    assert_point(json_array_get(points, 1), "2031-02-01", 7300, 2);
    tu_http_result_free(&r);

    arr(get_ok(&r, "/v1/trends/streams?region=fr"), "points", 0);
    tu_http_result_free(&r);

    http_request(&r, "GET", "/v1/trends/streams?granularity=week&format=csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body.data, "date,streams,charts\r\n2031-01-27,14050,4\r\n"
                                  "2031-02-03,3900,1\r\n");
    tu_http_result_free(&r);

    assert_bad_request("/v1/trends/streams?granularity=year", "granularity");
    assert_bad_request("/v1/trends/streams?from=2031-02-02&to=2031-01-01", "from");
    assert_bad_request("/v1/trends/streams?to=2031-02-31", "to");
}
END_TEST

static void assert_momentum(const json_t *t, const char *track, int rank, long long recent,
                            long long earlier, double growth)
{
    ck_assert_str_eq(str(json_object_get(t, "track"), "id"), track);
    ck_assert_int_eq(num(t, "rank"), rank);
    ck_assert_int_eq(num(t, "recent_streams"), recent);
    ck_assert_int_eq(num(t, "earlier_streams"), earlier);
    if (isnan(growth)) {
        ck_assert(is_null(t, "growth"));
    } else {
        const json_t *g = json_object_get(t, "growth");
        ck_assert_msg(json_is_number(g), "growth is not a number");
        ck_assert_msg(fabs(json_number_value(g) - growth) < 1e-6, "growth %f, expected %f",
                      json_number_value(g), growth);
    }
}

START_TEST(momentum_windows)
{
    struct tu_http_result r;
    /* window 2 on 02-03: recent = 02-02 + 02-03, earlier = 01-31 + 02-01 */
    const json_t *body = get_ok(&r, "/v1/trends/momentum?window=2");
    ck_assert_str_eq(str(body, "date"), "2031-02-03");
    ck_assert_int_eq(num(body, "window"), 2);
    const json_t *tracks = arr(body, "tracks", 4);
    assert_momentum(json_array_get(tracks, 0), T(1), 1, 2700, 1000, 1.7);
    assert_momentum(json_array_get(tracks, 1), T(4), 2, 2500, 1550, 0.612903);
    assert_momentum(json_array_get(tracks, 2), T(6), 3, 400, 500, -0.2);
    assert_momentum(json_array_get(tracks, 3), T(5), 4, 300, 600, -0.5);
    tu_http_result_free(&r);

    /* window 1: 02-03 against 02-02; T6 and T5 were not on 02-02 (growth null, last) */
    tracks = arr(get_ok(&r, "/v1/trends/momentum?window=1&date=2031-02-03"), "tracks", 4);
    assert_momentum(json_array_get(tracks, 0), T(1), 1, 2000, 700, 2000.0 / 700 - 1);
    assert_momentum(json_array_get(tracks, 1), T(4), 2, 1200, 1300, 1200.0 / 1300 - 1);
    assert_momentum(json_array_get(tracks, 2), T(6), 3, 400, 0, NAN);
    assert_momentum(json_array_get(tracks, 3), T(5), 4, 300, 0, NAN);
    tu_http_result_free(&r);

    /* the default window (7) reaches past the first chart: recent holds all five, growth
     * is null everywhere and recent streams decide */
    tracks = arr(get_ok(&r, "/v1/trends/momentum?limit=1"), "tracks", 1);
    assert_momentum(json_array_get(tracks, 0), T(4), 2, 4750, 0, NAN);
    tu_http_result_free(&r);

    http_request(&r, "GET", "/v1/trends/momentum?window=2&limit=2&format=csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(
        r.body.data,
        "rank,track.id,track.name,artists,recent_streams,earlier_streams,growth\r\n"
        "1," T(1) ",Halo,Beyoncé,2700,1000,1.7\r\n"
                  "2," T(4) ",Crazy in Love,\"Beyoncé, JAY-Z\",2500,1550,0.612903\r\n");
    tu_http_result_free(&r);

    assert_status("GET", "/v1/trends/momentum?date=2031-03-01", 404);
    assert_bad_request("/v1/trends/momentum?window=0", "window");
    assert_bad_request("/v1/trends/momentum?window=29", "window");
    assert_bad_request("/v1/trends/momentum?date=2031-2-3", "date");
    assert_status("DELETE", "/v1/trends/momentum", 405);
}
END_TEST

/* ---- search ---------------------------------------------------------------------------- */

/* The names in list (an array of objects with `name`), joined by "|". Caller frees. */
static char *names(const json_t *list)
{
    struct cp_buf b;
    cp_buf_init(&b, TU_TEXT_MAX);
    for (size_t i = 0; i < json_array_size(list); i++)
        cp_buf_addf(&b, "%s%s", i ? "|" : "", str(json_array_get(list, i), "name"));
    return cp_buf_take(&b, NULL);
}

static void assert_search(const char *path, const char *tracks, const char *artists)
{
    struct tu_http_result r;
    const json_t *body = get_ok(&r, path);
    char *t = names(json_object_get(body, "tracks"));
    char *a = names(json_object_get(body, "artists"));
    ck_assert_msg(!strcmp(t, tracks), "%s: tracks '%s', expected '%s'", path, t, tracks);
    ck_assert_msg(!strcmp(a, artists), "%s: artists '%s', expected '%s'", path, a, artists);
    free(t);
    free(a);
    tu_http_result_free(&r);
}

START_TEST(search_ignores_accents_and_case)
{
    assert_search("/v1/search?q=beyonce", "", "Beyoncé");
    assert_search("/v1/search?q=BEYONC%C3%89", "", "Beyoncé");
    assert_search("/v1/search?q=ROSE", "", "ROSÉ");
    assert_search("/v1/search?q=ros%C3%A9", "", "ROSÉ");
    assert_search("/v1/search?q=halo", "Halo", "");
    /* exact first, then a prefix, then anywhere */
    assert_search("/v1/search?q=flowers", "Flowers|Flowers Remix|Wildflowers", "");
    assert_search("/v1/search?q=Flowers&limit=1", "Flowers", "");
    /* a word inside the name before a match anywhere */
    assert_search("/v1/search?q=love", "Crazy in Love", "");
    assert_search("/v1/search?q=r", "Flowers Remix|Flowers|Wildflowers|Crazy in Love",
                  "ROSÉ|Bruno Mars");
    /* LIKE wildcards match themselves */
    assert_search("/v1/search?q=%25", "", "");
    assert_search("/v1/search?q=_", "", "");
    assert_search("/v1/search?q=APT.", "APT.", "");

    struct tu_http_result r;
    const json_t *body = get_ok(&r, "/v1/search?q=zed");
    ck_assert_str_eq(str(body, "query"), "zed");
    const json_t *artist = json_array_get(arr(body, "artists", 1), 0);
    ck_assert(is_null(artist, "spotify_id"));
    char *path = cp_asprintf("/v1/artists/%s", str(artist, "id"));
    tu_http_result_free(&r);
    ck_assert_str_eq(str(get_ok(&r, path), "name"), "Zed");
    tu_http_result_free(&r);
    free(path);
    body = get_ok(&r, "/v1/search?q=wild");
    const json_t *track = json_array_get(arr(body, "tracks", 1), 0);
    ck_assert_str_eq(str(track, "id"), T(5));
    ck_assert_str_eq(str(track, "artists"), "Zed");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(search_errors)
{
    assert_bad_request("/v1/search", "q");
    assert_bad_request("/v1/search?q=", "q");
    assert_bad_request("/v1/search?q=%FF", "q");
    assert_bad_request("/v1/search?q=a%0Ab", "q");
    assert_bad_request("/v1/search?q=abc&limit=-1", "limit");
    char long_q[256];
    memset(long_q, 'a', 201);
    long_q[201] = '\0';
    char *path = cp_asprintf("/v1/search?q=%s", long_q);
    assert_bad_request(path, "q");
    free(path);
    /* 200 characters are fine, even when they take 400 bytes */
    struct cp_buf b;
    cp_buf_init(&b, TU_SHORT_MAX);
    cp_buf_adds(&b, "/v1/search?q=");
    for (int i = 0; i < 200; i++)
        cp_buf_adds(&b, "%C3%A9");
    struct tu_http_result r;
    get_ok(&r, b.data);
    tu_http_result_free(&r);
    cp_buf_free(&b);
    assert_status("POST", "/v1/search?q=a", 405);
}
END_TEST

/* ---- real chart files ------------------------------------------------------------------ */

/* A chart CSV parsed here, independently of chartpulse's reader (RFC 4180: quoted fields,
 * doubled quotes, a BOM). Each row's fields are NUL-separated in one allocation. */
struct csv_row {
    char *fields[12];
    size_t count;
};

struct csv_file {
    struct csv_row *rows; /* rows[0] is the header */
    size_t count;
    char *text;
};

static void csv_parse(const char *path, struct csv_file *f)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    memset(f, 0, sizeof *f);
    f->text = cp_malloc(len + 1);
    char *out = f->text;
    const char *p = text;
    const char *end = text + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    size_t alloc = 0;
    while (p < end) {
        if (f->count == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            f->rows = cp_realloc(f->rows, alloc * sizeof *f->rows);
        }
        struct csv_row *row = &f->rows[f->count++];
        row->count = 0;
        for (;;) {
            char *field = out;
            if (p < end && *p == '"') {
                for (p++; p < end; p++) {
                    if (*p == '"' && p + 1 < end && p[1] == '"')
                        *out++ = *p++;
                    else if (*p == '"')
                        break;
                    else
                        *out++ = *p;
                }
                p++;
            }
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                *out++ = *p++;
            *out++ = '\0';
            if (row->count < 12)
                row->fields[row->count++] = field;
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            while (p < end && (*p == '\r' || *p == '\n'))
                p++;
            break;
        }
    }
    free(text);
}

static void csv_free(struct csv_file *f)
{
    free(f->rows);
    free(f->text);
}

static int csv_column(const struct csv_file *f, const char *name)
{
    for (size_t i = 0; i < f->rows[0].count; i++)
        if (!strcasecmp(f->rows[0].fields[i], name))
            return (int)i;
    ck_abort_msg("no column %s", name);
    return -1;
}

/* The 22-character track id of a spotify:track: URI. */
static const char *uri_track_id(const char *uri)
{
    const char *colon = strrchr(uri, ':');
    return colon ? colon + 1 : uri;
}

/* A leaderboard computed from the files: per artist, as chartpulse credits them before
 * enrichment (the credit line split at commas, each name once, in first-seen order). */
struct artist_total {
    char *name;
    long long streams, entries, number_ones;
    char **tracks;
    size_t track_count;
};

struct expected_board {
    struct artist_total *artists;
    size_t count;
};

static struct artist_total *board_artist(struct expected_board *b, const char *name)
{
    for (size_t i = 0; i < b->count; i++)
        if (!strcmp(b->artists[i].name, name))
            return &b->artists[i];
    b->artists = cp_realloc(b->artists, (b->count + 1) * sizeof *b->artists);
    struct artist_total *a = &b->artists[b->count++];
    memset(a, 0, sizeof *a);
    a->name = cp_strdup(name);
    return a;
}

static void artist_add_track(struct artist_total *a, const char *track_id)
{
    for (size_t i = 0; i < a->track_count; i++)
        if (!strcmp(a->tracks[i], track_id))
            return;
    a->tracks = cp_realloc(a->tracks, (a->track_count + 1) * sizeof *a->tracks);
    a->tracks[a->track_count++] = cp_strdup(track_id);
}

/* Splits a credit line like etl.merge_provisional_credits: at a comma and the white space
 * after it; blank names dropped; a name twice counts once. Returns the count; the names
 * point into line, which is modified. */
static size_t split_credits(char *line, char **names, size_t max)
{
    size_t count = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        bool blank = true;
        for (const char *c = p; *c; c++)
            if (!isspace((unsigned char)*c))
                blank = false;
        bool seen = false;
        for (size_t i = 0; i < count; i++)
            if (!strcmp(names[i], p))
                seen = true;
        if (!blank && !seen && count < max)
            names[count++] = p;
        if (!comma)
            break;
        p = comma + 1;
        while (isspace((unsigned char)*p))
            p++;
    }
    return count;
}

/* The newest credit line of each track over a set of files: the last file (by date) wins. */
struct track_credit_line {
    char id[23];
    char *artist_names;
};

static int compare_artist_streams(const void *a, const void *b)
{
    const struct artist_total *x = a, *y = b;
    return x->streams < y->streams ? 1 : x->streams > y->streams ? -1 : 0;
}

START_TEST(real_leaderboard_and_movers)
{
    if (!real) {
        fprintf(stderr, "skipped: ../shared/data/real is not present\n");
        return;
    }
    /* ---- the 2017 global weekly leaderboard (streams, every credited artist) ---- */
    /* the newest credit line of a track wins: the weekly files in date order, then the
     * daily ones (2025, loaded after them) */
    char *weekly = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-weekly", real);
    char *daily = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-daily", real);
    const char *dirs[] = {weekly, daily};
    struct track_credit_line *credits = NULL;
    size_t credit_count = 0;
    struct csv_file *files = NULL; /* the 2017 files, kept for the totals */
    size_t file_count = 0;
    for (size_t d = 0; d < 2; d++) {
        char *listing = cp_asprintf("ls '%s' | grep '[.]csv$' | sort", dirs[d]);
        FILE *ls = popen(listing, "r");
        ck_assert_ptr_nonnull(ls);
        char name[256];
        while (fgets(name, sizeof name, ls)) {
            name[strcspn(name, "\n")] = '\0';
            char *path = cp_asprintf("%s/%s", dirs[d], name);
            struct csv_file f;
            csv_parse(path, &f);
            free(path);
            int uri = csv_column(&f, "uri"), artists = csv_column(&f, "artist_names");
            for (size_t i = 1; i < f.count; i++) {
                const char *id = uri_track_id(f.rows[i].fields[uri]);
                size_t k = 0;
                while (k < credit_count && strcmp(credits[k].id, id))
                    k++;
                if (k == credit_count) {
                    credits = cp_realloc(credits, (credit_count + 1) * sizeof *credits);
                    snprintf(credits[k].id, sizeof credits[k].id, "%s", id);
                    credits[k].artist_names = NULL;
                    credit_count++;
                }
                free(credits[k].artist_names);
                credits[k].artist_names = cp_strdup(f.rows[i].fields[artists]);
            }
            if (d == 0 && strstr(name, "-2017-")) {
                files = cp_realloc(files, (file_count + 1) * sizeof *files);
                files[file_count++] = f;
            } else {
                csv_free(&f);
            }
        }
        pclose(ls);
        free(listing);
    }
    ck_assert_uint_eq(file_count, 52);

    struct expected_board board = {0};
    for (size_t fi = 0; fi < file_count; fi++) {
        const struct csv_file *f = &files[fi];
        int rank = csv_column(f, "rank"), uri = csv_column(f, "uri");
        int streams = csv_column(f, "streams");
        for (size_t i = 1; i < f->count; i++) {
            const char *id = uri_track_id(f->rows[i].fields[uri]);
            size_t k = 0;
            while (strcmp(credits[k].id, id))
                k++;
            char *line = cp_strdup(credits[k].artist_names);
            char *artist_names[32];
            size_t n = split_credits(line, artist_names, 32);
            for (size_t a = 0; a < n; a++) {
                struct artist_total *t = board_artist(&board, artist_names[a]);
                t->streams += strtoll(f->rows[i].fields[streams], NULL, 10);
                t->entries++;
                t->number_ones += !strcmp(f->rows[i].fields[rank], "1");
                artist_add_track(t, id);
            }
            free(line);
        }
    }
    qsort(board.artists, board.count, sizeof *board.artists, compare_artist_streams);
    ck_assert_uint_gt(board.count, 100);

    struct tu_http_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const json_t *body = get_ok(&r, "/v1/artists/leaderboard?period=weekly&from=2017-01-01"
                                    "&to=2017-12-31&by=streams&role=all&limit=1000");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double api_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    const json_t *rows = arr(body, "rows", board.count);
    for (size_t i = 0; i < board.count; i++) {
        const json_t *row = json_array_get(rows, i);
        const char *artist = str(json_object_get(row, "artist"), "name");
        /* the same artist at this place, or one tied with it on streams */
        struct artist_total *e = NULL;
        for (size_t k = 0; k < board.count; k++)
            if (!strcmp(board.artists[k].name, artist))
                e = &board.artists[k];
        ck_assert_msg(e != NULL, "row %zu: %s is not on the computed leaderboard", i + 1, artist);
        ck_assert_msg(num(row, "streams") == board.artists[i].streams,
                      "row %zu: %s has %lld streams, the files say #%zu is %s with %lld", i + 1,
                      artist, (long long)num(row, "streams"), i + 1, board.artists[i].name,
                      board.artists[i].streams);
        ck_assert_int_eq(num(row, "streams"), e->streams);
        ck_assert_msg(num(row, "entries") == e->entries, "%s: entries %lld, files %lld", artist,
                      (long long)num(row, "entries"), e->entries);
        ck_assert_int_eq(num(row, "number_one_entries"), e->number_ones);
        /* songs: the track ids, relinked ones counted once */
        ck_assert_msg(num(row, "songs") >= 1 && num(row, "songs") <= (json_int_t)e->track_count,
                      "%s: %lld songs from %zu track ids", artist, (long long)num(row, "songs"),
                      e->track_count);
    }
    fprintf(stderr,
            "real data: 2017 global weekly leaderboard, %zu artists, agrees with the files "
            "(#1 %s, %lld streams); API answer in %.1f ms\n",
            board.count, board.artists[0].name, board.artists[0].streams, api_ms);
    tu_http_result_free(&r);

    /* the query itself, as the API role runs it (no cache), best of three */
    PGconn *db = PQconnectdb(getenv("API_DATABASE_URL"));
    ck_assert_msg(PQstatus(db) == CONNECTION_OK, "%s", PQerrorMessage(db));
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        PGresult *res =
            PQexec(db, "select count(*) from reporting.artist_leaderboard('global',"
                       " 'weekly', '2017-01-01', '2017-12-31', 'streams', 'all', 1000)");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
        PQclear(res);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        best = ms < best ? ms : best;
    }
    PQfinish(db);
    fprintf(stderr, "real data: reporting.artist_leaderboard for 2017 (weekly) in %.1f ms\n", best);

    for (size_t i = 0; i < board.count; i++) {
        for (size_t k = 0; k < board.artists[i].track_count; k++)
            free(board.artists[i].tracks[k]);
        free(board.artists[i].tracks);
        free(board.artists[i].name);
    }
    free(board.artists);
    for (size_t i = 0; i < file_count; i++)
        csv_free(&files[i]);
    free(files);
    for (size_t k = 0; k < credit_count; k++)
        free(credits[k].artist_names);
    free(credits);
    free(weekly);
    free(daily);

    /* ---- movers on the global daily chart of 2025-05-03 against 2025-05-02 ---- */
    char *before = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-daily/"
                               "regional-global-daily-2025-05-02.csv",
                               real);
    char *after = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-daily/"
                              "regional-global-daily-2025-05-03.csv",
                              real);
    struct csv_file prev, cur;
    csv_parse(before, &prev);
    csv_parse(after, &cur);
    int prank = csv_column(&prev, "rank"), puri = csv_column(&prev, "uri");
    int crank = csv_column(&cur, "rank"), curi = csv_column(&cur, "uri");
    /* rank changes of the tracks on both charts, in the API's order */
    struct change {
        int rank, change;
        const char *id;
    } gains[256], losses[256];
    size_t ngains = 0, nlosses = 0;
    for (size_t i = 1; i < cur.count; i++) {
        const char *id = uri_track_id(cur.rows[i].fields[curi]);
        for (size_t k = 1; k < prev.count; k++) {
            if (strcmp(uri_track_id(prev.rows[k].fields[puri]), id))
                continue;
            int rank = (int)strtol(cur.rows[i].fields[crank], NULL, 10);
            int change = (int)strtol(prev.rows[k].fields[prank], NULL, 10) - rank;
            if (change > 0)
                gains[ngains++] = (struct change){rank, change, id};
            else if (change < 0)
                losses[nlosses++] = (struct change){rank, change, id};
        }
    }
    /* insertion sorts: gains by change desc, losses by change asc, both then by rank */
    for (size_t i = 1; i < ngains; i++)
        for (size_t j = i; j > 0 && (gains[j].change > gains[j - 1].change ||
                                     (gains[j].change == gains[j - 1].change &&
                                      gains[j].rank < gains[j - 1].rank));
             j--) {
            struct change t = gains[j];
            gains[j] = gains[j - 1];
            gains[j - 1] = t;
        }
    for (size_t i = 1; i < nlosses; i++)
        for (size_t j = i; j > 0 && (losses[j].change < losses[j - 1].change ||
                                     (losses[j].change == losses[j - 1].change &&
                                      losses[j].rank < losses[j - 1].rank));
             j--) {
            struct change t = losses[j];
            losses[j] = losses[j - 1];
            losses[j - 1] = t;
        }
    body = get_ok(&r, "/v1/trends/movers?date=2025-05-03&limit=1000");
    ck_assert_str_eq(str(body, "previous_date"), "2025-05-02");
    const json_t *gainers = arr(body, "gainers", ngains);
    const json_t *losers = arr(body, "losers", nlosses);
    for (size_t i = 0; i < ngains; i++) {
        const json_t *m = json_array_get(gainers, i);
        ck_assert_str_eq(str(json_object_get(m, "track"), "id"), gains[i].id);
        ck_assert_int_eq(num(m, "rank"), gains[i].rank);
        ck_assert_int_eq(num(m, "rank_change"), gains[i].change);
    }
    for (size_t i = 0; i < nlosses; i++) {
        const json_t *m = json_array_get(losers, i);
        ck_assert_str_eq(str(json_object_get(m, "track"), "id"), losses[i].id);
        ck_assert_int_eq(num(m, "rank"), losses[i].rank);
        ck_assert_int_eq(num(m, "rank_change"), losses[i].change);
    }
    fprintf(stderr, "real data: movers on 2025-05-03 agree with the files (%zu up, %zu down)\n",
            ngains, nlosses);
    tu_http_result_free(&r);
    csv_free(&prev);
    csv_free(&cur);
    free(before);
    free(after);
}
END_TEST

static void real_setup(void)
{
    real = tu_real_data_path("");
    if (!real)
        return;
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    use_fresh_database(REAL_DATABASE);
    char *weekly = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-weekly", real);
    char *daily = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-daily", real);
    const char *ingest[] = {"ingest", weekly, daily, NULL};
    run_cli(ingest);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(weekly);
    free(daily);
}

static void real_teardown(void)
{
    if (!real)
        return;
    cli_env_free();
    curl_global_cleanup();
    free(real);
    real = NULL;
}

static void real_server_start(void)
{
    if (real)
        server_start();
}

static void real_server_stop(void)
{
    if (real)
        server_stop();
}

static Suite *artists_trends_suite(void)
{
    Suite *s = suite_create("artists_trends");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_add_checked_fixture(tc, server_start, server_stop);
    tcase_add_test(tc, regions_list_coverage);
    tcase_add_test(tc, leaderboard_whole_range_all_credits);
    tcase_add_test(tc, leaderboard_lead_credits);
    tcase_add_test(tc, leaderboard_partial_months);
    tcase_add_test(tc, leaderboard_by_days_and_number_ones);
    tcase_add_test(tc, leaderboard_csv_and_errors);
    tcase_add_test(tc, artist_stats_and_tracks);
    tcase_add_test(tc, artist_errors);
    tcase_add_test(tc, movers_gainers_and_losers);
    tcase_add_test(tc, new_entries_new_and_reentries);
    tcase_add_test(tc, stream_buckets);
    tcase_add_test(tc, momentum_windows);
    tcase_add_test(tc, search_ignores_accents_and_case);
    tcase_add_test(tc, search_errors);
    suite_add_tcase(s, tc);

    TCase *real_tc = tu_real_data_tcase("real");
    tcase_set_timeout(real_tc, 600);
    tcase_add_unchecked_fixture(real_tc, real_setup, real_teardown);
    tcase_add_checked_fixture(real_tc, real_server_start, real_server_stop);
    tcase_add_test(real_tc, real_leaderboard_and_movers);
    suite_add_tcase(s, real_tc);
    return s;
}

int main(void)
{
    return tu_run_suite(artists_trends_suite());
}
