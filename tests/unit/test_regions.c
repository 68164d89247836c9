/* Chart regions: lookups by code and by name, and the list against core.region. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/series.h"
#include "tests/testutil.h"

struct name_case {
    const char *in;
    const char *code; /* NULL = unknown */
};

static const struct name_case name_cases[] = {
    {"Argentina", "ar"},
    {"Global", "global"},
    {"global", "global"},
    {"GLOBAL", "global"},
    {"United States", "us"},
    {"united states", "us"},
    {"Czech Republic", "cz"},
    {"Czechia", "cz"},
    {"Hong Kong", "hk"},
    {"Taiwan", "tw"},
    {"South Korea", "kr"},
    {"Korea", "kr"},
    {"United Kingdom", "gb"},
    {"Dominican Republic", "do"},
    {"El Salvador", "sv"},
    {"  Brazil ", "br"},
    {"ar", "ar"},
    {"AR", "ar"},
    {"za", "za"},
    {"Atlantis", NULL},
    {"xx", NULL},
    {"", NULL},
    {"   ", NULL},
    {"United", NULL},
    {"United States of Atlantis", NULL},
};

START_TEST(from_name)
{
    const struct name_case *c = &name_cases[_i];
    const char *got = cp_region_from_name(c->in);
    if (c->code) {
        ck_assert_msg(got != NULL, "'%s' not found", c->in);
        ck_assert_str_eq(got, c->code);
        ck_assert(cp_region_known(got));
    } else {
        ck_assert_msg(got == NULL, "'%s' gave '%s'", c->in, got);
    }
}
END_TEST

START_TEST(known)
{
    ck_assert(cp_region_known("global"));
    ck_assert(cp_region_known("us"));
    ck_assert(cp_region_known("za"));
    ck_assert(!cp_region_known("US"));
    ck_assert(!cp_region_known("Global"));
    ck_assert(!cp_region_known("xx"));
    ck_assert(!cp_region_known(""));
    ck_assert(!cp_region_known(NULL));
    ck_assert_ptr_null(cp_region_from_name(NULL));
}
END_TEST

START_TEST(every_name_and_code_maps_back)
{
    size_t n;
    const struct cp_region *list = cp_region_list(&n);
    ck_assert_uint_gt(n, 70);
    for (size_t i = 0; i < n; i++) {
        ck_assert(cp_region_known(list[i].code));
        ck_assert_str_eq(cp_region_from_name(list[i].code), list[i].code);
        ck_assert_str_eq(cp_region_from_name(list[i].name), list[i].code);
        for (size_t j = 0; j < i; j++) {
            ck_assert_str_ne(list[i].code, list[j].code);
            ck_assert_str_ne(list[i].name, list[j].name);
        }
    }
}
END_TEST

/* The list must be exactly the insert into core.region: same codes, names and order. */
START_TEST(same_as_migration)
{
    char *path = tu_fixture_path("../../db/migrations/0001_core.sql");
    size_t len;
    char *sql = tu_read_file(path, &len);
    const char *p = strstr(sql, "insert into core.region");
    ck_assert_ptr_nonnull(p);
    const char *end = strchr(p, ';');
    ck_assert_ptr_nonnull(end);
    size_t n;
    const struct cp_region *list = cp_region_list(&n);
    size_t seen = 0;
    p = strstr(p, "values");
    ck_assert_ptr_nonnull(p);
    while ((p = strchr(p, '(')) != NULL && p < end) {
        /* ('code','Name') */
        const char *code = p + 2;
        const char *code_end = strchr(code, '\'');
        const char *name = code_end + 3;
        const char *name_end = strchr(name, '\'');
        ck_assert_msg(seen < n, "migration has more regions than core/series.c");
        char *sql_code = cp_strndup(code, (size_t)(code_end - code));
        char *sql_name = cp_strndup(name, (size_t)(name_end - name));
        ck_assert_str_eq(list[seen].code, sql_code);
        ck_assert_str_eq(list[seen].name, sql_name);
        free(sql_code);
        free(sql_name);
        seen++;
        p = name_end;
    }
    ck_assert_uint_eq(seen, n);
    free(sql);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("regions");
    TCase *tc = tcase_create("regions");
    tcase_add_loop_test(tc, from_name, 0, sizeof name_cases / sizeof name_cases[0]);
    tcase_add_test(tc, known);
    tcase_add_test(tc, every_name_and_code_maps_back);
    tcase_add_test(tc, same_as_migration);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
