/* The track endpoints: a track with its chart runs, its history in one series (JSON or
 * CSV), and a forecast of its next charts with the model's backtest error. */
#include "handlers/tracks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/forecast.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/series.h"
#include "core/spotify_id.h"
#include "db/pgresult.h"
#include "db/tracks_repo.h"
#include "handlers/csv.h"
#include "handlers/params.h"

/* The path parameter `id`: a bare id, a spotify:track: URI or an open.spotify.com URL. */
static cp_status track_id_param(const struct cp_request *req, struct cp_reply *reply, char id[23])
{
    const char *value = cp_request_param(req, "id");
    if (!value || cp_spotify_parse_id(value, "track", id) != CP_OK)
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "id: must be a Spotify track id (22 letters and digits), a "
                                "spotify:track: URI or an open.spotify.com/track URL (got '%.60s')",
                                value ? value : "");
    return CP_OK;
}

static json_t *nullable_int(bool present, long long v)
{
    return present ? json_integer(v) : json_null();
}

static json_t *nullable_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The repo failed: log once here, where the answer is decided. */
static cp_status repo_failure(struct cp_reply *reply, cp_status st, const char *what,
                              const char *err)
{
    cp_log_error("%s query failed: %s", what, err);
    return cp_reply_problem(reply, st, "the %s could not be read from the database", what);
}

/* ---- GET /v1/tracks/{id} ------------------------------------------------------------- */

static json_t *album_json(const struct cp_track *t)
{
    if (!t->album_id)
        return json_null();
    json_t *images = t->album_images ? json_loads(t->album_images, 0, NULL) : NULL;
    json_t *album = json_object();
    json_object_set_new(album, "id", json_string(t->album_id));
    json_object_set_new(album, "name", nullable_string(t->album_name));
    json_object_set_new(album, "album_type", nullable_string(t->album_type));
    json_object_set_new(album, "release_date", nullable_string(t->album_release_date));
    json_object_set_new(album, "release_date_precision",
                        nullable_string(t->album_release_date_precision));
    json_object_set_new(album, "label", nullable_string(t->album_label));
    json_object_set_new(album, "images", images ? images : json_null());
    return album;
}

/* Sets "<unit>_<what>" (days_ on daily series, weeks_ on weekly ones: SPEC 4a). */
static void set_periods(json_t *obj, const char *period, const char *what, json_t *value)
{
    char key[64];
    snprintf(key, sizeof key, "%s_%s", cp_period_unit(period), what);
    json_object_set_new(obj, key, value);
}

static json_t *run_json(const struct cp_track_run *r)
{
    json_t *run = json_object();
    json_object_set_new(run, "chart_kind", json_string(r->chart_kind));
    json_object_set_new(run, "region", json_string(r->region));
    json_object_set_new(run, "period", json_string(r->period));
    json_object_set_new(run, "debut_date", json_string(r->debut_date));
    json_object_set_new(run, "debut_rank", json_integer(r->debut_rank));
    json_object_set_new(run, "peak_rank", json_integer(r->peak_rank));
    json_object_set_new(run, "peak_date", json_string(r->peak_date));
    json_object_set_new(run, "last_date", json_string(r->last_date));
    json_object_set_new(run, "last_rank", json_integer(r->last_rank));
    set_periods(run, r->period, "at_1", json_integer(r->periods_at_1));
    set_periods(run, r->period, "in_top10", json_integer(r->periods_in_top10));
    set_periods(run, r->period, "on_chart", json_integer(r->periods_on_chart));
    json_object_set_new(run, "longest_streak", json_integer(r->longest_streak));
    json_object_set_new(run, "current_streak", json_integer(r->current_streak));
    json_object_set_new(run, "reentries", json_integer(r->reentries));
    json_object_set_new(run, "total_streams", nullable_int(r->has_total_streams, r->total_streams));
    json_object_set_new(run, "window",
                        json_pack("{s:s, s:s}", "from", r->window_from, "to", r->window_to));
    json_object_set_new(run, "history_complete", json_boolean(r->history_complete));
    char key[64];
    snprintf(key, sizeof key, "source_%s_on_chart", cp_period_unit(r->period));
    json_object_set_new(run, key,
                        nullable_int(r->has_source_periods_on_chart, r->source_periods_on_chart));
    json_object_set_new(run, "source_peak_rank",
                        nullable_int(r->has_source_peak_rank, r->source_peak_rank));
    return run;
}

static json_t *song_json(const struct cp_track *t)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < t->song_track_count; i++) {
        const struct cp_song_track *o = &t->song_tracks[i];
        json_array_append_new(ids, json_pack("{s:s, s:s, s:s}", "id", o->id, "name", o->name,
                                             "artist_names", o->artist_names));
    }
    json_t *runs = json_array();
    for (size_t i = 0; i < t->song_run_count; i++) {
        const struct cp_song_run *r = &t->song_runs[i];
        json_t *run = json_object();
        json_object_set_new(run, "chart_kind", json_string(r->chart_kind));
        json_object_set_new(run, "region", json_string(r->region));
        json_object_set_new(run, "period", json_string(r->period));
        json_object_set_new(run, "debut_date", json_string(r->debut_date));
        json_object_set_new(run, "last_date", json_string(r->last_date));
        json_object_set_new(run, "peak_rank", json_integer(r->peak_rank));
        set_periods(run, r->period, "at_1", json_integer(r->periods_at_1));
        set_periods(run, r->period, "in_top10", json_integer(r->periods_in_top10));
        set_periods(run, r->period, "on_chart", json_integer(r->periods_on_chart));
        json_object_set_new(run, "total_streams",
                            nullable_int(r->has_total_streams, r->total_streams));
        json_array_append_new(runs, run);
    }
    json_t *song = json_object();
    json_object_set_new(song, "id", json_string(t->song_id));
    json_object_set_new(song, "other_tracks", ids);
    json_object_set_new(song, "runs", runs);
    return song;
}

static json_t *track_json(const struct cp_track *t)
{
    json_t *artists = json_array();
    for (size_t i = 0; i < t->credit_count; i++) {
        const struct cp_track_credit *c = &t->credits[i];
        json_array_append_new(artists, json_pack("{s:s, s:o, s:s, s:s}", "id", c->artist_id,
                                                 "spotify_id", nullable_string(c->spotify_id),
                                                 "name", c->name, "role", c->role));
    }
    json_t *runs = json_array();
    for (size_t i = 0; i < t->run_count; i++)
        json_array_append_new(runs, run_json(&t->runs[i]));
    json_t *body = json_object();
    json_object_set_new(body, "id", json_string(t->id));
    json_object_set_new(body, "name", json_string(t->name));
    json_object_set_new(body, "artist_names", json_string(t->artist_names));
    json_object_set_new(body, "artists", artists);
    json_object_set_new(body, "label", nullable_string(t->label));
    json_object_set_new(body, "duration_ms", nullable_int(t->has_duration_ms, t->duration_ms));
    json_object_set_new(body, "explicit",
                        t->has_explicit ? json_boolean(t->explicit_lyrics) : json_null());
    json_object_set_new(body, "isrc", nullable_string(t->isrc));
    json_object_set_new(body, "popularity", nullable_int(t->has_popularity, t->popularity));
    json_object_set_new(body, "album", album_json(t));
    json_object_set_new(body, "runs", runs);
    json_object_set_new(body, "song", song_json(t));
    return body;
}

cp_status cp_tracks_show(const struct cp_request *req, struct cp_reply *reply)
{
    char id[23];
    cp_status st = track_id_param(req, reply, id);
    if (st != CP_OK)
        return st;

    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_track track;
    char err[512];
    st = cp_tracks_repo_find(db, id, &track, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no track with id '%s' has been loaded", id);
    if (st != CP_OK)
        return repo_failure(reply, st, "track", err);

    json_t *body = track_json(&track);
    cp_tracks_repo_cleanup(&track);
    return cp_reply_json(reply, body);
}

/* ---- GET /v1/tracks/{id}/history ----------------------------------------------------- */

static json_t *point_json(const struct cp_track_point *p, const char *period)
{
    json_t *point = json_object();
    json_object_set_new(point, "date", json_string(p->date));
    json_object_set_new(point, "rank", json_integer(p->rank));
    json_object_set_new(point, "streams", nullable_int(p->has_streams, p->streams));
    json_object_set_new(point, "previous_rank",
                        nullable_int(p->has_previous_rank, p->previous_rank));
    json_object_set_new(point, "movement", nullable_string(p->movement));
    json_object_set_new(point, "peak_rank", json_integer(p->peak_rank));
    set_periods(point, period, "on_chart", json_integer(p->periods_on_chart));
    json_object_set_new(point, "streak", json_integer(p->streak));
    json_object_set_new(point, "run_source", json_string(p->run_source));
    return point;
}

/* The series parameters every history-like endpoint shares. */
struct series_params {
    const char *region, *period, *kind;
};

static cp_status series_params(const struct cp_request *req, struct cp_reply *reply,
                               struct series_params *sp)
{
    cp_status st;
    if ((st = cp_param_region(req, reply, &sp->region)) != CP_OK ||
        (st = cp_param_period(req, reply, &sp->period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &sp->kind)) != CP_OK)
        return st;
    return CP_OK;
}

cp_status cp_tracks_history(const struct cp_request *req, struct cp_reply *reply)
{
    char id[23];
    struct series_params sp;
    const char *from, *to;
    bool csv;
    cp_status st;
    if ((st = track_id_param(req, reply, id)) != CP_OK ||
        (st = series_params(req, reply, &sp)) != CP_OK ||
        (st = cp_param_range(req, reply, &from, &to)) != CP_OK ||
        (st = cp_csv_negotiate(req, reply, &csv)) != CP_OK)
        return st;

    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_track_history_query q = {
        .track_id = id,
        .chart_kind = sp.kind,
        .region = sp.region,
        .period = sp.period,
        .from = from,
        .to = to,
    };
    struct cp_track_history history;
    char err[512];
    st = cp_tracks_repo_history(db, &q, &history, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no track with id '%s' has been loaded", id);
    if (st != CP_OK)
        return repo_failure(reply, st, "track history", err);

    json_t *points = json_array();
    for (size_t i = 0; i < history.count; i++)
        json_array_append_new(points, point_json(&history.points[i], sp.period));
    json_t *body = json_object();
    json_object_set_new(body, "track",
                        json_pack("{s:s, s:s}", "id", id, "name", history.track_name));
    json_object_set_new(body, "region", json_string(sp.region));
    json_object_set_new(body, "period", json_string(sp.period));
    json_object_set_new(body, "chart_kind", json_string(sp.kind));
    json_object_set_new(body, "points", points);
    cp_tracks_repo_history_cleanup(&history);

    if (csv) {
        const char *const columns[] = {"date",
                                       "rank",
                                       "streams",
                                       "previous_rank",
                                       "movement",
                                       "peak_rank",
                                       cp_period_on_chart(sp.period),
                                       "streak",
                                       "run_source",
                                       NULL};
        return cp_csv_reply_rows(reply, body, "points", columns);
    }
    return cp_reply_json(reply, body);
}

/* ---- GET /v1/tracks/{id}/forecast ---------------------------------------------------- */

/* A real rounded to two decimals, so answers stay short and stable across platforms'
 * last-bit differences. */
static json_t *rounded(double v)
{
    return json_real(round(v * 100.0) / 100.0);
}

static json_t *fit_json(const struct cp_forecast_fit *fit)
{
    return json_pack("{s:f, s:f, s:f, s:o}", "alpha", fit->alpha, "beta", fit->beta, "phi",
                     fit->phi, "sigma", json_real(round(fit->sigma * 1e6) / 1e6));
}

static json_t *forecast_json(const char *id, const struct cp_track_history *history,
                             const struct series_params *sp, const struct cp_forecast *f)
{
    const char *origin = history->points[history->count - 1].date;
    long origin_days = cp_date_text_to_days(origin);
    int step = cp_period_days(sp->period);
    json_t *points = json_array();
    for (int h = 1; h <= f->horizon; h++) {
        const struct cp_forecast_point *p = &f->points[h - 1];
        char date[11];
        cp_date_format_days(origin_days + (long)h * step, date);
        json_t *point = json_object();
        json_object_set_new(point, "date", json_string(date));
        json_object_set_new(point, "rank", rounded(p->rank));
        json_object_set_new(point, "rank_low", rounded(p->rank_low));
        json_object_set_new(point, "rank_high", rounded(p->rank_high));
        json_object_set_new(point, "streams", f->has_streams ? rounded(p->streams) : json_null());
        json_object_set_new(point, "streams_low",
                            f->has_streams ? rounded(p->streams_low) : json_null());
        json_object_set_new(point, "streams_high",
                            f->has_streams ? rounded(p->streams_high) : json_null());
        json_array_append_new(points, point);
    }
    const struct cp_forecast_errors *e = &f->backtest;
    json_t *backtest = json_object();
    json_object_set_new(backtest, "rank_mae",
                        e->rank_count ? rounded(e->rank_abs_sum / (double)e->rank_count)
                                      : json_null());
    json_object_set_new(backtest, "streams_mape",
                        e->streams_count ? rounded(e->streams_ape_sum / (double)e->streams_count)
                                         : json_null());
    json_object_set_new(backtest, "evaluated_points", json_integer((json_int_t)e->rank_count));
    json_object_set_new(backtest, "streams_evaluated_points",
                        json_integer((json_int_t)e->streams_count));
    json_object_set_new(backtest, "max_origins", json_integer(CP_FORECAST_MAX_ORIGINS));

    json_t *parameters = json_object();
    json_object_set_new(parameters, "rank", fit_json(&f->rank_fit));
    json_object_set_new(parameters, "streams",
                        f->has_streams ? fit_json(&f->streams_fit) : json_null());

    json_t *body = json_object();
    json_object_set_new(body, "track",
                        json_pack("{s:s, s:s}", "id", id, "name", history->track_name));
    json_object_set_new(body, "region", json_string(sp->region));
    json_object_set_new(body, "period", json_string(sp->period));
    json_object_set_new(body, "chart_kind", json_string(sp->kind));
    json_object_set_new(body, "model", json_string(cp_forecast_model_name(f->model)));
    json_object_set_new(body, "interval", json_real(CP_FORECAST_INTERVAL));
    json_object_set_new(body, "origin", json_string(origin));
    json_object_set_new(body, "observations", json_integer((json_int_t)history->count));
    json_object_set_new(body, "chart_size", json_integer(history->chart_size));
    json_object_set_new(body, "parameters", parameters);
    json_object_set_new(body, "backtest", backtest);
    json_object_set_new(body, "points", points);
    return body;
}

/* A stored column as a rounded number, null when SQL null. */
static json_t *stored_number(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    return rounded(strtod(PQgetvalue(res, row, col), NULL));
}

/* The pooled model's stored forecast (refresh, migration 0016), or null when the track is
 * not on the series' latest chart or none has been stored. */
static json_t *pooled_json(const PGresult *res)
{
    int rows = res ? PQntuples(res) : 0;
    if (rows == 0)
        return json_null();
    json_t *points = json_array();
    for (int r = 0; r < rows; r++) {
        json_t *backtest = json_object();
        json_object_set_new(backtest, "rank_mae", stored_number(res, r, 9));
        json_object_set_new(backtest, "streams_mape", stored_number(res, r, 10));
        json_object_set_new(backtest, "scored", json_integer(cp_pg_int(res, r, 11, NULL)));
        json_object_set_new(backtest, "rank_coverage", stored_number(res, r, 12));
        json_object_set_new(backtest, "streams_coverage", stored_number(res, r, 13));
        json_t *point = json_object();
        json_object_set_new(point, "horizon", json_integer(cp_pg_int(res, r, 0, NULL)));
        json_object_set_new(point, "date", json_string(PQgetvalue(res, r, 1)));
        static const char *const names[] = {"rank",    "rank_low",    "rank_high",
                                            "streams", "streams_low", "streams_high"};
        for (int k = 0; k < 6; k++)
            json_object_set_new(point, names[k], stored_number(res, r, 3 + k));
        json_object_set_new(point, "backtest", backtest);
        json_array_append_new(points, point);
    }
    json_t *pooled = json_object();
    json_object_set_new(pooled, "model", json_string(PQgetvalue(res, 0, 2)));
    json_object_set_new(pooled, "origin", json_string(PQgetvalue(res, 0, 14)));
    json_object_set_new(pooled, "interval", json_real(CP_FORECAST_INTERVAL));
    json_object_set_new(pooled, "points", points);
    return pooled;
}

cp_status cp_tracks_forecast(const struct cp_request *req, struct cp_reply *reply)
{
    char id[23];
    struct series_params sp;
    long horizon;
    cp_status st;
    if ((st = track_id_param(req, reply, id)) != CP_OK ||
        (st = series_params(req, reply, &sp)) != CP_OK ||
        (st = cp_param_int(req, reply, "horizon", 1, CP_FORECAST_MAX_HORIZON, 7, &horizon)) !=
            CP_OK)
        return st;

    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_track_history_query q = {
        .track_id = id, .chart_kind = sp.kind, .region = sp.region, .period = sp.period};
    struct cp_track_history history;
    char err[512];
    st = cp_tracks_repo_history(db, &q, &history, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no track with id '%s' has been loaded", id);
    if (st != CP_OK)
        return repo_failure(reply, st, "track history", err);
    if (history.count == 0) {
        cp_tracks_repo_history_cleanup(&history);
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND,
                                "track '%s' never charted on the %s %s %s chart", id, sp.kind,
                                sp.region, sp.period);
    }

    /* Streams only when every observation has them: a regional chart always does, a viral
     * one never. */
    int *ranks = cp_calloc(history.count, sizeof *ranks);
    long long *streams = cp_calloc(history.count, sizeof *streams);
    bool all_streams = true;
    for (size_t i = 0; i < history.count; i++) {
        ranks[i] = history.points[i].rank;
        streams[i] = history.points[i].streams;
        all_streams &= history.points[i].has_streams;
    }
    struct cp_forecast_series series = {
        .rank = ranks,
        .streams = all_streams ? streams : NULL,
        .n = history.count,
        .chart_size = history.chart_size,
    };
    struct cp_forecast *forecast = cp_malloc(sizeof *forecast);
    json_t *body = NULL;
    if (cp_forecast_run(&series, (int)horizon, forecast))
        body = forecast_json(id, &history, &sp, forecast);
    PGresult *stored = NULL;
    if (body) {
        st = cp_tracks_repo_stored_forecast(db, id, sp.kind, sp.region, sp.period, (int)horizon,
                                            &stored, err, sizeof err);
        /* no rows: the track is not on the latest chart, or nothing is stored */
        if (st != CP_OK && st != CP_ERR_NOT_FOUND) {
            json_decref(body);
            free(forecast);
            free(ranks);
            free(streams);
            cp_tracks_repo_history_cleanup(&history);
            return repo_failure(reply, st, "stored forecast", err);
        }
        json_object_set_new(body, "pooled", pooled_json(stored));
        if (stored)
            PQclear(stored);
    }
    free(forecast);
    free(ranks);
    free(streams);
    cp_tracks_repo_history_cleanup(&history);
    if (!body)
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "the forecast could not be computed");
    return cp_reply_json(reply, body);
}

/* ---- GET /v1/tracks/{id}/regions ----------------------------------------------------- */

/* A cell as a JSON integer, null when the cell is NULL. */
static json_t *cell_int(const PGresult *res, int row, int col)
{
    bool present;
    long long v = cp_pg_int(res, row, col, &present);
    return nullable_int(present, v);
}

static json_t *region_json(const PGresult *res, int row, const char *period)
{
    bool loaded = !strcmp(PQgetvalue(res, row, CP_TRC_CHART_LOADED), "t");
    bool on_chart = !strcmp(PQgetvalue(res, row, CP_TRC_ON_CHART), "t");
    json_t *r = json_object();
    json_object_set_new(r, "region", json_string(PQgetvalue(res, row, CP_TRC_REGION)));
    json_object_set_new(r, "name", json_string(PQgetvalue(res, row, CP_TRC_REGION_NAME)));
    json_object_set_new(r, "chart_loaded", json_boolean(loaded));
    json_object_set_new(r, "on_chart", json_boolean(on_chart));
    if (!on_chart)
        return r;
    json_object_set_new(r, "track_id", json_string(PQgetvalue(res, row, CP_TRC_TRACK_ID)));
    json_object_set_new(r, "rank", cell_int(res, row, CP_TRC_RANK));
    json_object_set_new(r, "streams", cell_int(res, row, CP_TRC_STREAMS));
    json_object_set_new(r, "previous_rank", cell_int(res, row, CP_TRC_PREVIOUS_RANK));
    json_object_set_new(r, "movement", nullable_string(cp_pg_text(res, row, CP_TRC_MOVEMENT)));
    json_object_set_new(r, "peak_rank", cell_int(res, row, CP_TRC_PEAK_RANK));
    set_periods(r, period, "on_chart", cell_int(res, row, CP_TRC_PERIODS_ON_CHART));
    json_object_set_new(r, "run_source", json_string(PQgetvalue(res, row, CP_TRC_RUN_SOURCE)));
    return r;
}

cp_status cp_tracks_regions(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    char id[23];
    const char *date, *period, *kind;
    cp_status st;
    if ((st = track_id_param(req, reply, id)) != CP_OK ||
        (st = cp_param_date_or_latest(req, reply, &date)) != CP_OK ||
        (st = cp_param_period(req, reply, &period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &kind)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    PGresult *res;
    char err[512];
    st = cp_tracks_repo_regions(db, id, date, period, kind, &res, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no track with id '%s' has been loaded", id);
    if (st != CP_OK)
        return repo_failure(reply, st, "track's regions", err);
    if (PQgetisnull(res, 0, CP_TRC_REGION)) {
        PQclear(res);
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND,
                                "track '%s' has never been on a %s %s chart", id, kind, period);
    }

    /* build JSON */
    json_t *regions = json_array();
    for (int row = 0; row < PQntuples(res); row++)
        json_array_append_new(regions, region_json(res, row, period));
    json_t *body = json_object();
    json_object_set_new(body, "track",
                        json_pack("{s:s, s:s, s:s}", "id", id, "name",
                                  PQgetvalue(res, 0, CP_TRC_TRACK_NAME), "song_id",
                                  PQgetvalue(res, 0, CP_TRC_SONG_ID)));
    json_object_set_new(body, "date", json_string(PQgetvalue(res, 0, CP_TRC_DATE)));
    json_object_set_new(body, "period", json_string(period));
    json_object_set_new(body, "chart_kind", json_string(kind));
    json_object_set_new(body, "regions", regions);
    PQclear(res);
    return cp_reply_json(reply, body);
}
