/* The regions endpoint: chart coverage per region and series, as JSON or CSV. */
#include "handlers/coverage.h"

#include <string.h>

#include "core/log.h"
#include "db/regions_repo.h"
#include "handlers/csv.h"

/* The series object: coverage counts, then the missing ranges (the largest, in date order;
 * CP_REGIONS_MAX_RANGES at most, missing_ranges_truncated saying whether there are more). */
static json_t *series_json(const struct cp_region_series *s)
{
    json_t *ranges = json_array();
    for (size_t i = 0; i < s->range_count; i++)
        json_array_append_new(ranges, json_pack("{s:s, s:s, s:I}", "from", s->ranges[i].from, "to",
                                                s->ranges[i].to, "charts",
                                                (json_int_t)s->ranges[i].charts));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:b}", "chart_kind", s->chart_kind,
                     "period", s->period, "first_date", s->first_date, "last_date", s->last_date,
                     "charts", (json_int_t)s->charts, "charts_expected",
                     (json_int_t)s->charts_expected, "charts_missing",
                     (json_int_t)s->charts_missing, "missing_ranges", ranges,
                     "missing_ranges_truncated", s->ranges_truncated);
}

cp_status cp_regions_index(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    bool csv;
    cp_status st = cp_csv_negotiate(req, reply, &csv);
    if (st != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_region_coverage coverage;
    char err[512];
    st = cp_regions_repo_list(db, &coverage, err, sizeof err);
    if (st != CP_OK) {
        cp_log_error("regions query failed: %s", err);
        return cp_reply_problem(reply, st, "the regions could not be read from the database");
    }

    /* build */
    if (csv) {
        json_t *rows = json_array();
        for (size_t i = 0; i < coverage.count; i++) {
            json_t *row = series_json(&coverage.series[i]);
            json_object_set_new(row, "region", json_string(coverage.series[i].region));
            json_object_set_new(row, "name", json_string(coverage.series[i].name));
            json_array_append_new(rows, row);
        }
        cp_regions_repo_cleanup(&coverage);
        /* one row per series: the ranges are a list, which a CSV row has no room for */
        static const char *const columns[] = {
            "region",    "name",   "chart_kind",      "period",         "first_date",
            "last_date", "charts", "charts_expected", "charts_missing", NULL};
        return cp_csv_reply_rows(reply, rows, NULL, columns);
    }
    json_t *regions = json_array();
    json_t *current = NULL; /* borrowed: the last region object appended */
    for (size_t i = 0; i < coverage.count; i++) {
        const struct cp_region_series *s = &coverage.series[i];
        if (!current || strcmp(json_string_value(json_object_get(current, "region")), s->region)) {
            current = json_pack("{s:s, s:s, s:[]}", "region", s->region, "name", s->name, "series");
            json_array_append_new(regions, current);
        }
        json_array_append_new(json_object_get(current, "series"), series_json(s));
    }
    cp_regions_repo_cleanup(&coverage);

    /* respond */
    return cp_reply_json(reply, json_pack("{s:o}", "regions", regions));
}
