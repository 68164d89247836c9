/* Reading libpq results the same way in every repository: integer and text cells with
 * NULL made explicit, and a failed query turned into one line of error text. */
#ifndef CP_PGRESULT_H
#define CP_PGRESULT_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* The integer in a cell. *present (may be NULL) is false, and 0 is returned, when the cell
 * is NULL or not an integer. */
long long cp_pg_int(const PGresult *res, int row, int col, bool *present);
/* The text of a cell (borrowed from res), or NULL when the cell is NULL. */
const char *cp_pg_text(const PGresult *res, int row, int col);
/* Copies res's error message, first line only, into err, clears res, and returns
 * CP_ERR_DB: `return cp_pg_failed(res, err, errlen);` */
cp_status cp_pg_failed(PGresult *res, char *err, size_t errlen);
/* Runs sql with nparams text params and expects rows: CP_OK with *out (the caller
 * PQclears it), CP_ERR_NOT_FOUND when there are none, CP_ERR_DB with the message in err. */
cp_status cp_pg_rows(PGconn *db, const char *sql, int nparams, const char *const *params,
                     PGresult **out, char *err, size_t errlen);
/* Runs sql with nparams text params (0: none) for its effect, ignoring any rows it returns:
 * CP_OK, or CP_ERR_DB with the message in err. */
cp_status cp_pg_exec(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
                     size_t errlen);

#endif
