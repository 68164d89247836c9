/* Reading a series' chart survival, as stored by `chartpulse refresh`
 * (pipeline/survival_refresh.c; docs/methodology.md). */
#ifndef CP_SURVIVAL_REPO_H
#define CP_SURVIVAL_REPO_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* The answer of GET /v1/survival for the series, built by PostgreSQL as one JSON text
 * (row 0, column 0: window_from, window_to, bands with their curves, remaining). CP_OK with
 * *out (the caller PQclears it), CP_ERR_NOT_FOUND when the series has no chart, CP_ERR_DB
 * with the message in err. */
cp_status cp_survival_repo_show(PGconn *db, const char *kind, const char *region,
                                const char *period, PGresult **out, char *err, size_t errlen);

/* The debut spells whose start is inside the loaded window (methodology), ordered by series
 * and band: chart_kind, region, period, debut_band, track_id, charts, ongoing (t/f),
 * censored (t/f). As cp_pg_rows answers. */
cp_status cp_survival_repo_spells(PGconn *db, PGresult **out, char *err, size_t errlen);

/* Inside the caller's transaction: drops every stored curve and remaining time. */
cp_status cp_survival_repo_clear(PGconn *db, char *err, size_t errlen);

/* One series and band (series[4]: chart_kind, region, period, debut_band) stored: its curve
 * as five PostgreSQL array literals (charts, at_risk, events, censored, survival) and its
 * tracks now charting as four (track_id, charts_so_far, expected_remaining, restricted). */
cp_status cp_survival_repo_store(PGconn *db, const char *const series[4],
                                 const char *const curve[5], const char *const remaining[4],
                                 char *err, size_t errlen);

#endif
