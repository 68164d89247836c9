/* The records endpoint: validate the series and range, read the records, shape them. */
#include "handlers/records.h"

#include <stdbool.h>
#include <string.h>

#include "core/log.h"
#include "core/series.h"
#include "db/pgresult.h"
#include "db/records_repo.h"
#include "handlers/params.h"

#define RECORDS_LIMIT_DEFAULT 10
#define RECORDS_LIMIT_MAX     100

/* A cell as a JSON integer, null when the cell is NULL. */
static json_t *cell_int(const PGresult *res, int row, int col)
{
    bool present;
    long long v = cp_pg_int(res, row, col, &present);
    return present ? json_integer((json_int_t)v) : json_null();
}

static bool cell_true(const PGresult *res, int row, int col)
{
    return !strcmp(PQgetvalue(res, row, col), "t");
}

/* The song's track and credit line, as every record names it. */
static json_t *record_row(const PGresult *res, int row)
{
    json_t *r = json_object();
    json_object_set_new(r, "track",
                        json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, row, CP_REC_TRACK_ID),
                                  "name", PQgetvalue(res, row, CP_REC_TRACK_NAME), "song_id",
                                  PQgetvalue(res, row, CP_REC_SONG_ID)));
    json_object_set_new(r, "artists", json_string(PQgetvalue(res, row, CP_REC_ARTIST_NAMES)));
    return r;
}

static json_t *record_json(const PGresult *res, int row, const char *record, const char *period)
{
    json_t *r = record_row(res, row);
    if (!strcmp(record, "number_ones")) {
        char key[16];
        snprintf(key, sizeof key, "%s_at_1", cp_period_unit(period));
        json_object_set_new(r, key, cell_int(res, row, CP_REC_PERIODS));
        json_object_set_new(r, "first_date", json_string(PQgetvalue(res, row, CP_REC_FIRST_DATE)));
        json_object_set_new(r, "last_date", json_string(PQgetvalue(res, row, CP_REC_LAST_DATE)));
    } else if (!strcmp(record, "longest_runs")) {
        json_object_set_new(r, "length", cell_int(res, row, CP_REC_PERIODS));
        json_object_set_new(r, "from", json_string(PQgetvalue(res, row, CP_REC_FIRST_DATE)));
        json_object_set_new(r, "to", json_string(PQgetvalue(res, row, CP_REC_LAST_DATE)));
        json_object_set_new(r, "ongoing", json_boolean(cell_true(res, row, CP_REC_ONGOING)));
    } else {
        json_object_set_new(r, "date", json_string(PQgetvalue(res, row, CP_REC_CHART_DATE)));
        json_object_set_new(r, "rank", cell_int(res, row, CP_REC_RANK));
        json_object_set_new(r, "streams", cell_int(res, row, CP_REC_STREAMS));
    }
    return r;
}

cp_status cp_records_show(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    struct cp_records_query q;
    long limit;
    cp_status st;
    if ((st = cp_param_region(req, reply, &q.region)) != CP_OK ||
        (st = cp_param_period(req, reply, &q.period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &q.chart_kind)) != CP_OK ||
        (st = cp_param_range(req, reply, &q.from, &q.to)) != CP_OK ||
        (st = cp_param_int(req, reply, "limit", 1, RECORDS_LIMIT_MAX, RECORDS_LIMIT_DEFAULT,
                           &limit)) != CP_OK)
        return st;
    q.limit = (int)limit;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    PGresult *range, *records;
    char err[512];
    st = cp_records_repo_find(db, &q, &range, &records, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no %s %s chart for region '%s' in the range",
                                q.chart_kind, q.period, q.region);
    if (st != CP_OK) {
        cp_log_error("records query failed: %s", err);
        return cp_reply_problem(reply, st, "the records could not be read from the database");
    }

    /* build JSON */
    static const char *const lists[][2] = {{"number_ones", "most_number_ones"},
                                           {"longest_runs", "longest_runs"},
                                           {"biggest_debuts", "biggest_debuts"},
                                           {"most_streams", "most_streams"}};
    json_t *body = json_object();
    json_object_set_new(body, "region", json_string(q.region));
    json_object_set_new(body, "period", json_string(q.period));
    json_object_set_new(body, "chart_kind", json_string(q.chart_kind));
    json_object_set_new(body, "from", json_string(PQgetvalue(range, 0, CP_RRC_FROM)));
    json_object_set_new(body, "to", json_string(PQgetvalue(range, 0, CP_RRC_TO)));
    json_object_set_new(body, "charts", cell_int(range, 0, CP_RRC_CHARTS));
    json_object_set_new(body, "charts_expected", cell_int(range, 0, CP_RRC_CHARTS_EXPECTED));
    json_object_set_new(body, "history_complete",
                        json_boolean(cell_true(range, 0, CP_RRC_HISTORY_COMPLETE)));
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        json_t *rows = json_array();
        for (int row = 0; row < PQntuples(records); row++)
            if (!strcmp(PQgetvalue(records, row, CP_REC_RECORD), lists[i][0]))
                json_array_append_new(rows, record_json(records, row, lists[i][0], q.period));
        json_object_set_new(body, lists[i][1], rows);
    }
    PQclear(range);
    PQclear(records);
    return cp_reply_json(reply, body);
}
