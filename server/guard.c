#include "server/guard.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/etl_repo.h"
#include "db/pool.h"

/* A statement overrunning its limit is cancelled at most this late. */
#define GUARD_INTERVAL_MS 2000

struct cp_guard {
    char *conninfo;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

/* One pass; false when the connection is unusable (it is reopened on the next pass). */
static bool guard_pass(PGconn *conn)
{
    PGresult *res = NULL;
    char err[512];
    cp_status st = cp_etl_cancel_overrunning(conn, &res, err, sizeof err);
    if (st == CP_OK) {
        for (int i = 0; i < PQntuples(res); i++)
            cp_log_warn("guard: cancelled the statement of %s (pid %s) after %s, past its "
                        "role's statement_timeout %s",
                        PQgetvalue(res, i, 1), PQgetvalue(res, i, 0), PQgetvalue(res, i, 2),
                        PQgetvalue(res, i, 3));
        PQclear(res);
    } else if (st == CP_ERR_DB && PQstatus(conn) == CONNECTION_OK) {
        /* the function is missing (not migrated) or the owner lacks the memberships */
        cp_log_warn("guard: %s", err);
    }
    return PQstatus(conn) == CONNECTION_OK;
}

static void *guard_main(void *arg)
{
    struct cp_guard *guard = arg;
    PGconn *conn = NULL;
    bool reported = false; /* the database being down is logged once, not every pass */
    pthread_mutex_lock(&guard->lock);
    while (!guard->stopping) {
        pthread_mutex_unlock(&guard->lock);
        if (!conn) {
            char err[256];
            conn = cp_db_connect(guard->conninfo, err, sizeof err);
            if (!conn && !reported) {
                cp_log_warn("guard: cannot connect (retrying every %d ms): %s", GUARD_INTERVAL_MS,
                            err);
                reported = true;
            }
        }
        if (conn && guard_pass(conn)) {
            reported = false;
        } else if (conn) {
            PQfinish(conn);
            conn = NULL;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += GUARD_INTERVAL_MS / 1000;
        until.tv_nsec += (long)(GUARD_INTERVAL_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&guard->lock);
        while (!guard->stopping &&
               pthread_cond_timedwait(&guard->wake, &guard->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&guard->lock);
    if (conn)
        PQfinish(conn);
    return NULL;
}

struct cp_guard *cp_guard_start(const char *conninfo)
{
    struct cp_guard *guard = cp_calloc(1, sizeof *guard);
    guard->conninfo = cp_strdup(conninfo);
    pthread_mutex_init(&guard->lock, NULL);
    pthread_cond_init(&guard->wake, NULL);
    if (pthread_create(&guard->thread, NULL, guard_main, guard) != 0) {
        cp_log_error("guard: cannot start its thread; statements past their role's limit "
                     "are not cancelled");
        pthread_cond_destroy(&guard->wake);
        pthread_mutex_destroy(&guard->lock);
        free(guard->conninfo);
        free(guard);
        return NULL;
    }
    return guard;
}

void cp_guard_stop(struct cp_guard *guard)
{
    if (!guard)
        return;
    pthread_mutex_lock(&guard->lock);
    guard->stopping = true;
    pthread_cond_signal(&guard->wake);
    pthread_mutex_unlock(&guard->lock);
    pthread_join(guard->thread, NULL);
    pthread_cond_destroy(&guard->wake);
    pthread_mutex_destroy(&guard->lock);
    free(guard->conninfo);
    free(guard);
}
