/* Per-client rate limiting: a token bucket per client address (RATE tokens a second, at
 * most BURST saved up), so one client sending more than its share of database requests is
 * told to slow down (429 with Retry-After) while every other client is served as before.
 *
 * Buckets live in a fixed table of 16,384 (640 KB), in sets of four chosen by a keyed hash
 * of the address (the key is random per process, so a client cannot pick addresses that
 * land on someone else's set). A bucket that has refilled completely holds no information
 * and is handed to the next address that needs one; only when more than four addresses of
 * one set are busy at once do two share a bucket (a conservative error: each gets less,
 * never more). Memory is fixed however many clients there are. Thread-safe (one short mutex
 * per group of sets). */
#ifndef CP_RATELIMIT_H
#define CP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cp_ratelimit;

/* rate: tokens per second (> 0); burst: bucket size (>= 1). */
struct cp_ratelimit *cp_ratelimit_new(double rate, unsigned burst);
void cp_ratelimit_free(struct cp_ratelimit *limit);

/* Takes one token from the bucket of the client whose address is the len bytes at addr (an
 * IPv4 or IPv6 address, without the port), at time now_s (seconds on a monotonic clock).
 * True when the request may go on; false when the bucket is empty, with *retry_after_s the
 * whole seconds (>= 1) until a token will be there. */
bool cp_ratelimit_take(struct cp_ratelimit *limit, const void *addr, size_t len, double now_s,
                       unsigned *retry_after_s);

#endif
