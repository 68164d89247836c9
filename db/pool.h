/* A bounded pool of PostgreSQL connections shared by threads. At most `size` connections
 * exist; a caller that finds none free waits up to the acquire timeout. Connections are
 * opened lazily, and a connection returned broken is closed and replaced on next use; one
 * returned inside a transaction is rolled back before reuse. */
#ifndef CP_POOL_H
#define CP_POOL_H

#include <libpq-fe.h>

#include "core/status.h"

struct cp_pool;

/* conninfo is copied. size >= 1. */
struct cp_pool *cp_pool_new(const char *conninfo, int size, int acquire_timeout_ms);
/* All connections must have been released. */
void cp_pool_free(struct cp_pool *pool);

/* Returns a connected PGconn, or NULL with *st = CP_ERR_DB when the database is unreachable or
 * on timeout; the reason is logged once. */
PGconn *cp_pool_acquire(struct cp_pool *pool, cp_status *st);
/* Gives conn back. conn must have come from this pool. */
void cp_pool_release(struct cp_pool *pool, PGconn *conn);

/* Opens a connection outside any pool; on failure returns NULL with the reason in err. */
PGconn *cp_db_connect(const char *conninfo, char *err, size_t errlen);

#endif
