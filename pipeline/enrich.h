/* `chartpulse enrich`: track, album and artist metadata from the Spotify Web API for the ids
 * not enriched yet. Batch routes first (50 tracks, 20 albums, 50 artists a call), one
 * request per id once a batch route answers 403/404; each batch is committed as it
 * completes, so a run that stops keeps what it did and the next run goes on from there. */
#ifndef CP_ENRICH_H
#define CP_ENRICH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/status.h"

/* Store one Web API object (borrowed) in the caller's transaction. requested_id is the id
 * it was asked for, which keys the row (NULL = the object's own id). A track object also
 * stores what it says of its album and replaces the track's credits with its artists. An
 * album object is the full one (GET /albums). */
cp_status cp_enrich_store_track(PGconn *conn, const json_t *track, const char *requested_id,
                                char *err, size_t errlen);

/* The subcommand. Exit status: 0 done, 1 failed (one line on stderr), 2 usage,
 * CP_SPOTIFY_EXIT_STOPPED when Spotify asked it to stop (what is left is said). */
int cp_enrich_main(int argc, char **argv);

#endif
