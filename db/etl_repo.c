/* Load-step SQL: stage table, COPY, merge, commit. */
#include "db/etl_repo.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pgresult.h"

static cp_status db_error_text(const char *message, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", message);
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    return CP_ERR_DB;
}

/* SQLSTATEs of a failure that says nothing about the object being loaded: a deadlock or
 * serialization failure (class 40), a lock not available (55P03), too few resources (53),
 * an operator stopping the server (57). The same load may work next time. */
static bool transient_sqlstate(const char *state)
{
    if (!state || strlen(state) != 5)
        return false;
    return !strncmp(state, "40", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57", 2) ||
           !strcmp(state, "55P03");
}

/* A failed statement's error: CP_ERR_CONFLICT when transient, else CP_ERR_DB. */
static cp_status result_error(const PGresult *res, char *err, size_t errlen)
{
    cp_status st = db_error_text(PQresultErrorMessage(res), err, errlen);
    return transient_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE)) ? CP_ERR_CONFLICT : st;
}

static cp_status exec_command(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    cp_status st = CP_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        st = result_error(res, err, errlen);
    PQclear(res);
    return st;
}

/* Runs a statement with text parameters that returns rows (a function call), ignoring them. */
static cp_status exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params,
                             char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    cp_status st = CP_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
        st = result_error(res, err, errlen);
    PQclear(res);
    return st;
}

cp_status cp_etl_ensure_partitions(PGconn *conn, const char *from, const char *to, char *err,
                                   size_t errlen)
{
    const char *params[] = {from, to};
    return exec_params(conn, "select etl.ensure_chart_entry_partitions($1, $2)", 2, params, err,
                       errlen);
}

cp_status cp_etl_begin(PGconn *conn, char *err, size_t errlen)
{
    return exec_command(conn, "begin; set local client_min_messages = warning", err, errlen);
}

cp_status cp_etl_copy_in(PGconn *conn, const char *sql, const char *text, size_t len, char *err,
                         size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        cp_status st = result_error(res, err, errlen);
        PQclear(res);
        return st;
    }
    PQclear(res);
    const size_t chunk = 1 << 20;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < chunk ? len - done : chunk;
        if (PQputCopyData(conn, text + done, (int)n) != 1)
            return db_error_text(PQerrorMessage(conn), err, errlen);
        done += n;
    }
    if (PQputCopyEnd(conn, NULL) != 1)
        return db_error_text(PQerrorMessage(conn), err, errlen);
    cp_status st = CP_OK;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && st == CP_OK)
            st = result_error(res, err, errlen);
        PQclear(res);
    }
    return st;
}

cp_status cp_etl_copy_stage(PGconn *conn, const char *copy_text, size_t len, char *err,
                            size_t errlen)
{
    cp_status st =
        exec_command(conn,
                     "create temp table stage_entry ("
                     " line_no integer not null, chart_kind text not null, region text not null,"
                     " period text not null, chart_date date not null, rank smallint not null,"
                     " track_id text not null, track_name text not null,"
                     " artist_names text not null, label text, streams bigint,"
                     " src_peak_rank smallint, src_previous_rank smallint,"
                     " src_periods_on_chart integer) on commit drop",
                     err, errlen);
    if (st != CP_OK)
        return st;
    return cp_etl_copy_in(
        conn,
        "copy pg_temp.stage_entry (line_no, chart_kind, region, period, chart_date, rank,"
        " track_id, track_name, artist_names, label, streams, src_peak_rank,"
        " src_previous_rank, src_periods_on_chart) from stdin",
        copy_text, len, err, errlen);
}

cp_status cp_etl_copy_rejects(PGconn *conn, long long object_id, const char *copy_text, size_t len,
                              char *err, size_t errlen)
{
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", object_id);
    const char *params[] = {idbuf};
    cp_status st =
        exec_params(conn, "delete from etl.reject where object_id = $1", 1, params, err, errlen);
    if (st != CP_OK || len == 0)
        return st;
    return cp_etl_copy_in(conn, "copy etl.reject (object_id, line_no, raw_text, reason) from stdin",
                          copy_text, len, err, errlen);
}

cp_status cp_etl_merge_commit(PGconn *conn, long long object_id, long long *rows_loaded, char *err,
                              size_t errlen)
{
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", object_id);
    const char *params[] = {idbuf};
    PGresult *res =
        PQexecParams(conn, "select etl.merge_stage($1)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        cp_status st = result_error(res, err, errlen);
        PQclear(res);
        cp_etl_rollback(conn);
        return st;
    }
    *rows_loaded = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return cp_etl_commit(conn, err, errlen);
}

void cp_etl_rollback(PGconn *conn)
{
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(conn, "rollback");
        PQclear(res);
    }
}

cp_status cp_etl_lock_series(PGconn *conn, const char *chart_kind, const char *region,
                             const char *period, char latest[11], char *err, size_t errlen)
{
    /* the same key etl.merge_stage locks; two statements, because a statement's snapshot is
     * taken when it starts: the read must see what the load it waited for committed */
    const char *params[] = {chart_kind, region, period};
    cp_status st = exec_params(
        conn, "select pg_advisory_xact_lock(hashtextextended($1 || '/' || $2 || '/' || $3, 0))", 3,
        params, err, errlen);
    if (st != CP_OK)
        return st;
    PGresult *res = PQexecParams(conn,
                                 "select to_char(max(chart_date), 'YYYY-MM-DD') from core.chart"
                                 " where chart_kind = $1 and region = $2 and period = $3",
                                 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        st = result_error(res, err, errlen);
    else
        snprintf(latest, 11, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

cp_status cp_etl_chart_runs(PGconn *conn, const char *chart_kind, const char *region,
                            const char *period, const char *track_ids, PGresult **out, char *err,
                            size_t errlen)
{
    const char *params[] = {chart_kind, region, period, track_ids};
    PGresult *res = PQexecParams(
        conn,
        "select track_id, to_char(first_date, 'YYYY-MM-DD'), first_rank,"
        " to_char(last_date, 'YYYY-MM-DD'), last_rank, peak_rank,"
        " to_char(peak_date, 'YYYY-MM-DD'), periods, streak, longest_streak, reentries,"
        " periods_at_1, periods_top10, total_streams"
        " from core.chart_run"
        " where chart_kind = $1 and region = $2 and period = $3 and track_id = any ($4::text[])",
        4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        cp_status st = result_error(res, err, errlen);
        PQclear(res);
        return st;
    }
    *out = res;
    return CP_OK;
}

cp_status cp_etl_stream_tables(PGconn *conn, char *err, size_t errlen)
{
    return exec_command(
        conn,
        "create temp table if not exists stream_track (track_id text not null, name text not null,"
        " artist_names text not null, label text, chart_date date not null) on commit delete rows;"
        "create temp table if not exists stream_run (like core.chart_run) on commit delete rows;"
        "create temp table if not exists stream_month (like core.track_month)"
        " on commit delete rows",
        err, errlen);
}

cp_status cp_etl_merge_streamed(PGconn *conn, long long object_id, long long rows, char *err,
                                size_t errlen)
{
    char idbuf[32], rowsbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", object_id);
    snprintf(rowsbuf, sizeof rowsbuf, "%lld", rows);
    const char *params[] = {idbuf, rowsbuf};
    return exec_params(conn, "select etl.merge_streamed($1, $2)", 2, params, err, errlen);
}

cp_status cp_etl_commit(PGconn *conn, char *err, size_t errlen)
{
    cp_status st = exec_command(conn, "commit", err, errlen);
    if (st != CP_OK)
        cp_etl_rollback(conn);
    return st;
}

cp_status cp_etl_cancel_overrunning(PGconn *conn, PGresult **out, char *err, size_t errlen)
{
    return cp_pg_rows(conn,
                      "select pid, role_name, running::text, role_limit::text"
                      " from etl.cancel_overrunning()",
                      0, NULL, out, err, errlen);
}
