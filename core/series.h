/* The chart series vocabulary: a series is (chart kind, region, period), and these are the
 * only values each may take, for files and flags, the API's parameters and the models.
 *
 * Regions: `global` plus lower-case ISO 3166-1 alpha-2 codes. The list is the one inserted
 * into core.region by db/migrations/0001_core.sql; the two must stay identical
 * (test_regions checks every code here against that file). */
#ifndef CP_SERIES_H
#define CP_SERIES_H

#include <stdbool.h>
#include <stddef.h>

struct cp_region {
    const char *code; /* "global" or an ISO code, lower case */
    const char *name; /* as core.region.name, e.g. "United States" */
};

/* True when code is exactly a known region code (case-sensitive: codes are lower case). */
bool cp_region_known(const char *code);

/* Maps a country name as the Kaggle data writes it ("Argentina", "Global", "United States",
 * "Korea"), matched case-insensitively and ignoring surrounding spaces, or an existing code
 * in any case ("AR", "global"), to its code. Returns a static string, or NULL when unknown. */
const char *cp_region_from_name(const char *name_or_code);

/* The known regions, in the migration's order; *count receives their number. Static. */
const struct cp_region *cp_region_list(size_t *count);

/* Periods: "daily" (the default) and "weekly" charts. NULL-terminated. */
extern const char *const cp_periods[];
/* Chart kinds: "regional" (Top 200, the default) and "viral" (Viral 50). NULL-terminated. */
extern const char *const cp_chart_kinds[];

/* True when s is exactly one of the periods / chart kinds. */
bool cp_period_valid(const char *s);
bool cp_chart_kind_valid(const char *s);
/* Days between two consecutive charts of the period: 7 for "weekly", else 1. */
int cp_period_days(const char *period);
/* The unit a period's counts are named by (SPEC 4a: a field named days counts days):
 * "weeks" for "weekly", else "days". */
const char *cp_period_unit(const char *period);
/* The name of a count of charts on chart: "weeks_on_chart" for "weekly", else
 * "days_on_chart". */
const char *cp_period_on_chart(const char *period);

#endif
