/* SQL for regions: coverage and gaps per chart series, from the reporting views BI tools
 * read too (reporting.series_coverage, reporting.series_gaps), so both give one answer. */
#include "db/regions_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/pgresult.h"

/* One row per series and shown range (a series without gaps: one row, range columns NULL),
 * series in answer order and each series' ranges by date. */
static const char COVERAGE_SQL[] =
    "with shown as ("
    "  select g.chart_kind, g.region, g.period, g.gap_from, g.gap_to, g.charts_missing,"
    "         row_number() over (partition by g.chart_kind, g.region, g.period"
    "                            order by g.charts_missing desc, g.gap_from) as size_rank"
    "  from reporting.series_gaps g"
    ")"
    " select s.region, r.name, s.chart_kind, s.period,"
    "        to_char(s.first_date, 'YYYY-MM-DD'), to_char(s.last_date, 'YYYY-MM-DD'),"
    "        s.charts, s.charts_expected, s.charts_missing, s.gaps,"
    "        to_char(g.gap_from, 'YYYY-MM-DD'), to_char(g.gap_to, 'YYYY-MM-DD'), g.charts_missing"
    " from reporting.series_coverage s"
    " join core.region r on r.region_code = s.region"
    " left join shown g on (g.chart_kind, g.region, g.period) = (s.chart_kind, s.region, s.period)"
    "                   and g.size_rank <= $1::integer"
    " order by s.region <> 'global', s.region, s.chart_kind, s.period, g.gap_from";

enum {
    COL_REGION,
    COL_NAME,
    COL_KIND,
    COL_PERIOD,
    COL_FIRST,
    COL_LAST,
    COL_CHARTS,
    COL_EXPECTED,
    COL_MISSING,
    COL_GAPS,
    COL_GAP_FROM,
    COL_GAP_TO,
    COL_GAP_CHARTS,
};

static bool same_series(const struct cp_region_series *s, const PGresult *res, int row)
{
    return !strcmp(s->region, PQgetvalue(res, row, COL_REGION)) &&
           !strcmp(s->chart_kind, PQgetvalue(res, row, COL_KIND)) &&
           !strcmp(s->period, PQgetvalue(res, row, COL_PERIOD));
}

cp_status cp_regions_repo_list(PGconn *db, struct cp_region_coverage *out, char *err, size_t errlen)
{
    char max_ranges[16];
    snprintf(max_ranges, sizeof max_ranges, "%d", CP_REGIONS_MAX_RANGES);
    const char *params[] = {max_ranges};
    PGresult *res = PQexecParams(db, COVERAGE_SQL, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    int rows = PQntuples(res);
    size_t slots = rows ? (size_t)rows : 1;
    memset(out, 0, sizeof *out);
    out->result = res;
    out->series = cp_calloc(slots, sizeof *out->series);
    out->ranges = cp_calloc(slots, sizeof *out->ranges);
    size_t range_count = 0;
    struct cp_region_series *s = NULL;
    for (int row = 0; row < rows; row++) {
        if (!s || !same_series(s, res, row)) {
            s = &out->series[out->count++];
            s->region = PQgetvalue(res, row, COL_REGION);
            s->name = PQgetvalue(res, row, COL_NAME);
            s->chart_kind = PQgetvalue(res, row, COL_KIND);
            s->period = PQgetvalue(res, row, COL_PERIOD);
            s->first_date = PQgetvalue(res, row, COL_FIRST);
            s->last_date = PQgetvalue(res, row, COL_LAST);
            s->charts = cp_pg_int(res, row, COL_CHARTS, NULL);
            s->charts_expected = cp_pg_int(res, row, COL_EXPECTED, NULL);
            s->charts_missing = cp_pg_int(res, row, COL_MISSING, NULL);
            s->ranges_truncated = cp_pg_int(res, row, COL_GAPS, NULL) > CP_REGIONS_MAX_RANGES;
            s->ranges = &out->ranges[range_count];
        }
        if (PQgetisnull(res, row, COL_GAP_FROM))
            continue;
        struct cp_missing_range *range = &out->ranges[range_count++];
        range->from = PQgetvalue(res, row, COL_GAP_FROM);
        range->to = PQgetvalue(res, row, COL_GAP_TO);
        range->charts = cp_pg_int(res, row, COL_GAP_CHARTS, NULL);
        s->range_count++;
    }
    return CP_OK;
}

void cp_regions_repo_cleanup(struct cp_region_coverage *coverage)
{
    free(coverage->series);
    coverage->series = NULL;
    coverage->count = 0;
    free(coverage->ranges);
    coverage->ranges = NULL;
    PQclear(coverage->result);
    coverage->result = NULL;
}
