/* The pipeline-run endpoints: list runs, start one in the background. */
#include "handlers/pipeline_runs.h"

#include "core/log.h"
#include "db/pipeline_repo.h"
#include "handlers/params.h"
#include "pipeline/pipeline_run.h"
#include "pipeline/scheduler.h"

#include <time.h>

/* Runs listed by default (the `limit` parameter's default is the API's usual 100). */
#define RUNS_DEFAULT 20

static json_t *text_or_null(const char *s)
{
    json_t *value = s ? json_string(s) : NULL;
    return value ? value : json_null();
}

static json_t *run_json(const struct cp_pipeline_run_row *run)
{
    json_t *steps = run->steps_json ? json_loads(run->steps_json, 0, NULL) : NULL;
    json_t *obj = json_object();
    json_object_set_new(obj, "run_id", json_integer(run->run_id));
    json_object_set_new(obj, "trigger", text_or_null(run->trigger));
    json_object_set_new(obj, "started_at", text_or_null(run->started_at));
    json_object_set_new(obj, "finished_at", text_or_null(run->finished_at));
    json_object_set_new(obj, "status", text_or_null(run->status));
    json_object_set_new(obj, "error", text_or_null(run->error));
    json_object_set_new(obj, "resumed_from",
                        run->resumed_from > 0 ? json_integer(run->resumed_from) : json_null());
    json_object_set_new(obj, "steps", json_is_array(steps) ? steps : json_array());
    if (steps && !json_is_array(steps))
        json_decref(steps);
    return obj;
}

cp_status cp_pipeline_runs_index(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    long limit;
    cp_status st = cp_param_int(req, reply, "limit", 1, CP_LIMIT_MAX, RUNS_DEFAULT, &limit);
    if (st != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_pipeline_run_list list = {0};
    char err[512];
    st = cp_pipeline_repo_list(db, (int)limit, 0, &list, err, sizeof err);
    if (st != CP_OK) {
        cp_log_error("pipeline runs query failed: %s", err);
        return cp_reply_problem(reply, st, "the pipeline runs could not be read");
    }

    /* build JSON */
    json_t *runs = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(runs, run_json(&list.runs[i]));
    cp_pipeline_run_list_cleanup(&list);
    json_t *body = json_object();
    json_object_set_new(body, "runs", runs);
    /* this server's scheduler: another server with the same schedule may be the one that
     * runs the slot (pipeline/scheduler.h), but the slot is the same */
    time_t next = cp_scheduler_next_run();
    json_t *next_json = json_null();
    if (next > 0) {
        struct tm tm;
        char at[32];
        gmtime_r(&next, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        next_json = json_string(at);
    }
    json_object_set_new(body, "next_scheduled_run", next_json);
    json_object_set_new(body, "schedule", text_or_null(req->config->schedule_text));

    /* respond */
    return cp_reply_json(reply, body);
}

cp_status cp_pipeline_runs_create(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    cp_status st = cp_request_authorize_admin(req, reply);
    if (st != CP_OK)
        return st;

    /* repo: the run records itself on a connection of its own, which holds the run lock
     * while it goes (a pooled connection would keep the lock past the run) */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    char err[512];
    long long run_id = 0;
    st = cp_pipeline_run_start_background(req->config, "api", &run_id, err, sizeof err);
    if (st == CP_ERR_CONFLICT)
        return cp_reply_problem(reply, st, "%s", err);
    if (st != CP_OK) {
        cp_log_error("starting a pipeline run failed: %s", err);
        return cp_reply_problem(reply, st, "the run could not be started: %s", err);
    }
    cp_log_info("pipeline run %lld started", run_id);

    /* build JSON: the run as recorded now (its first steps may already have moved on) */
    struct cp_pipeline_run_list list = {0};
    st = cp_pipeline_repo_list(db, 1, run_id, &list, err, sizeof err);
    if (st != CP_OK) {
        cp_log_error("reading pipeline run %lld failed: %s", run_id, err);
        return cp_reply_problem(reply, CP_ERR_DB, "the run started but could not be read back");
    }
    json_t *body = run_json(&list.runs[0]);
    cp_pipeline_run_list_cleanup(&list);

    /* respond */
    return cp_reply_accepted(reply, body);
}
