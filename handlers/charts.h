/* GET /v1/charts/{region}/{date}: one published chart. */
#ifndef CP_CHARTS_H
#define CP_CHARTS_H

#include "handlers/handler.h"

/* Path: region (`global` or a two-letter lower-case code), date (YYYY-MM-DD or `latest`).
 * Query: period (daily|weekly, default daily), kind (regional|viral, default regional),
 * limit (1..1000, default 100). Calls cp_request_db after validating. Answers (200):
 *
 *   {"region": "global", "period": "daily", "chart_kind": "regional",
 *    "date": "2024-05-02",
 *    "previous_date": "2024-05-01" | null,   -- the series' chart before this one
 *    "entries": [
 *      {"rank": 1,
 *       "track": {"id": "<22-char Spotify id>", "name": "..."},
 *       "artists": "A, B",              -- the credit line as the chart printed it
 *       "streams": 123456 | null,       -- null on viral charts
 *       "previous_rank": 2 | null,      -- null unless on the previous chart
 *       "movement": "up"|"down"|"same"|"new"|"re-entry" | null,
 *       "peak_rank": 1 | null, "days_on_chart": 12 | null}, ...],
 *    "count": 100}                       -- entries returned (after limit)
 *
 * Errors: CP_ERR_INVALID naming the parameter, CP_ERR_NOT_FOUND when the series has no
 * chart on that date, CP_ERR_DB when the query fails. */
cp_status cp_charts_show(const struct cp_request *req, struct cp_reply *reply);

/* GET /v1/charts/{region}/dates?period=&kind=: the dates of every loaded chart of the
 * series, oldest first: {"region", "period", "chart_kind", "dates": ["2025-05-01", ...],
 * "count"}. CP_ERR_NOT_FOUND when the series has no chart. */
cp_status cp_charts_dates(const struct cp_request *req, struct cp_reply *reply);

#endif
