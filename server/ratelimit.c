/* Token buckets per client address in a fixed table (ratelimit.h). */
#include "server/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/mem.h"

#define SLOTS      16384 /* buckets; a power of two */
#define WAYS       4     /* an address may sit in any of the 4 slots of its set */
#define LOCKS      64    /* set groups, one mutex each */
#define ADDR_BYTES 16    /* an IPv6 address; IPv4 ones use the first 4 */

struct bucket {
    unsigned char addr[ADDR_BYTES];
    unsigned char addr_len; /* 0: a free slot */
    double tokens;
    double updated_s;
};

struct cp_ratelimit {
    double rate;
    double burst;
    uint64_t key[2];
    pthread_mutex_t locks[LOCKS];
    struct bucket slots[SLOTS];
};

struct cp_ratelimit *cp_ratelimit_new(double rate, unsigned burst)
{
    struct cp_ratelimit *limit = cp_calloc(1, sizeof *limit);
    limit->rate = rate;
    limit->burst = burst < 1 ? 1 : burst;
    if (getrandom(limit->key, sizeof limit->key, GRND_NONBLOCK) != (ssize_t)sizeof limit->key) {
        limit->key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
        limit->key[1] = (uint64_t)(uintptr_t)limit;
    }
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&limit->locks[i], NULL);
    return limit;
}

void cp_ratelimit_free(struct cp_ratelimit *limit)
{
    if (!limit)
        return;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&limit->locks[i]);
    free(limit);
}

/* A keyed mix of the address (not cryptographic, but unpredictable without the key). */
static uint64_t slot_hash(const struct cp_ratelimit *limit, const unsigned char *addr, size_t len)
{
    uint64_t h = limit->key[0] ^ (len * 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < len; i++) {
        h ^= addr[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    h ^= limit->key[1];
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}

/* The tokens b holds at now_s. */
static double tokens_at(const struct cp_ratelimit *limit, const struct bucket *b, double now_s)
{
    if (!b->addr_len)
        return limit->burst;
    double tokens = b->tokens + (now_s - b->updated_s) * limit->rate;
    return tokens > limit->burst ? limit->burst : tokens;
}

bool cp_ratelimit_take(struct cp_ratelimit *limit, const void *addr, size_t len, double now_s,
                       unsigned *retry_after_s)
{
    if (len > ADDR_BYTES)
        len = ADDR_BYTES;
    size_t set = (size_t)slot_hash(limit, addr, len) & (SLOTS / WAYS - 1);
    pthread_mutex_t *lock = &limit->locks[set % LOCKS];
    struct bucket *ways = &limit->slots[set * WAYS];
    pthread_mutex_lock(lock);
    /* the address's own bucket; else a free one or one whose owner is back at a full bucket
     * (it holds no information: handing it on loses nothing); else, with all four in use by
     * busy addresses, the fullest is shared (each gets less, never more) */
    struct bucket *b = NULL, *spare = NULL;
    double spare_tokens = -1;
    for (int w = 0; w < WAYS && !b; w++) {
        struct bucket *c = &ways[w];
        if (c->addr_len == len && !memcmp(c->addr, addr, len)) {
            b = c;
            break;
        }
        double t = tokens_at(limit, c, now_s);
        if (t > spare_tokens) {
            spare = c;
            spare_tokens = t;
        }
    }
    double tokens;
    if (b) {
        tokens = tokens_at(limit, b, now_s);
    } else {
        b = spare;
        tokens = spare_tokens;
        if (tokens >= limit->burst) {
            memcpy(b->addr, addr, len);
            b->addr_len = (unsigned char)len;
        }
    }
    bool allowed = tokens >= 1.0;
    if (allowed)
        tokens -= 1.0;
    b->tokens = tokens;
    b->updated_s = now_s;
    pthread_mutex_unlock(lock);
    if (!allowed && retry_after_s) {
        double wait = ceil((1.0 - tokens) / limit->rate);
        *retry_after_s = wait < 1 ? 1u : wait > 3600 ? 3600u : (unsigned)wait;
    }
    return allowed;
}
