/* Stored forecasts (forecast_store.h). */
#include "pipeline/forecast_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/backtest.h"
#include "core/series.h"
#include "db/etl_repo.h"
#include "db/forecast_repo.h"
#include "pipeline/series_panel.h"

/* A number as text for a parameter, NULL (SQL null) when it is not finite. */
static const char *num(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        return NULL;
    snprintf(buf, len, "%.6f", v);
    return buf;
}

static bool store_series(PGconn *conn, const char *kind, const char *region, const char *period,
                         char *err, size_t errlen)
{
    bool weekly = cp_period_days(period) == 7;
    int horizons = weekly ? 4 : 7;
    size_t stride = weekly ? 1 : CP_FORECAST_STORE_DAILY_STRIDE;
    struct cp_series_panel d;
    bool ok = cp_series_panel_read(
        conn, kind, region, period,
        weekly ? CP_FORECAST_STORE_WEEKLY_CHARTS : CP_FORECAST_STORE_DAILY_CHARTS, &d, err, errlen);
    struct cp_bt_score scores[CP_BT_MAX_HORIZON];
    struct cp_live_forecast *live = NULL;
    size_t count = 0;
    const struct cp_model *model = &cp_model_pooled;
    if (ok)
        ok = cp_backtest_live(&d.panel, model, horizons, stride, scores, &live, &count);
    char a[6][32], h_text[16], stride_text[24];
    snprintf(stride_text, sizeof stride_text, "%zu", stride);
    const char *last = ok ? d.dates[d.panel.charts - 1] : NULL;
    for (int h = 1; ok && h <= horizons; h++) {
        const struct cp_bt_score *s = &scores[h - 1];
        double n = (double)s->scored, w = (double)s->with_interval;
        snprintf(h_text, sizeof h_text, "%d", h);
        snprintf(a[0], sizeof a[0], "%zu", s->scored);
        const char *params[] = {
            kind,
            region,
            period,
            model->name,
            h_text,
            num(a[1], sizeof a[1], s->rank_abs_sum / n),
            num(a[2], sizeof a[2], s->streams_ape_sum / n),
            a[0],
            num(a[3], sizeof a[3], 100.0 * (double)s->rank_covered / w),
            num(a[4], sizeof a[4], 100.0 * (double)s->streams_covered / w),
            d.dates[0],
            last,
            stride_text,
        };
        ok = cp_forecast_repo_add_error(conn, params, err, errlen) == CP_OK;
    }
    for (size_t k = 0; ok && k < count; k++) {
        const struct cp_live_forecast *f = &live[k];
        char v[6][32];
        snprintf(h_text, sizeof h_text, "%d", f->horizon);
        const char *params[] = {
            kind,
            region,
            period,
            d.track_ids[f->track],
            last,
            h_text,
            model->name,
            num(v[0], sizeof v[0], f->rank),
            num(v[1], sizeof v[1], f->rank_low),
            num(v[2], sizeof v[2], f->rank_high),
            num(v[3], sizeof v[3], f->streams),
            num(v[4], sizeof v[4], f->streams_low),
            num(v[5], sizeof v[5], f->streams_high),
        };
        ok = cp_forecast_repo_add(conn, params, err, errlen) == CP_OK;
    }
    free(live);
    cp_series_panel_cleanup(&d);
    return ok;
}

bool cp_forecast_store_refresh(PGconn *conn, size_t *series, char *err, size_t errlen)
{
    *series = 0;
    PGresult *list = NULL;
    cp_status st = cp_forecast_repo_series(conn, CP_BT_FIRST_ORIGIN + 2, &list, err, errlen);
    if (st != CP_OK && st != CP_ERR_NOT_FOUND)
        return false;
    /* no series long enough: the stale rows still go */
    bool ok = cp_etl_begin(conn, err, errlen) == CP_OK &&
              cp_forecast_repo_clear(conn, err, errlen) == CP_OK;
    for (int r = 0; ok && list && r < PQntuples(list); r++) {
        ok = store_series(conn, PQgetvalue(list, r, 0), PQgetvalue(list, r, 1),
                          PQgetvalue(list, r, 2), err, errlen);
        *series += ok;
    }
    if (list)
        PQclear(list);
    if (ok)
        ok = cp_etl_commit(conn, err, errlen) == CP_OK; /* rolls back when it fails */
    else
        cp_etl_rollback(conn);
    return ok;
}
