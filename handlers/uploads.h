/* POST /v1/uploads: a chart CSV in the body (Bearer admin token), landed in the raw zone and
 * the catalog like `chartpulse ingest`, then loaded like `chartpulse load`.
 *
 * Query: filename (required, 1..255 characters; region, period, kind and date are read from
 * it as ingest does), and region, period (daily|weekly), kind (regional|viral), date
 * (YYYY-MM-DD) for what the name does not say. The body's cap is the server's request body
 * cap (413 beyond it, http.c). Answers the catalog object (catalog.h's shape): 201 when it
 * was new and is now loaded, 200 when the same bytes were uploaded before (nothing changes).
 * Errors: 404 when no admin token is configured, 401 for a missing/wrong token, 400 naming
 * the parameter (or `body` when it is empty), 422 for a file in no format chartpulse reads
 * (or whose rows as a whole cannot be read), 503 without the database. */
#ifndef CP_UPLOADS_H
#define CP_UPLOADS_H

#include "handlers/handler.h"

cp_status cp_uploads_create(const struct cp_request *req, struct cp_reply *reply);

#endif
