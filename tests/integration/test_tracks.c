/* GET /v1/tracks/{id}, /history and /forecast end to end: chart files written here are
 * loaded through the real binary into a database of the suite's own, a real server on port
 * 0 answers, libcurl asks. A second case loads the real weekly global charts (when
 * ../shared/data/real exists) and checks the API's run statistics against numbers computed
 * here from the CSV files alone. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/date.h"
#include "core/generation.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/cache.h"
#include "server/http.h"
#include "tests/testutil.h"

/* Fixture tracks (22 base62 characters). Global regional daily 2031-03-01 .. 03-12, ten
 * ranks a day: STEADY is #1 every day; CLIMB starts at 10 and rises one place a day to 2,
 * where it stays; REENTRY is 5th on days 1-3, off on 4-6, 6th on 7-12; SHORT is on days 11
 * (9th) and 12 (8th); fillers take the other places. Global viral daily 03-01 .. 03-03:
 * STEADY 1st, CLIMB 2nd. Streams on the regional chart: 1,000,000 - 50,000 rank + 1,000 day. */
#define STEADY  "CPTRKsteady0000000000A"
#define CLIMB   "CPTRKclimb00000000000B"
#define REENTRY "CPTRKreentry000000000C"
#define SHORT   "CPTRKshort00000000000D"
#define UNKNOWN "CPTRKunknown000000000E"
#define DAYS    12

static char *data_dir, *raw_dir, *cli_env[4];

static int climb_rank(int day)
{
    return 11 - day < 2 ? 2 : 11 - day;
}

static long long fixture_streams(int rank, int day)
{
    return 1000000 - 50000LL * rank + 1000LL * day;
}

/* The track at rank of day (1-based), or NULL for a filler. */
static const char *fixture_track(int day, int rank)
{
    if (rank == 1)
        return STEADY;
    if (rank == climb_rank(day))
        return CLIMB;
    if ((day <= 3 && rank == 5) || (day >= 7 && rank == 6))
        return REENTRY;
    if ((day == 11 && rank == 9) || (day == 12 && rank == 8))
        return SHORT;
    return NULL;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A track's run so far, so each fixture row carries the chart-run columns
 * charts.spotify.com would print for it (the series starts with the fixture). */
struct fixture_run {
    char id[32];
    int peak, days, last_day, last_rank;
};

static struct fixture_run *fixture_run_of(struct fixture_run *runs, size_t *n, const char *id)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(runs[i].id, id))
            return &runs[i];
    struct fixture_run *r = &runs[(*n)++];
    snprintf(r->id, sizeof r->id, "%s", id);
    r->peak = 1000;
    return r;
}

/* Appends rank's peak_rank, previous_rank and days_on_chart on day to the run. */
static void fixture_run_step(struct fixture_run *r, int day, int rank, int *peak, int *previous,
                             int *days)
{
    *previous = r->days > 0 && r->last_day == day - 1 ? r->last_rank : -1;
    r->peak = rank < r->peak ? rank : r->peak;
    r->days++;
    r->last_day = day;
    r->last_rank = rank;
    *peak = r->peak;
    *days = r->days;
}

static void write_fixture_charts(void)
{
    struct fixture_run runs[256] = {0};
    size_t run_count = 0;
    for (int day = 1; day <= DAYS; day++) {
        struct cp_buf b;
        cp_buf_init(&b, TU_TEXT_MAX);
        cp_buf_adds(&b, "\xEF\xBB\xBFrank,uri,artist_names,track_name,source,peak_rank,"
                        "previous_rank,days_on_chart,streams\n");
        int filler = 0;
        for (int rank = 1; rank <= 10; rank++) {
            const char *id = fixture_track(day, rank);
            char filler_id[32];
            const char *artists = "Filler", *name = "Filler Song";
            if (!id) {
                snprintf(filler_id, sizeof filler_id, "CPTRKfiller%02d%02d0000000", day, ++filler);
                id = filler_id;
            } else if (!strcmp(id, CLIMB)) {
                artists = "Alpha, Beta";
                name = "Climb, \"\"Up\"\"";
            } else if (!strcmp(id, STEADY)) {
                artists = "Steady Artist";
                name = "Steady";
            }
            int peak, previous, days;
            fixture_run_step(fixture_run_of(runs, &run_count, id), day, rank, &peak, &previous,
                             &days);
            cp_buf_addf(&b, "%d,\"spotify:track:%s\",\"%s\",\"%s\",\"Label\",%d,%d,%d,\"%lld\"\n",
                        rank, id, artists, name, peak, previous, days, fixture_streams(rank, day));
        }
        char *path = cp_asprintf("%s/regional-global-daily-2031-03-%02d.csv", data_dir, day);
        write_file(path, b.data);
        free(path);
        cp_buf_free(&b);
    }
    for (int day = 1; day <= 3; day++) {
        char *text = cp_asprintf(
            "\xEF\xBB\xBFrank,uri,artist_names,track_name,source,peak_rank,previous_rank,"
            "days_on_chart\n"
            "1,\"spotify:track:" STEADY "\",\"Steady Artist\",\"Steady\",\"Label %d\",1,%d,%d\n"
            "2,\"spotify:track:" CLIMB "\",\"Alpha, Beta\",\"Climb\",\"Label\",2,%d,%d\n",
            day, day == 1 ? -1 : 1, day, day == 1 ? -1 : 2, day);
        char *path = cp_asprintf("%s/viral-global-daily-2031-03-%02d.csv", data_dir, day);
        write_file(path, text);
        free(path);
        free(text);
    }
}

static int run_cli(const char *const *args, char **out)
{
    return tu_run_cli(args, (const char *const *)cli_env, out);
}

static void owner_exec(const char *sql)
{
    PGconn *conn = PQconnectdb(getenv("DATABASE_URL"));
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
                  "fixture SQL failed: %s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

/* A fresh database named db_name (env DATABASE_URL, API_DATABASE_URL point at it) and raw
 * zone; the CLI children get the same. */
static void use_database(const char *db_name)
{
    char *owner_url = tu_serve_fresh_database(db_name);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", owner_url);
    cli_env[1] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[2] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[3] = NULL;
    free(owner_url);
}

static void bump_cache(void)
{
    char err[512];
    ck_assert_msg(cp_generation_bump(getenv("REDIS_URL"), err, sizeof err) == CP_OK,
                  "cache bump: %s", err);
}

static void ingest_and_load(const char *path)
{
    char *out = NULL;
    const char *ingest[] = {"ingest", path, NULL};
    int rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 0, "ingest: %s", out);
    free(out);
    const char *load[] = {"load", NULL};
    rc = run_cli(load, &out);
    ck_assert_msg(rc == 0, "load: %s", out);
    free(out);
}

static void release_environment(void)
{
    if (raw_dir) {
        char *rm = cp_asprintf("rm -rf '%s'", raw_dir);
        ck_assert_int_eq(system(rm), 0);
        free(rm);
        free(raw_dir);
        raw_dir = NULL;
    }
    for (int i = 0; cli_env[i]; i++) {
        free(cli_env[i]);
        cli_env[i] = NULL;
    }
}

static void suite_setup(void)
{
    use_database("chartpulse_test_tracks");
    data_dir = cp_strdup("/tmp/chartpulse-tracks-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(data_dir));
    write_fixture_charts();
    ingest_and_load(data_dir);
    /* STEADY is enriched: real credits, an album, track fields */
    owner_exec("insert into core.album (album_id, name, album_type, release_date,"
               "  release_date_precision, label, images, enriched_at) values"
               " ('CPTRKalbum00000000000A', 'Steady Album', 'album', '2031-01-01', 'month',"
               "  'Album Label', '[{\"url\": \"https://i.example/a.jpg\", \"width\": 640,"
               "  \"height\": 640}]', now());"
               "update core.track set duration_ms = 201000, explicit = true, isrc = 'USX9P3100001',"
               "  popularity = 77, album_id = 'CPTRKalbum00000000000A', enriched_at = now()"
               " where track_id = '" STEADY "';"
               "select etl.replace_track_credits('" STEADY "',"
               " '[{\"id\": \"CPTRKartist000000000A1\", \"name\": \"Steady Artist\"},"
               "   {\"id\": \"CPTRKartist000000000A2\", \"name\": \"Guest\"}]');");
    bump_cache();
}

static void suite_teardown(void)
{
    char *rm = cp_asprintf("rm -rf '%s'", data_dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(data_dir);
    release_environment();
}

/* ---- a server per test (threads do not survive Check's fork) ----------------------- */

static struct tu_server live;

static void server_start(void)
{
    tu_server_start(&live, NULL, NULL);
}

static void server_stop(void)
{
    tu_server_stop(&live);
}

static void http_get(struct tu_http_result *r, const char *path, const char *extra_header)
{
    char *url = cp_asprintf("%s%s", live.base, path);
    const char *headers[] = {extra_header, NULL};
    tu_http_request(r, "GET", url, headers, NULL, 0);
    free(url);
}

/* The value of response header name, copied into out; false if absent. */
static bool header(const struct tu_http_result *r, const char *name, char *out, size_t outlen)
{
    return tu_http_header(r->headers.data, name, out, outlen);
}

/* GETs path expecting a 200 JSON object; the caller frees r. */
static json_t *get_json(struct tu_http_result *r, const char *path)
{
    http_get(r, path, NULL);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status,
                  r->body.data ? r->body.data : "");
    ck_assert_msg(json_is_object(r->json), "GET %s: not a JSON object", path);
    return r->json;
}

/* GETs path expecting status with a problem document whose detail starts with prefix. */
static void assert_problem(const char *path, long status, const char *prefix)
{
    struct tu_http_result r;
    http_get(&r, path, NULL);
    ck_assert_msg(r.status == status, "GET %s: %ld, expected %ld: %s", path, r.status, status,
                  r.body.data ? r.body.data : "");
    char type[128];
    ck_assert(header(&r, "Content-Type", type, sizeof type));
    ck_assert_msg(strstr(type, "application/problem+json") != NULL, "%s", type);
    const char *detail = json_string_value(json_object_get(r.json, "detail"));
    ck_assert_msg(detail && !strncmp(detail, prefix, strlen(prefix)), "GET %s: detail '%s'", path,
                  detail ? detail : "(none)");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "status")), status);
    tu_http_result_free(&r);
}

static long long int_member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static const char *str_member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static double num_member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

/* The object has exactly the required members of its OpenAPI schema (and maybe more). */
static void assert_members(const json_t *obj, const char *const *required)
{
    ck_assert(json_is_object(obj));
    for (size_t i = 0; required[i]; i++)
        ck_assert_msg(json_object_get(obj, required[i]) != NULL, "missing member %s", required[i]);
}

static const char *const CHART_RUN_REQUIRED[] = {
    "chart_kind",       "region", "period",         "debut_date", "debut_rank",    "peak_rank",
    "peak_date",        "window", "longest_streak", "reentries",  "total_streams", "last_date",
    "history_complete", NULL};

/* The run of series kind/region/period in a track body. */
static const json_t *find_run(const json_t *track, const char *kind, const char *period)
{
    const json_t *runs = json_object_get(track, "runs");
    size_t i;
    const json_t *run;
    json_array_foreach(runs, i, run)
    {
        if (!strcmp(str_member(run, "chart_kind"), kind) &&
            !strcmp(str_member(run, "period"), period) &&
            !strcmp(str_member(run, "region"), "global"))
            return run;
    }
    ck_abort_msg("no %s %s run", kind, period);
    return NULL;
}

static void assert_run(const json_t *run, const char *debut_date, int debut_rank, int peak_rank,
                       const char *peak_date, int at_1, int top10, int total, int longest,
                       int reentries)
{
    assert_members(run, CHART_RUN_REQUIRED);
    ck_assert_str_eq(str_member(run, "debut_date"), debut_date);
    ck_assert_int_eq(int_member(run, "debut_rank"), debut_rank);
    ck_assert_int_eq(int_member(run, "peak_rank"), peak_rank);
    ck_assert_str_eq(str_member(run, "peak_date"), peak_date);
    /* counts are named by their unit: days on daily series, weeks on weekly ones */
    const char *unit = strcmp(str_member(run, "period"), "weekly") ? "days" : "weeks";
    const char *other = strcmp(unit, "days") ? "days" : "weeks";
    char key[32];
    snprintf(key, sizeof key, "%s_at_1", unit);
    ck_assert_int_eq(int_member(run, key), at_1);
    snprintf(key, sizeof key, "%s_in_top10", unit);
    ck_assert_int_eq(int_member(run, key), top10);
    snprintf(key, sizeof key, "%s_on_chart", unit);
    ck_assert_int_eq(int_member(run, key), total);
    snprintf(key, sizeof key, "%s_on_chart", other);
    ck_assert_msg(json_object_get(run, key) == NULL, "a %s run has %s", unit, key);
    ck_assert_int_eq(int_member(run, "longest_streak"), longest);
    ck_assert_int_eq(int_member(run, "reentries"), reentries);
}

/* ---- /v1/tracks/{id} ------------------------------------------------------------------ */

START_TEST(track_enriched_with_runs)
{
    struct tu_http_result r;
    json_t *t = get_json(&r, "/v1/tracks/" STEADY);
    static const char *const required[] = {"id", "name", "artists", "runs", NULL};
    assert_members(t, required);
    ck_assert_str_eq(str_member(t, "id"), STEADY);
    ck_assert_str_eq(str_member(t, "name"), "Steady");
    /* the Web API's credits are the richest source: its line replaces the charts' */
    ck_assert_str_eq(str_member(t, "artist_names"), "Steady Artist, Guest");
    ck_assert_str_eq(str_member(t, "label"), "Label");
    ck_assert_int_eq(int_member(t, "duration_ms"), 201000);
    ck_assert(json_is_true(json_object_get(t, "explicit")));
    ck_assert_str_eq(str_member(t, "isrc"), "USX9P3100001");
    const json_t *album = json_object_get(t, "album");
    ck_assert_str_eq(str_member(album, "id"), "CPTRKalbum00000000000A");
    ck_assert_str_eq(str_member(album, "name"), "Steady Album");
    ck_assert_str_eq(str_member(album, "release_date"), "2031-01");
    ck_assert_int_eq(json_array_size(json_object_get(album, "images")), 1);

    const json_t *artists = json_object_get(t, "artists");
    ck_assert_int_eq(json_array_size(artists), 2);
    const json_t *lead = json_array_get(artists, 0), *guest = json_array_get(artists, 1);
    ck_assert_str_eq(str_member(lead, "id"), "CPTRKartist000000000A1");
    ck_assert_str_eq(str_member(lead, "spotify_id"), "CPTRKartist000000000A1");
    ck_assert_str_eq(str_member(lead, "role"), "lead");
    ck_assert_str_eq(str_member(guest, "name"), "Guest");
    ck_assert_str_eq(str_member(guest, "role"), "featured");

    const json_t *runs = json_object_get(t, "runs");
    ck_assert_int_eq(json_array_size(runs), 2);
    ck_assert_str_eq(str_member(json_array_get(runs, 0), "chart_kind"), "regional");
    const json_t *daily = find_run(t, "regional", "daily");
    assert_run(daily, "2031-03-01", 1, 1, "2031-03-01", 12, 12, 12, 12, 0);
    long long total = 0;
    for (int day = 1; day <= DAYS; day++)
        total += fixture_streams(1, day);
    ck_assert_int_eq(int_member(daily, "total_streams"), total);
    ck_assert_str_eq(str_member(daily, "last_date"), "2031-03-12");
    /* the window the run covers, and the debut inside it: the file says day 1 */
    ck_assert_str_eq(str_member(json_object_get(daily, "window"), "from"), "2031-03-01");
    ck_assert_str_eq(str_member(json_object_get(daily, "window"), "to"), "2031-03-12");
    ck_assert(json_is_true(json_object_get(daily, "history_complete")));
    ck_assert_int_eq(int_member(daily, "source_days_on_chart"), 12);
    ck_assert_int_eq(int_member(daily, "source_peak_rank"), 1);
    /* a song of its own */
    const json_t *song = json_object_get(t, "song");
    ck_assert_str_eq(str_member(song, "id"), STEADY);
    ck_assert_int_eq(json_array_size(json_object_get(song, "other_tracks")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(song, "runs")), 2);
    const json_t *viral = find_run(t, "viral", "daily");
    assert_run(viral, "2031-03-01", 1, 1, "2031-03-01", 3, 3, 3, 3, 0);
    ck_assert(json_is_null(json_object_get(viral, "total_streams")));
    tu_http_result_free(&r);
}
END_TEST

START_TEST(track_provisional_credits_and_reentries)
{
    struct tu_http_result r;
    json_t *t = get_json(&r, "/v1/tracks/" CLIMB);
    ck_assert_str_eq(str_member(t, "name"), "Climb, \"Up\"");
    ck_assert(json_is_null(json_object_get(t, "album")));
    ck_assert(json_is_null(json_object_get(t, "duration_ms")));
    const json_t *artists = json_object_get(t, "artists");
    ck_assert_int_eq(json_array_size(artists), 2);
    const json_t *alpha = json_array_get(artists, 0);
    ck_assert_str_eq(str_member(alpha, "name"), "Alpha");
    ck_assert(json_is_null(json_object_get(alpha, "spotify_id")));
    /* a provisional artist's public id: pa- and 16 hex digits of its name's MD5 */
    const char *id = str_member(alpha, "id");
    ck_assert_msg(strlen(id) == 19 && !strncmp(id, "pa-", 3) &&
                      strspn(id + 3, "0123456789abcdef") == 16,
                  "id '%s'", id);
    /* rises from 10 one place a day, reaches 2 on day 9 and stays */
    assert_run(find_run(t, "regional", "daily"), "2031-03-01", 10, 2, "2031-03-09", 0, 12, 12, 12,
               0);
    tu_http_result_free(&r);

    t = get_json(&r, "/v1/tracks/" REENTRY);
    assert_run(find_run(t, "regional", "daily"), "2031-03-01", 5, 5, "2031-03-01", 0, 9, 9, 6, 1);
    ck_assert_int_eq(json_array_size(json_object_get(t, "runs")), 1);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(track_id_forms)
{
    static const char *const paths[] = {
        "/v1/tracks/spotify:track:" REENTRY,
        "/v1/tracks/spotify%3Atrack%3A" REENTRY,
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_http_result r;
        json_t *t = get_json(&r, paths[i]);
        ck_assert_str_eq(str_member(t, "id"), REENTRY);
        tu_http_result_free(&r);
    }
}
END_TEST

/* An open.spotify.com URL in one path segment: its slashes must arrive encoded (%2F). */
START_TEST(track_id_as_encoded_url)
{
    struct tu_http_result r;
    json_t *t =
        get_json(&r, "/v1/tracks/https%3A%2F%2Fopen.spotify.com%2Ftrack%2F" REENTRY "%3Fsi%3Dabc");
    ck_assert_str_eq(str_member(t, "id"), REENTRY);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(track_bad_and_unknown)
{
    assert_problem("/v1/tracks/short", 400, "id:");
    assert_problem("/v1/tracks/spotify:album:" REENTRY, 400, "id:");
    assert_problem("/v1/tracks/" REENTRY "x", 400, "id:");
    assert_problem("/v1/tracks/" UNKNOWN, 404, "no track");
    assert_problem("/v1/tracks/" UNKNOWN "/history", 404, "no track");
    assert_problem("/v1/tracks/" UNKNOWN "/forecast", 404, "no track");
}
END_TEST

START_TEST(track_etag_304)
{
    struct tu_http_result r;
    http_get(&r, "/v1/tracks/" STEADY, NULL);
    ck_assert_int_eq(r.status, 200);
    char etag[128], condition[160];
    ck_assert(header(&r, "ETag", etag, sizeof etag));
    tu_http_result_free(&r);
    snprintf(condition, sizeof condition, "If-None-Match: %s", etag);
    http_get(&r, "/v1/tracks/" STEADY, condition);
    ck_assert_int_eq(r.status, 304);
    tu_http_result_free(&r);
}
END_TEST

/* ---- /history ------------------------------------------------------------------------- */

START_TEST(history_json)
{
    struct tu_http_result r;
    json_t *h = get_json(&r, "/v1/tracks/" REENTRY "/history");
    static const char *const required[] = {"track",      "region", "period",
                                           "chart_kind", "points", NULL};
    assert_members(h, required);
    ck_assert_str_eq(str_member(json_object_get(h, "track"), "id"), REENTRY);
    ck_assert_str_eq(str_member(h, "region"), "global");
    ck_assert_str_eq(str_member(h, "period"), "daily");
    ck_assert_str_eq(str_member(h, "chart_kind"), "regional");
    const json_t *points = json_object_get(h, "points");
    ck_assert_int_eq(json_array_size(points), 9);
    static const char *const dates[] = {"2031-03-01", "2031-03-02", "2031-03-03",
                                        "2031-03-07", "2031-03-08", "2031-03-09",
                                        "2031-03-10", "2031-03-11", "2031-03-12"};
    static const char *const point_required[] = {"date", "rank", "streams", "movement", NULL};
    for (size_t i = 0; i < 9; i++) {
        const json_t *p = json_array_get(points, i);
        assert_members(p, point_required);
        ck_assert_str_eq(str_member(p, "date"), dates[i]);
        int rank = i < 3 ? 5 : 6;
        ck_assert_int_eq(int_member(p, "rank"), rank);
        ck_assert_int_eq(int_member(p, "streams"),
                         fixture_streams(rank, i < 3 ? (int)i + 1 : (int)i + 4));
    }
    const json_t *back = json_array_get(points, 3);
    ck_assert_str_eq(str_member(back, "movement"), "re-entry");
    ck_assert(json_is_null(json_object_get(back, "previous_rank")));
    ck_assert_str_eq(str_member(json_array_get(points, 0), "movement"), "new");
    ck_assert_str_eq(str_member(json_array_get(points, 1), "movement"), "same");
    ck_assert_int_eq(int_member(json_array_get(points, 8), "days_on_chart"), 9);
    tu_http_result_free(&r);

    /* a range; a series the track never charted in is empty, not an error */
    h = get_json(&r, "/v1/tracks/" CLIMB "/history?from=2031-03-04&to=2031-03-05");
    points = json_object_get(h, "points");
    ck_assert_int_eq(json_array_size(points), 2);
    ck_assert_int_eq(int_member(json_array_get(points, 0), "rank"), 7);
    ck_assert_str_eq(str_member(json_array_get(points, 1), "movement"), "up");
    tu_http_result_free(&r);
    h = get_json(&r, "/v1/tracks/" CLIMB "/history?region=se");
    ck_assert_int_eq(json_array_size(json_object_get(h, "points")), 0);
    tu_http_result_free(&r);

    /* viral: no streams */
    h = get_json(&r, "/v1/tracks/spotify:track:" CLIMB "/history?kind=viral");
    points = json_object_get(h, "points");
    ck_assert_int_eq(json_array_size(points), 3);
    ck_assert(json_is_null(json_object_get(json_array_get(points, 0), "streams")));
    tu_http_result_free(&r);
}
END_TEST

START_TEST(history_csv)
{
    const char *const requests[][2] = {
        {"/v1/tracks/" SHORT "/history?format=csv", NULL},
        {"/v1/tracks/" SHORT "/history", "Accept: text/csv"},
    };
    for (size_t i = 0; i < 2; i++) {
        struct tu_http_result r;
        http_get(&r, requests[i][0], requests[i][1]);
        ck_assert_int_eq(r.status, 200);
        char type[128];
        ck_assert(header(&r, "Content-Type", type, sizeof type));
        ck_assert_msg(!strncmp(type, "text/csv", 8), "%s", type);
        ck_assert_str_eq(r.body.data,
                         "date,rank,streams,previous_rank,movement,peak_rank,days_on_chart,"
                         "streak,run_source\r\n"
                         "2031-03-11,9,561000,,new,9,1,1,source\r\n"
                         "2031-03-12,8,612000,9,up,8,2,2,source\r\n");
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(history_bad_parameters)
{
    assert_problem("/v1/tracks/" CLIMB "/history?region=GLOBAL", 400, "region:");
    assert_problem("/v1/tracks/" CLIMB "/history?period=monthly", 400, "period:");
    assert_problem("/v1/tracks/" CLIMB "/history?kind=top", 400, "kind:");
    assert_problem("/v1/tracks/" CLIMB "/history?from=2031-02-30", 400, "from:");
    assert_problem("/v1/tracks/" CLIMB "/history?to=yesterday", 400, "to:");
    assert_problem("/v1/tracks/" CLIMB "/history?from=2031-03-05&to=2031-03-01", 400, "from:");
    assert_problem("/v1/tracks/" CLIMB "/history?format=xml", 400, "format:");
    assert_problem("/v1/tracks/nope/history", 400, "id:");
}
END_TEST

/* ---- /forecast ------------------------------------------------------------------------ */

static const char *const FORECAST_REQUIRED[] = {"track",    "region", "period", "model",
                                                "backtest", "points", NULL};
static const char *const FORECAST_POINT_REQUIRED[] = {
    "date", "rank", "rank_low", "rank_high", "streams", "streams_low", "streams_high", NULL};

START_TEST(forecast_damped)
{
    struct tu_http_result r;
    json_t *f = get_json(&r, "/v1/tracks/" STEADY "/forecast");
    assert_members(f, FORECAST_REQUIRED);
    ck_assert_str_eq(str_member(f, "model"), "damped-holt-log");
    ck_assert_str_eq(str_member(f, "origin"), "2031-03-12");
    ck_assert_double_eq_tol(num_member(f, "interval"), 0.8, 1e-9);
    /* numbers are written as people read them, not with 17 significant digits */
    ck_assert_msg(strstr(r.body.data, "\"interval\":0.8,") != NULL, "%.200s", r.body.data);
    const json_t *points = json_object_get(f, "points");
    ck_assert_int_eq(json_array_size(points), 7);
    for (size_t i = 0; i < 7; i++) {
        const json_t *p = json_array_get(points, i);
        assert_members(p, FORECAST_POINT_REQUIRED);
        char date[11];
        snprintf(date, sizeof date, "2031-03-%02d", 13 + (int)i);
        ck_assert_str_eq(str_member(p, "date"), date);
        /* #1 every day: forecast #1, and the interval cannot leave the chart's top */
        ck_assert_double_eq_tol(num_member(p, "rank"), 1.0, 1e-9);
        ck_assert_double_eq_tol(num_member(p, "rank_low"), 1.0, 1e-9);
        ck_assert_double_le(num_member(p, "streams_low"), num_member(p, "streams"));
        ck_assert_double_le(num_member(p, "streams"), num_member(p, "streams_high"));
        /* streams grew 1,000 a day to 962,000: the forecast continues near that */
        ck_assert_double_eq_tol(num_member(p, "streams"), 963000.0 + 1000.0 * (double)i, 2000.0);
    }
    const json_t *bt = json_object_get(f, "backtest");
    /* 12 observations, origins 5..11, horizons 1..7 where observed: 7+6+5+4+3+2+1 */
    ck_assert_int_eq(int_member(bt, "evaluated_points"), 28);
    ck_assert_double_eq_tol(num_member(bt, "rank_mae"), 0.0, 1e-9);
    ck_assert_double_lt(num_member(bt, "streams_mape"), 1.0);
    tu_http_result_free(&r);

    f = get_json(&r, "/v1/tracks/" CLIMB "/forecast?horizon=90");
    points = json_object_get(f, "points");
    ck_assert_int_eq(json_array_size(points), 90);
    ck_assert_str_eq(str_member(json_array_get(points, 89), "date"), "2031-06-10");
    double previous_width = 0.0;
    for (size_t i = 0; i < 90; i++) {
        const json_t *p = json_array_get(points, i);
        double rank = num_member(p, "rank");
        ck_assert_double_ge(rank, 1.0);
        ck_assert_double_le(rank, 10.0); /* the chart has ten places */
        double width = num_member(p, "streams_high") - num_member(p, "streams_low");
        ck_assert_double_ge(width, previous_width);
        previous_width = width;
    }
    tu_http_result_free(&r);
}
END_TEST

START_TEST(forecast_naive_viral_and_weekly)
{
    struct tu_http_result r;
    json_t *f = get_json(&r, "/v1/tracks/" SHORT "/forecast?horizon=3");
    ck_assert_str_eq(str_member(f, "model"), "naive-last-value");
    const json_t *points = json_object_get(f, "points");
    ck_assert_int_eq(json_array_size(points), 3);
    ck_assert_double_eq_tol(num_member(json_array_get(points, 0), "rank"), 8.0, 1e-9);
    ck_assert_double_eq_tol(num_member(json_array_get(points, 2), "streams"), 612000.0, 1e-6);
    /* one origin (after the first observation), horizon 1 observed: 9 -> 8 */
    const json_t *bt = json_object_get(f, "backtest");
    ck_assert_int_eq(int_member(bt, "evaluated_points"), 1);
    ck_assert_double_eq_tol(num_member(bt, "rank_mae"), 1.0, 1e-9);
    tu_http_result_free(&r);

    f = get_json(&r, "/v1/tracks/" CLIMB "/forecast?kind=viral&horizon=2");
    ck_assert_str_eq(str_member(f, "model"), "naive-last-value");
    points = json_object_get(f, "points");
    ck_assert(json_is_null(json_object_get(json_array_get(points, 0), "streams")));
    ck_assert(json_is_null(json_object_get(json_array_get(points, 0), "streams_high")));
    ck_assert(json_is_null(json_object_get(json_object_get(f, "backtest"), "streams_mape")));
    tu_http_result_free(&r);
}
END_TEST

START_TEST(forecast_bad_parameters)
{
    assert_problem("/v1/tracks/" CLIMB "/forecast?horizon=0", 400, "horizon:");
    assert_problem("/v1/tracks/" CLIMB "/forecast?horizon=91", 400, "horizon:");
    assert_problem("/v1/tracks/" CLIMB "/forecast?horizon=7d", 400, "horizon:");
    assert_problem("/v1/tracks/" CLIMB "/forecast?period=hourly", 400, "period:");
    assert_problem("/v1/tracks/x/forecast", 400, "id:");
    /* a known track, a series it never charted in */
    assert_problem("/v1/tracks/" CLIMB "/forecast?region=se", 404, "track");
    assert_problem("/v1/tracks/" CLIMB "/forecast?period=weekly", 404, "track");
}
END_TEST

/* ---- the real weekly global charts ----------------------------------------------------- */

/* One chart position read straight from a file. */
struct real_row {
    char track[23];
    int chart; /* index of the chart in date order */
    int rank;
    long long streams;
};

static int row_order(const void *a, const void *b)
{
    const struct real_row *x = a, *y = b;
    int c = strcmp(x->track, y->track);
    return c ? c : (x->chart > y->chart) - (x->chart < y->chart);
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run statistics of one track, computed from the files. */
struct real_stats {
    char track[23];
    int debut_chart, debut_rank, peak_rank, peak_chart, total, at_1, top10, longest, reentries;
    long long streams;
};

static char *real_dir;
static char **real_dates; /* chart index -> YYYY-MM-DD */
static int real_charts;

/* Reads every regional-global-weekly file: rank is the first field, the track the second
 * (a quoted spotify:track: URI), streams the last (quoted). Titles in between may hold
 * commas and quotes, so they are skipped rather than parsed. */
static struct real_row *read_real_rows(size_t *count)
{
    DIR *dir = opendir(real_dir);
    ck_assert_ptr_nonnull(dir);
    char **names = NULL;
    size_t n_names = 0;
    for (struct dirent *de; (de = readdir(dir));) {
        if (strncmp(de->d_name, "regional-global-weekly-", 23) || !strstr(de->d_name, ".csv"))
            continue;
        names = cp_realloc(names, (n_names + 1) * sizeof *names);
        names[n_names++] = cp_strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, n_names, sizeof *names, name_order);
    real_charts = (int)n_names;
    real_dates = cp_calloc(n_names, sizeof *real_dates);
    struct real_row *rows = NULL;
    size_t n_rows = 0, cap = 0;
    for (size_t i = 0; i < n_names; i++) {
        real_dates[i] = cp_strndup(names[i] + 23, 10);
        char *path = cp_asprintf("%s/%s", real_dir, names[i]);
        size_t len;
        char *text = tu_read_file(path, &len);
        char *line = strchr(text, '\n'); /* skip the header */
        while (line && *++line) {
            char *eol = strchr(line, '\n');
            if (eol)
                *eol = '\0';
            char *uri = strstr(line, "spotify:track:");
            char *last = strrchr(line, ',');
            if (uri && last) {
                if (n_rows == cap) {
                    cap = cap ? cap * 2 : 4096;
                    rows = cp_realloc(rows, cap * sizeof *rows);
                }
                struct real_row *r = &rows[n_rows++];
                r->rank = (int)strtol(line, NULL, 10);
                snprintf(r->track, sizeof r->track, "%.22s", uri + 14);
                r->streams = strtoll(last + 1 + (last[1] == '"'), NULL, 10);
                r->chart = (int)i;
            }
            line = eol;
        }
        free(text);
        free(path);
        free(names[i]);
    }
    free(names);
    *count = n_rows;
    return rows;
}

static struct real_stats *real_stats(struct real_row *rows, size_t n_rows, size_t *count)
{
    qsort(rows, n_rows, sizeof *rows, row_order);
    struct real_stats *stats = cp_calloc(n_rows, sizeof *stats);
    size_t n = 0;
    int streak = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const struct real_row *r = &rows[i];
        bool first = i == 0 || strcmp(r->track, rows[i - 1].track);
        if (first) {
            struct real_stats *s = &stats[n++];
            memcpy(s->track, r->track, sizeof s->track);
            s->debut_chart = r->chart;
            s->debut_rank = r->rank;
            s->peak_rank = r->rank;
            s->peak_chart = r->chart;
            streak = 0;
        }
        struct real_stats *s = &stats[n - 1];
        /* consecutive means on the previous week's chart (SPEC 4a: a missing week breaks
         * the streak); a return counts as a re-entry only when that week is loaded */
        long day = cp_date_text_to_days(real_dates[r->chart]);
        bool previous_week_loaded =
            r->chart > 0 && cp_date_text_to_days(real_dates[r->chart - 1]) == day - 7;
        if (!first && rows[i - 1].chart == r->chart - 1 && previous_week_loaded)
            streak++;
        else {
            if (!first && previous_week_loaded)
                s->reentries++;
            streak = 1;
        }
        if (streak > s->longest)
            s->longest = streak;
        if (r->rank < s->peak_rank) {
            s->peak_rank = r->rank;
            s->peak_chart = r->chart;
        }
        s->total++;
        s->at_1 += r->rank == 1;
        s->top10 += r->rank <= 10;
        s->streams += r->streams;
    }
    *count = n;
    return stats;
}

static void real_setup(void)
{
    real_dir = tu_real_data_path("lycnda-charts-spotify-com/regional-global-weekly");
    if (!real_dir)
        return;
    release_environment();
    use_database("chartpulse_test_tracks_real");
    ingest_and_load(real_dir);
    bump_cache();
}

static void real_teardown(void)
{
    if (!real_dir)
        return;
    for (int i = 0; i < real_charts; i++)
        free(real_dates[i]);
    free(real_dates);
    free(real_dir);
}

static int by_total_desc(const void *a, const void *b)
{
    const struct real_stats *x = a, *y = b;
    if (x->total != y->total)
        return y->total - x->total;
    return strcmp(x->track, y->track);
}

static void check_real_track(const struct real_stats *s)
{
    struct tu_http_result r;
    char *path = cp_asprintf("/v1/tracks/%s", s->track);
    json_t *t = get_json(&r, path);
    const json_t *run = find_run(t, "regional", "weekly");
    ck_assert_msg(int_member(run, "weeks_on_chart") == s->total, "%s total", s->track);
    assert_run(run, real_dates[s->debut_chart], s->debut_rank, s->peak_rank,
               real_dates[s->peak_chart], s->at_1, s->top10, s->total, s->longest, s->reentries);
    ck_assert_msg(int_member(run, "total_streams") == s->streams, "%s streams %lld vs %lld",
                  s->track, int_member(run, "total_streams"), s->streams);
    tu_http_result_free(&r);
    free(path);
}

START_TEST(real_weekly_runs_match_the_files)
{
    if (!real_dir) {
        fprintf(stderr,
                "test_tracks: ../shared/data/real is absent; skipping the real-data check\n");
        return;
    }
    size_t n_rows, n_tracks;
    struct real_row *rows = read_real_rows(&n_rows);
    ck_assert_int_eq(real_charts, 175);
    ck_assert_uint_eq(n_rows, 34995);
    struct real_stats *stats = real_stats(rows, n_rows, &n_tracks);
    qsort(stats, n_tracks, sizeof *stats, by_total_desc);
    /* the longest runs, every track that reached #1, the most re-entered, and a spread */
    size_t checked = 0;
    for (size_t i = 0; i < n_tracks; i++) {
        const struct real_stats *s = &stats[i];
        if (i < 10 || s->at_1 > 0 || s->reentries >= 3 || i % 97 == 0) {
            check_real_track(s);
            checked++;
        }
    }
    ck_assert_uint_ge(checked, 40);

    /* the forecast of the longest-charting track: the damped model with a real backtest */
    struct tu_http_result r;
    char *path = cp_asprintf("/v1/tracks/%s/forecast?period=weekly&horizon=4", stats[0].track);
    json_t *f = get_json(&r, path);
    ck_assert_str_eq(str_member(f, "model"), "damped-holt-log");
    const json_t *bt = json_object_get(f, "backtest");
    ck_assert_int_gt(int_member(bt, "evaluated_points"), 50);
    ck_assert_double_gt(num_member(bt, "rank_mae"), 0.0);
    ck_assert_double_gt(num_member(bt, "streams_mape"), 0.0);
    tu_http_result_free(&r);
    free(path);
    free(stats);
    free(rows);

    /* the model comparison over the whole series */
    char *out = NULL;
    const char *backtest[] = {"model", "backtest", "--period", "weekly", NULL};
    ck_assert_int_eq(run_cli(backtest, &out), 0);
    free(out);
}
END_TEST

START_TEST(model_backtest_command)
{
    char *out = NULL;
    const char *bad[] = {"model", "backtest", "--period", "hourly", NULL};
    ck_assert_int_ne(run_cli(bad, &out), 0);
    ck_assert_msg(strstr(out, "--period") != NULL, "%s", out);
    free(out);
    const char *none[] = {"model", "predict", NULL};
    ck_assert_int_ne(run_cli(none, &out), 0);
    free(out);
    const char *stride[] = {"model", "backtest", "--stride", "0", NULL};
    ck_assert_int_ne(run_cli(stride, &out), 0);
    ck_assert_msg(strstr(out, "--stride") != NULL, "%s", out);
    free(out);
    /* viral charts have no streams to score */
    const char *viral[] = {"model", "backtest", "--kind", "viral", NULL};
    ck_assert_int_ne(run_cli(viral, &out), 0);
    ck_assert_msg(strstr(out, "streams") != NULL, "%s", out);
    free(out);
    /* 12 daily charts: origins 8, 9 and 10; every model at h = 1..7 */
    const char *ok[] = {"model", "backtest", "--format", "json", NULL};
    ck_assert_int_eq(run_cli(ok, &out), 0);
    free(out);
    char *json_path = cp_asprintf("%s/backtest.json", data_dir);
    char *cmd = cp_asprintf("'%s' model backtest --format json > '%s'",
                            tu_env("CHARTPULSE_BINARY", "chartpulse"), json_path);
    ck_assert_int_eq(system(cmd), 0);
    json_error_t error;
    json_t *body = json_load_file(json_path, 0, &error);
    ck_assert_msg(body != NULL, "%s", error.text);
    const json_t *results = json_object_get(body, "results");
    ck_assert_uint_eq(json_array_size(results), 4 * 7);
    size_t pooled = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *row = json_array_get(results, i);
        if (!strcmp(str_member(row, "model"), "pooled-ridge"))
            pooled++;
        /* the origin-10 forecast at h = 1 is scored; nothing 4 or more charts after 10 */
        if (int_member(row, "horizon") == 1)
            ck_assert_int_gt(int_member(row, "scored"), 0);
        if (int_member(row, "horizon") >= 4)
            ck_assert_int_eq(int_member(row, "scored"), 0);
    }
    ck_assert_uint_eq(pooled, 7);
    json_decref(body);
    free(cmd);
    free(json_path);
}
END_TEST

static Suite *tracks_suite(void)
{
    Suite *s = suite_create("tracks");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, server_start, server_stop);
    tcase_add_test(tc, track_enriched_with_runs);
    tcase_add_test(tc, track_provisional_credits_and_reentries);
    tcase_add_test(tc, track_id_forms);
    tcase_add_test(tc, track_id_as_encoded_url);
    tcase_add_test(tc, track_bad_and_unknown);
    tcase_add_test(tc, track_etag_304);
    tcase_add_test(tc, history_json);
    tcase_add_test(tc, history_csv);
    tcase_add_test(tc, history_bad_parameters);
    tcase_add_test(tc, forecast_damped);
    tcase_add_test(tc, forecast_naive_viral_and_weekly);
    tcase_add_test(tc, forecast_bad_parameters);
    tcase_add_test(tc, model_backtest_command);
    suite_add_tcase(s, tc);

    TCase *real = tu_real_data_tcase("real");
    tcase_set_timeout(real, 600);
    tcase_add_unchecked_fixture(real, real_setup, real_teardown);
    tcase_add_checked_fixture(real, server_start, server_stop);
    tcase_add_test(real, real_weekly_runs_match_the_files);
    suite_add_tcase(s, real);
    return s;
}

int main(void)
{
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    int status = tu_run_suite(tracks_suite());
    curl_global_cleanup();
    return status;
}
