/* `chartpulse load`: raw objects -> validation -> COPY staging -> merge, per object. */
#include "pipeline/load.h"

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/text.h"
#include "db/etl_repo.h"
#include "db/pool.h"
#include "pipeline/chart_csv.h"
#include "pipeline/load_stream.h"
#include "pipeline/refresh.h"
#include "pipeline/spotify_ingest.h"

/* COPY buffers may hold a whole object's rows; objects are capped at 2 GB by the raw zone
 * and a staged row is at most about twice its CSV text. */
#define LOAD_MAX_COPY ((size_t)6 << 30)
/* Bytes of a reject's reason as etl.reject keeps it (the reader's are far shorter). */
#define REJECT_REASON_MAX 1000

void cp_copy_escape(struct cp_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '\\':
            rep = "\\\\";
            break;
        case '\t':
            rep = "\\t";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        default:
            continue;
        }
        cp_buf_add(b, run, (size_t)(p - run));
        cp_buf_adds(b, rep);
        run = p + 1;
    }
    cp_buf_adds(b, run);
}

struct load_ctx {
    long long object_id;
    struct cp_staged staged;
    struct cp_buf rejects;
    long long rejected;
};

/* Whatever bytes a rejected row held, storing it must not fail the object: raw text and
 * reason go in their safe form (the reader's raw text is in it already; applying it again
 * changes nothing). */
static void on_reject(long line_no, const char *raw, const char *reason, void *ud)
{
    struct load_ctx *ctx = ud;
    struct cp_buf *b = &ctx->rejects;
    char *safe_raw = cp_text_safe_dup(raw, strlen(raw), CP_CHART_REJECT_RAW_MAX);
    char *safe_reason = cp_text_safe_dup(reason, strlen(reason), REJECT_REASON_MAX);
    cp_buf_addf(b, "%lld\t%ld\t", ctx->object_id, line_no);
    cp_copy_escape(b, safe_raw);
    cp_buf_adds(b, "\t");
    cp_copy_escape(b, safe_reason);
    cp_buf_adds(b, "\n"); /* a failure sticks: checked once, after the file */
    free(safe_raw);
    free(safe_reason);
    ctx->rejected++;
}

static void on_row(const struct cp_chart_row *row, void *ud)
{
    struct load_ctx *ctx = ud;
    cp_staged_add(&ctx->staged, row);
}

/* Inside the open transaction, rejects copied: the streamed path when the object extends
 * its series, else the set-based merge; then commit. */
static cp_status merge_object(PGconn *conn, struct load_ctx *ctx, long long *loaded, bool *streamed,
                              char *err, size_t errlen)
{
    cp_status st = cp_load_streamed(conn, ctx->object_id, &ctx->staged, streamed, err, errlen);
    if (st != CP_OK)
        return st;
    if (*streamed) {
        *loaded = (long long)ctx->staged.count;
        return cp_etl_commit(conn, err, errlen);
    }
    struct cp_buf stage;
    cp_buf_init(&stage, LOAD_MAX_COPY);
    st = cp_staged_stage_text(&ctx->staged, &stage);
    if (st != CP_OK)
        snprintf(err, errlen, "object too large to stage in one transaction");
    if (st == CP_OK)
        st = cp_etl_copy_stage(conn, stage.data ? stage.data : "", stage.len, err, errlen);
    cp_buf_free(&stage);
    if (st == CP_OK)
        st = cp_etl_merge_commit(conn, ctx->object_id, loaded, err, errlen);
    return st;
}

static void set_meta(char *dst, size_t dstlen, const char *value)
{
    snprintf(dst, dstlen, "%s", value ? value : "");
}

/* Whether a failed load says something about the object (its bytes, its catalog entry, a
 * row the database refused) rather than about the run: the raw zone or the database
 * unreachable, or a transient database failure, leave the object to the next load. */
static bool failure_is_the_objects(PGconn *conn, cp_status st)
{
    switch (st) {
    case CP_ERR_IO:
    case CP_ERR_UPSTREAM:
    case CP_ERR_UNAUTHORIZED:
    case CP_ERR_CONFLICT:
        return false;
    case CP_ERR_DB:
        return PQstatus(conn) == CONNECTION_OK;
    default:
        return true;
    }
}

/* Marks obj failed with err; when even that fails, err says so too. True when marked. */
static bool record_failure(PGconn *conn, const struct cp_raw_object *obj, char *err, size_t errlen)
{
    char why[512];
    if (cp_catalog_mark_failed(conn, obj->object_id, err, why, sizeof why) == CP_OK)
        return true;
    size_t n = strlen(err);
    if (n + 1 < errlen)
        snprintf(err + n, errlen - n, " (and it could not be marked failed: %s)", why);
    return false;
}

cp_status cp_load_object(PGconn *conn, struct cp_rawstore *store, const struct cp_raw_object *obj,
                         struct cp_load_result *result, char *err, size_t errlen)
{
    struct load_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.object_id = obj->object_id;
    cp_staged_init(&ctx.staged, LOAD_MAX_COPY);
    cp_buf_init(&ctx.rejects, LOAD_MAX_COPY);
    char *data = NULL;
    size_t len = 0;
    cp_status st = CP_OK;

    /* the catalog names the reader; a format cp_chart_read does not read is never guessed */
    enum cp_chart_format format = cp_chart_format_parse(obj->format);
    if (format == CP_FORMAT_UNKNOWN) {
        if (obj->format && !strcmp(obj->format, CP_SPOTIFY_PLAYLIST_FORMAT))
            snprintf(err, errlen,
                     "a Spotify Web API playlist page; `chartpulse ingest spotify --playlist` "
                     "loads a snapshot's pages together when it fetches them (run it again for "
                     "a new snapshot)");
        else
            snprintf(err, errlen, "format '%s' is not a chart file format `load` reads",
                     obj->format ? obj->format : "");
        st = CP_ERR_INVALID;
        goto out;
    }
    st = cp_rawstore_get(store, obj->object_key, &data, &len, err, errlen);
    if (st != CP_OK)
        goto out;

    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = format;
    set_meta(meta.chart_kind, sizeof meta.chart_kind, obj->chart_kind);
    set_meta(meta.region, sizeof meta.region, obj->region);
    set_meta(meta.period, sizeof meta.period, obj->period);
    set_meta(meta.chart_date, sizeof meta.chart_date, obj->chart_date);

    st = cp_chart_read(data, len, &meta, on_row, on_reject, &ctx, &result->warnings, err, errlen);
    if (st == CP_OK)
        cp_staged_reject_repeated_tracks(&ctx.staged, data, on_reject, &ctx);
    free(data); /* the rows hold what they need */
    data = NULL;
    if (st == CP_OK && (cp_buf_status(&ctx.rejects) != CP_OK || ctx.staged.status != CP_OK)) {
        snprintf(err, errlen, "object too large to stage in one transaction");
        st = CP_ERR_TOO_LARGE;
    }
    if (st != CP_OK)
        goto out;

    long long loaded = 0;
    bool streamed = false;
    if (ctx.staged.count)
        st = cp_etl_ensure_partitions(conn, ctx.staged.min_date, ctx.staged.max_date, err, errlen);
    if (st == CP_OK)
        st = cp_etl_begin(conn, err, errlen);
    if (st == CP_OK)
        st = cp_etl_copy_rejects(conn, obj->object_id, ctx.rejects.data ? ctx.rejects.data : "",
                                 ctx.rejects.len, err, errlen);
    if (st == CP_OK)
        st = merge_object(conn, &ctx, &loaded, &streamed, err, errlen);
    if (st != CP_OK) {
        cp_etl_rollback(conn);
        goto out;
    }
    result->rows_loaded = loaded;
    result->rows_rejected = ctx.rejected;
    result->streamed = streamed;
out:
    if (st != CP_OK && failure_is_the_objects(conn, st))
        result->marked_failed = record_failure(conn, obj, err, errlen);
    free(data);
    cp_staged_free(&ctx.staged);
    cp_buf_free(&ctx.rejects);
    return st;
}

static void usage(FILE *out)
{
    fputs("usage: chartpulse load [--object ID] [--jobs N] [--retry-failed]\n"
          "\n"
          "Loads every cataloged raw object not loaded yet (see `chartpulse ingest`) into the\n"
          "core tables, one transaction per object. Rows that fail validation (including a\n"
          "NUL byte, bytes that are not UTF-8 or a field over its cap) are stored in\n"
          "etl.reject with their line, text and reason. Running it again changes nothing.\n"
          "An object that cannot be loaded at all is marked failed with its error (GET\n"
          "/v1/catalog?status=failed) and later runs skip it, saying so, until it is retried.\n"
          "An object whose charts are all newer than its series' latest loaded chart is\n"
          "loaded by the streamed path (run columns derived while reading); any other by the\n"
          "set-based merge. The summary line counts both.\n"
          "\n"
          "  --object ID     load (or reload, or retry) only this object\n"
          "  --retry-failed  also load the objects whose last load failed\n"
          "  --jobs N        objects loaded at once on N connections (default: 2, at most\n"
          "                  the number of processors); loads of the same chart series\n"
          "                  still run one after another, in chart-date order\n",
          out);
}

/* Objects with the same warning are counted under one line of the summary, so a run over
 * hundreds of files with one quirk prints it once. Distinct texts beyond this are counted
 * together. */
#define WARNING_KINDS_MAX 8
/* Objects with rejected rows named one by one before the summary counts the rest. */
#define REJECT_LINES_MAX 5

struct warning_kind {
    char *text;
    long objects;
    long long example_id; /* the first object that had it */
    char *example_name;
};

/* The work list shared by the load workers, and what they found. */
struct load_run {
    const struct cp_config *cfg;
    struct cp_raw_object *objects;
    size_t count;
    size_t next; /* the next object to take */
    pthread_mutex_t lock;
    struct cp_progress progress;
    double bytes_total, bytes_done;
    long long rows, rejected;
    long loaded_objects, streamed, failed;
    long objects_with_rejects;
    struct warning_kind warnings[WARNING_KINDS_MAX];
    size_t warning_kinds;
    long other_warnings; /* objects whose warning did not fit in warnings[] */
    bool stop;           /* the database went away: take no more objects */
};

/* Counts obj's warning text under its kind. Called with run->lock held. */
static void tally_warning(struct load_run *run, const struct cp_raw_object *obj, const char *text)
{
    for (size_t i = 0; i < run->warning_kinds; i++) {
        if (!strcmp(run->warnings[i].text, text)) {
            run->warnings[i].objects++;
            return;
        }
    }
    if (run->warning_kinds == WARNING_KINDS_MAX) {
        run->other_warnings++;
        return;
    }
    struct warning_kind *w = &run->warnings[run->warning_kinds++];
    w->text = cp_strdup(text);
    w->objects = 1;
    w->example_id = obj->object_id;
    w->example_name = cp_strdup(obj->original_name);
}

static void print_warnings(struct load_run *run)
{
    for (size_t i = 0; i < run->warning_kinds; i++) {
        const struct warning_kind *w = &run->warnings[i];
        fprintf(stderr, "load: warning: %ld object%s: %s (e.g. object %lld, %s)\n", w->objects,
                w->objects == 1 ? "" : "s", w->text, w->example_id, w->example_name);
        free(w->text);
        free(w->example_name);
    }
    if (run->other_warnings)
        fprintf(stderr, "load: warning: %ld more object%s with other warnings\n",
                run->other_warnings, run->other_warnings == 1 ? "" : "s");
}

/* One worker: its own connection and raw-zone handle (neither is shareable), taking the
 * next object in chart-date order until none is left. */
static void *load_worker(void *arg)
{
    struct load_run *run = arg;
    char err[1024];
    struct cp_rawstore *store = NULL;
    PGconn *conn = cp_db_connect(run->cfg->database_url, err, sizeof err);
    if (!conn || cp_rawstore_open(run->cfg, &store, err, sizeof err) != CP_OK) {
        pthread_mutex_lock(&run->lock);
        cp_progress_finish(&run->progress);
        fprintf(stderr, "chartpulse load: a worker could not start: %s\n", err);
        run->stop = true;
        pthread_mutex_unlock(&run->lock);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&run->lock);
        if (run->stop || run->next >= run->count) {
            pthread_mutex_unlock(&run->lock);
            break;
        }
        const struct cp_raw_object *obj = &run->objects[run->next++];
        pthread_mutex_unlock(&run->lock);

        struct cp_load_result result = {0};
        cp_status st = cp_load_object(conn, store, obj, &result, err, sizeof err);

        pthread_mutex_lock(&run->lock);
        run->bytes_done += (double)obj->bytes;
        if (result.warnings)
            tally_warning(run, obj, result.warnings);
        free(result.warnings);
        if (st != CP_OK) {
            cp_progress_finish(&run->progress);
            fprintf(stderr, "chartpulse load: object %lld (%s): not loaded: %s%s\n", obj->object_id,
                    obj->original_name, err,
                    result.marked_failed ? " (marked failed: later loads skip it until "
                                           "--retry-failed)"
                                         : "");
            run->failed++;
            if (st == CP_ERR_DB && PQstatus(conn) != CONNECTION_OK)
                run->stop = true;
        } else {
            run->loaded_objects++;
            run->streamed += result.streamed;
            run->rows += result.rows_loaded;
            run->rejected += result.rows_rejected;
            if (result.rows_rejected && ++run->objects_with_rejects <= REJECT_LINES_MAX) {
                cp_progress_finish(&run->progress);
                fprintf(stderr,
                        "chartpulse load: object %lld (%s): %lld row%s rejected "
                        "(select * from etl.reject where object_id = %lld)\n",
                        obj->object_id, obj->original_name, result.rows_rejected,
                        result.rows_rejected == 1 ? "" : "s", obj->object_id);
            }
        }
        cp_progress_update(&run->progress, "load", run->bytes_done, run->bytes_total, run->rows);
        pthread_mutex_unlock(&run->lock);
    }
out:
    cp_rawstore_close(store);
    if (conn)
        PQfinish(conn);
    return NULL;
}

int cp_load_main(int argc, char **argv)
{
    const char *cmd = "load";
    long long only_id = 0;
    bool retry_failed = false;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cpus > 1 ? 2 : 1;
    static const struct option options[] = {{"object", required_argument, NULL, 'o'},
                                            {"jobs", required_argument, NULL, 'j'},
                                            {"retry-failed", no_argument, NULL, 'r'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:h", options, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o':
            only_id = strtoll(optarg, &end, 10);
            if (*end || only_id <= 0)
                return cp_cli_fail(cmd, "--object: '%s' is not an object id", optarg);
            break;
        case 'j': {
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return cp_cli_fail(cmd, "--jobs: '%s' is not a number from 1 to 64", optarg);
            jobs = (int)n;
            break;
        }
        case 'r':
            retry_failed = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", argv[optind]);

    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    char err[1024];
    int status = 1;
    struct load_run run;
    memset(&run, 0, sizeof run);
    run.cfg = &cfg;
    pthread_mutex_init(&run.lock, NULL);
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    long long skipped_failed = 0;
    if (cp_catalog_pending(conn, only_id, retry_failed, &run.objects, &run.count, err,
                           sizeof err) != CP_OK ||
        (!only_id && !retry_failed &&
         cp_catalog_count_failed(conn, &skipped_failed, err, sizeof err) != CP_OK)) {
        cp_cli_fail(cmd, "cannot read the catalog: %s", err);
        goto out;
    }
    PQfinish(conn);
    conn = NULL;
    if (only_id && run.count == 0) {
        cp_cli_fail(cmd, "--object: no object %lld in the catalog", only_id);
        goto out;
    }
    for (size_t i = 0; i < run.count; i++)
        run.bytes_total += (double)run.objects[i].bytes;
    if ((size_t)jobs > run.count)
        jobs = run.count ? (int)run.count : 1;
    cp_progress_init(&run.progress);
    double started = cp_now();
    pthread_t *threads = cp_calloc((size_t)jobs, sizeof *threads);
    int started_threads = 0;
    for (int i = 0; i < jobs; i++)
        if (pthread_create(&threads[i], NULL, load_worker, &run) == 0)
            started_threads++;
    for (int i = 0; i < started_threads; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    cp_progress_finish(&run.progress);
    double elapsed = cp_now() - started;
    long not_reached = (long)(run.count - run.next);
    fprintf(stderr,
            "load: %ld object%s loaded, %lld rows (%.0f rows/s), %lld rejected, %ld failed%s;"
            " %ld streamed, %ld merged set-based\n",
            run.loaded_objects, run.loaded_objects == 1 ? "" : "s", run.rows,
            elapsed > 0 ? (double)run.rows / elapsed : 0.0, run.rejected, run.failed + not_reached,
            not_reached ? " (the database went away)" : "", run.streamed,
            run.loaded_objects - run.streamed);
    if (run.objects_with_rejects > REJECT_LINES_MAX)
        fprintf(stderr,
                "load: %ld more object%s with rejected rows (select object_id, count(*) from "
                "etl.reject group by 1)\n",
                run.objects_with_rejects - REJECT_LINES_MAX,
                run.objects_with_rejects - REJECT_LINES_MAX == 1 ? "" : "s");
    print_warnings(&run);
    if (skipped_failed)
        fprintf(stderr,
                "load: skipped %lld failed object%s; rerun with --retry-failed (GET "
                "/v1/catalog?status=failed says why)\n",
                skipped_failed, skipped_failed == 1 ? "" : "s");
    if (run.loaded_objects)
        cp_refresh_announce(&cfg, cmd);
    status = run.failed || not_reached || !started_threads ? 1 : 0;
out:
    for (size_t i = 0; i < run.count; i++)
        cp_raw_object_cleanup(&run.objects[i]);
    free(run.objects);
    if (conn)
        PQfinish(conn);
    pthread_mutex_destroy(&run.lock);
    cp_config_cleanup(&cfg);
    return status;
}
