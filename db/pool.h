/* A bounded pool of PostgreSQL connections shared by threads. At most `size` connections
 * exist; a caller that finds none free waits up to the acquire timeout. Connections are
 * opened lazily; an idle one the server closed (a restart) is replaced before it is handed
 * out, one returned broken is closed, one returned inside a transaction is rolled back.
 * While the database is unreachable a failed attempt opens a backoff window (100 ms doubling
 * to 5 s) in which acquires fail at once without connecting, and one acquire at a time
 * probes; the first failure, then one line per 5 s, then the recovery are logged. A
 * connection handed out longer than the deadline (cp_pool_set_deadline) has its socket shut
 * down by cp_pool_watchdog, so a call blocked on a hung server returns. */
#ifndef CP_POOL_H
#define CP_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>

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

/* Connections handed out from now on may be held deadline_ms (0: no deadline). */
void cp_pool_set_deadline(struct cp_pool *pool, int deadline_ms);
/* Shuts down the socket of every connection held past its deadline (its caller's libpq call
 * then fails and the connection is discarded on release) and counts it as a failure of
 * the database. Returns how many. Call it periodically from a thread of its own. */
int cp_pool_watchdog(struct cp_pool *pool);
/* Whether conn lost its server (as opposed to a query that failed). */
bool cp_pool_conn_lost(PGconn *conn);
/* False while the backoff says the database is unreachable. */
bool cp_pool_available(struct cp_pool *pool);
/* Connection attempts made so far (for tests and metrics). */
unsigned long long cp_pool_connect_attempts(struct cp_pool *pool);

/* Opens a connection outside any pool; on failure returns NULL with the reason in err. */
PGconn *cp_db_connect(const char *conninfo, char *err, size_t errlen);

#endif
