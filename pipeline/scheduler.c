/* The scheduler thread: sleeps until the next slot, claims it, starts the run. */
#include "pipeline/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "db/pipeline_repo.h"
#include "db/pool.h"
#include "pipeline/pipeline_run.h"

time_t cp_schedule_next(const struct cp_schedule *schedule, time_t now)
{
    switch (schedule->kind) {
    case CP_SCHEDULE_EVERY: {
        time_t every = (time_t)schedule->interval_seconds;
        return (now / every + 1) * every;
    }
    case CP_SCHEDULE_DAILY_AT: {
        time_t day = now - now % 86400;
        time_t at = day + (time_t)schedule->minute_of_day * 60;
        return at > now ? at : at + 86400;
    }
    case CP_SCHEDULE_NONE:
        break;
    }
    return 0;
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool started;
    bool stop;
    struct cp_config cfg;
    atomic_llong next_run;
} sched = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

time_t cp_scheduler_next_run(void)
{
    return (time_t)atomic_load(&sched.next_run);
}

/* Claims slot and, when this server got it, starts its run. */
static void run_slot(time_t slot, const char *me)
{
    char err[1024];
    PGconn *conn = cp_db_connect(sched.cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_log_warn("schedule: slot %lld not run: cannot connect to the database: %s",
                    (long long)slot, err);
        return;
    }
    bool claimed = false;
    if (cp_pipeline_repo_claim_slot(conn, (long long)slot, me, &claimed, err, sizeof err) !=
        CP_OK) {
        cp_log_warn("schedule: slot %lld not run: claiming it failed: %s", (long long)slot, err);
        PQfinish(conn);
        return;
    }
    if (!claimed) {
        cp_log_info("schedule: slot %lld was claimed by another server", (long long)slot);
        PQfinish(conn);
        return;
    }
    long long run_id = 0;
    cp_status st =
        cp_pipeline_run_start_background(&sched.cfg, "schedule", &run_id, err, sizeof err);
    char dberr[512];
    if (st == CP_OK) {
        cp_log_info("schedule: slot %lld started pipeline run %lld", (long long)slot, run_id);
        if (cp_pipeline_repo_slot_outcome(conn, (long long)slot, run_id, NULL, dberr,
                                          sizeof dberr) != CP_OK)
            cp_log_warn("schedule: recording slot %lld's run failed: %s", (long long)slot, dberr);
    } else {
        /* a run still going (an earlier slot's, or one started by hand) covers this slot:
         * the next slot loads whatever arrives meanwhile */
        cp_log_warn("schedule: slot %lld not run: %s", (long long)slot, err);
        if (cp_pipeline_repo_slot_outcome(conn, (long long)slot, 0, err, dberr, sizeof dberr) !=
            CP_OK)
            cp_log_warn("schedule: recording slot %lld failed: %s", (long long)slot, dberr);
    }
    PQfinish(conn);
}

static void *scheduler_main(void *arg)
{
    (void)arg;
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    char me[160];
    snprintf(me, sizeof me, "%s:%ld", host, (long)getpid());
    pthread_mutex_lock(&sched.lock);
    while (!sched.stop) {
        time_t slot = cp_schedule_next(&sched.cfg.schedule, time(NULL));
        atomic_store(&sched.next_run, (long long)slot);
        struct timespec deadline = {.tv_sec = slot, .tv_nsec = 0};
        int rc = 0;
        /* the realtime clock: slots are wall-clock instants, shared with other servers */
        while (!sched.stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&sched.wake, &sched.lock, &deadline);
        if (sched.stop)
            break;
        if (time(NULL) < slot) /* woken early (a clock step back): wait again */
            continue;
        pthread_mutex_unlock(&sched.lock);
        run_slot(slot, me);
        pthread_mutex_lock(&sched.lock);
    }
    atomic_store(&sched.next_run, 0);
    pthread_mutex_unlock(&sched.lock);
    return NULL;
}

cp_status cp_scheduler_start(const struct cp_config *cfg, char *err, size_t errlen)
{
    if (cfg->schedule.kind == CP_SCHEDULE_NONE)
        return CP_OK;
    pthread_mutex_lock(&sched.lock);
    if (sched.started) {
        pthread_mutex_unlock(&sched.lock);
        snprintf(err, errlen, "the scheduler is already running in this process");
        return CP_ERR_CONFLICT;
    }
    cp_config_copy(&sched.cfg, cfg);
    sched.stop = false;
    atomic_store(&sched.next_run, (long long)cp_schedule_next(&cfg->schedule, time(NULL)));
    int rc = pthread_create(&sched.thread, NULL, scheduler_main, NULL);
    if (rc != 0) {
        cp_config_cleanup(&sched.cfg);
        atomic_store(&sched.next_run, 0);
        pthread_mutex_unlock(&sched.lock);
        snprintf(err, errlen, "cannot start the scheduler thread: %s", strerror(rc));
        return CP_ERR_INTERNAL;
    }
    sched.started = true;
    pthread_mutex_unlock(&sched.lock);
    cp_log_info("schedule: %s, next run at %lld", cfg->schedule_text,
                (long long)cp_scheduler_next_run());
    return CP_OK;
}

void cp_scheduler_stop(void)
{
    pthread_mutex_lock(&sched.lock);
    if (!sched.started) {
        pthread_mutex_unlock(&sched.lock);
        return;
    }
    sched.stop = true;
    pthread_cond_signal(&sched.wake);
    pthread_mutex_unlock(&sched.lock);
    pthread_join(sched.thread, NULL);
    pthread_mutex_lock(&sched.lock);
    sched.started = false;
    cp_config_cleanup(&sched.cfg);
    pthread_mutex_unlock(&sched.lock);
}
