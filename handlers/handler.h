/* What a handler sees and produces: the request (path and query parameters, the pooled
 * database connection, the server's settings) and the reply (a JSON or text body, or a
 * problem detail). Handlers never touch libmicrohttpd and never pick HTTP codes: the
 * server (server/http.c) fills cp_request and maps the returned status (core/status.h). */
#ifndef CP_HANDLER_H
#define CP_HANDLER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/status.h"

/* HTTP methods as bits, so a route can list several and a 405 can list all of a path's. */
enum cp_method {
    CP_METHOD_GET = 1u << 0,
    CP_METHOD_HEAD = 1u << 1,
    CP_METHOD_POST = 1u << 2,
    CP_METHOD_PUT = 1u << 3,
    CP_METHOD_PATCH = 1u << 4,
    CP_METHOD_DELETE = 1u << 5,
    CP_METHOD_OPTIONS = 1u << 6,
    CP_METHOD_OTHER = 1u << 7, /* anything else: never routed */
};

/* A name/value pair. In a cp_request both strings are owned by the request's owner
 * (http.c) and live as long as the handler call. */
struct cp_param {
    char *name;
    char *value;
};

struct cp_metrics;
struct cp_config;

/* Hands out the request's pooled database connection on first use (http.c implements it):
 * acquire(lease) returns the same connection on every call, or NULL on every call once an
 * attempt failed. The lease, not the handler, releases it after the handler returns. */
struct cp_db_lease;
typedef PGconn *(*cp_db_acquire_fn)(struct cp_db_lease *lease);

/* What a handler sees. Everything is borrowed for the duration of the handler call. */
struct cp_request {
    enum cp_method method;
    const char *path;              /* percent-decoded, without the query string */
    const struct cp_param *params; /* path parameters, in pattern order */
    size_t param_count;
    /* the query parameters the route accepts (server/query.h): each name at most once,
     * every value UTF-8 text without NUL bytes */
    const struct cp_param *query;
    size_t query_count;
    cp_db_acquire_fn db_acquire; /* NULL for CP_DB_NONE routes */
    struct cp_db_lease *db_lease;
    struct cp_metrics *metrics; /* the server's metrics (for GET /metrics) */
    const char *accept;         /* the Accept header, or NULL (csv.h negotiates with it) */
    const char *authorization;  /* the Authorization header, or NULL */
    const char *content_type;   /* the Content-Type header, or NULL */
    const char *body;           /* a POST's body (body_len bytes, NUL-terminated), or NULL */
    size_t body_len;
    const struct cp_config *config; /* the server's settings (its own copy) */
};

/* The value of path parameter `name` ({name} in the pattern), or NULL. Borrowed. */
const char *cp_request_param(const struct cp_request *req, const char *name);
/* The value of query parameter `name`, or NULL when absent; "" for `?name` or `?name=`.
 * Borrowed. */
const char *cp_request_query(const struct cp_request *req, const char *name);
/* The route's pooled database connection, taken from the pool on the first call (so call it
 * after validating the parameters). Borrowed: released by http.c after the handler
 * returns. NULL when the database is unavailable (the reason is logged and counted); the
 * handler then answers CP_ERR_DB. Always NULL for CP_DB_NONE routes. */
PGconn *cp_request_db(const struct cp_request *req);

/* Which success a CP_OK reply is: 200, or 201/202 for a POST that created or started
 * something. Set by cp_reply_created/cp_reply_accepted; only http.c maps it to a code. */
enum cp_reply_outcome {
    CP_REPLY_OK,       /* 200 */
    CP_REPLY_CREATED,  /* 201 */
    CP_REPLY_ACCEPTED, /* 202: started, going on in the background */
};

/* The admin check of write routes (SPEC §3 CHARTPULSE_ADMIN_TOKEN): CP_OK when the request
 * carries `Authorization: Bearer <token>`; CP_ERR_NOT_FOUND when no token is configured (the
 * write endpoints are off); CP_ERR_UNAUTHORIZED for a missing or wrong token (http.c adds
 * WWW-Authenticate). The problem is set in reply. The comparison takes constant time. */
struct cp_reply;
cp_status cp_request_authorize_admin(const struct cp_request *req, struct cp_reply *reply);

/* What a handler produces: on CP_OK a JSON body or a text body, otherwise a problem detail.
 * The reply owns all of them (the body as one jansson reference); http.c frees them with
 * cp_reply_cleanup. */
struct cp_reply {
    enum cp_reply_outcome outcome;
    json_t *body;
    char *text; /* a non-JSON body (e.g. Prometheus text), text_len bytes, NUL-terminated */
    size_t text_len;
    const char *text_type; /* static Content-Type of text */
    /* static Cache-Control of this answer instead of the route's, or NULL (the dashboard's
     * assets: immutable under the build's version, revalidated under any other) */
    const char *cache_control;
    char *detail;
};

/* Sets the answer; steals the reference to body. Returns CP_OK. */
cp_status cp_reply_json(struct cp_reply *reply, json_t *body);
/* Like cp_reply_json, answering 201 Created / 202 Accepted. Return CP_OK. */
cp_status cp_reply_created(struct cp_reply *reply, json_t *body);
cp_status cp_reply_accepted(struct cp_reply *reply, json_t *body);
/* Sets a non-JSON answer; steals text (allocated through mem.h, len bytes + NUL), keeps the
 * static content_type. Returns CP_OK. */
cp_status cp_reply_text(struct cp_reply *reply, char *text, size_t len, const char *content_type);
/* Sets a problem detail (printf-style) for st and returns st, so a handler can write
 * `return cp_reply_problem(reply, CP_ERR_INVALID, "limit: must be 1..1000");`. */
cp_status cp_reply_problem(struct cp_reply *reply, cp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Drops the body reference and frees the text and detail; the reply is empty afterwards. */
void cp_reply_cleanup(struct cp_reply *reply);

/* A handler: validate -> cp_request_db -> repo -> build JSON -> return cp_reply_json or
 * cp_reply_problem. The returned status decides the HTTP status (status.h); CP_OK means 200.
 * A handler of a cacheable route must depend on nothing but the method, path and query. */
typedef cp_status (*cp_handler_fn)(const struct cp_request *req, struct cp_reply *reply);

#endif
