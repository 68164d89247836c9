/* Spotify ids (track, artist, album, playlist): 22 base62 characters, written bare, as a
 * spotify: URI or as an open.spotify.com URL. The one parser every layer uses: chart files'
 * uri/url columns, API path parameters, Web API answers, --playlist. */
#ifndef CP_SPOTIFY_ID_H
#define CP_SPOTIFY_ID_H

#include <stdbool.h>

#include "core/status.h"

/* A Spotify id is 22 base62 characters; with its NUL. */
#define CP_SPOTIFY_ID_SIZE 23

/* True when id is exactly 22 base62 characters. */
bool cp_spotify_id_valid(const char *id);

/* Reads the id out of a bare id, a `spotify:<kind>:<id>` URI (also the legacy
 * `spotify:user:<user>:<kind>:<id>`) or an open.spotify.com URL
 * (`[https://]open.spotify.com/[intl-xx/][embed/]<kind>/<id>[/][?si=...][#...]`), ignoring
 * surrounding blanks. kind is "track", "artist", "album" or "playlist"; a URI or URL of
 * another kind or another host is refused. On success writes the id into out and returns
 * CP_OK, else CP_ERR_INVALID (out untouched). */
cp_status cp_spotify_parse_id(const char *text, const char *kind, char out[CP_SPOTIFY_ID_SIZE]);

#endif
