/* Orchestration of pipeline runs, through the real binary against the private PostgreSQL:
 * a failing step retried with backoff and then resumed, the scheduler inside `chartpulse
 * serve` (two servers with one schedule run each slot once), and SIGTERM during a load
 * under requests. Each test gets a fresh database cloned from the migrated template and a
 * fresh raw zone. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/mem.h"
#include "tests/testutil.h"

#define ADMIN_TOKEN "orchestrate-test-token"

static char *db_url;
static char *api_url;
static char *raw_dir;
static PGconn *db;

/* The settings every child sees, then up to 8 more a test adds (NULL-terminated). */
#define BASE_ENV 6
static char *cli_env[BASE_ENV + 9];

static void env_add(const char *setting)
{
    size_t n = 0;
    while (cli_env[n])
        n++;
    ck_assert_uint_lt(n, sizeof cli_env / sizeof cli_env[0] - 1);
    cli_env[n] = cp_strdup(setting);
    cli_env[n + 1] = NULL;
}

static void wait_until(const char *sql)
{
    tu_wait_until(db, sql, 60);
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

static void setup(void)
{
    db_url = tu_fresh_database("chartpulse_test_orchestrate", &api_url);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    memset(cli_env, 0, sizeof cli_env);
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", db_url);
    cli_env[1] = cp_asprintf("API_DATABASE_URL=%s", api_url);
    cli_env[2] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[3] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[4] = cp_strdup("CHARTPULSE_ADMIN_TOKEN=" ADMIN_TOKEN);
    cli_env[5] = cp_strdup("DATABASE_READ_URL=");
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
    free(api_url);
    for (int i = 0; cli_env[i]; i++)
        free(cli_env[i]);
}

static void ingest_fixture(const char *name)
{
    char *dir = tu_fixture_path("pipeline");
    char *file = cp_asprintf("%s/%s", dir, name);
    const char *ingest[] = {"ingest", file, NULL};
    char *out = NULL;
    ck_assert_msg(run_cli(ingest, &out) == 0, "ingest %s: %s", name, out);
    free(out);
    free(file);
    free(dir);
}

/* A step that fails every attempt is tried 1 + CHARTPULSE_STEP_RETRIES times, waiting
 * CHARTPULSE_STEP_BACKOFF and then twice that between attempts; the run fails naming it.
 * Once the cause is repaired, `--resume RUN` starts a new run at that step, recording the
 * steps before it as done in RUN, and it succeeds. */
START_TEST(failing_step_retried_then_resumed)
{
    ingest_fixture("regional-global-daily-2030-01-01.csv");
    env_add("CHARTPULSE_STEP_RETRIES=2");
    env_add("CHARTPULSE_STEP_BACKOFF=0.3");
    /* the refresh step calls this procedure: without it, refresh fails every time */
    tu_exec_sql(db, "alter procedure etl.refresh_summaries() rename to refresh_summaries_away");

    const char *pipeline[] = {"pipeline", "run", NULL};
    char *out = NULL;
    ck_assert_int_eq(run_cli(pipeline, &out), 1);
    ck_assert_msg(strstr(out, "run 1 failed: refresh: ") && strstr(out, "No procedure matches"),
                  "%s", out);
    free(out);
    char *failed = scalar("select max(run_id) from etl.pipeline_run");
    char *sql = cp_asprintf("select string_agg(name || ':' || status || ':' || attempts, ','"
                            " order by step_no) from etl.pipeline_step where run_id = %s",
                            failed);
    assert_scalar(sql, "ingest:succeeded:1,load:succeeded:1,enrich:skipped:1,refresh:failed:3");
    free(sql);
    /* three attempts with 0.3 s and 0.6 s between them: at least 0.9 s in all */
    sql = cp_asprintf("select extract(epoch from finished_at - started_at) >= 0.9"
                      " from etl.pipeline_step where run_id = %s and name = 'refresh'",
                      failed);
    assert_scalar(sql, "t");
    free(sql);
    assert_scalar("select count(*) from catalog.raw_object where loaded_at is not null", "1");

    /* a run that did not fail, or does not exist, cannot be resumed */
    const char *resume_missing[] = {"pipeline", "run", "--resume", "999999", NULL};
    ck_assert_int_eq(run_cli(resume_missing, &out), 1);
    ck_assert_msg(strstr(out, "--resume: no pipeline run 999999"), "%s", out);
    free(out);
    const char *resume_bad[] = {"pipeline", "run", "--resume", "x1", NULL};
    ck_assert_int_eq(run_cli(resume_bad, &out), 2);
    ck_assert_msg(strstr(out, "--resume needs a run id (a positive number), got x1"), "%s", out);
    free(out);

    tu_exec_sql(db, "alter procedure etl.refresh_summaries_away() rename to refresh_summaries");
    const char *resume[] = {"pipeline", "run", "--resume", failed, NULL};
    ck_assert_msg(run_cli(resume, &out) == 0, "resume failed: %s", out);
    free(out);
    char *resumed = scalar("select max(run_id) from etl.pipeline_run");
    sql = cp_asprintf("select status || ' ' || resumed_from from etl.pipeline_run"
                      " where run_id = %s",
                      resumed);
    char *expected = cp_asprintf("succeeded %s", failed);
    assert_scalar(sql, expected);
    free(sql);
    free(expected);
    sql = cp_asprintf("select string_agg(name || ':' || status || ':' || coalesce(detail, ''),"
                      " ',' order by step_no) from etl.pipeline_step"
                      " where run_id = %s and step_no < 3",
                      resumed);
    expected = cp_asprintf("ingest:skipped:done in run %s,load:skipped:done in run %s,"
                           "enrich:skipped:done in run %s",
                           failed, failed, failed);
    assert_scalar(sql, expected);
    free(sql);
    free(expected);
    sql = cp_asprintf("select status || ':' || attempts from etl.pipeline_step"
                      " where run_id = %s and name = 'refresh'",
                      resumed);
    assert_scalar(sql, "succeeded:1");
    free(sql);

    /* the succeeded run cannot be resumed */
    const char *resume_again[] = {"pipeline", "run", "--resume", resumed, NULL};
    ck_assert_int_eq(run_cli(resume_again, &out), 1);
    ck_assert_msg(strstr(out, "only a failed run can be resumed"), "%s", out);
    free(out);
    free(resumed);
    free(failed);
}
END_TEST

/* A bad retry setting stops the command with a message naming it. */
START_TEST(bad_retry_settings_named)
{
    env_add("CHARTPULSE_STEP_BACKOFF=soon");
    const char *pipeline[] = {"pipeline", "run", NULL};
    char *out = NULL;
    ck_assert_int_ne(run_cli(pipeline, &out), 0);
    ck_assert_msg(strstr(out, "CHARTPULSE_STEP_BACKOFF: must be a number of seconds"), "%s", out);
    free(out);
    assert_scalar("select count(*) from etl.pipeline_run", "0");
}
END_TEST

/* A `chartpulse serve` child on a free loopback port, its log in a file. */
struct served {
    pid_t pid;
    char log_path[64];
    int port;
};

static void serve_start(struct served *s)
{
    snprintf(s->log_path, sizeof s->log_path, "/tmp/chartpulse-serve-XXXXXX");
    int fd = mkstemp(s->log_path);
    ck_assert_int_ge(fd, 0);
    const char *args[] = {"serve", "--listen", "127.0.0.1:0", NULL};
    s->pid = tu_spawn_cli(args, (const char *const *)cli_env, fd);
    close(fd);
    s->port = 0;
    for (int i = 0; i < 300 && !s->port; i++) {
        char *log = tu_read_file(s->log_path, NULL);
        const char *at = strstr(log, "listening on http://127.0.0.1:");
        if (at)
            s->port = atoi(at + strlen("listening on http://127.0.0.1:"));
        free(log);
        if (!s->port)
            usleep(100 * 1000);
    }
    ck_assert_msg(s->port > 0, "the server did not start: %s", s->log_path);
}

/* SIGTERM, and the server's exit status; returns its log (caller frees). */
static char *serve_stop(struct served *s, int *exit_status)
{
    ck_assert_int_eq(kill(s->pid, SIGTERM), 0);
    int wstatus = 0;
    ck_assert_int_eq(waitpid(s->pid, &wstatus, 0), s->pid);
    *exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    char *log = tu_read_file(s->log_path, NULL);
    unlink(s->log_path);
    return log;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Two servers with the same schedule (`every 2s`): runs happen on their own, each slot is
 * claimed by one server and run once (the other logs that it was taken), and the next run
 * time is in /v1/pipeline/runs and /metrics. */
START_TEST(scheduled_runs_happen_once_per_slot)
{
    ingest_fixture("regional-global-daily-2030-01-01.csv");
    env_add("CHARTPULSE_SCHEDULE=every 2s");
    struct served a, b;
    serve_start(&a);
    serve_start(&b);

    /* the first scheduled run loads the pending chart; then slots keep coming */
    wait_until("select count(*) >= 3 from etl.pipeline_schedule_slot");
    wait_until("select count(*) filter (where status = 'running') = 0"
               " and count(*) >= 1 from etl.pipeline_run where trigger = 'schedule'");
    assert_scalar("select count(*) from catalog.raw_object where loaded_at is not null", "1");

    struct tu_http_result r;
    char *url = cp_asprintf("http://127.0.0.1:%d/v1/pipeline/runs", a.port);
    tu_http_request(&r, "GET", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    const char *next = json_string_value(json_object_get(r.json, "next_scheduled_run"));
    ck_assert_msg(next && strlen(next) == 20, "%s", r.body.data);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "schedule")), "every 2s");
    json_t *first = json_array_get(json_object_get(r.json, "runs"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "trigger")), "schedule");
    tu_http_result_free(&r);
    free(url);
    url = cp_asprintf("http://127.0.0.1:%d/metrics", b.port);
    tu_http_request(&r, "GET", url, NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    const char *gauge = strstr(r.body.data, "\nchartpulse_pipeline_next_run_timestamp_seconds ");
    ck_assert_msg(gauge, "%s", r.body.data);
    long long at = atoll(gauge + strlen("\nchartpulse_pipeline_next_run_timestamp_seconds "));
    ck_assert_msg(at > time(NULL) - 5 && at % 2 == 0, "%lld", at);
    tu_http_result_free(&r);
    free(url);

    int status_a, status_b;
    char *log_a = serve_stop(&a, &status_a);
    char *log_b = serve_stop(&b, &status_b);
    ck_assert_msg(status_a == 0, "%s", log_a);
    ck_assert_msg(status_b == 0, "%s", log_b);

    /* every slot one server claimed is one the other found taken (or missed while it was
     * stopping): never a slot run by both */
    char *slots_text = scalar("select count(*) from etl.pipeline_schedule_slot");
    size_t slots = (size_t)atol(slots_text);
    size_t taken = count_of(log_a, "was claimed by another server") +
                   count_of(log_b, "was claimed by another server");
    size_t started =
        count_of(log_a, "started pipeline run") + count_of(log_b, "started pipeline run");
    size_t not_run = count_of(log_a, "not run: a pipeline run is already going") +
                     count_of(log_b, "not run: a pipeline run is already going");
    ck_assert_msg(started + not_run == slots, "%zu started + %zu not run != %zu slots\n%s\n%s",
                  started, not_run, slots, log_a, log_b);
    ck_assert_msg(taken >= slots - 1 && taken >= 2, "%zu taken of %zu slots\n%s\n%s", taken, slots,
                  log_a, log_b);
    assert_scalar("select count(*) = (select count(run_id) from etl.pipeline_schedule_slot)"
                  " from etl.pipeline_run where trigger = 'schedule'",
                  "t");
    free(slots_text);
    free(log_a);
    free(log_b);
}
END_TEST

/* ---- SIGTERM during a load, under requests ------------------------------------------ */

/* GET /healthz over and over on fresh connections until told to stop: counts answers that
 * came whole, connections refused (the server stopped accepting: fine) and anything else
 * (an accepted request that got no whole answer: lost). */
struct hammer {
    int port;
    atomic_bool stop;
    atomic_long answered, refused, lost;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    static const char request[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n";
    while (!atomic_load(&h->stop)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            close(fd);
            atomic_fetch_add(&h->refused, 1);
            usleep(10 * 1000);
            continue;
        }
        bool sent = send(fd, request, sizeof request - 1, MSG_NOSIGNAL) == sizeof request - 1;
        char answer[4096];
        size_t len = 0;
        ssize_t n;
        while (sent && len < sizeof answer - 1 &&
               (n = recv(fd, answer + len, sizeof answer - 1 - len, 0)) > 0)
            len += (size_t)n;
        answer[len] = '\0';
        close(fd);
        if (sent && !strncmp(answer, "HTTP/1.1 200", 12) && strstr(answer, "\r\n\r\n"))
            atomic_fetch_add(&h->answered, 1);
        else if (len == 0)
            /* accepted by the kernel's backlog after the server stopped listening: closed
             * unread, which a client sees as a refused connection */
            atomic_fetch_add(&h->refused, 1);
        else
            atomic_fetch_add(&h->lost, 1);
    }
    return NULL;
}

/* A session holding the global daily series' load lock: a load of it waits until it is
 * released, which holds a run in its load step as long as the test needs. */
static PGconn *hold_series_lock(void)
{
    PGconn *holder = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(holder) == CONNECTION_OK, "%s", PQerrorMessage(holder));
    tu_exec_sql(holder, "select pg_advisory_lock(hashtextextended('regional/global/daily', 0))");
    return holder;
}

/* SIGTERM while a run started by the server is loading and requests keep coming: the
 * server stops accepting, answers what it accepted, waits for the load to finish, releases
 * the run lock and exits 0; the run succeeded and every row is loaded. */
START_TEST(sigterm_during_load_loses_no_request_or_row)
{
    ingest_fixture("regional-global-daily-2030-01-01.csv");
    ingest_fixture("regional-global-daily-2030-01-02.csv");
    struct served s;
    serve_start(&s);
    PGconn *holder = hold_series_lock();

    struct tu_http_result r;
    char *url = cp_asprintf("http://127.0.0.1:%d/v1/pipeline/runs", s.port);
    const char *auth[] = {"Authorization: Bearer " ADMIN_TOKEN, NULL};
    tu_http_request(&r, "POST", url, auth, "", 0);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body.data);
    tu_http_result_free(&r);
    free(url);
    wait_until("select exists (select 1 from etl.pipeline_step where name = 'load'"
               " and status = 'running')"
               " and exists (select 1 from pg_locks where locktype = 'advisory'"
               " and not granted)");

    struct hammer h = {.port = s.port};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, hammer_main, &h), 0);
    usleep(500 * 1000);
    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    /* the server is stopping and must wait for the load: let it go on a moment later */
    usleep(1000 * 1000);
    tu_exec_sql(holder, "select pg_advisory_unlock_all()");
    PQfinish(holder);
    int wstatus = 0;
    ck_assert_int_eq(waitpid(s.pid, &wstatus, 0), s.pid);
    atomic_store(&h.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    char *log = tu_read_file(s.log_path, NULL);
    unlink(s.log_path);
    ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "%s", log);
    ck_assert_msg(atomic_load(&h.answered) > 0, "no request answered before the stop");
    ck_assert_msg(atomic_load(&h.lost) == 0, "%ld requests lost (%ld answered)\n%s",
                  atomic_load(&h.lost), atomic_load(&h.answered), log);
    free(log);

    assert_scalar("select string_agg(status, ',') from etl.pipeline_run", "succeeded");
    assert_scalar("select count(*) from catalog.raw_object where loaded_at is not null", "2");
    assert_scalar("select count(*) from core.chart", "2");
    assert_scalar("select etl.pipeline_run_lock_held()", "f");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("orchestrate");
    TCase *tc = tcase_create("orchestrate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, failing_step_retried_then_resumed);
    tcase_add_test(tc, bad_retry_settings_named);
    tcase_add_test(tc, scheduled_runs_happen_once_per_slot);
    tcase_add_test(tc, sigterm_during_load_loses_no_request_or_row);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
