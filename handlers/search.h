/* GET /v1/search: tracks and artists by name, accent- and case-insensitive. */
#ifndef CP_SEARCH_H
#define CP_SEARCH_H

#include "handlers/handler.h"

/* Query: q (required, 1..200 characters of UTF-8), limit (per list, default 100). A name
 * matches when it contains q once both lose their accents and case ("beyonce" finds
 * "Beyoncé", "ROSE" finds "ROSÉ"); exact matches come first, then prefixes, then a word
 * starting with q, then the rest. Calls cp_request_db after validating. Answers (200):
 *
 *   {"query": "beyonce",
 *    "tracks": [{"id": "...", "name": "...", "artists": "..."}, ...],
 *    "artists": [{"id": "<Spotify id or numeric id>", "spotify_id": "..." | null,
 *                 "name": "..."}, ...]}
 *
 * Errors: CP_ERR_INVALID naming `q` or `limit`, CP_ERR_DB. */
cp_status cp_search_index(const struct cp_request *req, struct cp_reply *reply);

#endif
