/* The trend endpoints: movers, new entries, stream totals and momentum of a chart series. */
#include "handlers/trends.h"

#include <string.h>

#include "core/log.h"
#include "core/series.h"
#include "db/trends_repo.h"
#include "handlers/csv.h"
#include "handlers/params.h"

static json_t *nullable_int(bool present, long long v)
{
    return present ? json_integer((json_int_t)v) : json_null();
}

static json_t *track_ref(const struct cp_trend_row *r)
{
    return json_pack("{s:s, s:s}", "id", r->track_id, "name", r->track_name);
}

static json_t *series_body(const struct cp_trends_query *q, bool with_kind)
{
    json_t *body = json_object();
    json_object_set_new(body, "region", json_string(q->region));
    json_object_set_new(body, "period", json_string(q->period));
    if (with_kind)
        json_object_set_new(body, "chart_kind", json_string(q->chart_kind));
    return body;
}

/* The parameters every chart-based trend shares: region, period, kind (when with_kind,
 * else regional), date or latest, limit, format. */
static cp_status chart_params(const struct cp_request *req, struct cp_reply *reply, bool with_kind,
                              struct cp_trends_query *q, bool *csv)
{
    cp_status st;
    q->chart_kind = "regional";
    if ((st = cp_param_region(req, reply, &q->region)) != CP_OK ||
        (st = cp_param_period(req, reply, &q->period)) != CP_OK ||
        (with_kind && (st = cp_param_kind(req, reply, &q->chart_kind)) != CP_OK) ||
        (st = cp_param_date_or_latest(req, reply, &q->date)) != CP_OK ||
        (st = cp_param_limit(req, reply, &q->limit)) != CP_OK)
        return st;
    return cp_csv_negotiate(req, reply, csv);
}

/* The answer to a repo failure of a chart-based trend. */
static cp_status chart_failed(struct cp_reply *reply, cp_status st, const struct cp_trends_query *q,
                              const char *what, const char *err)
{
    if (st == CP_ERR_NOT_FOUND) {
        if (!q->date)
            return cp_reply_problem(reply, st, "no %s %s chart for region '%s' has been loaded",
                                    q->chart_kind, q->period, q->region);
        return cp_reply_problem(reply, st, "no %s %s chart for region '%s' on %s", q->chart_kind,
                                q->period, q->region, q->date);
    }
    cp_log_error("%s query failed: %s", what, err);
    return cp_reply_problem(reply, st, "the %s could not be read from the database", what);
}

static json_t *chart_body(const struct cp_trends_query *q, bool with_kind,
                          const struct cp_trend_list *list)
{
    json_t *body = series_body(q, with_kind);
    json_object_set_new(body, "date", json_string(list->date));
    json_object_set_new(body, "previous_date",
                        list->previous_date[0] ? json_string(list->previous_date) : json_null());
    return body;
}

/* Movers and new entries compare with the previous period's chart (SPEC 4a): when it is
 * not loaded the lists are empty, and the body says why. */
static void set_comparison(json_t *body, const struct cp_trends_query *q,
                           const struct cp_trend_list *list)
{
    bool loaded = list->previous_date[0] != '\0';
    json_object_set_new(body, "previous_period_loaded", json_boolean(loaded));
    if (!loaded)
        json_object_set_new(
            body, "note",
            json_sprintf("the %s chart before %s is not loaded, so nothing is compared with it",
                         strcmp(cp_period_unit(q->period), "weeks") ? "day's" : "week's",
                         list->date));
}

cp_status cp_trends_movers(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    struct cp_trends_query q;
    bool csv;
    cp_status st = chart_params(req, reply, true, &q, &csv);
    if (st != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_trend_list list;
    char err[512];
    if ((st = cp_trends_repo_movers(db, &q, &list, err, sizeof err)) != CP_OK)
        return chart_failed(reply, st, &q, "movers", err);

    /* build */
    json_t *gainers = json_array(), *losers = json_array(), *all = json_array();
    for (size_t i = 0; i < list.count; i++) {
        const struct cp_trend_row *r = &list.rows[i];
        json_t *mover = json_object();
        json_object_set_new(mover, "rank", json_integer(r->rank));
        json_object_set_new(mover, "previous_rank", json_integer(r->previous_rank));
        json_object_set_new(mover, "rank_change", json_integer(r->rank_change));
        json_object_set_new(mover, "track", track_ref(r));
        json_object_set_new(mover, "artists", json_string(r->artist_names));
        json_object_set_new(mover, "streams", nullable_int(r->has_streams, r->streams));
        if (csv) {
            json_t *row = json_deep_copy(mover);
            json_object_set_new(row, "list", json_string(r->gainer ? "gainers" : "losers"));
            json_array_append_new(all, row);
        }
        json_array_append_new(r->gainer ? gainers : losers, mover);
    }
    json_t *body = chart_body(&q, true, &list);
    set_comparison(body, &q, &list);
    json_object_set_new(body, "gainers", gainers);
    json_object_set_new(body, "losers", losers);
    cp_trends_repo_cleanup(&list);

    /* respond */
    if (csv) {
        json_decref(body);
        static const char *const columns[] = {"list",        "rank",     "previous_rank",
                                              "rank_change", "track.id", "track.name",
                                              "artists",     "streams",  NULL};
        return cp_csv_reply_rows(reply, all, NULL, columns);
    }
    json_decref(all);
    return cp_reply_json(reply, body);
}

cp_status cp_trends_new_entries(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    struct cp_trends_query q;
    bool csv;
    cp_status st = chart_params(req, reply, true, &q, &csv);
    if (st != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_trend_list list;
    char err[512];
    if ((st = cp_trends_repo_new_entries(db, &q, &list, err, sizeof err)) != CP_OK)
        return chart_failed(reply, st, &q, "new entries", err);

    /* build */
    json_t *entries = json_array();
    for (size_t i = 0; i < list.count; i++) {
        const struct cp_trend_row *r = &list.rows[i];
        json_t *entry = json_object();
        json_object_set_new(entry, "rank", json_integer(r->rank));
        json_object_set_new(entry, "track", track_ref(r));
        json_object_set_new(entry, "artists", json_string(r->artist_names));
        json_object_set_new(entry, "streams", nullable_int(r->has_streams, r->streams));
        json_object_set_new(entry, "previous_rank",
                            nullable_int(r->has_previous_rank, r->previous_rank));
        json_object_set_new(entry, "movement",
                            r->movement ? json_string(r->movement) : json_null());
        json_object_set_new(entry, "peak_rank", nullable_int(r->has_peak_rank, r->peak_rank));
        json_object_set_new(entry, cp_period_on_chart(q.period),
                            nullable_int(r->has_periods_on_chart, r->periods_on_chart));
        json_array_append_new(entries, entry);
    }
    json_t *body = chart_body(&q, true, &list);
    set_comparison(body, &q, &list);
    json_object_set_new(body, "entries", entries);
    json_object_set_new(body, "count", json_integer((json_int_t)list.count));
    cp_trends_repo_cleanup(&list);

    /* respond */
    if (csv) {
        const char *const columns[] = {
            "rank",    "track.id", "track.name", "artists",
            "streams", "movement", "peak_rank",  cp_period_on_chart(q.period),
            NULL};
        return cp_csv_reply_rows(reply, body, "entries", columns);
    }
    return cp_reply_json(reply, body);
}

cp_status cp_trends_streams(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    static const char *const granularities[] = {"day", "week", "month", NULL};
    struct cp_trends_query q = {.date = NULL};
    const char *from, *to, *granularity;
    bool csv;
    cp_status st;
    if ((st = cp_param_region(req, reply, &q.region)) != CP_OK ||
        (st = cp_param_period(req, reply, &q.period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &q.chart_kind)) != CP_OK ||
        (st = cp_param_range(req, reply, &from, &to)) != CP_OK ||
        (st = cp_param_choice(req, reply, "granularity", granularities, "day", &granularity)) !=
            CP_OK ||
        (st = cp_csv_negotiate(req, reply, &csv)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_stream_totals totals;
    char err[512];
    st = cp_trends_repo_streams(db, &q, from, to, granularity, &totals, err, sizeof err);
    if (st != CP_OK) {
        cp_log_error("stream totals query failed: %s", err);
        return cp_reply_problem(reply, st, "the stream totals could not be read from the database");
    }

    /* build */
    json_t *points = json_array();
    for (size_t i = 0; i < totals.count; i++) {
        const struct cp_stream_point *p = &totals.points[i];
        json_t *point = json_object();
        json_object_set_new(point, "date", json_string(p->date));
        json_object_set_new(point, "streams", nullable_int(p->has_streams, p->streams));
        json_object_set_new(point, "charts", json_integer((json_int_t)p->charts));
        json_array_append_new(points, point);
    }
    cp_trends_repo_streams_cleanup(&totals);
    json_t *body = series_body(&q, true);
    json_object_set_new(body, "granularity", json_string(granularity));
    json_object_set_new(body, "from", from ? json_string(from) : json_null());
    json_object_set_new(body, "to", to ? json_string(to) : json_null());
    json_object_set_new(body, "points", points);

    /* respond */
    if (csv) {
        static const char *const columns[] = {"date", "streams", "charts", NULL};
        return cp_csv_reply_rows(reply, body, "points", columns);
    }
    return cp_reply_json(reply, body);
}

cp_status cp_trends_momentum(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    struct cp_trends_query q;
    bool csv;
    long window;
    cp_status st = chart_params(req, reply, false, &q, &csv);
    if (st != CP_OK || (st = cp_param_int(req, reply, "window", 1, 28, 7, &window)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_trend_list list;
    char err[512];
    if ((st = cp_trends_repo_momentum(db, &q, (int)window, &list, err, sizeof err)) != CP_OK)
        return chart_failed(reply, st, &q, "momentum", err);

    /* build */
    json_t *tracks = json_array();
    for (size_t i = 0; i < list.count; i++) {
        const struct cp_trend_row *r = &list.rows[i];
        json_t *track = json_object();
        json_object_set_new(track, "track", track_ref(r));
        json_object_set_new(track, "artists", json_string(r->artist_names));
        json_object_set_new(track, "rank", json_integer(r->rank));
        json_object_set_new(track, "recent_streams", json_integer((json_int_t)r->recent_streams));
        json_object_set_new(track, "earlier_streams", json_integer((json_int_t)r->earlier_streams));
        json_object_set_new(track, "growth", r->has_growth ? json_real(r->growth) : json_null());
        json_array_append_new(tracks, track);
    }
    json_t *body = chart_body(&q, false, &list);
    json_object_set_new(body, "window", json_integer(window));
    json_object_set_new(body, "tracks", tracks);
    cp_trends_repo_cleanup(&list);

    /* respond */
    if (csv) {
        static const char *const columns[] = {
            "rank",           "track.id",        "track.name", "artists",
            "recent_streams", "earlier_streams", "growth",     NULL};
        return cp_csv_reply_rows(reply, body, "tracks", columns);
    }
    return cp_reply_json(reply, body);
}
