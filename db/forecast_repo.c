/* The stored forecasts and their chart panel (forecast_repo.h). */
#include "db/forecast_repo.h"

#include <stdio.h>

#include "db/pgresult.h"

/* Every entry of the series' last $4 charts (null: all) with its chart's and track's index
 * (0-based, in date and id order) and the chart's ISO weekday (0 = Monday). */
static const char PANEL_SQL[] =
    "with charts as ("
    "  select chart_date from core.chart"
    "  where chart_kind = $1 and region = $2 and period = $3"
    "  order by chart_date desc limit $4::bigint)"
    "select (dense_rank() over (order by e.chart_date) - 1)::int,"
    "       (dense_rank() over (order by e.track_id) - 1)::int,"
    "       e.rank, e.streams, (extract(isodow from e.chart_date) - 1)::int,"
    "       e.track_id, to_char(e.chart_date, 'YYYY-MM-DD')"
    " from core.chart_entry e join charts using (chart_date)"
    " where e.chart_kind = $1 and e.region = $2 and e.period = $3";

static const char SERIES_SQL[] = "select chart_kind, region, period from core.chart"
                                 " where chart_kind = 'regional'"
                                 " group by 1, 2, 3 having count(*) >= $1::int"
                                 " order by 1, 2, 3";

static const char ERROR_SQL[] =
    "insert into core.forecast_error (chart_kind, region, period, model, horizon, rank_mae,"
    " streams_mape, scored, rank_coverage, streams_coverage, origins_from, origins_to, stride)"
    " values ($1, $2, $3, $4, $5::int, $6::float8, $7::float8, $8::int, $9::float8,"
    " $10::float8, $11::date, $12::date, $13::int)";

static const char FORECAST_SQL[] =
    "insert into core.track_forecast (chart_kind, region, period, track_id, origin_date,"
    " horizon, model, rank, rank_low, rank_high, streams, streams_low, streams_high)"
    " values ($1, $2, $3, $4, $5::date, $6::int, $7, $8::float8, $9::float8, $10::float8,"
    " $11::float8, $12::float8, $13::float8)";

cp_status cp_forecast_repo_panel(PGconn *db, const char *kind, const char *region,
                                 const char *period, size_t max_charts, PGresult **out, char *err,
                                 size_t errlen)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%zu", max_charts);
    const char *params[] = {kind, region, period, max_charts ? limit : NULL};
    return cp_pg_rows(db, PANEL_SQL, 4, params, out, err, errlen);
}

cp_status cp_forecast_repo_series(PGconn *db, int min_charts, PGresult **out, char *err,
                                  size_t errlen)
{
    char min[16];
    snprintf(min, sizeof min, "%d", min_charts);
    const char *params[] = {min};
    return cp_pg_rows(db, SERIES_SQL, 1, params, out, err, errlen);
}

cp_status cp_forecast_repo_clear(PGconn *db, char *err, size_t errlen)
{
    return cp_pg_exec(db, "delete from core.forecast_error", 0, NULL, err, errlen);
}

cp_status cp_forecast_repo_add_error(PGconn *db, const char *const *params, char *err,
                                     size_t errlen)
{
    return cp_pg_exec(db, ERROR_SQL, CP_FORECAST_ERROR_PARAMS, params, err, errlen);
}

cp_status cp_forecast_repo_add(PGconn *db, const char *const *params, char *err, size_t errlen)
{
    return cp_pg_exec(db, FORECAST_SQL, CP_FORECAST_PARAMS, params, err, errlen);
}
