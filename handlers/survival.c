/* The survival endpoint: curves and remaining time of one chart series. */
#include "handlers/survival.h"

#include "core/log.h"
#include "db/survival_repo.h"
#include "handlers/params.h"

cp_status cp_survival_show(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    const char *region, *period, *kind;
    cp_status st;
    if ((st = cp_param_region(req, reply, &region)) != CP_OK ||
        (st = cp_param_period(req, reply, &period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &kind)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    PGresult *res;
    char err[512];
    st = cp_survival_repo_show(db, kind, region, period, &res, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND,
                                "no %s %s chart for region '%s' has been loaded", kind, period,
                                region);
    if (st != CP_OK) {
        cp_log_error("survival query failed: %s", err);
        return cp_reply_problem(reply, CP_ERR_DB,
                                "the survival curves could not be read from the database");
    }

    /* build */
    json_error_t jerr;
    json_t *body = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
    PQclear(res);
    if (!body) {
        cp_log_error("survival body did not parse: %s", jerr.text);
        return cp_reply_problem(reply, CP_ERR_DB, "the survival curves could not be read");
    }
    json_object_set_new(body, "region", json_string(region));
    json_object_set_new(body, "period", json_string(period));
    json_object_set_new(body, "chart_kind", json_string(kind));

    /* respond */
    return cp_reply_json(reply, body);
}
