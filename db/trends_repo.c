/* SQL for trends. Every chart-based trend first resolves the chart (and the previous
 * period's chart, when that is loaded: SPEC 4a) through core.chart's primary key, then reads that
 * chart's positions through core.chart_entry's primary key: never more than a few charts of the
 * fact table. */
#include "db/trends_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/pgresult.h"

/* $1 kind, $2 region, $3 period, $4 date or NULL for the latest. */
#define CHART_CTE                                                                                  \
    "with chart as ("                                                                              \
    "  select c.chart_date,"                                                                       \
    "         (select p.chart_date from core.chart p"                                              \
    "          where p.chart_kind = $1 and p.region = $2 and p.period = $3"                        \
    "            and p.chart_date = c.chart_date - core.period_days($3)) as previous_date"         \
    "  from core.chart c"                                                                          \
    "  where c.chart_kind = $1 and c.region = $2 and c.period = $3"                                \
    "    and ($4::date is null or c.chart_date = $4::date)"                                        \
    "  order by c.chart_date desc limit 1"                                                         \
    ")"

/* The chart's date and its previous period's date (NULL when that chart is not loaded)
 * lead every row; a chart without rows still yields
 * one row (left join) whose rank is NULL, so "no rows" means "no such chart". */
#define CHART_COLUMNS                                                                              \
    " select to_char(chart.chart_date, 'YYYY-MM-DD'), to_char(chart.previous_date, 'YYYY-MM-DD'),"

static const char MOVERS_SQL[] = CHART_CTE CHART_COLUMNS
    "        m.gainer, m.rank, m.previous_rank, m.rank_change, m.track_id, m.track_name,"
    "        m.artist_names, m.streams"
    " from chart"
    " left join lateral ("
    "   (select true as gainer, row_number() over (order by m.rank_change desc, m.rank) as ord,"
    "           m.rank, m.previous_rank, m.rank_change, m.track_id, m.track_name,"
    "           m.artist_names, m.streams"
    "    from reporting.movers m"
    "    where m.chart_kind = $1 and m.region = $2 and m.period = $3"
    "      and m.chart_date = chart.chart_date and m.rank_change > 0"
    "    order by ord limit $5::integer)"
    "   union all"
    "   (select false, row_number() over (order by m.rank_change, m.rank),"
    "           m.rank, m.previous_rank, m.rank_change, m.track_id, m.track_name,"
    "           m.artist_names, m.streams"
    "    from reporting.movers m"
    "    where m.chart_kind = $1 and m.region = $2 and m.period = $3"
    "      and m.chart_date = chart.chart_date and m.rank_change < 0"
    "    order by 2 limit $5::integer)"
    " ) m on true"
    " order by m.gainer desc, m.ord";

static const char NEW_ENTRIES_SQL[] = CHART_CTE CHART_COLUMNS
    "        e.rank, e.track_id, e.track_name, e.artist_names, e.streams, e.previous_rank,"
    "        e.movement, e.peak_rank, e.periods_on_chart"
    " from chart"
    " left join lateral ("
    "   select * from reporting.chart_entries e"
    "   where e.chart_kind = $1 and e.region = $2 and e.period = $3"
    "     and e.chart_date = chart.chart_date and e.movement in ('new', 're-entry')"
    "     and chart.previous_date is not null"
    "   order by e.rank limit $5::integer"
    " ) e on true"
    " order by e.rank";

/* $6 the window. `windows` are the 2 * window charts ending with this one, newest first:
 * n <= window is the recent window, the rest the earlier one. */
static const char MOMENTUM_SQL[] =
    CHART_CTE ", windows as ("
              "  select w.chart_date, row_number() over (order by w.chart_date desc) as n"
              "  from core.chart w, chart"
              "  where w.chart_kind = $1 and w.region = $2 and w.period = $3"
              "    and w.chart_date <= chart.chart_date"
              "  order by w.chart_date desc limit 2 * $6::integer"
              "), on_chart as ("
              "  select e.rank, e.track_id from core.chart_entry e, chart"
              "  where e.chart_kind = $1 and e.region = $2 and e.period = $3"
              "    and e.chart_date = chart.chart_date"
              "), sums as ("
              "  select e.track_id,"
              "         coalesce(sum(e.streams) filter (where w.n <= $6::integer), 0) as recent,"
              "         coalesce(sum(e.streams) filter (where w.n > $6::integer), 0) as earlier"
              "  from core.chart_entry e join windows w using (chart_date)"
              "  where e.chart_kind = $1 and e.region = $2 and e.period = $3"
              "    and e.track_id in (select track_id from on_chart)"
              "  group by e.track_id"
              "), scored as ("
              "  select o.rank, o.track_id, t.name, t.artist_names,"
              "         coalesce(s.recent, 0) as recent, coalesce(s.earlier, 0) as earlier,"
              "         case when coalesce(s.earlier, 0) = 0 then null"
              "              else round(s.recent::numeric / s.earlier - 1, 6) end as growth"
              "  from on_chart o join core.track t using (track_id)"
              "  left join sums s using (track_id)"
              ")" CHART_COLUMNS "        m.rank, m.track_id, m.name, m.artist_names, m.recent,"
              "        m.earlier, m.growth"
              " from chart"
              " left join lateral ("
              "   select * from scored"
              "   order by growth desc nulls last, recent desc, rank limit $5::integer"
              " ) m on true"
              " order by m.growth desc nulls last, m.recent desc, m.rank";

/* $4 granularity (day|week|month: date_trunc's own names; weeks start on Monday), $5 and
 * $6 the range (NULL: open). */
static const char STREAMS_SQL[] =
    "select to_char(date_trunc($4, d.chart_date::timestamp), 'YYYY-MM-DD'),"
    "       sum(d.total_streams), count(*)"
    " from reporting.daily_totals d"
    " where d.chart_kind = $1 and d.region = $2 and d.period = $3"
    "   and d.chart_date >= coalesce($5::date, '-infinity'::date)"
    "   and d.chart_date <= coalesce($6::date, 'infinity'::date)"
    " group by 1 order by 1";

/* Runs a chart-based query and sets up out; rows whose column first_row_col is NULL (the
 * left join's row of an empty result) are skipped by the caller. */
static cp_status run_chart_query(PGconn *db, const char *sql, const struct cp_trends_query *q,
                                 const char *extra, struct cp_trend_list *out, char *err,
                                 size_t errlen)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", q->limit);
    const char *params[] = {q->chart_kind, q->region, q->period, q->date, limit_text, extra};
    PGresult *res = PQexecParams(db, sql, extra ? 6 : 5, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    memset(out, 0, sizeof *out);
    out->result = res;
    snprintf(out->date, sizeof out->date, "%s", PQgetvalue(res, 0, 0));
    if (!PQgetisnull(res, 0, 1))
        snprintf(out->previous_date, sizeof out->previous_date, "%s", PQgetvalue(res, 0, 1));
    out->rows = cp_calloc((size_t)rows, sizeof *out->rows);
    return CP_OK;
}

cp_status cp_trends_repo_movers(PGconn *db, const struct cp_trends_query *q,
                                struct cp_trend_list *out, char *err, size_t errlen)
{
    cp_status st = run_chart_query(db, MOVERS_SQL, q, NULL, out, err, errlen);
    if (st != CP_OK)
        return st;
    const PGresult *res = out->result;
    for (int row = 0; row < PQntuples(res); row++) {
        if (PQgetisnull(res, row, 3))
            continue;
        struct cp_trend_row *r = &out->rows[out->count++];
        r->gainer = !strcmp(PQgetvalue(res, row, 2), "t");
        r->rank = (int)cp_pg_int(res, row, 3, NULL);
        r->previous_rank = (int)cp_pg_int(res, row, 4, &r->has_previous_rank);
        r->rank_change = (int)cp_pg_int(res, row, 5, NULL);
        r->track_id = PQgetvalue(res, row, 6);
        r->track_name = PQgetvalue(res, row, 7);
        r->artist_names = PQgetvalue(res, row, 8);
        r->streams = cp_pg_int(res, row, 9, &r->has_streams);
    }
    return CP_OK;
}

cp_status cp_trends_repo_new_entries(PGconn *db, const struct cp_trends_query *q,
                                     struct cp_trend_list *out, char *err, size_t errlen)
{
    cp_status st = run_chart_query(db, NEW_ENTRIES_SQL, q, NULL, out, err, errlen);
    if (st != CP_OK)
        return st;
    const PGresult *res = out->result;
    for (int row = 0; row < PQntuples(res); row++) {
        if (PQgetisnull(res, row, 2))
            continue;
        struct cp_trend_row *r = &out->rows[out->count++];
        r->rank = (int)cp_pg_int(res, row, 2, NULL);
        r->track_id = PQgetvalue(res, row, 3);
        r->track_name = PQgetvalue(res, row, 4);
        r->artist_names = PQgetvalue(res, row, 5);
        r->streams = cp_pg_int(res, row, 6, &r->has_streams);
        r->previous_rank = (int)cp_pg_int(res, row, 7, &r->has_previous_rank);
        r->movement = PQgetisnull(res, row, 8) ? NULL : PQgetvalue(res, row, 8);
        r->peak_rank = (int)cp_pg_int(res, row, 9, &r->has_peak_rank);
        r->periods_on_chart = (int)cp_pg_int(res, row, 10, &r->has_periods_on_chart);
    }
    return CP_OK;
}

cp_status cp_trends_repo_momentum(PGconn *db, const struct cp_trends_query *q, int window,
                                  struct cp_trend_list *out, char *err, size_t errlen)
{
    char window_text[16];
    snprintf(window_text, sizeof window_text, "%d", window);
    cp_status st = run_chart_query(db, MOMENTUM_SQL, q, window_text, out, err, errlen);
    if (st != CP_OK)
        return st;
    const PGresult *res = out->result;
    for (int row = 0; row < PQntuples(res); row++) {
        if (PQgetisnull(res, row, 2))
            continue;
        struct cp_trend_row *r = &out->rows[out->count++];
        r->rank = (int)cp_pg_int(res, row, 2, NULL);
        r->track_id = PQgetvalue(res, row, 3);
        r->track_name = PQgetvalue(res, row, 4);
        r->artist_names = PQgetvalue(res, row, 5);
        r->recent_streams = cp_pg_int(res, row, 6, NULL);
        r->earlier_streams = cp_pg_int(res, row, 7, NULL);
        if (!PQgetisnull(res, row, 8)) {
            char *end;
            r->growth = strtod(PQgetvalue(res, row, 8), &end);
            r->has_growth = true;
        }
    }
    return CP_OK;
}

void cp_trends_repo_cleanup(struct cp_trend_list *list)
{
    free(list->rows);
    list->rows = NULL;
    list->count = 0;
    PQclear(list->result);
    list->result = NULL;
}

cp_status cp_trends_repo_streams(PGconn *db, const struct cp_trends_query *q, const char *from,
                                 const char *to, const char *granularity,
                                 struct cp_stream_totals *out, char *err, size_t errlen)
{
    const char *params[] = {q->chart_kind, q->region, q->period, granularity, from, to};
    PGresult *res = PQexecParams(db, STREAMS_SQL, 6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cp_pg_failed(res, err, errlen);
    int rows = PQntuples(res);
    memset(out, 0, sizeof *out);
    out->result = res;
    out->points = cp_calloc(rows ? (size_t)rows : 1, sizeof *out->points);
    for (int row = 0; row < rows; row++) {
        struct cp_stream_point *p = &out->points[out->count++];
        p->date = PQgetvalue(res, row, 0);
        p->streams = cp_pg_int(res, row, 1, &p->has_streams);
        p->charts = cp_pg_int(res, row, 2, NULL);
    }
    return CP_OK;
}

void cp_trends_repo_streams_cleanup(struct cp_stream_totals *totals)
{
    free(totals->points);
    totals->points = NULL;
    totals->count = 0;
    PQclear(totals->result);
    totals->result = NULL;
}
