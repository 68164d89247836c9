/* SQL of the Spotify Web API data: the metadata `chartpulse enrich` stores for tracks,
 * albums and artists, the ids the API does not know, and the bookkeeping of playlist
 * snapshots (`chartpulse ingest spotify`). */
#ifndef CP_ENRICH_REPO_H
#define CP_ENRICH_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

enum cp_enrich_kind { CP_ENRICH_TRACK, CP_ENRICH_ALBUM, CP_ENRICH_ARTIST, CP_ENRICH_KIND_COUNT };

/* "track", "album", "artist" (static). */
const char *cp_enrich_kind_name(enum cp_enrich_kind kind);

/* A Spotify id with its NUL. */
typedef char cp_enrich_id[23];

/* Up to limit ids of kind that are not enriched yet and not known to be missing, each
 * greater than after ("" = from the first), in id order. *ids is a new array (caller
 * frees); *count may be 0. */
cp_status cp_enrich_repo_pending(PGconn *conn, enum cp_enrich_kind kind, const char *after,
                                 int limit, cp_enrich_id **ids, size_t *count, char *err,
                                 size_t errlen);
/* How many ids of kind cp_enrich_repo_pending would still list. */
cp_status cp_enrich_repo_count_pending(PGconn *conn, enum cp_enrich_kind kind, long long *count,
                                       char *err, size_t errlen);

/* One transaction around a batch of stores; rollback does nothing outside a transaction. */
cp_status cp_enrich_repo_begin(PGconn *conn, char *err, size_t errlen);
cp_status cp_enrich_repo_commit(PGconn *conn, char *err, size_t errlen);
void cp_enrich_repo_rollback(PGconn *conn);

/* An album as a Web API object describes it. Strings are borrowed; NULL = the API did not
 * say. Numbers are -1 when absent. */
struct cp_album_row {
    const char *album_id;
    const char *name;
    const char *album_type;
    const char *release_date;           /* YYYY-MM-DD, the first day of the period */
    const char *release_date_precision; /* year | month | day; NULL iff release_date is */
    const char *label;
    const char *images_json; /* a JSON array */
    int popularity;
    int total_tracks;
    /* true: the full album object (GET /albums): label and popularity are stored as given
     * (NULL when missing) and the album counts as enriched. false: the simplified album
     * inside a track, which never carries them; what it lacks is left as it is. */
    bool full;
};

/* Inserts or updates the album. */
cp_status cp_enrich_repo_store_album(PGconn *conn, const struct cp_album_row *album, char *err,
                                     size_t errlen);

/* A track as a Web API track object describes it. Strings are borrowed; NULL = absent. */
struct cp_track_row {
    const char *track_id;
    const char *name;        /* fills an empty core.track.name only */
    const char *artist_line; /* "A, B": fills an empty core.track.artist_names only */
    const char *isrc;
    const char *album_id;     /* stored with cp_enrich_repo_store_album first */
    const char *artists_json; /* the object's `artists` array: the real credits */
    long long duration_ms;    /* -1 when absent */
    int explicit_flag;        /* 0, 1, or -1 when absent */
    int popularity;           /* -1 when absent */
};

/* Stores the track's metadata, marks it enriched and replaces its credits (provisional
 * ones included) with the real artists. A track not in core.track is left alone. */
cp_status cp_enrich_repo_store_track(PGconn *conn, const struct cp_track_row *track, char *err,
                                     size_t errlen);

/* An artist as a full Web API artist object describes it. */
struct cp_artist_row {
    const char *spotify_id;
    const char *name;
    const char *genres_json; /* a JSON array of strings; NULL when absent */
    const char *images_json; /* a JSON array; NULL when absent */
    int popularity;          /* -1 when absent */
    long long followers;     /* -1 when absent */
};

/* Stores the artist's metadata and marks it enriched. */
cp_status cp_enrich_repo_store_artist(PGconn *conn, const struct cp_artist_row *artist, char *err,
                                      size_t errlen);

/* Records that the API does not know id (http_status 404, or 0 for a null in a batch
 * answer); later runs skip it. */
cp_status cp_enrich_repo_mark_missing(PGconn *conn, enum cp_enrich_kind kind, const char *id,
                                      long http_status, const char *reason, char *err,
                                      size_t errlen);

/* *object_id receives the raw object the playlist chart of region and date (YYYY-MM-DD)
 * was loaded from, or 0 when there is no such chart. */
cp_status cp_enrich_repo_snapshot_object(PGconn *conn, const char *region, const char *date,
                                         long long *object_id, char *err, size_t errlen);

#endif
