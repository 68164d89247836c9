/* `chartpulse ingest`: land chart files unchanged in the raw zone and record them in the
 * catalog. Format, region, period and date come from the header and file name; flags
 * fill in what a file lacks. The same content ingested twice is recognised and skipped. */
#ifndef CP_INGEST_H
#define CP_INGEST_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"
#include "pipeline/chart_csv.h"
#include "pipeline/rawstore.h"

/* What the caller knows about a file beyond its bytes (flags); empty strings = not given. */
struct cp_ingest_overrides {
    enum cp_chart_format format; /* CP_FORMAT_UNKNOWN = detect */
    const char *chart_kind;
    const char *region;
    const char *period;
    const char *chart_date;
};

enum cp_ingest_outcome {
    CP_INGEST_NEW,
    CP_INGEST_DUPLICATE,       /* same bytes as a cataloged object of the same chart */
    CP_INGEST_DUPLICATE_OTHER, /* same bytes as an object cataloged as another chart: the
                                  source saved one chart under two names; err says which */
};

/* Ingests one file held in memory. name is its file name or path (for metadata and the
 * catalog). On success *outcome and *object_id (the new or the existing object) are set.
 * A file that cannot be read as a chart is refused with CP_ERR_FORMAT / CP_ERR_INVALID and
 * a message naming what is missing; rows are validated at load. */
cp_status cp_ingest_buffer(PGconn *conn, struct cp_rawstore *store, const char *name,
                           const char *data, size_t len, const struct cp_ingest_overrides *ovr,
                           enum cp_ingest_outcome *outcome, long long *object_id, char *err,
                           size_t errlen);

/* The subcommand. */
int cp_ingest_main(int argc, char **argv);

#endif
