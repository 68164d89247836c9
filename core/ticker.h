/* A thread that calls a function every interval until stopped: the one loop behind the
 * server's periodic work (the request-head sweep, the statement guard, the database
 * watchdog). Stopping wakes it at once instead of waiting out the interval. */
#ifndef CP_TICKER_H
#define CP_TICKER_H

#include <stddef.h>

struct cp_ticker;

/* Starts calling tick(arg) every interval_ms (the first call after one interval). NULL with
 * err set when the thread cannot start. */
struct cp_ticker *cp_ticker_start(unsigned interval_ms, void (*tick)(void *), void *arg, char *err,
                                  size_t errlen);
/* Waits for a tick under way to return, stops the thread and frees t. NULL is ignored. */
void cp_ticker_stop(struct cp_ticker *t);

#endif
