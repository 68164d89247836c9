/* GET /v1/regions shows each series' gaps, end to end: chart files with gaps placed by hand
 * (tests/fixtures/coverage) and a long series with many small gaps written here are loaded
 * through the real binary into a database of the suite's own, a real server on port 0
 * answers. A second case loads real series with known holes (when ../shared/data/real
 * exists) and checks the answer against gaps computed here from the files' names alone. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/date.h"
#include "core/generation.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/regions_repo.h"
#include "server/http.h"
#include "tests/testutil.h"

#define FIXTURE_DATABASE "chartpulse_test_coverage"
#define REAL_DATABASE    "chartpulse_test_coverage_real"

/* The fixture (tests/fixtures/coverage), two ranks a chart:
 *   global regional daily  2031-03-01 02 .. .. 05 06 .. .. .. 10
 *                          missing 03-03..03-04 (2) and 03-07..03-09 (3): 5 of 10
 *   global regional weekly Thursdays 2031-03-06 13 .. .. 04-03
 *                          missing 03-20..03-27 (2): 2 of 5
 *   se regional daily      2031-03-01 alone: 1 of 1, no gaps
 * and, written by many_gaps_write: de regional daily, a chart every other day from
 * 2031-05-01 (day 0) to day 100, then one on day 105: 52 charts of 106, 50 one-day gaps and
 * one of four (days 101..104), one range more than the CP_REGIONS_MAX_RANGES the API lists.
 * (A chart's file differs from every other's: the same bytes under two names load once.) */
#define MANY_GAPS_FIRST_DAY "2031-05-01"
#define MANY_GAPS_LAST      105

static char *raw_dir, *data_dir;
static char *cli_env[4];
static char *real; /* ../shared/data/real, or NULL */

/* ---- database, files and server --------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A charts.spotify.com daily file of one rank for the date `days` since 1970 into dir. */
static void write_daily_chart(const char *dir, const char *region, long days)
{
    char date[11];
    cp_date_format_days(days, date);
    char *path = cp_asprintf("%s/regional-%s-daily-%s.csv", dir, region, date);
    char *text = cp_asprintf("\xEF\xBB\xBFrank,uri,artist_names,track_name,source,peak_rank,"
                             "previous_rank,days_on_chart,streams\n"
                             "1,\"spotify:track:CPCOVERAGE000000000003\",\"Every Other Day\","
                             "\"Skip\",\"Coverage Records\",1,-1,1,\"%ld\"\n",
                             500000 + days);
    write_file(path, text);
    free(text);
    free(path);
}

static void many_gaps_write(const char *dir)
{
    long first = cp_date_text_to_days(MANY_GAPS_FIRST_DAY);
    for (long day = 0; day <= 100; day += 2)
        write_daily_chart(dir, "de", first + day);
    write_daily_chart(dir, "de", first + MANY_GAPS_LAST);
}

static void run_cli(const char *const *args)
{
    char *out = NULL;
    int rc = tu_run_cli(args, (const char *const *)cli_env, &out);
    ck_assert_msg(rc == 0, "chartpulse %s failed (%d): %s", args[0], rc, out);
    free(out);
}

/* A fresh database named name (DATABASE_URL and API_DATABASE_URL point at it, for the
 * servers) with a raw zone of its own, and a new cache generation, so answers other suites
 * cached for the same paths stay out. */
static void use_fresh_database(const char *name)
{
    char *owner_url = tu_serve_fresh_database(name);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    data_dir = cp_strdup("/tmp/chartpulse-coverage-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(data_dir));
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", owner_url);
    cli_env[1] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[2] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[3] = NULL;
    free(owner_url);
    char err[512];
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK,
                  "cache bump: %s", err);
}

static void release_database(void)
{
    char *rm = cp_asprintf("rm -rf '%s' '%s'", raw_dir, data_dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(raw_dir);
    free(data_dir);
    raw_dir = data_dir = NULL;
    for (int i = 0; cli_env[i]; i++) {
        free(cli_env[i]);
        cli_env[i] = NULL;
    }
}

static void fixture_setup(void)
{
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    use_fresh_database(FIXTURE_DATABASE);
    many_gaps_write(data_dir);
    char *fixtures = tu_fixture_path("coverage");
    const char *ingest[] = {"ingest", fixtures, data_dir, NULL};
    run_cli(ingest);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(fixtures);
}

static void fixture_teardown(void)
{
    release_database();
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

/* ---- reading the answer ------------------------------------------------------------------ */

/* GET path, which must answer 200; the caller frees r. */
static void get_ok(struct tu_http_result *r, const char *path)
{
    char *url = cp_asprintf("%s%s", live.base, path);
    tu_http_request(r, "GET", url, NULL, NULL, 0);
    free(url);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status,
                  r->body.data ? r->body.data : "");
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

static bool flag(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_boolean(v), "%s is not a boolean", key);
    return json_is_true(v);
}

/* The series (kind, period) of region in a /v1/regions body; fails the test when absent. */
static const json_t *find_series(const json_t *body, const char *region, const char *kind,
                                 const char *period)
{
    const json_t *regions = json_object_get(body, "regions");
    for (size_t i = 0; i < json_array_size(regions); i++) {
        const json_t *r = json_array_get(regions, i);
        if (strcmp(str(r, "region"), region))
            continue;
        const json_t *series = json_object_get(r, "series");
        for (size_t j = 0; j < json_array_size(series); j++) {
            const json_t *s = json_array_get(series, j);
            if (!strcmp(str(s, "chart_kind"), kind) && !strcmp(str(s, "period"), period))
                return s;
        }
    }
    ck_abort_msg("no %s %s %s series in /v1/regions", region, kind, period);
    return NULL;
}

struct expected_range {
    const char *from, *to;
    long long charts;
};

struct expected_series {
    const char *region, *kind, *period;
    const char *first_date, *last_date;
    long long charts, charts_expected, charts_missing;
    const struct expected_range *ranges; /* every range, in date order */
    size_t range_count;
};

static void assert_range(const json_t *range, const char *from, const char *to, long long charts,
                         const char *what, size_t i)
{
    ck_assert_msg(!strcmp(str(range, "from"), from) && !strcmp(str(range, "to"), to) &&
                      num(range, "charts") == charts,
                  "%s range %zu: %s..%s (%lld), expected %s..%s (%lld)", what, i,
                  str(range, "from"), str(range, "to"), (long long)num(range, "charts"), from, to,
                  charts);
}

/* The series in body is e, with every one of its ranges listed. */
static void assert_series(const json_t *body, const struct expected_series *e)
{
    char what[64];
    snprintf(what, sizeof what, "%s %s %s", e->region, e->kind, e->period);
    const json_t *s = find_series(body, e->region, e->kind, e->period);
    ck_assert_msg(!strcmp(str(s, "first_date"), e->first_date), "%s first_date %s", what,
                  str(s, "first_date"));
    ck_assert_msg(!strcmp(str(s, "last_date"), e->last_date), "%s last_date %s", what,
                  str(s, "last_date"));
    ck_assert_msg(num(s, "charts") == e->charts, "%s charts %lld, expected %lld", what,
                  (long long)num(s, "charts"), e->charts);
    ck_assert_msg(num(s, "charts_expected") == e->charts_expected,
                  "%s charts_expected %lld, expected %lld", what,
                  (long long)num(s, "charts_expected"), e->charts_expected);
    ck_assert_msg(num(s, "charts_missing") == e->charts_missing,
                  "%s charts_missing %lld, expected %lld", what,
                  (long long)num(s, "charts_missing"), e->charts_missing);
    ck_assert_msg(!flag(s, "missing_ranges_truncated"), "%s is truncated", what);
    const json_t *ranges = json_object_get(s, "missing_ranges");
    ck_assert_msg(json_is_array(ranges) && json_array_size(ranges) == e->range_count,
                  "%s: %zu missing ranges, expected %zu", what, json_array_size(ranges),
                  e->range_count);
    for (size_t i = 0; i < e->range_count; i++)
        assert_range(json_array_get(ranges, i), e->ranges[i].from, e->ranges[i].to,
                     e->ranges[i].charts, what, i);
}

/* ---- the fixture ------------------------------------------------------------------------ */

static const struct expected_range global_daily_gaps[] = {{"2031-03-03", "2031-03-04", 2},
                                                          {"2031-03-07", "2031-03-09", 3}};
static const struct expected_range global_weekly_gaps[] = {{"2031-03-20", "2031-03-27", 2}};

static const struct expected_series fixture_series[] = {
    {"global", "regional", "daily", "2031-03-01", "2031-03-10", 5, 10, 5, global_daily_gaps, 2},
    {"global", "regional", "weekly", "2031-03-06", "2031-04-03", 3, 5, 2, global_weekly_gaps, 1},
    {"se", "regional", "daily", "2031-03-01", "2031-03-01", 1, 1, 0, NULL, 0},
};

START_TEST(series_show_their_gaps)
{
    struct tu_http_result r;
    get_ok(&r, "/v1/regions");
    ck_assert_ptr_nonnull(r.json);
    /* global first, then by code; a region's series by kind and period */
    const json_t *regions = json_object_get(r.json, "regions");
    ck_assert_int_eq(json_array_size(regions), 3);
    ck_assert_str_eq(str(json_array_get(regions, 0), "region"), "global");
    ck_assert_str_eq(str(json_array_get(regions, 1), "region"), "de");
    ck_assert_str_eq(str(json_array_get(regions, 2), "region"), "se");
    const json_t *global = json_object_get(json_array_get(regions, 0), "series");
    ck_assert_int_eq(json_array_size(global), 2);
    ck_assert_str_eq(str(json_array_get(global, 0), "period"), "daily");
    for (size_t i = 0; i < sizeof fixture_series / sizeof *fixture_series; i++)
        assert_series(r.json, &fixture_series[i]);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(many_ranges_list_the_largest_in_date_order)
{
    struct tu_http_result r;
    get_ok(&r, "/v1/regions");
    const json_t *s = find_series(r.json, "de", "regional", "daily");
    ck_assert_int_eq(num(s, "charts"), 52);
    ck_assert_int_eq(num(s, "charts_expected"), MANY_GAPS_LAST + 1);
    ck_assert_int_eq(num(s, "charts_missing"), 50 + 4);
    ck_assert(flag(s, "missing_ranges_truncated"));
    const json_t *ranges = json_object_get(s, "missing_ranges");
    ck_assert_int_eq(json_array_size(ranges), CP_REGIONS_MAX_RANGES);
    /* the four-day gap and the 49 earliest one-day gaps (days 1, 3 .. 97); day 99's is the
     * one left out */
    long first = cp_date_text_to_days(MANY_GAPS_FIRST_DAY);
    char from[11], to[11];
    for (size_t i = 0; i + 1 < CP_REGIONS_MAX_RANGES; i++) {
        cp_date_format_days(first + 1 + 2 * (long)i, from);
        assert_range(json_array_get(ranges, i), from, from, 1, "de", i);
    }
    cp_date_format_days(first + 101, from);
    cp_date_format_days(first + 104, to);
    assert_range(json_array_get(ranges, CP_REGIONS_MAX_RANGES - 1), from, to, 4, "de",
                 CP_REGIONS_MAX_RANGES - 1);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(csv_has_the_counts)
{
    struct tu_http_result r;
    get_ok(&r, "/v1/regions?format=csv");
    ck_assert_msg(strstr(r.headers.data, "text/csv") != NULL, "%s", r.headers.data);
    ck_assert_str_eq(r.body.data,
                     "region,name,chart_kind,period,first_date,last_date,charts,charts_expected,"
                     "charts_missing\r\n"
                     "global,Global,regional,daily,2031-03-01,2031-03-10,5,10,5\r\n"
                     "global,Global,regional,weekly,2031-03-06,2031-04-03,3,5,2\r\n"
                     "de,Germany,regional,daily,2031-05-01,2031-08-14,52,106,54\r\n"
                     "se,Sweden,regional,daily,2031-03-01,2031-03-01,1,1,0\r\n");
    tu_http_result_free(&r);
}
END_TEST

/* Runs last: it changes the fixture. Loading a missing chart closes its part of a range, and
 * the load's cache bump makes the cached answer go (servers read the shared generation once
 * a second, so the new answer may take that long). */
START_TEST(a_loaded_chart_closes_its_gap)
{
    struct tu_http_result r;
    get_ok(&r, "/v1/regions");
    tu_http_result_free(&r);
    char *dir = cp_asprintf("%s/fill", data_dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    write_daily_chart(dir, "global", cp_date_text_to_days("2031-03-03"));
    const char *ingest[] = {"ingest", dir, NULL};
    run_cli(ingest);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(dir);

    for (int tries = 0;; tries++) {
        get_ok(&r, "/v1/regions");
        if (num(find_series(r.json, "global", "regional", "daily"), "charts") == 6 || tries == 50)
            break;
        tu_http_result_free(&r);
        usleep(100 * 1000);
    }
    static const struct expected_range gaps[] = {{"2031-03-04", "2031-03-04", 1},
                                                 {"2031-03-07", "2031-03-09", 3}};
    const struct expected_series filled = {
        "global", "regional", "daily", "2031-03-01", "2031-03-10", 6, 10, 4, gaps, 2};
    assert_series(r.json, &filled);
    tu_http_result_free(&r);
}
END_TEST

/* ---- real files ------------------------------------------------------------------------- */

/* A real series and where its charts come from: every *.csv in dirs (relative to real)
 * is one chart, dated by the last YYYY-MM-DD in its name. */
struct real_series {
    const char *region, *period;
    int step; /* days between charts */
    const char *dirs[3];
};

/* Global daily: January 2017 (spotifycharts.com, the file name only a date) and five days
 * of May 2025 (charts.spotify.com), one eight-year hole. Australia weekly: 2016-12-29 ..
 * 2019-01-03 without 2017-02-16, then 2025-06-19 and 2025-07-03 (SOURCES.md). */
static const struct real_series real_series[] = {
    {"global",
     "daily",
     1,
     {"clayol-spotifycharts-daily-global", "lycnda-charts-spotify-com/regional-global-daily"}},
    {"au", "weekly", 7, {"lycnda-charts-spotify-com/regional-au-weekly"}},
};

static int long_order(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The chart dates (days since 1970) of series, sorted; *n receives how many. */
static long *real_chart_days(const struct real_series *series, size_t *n)
{
    long *days = NULL;
    *n = 0;
    for (size_t d = 0; d < 3 && series->dirs[d]; d++) {
        char *path = cp_asprintf("%s/%s", real, series->dirs[d]);
        DIR *dir = opendir(path);
        ck_assert_msg(dir != NULL, "cannot open %s", path);
        for (struct dirent *de; (de = readdir(dir));) {
            size_t len = strlen(de->d_name);
            if (len < 14 || strcmp(de->d_name + len - 4, ".csv"))
                continue;
            const char *date = de->d_name + len - 14;
            ck_assert_msg(cp_date_valid_n(date, 10, CP_DATE_YEAR_MIN), "%s: no date in its name",
                          de->d_name);
            days = cp_realloc(days, (*n + 1) * sizeof *days);
            days[(*n)++] = cp_date_text_to_days(date);
        }
        closedir(dir);
        free(path);
    }
    qsort(days, *n, sizeof *days, long_order);
    return days;
}

static void real_setup(void)
{
    real = tu_real_data_path("");
    if (!real)
        return;
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    use_fresh_database(REAL_DATABASE);
    char *clayol = cp_asprintf("%s/%s", real, real_series[0].dirs[0]);
    char *daily = cp_asprintf("%s/%s", real, real_series[0].dirs[1]);
    char *au = cp_asprintf("%s/%s", real, real_series[1].dirs[0]);
    const char *by_name[] = {"ingest", daily, au, NULL};
    run_cli(by_name);
    const char *dated_only[] = {"ingest", "--region", "global", clayol, NULL};
    run_cli(dated_only);
    const char *load[] = {"load", NULL};
    run_cli(load);
    free(clayol);
    free(daily);
    free(au);
}

static void real_teardown(void)
{
    if (!real)
        return;
    release_database();
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

START_TEST(real_gaps_match_the_files)
{
    struct tu_http_result r;
    get_ok(&r, "/v1/regions");
    for (size_t i = 0; i < sizeof real_series / sizeof *real_series; i++) {
        const struct real_series *rs = &real_series[i];
        size_t n;
        long *days = real_chart_days(rs, &n);
        ck_assert_uint_gt(n, 1);
        /* the gaps between consecutive files; dates[] backs the ranges' strings */
        struct expected_range ranges[16];
        char dates[16][2][11];
        size_t count = 0;
        long long missing = 0;
        for (size_t j = 1; j < n; j++) {
            long skipped = (days[j] - days[j - 1]) / rs->step - 1;
            if (skipped <= 0)
                continue;
            ck_assert_uint_lt(count, 16);
            cp_date_format_days(days[j - 1] + rs->step, dates[count][0]);
            cp_date_format_days(days[j] - rs->step, dates[count][1]);
            ranges[count] = (struct expected_range){dates[count][0], dates[count][1], skipped};
            missing += skipped;
            count++;
        }
        char first[11], last[11];
        cp_date_format_days(days[0], first);
        cp_date_format_days(days[n - 1], last);
        const struct expected_series e = {rs->region,
                                          "regional",
                                          rs->period,
                                          first,
                                          last,
                                          (long long)n,
                                          (days[n - 1] - days[0]) / rs->step + 1,
                                          missing,
                                          ranges,
                                          count};
        assert_series(r.json, &e);
        fprintf(stderr, "real data: %s %s %s..%s, %zu charts of %lld, %zu missing ranges\n",
                rs->region, rs->period, first, last, n, e.charts_expected, count);
        free(days);
    }
    tu_http_result_free(&r);
}
END_TEST

static Suite *coverage_suite(void)
{
    Suite *s = suite_create("coverage");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_add_checked_fixture(tc, server_start, server_stop);
    tcase_add_test(tc, series_show_their_gaps);
    tcase_add_test(tc, many_ranges_list_the_largest_in_date_order);
    tcase_add_test(tc, csv_has_the_counts);
    tcase_add_test(tc, a_loaded_chart_closes_its_gap);
    suite_add_tcase(s, tc);

    TCase *real_tc = tu_real_data_tcase("real");
    tcase_set_timeout(real_tc, 600);
    tcase_add_unchecked_fixture(real_tc, real_setup, real_teardown);
    tcase_add_checked_fixture(real_tc, real_server_start, real_server_stop);
    tcase_add_test(real_tc, real_gaps_match_the_files);
    suite_add_tcase(s, real_tc);
    return s;
}

int main(void)
{
    return tu_run_suite(coverage_suite());
}
