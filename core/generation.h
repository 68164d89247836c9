/* The cache-generation protocol: one number that every cached API answer belongs to, so
 * that a load invalidates every server's cache at once. The shared generation lives in the
 * Redis key CP_GENERATION_KEY; writers (`chartpulse load`, `refresh`, an upload) bump it after
 * their transaction committed, readers (the server's cache, server/cache.c) poll it.
 *
 * Shared generations never repeat, even when Redis loses the counter (a restart without
 * persistence, an eviction policy) while cached bodies of old generations survive: a bump
 * INCRs but never to less than the wall clock in milliseconds, and a missing counter is
 * recreated at the wall clock. Both run as Lua scripts, so concurrent servers agree.
 *
 * Beside it each process keeps a local generation, bumped by every cp_generation_bump in the
 * process (and by a reader that sees the shared one go back), so a server in the same process
 * as a writer, or one without Redis, drops its entries at once. */
#ifndef CP_GENERATION_H
#define CP_GENERATION_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "core/status.h"

/* The Redis key holding the shared cache generation. */
#define CP_GENERATION_KEY "chartpulse:cache_generation"

/* Invalidates every cached response: INCRs CP_GENERATION_KEY in Redis (when redis_url is
 * neither NULL nor empty), then bumps this process's local generation. Returns CP_OK, or
 * CP_ERR_INVALID (bad URL) / CP_ERR_IO (Redis unreachable or failing) with one line in err;
 * the local bump happens either way. Blocks up to a couple of seconds on a hung Redis: for
 * the CLI and admin routes, never the HTTP threads. */
cp_status cp_generation_bump(const char *redis_url, char *err, size_t errlen);

/* Reads the shared generation over ctx (creating it at the wall clock when missing).
 * CP_OK with *out set, else CP_ERR_IO with the reason in why (the caller drops ctx). */
cp_status cp_generation_read(redisContext *ctx, uint64_t *out, char *why, size_t whylen);

/* This process's local generation (an atomic read). */
uint64_t cp_generation_local(void);
/* Bumps the local generation and returns the new value. */
uint64_t cp_generation_local_bump(void);

#endif
