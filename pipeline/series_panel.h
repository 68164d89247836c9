/* One chart series read from core.chart_entry into the panel analytics/backtest.h works
 * on, with the track ids and chart dates behind its indexes. */
#ifndef CP_SERIES_PANEL_H
#define CP_SERIES_PANEL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "analytics/backtest.h"

struct cp_series_panel {
    struct cp_panel panel;
    char **track_ids; /* per track index */
    char **dates;     /* per chart index, YYYY-MM-DD */
    int *rank, *weekday;
    double *streams;
};

/* Reads the series' last max_charts charts (0: all) into out; false with err set when it
 * cannot be read or an entry has no streams (the protocol scores streams). Release with
 * cp_series_panel_cleanup either way. */
bool cp_series_panel_read(PGconn *conn, const char *kind, const char *region, const char *period,
                          size_t max_charts, struct cp_series_panel *out, char *err, size_t errlen);
void cp_series_panel_cleanup(struct cp_series_panel *p);

#endif
