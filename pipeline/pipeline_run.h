/* `chartpulse pipeline run`: load -> enrich -> refresh over the raw zone's pending objects,
 * tracked as one run in etl.pipeline_run with each step's timing, outcome and error text.
 * The ingest step lands nothing itself (SPEC §3 names no source folder): it counts the
 * objects that earlier ingests, uploads and snapshots left pending. Each other step runs
 * this binary's own subcommand in a child process, so a step's failure or crash cannot take
 * the caller (the server) down, and its last line of output becomes the step's detail.
 *
 * The server starts runs in the background (POST /v1/pipeline/runs): at most one thread per
 * process, and at most one run anywhere (a unique index in the database). */
#ifndef CP_PIPELINE_RUN_H
#define CP_PIPELINE_RUN_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/config.h"
#include "core/status.h"

/* The steps of every run, in order (NULL-terminated). */
extern const char *const cp_pipeline_steps[];

/* Starts cp_pipeline_run_execute for run_id on a background thread with its own connection
 * (cfg is copied). CP_ERR_CONFLICT when this process's background run is still going;
 * CP_ERR_INTERNAL when no thread can be started (the run is then recorded failed by the
 * caller). */
cp_status cp_pipeline_run_start_background(const struct cp_config *cfg, long long run_id, char *err,
                                           size_t errlen);
/* Waits for the background run, if any (server shutdown). */
void cp_pipeline_run_join_background(void);

/* The subcommand: `chartpulse pipeline run [--help]`. */
int cp_pipeline_main(int argc, char **argv);

#endif
