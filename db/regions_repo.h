/* Reading which regions have charts loaded, and over which dates, per chart series. */
#ifndef CP_REGIONS_REPO_H
#define CP_REGIONS_REPO_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* One chart series of one region and its coverage. Strings are borrowed from the struct
 * cp_region_coverage that holds the series and live until cp_regions_repo_cleanup. */
struct cp_region_series {
    const char *region;     /* global | two-letter code */
    const char *name;       /* the region's display name, e.g. "Sweden" */
    const char *chart_kind; /* regional | viral | playlist */
    const char *period;     /* daily | weekly */
    const char *first_date; /* YYYY-MM-DD */
    const char *last_date;  /* YYYY-MM-DD */
    long long charts;       /* charts loaded in the series */
};

/* Every series with at least one chart, global first, then by region code, kind and
 * period. Owns series and the strings they point at. */
struct cp_region_coverage {
    struct cp_region_series *series;
    size_t count;
    PGresult *result; /* private: backs the strings */
};

/* Reads the coverage into *out. Returns CP_OK, or CP_ERR_DB with the database's message in
 * err (and nothing in *out to clean up). */
cp_status cp_regions_repo_list(PGconn *db, struct cp_region_coverage *out, char *err,
                               size_t errlen);
void cp_regions_repo_cleanup(struct cp_region_coverage *coverage);

#endif
