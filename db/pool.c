/* Bounded PostgreSQL connection pool with a wait queue (after kore's pgsql.c). */
#include "db/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

struct cp_pool {
    char *conninfo;
    int size;
    int acquire_timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t available;
    PGconn **idle; /* stack of idle connections; NULL slots are not yet opened */
    int idle_count;
    int open_count; /* connections handed out or idle */
};

PGconn *cp_db_connect(const char *conninfo, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

struct cp_pool *cp_pool_new(const char *conninfo, int size, int acquire_timeout_ms)
{
    struct cp_pool *pool = cp_calloc(1, sizeof *pool);
    pool->conninfo = cp_strdup(conninfo);
    pool->size = size < 1 ? 1 : size;
    pool->acquire_timeout_ms = acquire_timeout_ms;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->available, NULL);
    pool->idle = cp_calloc((size_t)pool->size, sizeof *pool->idle);
    return pool;
}

void cp_pool_free(struct cp_pool *pool)
{
    if (!pool)
        return;
    for (int i = 0; i < pool->idle_count; i++)
        PQfinish(pool->idle[i]);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->available);
    free(pool->idle);
    free(pool->conninfo);
    free(pool);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

PGconn *cp_pool_acquire(struct cp_pool *pool, cp_status *st)
{
    struct timespec deadline;
    deadline_after(&deadline, pool->acquire_timeout_ms);
    pthread_mutex_lock(&pool->lock);
    while (pool->idle_count == 0 && pool->open_count >= pool->size) {
        if (pthread_cond_timedwait(&pool->available, &pool->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->lock);
            cp_log_warn("database pool: no connection free within %d ms", pool->acquire_timeout_ms);
            *st = CP_ERR_DB;
            return NULL;
        }
    }
    PGconn *conn = NULL;
    if (pool->idle_count > 0)
        conn = pool->idle[--pool->idle_count];
    else
        pool->open_count++;
    pthread_mutex_unlock(&pool->lock);

    if (conn && PQstatus(conn) != CONNECTION_OK) {
        PQreset(conn);
        if (PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = NULL;
        }
    }
    if (!conn) {
        char err[512];
        conn = cp_db_connect(pool->conninfo, err, sizeof err);
        if (!conn) {
            cp_log_error("database connection failed: %s", err);
            pthread_mutex_lock(&pool->lock);
            pool->open_count--;
            pthread_cond_signal(&pool->available);
            pthread_mutex_unlock(&pool->lock);
            *st = CP_ERR_DB;
            return NULL;
        }
    }
    *st = CP_OK;
    return conn;
}

void cp_pool_release(struct cp_pool *pool, PGconn *conn)
{
    if (conn && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        /* a caller left a transaction open or failed inside one: roll it back */
        PGresult *res = PQexec(conn, "rollback");
        PQclear(res);
    }
    if (conn && (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)) {
        PQfinish(conn);
        conn = NULL;
    }
    pthread_mutex_lock(&pool->lock);
    if (conn)
        pool->idle[pool->idle_count++] = conn;
    else
        pool->open_count--;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
}
