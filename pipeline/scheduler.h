/* The scheduler inside `chartpulse serve`: at each slot of CHARTPULSE_SCHEDULE it starts a
 * pipeline run in the background (trigger "schedule"), as POST /v1/pipeline/runs would.
 *
 * Slots are the same instants in every server with the same schedule ("every N" counts
 * from 1970-01-01 UTC, "daily@HH:MM" is UTC), and each server claims a slot in
 * etl.pipeline_schedule_slot (migration 0018) before starting its run: whichever claims it
 * first runs it, the others log that it was taken. The run lock still keeps two runs from
 * overlapping; the claim keeps a slot from running twice after the first run ended. */
#ifndef CP_SCHEDULER_H
#define CP_SCHEDULER_H

#include <time.h>

#include "core/config.h"
#include "core/status.h"

/* The first slot of schedule strictly after now (seconds since 1970, UTC); 0 for
 * CP_SCHEDULE_NONE. */
time_t cp_schedule_next(const struct cp_schedule *schedule, time_t now);

/* Starts the scheduler thread when cfg has a schedule (cfg is copied); nothing to do
 * otherwise. At most one scheduler per process. */
cp_status cp_scheduler_start(const struct cp_config *cfg, char *err, size_t errlen);
/* Stops the thread, if started; a run it started goes on (cp_pipeline_run_join_background). */
void cp_scheduler_stop(void);
/* The next slot the scheduler will run (seconds since 1970, UTC), or 0 when none runs. */
time_t cp_scheduler_next_run(void);

#endif
