/* Route matching over the table in routes.c: 404 (no such path) told from 405 (no such method). */
#include "server/router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/mem.h"
#include "core/percent.h"
#include "core/text.h"

static const struct {
    const char *name;
    enum cp_method method;
} method_names[] = {
    {"GET", CP_METHOD_GET},         {"HEAD", CP_METHOD_HEAD},   {"POST", CP_METHOD_POST},
    {"PUT", CP_METHOD_PUT},         {"PATCH", CP_METHOD_PATCH}, {"DELETE", CP_METHOD_DELETE},
    {"OPTIONS", CP_METHOD_OPTIONS},
};

#define N_METHODS (sizeof method_names / sizeof method_names[0])

enum cp_method cp_method_parse(const char *name)
{
    for (size_t i = 0; name && i < N_METHODS; i++)
        if (!strcmp(method_names[i].name, name))
            return method_names[i].method;
    return CP_METHOD_OTHER;
}

void cp_router_allow_header(unsigned methods, char *out, size_t outlen)
{
    size_t used = 0;
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (methods & CP_METHOD_GET)
        methods |= CP_METHOD_HEAD;
    for (size_t i = 0; i < N_METHODS; i++) {
        if (!(methods & method_names[i].method))
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", method_names[i].name);
        if (n < 0 || (size_t)n >= outlen - used)
            break;
        used += (size_t)n;
    }
}

/* Percent-decodes one path segment into a new string, or returns NULL when it decodes to
 * something no route can mean: a NUL byte, or bytes that are not UTF-8 (every literal
 * segment is ASCII, and a parameter that is not text would only reach the database as an
 * encoding error). A '%' not followed by two hex digits stays. */
static char *decode_segment(const char *s, size_t n)
{
    size_t len = 0;
    char *out = cp_percent_decode(s, n, false, &len);
    if (memchr(out, '\0', len) || cp_utf8_invalid_at(out, len) != len) {
        free(out);
        return NULL;
    }
    return out;
}

#define WILDCARD_SUFFIX     "...}"
#define WILDCARD_SUFFIX_LEN (sizeof WILDCARD_SUFFIX - 1)

/* Whether a pattern segment (plen bytes) is a `{x...}` wildcard. */
static bool is_wildcard(const char *pp, size_t plen)
{
    return plen > WILDCARD_SUFFIX_LEN + 1 && pp[0] == '{' &&
           !memcmp(pp + plen - WILDCARD_SUFFIX_LEN, WILDCARD_SUFFIX, WILDCARD_SUFFIX_LEN);
}

/* Whether a decoded segment may be part of a wildcard's value: a plain name, never a dot
 * segment, an encoded separator or a control byte, so the value cannot say "go up" in any
 * spelling a file lookup might honour. */
static bool plain_segment(const char *segment)
{
    if (!*segment || !strcmp(segment, ".") || !strcmp(segment, ".."))
        return false;
    for (const unsigned char *p = (const unsigned char *)segment; *p; p++)
        if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Matches the rest of a path (sp, just after a '/') to a wildcard: every segment decoded,
 * checked by plain_segment and joined by '/'. Returns the value, or NULL when a segment
 * is refused. */
static char *match_rest(const char *sp)
{
    size_t len = strlen(sp);
    char *value = cp_malloc(len + 1);
    size_t used = 0;
    for (;;) {
        size_t slen = strcspn(sp, "/");
        char *segment = decode_segment(sp, slen);
        if (!segment || !plain_segment(segment)) {
            free(segment);
            free(value);
            return NULL;
        }
        size_t n = strlen(segment); /* decoding only shortens: it fits */
        memcpy(value + used, segment, n);
        used += n;
        free(segment);
        sp += slen;
        if (!*sp)
            break;
        value[used++] = '/';
        sp++;
    }
    value[used] = '\0';
    return value;
}

/* Matches one pattern against a path as the client sent it (still percent-encoded): the
 * path is split at '/' first and each segment decoded after, so an encoded '/' inside a
 * parameter (a track URL given as an id) stays inside it. On success fills params (owned,
 * decoded copies) and returns true. On failure leaves no allocation behind. */
static bool match_pattern(const char *pattern, const char *path, struct cp_param *params,
                          size_t *param_count)
{
    size_t count = 0;
    const char *pp = pattern, *sp = path;
    while (*pp && *sp) {
        if (*pp != '/' || *sp != '/')
            goto no;
        pp++;
        sp++;
        const char *pend = strchr(pp, '/');
        const char *send = strchr(sp, '/');
        size_t plen = pend ? (size_t)(pend - pp) : strlen(pp);
        size_t slen = send ? (size_t)(send - sp) : strlen(sp);
        if (is_wildcard(pp, plen) && !pp[plen]) {
            char *value = count < CP_ROUTE_MAX_PARAMS ? match_rest(sp) : NULL;
            if (!value)
                goto no;
            params[count].name = NULL;
            params[count].value = value;
            count++;
            pp += plen;
            sp += strlen(sp);
            break;
        }
        char *segment = decode_segment(sp, slen);
        if (!segment)
            goto no;
        if (plen >= 2 && pp[0] == '{' && pp[plen - 1] == '}') {
            if (!*segment || count == CP_ROUTE_MAX_PARAMS) {
                free(segment);
                goto no;
            }
            params[count].name = NULL; /* named by name_params once a route wins */
            params[count].value = segment;
            count++;
        } else {
            bool same = strlen(segment) == plen && !memcmp(pp, segment, plen);
            free(segment);
            if (!same)
                goto no;
        }
        pp += plen;
        sp += slen;
    }
    if (*pp || *sp)
        goto no;
    *param_count = count;
    return true;
no:
    for (size_t i = 0; i < count; i++)
        free(params[i].value);
    return false;
}

/* Points params[i].name at the i-th `{name}` (or `{name...}`) of pattern, copied into names (one
 * buffer per match, owned by the match). */
static void name_params(const char *pattern, struct cp_param *params, size_t count)
{
    size_t i = 0;
    for (const char *p = strchr(pattern, '{'); p && i < count; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close)
            break;
        size_t len = (size_t)(close - p - 1);
        if (len > 3 && !memcmp(close - 3, "...", 3))
            len -= 3; /* a wildcard `{x...}` is named x */
        params[i++].name = cp_strndup(p + 1, len);
    }
}

cp_status cp_router_match(const char *path, enum cp_method method, struct cp_route_match *match)
{
    memset(match, 0, sizeof *match);
    const struct cp_route *hit = NULL;
    for (size_t i = 0; i < cp_routes_count; i++) {
        const struct cp_route *route = &cp_routes[i];
        struct cp_param params[CP_ROUTE_MAX_PARAMS];
        size_t count = 0;
        if (!match_pattern(route->pattern, path, params, &count))
            continue;
        unsigned methods = route->methods;
        if (methods & CP_METHOD_GET)
            methods |= CP_METHOD_HEAD;
        match->allowed |= methods;
        if (!hit && (methods & method)) {
            hit = route;
            memcpy(match->params, params, sizeof params);
            match->param_count = count;
            name_params(route->pattern, match->params, count);
        } else {
            for (size_t j = 0; j < count; j++)
                free(params[j].value);
        }
    }
    if (hit) {
        match->route = hit;
        return CP_OK;
    }
    return match->allowed ? CP_ERR_METHOD : CP_ERR_NOT_FOUND;
}

void cp_router_match_cleanup(struct cp_route_match *match)
{
    for (size_t i = 0; i < match->param_count; i++) {
        free(match->params[i].name);
        free(match->params[i].value);
    }
    match->param_count = 0;
    match->route = NULL;
}
