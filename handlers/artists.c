/* The artist endpoints: the leaderboard and one artist, validated, read, shaped as JSON. */
#include "handlers/artists.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/series.h"
#include "core/spotify_id.h"
#include "db/artists_repo.h"
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
