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

#endif
