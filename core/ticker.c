/* Periodic calls on a thread of their own (ticker.h). */
#include "core/ticker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"

struct cp_ticker {
    unsigned interval_ms;
    void (*tick)(void *);
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping; /* under lock */
    pthread_t thread;
};

static void *ticker_main(void *cls)
{
    struct cp_ticker *t = cls;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = until.tv_nsec + (long long)t->interval_ms * 1000000LL;
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &until) == 0) {
        }
        if (t->stopping)
            break;
        pthread_mutex_unlock(&t->lock);
        t->tick(t->arg);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct cp_ticker *cp_ticker_start(unsigned interval_ms, void (*tick)(void *), void *arg, char *err,
                                  size_t errlen)
{
    struct cp_ticker *t = cp_calloc(1, sizeof *t);
    t->interval_ms = interval_ms;
    t->tick = tick;
    t->arg = arg;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    int rc = pthread_create(&t->thread, NULL, ticker_main, t);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

void cp_ticker_stop(struct cp_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
