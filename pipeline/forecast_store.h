/* The stored forecasts of `chartpulse refresh` (db/migrations/0016_forecasts.sql): the
 * pooled model's backtest per horizon and its forecasts for every track of each regional
 * series' latest chart. */
#ifndef CP_FORECAST_STORE_H
#define CP_FORECAST_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/* Charts of a series the stored forecasts learn from and are backtested on (the latest
 * ones), and the origin stride: SPEC 4b's reference settings, bounded so a refresh of years
 * of daily charts stays a matter of seconds per series. */
#define CP_FORECAST_STORE_DAILY_CHARTS  180
#define CP_FORECAST_STORE_WEEKLY_CHARTS 130
#define CP_FORECAST_STORE_DAILY_STRIDE  4

/* Replaces every stored forecast in one transaction; *series gets the number of series
 * forecast. False with err set on a database error. */
bool cp_forecast_store_refresh(PGconn *conn, size_t *series, char *err, size_t errlen);

#endif
