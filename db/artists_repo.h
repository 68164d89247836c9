/* Reading artists: the leaderboard (reporting.artist_leaderboard, the same function BI
 * tools call) and one artist with their statistics (reporting.artist_stats) and charting
 * tracks (reporting.track_stats). */
#ifndef CP_ARTISTS_REPO_H
#define CP_ARTISTS_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* A chart series: kind, region, period. All static or borrowed from the caller. */
struct cp_artists_series {
    const char *chart_kind; /* regional | viral */
    const char *region;     /* global | two-letter code */
    const char *period;     /* daily | weekly */
};

struct cp_leaderboard_query {
    struct cp_artists_series series;
    const char *from; /* YYYY-MM-DD, or NULL for the series' first chart */
    const char *to;   /* YYYY-MM-DD, or NULL for the series' latest chart */
    const char *by;   /* streams | entries | charts | number_one_entries | number_one_songs |
                         songs (days, weeks and number_ones: the older names, accepted) */
    const char *role; /* all | lead */
    int limit;
};

/* One leaderboard row. Strings are borrowed from the struct cp_leaderboard holding it. */
struct cp_leaderboard_row {
    long long rank;
    const char *artist_id;  /* the stable public id: the Spotify id, else "pa-" + 16 hex */
    const char *spotify_id; /* NULL before enrichment */
    const char *name;
    long long streams;
    bool has_streams;             /* false when no charting track had streams (viral charts) */
    long long entries;            /* chart positions */
    long long charts;             /* charts with a track of theirs (loaded days or weeks) */
    long long number_one_entries; /* #1 chart positions */
    long long number_one_songs;   /* songs that reached #1 */
    long long songs;              /* songs charted (relinked ids once) */
};

struct cp_leaderboard {
    char from[11]; /* the range used, YYYY-MM-DD (defaults resolved) */
    char to[11];
    struct cp_leaderboard_row *rows;
    size_t count;
    PGresult *result; /* private */
};

/* Reads the leaderboard q names. Returns CP_OK, CP_ERR_NOT_FOUND when a default bound was
 * wanted but the series has no chart, or CP_ERR_DB with the message in err. Only on CP_OK
 * is there anything to clean up. */
cp_status cp_artists_repo_leaderboard(PGconn *db, const struct cp_leaderboard_query *q,
                                      struct cp_leaderboard *out, char *err, size_t errlen);
void cp_artists_repo_leaderboard_cleanup(struct cp_leaderboard *board);

/* One charting track of an artist in a series. Strings borrowed from struct cp_artist. */
struct cp_artist_track {
    const char *track_id;
    const char *name;
    const char *role; /* lead | featured */
    long long peak_rank;
    long long periods_on_chart; /* loaded charts on: days on daily charts, weeks on weekly */
    bool history_complete;
    long long total_streams;
    bool has_total_streams;
};

/* An artist, their statistics in one series (credit rule `all`) and their tracks there. */
struct cp_artist {
    const char *artist_id;  /* the stable public id */
    const char *spotify_id; /* NULL before enrichment */
    const char *name;
    const char *genres_json; /* a JSON array of strings, or NULL when unknown */
    long long popularity, followers;
    bool has_popularity, has_followers;
    /* stats; all zero/absent when the artist never charted in the series */
    long long songs, entries, number_one_entries, number_one_songs, best_rank, total_streams;
    bool has_best_rank, has_total_streams;
    const char *first_date, *last_date; /* NULL when never charted in the series */
    struct cp_artist_track *track_list;
    size_t track_count;
    long long internal_id;                   /* private: core.artist.artist_id */
    PGresult *artist_result, *tracks_result; /* private */
};

/* Finds the artist by public id (a Spotify id, or "pa-" and 16 hex digits), with
 * their statistics and up to limit tracks in series (most streams first). Returns CP_OK,
 * CP_ERR_NOT_FOUND, or CP_ERR_DB with the message in err. Only on CP_OK is there
 * anything to clean up. */
cp_status cp_artists_repo_find(PGconn *db, const char *id, const struct cp_artists_series *series,
                               int limit, struct cp_artist *out, char *err, size_t errlen);
void cp_artists_repo_cleanup(struct cp_artist *artist);

/* The columns every row of the two queries below starts with: the artist. */
enum cp_artist_ref_column { CP_ARC_ID, CP_ARC_SPOTIFY_ID, CP_ARC_NAME, CP_ARC_FIRST };

/* An artist (public or Spotify id) on one chart date (NULL: the latest they charted on
 * anywhere) in every region of the series (reporting.artist_regions), one row a region,
 * global first. CP_OK with *out (the caller PQclears it; a single row whose
 * CP_ARGC_REGION is NULL when the artist never charted in the series), CP_ERR_NOT_FOUND
 * when the artist is unknown, CP_ERR_DB. */
enum cp_artist_region_column {
    CP_ARGC_DATE = CP_ARC_FIRST,
    CP_ARGC_REGION,
    CP_ARGC_REGION_NAME,
    CP_ARGC_CHART_LOADED,
    CP_ARGC_ENTRIES,
    CP_ARGC_BEST_RANK,
    CP_ARGC_BEST_TRACK_ID,
    CP_ARGC_BEST_TRACK_NAME,
    CP_ARGC_BEST_SONG_ID,
    CP_ARGC_STREAMS,
};
cp_status cp_artists_repo_regions(PGconn *db, const char *id, const char *date, const char *period,
                                  const char *kind, PGresult **out, char *err, size_t errlen);

/* An artist's streams per bucket in one series (reporting.artist_streams). */
struct cp_artist_streams_query {
    struct cp_artists_series series;
    const char *role;        /* all | lead */
    const char *granularity; /* day | week | month */
    const char *from, *to;   /* YYYY-MM-DD, or NULL: open */
};
enum cp_artist_streams_column {
    CP_ASC_BUCKET = CP_ARC_FIRST,
    CP_ASC_STREAMS,
    CP_ASC_CHART_STREAMS,
    CP_ASC_SHARE,
    CP_ASC_ENTRIES,
    CP_ASC_CHARTS,
    CP_ASC_ARTIST_CHARTS,
};
/* CP_OK with *out, one row a bucket (a single row whose CP_ASC_BUCKET is NULL when the
 * series has no chart in the range), CP_ERR_NOT_FOUND when the artist is unknown,
 * CP_ERR_DB. */
cp_status cp_artists_repo_streams(PGconn *db, const char *id,
                                  const struct cp_artist_streams_query *q, PGresult **out,
                                  char *err, size_t errlen);

#endif
