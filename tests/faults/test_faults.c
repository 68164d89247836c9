/* Faults under the pipeline, through the real binary against the private PostgreSQL: a load
 * SIGKILLed half-way, a raw zone that fills up or turns read-only, an S3 endpoint that fails.
 * (PostgreSQL and Redis stopped, hung and restarted under a running server are in run.sh,
 * which starts instances of its own to do that to.) Each case gets a fresh database cloned
 * from the migrated template. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#include "core/mem.h"
#include "tests/testutil.h"

static char *db_url;
static char *raw_dir;
static char *charts_dir;
static PGconn *db;
static char *cli_env[6];

static char *scalar(const char *sql)
{
    return tu_query_value(db, sql);
}

static long long scalar_int(const char *sql)
{
    char *v = scalar(sql);
    long long n = atoll(v);
    free(v);
    return n;
}

static char *make_temp_dir(const char *pattern)
{
    char *dir = cp_strdup(pattern);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void remove_tree(const char *dir)
{
    char *rm = cp_asprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
}

/* days x regions generated daily charts of 200 rows in charts_dir, the newest on end. */
static int generate_until(int regions, int days, const char *end)
{
    char r[16], d[16];
    snprintf(r, sizeof r, "%d", regions);
    snprintf(d, sizeof d, "%d", days);
    const char *args[] = {"generate", "--out",      charts_dir, "--regions",   r,   "--days",
                          d,          "--end-date", end,        "--no-weekly", NULL};
    char *out = NULL;
    int rc = tu_run_cli(args, (const char *const *)cli_env, &out);
    ck_assert_msg(rc == 0, "generate: %s", out);
    free(out);
    return regions * days;
}

static int generate(int regions, int days)
{
    return generate_until(regions, days, "2031-03-31");
}

static void setup_env(const char *raw_uri, const char *s3_endpoint)
{
    int i = 0;
    cli_env[i++] = cp_asprintf("DATABASE_URL=%s", db_url);
    cli_env[i++] = cp_asprintf("CHARTPULSE_RAW_URI=%s", raw_uri);
    cli_env[i++] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    if (s3_endpoint) {
        cli_env[i++] = cp_asprintf("CHARTPULSE_S3_ENDPOINT=%s", s3_endpoint);
        cli_env[i++] = cp_strdup("AWS_ACCESS_KEY_ID=test");
    }
    cli_env[i] = NULL;
}

static void setup(void)
{
    db_url = tu_fresh_database("chartpulse_test_faults", NULL);
    raw_dir = make_temp_dir("/tmp/chartpulse-faults-raw-XXXXXX");
    charts_dir = make_temp_dir("/tmp/chartpulse-faults-charts-XXXXXX");
    char *uri = cp_asprintf("file://%s", raw_dir);
    setup_env(uri, NULL);
    free(uri);
    db = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(db) == CONNECTION_OK, "%s", PQerrorMessage(db));
}

static void teardown(void)
{
    PQfinish(db);
    umount2(raw_dir, MNT_DETACH); /* when a case mounted one there */
    remove_tree(raw_dir);
    remove_tree(charts_dir);
    free(raw_dir);
    free(charts_dir);
    free(db_url);
    for (int i = 0; cli_env[i]; i++) {
        free(cli_env[i]);
        cli_env[i] = NULL;
    }
}

/* Every chart in core.chart is whole: as many positions as the chart says, each object is
 * loaded exactly when its chart is there. The rows that break it, as text ("" when none). */
static const char HALF_LOADED_SQL[] =
    "select coalesce(string_agg(problem, '; '), '') from ("
    " select format('%s %s: %s of %s rows', c.region, c.chart_date, count(e.rank), c.entries)"
    "  as problem from core.chart c left join core.chart_entry e using (chart_kind, region,"
    "  period, chart_date) group by c.chart_kind, c.region, c.period, c.chart_date, c.entries"
    "  having count(e.rank) <> c.entries"
    " union all"
    " select format('object %s: loaded %s, chart there %s', o.object_id, o.loaded_at is not null,"
    "  exists (select 1 from core.chart c where (c.chart_kind, c.region, c.period, c.chart_date)"
    "  = (o.chart_kind, o.region, o.period, o.chart_date)))"
    "  from catalog.raw_object o where (o.loaded_at is not null) <> exists (select 1 from"
    "  core.chart c where (c.chart_kind, c.region, c.period, c.chart_date) = (o.chart_kind,"
    "  o.region, o.period, o.chart_date))) p";

/* A load SIGKILLed while it works leaves no object half-loaded, and the next load finishes
 * the job: the tables then hold every row once. */
START_TEST(a_killed_load_leaves_every_object_whole)
{
    int files = generate(2, 40);
    const char *ingest[] = {"ingest", charts_dir, NULL};
    char *out = NULL;
    ck_assert_msg(tu_run_cli(ingest, (const char *const *)cli_env, &out) == 0, "%s", out);
    free(out);
    ck_assert_int_eq(scalar_int("select count(*) from catalog.raw_object"), files);

    const char *load[] = {"load", "--jobs", "1", NULL};
    pid_t pid = tu_spawn_cli(load, (const char *const *)cli_env, -1);
    /* some objects in, most not yet */
    struct timespec pause = {.tv_nsec = 20 * 1000000L};
    long long loaded = 0;
    for (int i = 0; i < 1500 && loaded < 3; i++) {
        nanosleep(&pause, NULL);
        loaded = scalar_int("select count(*) from catalog.raw_object where loaded_at is not null");
    }
    ck_assert_int_eq(kill(-pid, SIGKILL), 0);
    int wstatus;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    loaded = scalar_int("select count(*) from catalog.raw_object where loaded_at is not null");
    ck_assert_msg(WIFSIGNALED(wstatus) && loaded >= 3 && loaded < files,
                  "the load was not caught half-way (%lld of %d loaded)", loaded, files);
    char *problems = scalar(HALF_LOADED_SQL);
    ck_assert_msg(!problems[0], "half-loaded after SIGKILL: %s", problems);
    free(problems);

    ck_assert_msg(tu_run_cli(load, (const char *const *)cli_env, &out) == 0, "%s", out);
    free(out);
    problems = scalar(HALF_LOADED_SQL);
    ck_assert_msg(!problems[0], "after the next load: %s", problems);
    free(problems);
    ck_assert_int_eq(scalar_int("select count(*) from core.chart_entry"), 200LL * files);
    ck_assert_int_eq(scalar_int("select count(*) from catalog.raw_object where loaded_at is null"),
                     0);
}
END_TEST

/* Every cataloged object's file is in the raw zone with the cataloged size: the catalog never
 * lists what was not stored. The objects that break it, as text. */
static char *catalog_without_files(void)
{
    PGresult *res = PQexec(db, "select object_key, bytes from catalog.raw_object");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    char *missing = cp_strdup("");
    for (int i = 0; i < PQntuples(res); i++) {
        char *path = cp_asprintf("%s/%s", raw_dir, PQgetvalue(res, i, 0));
        struct stat st;
        if (stat(path, &st) != 0 || (long long)st.st_size != atoll(PQgetvalue(res, i, 1))) {
            char *more = cp_asprintf("%s%s ", missing, PQgetvalue(res, i, 0));
            free(missing);
            missing = more;
        }
        free(path);
    }
    PQclear(res);
    return missing;
}

/* A raw zone that fills up, then turns read-only: each file that could not be stored is
 * refused by name with the system's reason, nothing is cataloged that was not stored, and
 * what was stored is cataloged. A small tmpfs is the full disk; remounted read-only, the
 * read-only one. */
START_TEST(a_full_or_read_only_raw_zone_catalogs_only_what_it_stored)
{
    if (mount("chartpulse-faults", raw_dir, "tmpfs", 0, "size=64k") != 0) {
        /* mounting needs CAP_SYS_ADMIN: say so rather than pass quietly */
        fprintf(stderr, "skipped: cannot mount a small tmpfs to fill (%s)\n", strerror(errno));
        return;
    }
    int files = generate(2, 4); /* about 27 KB each: two or three fit */
    const char *ingest[] = {"ingest", charts_dir, NULL};
    char *out = NULL;
    ck_assert_int_ne(tu_run_cli(ingest, (const char *const *)cli_env, &out), 0);
    ck_assert_msg(strstr(out, "No space left on device") != NULL, "%s", out);
    long long stored = scalar_int("select count(*) from catalog.raw_object");
    ck_assert_msg(stored >= 1 && stored < files, "%lld of %d cataloged: %s", stored, files, out);
    char *missing = catalog_without_files();
    ck_assert_msg(!missing[0], "cataloged but not stored: %s", missing);
    free(missing);
    free(out);

    ck_assert_int_eq(mount(NULL, raw_dir, NULL, MS_REMOUNT | MS_RDONLY, "size=64k"), 0);
    remove_tree(charts_dir);
    ck_assert_int_eq(mkdir(charts_dir, 0700), 0);
    generate_until(1, 1, "2031-06-30"); /* a chart not in the catalog yet */
    ck_assert_int_ne(tu_run_cli(ingest, (const char *const *)cli_env, &out), 0);
    ck_assert_msg(strstr(out, "Read-only file system") != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(scalar_int("select count(*) from catalog.raw_object"), stored);
    missing = catalog_without_files();
    ck_assert_msg(!missing[0], "cataloged but not stored: %s", missing);
    free(missing);
}
END_TEST

/* An S3 endpoint that answers every request with 503 SlowDown, as S3 does when throttling. */
static enum MHD_Result failing_s3(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    int *requests = cls;
    if (!*req_cls) {
        *req_cls = requests;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    __atomic_add_fetch(requests, 1, __ATOMIC_SEQ_CST);
    static const char body[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown"
                               "</Code><Message>Please reduce your request rate.</Message></Error>";
    struct MHD_Response *response =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, "Content-Type", "application/xml");
    enum MHD_Result r = MHD_queue_response(connection, 503, response);
    MHD_destroy_response(response);
    return r;
}

/* The raw zone on S3 whose endpoint fails: each file is refused with what S3 said, and
 * nothing is cataloged. */
START_TEST(a_failing_s3_endpoint_catalogs_nothing)
{
    static int requests;
    struct MHD_Daemon *s3 = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                                             NULL, NULL, failing_s3, &requests, MHD_OPTION_END);
    ck_assert_ptr_nonnull(s3);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s3, MHD_DAEMON_INFO_BIND_PORT);
    char *endpoint = cp_asprintf("http://127.0.0.1:%u", info->port);
    for (int i = 0; cli_env[i]; i++) {
        free(cli_env[i]);
        cli_env[i] = NULL;
    }
    setup_env("s3://faults-bucket/raw", endpoint);
    int files = generate(1, 2);
    const char *ingest[] = {"ingest", charts_dir, NULL};
    const char *secret[] = {"AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", NULL};
    char *env[16];
    int n = 0;
    for (int i = 0; cli_env[i]; i++)
        env[n++] = cli_env[i];
    for (int i = 0; secret[i]; i++)
        env[n++] = (char *)secret[i];
    env[n] = NULL;
    char *out = NULL;
    ck_assert_int_ne(tu_run_cli(ingest, (const char *const *)env, &out), 0);
    ck_assert_msg(strstr(out, "503") != NULL || strstr(out, "SlowDown") != NULL,
                  "the refusal does not say what S3 answered: %s", out);
    ck_assert_msg(strstr(out, "refused") != NULL, "%s", out);
    ck_assert_int_gt(__atomic_load_n(&requests, __ATOMIC_SEQ_CST), 0);
    ck_assert_int_eq(scalar_int("select count(*) from catalog.raw_object"), 0);
    (void)files;
    free(out);
    MHD_stop_daemon(s3);
    free(endpoint);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_killed_load_leaves_every_object_whole);
    tcase_add_test(tc, a_full_or_read_only_raw_zone_catalogs_only_what_it_stored);
    tcase_add_test(tc, a_failing_s3_endpoint_catalogs_nothing);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
