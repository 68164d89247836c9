/* libpq result cells and errors, read one way everywhere. */
#include "db/pgresult.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long long cp_pg_int(const PGresult *res, int row, int col, bool *present)
{
    bool ignored;
    if (!present)
        present = &ignored;
    *present = false;
    if (PQgetisnull(res, row, col))
        return 0;
    const char *text = PQgetvalue(res, row, col);
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return 0;
    *present = true;
    return v;
}

const char *cp_pg_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

cp_status cp_pg_failed(PGresult *res, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", PQresultErrorMessage(res));
    err[strcspn(err, "\n")] = '\0';
    PQclear(res);
    return CP_ERR_DB;
}

cp_status cp_pg_rows(PGconn *db, const char *sql, int nparams, const char *const *params,
                     PGresult **out, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    *out = res;
    return CP_OK;
}

cp_status cp_pg_exec(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
                     size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    PQclear(res);
    return CP_OK;
}
