/* chartpulse: argv -> subcommand, through one table. */
#include <stdio.h>
#include <string.h>

#include "db/migrate.h"
#include "pipeline/catalog_export.h"
#include "pipeline/enrich.h"
#include "pipeline/generate.h"
#include "pipeline/ingest.h"
#include "pipeline/load.h"
#include "pipeline/model.h"
#include "pipeline/pipeline_run.h"
#include "pipeline/refresh.h"
#include "server/http.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
};

static const struct command commands[] = {
    {"serve", cp_server_main, "API + dashboard (+ the scheduler when CHARTPULSE_SCHEDULE is set)"},
    {"migrate", cp_migrate_main, "apply database migrations (idempotent)"},
    {"ingest", cp_ingest_main, "land chart files in the raw zone and the catalog"},
    {"load", cp_load_main, "ETL: every cataloged raw object not yet loaded -> core tables"},
    {"refresh", cp_refresh_main, "rebuild the warehouse summaries, invalidate the API cache"},
    {"enrich", cp_enrich_main, "fetch track/artist/album metadata for ids not yet enriched"},
    {"pipeline", cp_pipeline_main, "`pipeline run`: load -> enrich -> refresh, tracked as one run"},
    {"model", cp_model_main, "`model backtest`: compare the forecast models on a chart series"},
    {"catalog", cp_catalog_main, "`catalog export`: Glue / Athena tables over the raw zone"},
    {"generate", cp_generate_main, "synthetic charts in the charts.spotify.com format"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: chartpulse COMMAND [OPTIONS]   (chartpulse COMMAND --help for more)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nSettings come from the environment (DATABASE_URL, REDIS_URL, "
                 "CHARTPULSE_LISTEN, ...); see README.md.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("chartpulse %s\n", CHARTPULSE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "chartpulse: unknown command '%s' (see chartpulse --help)\n", argv[1]);
    return 2;
}
