/* The query string of a request, parsed as the client sent it (libmicrohttpd's own parser
 * cuts a value at a decoded NUL byte, keeps repeated names, and its callers cannot tell an
 * invalid byte from text), and checked against what the matched route accepts. */
#ifndef CP_QUERY_H
#define CP_QUERY_H

#include <stddef.h>

#include "core/status.h"
#include "handlers/handler.h"

/* Parses raw (the request target after '?', still percent-encoded, '+' meaning a space;
 * NULL or "" for none) into out (at most max pairs, names and values newly allocated;
 * *count says how many, free them even on failure). accepted is the route's list
 * (router.h): NULL accepts none, cp_query_any accepts anything and keeps nothing. `name`
 * alone reads as `name=`; empty pairs (`&&`) are skipped.
 *
 * Returns CP_OK, or CP_ERR_INVALID with *detail (caller frees) naming the parameter when
 * there are more than max pairs, a name the route does not accept, a name given twice, or
 * a value holding a NUL byte or bytes that are not UTF-8: such a request is refused whole
 * instead of being read in part. */
cp_status cp_query_parse(const char *raw, const char *const *accepted, struct cp_param *out,
                         size_t max, size_t *count, char **detail);

#endif
