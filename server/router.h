/* The REST route table as data (routes.c) and the matcher that tells 404 (no such path)
 * from 405 (path exists, method does not). What a handler sees is in handlers/handler.h. */
#ifndef CP_ROUTER_H
#define CP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "handlers/handler.h"

/* Which database connection a route's handler gets. */
enum cp_route_db {
    CP_DB_NONE,    /* answered on the HTTP thread, req->db is NULL */
    CP_DB_READ,    /* DATABASE_READ_URL when set, else API_DATABASE_URL */
    CP_DB_PRIMARY, /* always API_DATABASE_URL (e.g. readiness, which checks migrations) */
    CP_DB_WRITE,   /* DATABASE_URL (the owner), a small pool: only the admin write routes */
};

/* Longest path a route pattern may have, in `{param}` segments. */
#define CP_ROUTE_MAX_PARAMS 4
/* Most query parameters a request may carry; more answer 400 (server/query.h). */
#define CP_REQUEST_MAX_QUERY 32

/* A response header a route adds to all its answers. */
struct cp_header {
    const char *name;
    const char *value;
};

struct cp_route {
    unsigned methods; /* CP_METHOD_* bits; GET implies HEAD */
    /* e.g. "/v1/charts/{region}/{date}": `{x}` matches one segment; a last `{x...}` matches
     * one or more segments, its value the decoded segments joined by '/' (see
     * cp_router_match for what it refuses) */
    const char *pattern;
    cp_handler_fn handler;
    enum cp_route_db db;
    const char *cache_control; /* Cache-Control of a 200 answer */
    /* 200 answers to GET/HEAD are kept in the response cache (cache.h) and served from it
     * until the cache generation changes. Only for answers that depend on nothing but the
     * method, path and query, and that change only when data is loaded. */
    bool cacheable;
    /* headers added to every answer of this route (200, 304 and problems alike), ending
     * with {NULL}; NULL for none */
    const struct cp_header *headers;
    /* the query parameters the route's handler reads, ending with NULL; any other answers
     * 400 (server/query.h), so no stray parameter reaches a handler or multiplies cache
     * entries. NULL: the route takes none. cp_query_any: the page's query string is its
     * own state, read by its script and never by the server. */
    const char *const *query;
};

/* A route's `query` that accepts any query string, unread (routes.c). */
extern const char *const cp_query_any[];

/* THE route table (routes.c): the only place a route is declared. */
extern const struct cp_route cp_routes[];
extern const size_t cp_routes_count;

/* The outcome of matching one request. Owns the parameter values it holds. */
struct cp_route_match {
    const struct cp_route *route; /* NULL unless the match is CP_OK */
    struct cp_param params[CP_ROUTE_MAX_PARAMS];
    size_t param_count;
    unsigned allowed; /* CP_METHOD_* bits of every route on this path (for Allow) */
};

/* Maps a method name ("GET") to its bit; unknown names give CP_METHOD_OTHER. */
enum cp_method cp_method_parse(const char *name);

/* Matches path -- as the client sent it, still percent-encoded, without the query -- and
 * method against the table; each segment is decoded after splitting, so path parameters
 * are decoded and may contain an encoded '/'. A `{x...}` wildcard instead refuses (no
 * match) a segment that is empty, "." or "..", or decodes to one holding '/', a backslash or a
 * control byte, so its value is always a plain relative path. No segment matches when it
 * decodes to a NUL byte or to bytes that are not UTF-8, so parameters are always text. Returns
 * CP_OK with match->route set, CP_ERR_NOT_FOUND when no route has this path, or CP_ERR_METHOD when
 * some do but not for this method (match->allowed says which). Always call cp_router_match_cleanup
 * after. */
cp_status cp_router_match(const char *path, enum cp_method method, struct cp_route_match *match);
void cp_router_match_cleanup(struct cp_route_match *match);

/* Writes an Allow header value ("GET, HEAD") for the method bits into out. */
void cp_router_allow_header(unsigned methods, char *out, size_t outlen);

#endif
