/* Reading tracks: metadata with credits and album, chart-run summaries per series, one
 * track's history in a series, and every track's history in a series (for backtests). */
#ifndef CP_TRACKS_REPO_H
#define CP_TRACKS_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* One credited artist. Strings are borrowed from the cp_track holding it. */
struct cp_track_credit {
    const char *artist_id;  /* the stable public id: the Spotify id, else "pa-" + 16 hex */
    const char *spotify_id; /* NULL for a provisional artist (split from a chart line) */
    const char *name;
    const char *role; /* lead | featured */
};

/* One series the track charted in (reporting.track_stats): counted over the loaded charts
 * (periods: days on daily charts, weeks on weekly ones), with the window those charts
 * cover. Strings borrowed like the credits'. */
struct cp_track_run {
    const char *chart_kind, *region, *period;
    const char *debut_date, *peak_date, *last_date; /* YYYY-MM-DD */
    int debut_rank, peak_rank, last_rank;
    int periods_at_1, periods_in_top10, periods_on_chart;
    int longest_streak, current_streak, reentries;
    long long total_streams;
    bool has_total_streams;                        /* false on viral charts */
    const char *window_from, *window_to;           /* the series' loaded charts */
    bool history_complete;                         /* the track's debut lies inside the window */
    int source_periods_on_chart, source_peak_rank; /* the source's whole-history figures */
    bool has_source_periods_on_chart, has_source_peak_rank;
};

/* One series the track's song charted in: the song's ids counted together, each chart
 * once. */
struct cp_song_run {
    const char *chart_kind, *region, *period;
    const char *debut_date, *last_date;
    int peak_rank, periods_on_chart, periods_at_1, periods_in_top10;
    long long total_streams;
    bool has_total_streams;
};

/* Another track id of the track's song (relinked by Spotify). */
struct cp_song_track {
    const char *id, *name, *artist_names;
};

/* A track as GET /v1/tracks/{id} shows it. Optional fields are NULL / has_* false when the
 * column is NULL (not yet enriched). Owns its results; release with cp_tracks_repo_cleanup. */
struct cp_track {
    const char *id, *name, *artist_names;
    const char *label; /* the chart's label, else the album's; may be NULL */
    int duration_ms;
    bool has_duration_ms;
    bool explicit_lyrics, has_explicit;
    const char *isrc;
    int popularity;
    bool has_popularity;
    /* the album, when enrichment linked one (album_id non-NULL) */
    const char *album_id, *album_name, *album_type, *album_release_date,
        *album_release_date_precision, *album_label;
    const char *album_images; /* JSON text, or NULL */
    struct cp_track_credit *credits;
    size_t credit_count;
    struct cp_track_run *runs;
    size_t run_count;
    const char *song_id;               /* the song's id: the smallest of its track ids */
    struct cp_song_track *song_tracks; /* the song's other ids */
    size_t song_track_count;
    struct cp_song_run *song_runs;
    size_t song_run_count;
    PGresult *results[5]; /* private: back the strings */
};

/* Reads track track_id (22 base62 characters). CP_OK, CP_ERR_NOT_FOUND when unknown, or
 * CP_ERR_DB with the database's message in err. Only on CP_OK is there anything to clean. */
cp_status cp_tracks_repo_find(PGconn *db, const char *track_id, struct cp_track *track, char *err,
                              size_t errlen);
void cp_tracks_repo_cleanup(struct cp_track *track);

/* One chart position of a track (reporting.track_history). */
struct cp_track_point {
    const char *date; /* YYYY-MM-DD, borrowed */
    int rank;
    long long streams;
    bool has_streams;
    int previous_rank;
    bool has_previous_rank;
    const char *movement;                    /* NULL when not computed */
    int peak_rank, periods_on_chart, streak; /* periods: days, or weeks on weekly charts */
    const char *run_source;                  /* "source" or "derived" */
};

/* Which history to read. from/to are YYYY-MM-DD or NULL (open). */
struct cp_track_history_query {
    const char *track_id, *chart_kind, *region, *period, *from, *to;
};

/* A track's positions in one series, oldest first, and the series' chart size (the most
 * entries any of its charts has, 0 without charts). Release with
 * cp_tracks_repo_history_cleanup. */
struct cp_track_history {
    const char *track_name;
    struct cp_track_point *points;
    size_t count;
    int chart_size;
    PGresult *result; /* private */
};

/* CP_OK (points may be empty), CP_ERR_NOT_FOUND when the track is unknown, CP_ERR_DB. */
cp_status cp_tracks_repo_history(PGconn *db, const struct cp_track_history_query *q,
                                 struct cp_track_history *history, char *err, size_t errlen);
void cp_tracks_repo_history_cleanup(struct cp_track_history *history);

/* Every track's positions in one series: track i's observations are
 * rank/streams[offsets[i] .. offsets[i + 1]), oldest first. streams is NULL when no
 * position of the series has streams (viral charts). Owned arrays; release with
 * cp_tracks_repo_series_cleanup. */
struct cp_series_tracks {
    size_t track_count;
    size_t *offsets; /* track_count + 1 */
    int *rank;
    long long *streams;
    int chart_size;
};

cp_status cp_tracks_repo_series(PGconn *db, const char *chart_kind, const char *region,
                                const char *period, struct cp_series_tracks *series, char *err,
                                size_t errlen);
void cp_tracks_repo_series_cleanup(struct cp_series_tracks *series);

/* One track's song on one chart date (NULL: the latest it charted on) in every region of
 * the series (reporting.track_regions), one row a region, columns in enum
 * cp_track_region_column order. CP_OK with *out (the caller PQclears it; a single row whose
 * CP_TRC_REGION is NULL when the song never charted in the series), CP_ERR_NOT_FOUND when
 * the track is unknown, CP_ERR_DB. */
enum cp_track_region_column {
    CP_TRC_TRACK_NAME,
    CP_TRC_SONG_ID,
    CP_TRC_DATE,
    CP_TRC_REGION,
    CP_TRC_REGION_NAME,
    CP_TRC_CHART_LOADED,
    CP_TRC_ON_CHART,
    CP_TRC_TRACK_ID,
    CP_TRC_RANK,
    CP_TRC_STREAMS,
    CP_TRC_PREVIOUS_RANK,
    CP_TRC_MOVEMENT,
    CP_TRC_PEAK_RANK,
    CP_TRC_PERIODS_ON_CHART,
    CP_TRC_RUN_SOURCE,
};
/* The stored forecast of the track on its series' latest chart (migration 0016), by
 * horizon: horizon, date, model, rank, rank_low, rank_high, streams, streams_low,
 * streams_high, then the model's backtest at that horizon: rank_mae, streams_mape, scored,
 * rank_coverage, streams_coverage, and the origin date. No rows when none is stored. */
cp_status cp_tracks_repo_stored_forecast(PGconn *db, const char *track_id, const char *kind,
                                         const char *region, const char *period, int horizon,
                                         PGresult **out, char *err, size_t errlen);

cp_status cp_tracks_repo_regions(PGconn *db, const char *track_id, const char *date,
                                 const char *period, const char *kind, PGresult **out, char *err,
                                 size_t errlen);

#endif
