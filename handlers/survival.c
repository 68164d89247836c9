/* The survival endpoint: curves and remaining time of one chart series. */
#include "handlers/survival.h"

#include "core/log.h"
#include "handlers/params.h"

/* The whole body in one statement, built by PostgreSQL: the curves are a few hundred rows
 * at most and every number is already stored. */
static const char SURVIVAL_SQL[] =
    "with w as (select window_from, window_to from reporting.series_window "
    "           where chart_kind = $1 and region = $2 and period = $3), "
    "bands as ("
    "  select debut_band, sum(events) as events, max(at_risk) as spells, "
    "         sum(censored) as censored, "
    "         min(charts) filter (where survival <= 0.5) as median_charts, "
    "         json_agg(json_build_object('charts', charts, 'at_risk', at_risk, 'events', events,"
    "                  'censored', censored, 'survival', round(survival::numeric, 6)) "
    "                  order by charts) as curve "
    "  from reporting.survival_curves where chart_kind = $1 and region = $2 and period = $3 "
    "  group by debut_band), "
    "rem as ("
    "  select json_agg(json_build_object('track', json_build_object('id', track_id, "
    "                  'name', track_name), 'artists', artist_names, 'debut_band', debut_band,"
    "                  'charts_so_far', charts_so_far, 'expected_remaining', "
    "                  round(expected_remaining::numeric, 3), 'restricted', restricted) "
    "                  order by expected_remaining desc nulls last, track_id) as rows "
    "  from reporting.survival_remaining where chart_kind = $1 and region = $2 and period = $3)"
    "select json_build_object('window_from', w.window_from, 'window_to', w.window_to, "
    "  'bands', coalesce((select json_agg(json_build_object('debut_band', debut_band, "
    "           'spells', spells, 'events', events, 'censored', censored, "
    "           'median_charts', median_charts, 'curve', curve) "
    "           order by case debut_band when '1-10' then 1 when '11-50' then 2 else 3 end) "
    "           from bands), '[]'), "
    "  'remaining', coalesce((select rows from rem), '[]'))::text "
    "from w";

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
    const char *params[] = {kind, region, period};
    PGresult *res = PQexecParams(db, SURVIVAL_SQL, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        cp_log_error("survival query failed: %s", PQresultErrorMessage(res));
        PQclear(res);
        return cp_reply_problem(reply, CP_ERR_DB,
                                "the survival curves could not be read from the database");
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND,
                                "no %s %s chart for region '%s' has been loaded", kind, period,
                                region);
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
