/* Redis connections: REDIS_URL parsing and a connected, authenticated context. */
#include "core/redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/number.h"

/* Copies s[0..len) into out (outlen bytes), decoding %XX. False when it does not fit or an
 * escape is malformed. */
static bool copy_decoded(char *out, size_t outlen, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return false;
            int hi = cp_hex_digit(s[i + 1]);
            int lo = cp_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= outlen)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return true;
}

bool cp_redis_parse_url(const char *url, struct cp_redis_address *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->port = 6379;
    if (strncmp(url, "redis://", 8)) {
        snprintf(err, errlen, "REDIS_URL: must be a redis://host:port/db URL");
        return false;
    }
    const char *p = url + 8;
    const char *at = strchr(p, '@');
    const char *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t user_len = colon ? (size_t)(colon - p) : (size_t)(at - p);
        bool ok = true;
        if (colon) {
            ok = copy_decoded(a->user, sizeof a->user, p, user_len) &&
                 copy_decoded(a->password, sizeof a->password, colon + 1, (size_t)(at - colon - 1));
        } else {
            /* redis://secret@host: a lone credential is the password */
            ok = copy_decoded(a->password, sizeof a->password, p, user_len);
        }
        if (!ok) {
            snprintf(err, errlen, "REDIS_URL: the credentials are malformed or too long");
            return false;
        }
        p = at + 1;
    }
    const char *host_end;
    const char *host = p;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            snprintf(err, errlen, "REDIS_URL: unterminated [IPv6] host");
            return false;
        }
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?");
        p = host_end;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof a->host) {
        snprintf(err, errlen, "REDIS_URL: missing or overlong host");
        return false;
    }
    memcpy(a->host, host, host_len);
    a->host[host_len] = '\0';
    if (*p == ':') {
        char *end;
        errno = 0;
        long port = strtol(p + 1, &end, 10);
        if (errno || end == p + 1 || port < 1 || port > 65535) {
            snprintf(err, errlen, "REDIS_URL: the port must be a number from 1 to 65535");
            return false;
        }
        a->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1] && p[1] != '?') {
        char *end;
        errno = 0;
        long db = strtol(p + 1, &end, 10);
        if (errno || end == p + 1 || (*end && *end != '?') || db < 0 || db > 1000000) {
            snprintf(err, errlen, "REDIS_URL: the database must be a number");
            return false;
        }
        a->db = db;
    }
    return true;
}

static struct timeval timeval_ms(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* Runs one command that must not fail (AUTH, SELECT); false with err set when it does. */
static bool redis_setup_command(redisContext *ctx, char *err, size_t errlen, const char *what,
                                int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(ctx, argc, argv, NULL);
    if (!reply) {
        snprintf(err, errlen, "%s: %s", what, ctx->errstr[0] ? ctx->errstr : "no reply");
        return false;
    }
    bool ok = reply->type != REDIS_REPLY_ERROR;
    if (!ok)
        snprintf(err, errlen, "%s: %.*s", what, (int)reply->len, reply->str);
    freeReplyObject(reply);
    return ok;
}

redisContext *cp_redis_open(const struct cp_redis_address *a, int timeout_ms, char *err,
                            size_t errlen)
{
    redisContext *ctx = redisConnectWithTimeout(a->host, a->port, timeval_ms(timeout_ms));
    if (!ctx) {
        snprintf(err, errlen, "cannot allocate a Redis context");
        return NULL;
    }
    if (ctx->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s:%d: %s", a->host, a->port,
                 ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    /* without this, a hung Redis blocks a call for seconds (NOTES-performance.md) */
    if (redisSetTimeout(ctx, timeval_ms(timeout_ms)) != REDIS_OK) {
        snprintf(err, errlen, "cannot set the Redis timeout: %s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    bool ok = true;
    if (a->password[0]) {
        /* Redis 6 ACLs take "AUTH user password"; older servers only "AUTH password" */
        const char *with_user[] = {"AUTH", a->user, a->password};
        const char *password_only[] = {"AUTH", a->password};
        ok = a->user[0] ? redis_setup_command(ctx, err, errlen, "Redis AUTH", 3, with_user)
                        : redis_setup_command(ctx, err, errlen, "Redis AUTH", 2, password_only);
    }
    if (ok && a->db) {
        char db[24];
        snprintf(db, sizeof db, "%ld", a->db);
        const char *argv[] = {"SELECT", db};
        ok = redis_setup_command(ctx, err, errlen, "Redis SELECT", 2, argv);
    }
    if (!ok) {
        redisFree(ctx);
        return NULL;
    }
    return ctx;
}

void cp_redis_reply_problem(const redisContext *ctx, const redisReply *reply, char *out,
                            size_t outlen)
{
    if (!reply)
        snprintf(out, outlen, "%s", ctx->errstr[0] ? ctx->errstr : "no reply");
    else if (reply->type == REDIS_REPLY_ERROR)
        snprintf(out, outlen, "%.*s", (int)reply->len, reply->str);
    else
        snprintf(out, outlen, "unexpected reply type %d", reply->type);
}
