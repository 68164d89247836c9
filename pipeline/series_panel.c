/* Reading a chart series into a panel (series_panel.h). */
#include "pipeline/series_panel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/series.h"
#include "db/forecast_repo.h"
#include "db/pgresult.h"

bool cp_series_panel_read(PGconn *conn, const char *kind, const char *region, const char *period,
                          size_t max_charts, struct cp_series_panel *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    PGresult *res;
    cp_status st =
        cp_forecast_repo_panel(conn, kind, region, period, max_charts, &res, err, errlen);
    if (st == CP_ERR_NOT_FOUND)
        snprintf(err, errlen, "no charts of the series are loaded");
    if (st != CP_OK)
        return false;
    int rows = PQntuples(res);
    size_t charts = 0, tracks = 0;
    for (int r = 0; r < rows; r++) {
        size_t c = (size_t)cp_pg_int(res, r, 0, NULL) + 1;
        size_t t = (size_t)cp_pg_int(res, r, 1, NULL) + 1;
        charts = c > charts ? c : charts;
        tracks = t > tracks ? t : tracks;
    }
    d->rank = cp_calloc(charts * tracks + 1, sizeof *d->rank);
    d->streams = cp_calloc(charts * tracks + 1, sizeof *d->streams);
    d->weekday = cp_calloc(charts + 1, sizeof *d->weekday);
    d->track_ids = cp_calloc(tracks + 1, sizeof *d->track_ids);
    d->dates = cp_calloc(charts + 1, sizeof *d->dates);
    d->panel = (struct cp_panel){
        .charts = charts,
        .stride = charts,
        .tracks = tracks,
        .rank = d->rank,
        .streams = d->streams,
        .weekday = cp_period_days(period) == 7 ? NULL : d->weekday,
    };
    bool ok = true;
    for (int r = 0; r < rows && ok; r++) {
        size_t c = (size_t)cp_pg_int(res, r, 0, NULL), t = (size_t)cp_pg_int(res, r, 1, NULL);
        bool present;
        long long streams = cp_pg_int(res, r, 3, &present);
        if (!present || streams <= 0) {
            snprintf(err, errlen,
                     "the %s %s %s series has entries without streams: the protocol scores "
                     "streams forecasts",
                     kind, region, period);
            ok = false;
        }
        d->rank[t * charts + c] = (int)cp_pg_int(res, r, 2, NULL);
        d->streams[t * charts + c] = (double)streams;
        d->weekday[c] = (int)cp_pg_int(res, r, 4, NULL);
        if (!d->track_ids[t])
            d->track_ids[t] = cp_strdup(PQgetvalue(res, r, 5));
        if (!d->dates[c])
            d->dates[c] = cp_strdup(PQgetvalue(res, r, 6));
    }
    PQclear(res);
    return ok;
}

void cp_series_panel_cleanup(struct cp_series_panel *d)
{
    for (size_t t = 0; d->track_ids && t < d->panel.tracks; t++)
        free(d->track_ids[t]);
    for (size_t c = 0; d->dates && c < d->panel.charts; c++)
        free(d->dates[c]);
    free(d->track_ids);
    free(d->dates);
    free(d->rank);
    free(d->streams);
    free(d->weekday);
    memset(d, 0, sizeof *d);
}
