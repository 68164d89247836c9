/* The chart regions chartpulse knows: `global` plus lower-case ISO 3166-1 alpha-2 codes.
 * The list is the one inserted into core.region by db/migrations/0001_core.sql; the two
 * must stay identical (test_regions checks every code here against that file). */
#ifndef CP_REGIONS_H
#define CP_REGIONS_H

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

#endif
