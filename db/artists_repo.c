/* SQL for artists. The leaderboard is reporting.artist_leaderboard itself, so the API and
 * BI tools give the same numbers; it reads core.track_month for whole months and the fact
 * table only for partial months at either end of the range. */
#include "db/artists_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/pgresult.h"

/* The defaults (series' first and last chart) come from core.chart's primary key; the
 * left join keeps the bounds row when the leaderboard is empty, so "no rows" means the
 * range could not be resolved. */
static const char LEADERBOARD_SQL[] =
    "with bounds as ("
    "  select coalesce($4::date, (select min(chart_date) from core.chart"
    "                             where chart_kind = $1 and region = $2 and period = $3)) as f,"
    "         coalesce($5::date, (select max(chart_date) from core.chart"
    "                             where chart_kind = $1 and region = $2 and period = $3)) as t"
    ")"
    " select to_char(b.f, 'YYYY-MM-DD'), to_char(b.t, 'YYYY-MM-DD'),"
    "        l.leaderboard_rank, l.artist_id, l.artist_spotify_id, l.artist_name, l.streams,"
    "        l.entries, l.charts, l.number_one_entries, l.number_one_songs, l.songs"
    " from bounds b"
    " left join lateral reporting.artist_leaderboard($2, $3, b.f, b.t, $6, $7, $8::integer, $1) l"
    "   on true"
    " where b.f is not null and b.t is not null"
    " order by l.leaderboard_rank";

/* The artist with their stats in one series; $1 a public id (or Spotify id). The lateral
 * filter on artist_id reaches the view's grouping, so only this artist's credits are
 * read. */
static const char ARTIST_SQL[] =
    "select a.public_id, a.spotify_id, a.name, array_to_json(a.genres)::text, a.popularity,"
    "       a.followers, s.songs, s.entries, s.number_one_entries, s.number_one_songs,"
    "       s.best_rank, s.total_streams, to_char(s.first_date, 'YYYY-MM-DD'),"
    "       to_char(s.last_date, 'YYYY-MM-DD'), a.artist_id"
    " from core.artist a"
    " left join lateral ("
    "   select * from reporting.artist_stats s"
    "   where s.artist_id = a.public_id and s.chart_kind = $2 and s.region = $3"
    "     and s.period = $4 and s.credit_role = 'all'"
    " ) s on true"
    " where a.public_id = $1 or a.spotify_id = $1"
    " order by a.spotify_id = $1 desc limit 1";

static const char TRACKS_SQL[] =
    "select t.track_id, t.track_name, c.role, t.peak_rank, t.periods_on_chart,"
    "       t.total_streams, t.history_complete"
    " from core.track_credit c"
    " join reporting.track_stats t on t.track_id = c.track_id"
    " where c.artist_id = $1::bigint and t.chart_kind = $2 and t.region = $3 and t.period = $4"
    " order by t.total_streams desc nulls last, t.peak_rank, t.periods_on_chart desc, t.track_id"
    " limit $5::integer";

cp_status cp_artists_repo_leaderboard(PGconn *db, const struct cp_leaderboard_query *q,
                                      struct cp_leaderboard *out, char *err, size_t errlen)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", q->limit);
    const char *params[] = {q->series.chart_kind,
                            q->series.region,
                            q->series.period,
                            q->from,
                            q->to,
                            q->by,
                            q->role,
                            limit_text};
    PGresult *res = PQexecParams(db, LEADERBOARD_SQL, 8, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    memset(out, 0, sizeof *out);
    out->result = res;
    snprintf(out->from, sizeof out->from, "%s", PQgetvalue(res, 0, 0));
    snprintf(out->to, sizeof out->to, "%s", PQgetvalue(res, 0, 1));
    out->rows = cp_calloc((size_t)rows, sizeof *out->rows);
    for (int row = 0; row < rows; row++) {
        if (PQgetisnull(res, row, 2))
            continue; /* the bounds row of an empty leaderboard */
        struct cp_leaderboard_row *r = &out->rows[out->count++];
        r->rank = cp_pg_int(res, row, 2, NULL);
        r->artist_id = PQgetvalue(res, row, 3);
        r->spotify_id = cp_pg_text(res, row, 4);
        r->name = PQgetvalue(res, row, 5);
        r->streams = cp_pg_int(res, row, 6, &r->has_streams);
        r->entries = cp_pg_int(res, row, 7, NULL);
        r->charts = cp_pg_int(res, row, 8, NULL);
        r->number_one_entries = cp_pg_int(res, row, 9, NULL);
        r->number_one_songs = cp_pg_int(res, row, 10, NULL);
        r->songs = cp_pg_int(res, row, 11, NULL);
    }
    return CP_OK;
}

void cp_artists_repo_leaderboard_cleanup(struct cp_leaderboard *board)
{
    free(board->rows);
    board->rows = NULL;
    board->count = 0;
    PQclear(board->result);
    board->result = NULL;
}

cp_status cp_artists_repo_find(PGconn *db, const char *id, const struct cp_artists_series *series,
                               int limit, struct cp_artist *out, char *err, size_t errlen)
{
    const char *params[] = {id, series->chart_kind, series->region, series->period};
    PGresult *res = PQexecParams(db, ARTIST_SQL, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    memset(out, 0, sizeof *out);
    out->artist_result = res;
    out->artist_id = PQgetvalue(res, 0, 0);
    out->spotify_id = cp_pg_text(res, 0, 1);
    out->name = PQgetvalue(res, 0, 2);
    out->genres_json = cp_pg_text(res, 0, 3);
    out->popularity = cp_pg_int(res, 0, 4, &out->has_popularity);
    out->followers = cp_pg_int(res, 0, 5, &out->has_followers);
    out->songs = cp_pg_int(res, 0, 6, NULL);
    out->entries = cp_pg_int(res, 0, 7, NULL);
    out->number_one_entries = cp_pg_int(res, 0, 8, NULL);
    out->number_one_songs = cp_pg_int(res, 0, 9, NULL);
    out->best_rank = cp_pg_int(res, 0, 10, &out->has_best_rank);
    out->total_streams = cp_pg_int(res, 0, 11, &out->has_total_streams);
    out->first_date = cp_pg_text(res, 0, 12);
    out->last_date = cp_pg_text(res, 0, 13);
    out->internal_id = cp_pg_int(res, 0, 14, NULL);

    char artist_text[24], limit_text[16];
    snprintf(artist_text, sizeof artist_text, "%lld", out->internal_id);
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    const char *track_params[] = {artist_text, series->chart_kind, series->region, series->period,
                                  limit_text};
    res = PQexecParams(db, TRACKS_SQL, 5, NULL, track_params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(out->artist_result);
        out->artist_result = NULL;
        return cp_pg_failed(res, err, errlen);
    }
    out->tracks_result = res;
    int rows = PQntuples(res);
    out->track_list = cp_calloc(rows ? (size_t)rows : 1, sizeof *out->track_list);
    for (int row = 0; row < rows; row++) {
        struct cp_artist_track *t = &out->track_list[out->track_count++];
        t->track_id = PQgetvalue(res, row, 0);
        t->name = PQgetvalue(res, row, 1);
        t->role = PQgetvalue(res, row, 2);
        t->peak_rank = cp_pg_int(res, row, 3, NULL);
        t->periods_on_chart = cp_pg_int(res, row, 4, NULL);
        t->total_streams = cp_pg_int(res, row, 5, &t->has_total_streams);
        t->history_complete = PQgetvalue(res, row, 6)[0] == 't';
    }
    return CP_OK;
}

void cp_artists_repo_cleanup(struct cp_artist *artist)
{
    free(artist->track_list);
    artist->track_list = NULL;
    artist->track_count = 0;
    PQclear(artist->artist_result);
    PQclear(artist->tracks_result);
    artist->artist_result = artist->tracks_result = NULL;
}

/* The artist (unknown: no rows) on one date in every region, with the best-ranked track's
 * name and song; the region columns are NULL when the artist never charted there. */
static const char REGIONS_SQL[] =
    "select a.public_id, a.spotify_id, a.name, to_char(r.chart_date, 'YYYY-MM-DD'), r.region,"
    "       r.region_name, r.chart_loaded, r.entries, r.best_rank, r.best_track_id, t.name,"
    "       coalesce(s.song_id, t.track_id), r.streams"
    " from core.artist a"
    " left join lateral reporting.artist_regions(a.public_id, $2::date, $3, $4) r on true"
    " left join core.track t on t.track_id = r.best_track_id"
    " left join core.song_member s on s.track_id = t.track_id"
    " where a.artist_id = reporting.artist_key($1)"
    " order by r.region <> 'global', r.region";

/* The artist (unknown: no rows) and their streams per bucket; the bucket columns are NULL
 * when the series has no chart in the range. */
static const char STREAMS_SQL[] =
    "select a.public_id, a.spotify_id, a.name, to_char(p.bucket, 'YYYY-MM-DD'), p.streams,"
    "       p.chart_streams, p.share, p.entries, p.charts, p.artist_charts"
    " from core.artist a"
    " left join lateral reporting.artist_streams(a.public_id, $2, $3, $4, $5, $6,"
    "   coalesce($7::date, '-infinity'), coalesce($8::date, 'infinity')) p on true"
    " where a.artist_id = reporting.artist_key($1)"
    " order by p.bucket";

cp_status cp_artists_repo_regions(PGconn *db, const char *id, const char *date, const char *period,
                                  const char *kind, PGresult **out, char *err, size_t errlen)
{
    const char *params[] = {id, date, period, kind};
    return cp_pg_rows(db, REGIONS_SQL, 4, params, out, err, errlen);
}

cp_status cp_artists_repo_streams(PGconn *db, const char *id,
                                  const struct cp_artist_streams_query *q, PGresult **out,
                                  char *err, size_t errlen)
{
    const char *params[] = {id,      q->series.region, q->series.period, q->series.chart_kind,
                            q->role, q->granularity,   q->from,          q->to};
    return cp_pg_rows(db, STREAMS_SQL, 8, params, out, err, errlen);
}
