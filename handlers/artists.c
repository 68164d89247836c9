/* The artist endpoints: the leaderboard and one artist, validated, read, shaped as JSON. */
#include "handlers/artists.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/series.h"
#include "core/spotify_id.h"
#include "db/artists_repo.h"
#include "db/pgresult.h"
#include "handlers/csv.h"
#include "handlers/params.h"

static json_t *nullable_int(bool present, long long v)
{
    return present ? json_integer((json_int_t)v) : json_null();
}

/* An artist by public id: the Spotify id once enriched, else "pa-" and 16 hex digits of
 * the name's MD5 (stable across reloads and databases). */
static json_t *artist_ref(const char *artist_id, const char *spotify_id, const char *name)
{
    json_t *ref = json_object();
    json_object_set_new(ref, "id", json_string(artist_id));
    json_object_set_new(ref, "spotify_id", spotify_id ? json_string(spotify_id) : json_null());
    json_object_set_new(ref, "name", json_string(name));
    return ref;
}

static json_t *leaderboard_row_json(const struct cp_leaderboard_row *r)
{
    json_t *row = json_object();
    json_object_set_new(row, "rank", json_integer((json_int_t)r->rank));
    json_object_set_new(row, "artist", artist_ref(r->artist_id, r->spotify_id, r->name));
    json_object_set_new(row, "streams", nullable_int(r->has_streams, r->streams));
    json_object_set_new(row, "entries", json_integer((json_int_t)r->entries));
    json_object_set_new(row, "charts", json_integer((json_int_t)r->charts));
    json_object_set_new(row, "number_one_entries", json_integer((json_int_t)r->number_one_entries));
    json_object_set_new(row, "number_one_songs", json_integer((json_int_t)r->number_one_songs));
    json_object_set_new(row, "songs", json_integer((json_int_t)r->songs));
    return row;
}

cp_status cp_artists_leaderboard(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    /* days, weeks (charts) and number_ones (number_one_entries): the names of SPEC 6 */
    static const char *const by_choices[] = {
        "streams", "entries", "charts", "number_one_entries", "number_one_songs",
        "songs",   "days",    "weeks",  "number_ones",        NULL};
    static const char *const role_choices[] = {"all", "lead", NULL};
    struct cp_leaderboard_query q;
    bool csv;
    cp_status st;
    if ((st = cp_param_region(req, reply, &q.series.region)) != CP_OK ||
        (st = cp_param_period(req, reply, &q.series.period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &q.series.chart_kind)) != CP_OK ||
        (st = cp_param_range(req, reply, &q.from, &q.to)) != CP_OK ||
        (st = cp_param_choice(req, reply, "by", by_choices, "streams", &q.by)) != CP_OK ||
        (st = cp_param_choice(req, reply, "role", role_choices, "all", &q.role)) != CP_OK ||
        (st = cp_param_limit(req, reply, &q.limit)) != CP_OK ||
        (st = cp_csv_negotiate(req, reply, &csv)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_leaderboard board;
    char err[512];
    st = cp_artists_repo_leaderboard(db, &q, &board, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no %s %s chart for region '%s' has been loaded",
                                q.series.chart_kind, q.series.period, q.series.region);
    if (st != CP_OK) {
        cp_log_error("leaderboard query failed: %s", err);
        return cp_reply_problem(reply, st, "the leaderboard could not be read from the database");
    }

    /* build */
    json_t *rows = json_array();
    for (size_t i = 0; i < board.count; i++)
        json_array_append_new(rows, leaderboard_row_json(&board.rows[i]));
    json_t *body = json_object();
    json_object_set_new(body, "region", json_string(q.series.region));
    json_object_set_new(body, "period", json_string(q.series.period));
    json_object_set_new(body, "chart_kind", json_string(q.series.chart_kind));
    json_object_set_new(body, "from", json_string(board.from));
    json_object_set_new(body, "to", json_string(board.to));
    json_object_set_new(body, "by", json_string(q.by));
    json_object_set_new(body, "role", json_string(q.role));
    json_object_set_new(body, "rows", rows);
    cp_artists_repo_leaderboard_cleanup(&board);

    /* respond */
    if (csv) {
        static const char *const columns[] = {
            "rank",    "artist.id", "artist.spotify_id",  "artist.name",      "streams",
            "entries", "charts",    "number_one_entries", "number_one_songs", "songs",
            NULL};
        return cp_csv_reply_rows(reply, body, "rows", columns);
    }
    return cp_reply_json(reply, body);
}

/* A Spotify artist id, or the public id of an artist without one: "pa-" and 16 lowercase
 * hex digits. */
static bool artist_id_valid(const char *id)
{
    if (cp_spotify_id_valid(id))
        return true;
    if (strncmp(id, "pa-", 3) != 0 || strlen(id) != 19)
        return false;
    for (const char *p = id + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static json_t *artist_json(const struct cp_artist *a, const struct cp_artists_series *series)
{
    json_t *body = artist_ref(a->artist_id, a->spotify_id, a->name);
    json_t *genres = a->genres_json ? json_loads(a->genres_json, 0, NULL) : NULL;
    json_object_set_new(body, "genres", genres ? genres : json_null());
    json_object_set_new(body, "popularity", nullable_int(a->has_popularity, a->popularity));
    json_object_set_new(body, "followers", nullable_int(a->has_followers, a->followers));
    json_object_set_new(body, "region", json_string(series->region));
    json_object_set_new(body, "period", json_string(series->period));
    json_object_set_new(body, "chart_kind", json_string(series->chart_kind));

    json_t *stats = json_object();
    json_object_set_new(stats, "songs", json_integer((json_int_t)a->songs));
    json_object_set_new(stats, "entries", json_integer((json_int_t)a->entries));
    json_object_set_new(stats, "number_one_entries",
                        json_integer((json_int_t)a->number_one_entries));
    json_object_set_new(stats, "number_one_songs", json_integer((json_int_t)a->number_one_songs));
    json_object_set_new(stats, "best_rank", nullable_int(a->has_best_rank, a->best_rank));
    json_object_set_new(stats, "total_streams",
                        nullable_int(a->has_total_streams, a->total_streams));
    json_object_set_new(stats, "first_date",
                        a->first_date ? json_string(a->first_date) : json_null());
    json_object_set_new(stats, "last_date", a->last_date ? json_string(a->last_date) : json_null());
    json_object_set_new(body, "stats", stats);

    json_t *tracks = json_array();
    for (size_t i = 0; i < a->track_count; i++) {
        const struct cp_artist_track *t = &a->track_list[i];
        json_t *track = json_object();
        json_object_set_new(track, "id", json_string(t->track_id));
        json_object_set_new(track, "name", json_string(t->name));
        json_object_set_new(track, "role", json_string(t->role));
        json_object_set_new(track, "peak_rank", json_integer((json_int_t)t->peak_rank));
        json_object_set_new(track, cp_period_on_chart(series->period),
                            json_integer((json_int_t)t->periods_on_chart));
        json_object_set_new(track, "history_complete", json_boolean(t->history_complete));
        json_object_set_new(track, "total_streams",
                            nullable_int(t->has_total_streams, t->total_streams));
        json_array_append_new(tracks, track);
    }
    json_object_set_new(body, "tracks", tracks);
    return body;
}

cp_status cp_artists_show(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    const char *id = cp_request_param(req, "id");
    if (!id || !artist_id_valid(id))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "id: must be a 22-character Spotify artist id or a public "
                                "artist id ('pa-' and 16 hex digits) (got '%.40s')",
                                id ? id : "");
    struct cp_artists_series series;
    int limit;
    cp_status st;
    if ((st = cp_param_region(req, reply, &series.region)) != CP_OK ||
        (st = cp_param_period(req, reply, &series.period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &series.chart_kind)) != CP_OK ||
        (st = cp_param_limit(req, reply, &limit)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_artist artist;
    char err[512];
    st = cp_artists_repo_find(db, id, &series, limit, &artist, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no artist with id '%s'", id);
    if (st != CP_OK) {
        cp_log_error("artist query failed: %s", err);
        return cp_reply_problem(reply, st, "the artist could not be read from the database");
    }

    /* build */
    json_t *body = artist_json(&artist, &series);
    cp_artists_repo_cleanup(&artist);

    /* respond */
    return cp_reply_json(reply, body);
}

/* ---- per region and over time ------------------------------------------------------- */

/* A cell as a JSON integer, null when the cell is NULL. */
static json_t *cell_int(const PGresult *res, int row, int col)
{
    bool present;
    long long v = cp_pg_int(res, row, col, &present);
    return nullable_int(present, v);
}

static json_t *result_artist_ref(const PGresult *res)
{
    return artist_ref(PQgetvalue(res, 0, CP_ARC_ID), cp_pg_text(res, 0, CP_ARC_SPOTIFY_ID),
                      PQgetvalue(res, 0, CP_ARC_NAME));
}

/* The path's artist id, refused with a 400 naming `id` when malformed. */
static cp_status artist_id_param(const struct cp_request *req, struct cp_reply *reply,
                                 const char **id)
{
    *id = cp_request_param(req, "id");
    if (*id && artist_id_valid(*id))
        return CP_OK;
    return cp_reply_problem(reply, CP_ERR_INVALID,
                            "id: must be a 22-character Spotify artist id or a public "
                            "artist id ('pa-' and 16 hex digits) (got '%.40s')",
                            *id ? *id : "");
}

/* The repo's answer: CP_OK to go on, else the problem set in reply (res is cleared). */
static cp_status repo_answer(struct cp_reply *reply, cp_status st, PGresult *res, int empty_col,
                             const char *id, const char *what, const char *err,
                             const struct cp_artists_series *series)
{
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no artist with id '%s'", id);
    if (st != CP_OK) {
        cp_log_error("%s query failed: %s", what, err);
        return cp_reply_problem(reply, st, "the %s could not be read from the database", what);
    }
    if (PQgetisnull(res, 0, empty_col)) {
        PQclear(res);
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND, "artist '%s' has no %s %s chart entry%s%s",
                                id, series->chart_kind, series->period,
                                series->region ? " in region " : "",
                                series->region ? series->region : "");
    }
    return CP_OK;
}

static json_t *artist_region_json(const PGresult *res, int row)
{
    json_t *r = json_object();
    json_object_set_new(r, "region", json_string(PQgetvalue(res, row, CP_ARGC_REGION)));
    json_object_set_new(r, "name", json_string(PQgetvalue(res, row, CP_ARGC_REGION_NAME)));
    json_object_set_new(r, "chart_loaded",
                        json_boolean(!strcmp(PQgetvalue(res, row, CP_ARGC_CHART_LOADED), "t")));
    json_object_set_new(r, "entries", cell_int(res, row, CP_ARGC_ENTRIES));
    json_object_set_new(r, "best_rank", cell_int(res, row, CP_ARGC_BEST_RANK));
    json_object_set_new(r, "best_track",
                        PQgetisnull(res, row, CP_ARGC_BEST_TRACK_ID)
                            ? json_null()
                            : json_pack("{s:s, s:s, s:s}", "id",
                                        PQgetvalue(res, row, CP_ARGC_BEST_TRACK_ID), "name",
                                        PQgetvalue(res, row, CP_ARGC_BEST_TRACK_NAME), "song_id",
                                        PQgetvalue(res, row, CP_ARGC_BEST_SONG_ID)));
    json_object_set_new(r, "streams", cell_int(res, row, CP_ARGC_STREAMS));
    return r;
}

cp_status cp_artists_regions(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    const char *id, *date;
    struct cp_artists_series series = {.region = NULL};
    cp_status st;
    if ((st = artist_id_param(req, reply, &id)) != CP_OK ||
        (st = cp_param_date_or_latest(req, reply, &date)) != CP_OK ||
        (st = cp_param_period(req, reply, &series.period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &series.chart_kind)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    PGresult *res = NULL;
    char err[512];
    st = cp_artists_repo_regions(db, id, date, series.period, series.chart_kind, &res, err,
                                 sizeof err);
    if ((st = repo_answer(reply, st, res, CP_ARGC_REGION, id, "artist's regions", err, &series)) !=
        CP_OK)
        return st;

    /* build JSON */
    json_t *regions = json_array();
    for (int row = 0; row < PQntuples(res); row++)
        json_array_append_new(regions, artist_region_json(res, row));
    json_t *body = json_object();
    json_object_set_new(body, "artist", result_artist_ref(res));
    json_object_set_new(body, "date", json_string(PQgetvalue(res, 0, CP_ARGC_DATE)));
    json_object_set_new(body, "period", json_string(series.period));
    json_object_set_new(body, "chart_kind", json_string(series.chart_kind));
    json_object_set_new(body, "regions", regions);
    PQclear(res);
    return cp_reply_json(reply, body);
}

static json_t *stream_point_json(const PGresult *res, int row)
{
    json_t *p = json_object();
    json_object_set_new(p, "date", json_string(PQgetvalue(res, row, CP_ASC_BUCKET)));
    json_object_set_new(p, "streams", cell_int(res, row, CP_ASC_STREAMS));
    json_object_set_new(p, "chart_streams", cell_int(res, row, CP_ASC_CHART_STREAMS));
    const char *share = cp_pg_text(res, row, CP_ASC_SHARE);
    json_object_set_new(p, "share", share ? json_real(strtod(share, NULL)) : json_null());
    json_object_set_new(p, "entries", cell_int(res, row, CP_ASC_ENTRIES));
    json_object_set_new(p, "charts", cell_int(res, row, CP_ASC_CHARTS));
    json_object_set_new(p, "artist_charts", cell_int(res, row, CP_ASC_ARTIST_CHARTS));
    return p;
}

cp_status cp_artists_streams(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    static const char *const role_choices[] = {"all", "lead", NULL};
    static const char *const granularities[] = {"day", "week", "month", NULL};
    const char *id;
    struct cp_artist_streams_query q;
    cp_status st;
    if ((st = artist_id_param(req, reply, &id)) != CP_OK ||
        (st = cp_param_region(req, reply, &q.series.region)) != CP_OK ||
        (st = cp_param_period(req, reply, &q.series.period)) != CP_OK ||
        (st = cp_param_kind(req, reply, &q.series.chart_kind)) != CP_OK ||
        (st = cp_param_choice(req, reply, "role", role_choices, "all", &q.role)) != CP_OK ||
        (st = cp_param_choice(req, reply, "granularity", granularities, "day", &q.granularity)) !=
            CP_OK ||
        (st = cp_param_range(req, reply, &q.from, &q.to)) != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    PGresult *res = NULL;
    char err[512];
    st = cp_artists_repo_streams(db, id, &q, &res, err, sizeof err);
    if (st != CP_OK)
        return repo_answer(reply, st, res, CP_ASC_BUCKET, id, "artist's streams", err, &q.series);

    /* build JSON: no chart in the range is an empty series, not an error */
    json_t *points = json_array();
    for (int row = 0; row < PQntuples(res); row++)
        if (!PQgetisnull(res, row, CP_ASC_BUCKET))
            json_array_append_new(points, stream_point_json(res, row));
    json_t *body = json_object();
    json_object_set_new(body, "artist", result_artist_ref(res));
    json_object_set_new(body, "region", json_string(q.series.region));
    json_object_set_new(body, "period", json_string(q.series.period));
    json_object_set_new(body, "chart_kind", json_string(q.series.chart_kind));
    json_object_set_new(body, "role", json_string(q.role));
    json_object_set_new(body, "granularity", json_string(q.granularity));
    json_object_set_new(body, "points", points);
    PQclear(res);
    return cp_reply_json(reply, body);
}
