/* GET /v1/records: a series' records over a range of its charts. */
#ifndef CP_RECORDS_H
#define CP_RECORDS_H

#include "handlers/handler.h"

/* Query: region (default global), period, kind, from, to (default: the series' first and
 * last chart), limit (1..100, default 10). Answers (200), counted over the loaded charts
 * only and songs not ids (reporting.chart_records):
 *
 *   {"region", "period", "chart_kind", "from", "to" (the first and last loaded chart in the
 *    range), "charts", "charts_expected", "history_complete",
 *    "most_number_ones": [{"track", "artists", "days_at_1"|"weeks_at_1", "first_date",
 *                          "last_date"}],
 *    "longest_runs": [{"track", "artists", "length", "from", "to", "ongoing"}],
 *    "biggest_debuts": [{"track", "artists", "date", "rank", "streams"}],
 *    "most_streams": [{"track", "artists", "date", "rank", "streams"}]}
 *
 * CP_ERR_NOT_FOUND when the series has no chart in the range. */
cp_status cp_records_show(const struct cp_request *req, struct cp_reply *reply);

#endif
