/* The cache-generation protocol (core/generation.h). */
#include "core/generation.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/redis.h"

/* A bump runs in the CLI, off any hot path: it may wait this long for Redis. */
#define BUMP_TIMEOUT_MS 2000

static atomic_uint_fast64_t local_generation;

static const char GENERATION_READ_SCRIPT[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1] end "
    "return v";
static const char GENERATION_BUMP_SCRIPT[] =
    "local v = redis.call('INCR', KEYS[1]) "
    "local floor = tonumber(ARGV[1]) "
    "if v < floor then redis.call('SET', KEYS[1], ARGV[1]) return floor end "
    "return v";

static void wall_clock_ms(char out[24])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, 24, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

uint64_t cp_generation_local(void)
{
    return atomic_load_explicit(&local_generation, memory_order_acquire);
}

uint64_t cp_generation_local_bump(void)
{
    return atomic_fetch_add_explicit(&local_generation, 1, memory_order_acq_rel) + 1;
}

cp_status cp_generation_read(redisContext *ctx, uint64_t *out, char *why, size_t whylen)
{
    char now[24];
    wall_clock_ms(now);
    redisReply *reply =
        redisCommand(ctx, "EVAL %s 1 %s %s", GENERATION_READ_SCRIPT, CP_GENERATION_KEY, now);
    uint64_t generation = 0;
    bool ok = reply && reply->type == REDIS_REPLY_STRING;
    if (ok) {
        char *end;
        errno = 0;
        generation = strtoull(reply->str, &end, 10);
        ok = !errno && end != reply->str && !*end;
        if (!ok)
            snprintf(why, whylen, "%s is not a generation", CP_GENERATION_KEY);
    } else {
        cp_redis_reply_problem(ctx, reply, why, whylen);
    }
    freeReplyObject(reply);
    if (!ok)
        return CP_ERR_IO;
    *out = generation;
    return CP_OK;
}

/* INCRs the shared generation. */
static cp_status bump_shared(const char *redis_url, char *err, size_t errlen)
{
    struct cp_redis_address addr;
    if (!cp_redis_parse_url(redis_url, &addr, err, errlen))
        return CP_ERR_INVALID;
    char why[512];
    redisContext *ctx = cp_redis_open(&addr, BUMP_TIMEOUT_MS, why, sizeof why);
    if (!ctx) {
        snprintf(err, errlen, "cannot bump the cache generation: %s", why);
        return CP_ERR_IO;
    }
    char now[24];
    wall_clock_ms(now);
    redisReply *reply =
        redisCommand(ctx, "EVAL %s 1 %s %s", GENERATION_BUMP_SCRIPT, CP_GENERATION_KEY, now);
    cp_status st = CP_OK;
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        cp_redis_reply_problem(ctx, reply, why, sizeof why);
        snprintf(err, errlen, "cannot bump the cache generation: INCR %s: %s", CP_GENERATION_KEY,
                 why);
        st = CP_ERR_IO;
    }
    freeReplyObject(reply);
    redisFree(ctx);
    return st;
}

cp_status cp_generation_bump(const char *redis_url, char *err, size_t errlen)
{
    cp_status st = CP_OK;
    if (redis_url && *redis_url)
        st = bump_shared(redis_url, err, errlen);
    /* after the INCR: a reader that sees the new local one must find the shared one new too */
    cp_generation_local_bump();
    return st;
}
