/* The router (server/router.c) over the real route table (server/routes.c), with the path as
 * a client may send it: the first byte picks the method, the rest is the request path, still
 * percent-encoded (libmicrohttpd hands over no NUL byte, so the path ends at one).
 *
 * Properties: a match is a route of the table that allows the method, with one decoded
 * parameter per `{x}` of its pattern, each non-empty, UTF-8 and without the NUL that "%00"
 * would decode to; a `{x...}` value is a plain relative path (no empty, "." or ".." segment,
 * no backslash or control byte); 405 lists the path's methods and not this one, and each
 * listed method does match; 404 lists none. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"
#include "server/router.h"
#include "tests/fuzz/fuzz_check.h"

static const enum cp_method methods[] = {
    CP_METHOD_GET,   CP_METHOD_HEAD,   CP_METHOD_POST,    CP_METHOD_PUT,
    CP_METHOD_PATCH, CP_METHOD_DELETE, CP_METHOD_OPTIONS, CP_METHOD_OTHER,
};
#define METHOD_COUNT (sizeof methods / sizeof methods[0])

static size_t pattern_params(const char *pattern, bool *wildcard_last)
{
    size_t n = 0;
    *wildcard_last = false;
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        n++;
        const char *close = strchr(p, '}');
        *wildcard_last = close && close - p > 3 && !memcmp(close - 3, "...", 3);
    }
    return n;
}

static void check_wildcard(const char *value)
{
    const char *seg = value;
    for (;;) {
        size_t n = strcspn(seg, "/");
        FUZZ_CHECK(n > 0, "empty segment in wildcard '%s'", value);
        FUZZ_CHECK(!(n == 1 && seg[0] == '.') && !(n == 2 && seg[0] == '.' && seg[1] == '.'),
                   "dot segment in wildcard '%s'", value);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(seg[i] != '\\' && (unsigned char)seg[i] >= 0x20 && seg[i] != 0x7f,
                       "backslash or control byte in wildcard '%s'", value);
        if (!seg[n])
            break;
        seg += n + 1;
    }
}

static void check_match(const char *path, enum cp_method method)
{
    struct cp_route_match match;
    cp_status st = cp_router_match(path, method, &match);
    if (st == CP_OK) {
        const struct cp_route *r = match.route;
        FUZZ_CHECK(r && r >= cp_routes && r < cp_routes + cp_routes_count, "route not in table");
        unsigned allowed = r->methods | (r->methods & CP_METHOD_GET ? CP_METHOD_HEAD : 0);
        FUZZ_CHECK(allowed & method, "%s matched for a method it does not take", r->pattern);
        FUZZ_CHECK(method != CP_METHOD_OTHER, "an unknown method was routed");
        bool wildcard_last;
        size_t want = pattern_params(r->pattern, &wildcard_last);
        FUZZ_CHECK(match.param_count == want, "%zu params for %s", match.param_count, r->pattern);
        FUZZ_CHECK(!strstr(path, "%00"), "a path with %%00 matched %s", r->pattern);
        for (size_t i = 0; i < match.param_count; i++) {
            const char *v = match.params[i].value;
            size_t n = strlen(v);
            FUZZ_CHECK(match.params[i].name && match.params[i].name[0], "unnamed parameter");
            FUZZ_CHECK(n > 0, "empty parameter %s", match.params[i].name);
            FUZZ_CHECK(cp_utf8_invalid_at(v, n) == n, "parameter %s not UTF-8",
                       match.params[i].name);
            FUZZ_CHECK(n <= strlen(path), "a decoded parameter longer than the path");
            if (wildcard_last && i + 1 == match.param_count)
                check_wildcard(v);
        }
    } else if (st == CP_ERR_METHOD) {
        FUZZ_CHECK(!match.route && match.allowed && !(match.allowed & method),
                   "405 with allowed 0x%x for method 0x%x", match.allowed, (unsigned)method);
        char allow[128];
        cp_router_allow_header(match.allowed, allow, sizeof allow);
        FUZZ_CHECK(allow[0], "405 with an empty Allow");
    } else {
        FUZZ_CHECK(st == CP_ERR_NOT_FOUND && !match.route && !match.allowed,
                   "status %d, allowed 0x%x", (int)st, match.allowed);
    }
    unsigned allowed = st == CP_ERR_METHOD ? match.allowed : 0;
    cp_router_match_cleanup(&match);
    /* what 405's Allow promises: each of those methods is routed */
    for (size_t i = 0; i < METHOD_COUNT; i++) {
        if (!(allowed & methods[i]))
            continue;
        struct cp_route_match again;
        FUZZ_CHECK(cp_router_match(path, methods[i], &again) == CP_OK,
                   "Allow names 0x%x, which does not match", (unsigned)methods[i]);
        cp_router_match_cleanup(&again);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!len)
        return 0;
    enum cp_method method = methods[data[0] % METHOD_COUNT];
    char *path = cp_strndup((const char *)data + 1, len - 1); /* ends at a NUL, as MHD's */
    check_match(path, method);
    free(path);
    return 0;
}
