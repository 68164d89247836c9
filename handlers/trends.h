/* GET /v1/trends/movers, /v1/trends/new-entries, /v1/trends/streams, /v1/trends/momentum.
 * All read one chart series: region (default global), period (daily|weekly, default
 * daily), and for movers and new entries kind (regional|viral, default regional). All
 * take format (json|csv, or Accept: text/csv) and call cp_request_db after validating.
 * Errors: CP_ERR_INVALID naming the parameter, CP_ERR_NOT_FOUND when the series has no
 * chart on `date` (or none at all for latest), CP_ERR_DB. */
#ifndef CP_TRENDS_H
#define CP_TRENDS_H

#include "handlers/handler.h"

/* Query: date (YYYY-MM-DD or latest), limit (per list). Answers (200):
 *
 *   {"region": "global", "period": "daily", "chart_kind": "regional",
 *    "date": "2024-05-02", "previous_date": "2024-05-01" | null,
 *    "gainers": [{"rank": 3, "previous_rank": 9, "rank_change": 6,
 *                 "track": {"id": "...", "name": "..."}, "artists": "...",
 *                 "streams": n | null}, ...],     -- rank_change desc, then rank
 *    "losers": [...]}                             -- rank_change asc, then rank
 *
 * rank_change = previous_rank - rank, against the series' previous chart
 * (reporting.movers). CSV: one row per mover with a `list` column (gainers|losers):
 * list,rank,previous_rank,rank_change,track_id,track_name,artists,streams. */
cp_status cp_trends_movers(const struct cp_request *req, struct cp_reply *reply);

/* Query: date, limit. Answers (200) the chart's entries whose movement is `new` (never
 * charted in the series before) or `re-entry`, by rank, in the ChartEntry shape of
 * charts.h: {"region", "period", "chart_kind", "date", "previous_date", "entries": [...],
 * "count"}. CSV columns: rank,track_id,track_name,artists,streams,movement,peak_rank,
 * days_on_chart. */
cp_status cp_trends_new_entries(const struct cp_request *req, struct cp_reply *reply);

/* Query: from, to (charts dated in the range; open when absent), granularity (day|week|
 * month, default day), kind. Answers (200) from reporting.daily_totals, oldest first:
 *
 *   {"region": "global", "period": "daily", "chart_kind": "regional",
 *    "granularity": "week", "from": "..." | null, "to": "..." | null,
 *    "points": [{"date": "2024-04-29", "streams": n | null, "charts": 7}, ...]}
 *
 * date is the bucket's first day (weeks start on Monday, months on the 1st); charts counts
 * the charts in the bucket; streams is null when none of them had streams (viral). Only
 * buckets with charts appear. CSV columns: date,streams,charts. */
cp_status cp_trends_streams(const struct cp_request *req, struct cp_reply *reply);

/* Query: date, window (1..28 charts, default 7), limit. Regional charts only (viral
 * charts have no streams). For each track on the chart of `date`: recent_streams = its
 * streams summed over the `window` charts of the series ending with that chart,
 * earlier_streams = over the `window` charts before those (a chart the track was not on
 * adds 0; a series with fewer charts uses what it has); growth = recent / earlier - 1
 * rounded to 6 decimals, null when earlier_streams is 0. Ordered by growth (null last),
 * then recent_streams desc, then rank. Answers (200):
 *
 *   {"region", "period", "date", "window": 7,
 *    "tracks": [{"track": {...}, "artists": "...", "rank": 4, "recent_streams": n,
 *                "earlier_streams": n, "growth": 0.25 | null}, ...]}
 *
 * CSV columns: rank,track_id,track_name,artists,recent_streams,earlier_streams,growth. */
cp_status cp_trends_momentum(const struct cp_request *req, struct cp_reply *reply);

#endif
