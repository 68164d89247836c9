/* GET /v1/artists/leaderboard and GET /v1/artists/{id}. */
#ifndef CP_ARTISTS_H
#define CP_ARTISTS_H

#include "handlers/handler.h"

/* Query: region (default global), period (daily|weekly), kind (regional|viral), from, to
 * (default the series' first / latest chart; from <= to), by (streams|entries|days|
 * number_ones, default streams), role (all|lead, default all), limit (1..1000, default
 * 100), format (json|csv). The numbers are reporting.artist_leaderboard's. Answers (200):
 *
 *   {"region": "global", "period": "daily", "chart_kind": "regional",
 *    "from": "2024-01-01", "to": "2024-12-31", "by": "streams", "role": "all",
 *    "rows": [{"rank": 1,
 *              "artist": {"id": "<Spotify id or numeric id>", "spotify_id": "..." | null,
 *                         "name": "..."},
 *              "streams": 123 | null, "entries": 10, "days": 5, "number_ones": 0,
 *              "tracks": 2}, ...]}
 *
 * CSV columns: rank,artist_id,artist_spotify_id,artist_name,streams,entries,days,
 * number_ones,tracks. Errors: CP_ERR_INVALID naming the parameter; CP_ERR_NOT_FOUND when
 * from or to is left to default and the series has no chart; CP_ERR_DB. */
cp_status cp_artists_leaderboard(const struct cp_request *req, struct cp_reply *reply);

/* Path: id, a 22-character Spotify id or chartpulse's numeric artist id (1-18 digits).
 * Query: region, period, kind (the series the stats and tracks are for; default global
 * daily regional), limit (tracks, default 100). Answers (200):
 *
 *   {"id": "...", "artist_id": 12, "spotify_id": "..." | null, "name": "...",
 *    "genres": ["..."] | null, "popularity": 0..100 | null, "followers": n | null,
 *    "region": "global", "period": "daily", "chart_kind": "regional",
 *    "stats": {"tracks": 3, "entries": 40, "number_ones": 2, "best_rank": 1 | null,
 *              "total_streams": n | null, "first_date": "..." | null,
 *              "last_date": "..." | null},
 *    "tracks": [{"id": "...", "name": "...", "role": "lead"|"featured", "peak_rank": 1,
 *                "total_days": 12, "total_streams": n | null}, ...]}
 *
 * stats credit the artist on every track they are credited on (role all), as
 * reporting.artist_stats does. Errors: CP_ERR_INVALID naming the parameter,
 * CP_ERR_NOT_FOUND for an unknown artist, CP_ERR_DB. */
cp_status cp_artists_show(const struct cp_request *req, struct cp_reply *reply);

/* GET /v1/artists/{id}/regions?date=&period=&kind=: the artist (credited on the track, any
 * role) on one chart date (default/latest: the latest they charted on anywhere) in every
 * region whose series has a chart: {"artist", "date", "period", "chart_kind", "regions":
 * [{"region", "name", "chart_loaded", "entries", "best_rank", "best_track", "streams"}]}.
 * CP_ERR_NOT_FOUND when the artist is unknown or never charted there. */
cp_status cp_artists_regions(const struct cp_request *req, struct cp_reply *reply);
/* GET /v1/artists/{id}/streams?region=&period=&kind=&role=&granularity=&from=&to=: the
 * artist's chart streams per bucket beside the chart's total: {"artist", "region",
 * "period", "chart_kind", "role", "granularity", "points": [{"date", "streams",
 * "chart_streams", "share", "entries", "charts", "artist_charts"}]}. CP_ERR_NOT_FOUND when
 * the artist is unknown. */
cp_status cp_artists_streams(const struct cp_request *req, struct cp_reply *reply);

#endif
