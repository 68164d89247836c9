/* The chart survival tables (core.survival_curve, core.survival_remaining, migration
 * 0017): rebuilt from reporting.chart_spells by `chartpulse refresh`. */
#ifndef CP_SURVIVAL_REFRESH_H
#define CP_SURVIVAL_REFRESH_H

#include <libpq-fe.h>
#include <stddef.h>

#include "core/status.h"

/* Rebuilds both tables in one transaction of its own on conn (readers see the old rows
 * until it commits). On failure err says why and nothing changed. */
cp_status cp_survival_refresh(PGconn *conn, char *err, size_t errlen);

#endif
