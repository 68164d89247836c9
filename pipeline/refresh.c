/* `chartpulse refresh`: etl.refresh_summaries() and a new cache generation. */
#include "pipeline/refresh.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/generation.h"
#include "db/pool.h"
#include "pipeline/forecast_store.h"
#include "pipeline/survival_refresh.h"

void cp_refresh_announce(const struct cp_config *cfg, const char *command)
{
    char err[512];
    if (cp_generation_bump(cfg->redis_url, err, sizeof err) != CP_OK)
        fprintf(stderr,
                "chartpulse %s: warning: could not invalidate the API cache (%s); servers keep "
                "answering from it until its entries expire\n",
                command, err);
}

int cp_refresh_main(int argc, char **argv)
{
    const char *cmd = "refresh";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: chartpulse refresh\n\n"
                   "Rebuilds the summaries behind the reporting views (core.chart_run,\n"
                   "core.track_month) from the chart positions, in one transaction that readers\n"
                   "never wait for, then the chart survival curves (core.survival_curve,\n"
                   "core.survival_remaining) in another; stores the pooled model's forecasts for\n"
                   "every track of each regional series' latest chart with its backtest\n"
                   "(docs/methodology.md); then invalidates every cached API response.\n"
                   "`chartpulse load` keeps the run summaries current by itself; the survival\n"
                   "curves and forecasts change only here (and in `pipeline run`). Run this\n"
                   "after loading or repairing data by hand.\n");
            return 0;
        }
        return cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", argv[i]);
    }
    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    int status = 1;
    char err[1024];
    double started = cp_now();
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    if (isatty(2))
        fprintf(stderr, "refresh: rebuilding summaries...\r");
    PGresult *res = PQexec(conn, "call etl.refresh_summaries()");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        cp_cli_fail(cmd, "%s", PQresultErrorMessage(res));
        PQclear(res);
        goto out;
    }
    PQclear(res);
    if (isatty(2))
        fprintf(stderr, "refresh: chart survival curves...   \r");
    if (cp_survival_refresh(conn, err, sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    double forecast_started = cp_now();
    size_t series;
    if (!cp_forecast_store_refresh(conn, &series, err, sizeof err)) {
        cp_cli_fail(cmd, "cannot store the forecasts: %s", err);
        goto out;
    }
    cp_refresh_announce(&cfg, cmd);
    fprintf(stderr,
            "refresh: summaries rebuilt in %.1f s, forecasts of %zu series stored in %.1f s, "
            "cache invalidated\n",
            forecast_started - started, series, cp_now() - forecast_started);
    status = 0;
out:
    if (conn)
        PQfinish(conn);
    cp_config_cleanup(&cfg);
    return status;
}
