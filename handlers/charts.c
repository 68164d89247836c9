/* The chart endpoint: validate the series and date, read the chart, shape it as JSON. */
#include "handlers/charts.h"

#include <string.h>

#include "core/date.h"
#include "core/log.h"
#include "core/series.h"
#include "db/charts_repo.h"
#include "handlers/csv.h"
#include "handlers/params.h"

static json_t *nullable_int(bool present, long long v)
{
    return present ? json_integer(v) : json_null();
}

static void set_run_values(json_t *obj, const struct cp_chart_run_values *v, const char *period)
{
    json_object_set_new(obj, "previous_rank", nullable_int(v->has_previous_rank, v->previous_rank));
    json_object_set_new(obj, "movement", v->movement ? json_string(v->movement) : json_null());
    json_object_set_new(obj, "peak_rank", nullable_int(v->has_peak_rank, v->peak_rank));
    json_object_set_new(obj, cp_period_on_chart(period),
                        nullable_int(v->has_periods_on_chart, v->periods_on_chart));
}

static json_t *entry_json(const struct cp_chart_entry *e, const char *period)
{
    json_t *entry = json_object();
    json_object_set_new(entry, "rank", json_integer(e->rank));
    json_object_set_new(entry, "track",
                        json_pack("{s:s, s:s, s:s}", "id", e->track_id, "name", e->track_name,
                                  "song_id", e->song_id));
    json_object_set_new(entry, "artists", json_string(e->artist_names));
    json_t *credits = json_loads(e->credits_json, 0, NULL); /* built by the database */
    json_object_set_new(entry, "credits", credits ? credits : json_array());
    json_object_set_new(entry, "streams", nullable_int(e->has_streams, e->streams));
    set_run_values(entry, &e->shown, period);
    json_object_set_new(entry, "run_source", json_string(e->run_source));
    json_t *derived = json_object();
    set_run_values(derived, &e->derived, period);
    json_object_set_new(entry, "derived", derived);
    return entry;
}

cp_status cp_charts_show(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    const char *region, *period, *kind;
    int limit;
    const char *date = cp_request_param(req, "date");
    cp_status st = cp_param_region(req, reply, &region);
    if (st != CP_OK)
        return st;
    if (!date || (strcmp(date, "latest") && !cp_date_valid(date)))
        return cp_reply_problem(
            reply, CP_ERR_INVALID,
            "date: must be a calendar date YYYY-MM-DD or 'latest' (got '%.40s')", date ? date : "");
    bool csv;
    if ((st = cp_csv_negotiate(req, reply, &csv)) != CP_OK ||
        (st = cp_param_period(req, reply, &period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &kind)) != CP_OK ||
        (st = cp_param_limit(req, reply, &limit)) != CP_OK)
        return st;

    /* repo */
    bool latest = !strcmp(date, "latest");
    struct cp_chart_query q = {
        .chart_kind = kind,
        .region = region,
        .period = period,
        .date = latest ? NULL : date,
        .limit = limit,
    };
    PGconn *db = cp_request_db(req); /* only now: a bad parameter answers 400, never 503 */
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_chart chart;
    char err[512];
    st = cp_charts_repo_find(db, &q, &chart, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND) {
        if (latest)
            return cp_reply_problem(reply, st, "no %s %s chart for region '%s' has been loaded",
                                    kind, period, region);
        return cp_reply_problem(reply, st, "no %s %s chart for region '%s' on %s", kind, period,
                                region, date);
    }
    if (st != CP_OK) {
        cp_log_error("chart query failed: %s", err);
        return cp_reply_problem(reply, st, "the chart could not be read from the database");
    }

    /* build JSON */
    json_t *entries = json_array();
    for (size_t i = 0; i < chart.count; i++)
        json_array_append_new(entries, entry_json(&chart.entries[i], period));
    json_t *body = json_object();
    json_object_set_new(body, "region", json_string(region));
    json_object_set_new(body, "period", json_string(period));
    json_object_set_new(body, "chart_kind", json_string(kind));
    json_object_set_new(body, "date", json_string(chart.date));
    /* the previous period's chart, which previous_rank and movement compare with; null when
     * it is not loaded */
    json_object_set_new(body, "previous_date",
                        chart.previous_date[0] ? json_string(chart.previous_date) : json_null());
    json_object_set_new(body, "entries", entries);
    json_object_set_new(body, "count", json_integer((json_int_t)chart.count));
    cp_charts_repo_cleanup(&chart);

    /* respond */
    if (csv) {
        /* one row per chart entry (csv.h), the counts of charts named by their unit */
        bool weekly = !strcmp(cp_period_unit(period), "weeks");
        const char *const columns[] = {"rank",
                                       "track.id",
                                       "track.name",
                                       "artists",
                                       "streams",
                                       "previous_rank",
                                       "movement",
                                       "peak_rank",
                                       cp_period_on_chart(period),
                                       "run_source",
                                       "derived.previous_rank",
                                       "derived.movement",
                                       "derived.peak_rank",
                                       weekly ? "derived.weeks_on_chart" : "derived.days_on_chart",
                                       NULL};
        return cp_csv_reply_rows(reply, body, "entries", columns);
    }
    return cp_reply_json(reply, body);
}

cp_status cp_charts_dates(const struct cp_request *req, struct cp_reply *reply)
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
    st = cp_charts_repo_dates(db, kind, region, period, &res, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no %s %s chart for region '%s' has been loaded", kind,
                                period, region);
    if (st != CP_OK) {
        cp_log_error("chart dates query failed: %s", err);
        return cp_reply_problem(reply, st, "the chart dates could not be read from the database");
    }

    /* build JSON */
    json_t *dates = json_array();
    int rows = PQntuples(res);
    for (int row = 0; row < rows; row++)
        json_array_append_new(dates, json_string(PQgetvalue(res, row, 0)));
    PQclear(res);
    json_t *body = json_object();
    json_object_set_new(body, "region", json_string(region));
    json_object_set_new(body, "period", json_string(period));
    json_object_set_new(body, "chart_kind", json_string(kind));
    json_object_set_new(body, "dates", dates);
    json_object_set_new(body, "count", json_integer(rows));
    return cp_reply_json(reply, body);
}
