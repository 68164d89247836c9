/* Capped buffers and the status table. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/status.h"
#include "tests/testutil.h"

START_TEST(buf_grows_and_stays_terminated)
{
    struct cp_buf b;
    cp_buf_init(&b, TU_TEXT_MAX);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(cp_buf_addf(&b, "%d,", i), CP_OK);
    ck_assert_uint_eq(b.len, strlen(b.data));
    ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
    ck_assert(strstr(b.data, "999,") != NULL);
    size_t len;
    char *taken = cp_buf_take(&b, &len);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(len, strlen(taken));
    free(taken);
}
END_TEST

START_TEST(buf_refuses_past_cap)
{
    struct cp_buf b;
    cp_buf_init(&b, 8);
    ck_assert_int_eq(cp_buf_adds(&b, "12345678"), CP_OK);
    ck_assert_int_eq(cp_buf_adds(&b, "9"), CP_ERR_TOO_LARGE);
    ck_assert_str_eq(b.data, "12345678"); /* nothing half-appended */
    ck_assert_int_eq(cp_buf_addf(&b, "%s", "x"), CP_ERR_TOO_LARGE);
    cp_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(cp_buf_add(&b, "abc", 3), CP_OK);
    cp_buf_free(&b);
}
END_TEST

/* A failure sticks: a later append that would fit still fails, so a record written in
 * several appends is never left half-written with the rest looking whole. */
START_TEST(buf_failure_sticks_until_reset)
{
    struct cp_buf b;
    cp_buf_init(&b, 8);
    ck_assert_int_eq(cp_buf_status(&b), CP_OK);
    ck_assert_int_eq(cp_buf_adds(&b, "123456"), CP_OK);
    ck_assert_int_eq(cp_buf_adds(&b, "789"), CP_ERR_TOO_LARGE);
    ck_assert_int_eq(cp_buf_adds(&b, "7"), CP_ERR_TOO_LARGE); /* would fit, still refused */
    ck_assert_int_eq(cp_buf_addf(&b, "%d", 7), CP_ERR_TOO_LARGE);
    ck_assert_int_eq(cp_buf_add(&b, "", 0), CP_ERR_TOO_LARGE);
    ck_assert_int_eq(cp_buf_status(&b), CP_ERR_TOO_LARGE);
    ck_assert_str_eq(b.data, "123456");
    cp_buf_reset(&b);
    ck_assert_int_eq(cp_buf_status(&b), CP_OK);
    ck_assert_int_eq(cp_buf_adds(&b, "7"), CP_OK);
    cp_buf_free(&b);
}
END_TEST

START_TEST(buf_take_empty)
{
    struct cp_buf b;
    cp_buf_init(&b, 8);
    char *p = cp_buf_take(&b, NULL);
    ck_assert_str_eq(p, "");
    free(p);
}
END_TEST

START_TEST(status_table_complete)
{
    for (int st = 0; st < CP_STATUS_COUNT; st++) {
        ck_assert_ptr_nonnull(cp_strerror((cp_status)st));
        ck_assert_ptr_nonnull(cp_status_title((cp_status)st));
        ck_assert_ptr_nonnull(cp_status_type((cp_status)st));
        ck_assert_int_ge(cp_status_http((cp_status)st), 200);
    }
    ck_assert_int_eq(cp_status_http(CP_ERR_INVALID), 400);
    ck_assert_int_eq(cp_status_http(CP_ERR_NOT_FOUND), 404);
    ck_assert_int_eq(cp_status_http(CP_ERR_METHOD), 405);
    ck_assert_int_eq(cp_status_http(CP_ERR_DB), 503);
    /* out-of-range values map to an internal error rather than reading past the table */
    ck_assert_int_eq(cp_status_http((cp_status)999), 500);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, buf_grows_and_stays_terminated);
    tcase_add_test(tc, buf_refuses_past_cap);
    tcase_add_test(tc, buf_failure_sticks_until_reset);
    tcase_add_test(tc, buf_take_empty);
    tcase_add_test(tc, status_table_complete);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
