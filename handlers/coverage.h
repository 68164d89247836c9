/* GET /v1/regions: the regions that have charts, with their coverage per chart series. */
#ifndef CP_COVERAGE_H
#define CP_COVERAGE_H

#include "handlers/handler.h"

/* Query: format (json|csv; or Accept: text/csv). Calls cp_request_db after validating.
 * Answers (200), global first, then by region code:
 *
 *   {"regions": [
 *     {"region": "global", "name": "Global",
 *      "series": [{"chart_kind": "regional", "period": "daily",
 *                  "first_date": "2024-01-01", "last_date": "2024-05-02",
 *                  "charts": 123}, ...]}, ...]}
 *
 * CSV: one row per series, columns region,name,chart_kind,period,first_date,last_date,charts.
 * Errors: CP_ERR_INVALID naming `format`, CP_ERR_DB. */
cp_status cp_regions_index(const struct cp_request *req, struct cp_reply *reply);

#endif
