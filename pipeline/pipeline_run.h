/* `chartpulse pipeline run`: load -> enrich -> refresh over the raw zone's pending objects,
 * tracked as one run in etl.pipeline_run with each step's timing, outcome and error text.
 * The ingest step lands nothing itself (SPEC §3 names no source folder): it counts the
 * objects that earlier ingests, uploads and snapshots left pending. Each other step runs
 * this binary's own subcommand in a child process, so a step's failure or crash cannot take
 * the caller (the server) down, and its last line of output becomes the step's detail.
 *
 * The server starts runs in the background (POST /v1/pipeline/runs). At most one run goes
 * anywhere: the process executing it holds a PostgreSQL advisory lock for its whole life
 * (db/pipeline_repo.h), so a killed run's lock goes with its session and the next run marks
 * it failed instead of waiting for it. */
#ifndef CP_PIPELINE_RUN_H
#define CP_PIPELINE_RUN_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/config.h"
#include "core/status.h"

/* The steps of every run, in order (NULL-terminated). */
extern const char *const cp_pipeline_steps[];

/* Records a new run (trigger "api" or "schedule") and starts it on a background thread with
 * a connection of its own, which holds the run lock until the run ends (cfg is copied);
 * *run_id receives its id. CP_ERR_CONFLICT when a run is going (here or in any process);
 * CP_ERR_DB when the database cannot be reached; CP_ERR_INTERNAL when no thread can be
 * started (the run is then recorded failed). */
cp_status cp_pipeline_run_start_background(const struct cp_config *cfg, const char *trigger,
                                           long long *run_id, char *err, size_t errlen);
/* Server shutdown: a step waiting for its retry is not retried (the step going finishes,
 * the run ends failed and can be resumed). */
void cp_pipeline_run_request_stop(void);
/* A server starting (again, in tests): retries go on. */
void cp_pipeline_run_request_stop_reset(void);
/* Waits for the background run, if any (server shutdown). */
void cp_pipeline_run_join_background(void);

/* The subcommand: `chartpulse pipeline run [--help]`. */
int cp_pipeline_main(int argc, char **argv);

#endif
