/* The deadline for a request head. libmicrohttpd's connection timeout is an idle timeout:
 * every byte restarts it, so a client sending one header byte every few seconds holds its
 * connection for ever, and a thousand such clients hold every connection slot (slowloris).
 * The guard gives each connection a fixed time, counted from when it opened or from its
 * previous answer, to deliver a complete request line and headers; a connection still
 * without one then is shut down (its socket, shutdown(2), which libmicrohttpd sees as the
 * client going away and closes). Idle keep-alive connections therefore close after the
 * same time, which clients handle as routine (they reconnect).
 *
 * libmicrohttpd reports each connection's start and end (MHD_OPTION_NOTIFY_CONNECTION);
 * the guard tracks them in a list that one thread sweeps twice a second. The end is reported
 * before the socket is closed, under the same lock the sweeper holds while shutting one
 * down, so the guard never touches a socket number that was reused by then. */
#ifndef CP_CONNGUARD_H
#define CP_CONNGUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

struct cp_connguard;
struct cp_connguard_conn;

/* deadline_s: seconds for a head. Starts the sweeping thread; NULL with err set when it
 * cannot start. on_expire (may be NULL) is called, outside the lock, with the number of
 * connections shut down in a sweep. */
struct cp_connguard *cp_connguard_new(unsigned deadline_s, void (*on_expire)(void *, unsigned),
                                      void *cls, char *err, size_t errlen);
/* Stops the thread and frees every record. Call after the HTTP daemon stopped. */
void cp_connguard_free(struct cp_connguard *guard);

/* A connection opened on socket fd: the head clock starts. */
struct cp_connguard_conn *cp_connguard_open(struct cp_connguard *guard, int fd);
/* Its request head is complete: no deadline until the answer is done. */
void cp_connguard_head_done(struct cp_connguard_conn *conn);
/* Its answer is done: the clock starts again for the next request on the connection. */
void cp_connguard_answered(struct cp_connguard_conn *conn);
/* It closed (before libmicrohttpd closes the socket). NULL is ignored. */
void cp_connguard_close(struct cp_connguard *guard, struct cp_connguard_conn *conn);

#endif
