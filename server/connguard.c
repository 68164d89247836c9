/* Request-head deadlines by a sweeping thread (connguard.h). */
#include "server/connguard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/mem.h"
#include "core/ticker.h"

#define SWEEP_MS 500

struct cp_connguard_conn {
    struct cp_connguard_conn *prev, *next;
    int fd;
    atomic_bool in_request;    /* the head arrived; the answer is not done yet */
    atomic_llong head_from_ms; /* monotonic ms when the head clock started */
    bool shut;                 /* under the guard's lock: shut down already */
};

struct cp_connguard {
    long long deadline_ms;
    void (*on_expire)(void *, unsigned);
    void *cls;
    pthread_mutex_t lock; /* the list, and each record's `shut` */
    struct cp_connguard_conn *head;
    struct cp_ticker *ticker;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One sweep: shuts every connection whose head is late. */
static void sweep(void *arg)
{
    struct cp_connguard *guard = arg;
    long long now = now_ms();
    unsigned expired = 0;
    pthread_mutex_lock(&guard->lock);
    for (struct cp_connguard_conn *c = guard->head; c; c = c->next) {
        if (c->shut || atomic_load(&c->in_request))
            continue;
        if (now - atomic_load(&c->head_from_ms) >= guard->deadline_ms) {
            shutdown(c->fd, SHUT_RDWR);
            c->shut = true;
            expired++;
        }
    }
    pthread_mutex_unlock(&guard->lock);
    if (expired && guard->on_expire)
        guard->on_expire(guard->cls, expired);
}

struct cp_connguard *cp_connguard_new(unsigned deadline_s, void (*on_expire)(void *, unsigned),
                                      void *cls, char *err, size_t errlen)
{
    struct cp_connguard *guard = cp_calloc(1, sizeof *guard);
    guard->deadline_ms = (long long)deadline_s * 1000;
    guard->on_expire = on_expire;
    guard->cls = cls;
    pthread_mutex_init(&guard->lock, NULL);
    char why[128];
    guard->ticker = cp_ticker_start(SWEEP_MS, sweep, guard, why, sizeof why);
    if (!guard->ticker) {
        snprintf(err, errlen, "cannot start the request-head guard: %s", why);
        pthread_mutex_destroy(&guard->lock);
        free(guard);
        return NULL;
    }
    return guard;
}

void cp_connguard_free(struct cp_connguard *guard)
{
    if (!guard)
        return;
    cp_ticker_stop(guard->ticker);
    while (guard->head) {
        struct cp_connguard_conn *next = guard->head->next;
        free(guard->head);
        guard->head = next;
    }
    pthread_mutex_destroy(&guard->lock);
    free(guard);
}

struct cp_connguard_conn *cp_connguard_open(struct cp_connguard *guard, int fd)
{
    struct cp_connguard_conn *conn = cp_calloc(1, sizeof *conn);
    conn->fd = fd;
    atomic_init(&conn->in_request, false);
    atomic_init(&conn->head_from_ms, now_ms());
    pthread_mutex_lock(&guard->lock);
    conn->next = guard->head;
    if (guard->head)
        guard->head->prev = conn;
    guard->head = conn;
    pthread_mutex_unlock(&guard->lock);
    return conn;
}

void cp_connguard_head_done(struct cp_connguard_conn *conn)
{
    if (conn)
        atomic_store(&conn->in_request, true);
}

void cp_connguard_answered(struct cp_connguard_conn *conn)
{
    if (!conn)
        return;
    atomic_store(&conn->head_from_ms, now_ms());
    atomic_store(&conn->in_request, false);
}

void cp_connguard_close(struct cp_connguard *guard, struct cp_connguard_conn *conn)
{
    if (!conn)
        return;
    pthread_mutex_lock(&guard->lock);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        guard->head = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    pthread_mutex_unlock(&guard->lock);
    free(conn);
}
