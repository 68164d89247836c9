/* SQL for regions: coverage per chart series, from core.chart's primary key alone. */
#include "db/regions_repo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const char COVERAGE_SQL[] =
    "select c.region, r.name, c.chart_kind, c.period,"
    "       to_char(min(c.chart_date), 'YYYY-MM-DD'), to_char(max(c.chart_date), 'YYYY-MM-DD'),"
    "       count(*)"
    " from core.chart c join core.region r on r.region_code = c.region"
    " group by c.region, r.name, c.chart_kind, c.period"
    " order by c.region <> 'global', c.region, c.chart_kind, c.period";

cp_status cp_regions_repo_list(PGconn *db, struct cp_region_coverage *out, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(db, COVERAGE_SQL, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        err[strcspn(err, "\n")] = '\0';
        PQclear(res);
        return CP_ERR_DB;
    }
    int rows = PQntuples(res);
    memset(out, 0, sizeof *out);
    out->result = res;
    out->series = cp_calloc(rows ? (size_t)rows : 1, sizeof *out->series);
    for (int row = 0; row < rows; row++) {
        struct cp_region_series *s = &out->series[out->count++];
        s->region = PQgetvalue(res, row, 0);
        s->name = PQgetvalue(res, row, 1);
        s->chart_kind = PQgetvalue(res, row, 2);
        s->period = PQgetvalue(res, row, 3);
        s->first_date = PQgetvalue(res, row, 4);
        s->last_date = PQgetvalue(res, row, 5);
        errno = 0;
        s->charts = strtoll(PQgetvalue(res, row, 6), NULL, 10);
    }
    return CP_OK;
}

void cp_regions_repo_cleanup(struct cp_region_coverage *coverage)
{
    free(coverage->series);
    coverage->series = NULL;
    coverage->count = 0;
    PQclear(coverage->result);
    coverage->result = NULL;
}
