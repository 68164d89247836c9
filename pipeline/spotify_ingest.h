/* `chartpulse ingest spotify --playlist ID`: a snapshot of a playlist through the Web API.
 * Pages through GET /playlists/{id}/items following `next`, lands each page's JSON
 * unchanged in the raw zone and the catalog (format spotify-playlist), and loads the
 * snapshot as a chart of kind `playlist` (rank = position, no streams) through the same
 * stage and merge as chart files, in one transaction. */
#ifndef CP_SPOTIFY_INGEST_H
#define CP_SPOTIFY_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The catalog format of the pages it lands. */
#define CP_SPOTIFY_PLAYLIST_FORMAT "spotify-playlist"

/* The playlist entry a playlist item describes: its track object (`item`, or `track` as
 * apps in extended quota mode still get it), or NULL for what is not a Spotify track (a
 * local file, an episode, an unavailable track). Borrowed from item. */
const json_t *cp_spotify_ingest_item_track(const json_t *item);

/* The subcommand; argv[0] is "spotify". Exit status: 0 done, 1 failed (one line on stderr),
 * 2 usage, CP_SPOTIFY_EXIT_STOPPED when Spotify asked it to stop before the last page (a
 * snapshot is landed whole or not at all, so nothing is landed then). */
int cp_spotify_ingest_main(int argc, char **argv);

#endif
