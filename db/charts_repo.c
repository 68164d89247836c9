/* SQL for charts: one round trip reads the chart's date, the previous chart's date and the
 * entries, through the primary keys of core.chart and core.chart_entry. */
#include "db/charts_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/pgresult.h"

/* $4 is NULL for the newest chart. A chart without entries still yields one row (the left
 * join), so "no such chart" is exactly "no rows". Every step is a primary-key read: the
 * chart, the previous period's chart (SPEC §4a: the day or week before, not the previous
 * loaded chart), and the first $5 ranks of its entries. */
static const char CHART_SQL[] =
    "with chart as ("
    "  select c.chart_date,"
    "         (select p.chart_date from core.chart p"
    "          where p.chart_kind = $1 and p.region = $2 and p.period = $3"
    "            and p.chart_date = c.chart_date - core.period_days($3)) as previous_date"
    "  from core.chart c"
    "  where c.chart_kind = $1 and c.region = $2 and c.period = $3"
    "    and ($4::date is null or c.chart_date = $4::date)"
    "  order by c.chart_date desc limit 1"
    ")"
    " select to_char(chart.chart_date, 'YYYY-MM-DD'),"
    "        to_char(chart.previous_date, 'YYYY-MM-DD'),"
    "        e.rank, e.track_id, e.track_name, e.artist_names, e.streams, e.previous_rank,"
    "        e.movement, e.peak_rank, e.periods_on_chart, e.run_source,"
    "        e.derived_previous_rank, e.derived_movement, e.derived_peak_rank,"
    "        e.derived_periods_on_chart, e.song_id,"
    /* the track's credits (the richest source's, SPEC 4a), for links to each artist */
    "        (select coalesce(json_agg(json_build_object('id', a.public_id, 'name', a.name)"
    "                                  order by tc.position), '[]')"
    "         from core.track_credit tc join core.artist a using (artist_id)"
    "         where tc.track_id = e.track_id)"
    " from chart"
    " left join lateral ("
    "   select * from reporting.chart_entries e"
    "   where e.chart_kind = $1 and e.region = $2 and e.period = $3"
    "     and e.chart_date = chart.chart_date"
    "   order by e.rank limit $5::integer"
    " ) e on true"
    " order by e.rank";

enum chart_column {
    COL_DATE,
    COL_PREVIOUS_DATE,
    COL_RANK,
    COL_TRACK_ID,
    COL_TRACK_NAME,
    COL_ARTIST_NAMES,
    COL_STREAMS,
    COL_PREVIOUS_RANK,
    COL_MOVEMENT,
    COL_PEAK_RANK,
    COL_PERIODS_ON_CHART,
    COL_RUN_SOURCE,
    COL_DERIVED_PREVIOUS_RANK,
    COL_DERIVED_MOVEMENT,
    COL_DERIVED_PEAK_RANK,
    COL_DERIVED_PERIODS,
    COL_SONG_ID,
    COL_CREDITS,
};

static void copy_message(char *err, size_t errlen, const char *message)
{
    snprintf(err, errlen, "%s", message);
    err[strcspn(err, "\n")] = '\0';
}

/* The four run columns from column first on: previous rank, movement, peak rank and
 * periods on chart, in that order (the shown ones and the derived_* ones alike). */
static void read_run_values(const PGresult *res, int row, int first, struct cp_chart_run_values *v)
{
    v->previous_rank = (int)cp_pg_int(res, row, first, &v->has_previous_rank);
    v->movement = cp_pg_text(res, row, first + 1);
    v->peak_rank = (int)cp_pg_int(res, row, first + 2, &v->has_peak_rank);
    v->periods_on_chart = (int)cp_pg_int(res, row, first + 3, &v->has_periods_on_chart);
}

cp_status cp_charts_repo_find(PGconn *db, const struct cp_chart_query *q, struct cp_chart *chart,
                              char *err, size_t errlen)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", q->limit);
    const char *params[] = {q->chart_kind, q->region, q->period, q->date, limit_text};
    PGresult *res = PQexecParams(db, CHART_SQL, 5, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        copy_message(err, errlen, PQresultErrorMessage(res));
        PQclear(res);
        return CP_ERR_DB;
    }
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    memset(chart, 0, sizeof *chart);
    chart->result = res;
    snprintf(chart->date, sizeof chart->date, "%s", PQgetvalue(res, 0, COL_DATE));
    if (!PQgetisnull(res, 0, COL_PREVIOUS_DATE))
        snprintf(chart->previous_date, sizeof chart->previous_date, "%s",
                 PQgetvalue(res, 0, COL_PREVIOUS_DATE));
    chart->entries = cp_calloc((size_t)rows, sizeof *chart->entries);
    for (int row = 0; row < rows; row++) {
        bool present;
        int rank = (int)cp_pg_int(res, row, COL_RANK, &present);
        if (!present)
            continue; /* the left join's row for a chart without entries */
        struct cp_chart_entry *e = &chart->entries[chart->count++];
        e->rank = rank;
        e->track_id = PQgetvalue(res, row, COL_TRACK_ID);
        e->track_name = PQgetvalue(res, row, COL_TRACK_NAME);
        e->artist_names = PQgetvalue(res, row, COL_ARTIST_NAMES);
        e->streams = cp_pg_int(res, row, COL_STREAMS, &e->has_streams);
        read_run_values(res, row, COL_PREVIOUS_RANK, &e->shown);
        e->run_source = PQgetvalue(res, row, COL_RUN_SOURCE);
        read_run_values(res, row, COL_DERIVED_PREVIOUS_RANK, &e->derived);
        e->song_id = PQgetvalue(res, row, COL_SONG_ID);
        e->credits_json = PQgetvalue(res, row, COL_CREDITS);
    }
    return CP_OK;
}

void cp_charts_repo_cleanup(struct cp_chart *chart)
{
    free(chart->entries);
    chart->entries = NULL;
    chart->count = 0;
    PQclear(chart->result);
    chart->result = NULL;
}

static const char DATES_SQL[] =
    "select to_char(d.chart_date, 'YYYY-MM-DD') from reporting.chart_dates($2, $3, $1) d";

cp_status cp_charts_repo_dates(PGconn *db, const char *kind, const char *region, const char *period,
                               PGresult **out, char *err, size_t errlen)
{
    const char *params[] = {kind, region, period};
    return cp_pg_rows(db, DATES_SQL, 3, params, out, err, errlen);
}
