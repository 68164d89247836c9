/* Reading which regions have charts loaded, over which dates, and where each chart series
 * has gaps (reporting.series_coverage and reporting.series_gaps). */
#ifndef CP_REGIONS_REPO_H
#define CP_REGIONS_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* At most this many missing ranges are read per series: the largest (most charts missing;
 * the earliest of equal ones), listed in date order. A series with more says so
 * (ranges_truncated); reporting.series_gaps has them all. */
#define CP_REGIONS_MAX_RANGES 50

/* A run of consecutive periods of a series with no chart loaded. Strings are borrowed like
 * the series'. */
struct cp_missing_range {
    const char *from; /* YYYY-MM-DD: the date the first missing chart would have */
    const char *to;   /* YYYY-MM-DD: the date the last one would have (weekly: 7 days apart) */
    long long charts; /* charts missing in the range */
};

/* One chart series of one region and its coverage. Strings are borrowed from the struct
 * cp_region_coverage that holds the series and live until cp_regions_repo_cleanup. */
struct cp_region_series {
    const char *region;        /* global | two-letter code */
    const char *name;          /* the region's display name, e.g. "Sweden" */
    const char *chart_kind;    /* regional | viral | playlist */
    const char *period;        /* daily | weekly */
    const char *first_date;    /* YYYY-MM-DD */
    const char *last_date;     /* YYYY-MM-DD */
    long long charts;          /* charts loaded in the series */
    long long charts_expected; /* days (weekly: weeks) from first_date to last_date inclusive */
    long long charts_missing;  /* of those, the periods with no chart */
    const struct cp_missing_range *ranges; /* up to CP_REGIONS_MAX_RANGES, in date order */
    size_t range_count;
    bool ranges_truncated; /* the series has more missing ranges than ranges holds */
};

/* Every series with at least one chart, global first, then by region code, kind and
 * period. Owns series, their ranges and the strings they point at. */
struct cp_region_coverage {
    struct cp_region_series *series;
    size_t count;
    struct cp_missing_range *ranges; /* private: every series' ranges, back to back */
    PGresult *result;                /* private: backs the strings */
};

/* Reads the coverage into *out. Returns CP_OK, or CP_ERR_DB with the database's message in
 * err (and nothing in *out to clean up). */
cp_status cp_regions_repo_list(PGconn *db, struct cp_region_coverage *out, char *err,
                               size_t errlen);
void cp_regions_repo_cleanup(struct cp_region_coverage *coverage);

#endif
