/* Pipeline-run SQL: etl.pipeline_run and etl.pipeline_step. */
#include "db/pipeline_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define TS(col) "to_char(" col " at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static cp_status db_error(PGresult *res, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", PQresultErrorMessage(res));
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    PQclear(res);
    return CP_ERR_DB;
}

/* Runs a statement that returns no rows. */
static cp_status exec_command(PGconn *conn, const char *sql, int nparams, const char *const *params,
                              char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    PQclear(res);
    return CP_OK;
}

static void rollback(PGconn *conn)
{
    PQclear(PQexec(conn, "rollback"));
}

/* Takes the run lock on conn (session level: held until released or the session ends).
 * CP_ERR_CONFLICT, naming the live run, when another session holds it. */
static cp_status take_run_lock(PGconn *conn, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "select pg_try_advisory_lock(etl.pipeline_run_lock_key())");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    bool got = !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    if (got)
        return CP_OK;
    res = PQexec(conn, "select run_id from etl.pipeline_run where status = 'running'");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(err, errlen, "a pipeline run is already going (run %s)", PQgetvalue(res, 0, 0));
    else
        snprintf(err, errlen, "a pipeline run is already going");
    PQclear(res);
    return CP_ERR_CONFLICT;
}

static void release_run_lock(PGconn *conn)
{
    PQclear(PQexec(conn, "select pg_advisory_unlock(etl.pipeline_run_lock_key())"));
}

/* Inside the start's transaction, with the lock held: reserves the new run's id, and marks
 * every run still `running` failed (its process is gone, or it would hold the lock), its
 * running step failed and its pending steps skipped. */
static cp_status fail_dead_runs(PGconn *conn, char *id_text, size_t id_len, char *err,
                                size_t errlen)
{
    PGresult *res =
        PQexec(conn, "select nextval(pg_get_serial_sequence('etl.pipeline_run', 'run_id'))");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    snprintf(id_text, id_len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *params[] = {id_text};
    cp_status st = exec_command(conn,
                                "update etl.pipeline_step s set"
                                " status = case s.status when 'running' then 'failed'"
                                " else 'skipped' end,"
                                " finished_at = case s.status when 'running' then now() end,"
                                " detail = case s.status when 'running' then"
                                " 'stopped with its run (no lock held)' else s.detail end"
                                " from etl.pipeline_run r"
                                " where r.run_id = s.run_id and r.status = 'running'"
                                " and s.status in ('running', 'pending')",
                                0, NULL, err, errlen);
    if (st != CP_OK)
        return st;
    return exec_command(conn,
                        "update etl.pipeline_run set status = 'failed', finished_at = now(),"
                        " error = '" CP_PIPELINE_DEAD_RUN_ERROR "; marked failed by run ' || $1"
                        " where status = 'running'",
                        1, params, err, errlen);
}

/* Inside the start's transaction, after dead runs are failed: where a resumed run starts
 * (its first failed step; 0 when none is marked failed). */
static cp_status resume_point(PGconn *conn, long long resume_of, int *first_step, char *err,
                              size_t errlen)
{
    char id_text[32];
    snprintf(id_text, sizeof id_text, "%lld", resume_of);
    const char *params[] = {id_text};
    PGresult *res = PQexecParams(conn,
                                 "select r.status, (select min(s.step_no) from etl.pipeline_step s"
                                 "  where s.run_id = r.run_id and s.status = 'failed')"
                                 " from etl.pipeline_run r where r.run_id = $1",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(err, errlen, "--resume: no pipeline run %lld", resume_of);
        return CP_ERR_NOT_FOUND;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "failed")) {
        snprintf(err, errlen, "--resume: run %lld %s: only a failed run can be resumed", resume_of,
                 PQgetvalue(res, 0, 0));
        PQclear(res);
        return CP_ERR_INVALID;
    }
    *first_step = PQgetisnull(res, 0, 1) ? 0 : atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    return CP_OK;
}

cp_status cp_pipeline_repo_start(PGconn *conn, const char *trigger, const char *const *steps,
                                 long long *run_id, char *err, size_t errlen)
{
    int first_step = 0;
    return cp_pipeline_repo_start_resume(conn, trigger, steps, 0, &first_step, run_id, err, errlen);
}

cp_status cp_pipeline_repo_start_resume(PGconn *conn, const char *trigger, const char *const *steps,
                                        long long resume_of, int *first_step, long long *run_id,
                                        char *err, size_t errlen)
{
    *first_step = 0;
    cp_status st = take_run_lock(conn, err, errlen);
    if (st != CP_OK)
        return st;
    st = exec_command(conn, "begin", 0, NULL, err, errlen);
    char id_text[32], resume_text[32];
    snprintf(resume_text, sizeof resume_text, "%lld", resume_of);
    if (st == CP_OK)
        st = fail_dead_runs(conn, id_text, sizeof id_text, err, errlen);
    if (st == CP_OK && resume_of > 0)
        st = resume_point(conn, resume_of, first_step, err, errlen);
    if (st == CP_OK) {
        const char *params[] = {id_text, trigger, resume_of > 0 ? resume_text : NULL};
        PGresult *res = PQexecParams(conn,
                                     "insert into etl.pipeline_run (run_id, trigger, resumed_from)"
                                     " overriding system value values ($1, $2, $3)",
                                     3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            /* a row `running` from a binary that predates the lock */
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            bool conflict = state && !strcmp(state, "23505");
            st = db_error(res, err, errlen);
            if (conflict) {
                snprintf(err, errlen, "a pipeline run is already going");
                st = CP_ERR_CONFLICT;
            }
        } else {
            PQclear(res);
        }
    }
    for (int i = 0; steps[i] && st == CP_OK; i++) {
        char step_no[16];
        snprintf(step_no, sizeof step_no, "%d", i);
        bool done_before = i < *first_step;
        const char *step_params[] = {id_text, step_no, steps[i], done_before ? resume_text : NULL};
        st = exec_command(conn,
                          "insert into etl.pipeline_step (run_id, step_no, name, status, detail)"
                          " values ($1, $2, $3, case when $4::bigint is null then 'pending'"
                          " else 'skipped' end, 'done in run ' || $4)",
                          4, step_params, err, errlen);
    }
    if (st == CP_OK)
        st = exec_command(conn, "commit", 0, NULL, err, errlen);
    if (st != CP_OK) {
        rollback(conn);
        release_run_lock(conn);
        return st;
    }
    *run_id = strtoll(id_text, NULL, 10);
    return CP_OK;
}

cp_status cp_pipeline_repo_step_begin(PGconn *conn, long long run_id, int step_no, char *err,
                                      size_t errlen)
{
    char id_text[32], step_text[16];
    snprintf(id_text, sizeof id_text, "%lld", run_id);
    snprintf(step_text, sizeof step_text, "%d", step_no);
    const char *params[] = {id_text, step_text};
    return exec_command(conn,
                        "update etl.pipeline_step set status = 'running', started_at = now()"
                        " where run_id = $1 and step_no = $2",
                        2, params, err, errlen);
}

cp_status cp_pipeline_repo_step_retry(PGconn *conn, long long run_id, int step_no, int attempt,
                                      const char *detail, char *err, size_t errlen)
{
    char id_text[32], step_text[16], attempt_text[16];
    snprintf(id_text, sizeof id_text, "%lld", run_id);
    snprintf(step_text, sizeof step_text, "%d", step_no);
    snprintf(attempt_text, sizeof attempt_text, "%d", attempt);
    const char *params[] = {id_text, step_text, attempt_text, detail};
    return exec_command(conn,
                        "update etl.pipeline_step set attempts = $3, detail = $4"
                        " where run_id = $1 and step_no = $2",
                        4, params, err, errlen);
}

cp_status cp_pipeline_repo_step_end(PGconn *conn, long long run_id, int step_no, const char *status,
                                    const char *detail, int attempts, char *err, size_t errlen)
{
    char id_text[32], step_text[16], attempts_text[16];
    snprintf(id_text, sizeof id_text, "%lld", run_id);
    snprintf(step_text, sizeof step_text, "%d", step_no);
    snprintf(attempts_text, sizeof attempts_text, "%d", attempts);
    const char *params[] = {id_text, step_text, status, detail, attempts_text};
    return exec_command(conn,
                        "update etl.pipeline_step set status = $3, detail = $4, attempts = $5,"
                        " started_at = coalesce(started_at, now()), finished_at = now()"
                        " where run_id = $1 and step_no = $2",
                        5, params, err, errlen);
}

cp_status cp_pipeline_repo_finish(PGconn *conn, long long run_id, const char *status,
                                  const char *error, char *err, size_t errlen)
{
    char id_text[32];
    snprintf(id_text, sizeof id_text, "%lld", run_id);
    const char *params[] = {id_text, status, error};
    cp_status st = exec_command(conn,
                                "update etl.pipeline_step set status = 'skipped'"
                                " where run_id = $1 and status = 'pending'",
                                1, params, err, errlen);
    if (st != CP_OK)
        return st;
    return exec_command(conn,
                        "update etl.pipeline_run set status = $2, error = $3, finished_at = now()"
                        " where run_id = $1",
                        3, params, err, errlen);
}

/* A run still `running` while nobody holds the run lock is shown failed at once (its
 * process stopped; migration 0014), with its running step failed; the next run records
 * that for good. */
/* clang-format off */
static const char LIST_SQL[] =
    "with live as (select etl.pipeline_run_lock_held() as held)"
    " select r.run_id, r.trigger, " TS("r.started_at") ", " TS("r.finished_at") ","
    "  case when r.status = 'running' and not live.held then 'failed' else r.status end,"
    "  case when r.status = 'running' and not live.held"
    "   then '" CP_PIPELINE_DEAD_RUN_ERROR "' else r.error end,"
    "  coalesce((select json_agg(json_build_object("
    "     'name', s.name,"
    "     'status', case when s.status = 'running' and r.status = 'running' and not live.held"
    "                then 'failed' else s.status end,"
    "     'started_at', " TS("s.started_at") ","
    "     'finished_at', " TS("s.finished_at") ","
    "     'seconds', extract(epoch from s.finished_at - s.started_at)::float8,"
    "     'attempts', s.attempts,"
    "     'detail', s.detail) order by s.step_no)"
    "   from etl.pipeline_step s where s.run_id = r.run_id), '[]')::text,"
    "  coalesce(r.resumed_from, 0)"
    " from etl.pipeline_run r, live"
    " where $2::bigint = 0 or r.run_id = $2::bigint"
    " order by r.run_id desc limit $1";
/* clang-format on */

static char *opt_value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : cp_strdup(PQgetvalue(res, row, col));
}

cp_status cp_pipeline_repo_list(PGconn *conn, int limit, long long only_run_id,
                                struct cp_pipeline_run_list *out, char *err, size_t errlen)
{
    char limit_text[16], id_text[32];
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    snprintf(id_text, sizeof id_text, "%lld", only_run_id);
    const char *params[] = {limit_text, id_text};
    PGresult *res = PQexecParams(conn, LIST_SQL, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    int rows = PQntuples(res);
    if (only_run_id > 0 && rows == 0) {
        PQclear(res);
        snprintf(err, errlen, "no pipeline run %lld", only_run_id);
        return CP_ERR_NOT_FOUND;
    }
    out->count = (size_t)rows;
    out->runs = rows ? cp_calloc((size_t)rows, sizeof *out->runs) : NULL;
    for (int r = 0; r < rows; r++) {
        struct cp_pipeline_run_row *run = &out->runs[r];
        run->run_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        run->trigger = opt_value(res, r, 1);
        run->started_at = opt_value(res, r, 2);
        run->finished_at = opt_value(res, r, 3);
        run->status = opt_value(res, r, 4);
        run->error = opt_value(res, r, 5);
        run->steps_json = opt_value(res, r, 6);
        run->resumed_from = strtoll(PQgetvalue(res, r, 7), NULL, 10);
    }
    PQclear(res);
    return CP_OK;
}

void cp_pipeline_run_list_cleanup(struct cp_pipeline_run_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        struct cp_pipeline_run_row *run = &list->runs[i];
        free(run->trigger);
        free(run->started_at);
        free(run->finished_at);
        free(run->status);
        free(run->error);
        free(run->steps_json);
    }
    free(list->runs);
    list->runs = NULL;
    list->count = 0;
}

cp_status cp_pipeline_repo_pending_objects(PGconn *conn, long long *count, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "select count(*) from catalog.raw_object"
                                 " where loaded_at is null and load_error is null");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    *count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return CP_OK;
}

cp_status cp_pipeline_repo_claim_slot(PGconn *conn, long long slot_epoch, const char *claimed_by,
                                      bool *claimed, char *err, size_t errlen)
{
    char slot_text[32];
    snprintf(slot_text, sizeof slot_text, "%lld", slot_epoch);
    const char *params[] = {slot_text, claimed_by};
    PGresult *res = PQexecParams(conn,
                                 "insert into etl.pipeline_schedule_slot (slot, claimed_by)"
                                 " values (to_timestamp($1::bigint), $2)"
                                 " on conflict (slot) do nothing returning 1",
                                 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    *claimed = PQntuples(res) == 1;
    PQclear(res);
    return CP_OK;
}

cp_status cp_pipeline_repo_slot_outcome(PGconn *conn, long long slot_epoch, long long run_id,
                                        const char *note, char *err, size_t errlen)
{
    char slot_text[32], run_text[32];
    snprintf(slot_text, sizeof slot_text, "%lld", slot_epoch);
    snprintf(run_text, sizeof run_text, "%lld", run_id);
    const char *params[] = {slot_text, run_id > 0 ? run_text : NULL, note};
    return exec_command(conn,
                        "update etl.pipeline_schedule_slot set run_id = $2, note = $3"
                        " where slot = to_timestamp($1::bigint)",
                        3, params, err, errlen);
}
