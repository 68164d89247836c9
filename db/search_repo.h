/* Name search over tracks and artists, accent- and case-insensitive (core.search_key). */
#ifndef CP_SEARCH_REPO_H
#define CP_SEARCH_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* A track or an artist that matched. Strings are borrowed from struct cp_search_results. */
struct cp_search_hit {
    const char *id;         /* track: Spotify id; artist: public id (Spotify id, else pa-…) */
    const char *spotify_id; /* artist only: NULL before enrichment */
    const char *name;
    const char *artist_names; /* track only: the credit line */
    /* track only: its song, and its first and last chart date and best rank in any series
     * (NULL / 0 when it never charted) */
    const char *song_id, *first_date, *last_date;
    int best_rank;
};

struct cp_search_results {
    struct cp_search_hit *tracks;
    size_t track_count;
    struct cp_search_hit *artists;
    size_t artist_count;
    PGresult *track_result, *artist_result; /* private */
};

/* Tracks and artists whose name contains query, ignoring accents and case, at most limit
 * of each: exact matches first, then names starting with the query, then names with a
 * word starting with it, then any other; shorter names first within each. Returns CP_OK
 * or CP_ERR_DB with the message in err (nothing to clean up then). */
cp_status cp_search_repo_find(PGconn *db, const char *query, int limit,
                              struct cp_search_results *out, char *err, size_t errlen);
void cp_search_repo_cleanup(struct cp_search_results *results);

#endif
