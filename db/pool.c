/* Bounded PostgreSQL connection pool with a wait queue (after kore's pgsql.c), a backoff
 * while the database is unreachable and a deadline on every connection handed out. */
#include "db/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

/* While the database is unreachable, the wait before the next connection attempt starts
 * here and doubles up to the cap; everything else is refused at once meanwhile. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000
/* While it stays unreachable, one log line per this many seconds says how many attempts
 * failed and how many acquires were refused since the last one. */
#define REPORT_INTERVAL_S 5

struct lease_entry {
    PGconn *conn; /* NULL: free entry */
    struct timespec deadline;
    bool killed; /* the watchdog shut its socket down */
};

struct cp_pool {
    char *conninfo;
    int size;
    int acquire_timeout_ms;
    int deadline_ms; /* 0: connections handed out have no deadline */
    pthread_mutex_t lock;
    pthread_cond_t available;
    PGconn **idle; /* stack of idle connections; NULL slots are not yet opened */
    int idle_count;
    int open_count;             /* connections handed out or idle */
    struct lease_entry *leased; /* size entries: the connections handed out */

    /* the database's reachability, under lock */
    bool down;
    bool probing; /* one acquire is trying to connect while down; the others do not */
    struct timespec down_since, retry_at, last_report;
    int backoff_ms;
    unsigned long failed_since_report, refused_since_report, failed_total, refused_total;
    char last_error[256];
    unsigned long long connect_attempts;
};

static double mono_now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double ts_seconds(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static void add_ms(struct timespec *ts, int ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void trim_message(char *err)
{
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    /* a multi-line libpq message is kept on one log line */
    for (char *p = err; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

PGconn *cp_db_connect(const char *conninfo, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        trim_message(err);
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
    pool->leased = cp_calloc((size_t)pool->size, sizeof *pool->leased);
    return pool;
}

void cp_pool_set_deadline(struct cp_pool *pool, int deadline_ms)
{
    pthread_mutex_lock(&pool->lock);
    pool->deadline_ms = deadline_ms > 0 ? deadline_ms : 0;
    pthread_mutex_unlock(&pool->lock);
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
    free(pool->leased);
    free(pool->conninfo);
    free(pool);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    add_ms(ts, ms);
}

/* Under lock, while down: the periodic line saying what failed and was refused since the last
 * one, when REPORT_INTERVAL_S has passed. */
static void report_if_due(struct cp_pool *pool, const struct timespec *now, double t)
{
    if (t - ts_seconds(&pool->last_report) < REPORT_INTERVAL_S)
        return;
    cp_log_error("database still unavailable after %.0f s: %s (%lu attempts failed and %lu "
                 "requests refused since the last report; next attempt in %d ms)",
                 t - ts_seconds(&pool->down_since), pool->last_error, pool->failed_since_report,
                 pool->refused_since_report, pool->backoff_ms);
    pool->last_report = *now;
    pool->failed_since_report = 0;
    pool->refused_since_report = 0;
}

/* Under lock: the database failed (a connection attempt, or a query past its deadline).
 * Opens or widens the backoff window; the first failure is logged, later ones once per
 * REPORT_INTERVAL_S with what was suppressed. */
static void note_failure(struct cp_pool *pool, const char *why)
{
    struct timespec now;
    double t = mono_now(&now);
    snprintf(pool->last_error, sizeof pool->last_error, "%s", why);
    pool->failed_total++;
    if (!pool->down) {
        pool->down = true;
        pool->down_since = now;
        pool->last_report = now;
        pool->backoff_ms = BACKOFF_FIRST_MS;
        pool->failed_since_report = 0;
        pool->refused_since_report = 0;
        pool->failed_total = 1;
        pool->refused_total = 0;
        cp_log_error("database unavailable: %s; retrying with a backoff from %d ms to %d s, "
                     "refusing requests meanwhile (reported every %d s)",
                     why, BACKOFF_FIRST_MS, BACKOFF_MAX_MS / 1000, REPORT_INTERVAL_S);
    } else {
        pool->failed_since_report++;
        pool->backoff_ms =
            pool->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pool->backoff_ms * 2;
        report_if_due(pool, &now, t);
    }
    pool->retry_at = now;
    add_ms(&pool->retry_at, pool->backoff_ms);
}

/* Under lock: a connection attempt succeeded. */
static void note_recovery(struct cp_pool *pool)
{
    if (!pool->down)
        return;
    struct timespec now;
    double t = mono_now(&now);
    cp_log_info("database reachable again after %.1f s (%lu connection attempts failed, %lu "
                "requests refused meanwhile)",
                t - ts_seconds(&pool->down_since), pool->failed_total, pool->refused_total);
    pool->down = false;
}

/* Under lock: whether an acquire must be refused without trying (the backoff window is
 * open, or another acquire is already probing the database). */
static bool refuse_now(struct cp_pool *pool)
{
    if (!pool->down)
        return false;
    struct timespec now;
    double t = mono_now(&now);
    if (pool->probing || t < ts_seconds(&pool->retry_at)) {
        pool->refused_since_report++;
        pool->refused_total++;
        report_if_due(pool, &now, t);
        return true;
    }
    return false;
}

/* Whether an idle connection is still usable: after a server restart its socket is at end
 * of file (often behind the server's "terminating connection" notice), which libpq only
 * notices on the next query. Reading what is there turns that into CONNECTION_BAD. */
static bool idle_alive(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return false;
    int fd = PQsocket(conn);
    if (fd < 0)
        return false;
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return false; /* the server closed it */
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return false;
    if (n > 0 && (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK ||
                  PQtransactionStatus(conn) != PQTRANS_IDLE))
        return false;
    if (n > 0) {
        /* a notice or parameter change is harmless; anything after it (EOF) is not */
        n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return false;
    }
    return true;
}

/* Under lock: records conn as handed out, with its deadline. */
static void lease_add(struct cp_pool *pool, PGconn *conn)
{
    for (int i = 0; i < pool->size; i++) {
        if (!pool->leased[i].conn) {
            pool->leased[i].conn = conn;
            pool->leased[i].killed = false;
            clock_gettime(CLOCK_MONOTONIC, &pool->leased[i].deadline);
            add_ms(&pool->leased[i].deadline, pool->deadline_ms);
            return;
        }
    }
}

/* Under lock: forgets conn; returns whether the watchdog had shut it down. */
static bool lease_remove(struct cp_pool *pool, PGconn *conn)
{
    for (int i = 0; i < pool->size; i++) {
        if (pool->leased[i].conn == conn) {
            bool killed = pool->leased[i].killed;
            pool->leased[i].conn = NULL;
            return killed;
        }
    }
    return false;
}

PGconn *cp_pool_acquire(struct cp_pool *pool, cp_status *st)
{
    struct timespec deadline;
    deadline_after(&deadline, pool->acquire_timeout_ms);
    pthread_mutex_lock(&pool->lock);
    if (refuse_now(pool)) {
        pthread_mutex_unlock(&pool->lock);
        *st = CP_ERR_DB;
        return NULL;
    }
    while (pool->idle_count == 0 && pool->open_count >= pool->size) {
        if (pthread_cond_timedwait(&pool->available, &pool->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->lock);
            cp_log_warn("database pool: no connection free within %d ms", pool->acquire_timeout_ms);
            *st = CP_ERR_DB;
            return NULL;
        }
    }
    if (refuse_now(pool)) { /* it went down while this one waited */
        pthread_cond_signal(&pool->available);
        pthread_mutex_unlock(&pool->lock);
        *st = CP_ERR_DB;
        return NULL;
    }
    PGconn *conn = NULL;
    if (pool->idle_count > 0)
        conn = pool->idle[--pool->idle_count];
    else
        pool->open_count++;
    pthread_mutex_unlock(&pool->lock);

    /* the slot is ours: a dead idle connection is replaced in it by a fresh one */
    if (conn && !idle_alive(conn)) {
        PQfinish(conn);
        conn = NULL;
    }
    if (!conn) {
        pthread_mutex_lock(&pool->lock);
        bool probe = pool->down;
        if (probe)
            pool->probing = true;
        pool->connect_attempts++;
        pthread_mutex_unlock(&pool->lock);

        char err[512];
        conn = cp_db_connect(pool->conninfo, err, sizeof err);
        pthread_mutex_lock(&pool->lock);
        if (probe)
            pool->probing = false;
        if (!conn) {
            note_failure(pool, err);
            pool->open_count--;
            pthread_cond_signal(&pool->available);
            pthread_mutex_unlock(&pool->lock);
            *st = CP_ERR_DB;
            return NULL;
        }
        note_recovery(pool);
        pthread_mutex_unlock(&pool->lock);
    }
    pthread_mutex_lock(&pool->lock);
    lease_add(pool, conn);
    pthread_mutex_unlock(&pool->lock);
    *st = CP_OK;
    return conn;
}

void cp_pool_release(struct cp_pool *pool, PGconn *conn)
{
    if (conn && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        /* a caller left a transaction open or failed inside one: roll it back (still under
         * the deadline, so a hung server cannot hold this thread) */
        PGresult *res = PQexec(conn, "rollback");
        PQclear(res);
    }
    pthread_mutex_lock(&pool->lock);
    bool killed = conn && lease_remove(pool, conn);
    pthread_mutex_unlock(&pool->lock);
    if (conn &&
        (killed || PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)) {
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

int cp_pool_watchdog(struct cp_pool *pool)
{
    if (!pool)
        return 0;
    int killed = 0;
    struct timespec now;
    double t = mono_now(&now);
    pthread_mutex_lock(&pool->lock);
    if (pool->deadline_ms > 0) {
        for (int i = 0; i < pool->size; i++) {
            struct lease_entry *e = &pool->leased[i];
            if (!e->conn || e->killed || t < ts_seconds(&e->deadline))
                continue;
            /* libpq has no query timeout and a stopped server's kernel still acknowledges,
             * so keepalives never fire: ending the socket is what makes the blocked call
             * return. The entry is removed under this lock before the connection is
             * finished, so the descriptor is still this connection's. */
            int fd = PQsocket(e->conn);
            if (fd >= 0)
                shutdown(fd, SHUT_RDWR);
            e->killed = true;
            killed++;
        }
        if (killed) {
            char why[128];
            snprintf(why, sizeof why, "%d connection%s held past the %d ms deadline (closed)",
                     killed, killed == 1 ? "" : "s", pool->deadline_ms);
            note_failure(pool, why);
        }
    }
    pthread_mutex_unlock(&pool->lock);
    return killed;
}

bool cp_pool_conn_lost(PGconn *conn)
{
    return conn && PQstatus(conn) == CONNECTION_BAD;
}

bool cp_pool_available(struct cp_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    bool up = !pool->down;
    pthread_mutex_unlock(&pool->lock);
    return up;
}

unsigned long long cp_pool_connect_attempts(struct cp_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    unsigned long long n = pool->connect_attempts;
    pthread_mutex_unlock(&pool->lock);
    return n;
}
