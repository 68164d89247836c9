/* SQL for a series' records: both queries are the reporting functions themselves, so the
 * API and BI tools count alike. */
#include "db/records_repo.h"

#include <stdio.h>

#include "db/pgresult.h"

static const char RANGE_SQL[] =
    "select to_char(r.from_date, 'YYYY-MM-DD'), to_char(r.to_date, 'YYYY-MM-DD'), r.charts,"
    "       r.charts_expected, r.history_complete"
    " from reporting.series_range($2, $3, $1, $4::date, $5::date) r"
    " where r.from_date is not null";

static const char RECORDS_SQL[] =
    "select r.record, r.song_id, r.track_id, r.track_name, r.artist_names, r.periods,"
    "       to_char(r.first_date, 'YYYY-MM-DD'), to_char(r.last_date, 'YYYY-MM-DD'),"
    "       to_char(r.chart_date, 'YYYY-MM-DD'), r.rank, r.streams, r.ongoing"
    " from reporting.chart_records($2, $3, $1, $4::date, $5::date, $6::integer) r";

cp_status cp_records_repo_find(PGconn *db, const struct cp_records_query *q, PGresult **range,
                               PGresult **records, char *err, size_t errlen)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", q->limit);
    const char *params[] = {q->chart_kind, q->region, q->period, q->from, q->to, limit_text};
    cp_status st = cp_pg_rows(db, RANGE_SQL, 5, params, range, err, errlen);
    if (st != CP_OK)
        return st;
    PGresult *res = PQexecParams(db, RECORDS_SQL, 6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(*range);
        return cp_pg_failed(res, err, errlen);
    }
    *records = res;
    return CP_OK;
}
