/* `chartpulse pipeline run` and the server's background runs: steps as child processes of
 * this binary, tracked in etl.pipeline_run. Whoever executes a run holds the run lock on the
 * connection it executes on (cp_pipeline_repo_start), so a run killed midway never blocks
 * the next one. */
#include "pipeline/pipeline_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/catalog_repo.h"
#include "db/pipeline_repo.h"
#include "db/pool.h"

extern char **environ;

/* Output of a step kept to find its last line; older output is dropped. */
#define STEP_OUTPUT_KEEP 4096
_Static_assert(STEP_OUTPUT_KEEP > 1024, "the read chunk must fit in the kept tail");
/* Longest step detail / run error recorded. */
#define DETAIL_MAX 1000

const char *const cp_pipeline_steps[] = {"ingest", "load", "enrich", "refresh", NULL};

/* ---- one step as a child process -------------------------------------------------- */

/* The settings a child must see as the caller has them (its config may come from flags or
 * a test, not from this process's environment). */
static char **child_environment(const struct cp_config *cfg)
{
    static const char *const names[] = {"DATABASE_URL", "REDIS_URL", "CHARTPULSE_RAW_URI", NULL};
    const char *values[] = {cfg->database_url, cfg->redis_url ? cfg->redis_url : "", cfg->raw_uri};
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = cp_calloc(n + 4, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool overridden = false;
        for (size_t j = 0; names[j] && !overridden; j++) {
            size_t len = strlen(names[j]);
            overridden = !strncmp(environ[i], names[j], len) && environ[i][len] == '=';
        }
        if (!overridden)
            env[k++] = cp_strdup(environ[i]);
    }
    for (size_t j = 0; names[j]; j++)
        if (values[j])
            env[k++] = cp_asprintf("%s=%s", names[j], values[j]);
    env[k] = NULL;
    return env;
}

static void free_environment(char **env)
{
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
    free(env);
}

/* The last non-empty line of text (trimmed, at most DETAIL_MAX bytes) into out. */
static void last_line(const char *text, size_t len, char *out, size_t outlen)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t start = len;
    while (start && text[start - 1] != '\n' && text[start - 1] != '\r')
        start--;
    size_t n = len - start;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, text + start, n);
    out[n] = '\0';
}

/* Runs `<this binary> command` with stdout and stderr captured. Returns CP_OK when it exits
 * 0; detail receives its last line of output either way (or why it did not run). */
static cp_status run_child(const struct cp_config *cfg, const char *command, char *detail,
                           size_t detail_len)
{
    detail[0] = '\0';
    char self[4096];
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (self_len <= 0) {
        snprintf(detail, detail_len, "cannot find this program: %s", strerror(errno));
        return CP_ERR_IO;
    }
    self[self_len] = '\0';
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(detail, detail_len, "pipe: %s", strerror(errno));
        return CP_ERR_IO;
    }
    /* not inherited by children other steps spawn meanwhile; the child gets its dup2s */
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    /* the server blocks SIGINT/SIGTERM in every thread and ignores SIGPIPE: give the child
     * the defaults back */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"chartpulse", (char *)command, NULL};
    char **env = child_environment(cfg);
    pid_t pid;
    int rc = posix_spawn(&pid, self, &actions, &attr, argv, env);
    free_environment(env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        snprintf(detail, detail_len, "cannot start '%s': %s", command, strerror(rc));
        return CP_ERR_IO;
    }

    /* keep the tail of the output: its last line says what happened */
    char tail[STEP_OUTPUT_KEEP];
    size_t tail_len = 0;
    char chunk[1024];
    for (;;) {
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* chunk is smaller than tail: drop the oldest bytes to make room */
        if (tail_len + (size_t)n > sizeof tail) {
            size_t drop = tail_len + (size_t)n - sizeof tail;
            memmove(tail, tail + drop, tail_len - drop);
            tail_len -= drop;
        }
        memcpy(tail + tail_len, chunk, (size_t)n);
        tail_len += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    last_line(tail, tail_len, detail, detail_len);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return CP_OK;
    if (!detail[0]) {
        if (WIFSIGNALED(status))
            snprintf(detail, detail_len, "'%s' was killed by signal %d", command, WTERMSIG(status));
        else
            snprintf(detail, detail_len, "'%s' exited with status %d", command,
                     WEXITSTATUS(status));
    }
    return CP_ERR_UPSTREAM;
}

/* ---- a run ------------------------------------------------------------------------ */

/* Set when the server stops: a step waiting to be retried is not retried (the run ends
 * failed, to be resumed), so shutdown waits for the step going at most. */
static atomic_bool stopping;

void cp_pipeline_run_request_stop(void)
{
    atomic_store(&stopping, true);
}

void cp_pipeline_run_request_stop_reset(void)
{
    atomic_store(&stopping, false);
}

/* Waits seconds, or less when the server stops. Returns false when it stopped. */
static bool backoff_wait(double seconds)
{
    double until = cp_now() + seconds;
    while (!atomic_load(&stopping)) {
        double left = until - cp_now();
        if (left <= 0)
            return true;
        struct timespec slice = {0, (long)((left < 0.1 ? left : 0.1) * 1e9)};
        nanosleep(&slice, NULL);
    }
    return false;
}

/* One attempt of a step; detail receives what it said. */
static cp_status step_attempt(PGconn *conn, const struct cp_config *cfg, const char *step,
                              const char **outcome, char *detail, size_t detail_len)
{
    if (!strcmp(step, "ingest")) {
        long long pending = 0, failed = 0;
        cp_status st = cp_pipeline_repo_pending_objects(conn, &pending, detail, detail_len);
        if (st == CP_OK)
            st = cp_catalog_count_failed(conn, &failed, detail, detail_len);
        if (st == CP_OK && failed)
            snprintf(detail, detail_len,
                     "%lld raw object%s pending in the catalog, %lld failed (skipped until "
                     "`chartpulse load --retry-failed`)",
                     pending, pending == 1 ? "" : "s", failed);
        else if (st == CP_OK)
            snprintf(detail, detail_len, "%lld raw object%s pending in the catalog", pending,
                     pending == 1 ? "" : "s");
        return st;
    }
    if (!strcmp(step, "enrich") && (!cfg->spotify_client_id || !cfg->spotify_client_secret)) {
        *outcome = "skipped";
        snprintf(detail, detail_len, "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are not set");
        return CP_OK;
    }
    return run_child(cfg, step, detail, detail_len);
}

static cp_status cp_pipeline_run_execute(PGconn *conn, const struct cp_config *cfg,
                                         long long run_id, int first_step, char *err, size_t errlen)
{
    char dberr[512], detail[DETAIL_MAX + 1];
    char failure[DETAIL_MAX + 64] = "";
    cp_status st = CP_OK;
    for (int i = first_step; cp_pipeline_steps[i]; i++) {
        const char *step = cp_pipeline_steps[i];
        if (cp_pipeline_repo_step_begin(conn, run_id, i, dberr, sizeof dberr) != CP_OK) {
            snprintf(failure, sizeof failure, "%s: recording the step failed: %s", step, dberr);
            st = CP_ERR_DB;
            break;
        }
        double started = cp_now();
        const char *outcome = "succeeded";
        cp_status step_st = CP_OK;
        int attempt = 0;
        double wait = cfg->step_backoff_s;
        for (;;) {
            attempt++;
            detail[0] = '\0';
            step_st = step_attempt(conn, cfg, step, &outcome, detail, sizeof detail);
            if (step_st == CP_OK || attempt > (int)cfg->step_retries)
                break;
            /* a step fails on what is outside it (the database restarting, the network, the
             * raw zone's store): worth another go after a while, longer each time */
            char note[DETAIL_MAX + 1];
            snprintf(note, sizeof note, "attempt %d failed, retrying in %.1f s: %.900s", attempt,
                     wait, detail);
            cp_log_warn("pipeline run %lld: %s %s", run_id, step, note);
            if (cp_pipeline_repo_step_retry(conn, run_id, i, attempt, note, dberr, sizeof dberr) !=
                CP_OK)
                cp_log_warn("pipeline run %lld: recording a retry failed: %s", run_id, dberr);
            if (!backoff_wait(wait)) {
                char why[DETAIL_MAX + 1];
                snprintf(why, sizeof why, "%.900s (not retried: the server is stopping)", detail);
                snprintf(detail, sizeof detail, "%s", why);
                break;
            }
            wait *= 2;
        }
        if (step_st != CP_OK) {
            outcome = "failed";
            if (!failure[0])
                snprintf(failure, sizeof failure, "%s: %s", step, detail);
            st = step_st;
        }
        cp_log_info("pipeline run %lld: %s %s in %.1f s after %d attempt%s%s%s", run_id, step,
                    outcome, cp_now() - started, attempt, attempt == 1 ? "" : "s",
                    detail[0] ? ": " : "", detail);
        if (cp_pipeline_repo_step_end(conn, run_id, i, outcome, detail[0] ? detail : NULL, attempt,
                                      dberr, sizeof dberr) != CP_OK) {
            snprintf(failure, sizeof failure, "%s: recording the step failed: %s", step, dberr);
            st = CP_ERR_DB;
            break;
        }
        /* enrichment is an extra: without it the charts are still right, so refresh
         * anyway; without a load there is nothing new to refresh */
        if (step_st != CP_OK && strcmp(step, "enrich"))
            break;
    }
    if (cp_pipeline_repo_finish(conn, run_id, st == CP_OK ? "succeeded" : "failed",
                                st == CP_OK ? NULL : failure, dberr, sizeof dberr) != CP_OK) {
        snprintf(err, errlen, "recording the end of run %lld failed: %s", run_id, dberr);
        return CP_ERR_DB;
    }
    if (st != CP_OK)
        snprintf(err, errlen, "%s", failure);
    return st;
}

/* ---- the server's background run -------------------------------------------------- */

struct background {
    pthread_mutex_t lock;
    pthread_t thread;
    bool started; /* a thread was started and not joined yet */
    bool running; /* it has not finished */
    struct cp_config cfg;
    PGconn *conn; /* the run's own connection: it holds the run lock until closed */
    long long run_id;
};

static struct background background = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void config_free_copy(struct cp_config *cfg)
{
    cp_config_cleanup(cfg);
    memset(cfg, 0, sizeof *cfg);
}

static void *background_main(void *arg)
{
    (void)arg;
    char err[1024];
    if (cp_pipeline_run_execute(background.conn, &background.cfg, background.run_id, 0, err,
                                sizeof err) != CP_OK)
        cp_log_warn("pipeline run %lld failed: %s", background.run_id, err);
    PQfinish(background.conn); /* releases the run lock */
    pthread_mutex_lock(&background.lock);
    background.conn = NULL;
    background.running = false;
    pthread_mutex_unlock(&background.lock);
    return NULL;
}

cp_status cp_pipeline_run_start_background(const struct cp_config *cfg, const char *trigger,
                                           long long *run_id, char *err, size_t errlen)
{
    pthread_mutex_lock(&background.lock);
    if (background.running) {
        pthread_mutex_unlock(&background.lock);
        snprintf(err, errlen, "a pipeline run is already going in this server");
        return CP_ERR_CONFLICT;
    }
    if (background.started) { /* finished: collect it */
        pthread_join(background.thread, NULL);
        background.started = false;
        config_free_copy(&background.cfg);
    }
    /* A connection of its own, never a pooled one: the run lock is held by a session for
     * the run's whole life, and must not outlive the run on a connection reused by
     * requests. */
    char dberr[512];
    PGconn *conn = cp_db_connect(cfg->database_url, dberr, sizeof dberr);
    if (!conn) {
        pthread_mutex_unlock(&background.lock);
        snprintf(err, errlen, "cannot connect to the database: %s", dberr);
        return CP_ERR_DB;
    }
    cp_status st = cp_pipeline_repo_start(conn, trigger, cp_pipeline_steps, run_id, err, errlen);
    if (st != CP_OK) {
        PQfinish(conn);
        pthread_mutex_unlock(&background.lock);
        return st;
    }
    /* the thread owns this copy */
    cp_config_copy(&background.cfg, cfg);
    background.conn = conn;
    background.run_id = *run_id;
    background.running = true;
    int rc = pthread_create(&background.thread, NULL, background_main, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
        if (cp_pipeline_repo_finish(conn, *run_id, "failed", err, dberr, sizeof dberr) != CP_OK)
            cp_log_error("recording the failure of run %lld failed: %s", *run_id, dberr);
        PQfinish(conn);
        background.conn = NULL;
        background.running = false;
        config_free_copy(&background.cfg);
        pthread_mutex_unlock(&background.lock);
        return CP_ERR_INTERNAL;
    }
    background.started = true;
    pthread_mutex_unlock(&background.lock);
    return CP_OK;
}

void cp_pipeline_run_join_background(void)
{
    pthread_mutex_lock(&background.lock);
    bool started = background.started;
    background.started = false;
    pthread_mutex_unlock(&background.lock);
    if (!started)
        return;
    pthread_join(background.thread, NULL);
    pthread_mutex_lock(&background.lock);
    config_free_copy(&background.cfg);
    pthread_mutex_unlock(&background.lock);
}

/* ---- chartpulse pipeline run ------------------------------------------------------ */

static const char PIPELINE_USAGE[] =
    "Usage: chartpulse pipeline run [--resume RUN]\n"
    "\n"
    "Runs the pipeline once, tracked as one run (GET /v1/pipeline/runs):\n"
    "  ingest   counts the raw objects pending in the catalog (landed by ingest/uploads)\n"
    "  load     chartpulse load\n"
    "  enrich   chartpulse enrich, when SPOTIFY_CLIENT_ID/SECRET are set (else skipped)\n"
    "  refresh  chartpulse refresh\n"
    "A failed step is retried CHARTPULSE_STEP_RETRIES times (default 2), after\n"
    "CHARTPULSE_STEP_BACKOFF seconds (default 30), doubled for each next retry.\n"
    "Fails (exit 1) when a step fails, or when another run is going.\n"
    "\n"
    "  --resume RUN  a new run that starts at failed run RUN's first failed step (the\n"
    "                steps before it are recorded skipped, done in run RUN)\n"
    "\n"
    "Settings: DATABASE_URL, REDIS_URL, CHARTPULSE_RAW_URI, SPOTIFY_CLIENT_ID/SECRET,\n"
    "CHARTPULSE_STEP_RETRIES, CHARTPULSE_STEP_BACKOFF.\n";

int cp_pipeline_main(int argc, char **argv)
{
    const char *cmd = "pipeline";
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(PIPELINE_USAGE, stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "run")) {
        fputs(PIPELINE_USAGE, stderr);
        return 2;
    }
    cmd = "pipeline run";
    long long resume_of = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(PIPELINE_USAGE, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--resume")) {
            char *end = NULL;
            errno = 0;
            resume_of = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || errno || !end || *end || end == argv[i + 1] || resume_of <= 0) {
                fprintf(stderr, "chartpulse %s: --resume needs a run id (a positive number)%s%s\n",
                        cmd, i + 1 < argc ? ", got " : "", i + 1 < argc ? argv[i + 1] : "");
                return 2;
            }
            i++;
            continue;
        }
        fprintf(stderr, "chartpulse %s: unknown argument '%s' (try --help)\n", cmd, argv[i]);
        return 2;
    }
    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    char err[1024];
    /* this connection holds the run lock for the run's whole life; exiting, or being
     * killed, ends the session and releases it */
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_config_cleanup(&cfg);
        return cp_cli_fail(cmd, "%s", err);
    }
    long long run_id = 0;
    int first_step = 0;
    cp_status st = cp_pipeline_repo_start_resume(conn, "cli", cp_pipeline_steps, resume_of,
                                                 &first_step, &run_id, err, sizeof err);
    if (st == CP_OK && resume_of)
        printf("pipeline run %lld resumes run %lld at its %s step\n", run_id, resume_of,
               cp_pipeline_steps[first_step]);
    if (st == CP_OK)
        st = cp_pipeline_run_execute(conn, &cfg, run_id, first_step, err, sizeof err);
    PQfinish(conn);
    cp_config_cleanup(&cfg);
    if (st != CP_OK)
        return run_id ? cp_cli_fail(cmd, "run %lld failed: %s", run_id, err)
                      : cp_cli_fail(cmd, "%s", err);
    printf("pipeline run %lld succeeded\n", run_id);
    return 0;
}
