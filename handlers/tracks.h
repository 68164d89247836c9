/* GET /v1/tracks/{id} (metadata, credits, album, one chart-run summary per series),
 * /v1/tracks/{id}/history (positions in one series, JSON or CSV) and
 * /v1/tracks/{id}/forecast (the next `horizon` charts, analytics/forecast.h). {id} is a
 * bare id, a spotify:track: URI or an open.spotify.com/track URL. */
#ifndef CP_TRACKS_H
#define CP_TRACKS_H

#include "handlers/handler.h"

cp_status cp_tracks_show(const struct cp_request *req, struct cp_reply *reply);
cp_status cp_tracks_history(const struct cp_request *req, struct cp_reply *reply);
cp_status cp_tracks_forecast(const struct cp_request *req, struct cp_reply *reply);
/* GET /v1/tracks/{id}/regions?date=&period=&kind=: the track's song (every relinked id) on
 * one chart date (default/latest: the latest it charted on anywhere) in every region whose
 * series has a chart: {"track", "date", "period", "chart_kind", "regions": [{"region",
 * "name", "chart_loaded", "on_chart", and when on chart "track_id", "rank", "streams",
 * "previous_rank", "movement", "peak_rank", "days_on_chart"|"weeks_on_chart",
 * "run_source"}]}. CP_ERR_NOT_FOUND when the track is unknown or never charted there. */
cp_status cp_tracks_regions(const struct cp_request *req, struct cp_reply *reply);

#endif
