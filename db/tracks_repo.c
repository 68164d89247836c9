/* SQL for tracks: metadata, credits and runs by primary key or the track index of
 * core.chart_run; histories through reporting.track_history (chart_entry_track_idx). */
#include "db/tracks_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/pgresult.h"

/* A release date printed to the precision the Web API gave (2019, 2019-05, 2019-05-17). */
static const char TRACK_SQL[] =
    "select t.track_id, t.name, t.artist_names, coalesce(t.label, al.label), t.duration_ms,"
    "       t.explicit, t.isrc, t.popularity, t.album_id, al.name, al.album_type,"
    "       case al.release_date_precision"
    "         when 'year' then to_char(al.release_date, 'YYYY')"
    "         when 'month' then to_char(al.release_date, 'YYYY-MM')"
    "         else to_char(al.release_date, 'YYYY-MM-DD') end,"
    "       al.release_date_precision, al.label, al.images::text"
    " from core.track t left join core.album al on al.album_id = t.album_id"
    " where t.track_id = $1";

enum track_column {
    T_ID,
    T_NAME,
    T_ARTIST_NAMES,
    T_LABEL,
    T_DURATION,
    T_EXPLICIT,
    T_ISRC,
    T_POPULARITY,
    T_ALBUM_ID,
    T_ALBUM_NAME,
    T_ALBUM_TYPE,
    T_ALBUM_RELEASE,
    T_ALBUM_PRECISION,
    T_ALBUM_LABEL,
    T_ALBUM_IMAGES,
};

static const char CREDITS_SQL[] = "select a.public_id, a.spotify_id, a.name, c.role"
                                  " from core.track_credit c join core.artist a using (artist_id)"
                                  " where c.track_id = $1 order by c.position";

/* The global series first: it is the one most readers look for. */
static const char RUNS_SQL[] =
    "select chart_kind, region, period, to_char(debut_date, 'YYYY-MM-DD'), debut_rank,"
    "       to_char(peak_date, 'YYYY-MM-DD'), peak_rank, to_char(last_date, 'YYYY-MM-DD'),"
    "       last_rank, periods_at_1, periods_in_top10, periods_on_chart, longest_streak,"
    "       last_streak, reentries, total_streams, to_char(window_from, 'YYYY-MM-DD'),"
    "       to_char(window_to, 'YYYY-MM-DD'), history_complete, source_periods_on_chart,"
    "       source_peak_rank"
    " from reporting.track_stats where track_id = $1"
    " order by chart_kind, region <> 'global', region, period";

enum run_column {
    R_KIND,
    R_REGION,
    R_PERIOD,
    R_DEBUT_DATE,
    R_DEBUT_RANK,
    R_PEAK_DATE,
    R_PEAK_RANK,
    R_LAST_DATE,
    R_LAST_RANK,
    R_AT_1,
    R_TOP10,
    R_TOTAL,
    R_LONGEST,
    R_STREAK,
    R_REENTRIES,
    R_STREAMS,
    R_WINDOW_FROM,
    R_WINDOW_TO,
    R_COMPLETE,
    R_SOURCE_PERIODS,
    R_SOURCE_PEAK,
};

/* The song's other ids; the first row carries the song id (a track of its own song when it
 * has no core.song_member row). */
static const char SONG_SQL[] =
    "with song as (select coalesce((select song_id from core.song_member where track_id = $1),"
    "                              $1) as song_id)"
    " select song.song_id, t.track_id, t.name, t.artist_names"
    " from song"
    " left join core.song_member m on m.song_id = song.song_id and m.track_id <> $1"
    " left join core.track t on t.track_id = m.track_id"
    " order by t.track_id nulls first";

/* The song's runs: every id of the song together, each chart counted once (two ids of one
 * song on one chart count as one day), over the same loaded charts as the track's. */
static const char SONG_RUNS_SQL[] =
    "with ids as ("
    "  select $1::text as track_id"
    "  union select m.track_id from core.song_member m"
    "  where m.song_id = (select song_id from core.song_member where track_id = $1)"
    "), charts as ("
    "  select e.chart_kind, e.region, e.period, e.chart_date, min(e.rank) as rank,"
    "         sum(e.streams) as streams"
    "  from ids join core.chart_entry e using (track_id)"
    "  group by 1, 2, 3, 4"
    ")"
    " select chart_kind, region, period, to_char(min(chart_date), 'YYYY-MM-DD'),"
    "        to_char(max(chart_date), 'YYYY-MM-DD'), min(rank), count(*),"
    "        count(*) filter (where rank = 1), count(*) filter (where rank <= 10), sum(streams)"
    " from charts group by 1, 2, 3"
    " order by chart_kind, region <> 'global', region, period";

/* Zero rows: no such track. One row with a NULL date: the track exists but has no position
 * in the series and range. The chart size is the most entries a chart of the series has
 * (ranks can have holes, so one chart's count may fall short). */
static const char HISTORY_SQL[] =
    "select t.name, to_char(h.chart_date, 'YYYY-MM-DD'), h.rank, h.streams, h.previous_rank,"
    "       h.movement, h.peak_rank, h.periods_on_chart, h.streak, h.run_source,"
    "       (select coalesce(max(c.entries), 0) from core.chart c"
    "        where c.chart_kind = $2 and c.region = $3 and c.period = $4)"
    " from core.track t"
    " left join lateral reporting.track_history(t.track_id, $3, $4,"
    "     coalesce($5::date, '-infinity'::date), coalesce($6::date, 'infinity'::date), $2) h"
    "   on true"
    " where t.track_id = $1"
    " order by h.chart_date";

enum history_column {
    H_NAME,
    H_DATE,
    H_RANK,
    H_STREAMS,
    H_PREVIOUS_RANK,
    H_MOVEMENT,
    H_PEAK_RANK,
    H_PERIODS,
    H_STREAK,
    H_RUN_SOURCE,
    H_CHART_SIZE,
};

static const char SERIES_SQL[] = "select track_id, rank, streams from core.chart_entry"
                                 " where chart_kind = $1 and region = $2 and period = $3"
                                 " order by track_id, chart_date";

static const char CHART_SIZE_SQL[] = "select coalesce(max(entries), 0) from core.chart"
                                     " where chart_kind = $1 and region = $2 and period = $3";

static void copy_message(char *err, size_t errlen, const char *message)
{
    snprintf(err, errlen, "%s", message);
    err[strcspn(err, "\n")] = '\0';
}

/* Runs sql with params; on failure copies the message to err and returns NULL. */
static PGresult *query(PGconn *db, const char *sql, int n, const char *const *params, char *err,
                       size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        copy_message(err, errlen, PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

cp_status cp_tracks_repo_find(PGconn *db, const char *track_id, struct cp_track *track, char *err,
                              size_t errlen)
{
    const char *params[] = {track_id};
    PGresult *meta = query(db, TRACK_SQL, 1, params, err, errlen);
    if (!meta)
        return CP_ERR_DB;
    if (PQntuples(meta) == 0) {
        PQclear(meta);
        return CP_ERR_NOT_FOUND;
    }
    PGresult *credits = query(db, CREDITS_SQL, 1, params, err, errlen);
    PGresult *runs = credits ? query(db, RUNS_SQL, 1, params, err, errlen) : NULL;
    PGresult *song = runs ? query(db, SONG_SQL, 1, params, err, errlen) : NULL;
    PGresult *song_runs = song ? query(db, SONG_RUNS_SQL, 1, params, err, errlen) : NULL;
    if (!song_runs) {
        PQclear(meta);
        PQclear(credits);
        PQclear(runs);
        PQclear(song);
        return CP_ERR_DB;
    }

    memset(track, 0, sizeof *track);
    track->results[0] = meta;
    track->results[1] = credits;
    track->results[2] = runs;
    track->results[3] = song;
    track->results[4] = song_runs;
    track->id = PQgetvalue(meta, 0, T_ID);
    track->name = PQgetvalue(meta, 0, T_NAME);
    track->artist_names = PQgetvalue(meta, 0, T_ARTIST_NAMES);
    track->label = cp_pg_text(meta, 0, T_LABEL);
    track->duration_ms = (int)cp_pg_int(meta, 0, T_DURATION, &track->has_duration_ms);
    track->has_explicit = !PQgetisnull(meta, 0, T_EXPLICIT);
    track->explicit_lyrics = track->has_explicit && PQgetvalue(meta, 0, T_EXPLICIT)[0] == 't';
    track->isrc = cp_pg_text(meta, 0, T_ISRC);
    track->popularity = (int)cp_pg_int(meta, 0, T_POPULARITY, &track->has_popularity);
    track->album_id = cp_pg_text(meta, 0, T_ALBUM_ID);
    track->album_name = cp_pg_text(meta, 0, T_ALBUM_NAME);
    track->album_type = cp_pg_text(meta, 0, T_ALBUM_TYPE);
    track->album_release_date = cp_pg_text(meta, 0, T_ALBUM_RELEASE);
    track->album_release_date_precision = cp_pg_text(meta, 0, T_ALBUM_PRECISION);
    track->album_label = cp_pg_text(meta, 0, T_ALBUM_LABEL);
    track->album_images = cp_pg_text(meta, 0, T_ALBUM_IMAGES);

    int n = PQntuples(credits);
    track->credits = cp_calloc((size_t)n + 1, sizeof *track->credits);
    for (int row = 0; row < n; row++) {
        struct cp_track_credit *c = &track->credits[track->credit_count++];
        c->artist_id = PQgetvalue(credits, row, 0);
        c->spotify_id = cp_pg_text(credits, row, 1);
        c->name = PQgetvalue(credits, row, 2);
        c->role = PQgetvalue(credits, row, 3);
    }

    n = PQntuples(runs);
    track->runs = cp_calloc((size_t)n + 1, sizeof *track->runs);
    for (int row = 0; row < n; row++) {
        struct cp_track_run *r = &track->runs[track->run_count++];
        r->chart_kind = PQgetvalue(runs, row, R_KIND);
        r->region = PQgetvalue(runs, row, R_REGION);
        r->period = PQgetvalue(runs, row, R_PERIOD);
        r->debut_date = PQgetvalue(runs, row, R_DEBUT_DATE);
        r->debut_rank = (int)cp_pg_int(runs, row, R_DEBUT_RANK, NULL);
        r->peak_date = PQgetvalue(runs, row, R_PEAK_DATE);
        r->peak_rank = (int)cp_pg_int(runs, row, R_PEAK_RANK, NULL);
        r->last_date = PQgetvalue(runs, row, R_LAST_DATE);
        r->last_rank = (int)cp_pg_int(runs, row, R_LAST_RANK, NULL);
        r->periods_at_1 = (int)cp_pg_int(runs, row, R_AT_1, NULL);
        r->periods_in_top10 = (int)cp_pg_int(runs, row, R_TOP10, NULL);
        r->periods_on_chart = (int)cp_pg_int(runs, row, R_TOTAL, NULL);
        r->longest_streak = (int)cp_pg_int(runs, row, R_LONGEST, NULL);
        r->current_streak = (int)cp_pg_int(runs, row, R_STREAK, NULL);
        r->reentries = (int)cp_pg_int(runs, row, R_REENTRIES, NULL);
        r->total_streams = cp_pg_int(runs, row, R_STREAMS, &r->has_total_streams);
        r->window_from = PQgetvalue(runs, row, R_WINDOW_FROM);
        r->window_to = PQgetvalue(runs, row, R_WINDOW_TO);
        r->history_complete = PQgetvalue(runs, row, R_COMPLETE)[0] == 't';
        r->source_periods_on_chart =
            (int)cp_pg_int(runs, row, R_SOURCE_PERIODS, &r->has_source_periods_on_chart);
        r->source_peak_rank = (int)cp_pg_int(runs, row, R_SOURCE_PEAK, &r->has_source_peak_rank);
    }

    n = PQntuples(song);
    track->song_id = PQgetvalue(song, 0, 0);
    track->song_tracks = cp_calloc((size_t)n + 1, sizeof *track->song_tracks);
    for (int row = 0; row < n; row++) {
        if (PQgetisnull(song, row, 1))
            continue;
        struct cp_song_track *o = &track->song_tracks[track->song_track_count++];
        o->id = PQgetvalue(song, row, 1);
        o->name = PQgetvalue(song, row, 2);
        o->artist_names = PQgetvalue(song, row, 3);
    }

    n = PQntuples(song_runs);
    track->song_runs = cp_calloc((size_t)n + 1, sizeof *track->song_runs);
    for (int row = 0; row < n; row++) {
        struct cp_song_run *r = &track->song_runs[track->song_run_count++];
        r->chart_kind = PQgetvalue(song_runs, row, 0);
        r->region = PQgetvalue(song_runs, row, 1);
        r->period = PQgetvalue(song_runs, row, 2);
        r->debut_date = PQgetvalue(song_runs, row, 3);
        r->last_date = PQgetvalue(song_runs, row, 4);
        r->peak_rank = (int)cp_pg_int(song_runs, row, 5, NULL);
        r->periods_on_chart = (int)cp_pg_int(song_runs, row, 6, NULL);
        r->periods_at_1 = (int)cp_pg_int(song_runs, row, 7, NULL);
        r->periods_in_top10 = (int)cp_pg_int(song_runs, row, 8, NULL);
        r->total_streams = cp_pg_int(song_runs, row, 9, &r->has_total_streams);
    }
    return CP_OK;
}

void cp_tracks_repo_cleanup(struct cp_track *track)
{
    free(track->credits);
    free(track->runs);
    free(track->song_tracks);
    free(track->song_runs);
    for (size_t i = 0; i < sizeof track->results / sizeof track->results[0]; i++)
        PQclear(track->results[i]);
    memset(track, 0, sizeof *track);
}

cp_status cp_tracks_repo_history(PGconn *db, const struct cp_track_history_query *q,
                                 struct cp_track_history *history, char *err, size_t errlen)
{
    const char *params[] = {q->track_id, q->chart_kind, q->region, q->period, q->from, q->to};
    PGresult *res = query(db, HISTORY_SQL, 6, params, err, errlen);
    if (!res)
        return CP_ERR_DB;
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    memset(history, 0, sizeof *history);
    history->result = res;
    history->track_name = PQgetvalue(res, 0, H_NAME);
    history->chart_size = (int)cp_pg_int(res, 0, H_CHART_SIZE, NULL);
    history->points = cp_calloc((size_t)rows, sizeof *history->points);
    for (int row = 0; row < rows; row++) {
        if (PQgetisnull(res, row, H_DATE))
            continue; /* the left join's row for a track without positions */
        struct cp_track_point *p = &history->points[history->count++];
        p->date = PQgetvalue(res, row, H_DATE);
        p->rank = (int)cp_pg_int(res, row, H_RANK, NULL);
        p->streams = cp_pg_int(res, row, H_STREAMS, &p->has_streams);
        p->previous_rank = (int)cp_pg_int(res, row, H_PREVIOUS_RANK, &p->has_previous_rank);
        p->movement = cp_pg_text(res, row, H_MOVEMENT);
        p->peak_rank = (int)cp_pg_int(res, row, H_PEAK_RANK, NULL);
        p->periods_on_chart = (int)cp_pg_int(res, row, H_PERIODS, NULL);
        p->streak = (int)cp_pg_int(res, row, H_STREAK, NULL);
        p->run_source = PQgetvalue(res, row, H_RUN_SOURCE);
    }
    return CP_OK;
}

void cp_tracks_repo_history_cleanup(struct cp_track_history *history)
{
    free(history->points);
    PQclear(history->result);
    memset(history, 0, sizeof *history);
}

cp_status cp_tracks_repo_series(PGconn *db, const char *chart_kind, const char *region,
                                const char *period, struct cp_series_tracks *series, char *err,
                                size_t errlen)
{
    const char *params[] = {chart_kind, region, period};
    PGresult *size = query(db, CHART_SIZE_SQL, 3, params, err, errlen);
    if (!size)
        return CP_ERR_DB;
    PGresult *res = query(db, SERIES_SQL, 3, params, err, errlen);
    if (!res) {
        PQclear(size);
        return CP_ERR_DB;
    }
    memset(series, 0, sizeof *series);
    series->chart_size = (int)cp_pg_int(size, 0, 0, NULL);
    PQclear(size);

    size_t rows = (size_t)PQntuples(res);
    series->offsets = cp_calloc(rows + 1, sizeof *series->offsets);
    series->rank = cp_calloc(rows + 1, sizeof *series->rank);
    series->streams = cp_calloc(rows + 1, sizeof *series->streams);
    bool any_streams = false;
    for (size_t row = 0; row < rows; row++) {
        int r = (int)row;
        if (row == 0 || strcmp(PQgetvalue(res, r, 0), PQgetvalue(res, r - 1, 0)))
            series->offsets[series->track_count++] = row;
        series->rank[row] = (int)cp_pg_int(res, r, 1, NULL);
        bool present;
        series->streams[row] = cp_pg_int(res, r, 2, &present);
        any_streams |= present;
    }
    series->offsets[series->track_count] = rows;
    PQclear(res);
    if (!any_streams) {
        free(series->streams);
        series->streams = NULL;
    }
    return CP_OK;
}

void cp_tracks_repo_series_cleanup(struct cp_series_tracks *series)
{
    free(series->offsets);
    free(series->rank);
    free(series->streams);
    memset(series, 0, sizeof *series);
}

/* The track (unknown: no rows) and its song on one date in every region; the region
 * columns are NULL when the song never charted in the series. */
static const char REGIONS_SQL[] =
    "select t.name, coalesce(s.song_id, t.track_id), to_char(r.chart_date, 'YYYY-MM-DD'),"
    "       r.region, r.region_name, r.chart_loaded, r.on_chart, r.track_id, r.rank, r.streams,"
    "       r.previous_rank, r.movement, r.peak_rank, r.periods_on_chart, r.run_source"
    " from core.track t"
    " left join core.song_member s using (track_id)"
    " left join lateral reporting.track_regions(t.track_id, $2::date, $3, $4) r on true"
    " where t.track_id = $1";

cp_status cp_tracks_repo_regions(PGconn *db, const char *track_id, const char *date,
                                 const char *period, const char *kind, PGresult **out, char *err,
                                 size_t errlen)
{
    const char *params[] = {track_id, date, period, kind};
    return cp_pg_rows(db, REGIONS_SQL, 4, params, out, err, errlen);
}

static const char STORED_FORECAST_SQL[] =
    "select f.horizon, to_char(f.origin_date + f.horizon *"
    "         case f.period when 'weekly' then 7 else 1 end, 'YYYY-MM-DD'),"
    "       f.model, f.rank, f.rank_low, f.rank_high, f.streams, f.streams_low, f.streams_high,"
    "       e.rank_mae, e.streams_mape, e.scored, e.rank_coverage, e.streams_coverage,"
    "       to_char(f.origin_date, 'YYYY-MM-DD')"
    " from core.track_forecast f join core.forecast_error e"
    "   using (chart_kind, region, period, horizon)"
    " where f.track_id = $1 and f.chart_kind = $2 and f.region = $3 and f.period = $4"
    "   and f.horizon <= $5::int"
    " order by f.horizon";

cp_status cp_tracks_repo_stored_forecast(PGconn *db, const char *track_id, const char *kind,
                                         const char *region, const char *period, int horizon,
                                         PGresult **out, char *err, size_t errlen)
{
    char h[16];
    snprintf(h, sizeof h, "%d", horizon);
    const char *params[] = {track_id, kind, region, period, h};
    return cp_pg_rows(db, STORED_FORECAST_SQL, 5, params, out, err, errlen);
}
