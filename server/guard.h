/* The statement guard of `chartpulse serve`: a thread that, every couple of seconds, cancels
 * the statements of chartpulse_api and chartpulse_bi running past their role's
 * statement_timeout default (etl.cancel_overrunning, migration 0015), which a session of
 * those roles may have lifted with `set statement_timeout`. */
#ifndef CP_GUARD_H
#define CP_GUARD_H

struct cp_guard;

/* Starts the thread on its own connection as the owner (conninfo, DATABASE_URL); NULL when
 * the thread could not start (logged; serving goes on without the guard). */
struct cp_guard *cp_guard_start(const char *conninfo);
/* Stops and frees it; NULL is fine. */
void cp_guard_stop(struct cp_guard *guard);

#endif
