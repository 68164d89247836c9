/* Query strings (server/query.h): parsed as sent, checked against the route's list. */
#include <stdlib.h>
#include <string.h>

#include "server/query.h"
#include "server/router.h"
#include "tests/testutil.h"

static const char *const ACCEPTED[] = {"q", "limit", "format", NULL};

struct parsed {
    struct cp_param params[CP_REQUEST_MAX_QUERY];
    size_t count;
    char *detail;
    cp_status st;
};

static void parse(struct parsed *p, const char *raw, const char *const *accepted)
{
    p->st = cp_query_parse(raw, accepted, p->params, CP_REQUEST_MAX_QUERY, &p->count, &p->detail);
}

static void parsed_free(struct parsed *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->params[i].name);
        free(p->params[i].value);
    }
    free(p->detail);
}

static void assert_refused(const char *raw, const char *const *accepted, const char *detail)
{
    struct parsed p;
    parse(&p, raw, accepted);
    ck_assert_msg(p.st == CP_ERR_INVALID, "%s: accepted", raw);
    ck_assert_str_eq(p.detail, detail);
    parsed_free(&p);
}

START_TEST(decodes_pairs_in_order)
{
    struct parsed p;
    parse(&p, "q=a+b%2Bc%26d&&limit=5&format", ACCEPTED);
    ck_assert_int_eq(p.st, CP_OK);
    ck_assert_uint_eq(p.count, 3);
    ck_assert_str_eq(p.params[0].name, "q");
    ck_assert_str_eq(p.params[0].value, "a b+c&d");
    ck_assert_str_eq(p.params[1].value, "5");
    ck_assert_str_eq(p.params[2].name, "format");
    ck_assert_str_eq(p.params[2].value, "");
    parsed_free(&p);
    parse(&p, NULL, ACCEPTED);
    ck_assert_int_eq(p.st, CP_OK);
    ck_assert_uint_eq(p.count, 0);
    parse(&p, "anything=%FF&x=1&x=2", cp_query_any);
    ck_assert_int_eq(p.st, CP_OK);
    ck_assert_uint_eq(p.count, 0);
}
END_TEST

START_TEST(refuses_what_it_cannot_read_whole)
{
    assert_refused("foo=1", ACCEPTED,
                   "unknown query parameter 'foo' (accepted here: q, limit, format)");
    assert_refused("q=1", NULL, "unknown query parameter 'q' (this resource takes none)");
    assert_refused("li%00mit=1", ACCEPTED,
                   "unknown query parameter 'li\\x00mit' (accepted here: q, limit, format)");
    assert_refused("limit=1&q=a&limit=2", ACCEPTED, "parameter 'limit' given twice");
    assert_refused("limit=5%00abc", ACCEPTED, "limit: contains a NUL byte");
    assert_refused("q=%ED%A0%80", ACCEPTED, "q: not valid UTF-8 at offset 0 (byte 0xed)"); /* a surrogate */
    char many[33 * 4 + 1] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, "q=1&");
    assert_refused(many, ACCEPTED, "more than 32 query parameters");
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_add_test(tc, decodes_pairs_in_order);
    tcase_add_test(tc, refuses_what_it_cannot_read_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(query_suite());
}
