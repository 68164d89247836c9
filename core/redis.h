/* Redis connections shared by the response cache, the cache-generation protocol and the
 * Spotify token cache: one parser of REDIS_URL and one way to open a connection. */
#ifndef CP_REDIS_H
#define CP_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

/* Longest Redis URL parts we accept. */
#define CP_REDIS_HOST_MAX   256
#define CP_REDIS_SECRET_MAX 256

/* Where REDIS_URL points. */
struct cp_redis_address {
    char host[CP_REDIS_HOST_MAX];
    int port;                           /* 6379 when the URL names none */
    long db;                            /* 0 when the URL names none */
    char user[CP_REDIS_SECRET_MAX];     /* "" for none */
    char password[CP_REDIS_SECRET_MAX]; /* "" for none */
};

/* Parses redis://[[user]:password@]host[:port][/db] (user and password percent-decoded).
 * False with one line naming REDIS_URL in err when the URL is malformed. */
bool cp_redis_parse_url(const char *url, struct cp_redis_address *a, char *err, size_t errlen);

/* A connected context with timeout_ms on every later call, authenticated and on the URL's
 * database (the caller redisFree()s it), or NULL with err set. */
redisContext *cp_redis_open(const struct cp_redis_address *a, int timeout_ms, char *err,
                            size_t errlen);

/* Why reply (NULL: the connection failed) is not what was expected, for the log. */
void cp_redis_reply_problem(const redisContext *ctx, const redisReply *reply, char *out,
                            size_t outlen);

#endif
