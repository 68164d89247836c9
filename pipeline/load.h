/* `chartpulse load`: every cataloged raw object not yet loaded -> validated rows staged by
 * COPY -> merged into the core tables in one transaction per object. Bad rows go to
 * etl.reject with their line, text and reason; they never stop the good rows. */
#ifndef CP_LOAD_H
#define CP_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"
#include "db/catalog_repo.h"
#include "pipeline/rawstore.h"

struct cp_load_result {
    long long rows_loaded;
    long long rows_rejected;
    bool streamed;      /* by the streamed path (load_stream.h), not the set-based merge */
    char *warnings;     /* what the reader noticed about the object as a whole ("ignored extra
                         * columns: ..."), or NULL; owned: the caller frees it */
    bool marked_failed; /* the load failed and the catalog now says so (see below) */
};

/* Loads one cataloged object. result->warnings may be set on any outcome. When the object
 * cannot be loaded (unreadable as a whole, no data rows, missing from the raw zone, refused
 * by the database) err says why and the object is marked failed with it in the catalog, so
 * later loads skip it until retried; a failure of the run rather than of the object (the raw
 * zone or the database unreachable, a transient database error: CP_ERR_IO, CP_ERR_UPSTREAM,
 * CP_ERR_UNAUTHORIZED, CP_ERR_CONFLICT, or CP_ERR_DB with the connection gone) leaves it
 * pending for the next load. */
cp_status cp_load_object(PGconn *conn, struct cp_rawstore *store, const struct cp_raw_object *obj,
                         struct cp_load_result *result, char *err, size_t errlen);

/* Escapes s for one field of PostgreSQL's COPY text format and appends it to b. */
struct cp_buf;
void cp_copy_escape(struct cp_buf *b, const char *s);

/* The subcommand. */
int cp_load_main(int argc, char **argv);

#endif
