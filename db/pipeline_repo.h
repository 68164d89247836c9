/* SQL for pipeline runs (etl.pipeline_run, etl.pipeline_step; migration 0008): starting a
 * run (at most one at a time), timing its steps, finishing it, and listing runs. */
#ifndef CP_PIPELINE_REPO_H
#define CP_PIPELINE_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* A run is alive while the process executing it holds the run lock (a session-level
 * advisory lock, etl.pipeline_run_lock_key(), migration 0014) on the connection it was
 * started on; process death ends the session and so releases it. A run left `running`
 * without the lock is dead: listed as failed with this error, and recorded failed by the
 * next run (which appends "; marked failed by run N"). */
#define CP_PIPELINE_DEAD_RUN_ERROR "the process running it stopped (no lock held)"

/* Takes the run lock on conn and keeps it (the caller executes the run on conn and closes
 * or releases it at the end), marks dead runs failed, and records a new run with trigger
 * ("schedule" | "api" | "cli") and its steps (names, NULL-terminated) as pending; *run_id
 * receives its id. CP_ERR_CONFLICT naming the live run when another session holds the
 * lock. On failure conn does not hold the lock. conn must not be a pooled connection. */
cp_status cp_pipeline_repo_start(PGconn *conn, const char *trigger, const char *const *steps,
                                 long long *run_id, char *err, size_t errlen);
/* As cp_pipeline_repo_start, for a run resuming run resume_of (`pipeline run --resume`):
 * the steps before resume_of's first failed step are recorded skipped ("done in run N") and
 * *first_step receives the step to start from. CP_ERR_NOT_FOUND when resume_of does not
 * exist, CP_ERR_INVALID when it did not fail (it succeeded, or is still going). */
cp_status cp_pipeline_repo_start_resume(PGconn *conn, const char *trigger, const char *const *steps,
                                        long long resume_of, int *first_step, long long *run_id,
                                        char *err, size_t errlen);
/* Marks step step_no (0-based, in the order given to start) running, now. */
cp_status cp_pipeline_repo_step_begin(PGconn *conn, long long run_id, int step_no, char *err,
                                      size_t errlen);
/* Records that attempt (1-based) of step step_no failed with detail and will be retried. */
cp_status cp_pipeline_repo_step_retry(PGconn *conn, long long run_id, int step_no, int attempt,
                                      const char *detail, char *err, size_t errlen);
/* Ends step step_no with status (succeeded | failed | skipped), detail (NULL for none) and
 * the attempts it took (0 when it never ran). */
cp_status cp_pipeline_repo_step_end(PGconn *conn, long long run_id, int step_no, const char *status,
                                    const char *detail, int attempts, char *err, size_t errlen);
/* Ends the run with status (succeeded | failed) and error (NULL for none); steps still
 * pending are marked skipped. */
cp_status cp_pipeline_repo_finish(PGconn *conn, long long run_id, const char *status,
                                  const char *error, char *err, size_t errlen);

/* One run as the API shows it. Strings are owned by the list. */
struct cp_pipeline_run_row {
    long long run_id;
    char *trigger;
    char *started_at;  /* RFC 3339, UTC */
    char *finished_at; /* NULL while running */
    char *status;
    char *error;            /* NULL for none */
    long long resumed_from; /* the run this one resumes; 0 for none */
    char *steps_json;       /* a JSON array of {name,status,started_at,finished_at,seconds,attempts,
                               detail} */
};

struct cp_pipeline_run_list {
    struct cp_pipeline_run_row *runs;
    size_t count;
};

/* The newest limit runs, newest first; only_run_id > 0 lists that run alone (CP_ERR_NOT_FOUND
 * when it does not exist). Free with cp_pipeline_run_list_cleanup. */
cp_status cp_pipeline_repo_list(PGconn *conn, int limit, long long only_run_id,
                                struct cp_pipeline_run_list *out, char *err, size_t errlen);
void cp_pipeline_run_list_cleanup(struct cp_pipeline_run_list *list);

/* How many cataloged raw objects wait to be loaded (not counting those whose last load
 * failed: a load skips them until retried). */
cp_status cp_pipeline_repo_pending_objects(PGconn *conn, long long *count, char *err,
                                           size_t errlen);

/* Claims schedule slot slot_epoch (seconds since 1970, UTC) for claimed_by: *claimed is
 * false when another server claimed it first. */
cp_status cp_pipeline_repo_claim_slot(PGconn *conn, long long slot_epoch, const char *claimed_by,
                                      bool *claimed, char *err, size_t errlen);
/* Records what came of a claimed slot: the run it started (run_id > 0) or why none did. */
cp_status cp_pipeline_repo_slot_outcome(PGconn *conn, long long slot_epoch, long long run_id,
                                        const char *note, char *err, size_t errlen);

#endif
