/* The stored forecasts (core.track_forecast, core.forecast_error; migration 0016) and the
 * chart panel they are computed from (pipeline/forecast_store.c). */
#ifndef CP_FORECAST_REPO_H
#define CP_FORECAST_REPO_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* Every entry of the series' last max_charts charts (0: all), one row each: chart index and
 * track index (0-based, in date and id order), rank, streams, the chart's ISO weekday
 * (0 = Monday), track id, chart date. CP_OK with *out (the caller PQclears it),
 * CP_ERR_NOT_FOUND when the series has no chart, CP_ERR_DB with the message in err. */
cp_status cp_forecast_repo_panel(PGconn *db, const char *kind, const char *region,
                                 const char *period, size_t max_charts, PGresult **out, char *err,
                                 size_t errlen);

/* The regional series with at least min_charts charts (columns kind, region, period), as
 * cp_pg_rows answers. */
cp_status cp_forecast_repo_series(PGconn *db, int min_charts, PGresult **out, char *err,
                                  size_t errlen);

/* Inside the caller's transaction: drops every stored forecast and backtest error (the
 * forecasts go with their errors, by foreign key). */
cp_status cp_forecast_repo_clear(PGconn *db, char *err, size_t errlen);

/* One model's backtest at one horizon: kind, region, period, model, horizon, rank_mae,
 * streams_mape, scored, rank_coverage, streams_coverage, origins_from, origins_to, stride
 * (text; NULL for SQL null). */
#define CP_FORECAST_ERROR_PARAMS 13
cp_status cp_forecast_repo_add_error(PGconn *db, const char *const *params, char *err,
                                     size_t errlen);

/* One track's forecast at one horizon: kind, region, period, track_id, origin_date, horizon,
 * model, rank, rank_low, rank_high, streams, streams_low, streams_high. */
#define CP_FORECAST_PARAMS 13
cp_status cp_forecast_repo_add(PGconn *db, const char *const *params, char *err, size_t errlen);

#endif
