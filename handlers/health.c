/* Liveness and readiness endpoints. */
#include "handlers/health.h"

#include <string.h>

#include "core/log.h"
#include "db/migrate.h"

cp_status cp_health_live(const struct cp_request *req, struct cp_reply *reply)
{
    (void)req;
    return cp_reply_json(reply, json_pack("{s:s}", "status", "ok"));
}

cp_status cp_health_ready(const struct cp_request *req, struct cp_reply *reply)
{
    char err[512];
    int pending = 0;
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    if (cp_migrate_pending(db, &pending, err, sizeof err) != CP_OK) {
        err[strcspn(err, "\n")] = '\0'; /* libpq messages end in a newline */
        cp_log_warn("readiness: cannot read the migration state: %s", err);
        return cp_reply_problem(reply, CP_ERR_DB,
                                "the database did not report its migration state");
    }
    if (pending > 0)
        return cp_reply_problem(reply, CP_ERR_DB,
                                "%d database migration%s pending; run `chartpulse migrate`",
                                pending, pending == 1 ? " is" : "s are");
    return cp_reply_json(reply, json_pack("{s:s, s:s, s:s}", "status", "ready", "database", "ok",
                                          "migrations", "current"));
}
