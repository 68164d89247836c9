/* The dashboard's read endpoints end to end: chart dates, a song and an artist across
 * regions, an artist's share of chart streams and a series' records, from a small fixture
 * (tests/fixtures/dashboard) loaded through the real binary into a database of the suite's
 * own, a real server on port 0 answering. Every number below is computed by hand. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/generation.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/http.h"
#include "tests/testutil.h"

#define FIXTURE_DATABASE "chartpulse_test_dashboard"
#define REAL_DATABASE    "chartpulse_test_dashboard_real"

/* The fixture, charts.spotify.com daily files (rank: track streams), tracks CPDASH + 16
 * digits: T1 Sun (Ana), T2 Moon (Ana, Ben), T3 Star (Cy), T4 Sun (Ana) -- the same song as
 * T1 under a new id (its first row says previous rank 1, where T1 was) --, T5 Rain (Ben):
 *   global 2032-01-01 (Thu): 1:T1 100  2:T2 80  3:T3 60        all new
 *   global 2032-01-02:       1:T1 110  2:T3 90  3:T2 70
 *   global 2032-01-03:       1:T4 120  2:T2 100 3:T3 50        T4: previous rank 1, 3 days
 *   (global 2032-01-04 is not loaded)
 *   global 2032-01-05 (Mon): 1:T3 200  2:T4 150 3:T5 40        T3, T4 re-enter; T5 new
 *   se     2032-01-03:       1:T2 30   2:T5 20
 *   us     2032-01-05:       1:T1 55 */
#define T(n) "CPDASH000000000000000" #n
#define ANA  "pa-9aba45a7f1999a9c" /* "pa-" + md5("Ana")[0:16] */
#define BEN  "pa-092f2ba9f39fbc28"

static char *raw_dir;
static char *cli_env[4];
static struct tu_server live;
static char *real; /* ../shared/data/real, or NULL */

static void run_cli(const char *const *args)
{
    char *out = NULL;
    int rc = tu_run_cli(args, (const char *const *)cli_env, &out);
    ck_assert_msg(rc == 0, "chartpulse %s failed (%d): %s", args[0], rc, out);
    free(out);
}

/* A fresh database name for the servers and the CLI, a raw zone of its own and a new cache
 * generation. */
static void use_fresh_database(const char *name)
{
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    char *owner_url = tu_serve_fresh_database(name);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", owner_url);
    cli_env[1] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[2] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[3] = NULL;
    free(owner_url);
    char err[512];
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK,
                  "cache bump: %s", err);
}

static void fixture_setup(void)
{
    use_fresh_database(FIXTURE_DATABASE);
    char *fixtures = tu_fixture_path("dashboard");
    const char *ingest[] = {"ingest", fixtures, NULL};
    run_cli(ingest);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(fixtures);
}

static void fixture_teardown(void)
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
    curl_global_cleanup();
}

static void server_start(void)
{
    tu_server_start(&live, NULL, NULL);
}

static void server_stop(void)
{
    tu_server_stop(&live);
}

/* GET path; the answer must have the status; the caller frees r. */
static void get_status(struct tu_http_result *r, const char *path, long status)
{
    char *url = cp_asprintf("%s%s", live.base, path);
    tu_http_request(r, "GET", url, NULL, NULL, 0);
    free(url);
    ck_assert_msg(r->status == status, "GET %s: %ld, expected %ld: %s", path, r->status, status,
                  r->body.data ? r->body.data : "");
}

/* ---- whole answers ------------------------------------------------------------------- */

struct expected_answer {
    const char *path;
    const char *json; /* the whole body */
};

#define SUN_T4  "{\"id\":\"" T(4) "\",\"name\":\"Sun\",\"song_id\":\"" T(1) "\"}"
#define SUN_T1  "{\"id\":\"" T(1) "\",\"name\":\"Sun\",\"song_id\":\"" T(1) "\"}"
#define MOON    "{\"id\":\"" T(2) "\",\"name\":\"Moon\",\"song_id\":\"" T(2) "\"}"
#define STAR    "{\"id\":\"" T(3) "\",\"name\":\"Star\",\"song_id\":\"" T(3) "\"}"
#define RAIN    "{\"id\":\"" T(5) "\",\"name\":\"Rain\",\"song_id\":\"" T(5) "\"}"
#define ANA_REF "{\"id\":\"" ANA "\",\"spotify_id\":null,\"name\":\"Ana\"}"
#define SERIES  "\"period\":\"daily\",\"chart_kind\":\"regional\""

static const struct expected_answer answers[] = {
    {"/v1/charts/global/dates",
     "{\"region\":\"global\"," SERIES ",\"dates\":[\"2032-01-01\",\"2032-01-02\",\"2032-01-03\","
     "\"2032-01-05\"],\"count\":4}"},
    {"/v1/charts/se/dates",
     "{\"region\":\"se\"," SERIES ",\"dates\":[\"2032-01-03\"],\"count\":1}"},
    /* the song's latest date is 01-05 (T4 in global, T1 in us); se has no chart that day */
    {"/v1/tracks/" T(1) "/regions",
     "{\"track\":" SUN_T1 ",\"date\":\"2032-01-05\"," SERIES ",\"regions\":["
     "{\"region\":\"global\",\"name\":\"Global\",\"chart_loaded\":true,\"on_chart\":true,"
     "\"track_id\":\"" T(
         4) "\",\"rank\":2,\"streams\":150,\"previous_rank\":null,"
            "\"movement\":\"re-entry\",\"peak_rank\":1,\"days_on_chart\":4,\"run_source\":"
            "\"source\"},"
            "{\"region\":\"se\",\"name\":\"Sweden\",\"chart_loaded\":false,\"on_chart\":false},"
            "{\"region\":\"us\",\"name\":\"United States\",\"chart_loaded\":true,\"on_chart\":true,"
            "\"track_id\":\"" T(1) "\",\"rank\":1,\"streams\":55,\"previous_rank\":null,"
                                   "\"movement\":\"new\",\"peak_rank\":1,\"days_on_chart\":1,\"run_"
                                   "source\":\"source\"}]}"},
    {"/v1/tracks/" T(4) "/regions?date=2032-01-03",
     "{\"track\":" SUN_T4 ",\"date\":\"2032-01-03\"," SERIES ",\"regions\":["
     "{\"region\":\"global\",\"name\":\"Global\",\"chart_loaded\":true,\"on_chart\":true,"
     "\"track_id\":\"" T(
         4) "\",\"rank\":1,\"streams\":120,\"previous_rank\":1,"
            "\"movement\":\"same\",\"peak_rank\":1,\"days_on_chart\":3,\"run_source\":\"source\"},"
            "{\"region\":\"se\",\"name\":\"Sweden\",\"chart_loaded\":true,\"on_chart\":false},"
            "{\"region\":\"us\",\"name\":\"United "
            "States\",\"chart_loaded\":false,\"on_chart\":false}]}"},
    {"/v1/artists/" ANA "/regions?date=2032-01-03",
     "{\"artist\":" ANA_REF ",\"date\":\"2032-01-03\"," SERIES ",\"regions\":["
     "{\"region\":\"global\",\"name\":\"Global\",\"chart_loaded\":true,\"entries\":2,"
     "\"best_rank\":1,\"best_track\":" SUN_T4 ",\"streams\":220},"
     "{\"region\":\"se\",\"name\":\"Sweden\",\"chart_loaded\":true,\"entries\":1,"
     "\"best_rank\":1,\"best_track\":" MOON ",\"streams\":30},"
     "{\"region\":\"us\",\"name\":\"United States\",\"chart_loaded\":false,\"entries\":0,"
     "\"best_rank\":null,\"best_track\":null,\"streams\":null}]}"},
    {"/v1/artists/" ANA "/regions",
     "{\"artist\":" ANA_REF ",\"date\":\"2032-01-05\"," SERIES ",\"regions\":["
     "{\"region\":\"global\",\"name\":\"Global\",\"chart_loaded\":true,\"entries\":1,"
     "\"best_rank\":2,\"best_track\":" SUN_T4 ",\"streams\":150},"
     "{\"region\":\"se\",\"name\":\"Sweden\",\"chart_loaded\":false,\"entries\":0,"
     "\"best_rank\":null,\"best_track\":null,\"streams\":null},"
     "{\"region\":\"us\",\"name\":\"United States\",\"chart_loaded\":true,\"entries\":1,"
     "\"best_rank\":1,\"best_track\":" SUN_T1 ",\"streams\":55}]}"},
    /* Ana: T1, T2, T4; weeks start on Monday: 2031-12-29 holds 01-01 .. 01-03 */
    {"/v1/artists/" ANA "/streams?granularity=week",
     "{\"artist\":" ANA_REF ",\"region\":\"global\"," SERIES ",\"role\":\"all\","
     "\"granularity\":\"week\",\"points\":["
     "{\"date\":\"2031-12-29\",\"streams\":580,\"chart_streams\":780,\"share\":0.74359,"
     "\"entries\":6,\"charts\":3,\"artist_charts\":3},"
     "{\"date\":\"2032-01-05\",\"streams\":150,\"chart_streams\":390,\"share\":0.384615,"
     "\"entries\":1,\"charts\":1,\"artist_charts\":1}]}"},
    /* Ben leads T5 alone: days without it count 0 */
    {"/v1/artists/" BEN "/streams?role=lead&from=2032-01-02",
     "{\"artist\":{\"id\":\"" BEN "\",\"spotify_id\":null,\"name\":\"Ben\"},"
     "\"region\":\"global\"," SERIES ",\"role\":\"lead\",\"granularity\":\"day\",\"points\":["
     "{\"date\":\"2032-01-02\",\"streams\":0,\"chart_streams\":270,\"share\":0.0,"
     "\"entries\":0,\"charts\":1,\"artist_charts\":0},"
     "{\"date\":\"2032-01-03\",\"streams\":0,\"chart_streams\":270,\"share\":0.0,"
     "\"entries\":0,\"charts\":1,\"artist_charts\":0},"
     "{\"date\":\"2032-01-05\",\"streams\":40,\"chart_streams\":390,\"share\":0.102564,"
     "\"entries\":1,\"charts\":1,\"artist_charts\":1}]}"},
    {"/v1/records",
     "{\"region\":\"global\"," SERIES ",\"from\":\"2032-01-01\",\"to\":\"2032-01-05\","
     "\"charts\":4,\"charts_expected\":5,\"history_complete\":false,"
     "\"most_number_ones\":["
     "{\"track\":" SUN_T4 ",\"artists\":\"Ana\",\"days_at_1\":3,\"first_date\":\"2032-01-01\","
     "\"last_date\":\"2032-01-03\"},"
     "{\"track\":" STAR ",\"artists\":\"Cy\",\"days_at_1\":1,\"first_date\":\"2032-01-05\","
     "\"last_date\":\"2032-01-05\"}],"
     "\"longest_runs\":["
     "{\"track\":" SUN_T4 ",\"artists\":\"Ana\",\"length\":3,\"from\":\"2032-01-01\","
     "\"to\":\"2032-01-03\",\"ongoing\":false},"
     "{\"track\":" MOON ",\"artists\":\"Ana, Ben\",\"length\":3,\"from\":\"2032-01-01\","
     "\"to\":\"2032-01-03\",\"ongoing\":false},"
     "{\"track\":" STAR ",\"artists\":\"Cy\",\"length\":3,\"from\":\"2032-01-01\","
     "\"to\":\"2032-01-03\",\"ongoing\":false},"
     "{\"track\":" RAIN ",\"artists\":\"Ben\",\"length\":1,\"from\":\"2032-01-05\","
     "\"to\":\"2032-01-05\",\"ongoing\":true}],"
     "\"biggest_debuts\":["
     "{\"track\":" SUN_T1
     ",\"artists\":\"Ana\",\"date\":\"2032-01-01\",\"rank\":1,\"streams\":100},"
     "{\"track\":" MOON ",\"artists\":\"Ana, Ben\",\"date\":\"2032-01-01\",\"rank\":2,"
     "\"streams\":80},"
     "{\"track\":" STAR ",\"artists\":\"Cy\",\"date\":\"2032-01-01\",\"rank\":3,\"streams\":60},"
     "{\"track\":" RAIN ",\"artists\":\"Ben\",\"date\":\"2032-01-05\",\"rank\":3,\"streams\":40}],"
     "\"most_streams\":["
     "{\"track\":" STAR ",\"artists\":\"Cy\",\"date\":\"2032-01-05\",\"rank\":1,\"streams\":200},"
     "{\"track\":" SUN_T4
     ",\"artists\":\"Ana\",\"date\":\"2032-01-05\",\"rank\":2,\"streams\":150},"
     "{\"track\":" MOON ",\"artists\":\"Ana, Ben\",\"date\":\"2032-01-03\",\"rank\":2,"
     "\"streams\":100},"
     "{\"track\":" RAIN
     ",\"artists\":\"Ben\",\"date\":\"2032-01-05\",\"rank\":3,\"streams\":40}]}"},
    /* a range inside the series: 01-02 .. 01-03, no gap */
    {"/v1/records?from=2032-01-02&to=2032-01-04&limit=1",
     "{\"region\":\"global\"," SERIES ",\"from\":\"2032-01-02\",\"to\":\"2032-01-03\","
     "\"charts\":2,\"charts_expected\":2,\"history_complete\":true,"
     "\"most_number_ones\":[{\"track\":" SUN_T4 ",\"artists\":\"Ana\",\"days_at_1\":2,"
     "\"first_date\":\"2032-01-02\",\"last_date\":\"2032-01-03\"}],"
     "\"longest_runs\":[{\"track\":" SUN_T4 ",\"artists\":\"Ana\",\"length\":2,"
     "\"from\":\"2032-01-02\",\"to\":\"2032-01-03\",\"ongoing\":true}],"
     "\"biggest_debuts\":[],"
     "\"most_streams\":[{\"track\":" SUN_T4 ",\"artists\":\"Ana\",\"date\":\"2032-01-03\","
     "\"rank\":1,\"streams\":120}]}"},
};

static void assert_answer(const char *path, const char *expected_text)
{
    struct tu_http_result r;
    get_status(&r, path, 200);
    json_error_t error;
    json_t *expected = json_loads(expected_text, 0, &error);
    ck_assert_msg(expected != NULL, "expected JSON of %s: %s", path, error.text);
    ck_assert_msg(r.json != NULL, "GET %s: not JSON", path);
    char *got = json_dumps(r.json, JSON_COMPACT | JSON_SORT_KEYS);
    char *want = json_dumps(expected, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_msg(json_equal(r.json, expected), "GET %s:\n got  %s\n want %s", path, got, want);
    free(got);
    free(want);
    json_decref(expected);
    tu_http_result_free(&r);
}

START_TEST(answers_are_exact)
{
    assert_answer(answers[_i].path, answers[_i].json);
}
END_TEST

/* ---- agreement with the other endpoints ---------------------------------------------- */

static json_int_t member_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

/* Each bucket's chart_streams and charts are /v1/trends/streams' for the same bucket. */
START_TEST(chart_streams_are_the_trend_totals)
{
    static const char *const granularities[] = {"day", "week", "month"};
    for (size_t g = 0; g < 3; g++) {
        struct tu_http_result mine, totals;
        char *path = cp_asprintf("/v1/artists/%s/streams?granularity=%s", BEN, granularities[g]);
        get_status(&mine, path, 200);
        free(path);
        path = cp_asprintf("/v1/trends/streams?granularity=%s", granularities[g]);
        get_status(&totals, path, 200);
        free(path);
        const json_t *a = json_object_get(mine.json, "points");
        const json_t *b = json_object_get(totals.json, "points");
        ck_assert_int_eq(json_array_size(a), json_array_size(b));
        for (size_t i = 0; i < json_array_size(a); i++) {
            const json_t *p = json_array_get(a, i), *q = json_array_get(b, i);
            ck_assert_str_eq(json_string_value(json_object_get(p, "date")),
                             json_string_value(json_object_get(q, "date")));
            ck_assert_int_eq(member_int(p, "chart_streams"), member_int(q, "streams"));
            ck_assert_int_eq(member_int(p, "charts"), member_int(q, "charts"));
        }
        tu_http_result_free(&mine);
        tu_http_result_free(&totals);
    }
}
END_TEST

/* Summed over a range, an artist's streams and entries are the leaderboard's, for both
 * credit rules. */
START_TEST(streams_sum_to_the_leaderboard)
{
    static const char *const roles[] = {"all", "lead"};
    static const char *const artists[] = {ANA, BEN};
    for (size_t r = 0; r < 2; r++) {
        struct tu_http_result board;
        char *path =
            cp_asprintf("/v1/artists/leaderboard?role=%s&from=2032-01-02&to=2032-01-05", roles[r]);
        get_status(&board, path, 200);
        free(path);
        for (size_t a = 0; a < 2; a++) {
            struct tu_http_result mine;
            path = cp_asprintf("/v1/artists/%s/streams?role=%s&from=2032-01-02&to=2032-01-05",
                               artists[a], roles[r]);
            get_status(&mine, path, 200);
            free(path);
            json_int_t streams = 0, entries = 0;
            const json_t *points = json_object_get(mine.json, "points");
            for (size_t i = 0; i < json_array_size(points); i++) {
                streams += member_int(json_array_get(points, i), "streams");
                entries += member_int(json_array_get(points, i), "entries");
            }
            const json_t *rows = json_object_get(board.json, "rows");
            bool found = false;
            for (size_t i = 0; i < json_array_size(rows); i++) {
                const json_t *row = json_array_get(rows, i);
                const json_t *artist = json_object_get(row, "artist");
                if (strcmp(json_string_value(json_object_get(artist, "id")), artists[a]))
                    continue;
                found = true;
                ck_assert_int_eq(member_int(row, "streams"), streams);
                ck_assert_int_eq(member_int(row, "entries"), entries);
            }
            ck_assert_msg(found || streams == 0, "%s (%s) is not on the leaderboard", artists[a],
                          roles[r]);
            tu_http_result_free(&mine);
        }
        tu_http_result_free(&board);
    }
}
END_TEST

/* ---- refusals ------------------------------------------------------------------------ */

struct expected_problem {
    const char *path;
    long status;
    const char *detail_start; /* the parameter a 400 names */
};

static const struct expected_problem problems[] = {
    {"/v1/charts/global/dates?period=monthly", 400, "period:"},
    {"/v1/charts/global/dates?kind=top", 400, "kind:"},
    {"/v1/charts/global/dates?period=weekly", 404, "no regional weekly chart"},
    {"/v1/charts/gb/dates", 404, "no regional daily chart"},
    {"/v1/tracks/short/regions", 400, "id:"},
    {"/v1/tracks/" T(1) "/regions?date=2032-02-30", 400, "date:"},
    {"/v1/tracks/" T(1) "/regions?period=weekly", 404, "track '"},
    {"/v1/tracks/CPDASH0000000000000009/regions", 404, "no track"},
    {"/v1/artists/nobody/regions", 400, "id:"},
    {"/v1/artists/" ANA "/regions?kind=viral", 404, "artist '"},
    {"/v1/artists/pa-0000000000000000/regions", 404, "no artist"},
    {"/v1/artists/" ANA "/streams?granularity=year", 400, "granularity:"},
    {"/v1/artists/" ANA "/streams?role=featured", 400, "role:"},
    {"/v1/artists/" ANA "/streams?from=2032-01-05&to=2032-01-01", 400, "from:"},
    {"/v1/records?limit=101", 400, "limit:"},
    {"/v1/records?region=GB", 400, "region:"},
    {"/v1/records?from=2030-01-01&to=2030-12-31", 404, "no regional daily chart"},
};

START_TEST(bad_requests_name_the_parameter)
{
    const struct expected_problem *p = &problems[_i];
    struct tu_http_result r;
    get_status(&r, p->path, p->status);
    const char *detail = json_string_value(json_object_get(r.json, "detail"));
    ck_assert_msg(detail && !strncmp(detail, p->detail_start, strlen(p->detail_start)),
                  "GET %s: detail '%s', expected it to start with '%s'", p->path,
                  detail ? detail : "", p->detail_start);
    tu_http_result_free(&r);
}
END_TEST

/* ---- real files ---------------------------------------------------------------------- */

/* Global daily from the real files: January 2017 (spotifycharts.com, dated by file name
 * only) and five days of May 2025 (charts.spotify.com), an eight-year hole between. */
static void real_setup(void)
{
    real = tu_real_data_path("");
    if (!real)
        return;
    use_fresh_database(REAL_DATABASE);
    char *clayol = cp_asprintf("%s/clayol-spotifycharts-daily-global", real);
    char *daily = cp_asprintf("%s/lycnda-charts-spotify-com/regional-global-daily", real);
    const char *by_name[] = {"ingest", daily, NULL};
    run_cli(by_name);
    const char *dated_only[] = {"ingest", "--region", "global", clayol, NULL};
    run_cli(dated_only);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(clayol);
    free(daily);
}

static void real_teardown(void)
{
    if (!real)
        return;
    fixture_teardown();
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

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The records of the real global daily series agree with its charts read one by one
 * (/v1/charts/global/dates, then each chart's number one: Spotify ranks by streams, so the
 * number one has the chart's most streams), and answer in well under a second. */
START_TEST(real_records_agree_with_the_charts)
{
    if (!real)
        return;
    struct tu_http_result dates;
    get_status(&dates, "/v1/charts/global/dates", 200);
    const json_t *list = json_object_get(dates.json, "dates");
    size_t charts = json_array_size(list);
    ck_assert_int_ge(charts, 30);
    ck_assert_str_eq(json_string_value(json_array_get(list, 0)), "2017-01-01");

    json_t *number_ones = json_object(); /* song id -> days at #1 */
    json_int_t most_streams = 0;
    for (size_t i = 0; i < charts; i++) {
        struct tu_http_result chart;
        char *path =
            cp_asprintf("/v1/charts/global/%s?limit=1", json_string_value(json_array_get(list, i)));
        get_status(&chart, path, 200);
        free(path);
        const json_t *top = json_array_get(json_object_get(chart.json, "entries"), 0);
        const char *song =
            json_string_value(json_object_get(json_object_get(top, "track"), "song_id"));
        json_int_t days = json_integer_value(json_object_get(number_ones, song));
        json_object_set_new(number_ones, song, json_integer(days + 1));
        json_int_t streams = member_int(top, "streams");
        if (streams > most_streams)
            most_streams = streams;
        tu_http_result_free(&chart);
    }

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct tu_http_result rec;
    get_status(&rec, "/v1/records?limit=100", 200);
    double took = seconds_since(&start);
    ck_assert_msg(took < 1.0, "/v1/records took %.3f s", took);
    ck_assert_int_eq(member_int(rec.json, "charts"), (json_int_t)charts);
    ck_assert(!json_is_true(json_object_get(rec.json, "history_complete")));
    ck_assert_str_eq(json_string_value(json_object_get(rec.json, "from")), "2017-01-01");
    ck_assert_str_eq(json_string_value(json_array_get(list, charts - 1)),
                     json_string_value(json_object_get(rec.json, "to")));

    /* every song that was #1, with its days, and nothing else */
    const json_t *ones = json_object_get(rec.json, "most_number_ones");
    ck_assert_int_eq(json_array_size(ones), json_object_size(number_ones));
    for (size_t i = 0; i < json_array_size(ones); i++) {
        const json_t *one = json_array_get(ones, i);
        const char *song =
            json_string_value(json_object_get(json_object_get(one, "track"), "song_id"));
        ck_assert_msg(json_object_get(number_ones, song), "%s was never #1", song);
        ck_assert_int_eq(member_int(one, "days_at_1"),
                         json_integer_value(json_object_get(number_ones, song)));
    }
    const json_t *top = json_array_get(json_object_get(rec.json, "most_streams"), 0);
    ck_assert_int_eq(member_int(top, "streams"), most_streams);

    /* runs cannot cross the eight-year hole (none is longer than January 2017); a run is
     * ongoing exactly when it reaches the last chart */
    const char *last = json_string_value(json_object_get(rec.json, "to"));
    const json_t *runs = json_object_get(rec.json, "longest_runs");
    ck_assert_int_eq(json_array_size(runs), 100);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i);
        ck_assert_int_le(member_int(run, "length"), 31);
        ck_assert_int_eq(json_is_true(json_object_get(run, "ongoing")),
                         !strcmp(json_string_value(json_object_get(run, "to")), last));
    }
    json_decref(number_ones);
    tu_http_result_free(&rec);
    tu_http_result_free(&dates);
}
END_TEST

static Suite *dashboard_suite(void)
{
    Suite *s = suite_create("dashboard_api");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_add_checked_fixture(tc, server_start, server_stop);
    tcase_add_loop_test(tc, answers_are_exact, 0, (int)(sizeof answers / sizeof *answers));
    tcase_add_test(tc, chart_streams_are_the_trend_totals);
    tcase_add_test(tc, streams_sum_to_the_leaderboard);
    tcase_add_loop_test(tc, bad_requests_name_the_parameter, 0,
                        (int)(sizeof problems / sizeof *problems));
    suite_add_tcase(s, tc);

    TCase *real_tc = tu_real_data_tcase("real");
    tcase_set_timeout(real_tc, 600);
    tcase_add_unchecked_fixture(real_tc, real_setup, real_teardown);
    tcase_add_checked_fixture(real_tc, real_server_start, real_server_stop);
    tcase_add_test(real_tc, real_records_agree_with_the_charts);
    suite_add_tcase(s, real_tc);
    return s;
}

int main(void)
{
    return tu_run_suite(dashboard_suite());
}
