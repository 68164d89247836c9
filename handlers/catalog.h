/* GET /v1/catalog (the raw objects landed in the raw zone, newest first) and
 * GET /v1/catalog/{object_id}/rejects (the rows of one object that failed validation). */
#ifndef CP_CATALOG_H
#define CP_CATALOG_H

#include "db/catalog_repo.h"
#include "handlers/handler.h"

/* Query: limit (1..1000, default 100), offset (>= 0, default 0), before (an object_id: only
 * older objects, for cursor paging), source (exact), region (`global` or a two-letter
 * code), status (pending|loaded|failed). Validates, then takes the database. Answers (200):
 *
 *   {"objects": [
 *      {"object_id": 42, "source": "charts.spotify.com", "format": "spotify_charts",
 *       "key": "source=.../name.<sha>.csv", "original_name": "regional-global-daily-...csv",
 *       "partition": {"chart_kind": "regional"|null, "region": "global"|null,
 *                     "period": "daily"|null, "chart_date": "2024-03-01"|null},
 *       "bytes": 12345, "sha256": "<64 hex>",
 *       "ingested_at": "2024-03-02T06:00:00.123456Z",
 *       "loaded_at": "..." | null, "rows_loaded": 200 | null, "rows_rejected": 0 | null,
 *       "load_error": "..." | null,
 *       "status": "pending"|"loaded"|"failed"}, ...],
 *    "count": 1, "limit": 100, "offset": 0,
 *    "next_before": 42 | null}      -- pass as `before` for the next page; null on the last
 *
 * Errors: CP_ERR_INVALID naming the parameter, CP_ERR_DB. */
/* Both answer CSV too (csv.h): one row per object / reject, the object's partition as
 * partition.chart_kind, partition.region, ... columns. */

/* One catalog object as the API shows it (also POST /v1/uploads' answer). New reference. */
json_t *cp_catalog_object_json(const struct cp_catalog_item *it);

cp_status cp_catalog_index(const struct cp_request *req, struct cp_reply *reply);

/* Path: object_id (a positive integer). Query: limit (1..1000, default 100), offset (>= 0).
 * Answers (200), rejects by line number:
 *
 *   {"object_id": 42, "total": 3, "count": 3, "limit": 100, "offset": 0,
 *    "rejects": [{"line_no": 7, "reason": "...", "raw_text": "..."}, ...]}
 *
 * Errors: CP_ERR_INVALID naming the parameter, CP_ERR_NOT_FOUND for an unknown object,
 * CP_ERR_DB. */
cp_status cp_catalog_rejects(const struct cp_request *req, struct cp_reply *reply);

#endif
