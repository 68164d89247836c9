/* SQL of the load step: staging by COPY and the merge into the core tables, one
 * transaction per raw object. */
#ifndef CP_ETL_REPO_H
#define CP_ETL_REPO_H

#include <stddef.h>

#include <libpq-fe.h>

#include "status.h"

/* Makes sure the fact table has partitions for chart dates from..to (YYYY-MM-DD), in a
 * transaction of its own: call it before cp_etl_begin. */
cp_status cp_etl_ensure_partitions(PGconn *conn, const char *from, const char *to, char *err,
                                   size_t errlen);
/* Begins the object's transaction and creates the session's stage table. */
cp_status cp_etl_begin(PGconn *conn, char *err, size_t errlen);
/* Streams COPY text-format rows (see cp_copy_escape) into the stage table. */
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
/* Rolls back an open transaction (after a failure). */
void cp_etl_rollback(PGconn *conn);

#endif
