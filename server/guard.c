#include "server/guard.h"

#include <stdbool.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/ticker.h"
#include "db/etl_repo.h"
#include "db/pool.h"

/* A statement overrunning its limit is cancelled at most this late. */
#define GUARD_INTERVAL_MS 2000

struct cp_guard {
    char *conninfo;
    struct cp_ticker *ticker;
    PGconn *conn;  /* the ticker's own; reopened on a pass after it broke */
    bool reported; /* the database being down is logged once, not every pass */
};

/* One pass; false when the connection is unusable (it is reopened on the next pass). */
static bool guard_pass(PGconn *conn)
{
    PGresult *res = NULL;
    char err[512];
    cp_status st = cp_etl_cancel_overrunning(conn, &res, err, sizeof err);
    if (st == CP_OK) {
        for (int i = 0; i < PQntuples(res); i++)
            cp_log_warn("guard: cancelled the statement of %s (pid %s) after %s, past its "
                        "role's statement_timeout %s",
                        PQgetvalue(res, i, 1), PQgetvalue(res, i, 0), PQgetvalue(res, i, 2),
                        PQgetvalue(res, i, 3));
        PQclear(res);
    } else if (st == CP_ERR_DB && PQstatus(conn) == CONNECTION_OK) {
        /* the function is missing (not migrated) or the owner lacks the memberships */
        cp_log_warn("guard: %s", err);
    }
    return PQstatus(conn) == CONNECTION_OK;
}

static void guard_tick(void *arg)
{
    struct cp_guard *guard = arg;
    if (!guard->conn) {
        char err[256];
        guard->conn = cp_db_connect(guard->conninfo, err, sizeof err);
        if (!guard->conn && !guard->reported) {
            cp_log_warn("guard: cannot connect (retrying every %d ms): %s", GUARD_INTERVAL_MS, err);
            guard->reported = true;
        }
    }
    if (guard->conn && guard_pass(guard->conn)) {
        guard->reported = false;
    } else if (guard->conn) {
        PQfinish(guard->conn);
        guard->conn = NULL;
    }
}

struct cp_guard *cp_guard_start(const char *conninfo)
{
    struct cp_guard *guard = cp_calloc(1, sizeof *guard);
    guard->conninfo = cp_strdup(conninfo);
    char err[128];
    guard->ticker = cp_ticker_start(GUARD_INTERVAL_MS, guard_tick, guard, err, sizeof err);
    if (!guard->ticker) {
        cp_log_error("guard: %s; statements past their role's limit are not cancelled", err);
        free(guard->conninfo);
        free(guard);
        return NULL;
    }
    return guard;
}

void cp_guard_stop(struct cp_guard *guard)
{
    if (!guard)
        return;
    cp_ticker_stop(guard->ticker);
    if (guard->conn)
        PQfinish(guard->conn);
    free(guard->conninfo);
    free(guard);
}
