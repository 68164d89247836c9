/* The pipeline through the real binary: ingest -> raw zone + catalog -> load -> core
 * tables, against the private PostgreSQL. Each run gets a fresh database cloned from the
 * migrated template and a fresh raw zone. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/mem.h"
#include "db/pipeline_repo.h"
#include "tests/testutil.h"

static char *db_url;
static char *raw_dir;
static PGconn *db;

static char *cli_env[4];

static void wait_until(const char *sql)
{
    tu_wait_until(db, sql, 30);
}

static int run_cli(const char *const *args, char **stderr_text)
{
    return tu_run_cli(args, (const char *const *)cli_env, stderr_text);
}

static char *scalar(const char *sql)
{
    return tu_query_value(db, sql);
}

static void assert_scalar(const char *sql, const char *expected)
{
    char *v = scalar(sql);
    ck_assert_msg(!strcmp(v, expected), "%s\n  got:      %s\n  expected: %s", sql, v, expected);
    free(v);
}

static char *state_checksum(void)
{
    return tu_pipeline_checksum(db);
}

/* core.chart_run must always equal what its full history says (etl.rebuild_chart_runs's
 * aggregate), however the charts arrived: the rows that differ, as text ("" when none). */
static const char RUN_DRIFT_SQL[] =
    "with history as ("
    " select chart_kind, region, period, track_id, min(chart_date) as first_date,"
    "  (array_agg(rank order by chart_date))[1] as first_rank, max(chart_date) as last_date,"
    "  (array_agg(rank order by chart_date desc))[1] as last_rank, min(rank) as peak_rank,"
    "  (array_agg(chart_date order by rank, chart_date))[1] as peak_date, count(*)::int as periods,"
    "  (array_agg(streak order by chart_date desc))[1] as streak, max(streak) as longest_streak,"
    "  count(*) filter (where derived_movement = 're-entry')::int as reentries,"
    "  count(*) filter (where rank = 1)::int as periods_at_1,"
    "  count(*) filter (where rank <= 10)::int as periods_top10, sum(streams)::bigint as "
    "total_streams"
    " from core.chart_entry group by 1, 2, 3, 4),"
    " drift as ((select * from history except select * from core.chart_run)"
    "  union all (select * from core.chart_run except select * from history))"
    " select coalesce(string_agg(drift::text, '; '), '') from drift";

/* core.track_month must equal the monthly aggregate of the facts: the rows that differ. */
static const char MONTH_DRIFT_SQL[] =
    "with facts as ("
    " select chart_kind, region, period, date_trunc('month', chart_date)::date as month, track_id,"
    "  count(*)::int as entries, sum(streams)::bigint as streams,"
    "  count(*) filter (where rank = 1)::int as number_ones,"
    "  count(*) filter (where rank <= 10)::int as top10, min(rank) as best_rank,"
    "  bit_or(1 << (extract(day from chart_date)::int - 1)) as day_mask"
    " from core.chart_entry group by 1, 2, 3, 4, 5),"
    " drift as ((select * from facts except select * from core.track_month)"
    "  union all (select * from core.track_month except select * from facts))"
    " select coalesce(string_agg(drift::text, '; '), '') from drift";

/* The set-based recompute (etl.recompute_chart_runs) of every series from its first chart:
 * how many chart entries it would change. */
static const char RECOMPUTE_CHANGES_SQL[] =
    "select coalesce(sum(etl.recompute_chart_runs(s.chart_kind, s.region, s.period, "
    "'1900-01-01',"
    " array(select distinct track_id from core.chart_entry e"
    "  where (e.chart_kind, e.region, e.period) = (s.chart_kind, s.region, s.period)))), 0)"
    " from (select distinct chart_kind, region, period from core.chart) s";

static void setup(void)
{
    db_url = tu_fresh_database("chartpulse_test_pipeline", NULL);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", db_url);
    cli_env[1] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[2] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[3] = NULL;
    db = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(db) == CONNECTION_OK, "%s", PQerrorMessage(db));
}

static void teardown(void)
{
    PQfinish(db);
    char *rm = cp_asprintf("rm -rf '%s'", raw_dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(raw_dir);
    free(db_url);
    for (int i = 0; cli_env[i]; i++)
        free(cli_env[i]);
}

START_TEST(ingest_load_and_derived_runs)
{
    char *dir = tu_fixture_path("pipeline");
    char *d1 = cp_asprintf("%s/regional-global-daily-2030-01-01.csv", dir);
    char *d2 = cp_asprintf("%s/regional-global-daily-2030-01-02.csv", dir);
    char *d3 = cp_asprintf("%s/regional-global-daily-2030-01-03.csv", dir);
    char *out = NULL;
    /* out of order on purpose: the load orders by chart date */
    const char *ingest[] = {"ingest", d3, d1, d2, NULL};
    ck_assert_int_eq(run_cli(ingest, &out), 0);
    ck_assert_msg(strstr(out, "3 new objects") != NULL, "%s", out);
    free(out);
    assert_scalar("select count(*) from catalog.raw_object where loaded_at is null", "3");
    char *keys = scalar(
        "select string_agg('source=charts.spotify.com/chart=regional-daily/region=global/date='"
        " || chart_date || '/regional-global-daily-' || chart_date || '.'"
        " || left(sha256, 12) || '.csv', ',' order by chart_date) from catalog.raw_object");
    assert_scalar("select string_agg(object_key, ',' order by chart_date) from catalog.raw_object",
                  keys);
    free(keys);

    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 0);
    ck_assert_msg(strstr(out, "3 objects loaded, 14 rows") != NULL, "%s", out);
    free(out);

    assert_scalar("select count(*) from core.chart_entry", "14");
    assert_scalar("select string_agg(rank::text, ',' order by rank) from core.chart_entry"
                  " where chart_date = '2030-01-03'",
                  "1,2,3,5");
    /* our chart-run columns equal the ones the file carries (they are consistent there) */
    assert_scalar("select count(*) from core.chart_entry where"
                  " coalesce(derived_previous_rank, -1) <> coalesce(src_previous_rank, -1)"
                  " or derived_peak_rank <> src_peak_rank"
                  " or derived_periods_on_chart <> src_periods_on_chart",
                  "0");
    assert_scalar("select string_agg(track_id || ':' || derived_movement, ',' order by rank)"
                  " from core.chart_entry where chart_date = '2030-01-03'",
                  "1bBbBbBbBbBbBbBbBbBbB2:same,3dDdDdDdDdDdDdDdDdDdD4:re-entry,"
                  "0aAaAaAaAaAaAaAaAaAaA1:down,5fFfFfFfFfFfFfFfFfFfF6:down");
    assert_scalar(
        "select derived_movement || streak from core.chart_entry where chart_date = '2030-01-02'"
        " and rank = 1",
        "up2");
    assert_scalar(RUN_DRIFT_SQL, "");
    assert_scalar(
        "select first_date || '/' || first_rank || '/' || peak_rank || '/' || periods || '/'"
        " || streak || '/' || longest_streak || '/' || reentries || '/' || total_streams"
        " from core.chart_run where track_id = '3dDdDdDdDdDdDdDdDdDdD4'",
        "2030-01-01/4/2/2/1/1/1/1480000");
    /* text survives: quotes, commas, non-ASCII */
    assert_scalar("select name || '|' || artist_names from core.track"
                  " where track_id = '0aAaAaAaAaAaAaAaAaAaA1'",
                  "Jóga, \"Live\"|Björk, Sigur Rós");
    /* provisional credits, lead first */
    assert_scalar("select string_agg(a.name || '/' || c.role, ',' order by c.position)"
                  " from core.track_credit c join core.artist a using (artist_id)"
                  " where c.track_id = '2cCcCcCcCcCcCcCcCcCcC3'",
                  "방탄소년단/lead");
    assert_scalar("select rows_loaded || '/' || rows_rejected from catalog.raw_object"
                  " where chart_date = '2030-01-03'",
                  "4/0");
    /* the reporting view shows every position */
    assert_scalar("select count(*) from reporting.chart_entries where region = 'global'", "14");

    /* the same content again: recognised, nothing loaded twice, nothing changes */
    char *before = state_checksum();
    const char *again[] = {"ingest", dir, NULL};
    int rc = run_cli(again, &out);
    ck_assert_msg(strstr(out, "3 already in the catalog") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "regional-global-daily-latest.csv: refused") != NULL, "%s", out);
    ck_assert_int_ne(rc, 0); /* the undated file was refused */
    free(out);
    ck_assert_int_eq(run_cli(load, &out), 0);
    free(out);
    /* the se file was new: take it out of the comparison by loading it first, then compare */
    char *mid = state_checksum();
    ck_assert_int_eq(run_cli(again, NULL), 1);
    ck_assert_int_eq(run_cli(load, NULL), 0);
    char *after = state_checksum();
    ck_assert_str_eq(mid, after);
    ck_assert_str_ne(before, mid); /* the se file did add rows */
    free(before);
    free(mid);
    free(after);
    free(d1);
    free(d2);
    free(d3);
    free(dir);
}
END_TEST

/* Charts that arrive out of order (a day before loaded ones, a day between two) take the
 * set-based merge; the result must be what loading in order gives. */
START_TEST(out_of_order_load_matches_in_order)
{
    char *dir = tu_fixture_path("pipeline");
    static const char *const days[] = {"2030-01-03", "2030-01-01", "2030-01-02"};
    for (size_t i = 0; i < 3; i++) {
        char *file = cp_asprintf("%s/regional-global-daily-%s.csv", dir, days[i]);
        const char *ingest[] = {"ingest", file, NULL};
        ck_assert_int_eq(run_cli(ingest, NULL), 0);
        const char *load[] = {"load", NULL};
        ck_assert_int_eq(run_cli(load, NULL), 0);
        free(file);
    }
    assert_scalar("select count(*) from core.chart_entry", "14");
    assert_scalar("select count(*) from core.chart_entry where"
                  " coalesce(derived_previous_rank, -1) <> coalesce(src_previous_rank, -1)"
                  " or derived_peak_rank <> src_peak_rank or derived_periods_on_chart <> "
                  "src_periods_on_chart",
                  "0");
    assert_scalar(
        "select string_agg(track_id || ':' || derived_movement || streak, ',' order by rank)"
        " from core.chart_entry where chart_date = '2030-01-03'",
        "1bBbBbBbBbBbBbBbBbBbB2:same3,3dDdDdDdDdDdDdDdDdDdD4:re-entry1,"
        "0aAaAaAaAaAaAaAaAaAaA1:down3,5fFfFfFfFfFfFfFfFfFfF6:down2");
    assert_scalar(RUN_DRIFT_SQL, "");
    assert_scalar("select count(*) from etl.check_integrity()", "0");
    free(dir);
}
END_TEST

/* Generates a chart set (generate's arguments after --out) into <raw_dir>/generated and
 * returns that folder; caller frees. */
static char *generate(const char *const *generate_args)
{
    char *dir = cp_asprintf("%s/generated", raw_dir);
    const char *args[24] = {"generate", "--out", dir};
    size_t n = 3;
    for (size_t i = 0; generate_args[i] && n < 23; i++)
        args[n++] = generate_args[i];
    args[n] = NULL;
    ck_assert_int_eq(run_cli(args, NULL), 0);
    return dir;
}

/* Generates a chart set, ingests it and loads it with one job, so every chart arrives in
 * date order. Returns load's output. */
static char *generate_and_load(const char *const *generate_args)
{
    char *dir = generate(generate_args);
    char *raw = cp_asprintf("CHARTPULSE_RAW_URI=file://%s/raw", raw_dir);
    free(cli_env[1]);
    cli_env[1] = raw;
    const char *ingest[] = {"ingest", dir, NULL};
    ck_assert_int_eq(run_cli(ingest, NULL), 0);
    char *out = NULL;
    const char *load[] = {"load", "--jobs", "1", NULL};
    ck_assert_int_eq(run_cli(load, &out), 0);
    free(dir);
    return out;
}

/* What the streamed path loaded equals what the set-based SQL derives from the same facts:
 * every derived column, core.chart_run and core.track_month. */
static void assert_matches_set_based(void)
{
    assert_scalar(RUN_DRIFT_SQL, "");
    assert_scalar(MONTH_DRIFT_SQL, "");
    assert_scalar(RECOMPUTE_CHANGES_SQL, "0");
    assert_scalar("select count(*) from etl.check_integrity()", "0");
    /* and the history has what the comparison needs to mean something */
    assert_scalar("select count(distinct derived_movement) filter (where derived_movement <> "
                  "'unknown') from core.chart_entry",
                  "5");
    assert_scalar("select (count(*) filter (where streak > 1) > 0 and"
                  " count(*) filter (where derived_periods_on_chart > streak) > 0)::text"
                  " from core.chart_entry",
                  "true");
}

/* One file per chart (daily and weekly series): every object extends its series, so each
 * is loaded by the streamed path from the state the ones before it left in chart_run. */
START_TEST(streamed_load_matches_set_based_per_chart_files)
{
    static const char *const gen[] = {"--regions",    "2",          "--days", "45",
                                      "--chart-size", "40",         "--seed", "7",
                                      "--end-date",   "2030-03-01", NULL};
    char *out = generate_and_load(gen);
    ck_assert_msg(strstr(out, "0 failed") && strstr(out, "0 merged set-based"), "%s", out);
    free(out);
    assert_scalar("select count(distinct period) from core.chart", "2");
    /* the generator's files carry their own previous rank, peak and days on chart */
    assert_scalar("select count(*) from core.chart_entry where"
                  " coalesce(derived_previous_rank, -1) <> coalesce(src_previous_rank, -1)"
                  " or derived_peak_rank <> src_peak_rank or derived_periods_on_chart <> "
                  "src_periods_on_chart",
                  "0");
    assert_matches_set_based();
}
END_TEST

/* Kaggle files: one object per region and year holds a year of charts, so the state runs
 * through many charts inside one object and across the year boundary into the next. */
START_TEST(streamed_load_matches_set_based_kaggle_files)
{
    static const char *const gen[] = {"--format",   "kaggle",       "--regions", "2",      "--days",
                                      "50",         "--chart-size", "40",        "--seed", "3",
                                      "--end-date", "2030-01-20",   NULL};
    char *out = generate_and_load(gen);
    ck_assert_msg(strstr(out, "4 objects loaded, 4000 rows") && strstr(out, "4 streamed"), "%s",
                  out);
    free(out);
    assert_matches_set_based();
}
END_TEST

/* Whatever order charts arrive in, the tables end the same. The same set loaded in date
 * order (every object streamed) and object by object in a shuffled order (most objects
 * arrive before charts already loaded: the set-based merge) must give identical entries,
 * charts, runs and months. */
START_TEST(any_arrival_order_gives_the_same_tables)
{
    static const char *const gen[] = {"--regions",    "2",          "--days", "20",
                                      "--chart-size", "15",         "--seed", "11",
                                      "--end-date",   "2030-02-01", NULL};
    char *out = generate_and_load(gen);
    ck_assert_msg(strstr(out, "0 merged set-based"), "%s", out);
    free(out);
    char *in_order = tu_derived_checksum(db);

    char *url = tu_fresh_database("chartpulse_test_pipeline_shuffled", NULL);
    char *env_url = cp_asprintf("DATABASE_URL=%s", url);
    const char *env[] = {env_url, cli_env[1], cli_env[2], NULL};
    char *dir = cp_asprintf("%s/generated", raw_dir);
    const char *ingest[] = {"ingest", dir, NULL};
    ck_assert_int_eq(tu_run_cli(ingest, env, NULL), 0);
    PGconn *other = PQconnectdb(url);
    ck_assert_msg(PQstatus(other) == CONNECTION_OK, "%s", PQerrorMessage(other));
    int objects = 0;
    int set_based = tu_load_each_object_shuffled(other, env, &objects);
    ck_assert_msg(set_based > objects / 2, "only %d of %d objects merged set-based", set_based,
                  objects);
    char *shuffled = tu_derived_checksum(other);
    ck_assert_str_eq(shuffled, in_order);
    char *integrity = tu_query_value(other, "select count(*) from etl.check_integrity()");
    ck_assert_str_eq(integrity, "0");
    free(integrity);
    free(shuffled);
    PQfinish(other);
    free(dir);
    free(env_url);
    free(url);
    free(in_order);
}
END_TEST

/* Rows of chart_entry's partitions read (sequentially or by index) so far in the session's
 * open transaction. */
static long long entry_rows_read(PGconn *conn)
{
    char *v = tu_query_value(conn, "select sum(seq_tup_read + coalesce(idx_tup_fetch, 0))"
                                   " from pg_stat_xact_user_tables"
                                   " where schemaname = 'core' and relname like 'chart_entry_y%'");
    long long n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

/* Replacing a chart in the middle of a series whose statistics were taken when it was one
 * chart long: the set-based merge must read the series' entries a bounded number of times.
 * Its recompute used to join entries to charts, and with those statistics the planner
 * re-read the whole series once per chart (20 s for one chart of a real weekly series). */
START_TEST(set_based_merge_bounded_under_stale_statistics)
{
    static const char *const gen[] = {"--regions",    "1",          "--days",     "40",
                                      "--chart-size", "50",         "--seed",     "5",
                                      "--no-weekly",  "--end-date", "2030-03-01", NULL};
    char *dir = generate(gen);
    char *first = cp_asprintf("%s/regional-global-daily-2030-01-21.csv", dir);
    const char *ingest_first[] = {"ingest", first, NULL};
    const char *ingest_all[] = {"ingest", dir, NULL};
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(ingest_first, NULL), 0);
    ck_assert_int_eq(run_cli(load, NULL), 0);
    PQclear(PQexec(db, "analyze core.chart_entry, core.chart, core.chart_run"));
    ck_assert_int_eq(run_cli(ingest_all, NULL), 0);
    ck_assert_int_eq(run_cli(load, NULL), 0);
    assert_scalar("select count(*) from core.chart_entry", "2000");

    /* the 20th chart again, as a load would stage it, merged in this session */
    PGresult *res = PQexec(
        db, "begin;"
            "create temp table stage_entry on commit drop as"
            " select row_number() over (order by e.rank)::integer + 1 as line_no, e.chart_kind,"
            "  e.region, e.period, e.chart_date, e.rank, e.track_id, t.name as track_name,"
            "  t.artist_names, t.label, e.streams, e.src_peak_rank, e.src_previous_rank,"
            "  e.src_periods_on_chart"
            " from core.chart_entry e join core.track t using (track_id)"
            " where e.chart_date = '2030-02-09'");
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(db));
    PQclear(res);
    long long before = entry_rows_read(db);
    assert_scalar("select etl.merge_stage(object_id) from core.chart"
                  " where chart_date = '2030-02-09'",
                  "50");
    long long read = entry_rows_read(db) - before;
    /* the series is 2000 entries: a few passes over it read ~12,000 rows; re-reading it
     * per chart read 73,869 */
    ck_assert_msg(read <= 30000, "the merge read %lld entry rows", read);
    assert_scalar(RUN_DRIFT_SQL, "");
    PQclear(PQexec(db, "rollback"));
    free(first);
    free(dir);
}
END_TEST

/* A track can be on a chart once: its lower position is rejected (this used to fail the
 * whole object), the rest loads. */
START_TEST(track_twice_on_a_chart_rejected)
{
    char *file = tu_fixture_path("duplicate-track/regional-nl-daily-2030-01-01.csv");
    const char *ingest[] = {"ingest", file, NULL};
    ck_assert_int_eq(run_cli(ingest, NULL), 0);
    char *out = NULL;
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 0);
    ck_assert_msg(strstr(out, "1 object loaded, 2 rows") && strstr(out, "1 rejected"), "%s", out);
    free(out);
    assert_scalar("select line_no || ' ' || reason || ' | ' || raw_text from etl.reject",
                  "4 track_id: 0aAaAaAaAaAaAaAaAaAaA1 appears twice on chart regional/nl/2030-01-01"
                  " (also at rank 1) | 3,spotify:track:0aAaAaAaAaAaAaAaAaAaA1,Artist A,Song A,"
                  "Label,3,-1,1,700000");
    /* the file says both are new; chartpulse alone cannot tell (2029-12-31 is not loaded) */
    assert_scalar("select string_agg(rank || ':' || movement, ',' order by rank)"
                  " from reporting.chart_entries",
                  "1:new,2:new");
    assert_scalar("select string_agg(rank || ':' || derived_movement, ',' order by rank)"
                  " from core.chart_entry",
                  "1:unknown,2:unknown");
    assert_scalar("select rows_loaded || '/' || rows_rejected from catalog.raw_object", "2/1");
    assert_scalar("select count(*) from etl.check_integrity()", "0");
    free(file);
}
END_TEST

START_TEST(bad_rows_rejected_good_rows_kept)
{
    char *file = tu_fixture_path("pipeline/regional-se-daily-2030-01-01.csv");
    const char *ingest[] = {"ingest", file, NULL};
    ck_assert_int_eq(run_cli(ingest, NULL), 0);
    char *out = NULL;
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 0);
    ck_assert_msg(strstr(out, "2 rows (") != NULL && strstr(out, "5 rejected") != NULL, "%s", out);
    free(out);
    assert_scalar("select string_agg(rank || ':' || track_id, ',' order by rank)"
                  " from core.chart_entry where region = 'se'",
                  "1:0aAaAaAaAaAaAaAaAaAaA1,6:5fFfFfFfFfFfFfFfFfFfF6");
    /* every reject names its line and why */
    PGresult *res = PQexec(db, "select line_no, reason, raw_text from etl.reject order by line_no");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert_int_eq(PQntuples(res), 5);
    static const struct {
        const char *line;
        const char *reason_has;
    } expected[] = {{"3", "rank"},
                    {"4", "track id"},
                    {"5", "streams"},
                    {"6", "streams"},
                    {"7", "appears twice"}};
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(PQgetvalue(res, i, 0), expected[i].line);
        ck_assert_msg(strstr(PQgetvalue(res, i, 1), expected[i].reason_has) != NULL,
                      "line %s: reason '%s' should mention %s", expected[i].line,
                      PQgetvalue(res, i, 1), expected[i].reason_has);
        ck_assert_msg(strlen(PQgetvalue(res, i, 2)) > 0, "line %s: raw text missing",
                      expected[i].line);
    }
    PQclear(res);
    assert_scalar("select rows_loaded || '/' || rows_rejected from catalog.raw_object", "2/5");
    free(file);
}
END_TEST

START_TEST(undated_file_refused_with_hint)
{
    char *file = tu_fixture_path("pipeline/regional-global-daily-latest.csv");
    char *out = NULL;
    const char *ingest[] = {"ingest", file, NULL};
    ck_assert_int_ne(run_cli(ingest, &out), 0);
    ck_assert_msg(strstr(out, "--date") != NULL, "%s", out);
    free(out);
    assert_scalar("select count(*) from catalog.raw_object", "0");
    const char *dated[] = {"ingest", "--date", "2030-02-01", file, NULL};
    ck_assert_int_eq(run_cli(dated, NULL), 0);
    assert_scalar("select chart_date::text from catalog.raw_object", "2030-02-01");
    const char *bad_flag[] = {"ingest", "--date", "2030-02-30", file, NULL};
    ck_assert_int_ne(run_cli(bad_flag, &out), 0);
    ck_assert_msg(strstr(out, "--date") != NULL, "%s", out);
    free(out);
    free(file);
}
END_TEST

/* ---- row hygiene and failed objects ------------------------------------------------- */

#define HEADER                                                                                     \
    "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams\n"
#define ROW(rank, id, artists, title)                                                              \
    rank ",spotify:track:" id ",\"" artists "\",\"" title "\",L,1,-1,1,1000\n"
#define TRACK_X "0aAaAaAaAaAaAaAaAaAaA1"
#define TRACK_Y "1bBbBbBbBbBbBbBbBbBbB2"

/* Writes len bytes to dir/name; returns the path (caller frees). */
static char *write_input(const char *dir, const char *name, const char *data, size_t len)
{
    char *path = cp_asprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_int_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static char *input_dir(void)
{
    char *dir = cp_strdup("/tmp/chartpulse-in-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    char *rm = cp_asprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(dir);
}

/* The path in the raw zone of the one object whose original name is name (caller frees). */
static char *raw_path(const char *name)
{
    char *sql =
        cp_asprintf("select object_key from catalog.raw_object where original_name = '%s'", name);
    char *key = scalar(sql);
    char *path = cp_asprintf("%s/%s", raw_dir, key);
    free(key);
    free(sql);
    return path;
}

/* A NUL byte, bytes that are not UTF-8 or a 900 KB artist line reject that row alone: the NUL
 * used to cut the artists of a known track to "La" and load them, the others made PostgreSQL
 * refuse the whole object (and left it pending for every later load). */
START_TEST(poisoned_rows_rejected_rest_loads)
{
    char *dir = input_dir();
    static const char day1[] = HEADER ROW("1", TRACK_X, "La Oreja de Van Gogh", "Rosas")
        ROW("2", TRACK_Y, "Bob", "Song B");
    char *f1 = write_input(dir, "regional-global-daily-2030-03-01.csv", day1, sizeof day1 - 1);
    size_t big = 921600;
    char *artist = cp_calloc(big + 1, 1);
    memset(artist, 'x', big);
    static const char day2_head[] = HEADER ROW("1", TRACK_X, "La\0 Oreja de Van Gogh", "Rosas")
        ROW("2", TRACK_Y, "Bob", "Song B")
            ROW("3", "2cCcCcCcCcCcCcCcCcCcC3", "Ana",
                "Caf\xE9") "4,spotify:track:3dDdDdDdDdDdDdDdDdDdD4,\"";
    static const char day2_tail[] =
        "\",\"Big\",L,1,-1,1,1000\n" ROW("5", "4eEeEeEeEeEeEeEeEeEeE5", "Eve", "Song E");
    struct cp_buf day2;
    cp_buf_init(&day2, TU_FILE_MAX);
    cp_buf_add(&day2, day2_head, sizeof day2_head - 1);
    cp_buf_add(&day2, artist, big);
    cp_buf_add(&day2, day2_tail, sizeof day2_tail - 1);
    char *f2 = write_input(dir, "regional-global-daily-2030-03-02.csv", day2.data, day2.len);
    cp_buf_free(&day2);
    free(artist);

    char *out = NULL;
    const char *ingest[] = {"ingest", f1, f2, NULL};
    ck_assert_int_eq(run_cli(ingest, NULL), 0);
    const char *load[] = {"load", NULL};
    int rc = run_cli(load, &out);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_msg(strstr(out, "2 objects loaded, 4 rows") && strstr(out, "3 rejected, 0 failed"),
                  "%s", out);
    free(out);
    /* the known track keeps its artists */
    assert_scalar("select artist_names from core.track where track_id = '" TRACK_X "'",
                  "La Oreja de Van Gogh");
    assert_scalar("select string_agg(rank::text, ',' order by rank) from core.chart_entry"
                  " where chart_date = '2030-03-02'",
                  "2,5");
    assert_scalar("select string_agg(line_no || ' ' || reason, '; ' order by line_no)"
                  " from etl.reject",
                  "2 artist_names: contains a NUL byte at offset 2; "
                  "4 track_name: not valid UTF-8 at offset 3 (byte 0xe9); "
                  "5 artist_names: 921600 bytes, longer than the 2000-byte cap");
    /* the raw text is stored whatever its bytes were: escaped, and cut with a marker */
    assert_scalar("select raw_text from etl.reject where line_no = 2",
                  "1,spotify:track:" TRACK_X ",\"La\\x00 Oreja de Van Gogh\",\"Rosas\",L,1,-1,1,"
                  "1000");
    assert_scalar("select raw_text from etl.reject where line_no = 4",
                  "3,spotify:track:2cCcCcCcCcCcCcCcCcCcC3,\"Ana\",\"Caf\\xe9\",L,1,-1,1,1000");
    assert_scalar("select octet_length(raw_text) <= 8192 and raw_text like '4,spotify:track:%'"
                  " and raw_text like '%[cut: 921661 bytes in all]' from etl.reject"
                  " where line_no = 5",
                  "t");
    assert_scalar("select string_agg(rows_loaded || '/' || rows_rejected || '/' ||"
                  " coalesce(load_error, 'ok'), ',' order by chart_date) from catalog.raw_object",
                  "2/0/ok,2/3/ok");
    assert_scalar("select count(*) from etl.check_integrity()", "0");
    free(f1);
    free(f2);
    remove_dir(dir);
}
END_TEST

/* An object that cannot be loaded is marked failed with its error; later loads skip it (and
 * say so) and exit 0, so the pipeline runs again; --retry-failed and --object retry it. */
START_TEST(failed_object_marked_skipped_and_retried)
{
    char *dir = tu_fixture_path("pipeline");
    char *d1 = cp_asprintf("%s/regional-global-daily-2030-01-01.csv", dir);
    char *d2 = cp_asprintf("%s/regional-global-daily-2030-01-02.csv", dir);
    const char *ingest[] = {"ingest", d1, d2, NULL};
    ck_assert_int_eq(run_cli(ingest, NULL), 0);
    /* the first object's bytes go missing from the raw zone */
    char *raw = raw_path("regional-global-daily-2030-01-01.csv");
    char *aside = cp_asprintf("%s.aside", raw);
    ck_assert_int_eq(rename(raw, aside), 0);

    char *out = NULL;
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 1);
    ck_assert_msg(strstr(out, "(regional-global-daily-2030-01-01.csv): not loaded:") &&
                      strstr(out, "1 object loaded") && strstr(out, "1 failed"),
                  "%s", out);
    free(out);
    assert_scalar("select (loaded_at is null) || ' ' || (load_error <> '')"
                  " from catalog.raw_object where chart_date = '2030-01-01'",
                  "true true");
    assert_scalar("select count(*) from catalog.raw_object where chart_date = '2030-01-01'"
                  " and load_error like '%"
                  "regional-global-daily-2030-01-01%'",
                  "1");

    /* later loads skip it, say so, and succeed */
    ck_assert_int_eq(run_cli(load, &out), 0);
    ck_assert_msg(strstr(out, "0 objects loaded") && strstr(out, "skipped 1 failed object") &&
                      strstr(out, "--retry-failed"),
                  "%s", out);
    free(out);
    const char *pipeline[] = {"pipeline", "run", NULL};
    ck_assert_int_eq(run_cli(pipeline, &out), 0);
    free(out);
    assert_scalar("select string_agg(name || ':' || status, ',' order by step_no)"
                  " from etl.pipeline_step where run_id = (select max(run_id) from"
                  " etl.pipeline_run)",
                  "ingest:succeeded,load:succeeded,enrich:skipped,refresh:succeeded");
    assert_scalar("select detail from etl.pipeline_step where name = 'ingest' and run_id ="
                  " (select max(run_id) from etl.pipeline_run)",
                  "0 raw objects pending in the catalog, 1 failed (skipped until `chartpulse "
                  "load --retry-failed`)");

    /* retried once its bytes are back: loaded, the error gone */
    ck_assert_int_eq(rename(aside, raw), 0);
    const char *retry[] = {"load", "--retry-failed", NULL};
    ck_assert_int_eq(run_cli(retry, &out), 0);
    ck_assert_msg(strstr(out, "1 object loaded") && !strstr(out, "skipped"), "%s", out);
    free(out);
    assert_scalar("select count(*) from catalog.raw_object"
                  " where loaded_at is null or load_error is not null",
                  "0");
    assert_scalar("select count(*) from core.chart", "2");
    assert_scalar(RUN_DRIFT_SQL, "");

    /* --object retries one failed object too */
    ck_assert_int_eq(rename(raw, aside), 0);
    char *id = scalar("select object_id from catalog.raw_object where chart_date = '2030-01-01'");
    const char *one[] = {"load", "--object", id, NULL};
    ck_assert_int_eq(run_cli(one, NULL), 1);
    assert_scalar("select count(*) from catalog.raw_object where load_error is not null", "1");
    ck_assert_int_eq(rename(aside, raw), 0);
    ck_assert_int_eq(run_cli(one, NULL), 0);
    assert_scalar("select count(*) from catalog.raw_object where load_error is not null", "0");
    free(id);
    free(raw);
    free(aside);
    free(d1);
    free(d2);
    free(dir);
}
END_TEST

/* ---- run liveness ------------------------------------------------------------------ */

/* A session of this test's own, holding the global daily series' load lock (the advisory
 * lock every load of that series takes, db/etl_repo.c): a load of it waits until released,
 * which holds a run in its load step as long as the test needs. */
static PGconn *hold_series_lock(void)
{
    PGconn *holder = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(holder) == CONNECTION_OK, "%s", PQerrorMessage(holder));
    tu_exec_sql(holder, "select pg_advisory_lock(hashtextextended('regional/global/daily', 0))");
    return holder;
}

/* A run killed midway (SIGKILL: nothing of it runs again, its row stays `running`) blocks
 * nothing: the lock its session held went with the session, so the runs listing shows it
 * failed at once, and the next run marks it failed for good and goes on. */
START_TEST(killed_run_does_not_block_the_next)
{
    char *dir = tu_fixture_path("pipeline");
    char *d1 = cp_asprintf("%s/regional-global-daily-2030-01-01.csv", dir);
    const char *ingest[] = {"ingest", d1, NULL};
    ck_assert_int_eq(run_cli(ingest, NULL), 0);

    PGconn *holder = hold_series_lock();
    const char *pipeline[] = {"pipeline", "run", NULL};
    pid_t pid = tu_spawn_cli(pipeline, (const char *const *)cli_env, -1);
    /* the run is in its load step, and the load waits for the series lock */
    wait_until("select exists (select 1 from etl.pipeline_step s join etl.pipeline_run r"
               " using (run_id) where r.status = 'running' and s.name = 'load'"
               " and s.status = 'running')"
               " and exists (select 1 from pg_locks where locktype = 'advisory'"
               " and not granted)");
    char *dead = scalar("select run_id from etl.pipeline_run where status = 'running'");
    ck_assert_int_eq(kill(-pid, SIGKILL), 0); /* the run and the load it started */
    int wstatus;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    ck_assert(WIFSIGNALED(wstatus));
    tu_exec_sql(holder, "select pg_advisory_unlock_all()");
    PQfinish(holder);

    /* listed as failed as soon as its session is gone, before any new run */
    wait_until("select not etl.pipeline_run_lock_held()");
    struct cp_pipeline_run_list list = {0};
    char err[512];
    ck_assert_int_eq(cp_pipeline_repo_list(db, 1, 0, &list, err, sizeof err), CP_OK);
    ck_assert_int_eq(list.count, 1);
    ck_assert_str_eq(list.runs[0].status, "failed");
    ck_assert_str_eq(list.runs[0].error, "the process running it stopped (no lock held)");
    json_t *steps = json_loads(list.runs[0].steps_json, 0, NULL);
    ck_assert_msg(json_is_array(steps), "%s", list.runs[0].steps_json);
    json_t *load_step = json_array_get(steps, 1);
    ck_assert_str_eq(json_string_value(json_object_get(load_step, "name")), "load");
    ck_assert_str_eq(json_string_value(json_object_get(load_step, "status")), "failed");
    json_decref(steps);
    cp_pipeline_run_list_cleanup(&list);

    /* the next run takes the lock, marks the dead one failed and loads the chart */
    char *out = NULL;
    ck_assert_msg(run_cli(pipeline, &out) == 0, "the next run failed: %s", out);
    free(out);
    char *next = scalar("select max(run_id) from etl.pipeline_run");
    char *sql = cp_asprintf("select status || ': ' || error from etl.pipeline_run"
                            " where run_id = %s",
                            dead);
    char *expected = cp_asprintf("failed: the process running it stopped (no lock held);"
                                 " marked failed by run %s",
                                 next);
    assert_scalar(sql, expected);
    free(sql);
    sql = cp_asprintf("select string_agg(name || ':' || status, ',' order by step_no)"
                      " from etl.pipeline_step where run_id = %s",
                      dead);
    assert_scalar(sql, "ingest:succeeded,load:failed,enrich:skipped,refresh:skipped");
    free(sql);
    sql = cp_asprintf("select status from etl.pipeline_run where run_id = %s", next);
    assert_scalar(sql, "succeeded");
    assert_scalar("select count(*) from catalog.raw_object where loaded_at is not null", "1");
    free(sql);
    free(expected);
    free(next);
    free(dead);
    free(d1);
    free(dir);
}
END_TEST

/* While a run is alive (its session holds the run lock), another is refused, naming it. */
START_TEST(live_run_refuses_a_second)
{
    PGconn *holder = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(holder) == CONNECTION_OK, "%s", PQerrorMessage(holder));
    tu_exec_sql(holder, "select pg_advisory_lock(etl.pipeline_run_lock_key())");
    char *out = NULL;
    const char *pipeline[] = {"pipeline", "run", NULL};
    ck_assert_int_eq(run_cli(pipeline, &out), 1);
    ck_assert_msg(strstr(out, "a pipeline run is already going"), "%s", out);
    free(out);
    assert_scalar("select count(*) from etl.pipeline_run", "0");
    PQfinish(holder); /* the holder's end releases it: the next run goes */
    ck_assert_int_eq(run_cli(pipeline, NULL), 0);
    assert_scalar("select string_agg(status, ',') from etl.pipeline_run", "succeeded");
}
END_TEST

/* A file with a header and no rows, or nothing at all, is refused at ingest with its name; an
 * object cataloged before that rule fails its load instead of loading as a chart of 0 rows. */
START_TEST(file_without_rows_refused)
{
    char *dir = input_dir();
    char *header_only =
        write_input(dir, "regional-global-daily-2030-04-01.csv", HEADER "\n", sizeof HEADER);
    char *empty = write_input(dir, "regional-global-daily-2030-04-02.csv", "", 0);
    char *out = NULL;
    const char *ingest[] = {"ingest", header_only, empty, NULL};
    ck_assert_int_eq(run_cli(ingest, &out), 1);
    ck_assert_msg(strstr(out, "regional-global-daily-2030-04-01.csv: refused: no data rows") &&
                      strstr(out, "regional-global-daily-2030-04-02.csv: refused: empty file") &&
                      strstr(out, "2 refused"),
                  "%s", out);
    free(out);
    assert_scalar("select count(*) from catalog.raw_object", "0");

    /* an object whose bytes hold no rows (ingested before the rule) */
    static const char good[] = HEADER ROW("1", TRACK_X, "A", "T");
    char *file = write_input(dir, "regional-global-daily-2030-04-03.csv", good, sizeof good - 1);
    const char *ingest_good[] = {"ingest", file, NULL};
    ck_assert_int_eq(run_cli(ingest_good, NULL), 0);
    char *key = scalar("select object_key from catalog.raw_object where chart_date = '2030-04-03'");
    free(write_input(raw_dir, key, HEADER, sizeof HEADER - 1));
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 1);
    ck_assert_msg(strstr(out, "(regional-global-daily-2030-04-03.csv): not loaded: no data rows"),
                  "%s", out);
    free(out);
    assert_scalar("select coalesce(load_error, 'none') || ' ' || (loaded_at is null)"
                  " from catalog.raw_object",
                  "no data rows: the file holds a header line only true");
    assert_scalar("select count(*) from core.chart", "0");
    free(key);
    free(file);
    free(header_only);
    free(empty);
    remove_dir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ingest_load_and_derived_runs);
    tcase_add_test(tc, out_of_order_load_matches_in_order);
    tcase_add_test(tc, streamed_load_matches_set_based_per_chart_files);
    tcase_add_test(tc, streamed_load_matches_set_based_kaggle_files);
    tcase_add_test(tc, any_arrival_order_gives_the_same_tables);
    tcase_add_test(tc, set_based_merge_bounded_under_stale_statistics);
    tcase_add_test(tc, track_twice_on_a_chart_rejected);
    tcase_add_test(tc, bad_rows_rejected_good_rows_kept);
    tcase_add_test(tc, undated_file_refused_with_hint);
    tcase_add_test(tc, poisoned_rows_rejected_rest_loads);
    tcase_add_test(tc, failed_object_marked_skipped_and_retried);
    tcase_add_test(tc, file_without_rows_refused);
    tcase_add_test(tc, killed_run_does_not_block_the_next);
    tcase_add_test(tc, live_run_refuses_a_second);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
