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

cp_status cp_pipeline_repo_start(PGconn *conn, const char *trigger, const char *const *steps,
                                 long long *run_id, char *err, size_t errlen)
{
    cp_status st = exec_command(conn, "begin", 0, NULL, err, errlen);
    if (st != CP_OK)
        return st;
    char stale_hours[16];
    snprintf(stale_hours, sizeof stale_hours, "%d", CP_PIPELINE_STALE_HOURS);
    const char *stale_params[] = {stale_hours};
    st = exec_command(conn,
                      "update etl.pipeline_run set status = 'failed', finished_at = now(),"
                      " error = 'abandoned: still running after ' || $1 || ' hours'"
                      " where status = 'running' and started_at < now() - make_interval(hours => "
                      "$1::int)",
                      1, stale_params, err, errlen);
    if (st != CP_OK) {
        rollback(conn);
        return st;
    }
    const char *params[] = {trigger};
    PGresult *res =
        PQexecParams(conn, "insert into etl.pipeline_run (trigger) values ($1) returning run_id", 1,
                     NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool conflict = state && !strcmp(state, "23505");
        st = db_error(res, err, errlen);
        rollback(conn);
        if (conflict) {
            snprintf(err, errlen, "a pipeline run is already going");
            return CP_ERR_CONFLICT;
        }
        return st;
    }
    char id_text[32];
    snprintf(id_text, sizeof id_text, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    for (int i = 0; steps[i] && st == CP_OK; i++) {
        char step_no[16];
        snprintf(step_no, sizeof step_no, "%d", i);
        const char *step_params[] = {id_text, step_no, steps[i]};
        st = exec_command(
            conn, "insert into etl.pipeline_step (run_id, step_no, name) values ($1, $2, $3)", 3,
            step_params, err, errlen);
    }
    if (st == CP_OK)
        st = exec_command(conn, "commit", 0, NULL, err, errlen);
    if (st != CP_OK) {
        rollback(conn);
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

cp_status cp_pipeline_repo_step_end(PGconn *conn, long long run_id, int step_no, const char *status,
                                    const char *detail, char *err, size_t errlen)
{
    char id_text[32], step_text[16];
    snprintf(id_text, sizeof id_text, "%lld", run_id);
    snprintf(step_text, sizeof step_text, "%d", step_no);
    const char *params[] = {id_text, step_text, status, detail};
    return exec_command(conn,
                        "update etl.pipeline_step set status = $3, detail = $4,"
                        " started_at = coalesce(started_at, now()), finished_at = now()"
                        " where run_id = $1 and step_no = $2",
                        4, params, err, errlen);
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

static const char LIST_SQL[] = "select r.run_id, r.trigger, " TS("r.started_at") ", " TS(
    "r.finished_at") ", r.status,"
                     "       r.error,"
                     "       coalesce((select json_agg(json_build_object("
                     "           'name', s.name, 'status', s.status,"
                     "           'started_at', " TS(
                         "s.started_at") ","
                                         "           'finished_at', " TS(
                                             "s.finished_at") ","
                                                              "           'seconds', extract(epoch "
                                                              "from s.finished_at - "
                                                              "s.started_at)::float8,"
                                                              "           'detail', s.detail) "
                                                              "order by s.step_no)"
                                                              "         from etl.pipeline_step s "
                                                              "where s.run_id = r.run_id), "
                                                              "'[]')::text"
                                                              "  from etl.pipeline_run r"
                                                              " where $2::bigint = 0 or r.run_id = "
                                                              "$2::bigint"
                                                              " order by r.run_id desc limit $1";

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
