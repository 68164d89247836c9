/* SQL of the load step: staging by COPY and the merge into the core tables, one
 * transaction per raw object. A failed statement gives CP_ERR_CONFLICT when PostgreSQL calls
 * it transient (deadlock, serialization failure, lock not available, too few resources, the
 * server shutting down: the same load may work next time), else CP_ERR_DB; err has the
 * database's message either way. */
#ifndef CP_ETL_REPO_H
#define CP_ETL_REPO_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* Makes sure the fact table has partitions for chart dates from..to (YYYY-MM-DD), in a
 * transaction of its own: call it before cp_etl_begin. */
cp_status cp_etl_ensure_partitions(PGconn *conn, const char *from, const char *to, char *err,
                                   size_t errlen);
/* Begins the object's transaction. */
cp_status cp_etl_begin(PGconn *conn, char *err, size_t errlen);
/* Creates the transaction's stage table and streams COPY text-format rows (see
 * cp_copy_escape) into it. */
cp_status cp_etl_copy_stage(PGconn *conn, const char *copy_text, size_t len, char *err,
                            size_t errlen);
/* Replaces the object's rejects with the given COPY text rows
 * (object_id, line_no, raw_text, reason). */
cp_status cp_etl_copy_rejects(PGconn *conn, long long object_id, const char *copy_text, size_t len,
                              char *err, size_t errlen);
/* Merges the stage into the core tables, marks the object loaded and commits.
 * *rows_loaded receives the chart entries loaded. On failure the transaction is rolled back. */
cp_status cp_etl_merge_commit(PGconn *conn, long long object_id, long long *rows_loaded, char *err,
                              size_t errlen);
/* Runs a COPY ... FROM STDIN (sql) and streams text-format rows into it. */
cp_status cp_etl_copy_in(PGconn *conn, const char *sql, const char *text, size_t len, char *err,
                         size_t errlen);

/* The streamed path (pipeline/load_stream.c), inside the object's transaction. */
/* Takes the series' advisory lock (the one etl.merge_stage takes) and reads the date of its
 * latest loaded chart into latest ("" when none). */
cp_status cp_etl_lock_series(PGconn *conn, const char *chart_kind, const char *region,
                             const char *period, char latest[11], char *err, size_t errlen);
/* The core.chart_run rows of the given tracks (a text[] literal) in one series, columns:
 * track_id, first_date, first_rank, last_date, last_rank, peak_rank, peak_date, periods,
 * streak, longest_streak, reentries, periods_at_1, periods_top10, total_streams (dates
 * YYYY-MM-DD). The caller clears *out. */
cp_status cp_etl_chart_runs(PGconn *conn, const char *chart_kind, const char *region,
                            const char *period, const char *track_ids, PGresult **out, char *err,
                            size_t errlen);
/* Creates the session tables stream_track, stream_run and stream_month (emptied at commit). */
cp_status cp_etl_stream_tables(PGconn *conn, char *err, size_t errlen);
/* etl.merge_streamed: the track, chart_run and track_month upserts; marks the object loaded. */
cp_status cp_etl_merge_streamed(PGconn *conn, long long object_id, long long rows, char *err,
                                size_t errlen);
/* Commits; rolls back when the commit fails. */
cp_status cp_etl_commit(PGconn *conn, char *err, size_t errlen);
/* Rolls back an open transaction (after a failure). */
void cp_etl_rollback(PGconn *conn);

/* Cancels every running statement of the BI and API roles that has run past its role's own
 * statement_timeout default, whatever the session set (etl.cancel_overrunning, migration
 * 0015): one row per statement cancelled (pid, role_name, running, role_limit). As
 * cp_pg_rows answers (CP_ERR_NOT_FOUND: nothing to cancel). */
cp_status cp_etl_cancel_overrunning(PGconn *conn, PGresult **out, char *err, size_t errlen);

#endif
