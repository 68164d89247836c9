/* The query string parser (server/query.c) against the real routes' accepted parameters: the
 * first byte picks a route of the table, the rest is the raw query (after '?', still
 * percent-encoded; it ends at a NUL, as libmicrohttpd's request target does).
 *
 * Properties: an accepted query holds one pair per non-empty `&` piece, at most
 * CP_REQUEST_MAX_QUERY, each name one the route accepts and none twice, each value UTF-8
 * without NUL (so no "%00" anywhere in an accepted query); a refused one has a detail that
 * is UTF-8 and becomes a JSON string; a route that takes any query keeps none. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/mem.h"
#include "core/text.h"
#include "server/query.h"
#include "server/router.h"
#include "tests/fuzz/fuzz_check.h"

static bool accepted_name(const char *const *accepted, const char *name)
{
    for (size_t i = 0; accepted && accepted[i]; i++)
        if (!strcmp(accepted[i], name))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!len)
        return 0;
    const struct cp_route *route = &cp_routes[data[0] % cp_routes_count];
    char *raw = cp_strndup((const char *)data + 1, len - 1);
    struct cp_param out[CP_REQUEST_MAX_QUERY];
    size_t count = 0;
    char *detail = NULL;
    cp_status st = cp_query_parse(raw, route->query, out, CP_REQUEST_MAX_QUERY, &count, &detail);
    FUZZ_CHECK(count <= CP_REQUEST_MAX_QUERY, "%zu pairs", count);
    if (st == CP_OK) {
        FUZZ_CHECK(!detail, "a detail for an accepted query");
        if (route->query == cp_query_any) {
            FUZZ_CHECK(!count, "%s kept %zu pairs of a query it never reads", route->pattern,
                       count);
        } else {
            size_t pieces = 0;
            for (const char *p = raw; *p; p += strcspn(p, "&"), p += *p == '&')
                pieces += *p != '&';
            FUZZ_CHECK(count == pieces, "%zu pairs from %zu pieces", count, pieces);
            FUZZ_CHECK(!strstr(raw, "%00"), "a query with %%00 was accepted");
        }
        for (size_t i = 0; i < count; i++) {
            FUZZ_CHECK(accepted_name(route->query, out[i].name), "%s does not take '%s'",
                       route->pattern, out[i].name);
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(out[i].name, out[j].name), "'%s' twice", out[i].name);
            size_t n = strlen(out[i].value);
            FUZZ_CHECK(cp_utf8_invalid_at(out[i].value, n) == n, "%s: value not UTF-8",
                       out[i].name);
        }
    } else {
        FUZZ_CHECK(st == CP_ERR_INVALID, "status %d", (int)st);
        FUZZ_CHECK(detail && detail[0], "refused without a detail");
        size_t n = strlen(detail);
        FUZZ_CHECK(cp_utf8_invalid_at(detail, n) == n, "detail not UTF-8: %s", detail);
        json_t *s = json_string(detail);
        FUZZ_CHECK(s, "detail is no JSON string");
        json_decref(s);
    }
    for (size_t i = 0; i < count; i++) {
        free(out[i].name);
        free(out[i].value);
    }
    free(detail);
    free(raw);
    return 0;
}
