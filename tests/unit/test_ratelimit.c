/* Token buckets per client address (server/ratelimit.h), on a clock the test drives. */
#include <stdbool.h>
#include <string.h>

#include "server/ratelimit.h"
#include "tests/testutil.h"

static const unsigned char A[4] = {127, 0, 0, 1}, B[4] = {10, 1, 2, 3};

START_TEST(a_burst_then_the_rate)
{
    struct cp_ratelimit *limit = cp_ratelimit_new(2.0, 3); /* 2 a second, 3 at once */
    unsigned retry = 0;
    for (int i = 0; i < 3; i++)
        ck_assert(cp_ratelimit_take(limit, A, sizeof A, 100.0, &retry));
    ck_assert(!cp_ratelimit_take(limit, A, sizeof A, 100.0, &retry));
    ck_assert_uint_eq(retry, 1); /* half a second to the next token, said as whole seconds */
    /* 0.5 s later: one token back, not two */
    ck_assert(cp_ratelimit_take(limit, A, sizeof A, 100.5, &retry));
    ck_assert(!cp_ratelimit_take(limit, A, sizeof A, 100.5, &retry));
    /* a long pause refills to the burst, never past it */
    for (int i = 0; i < 3; i++)
        ck_assert(cp_ratelimit_take(limit, A, sizeof A, 200.0, &retry));
    ck_assert(!cp_ratelimit_take(limit, A, sizeof A, 200.0, &retry));
    cp_ratelimit_free(limit);
}
END_TEST

START_TEST(clients_have_their_own_buckets)
{
    struct cp_ratelimit *limit = cp_ratelimit_new(1.0, 2);
    unsigned retry = 0;
    ck_assert(cp_ratelimit_take(limit, A, sizeof A, 10.0, &retry));
    ck_assert(cp_ratelimit_take(limit, A, sizeof A, 10.0, &retry));
    ck_assert(!cp_ratelimit_take(limit, A, sizeof A, 10.0, &retry));
    /* A's flood costs B nothing */
    ck_assert(cp_ratelimit_take(limit, B, sizeof B, 10.0, &retry));
    ck_assert(cp_ratelimit_take(limit, B, sizeof B, 10.0, &retry));
    ck_assert(!cp_ratelimit_take(limit, B, sizeof B, 10.0, &retry));
    cp_ratelimit_free(limit);
}
END_TEST

START_TEST(retry_after_counts_the_missing_tokens)
{
    struct cp_ratelimit *limit = cp_ratelimit_new(0.25, 1); /* one every 4 s */
    unsigned retry = 0;
    ck_assert(cp_ratelimit_take(limit, A, sizeof A, 0.0, &retry));
    ck_assert(!cp_ratelimit_take(limit, A, sizeof A, 0.0, &retry));
    ck_assert_uint_eq(retry, 4);
    ck_assert(!cp_ratelimit_take(limit, A, sizeof A, 3.0, &retry));
    ck_assert_uint_eq(retry, 1);
    ck_assert(cp_ratelimit_take(limit, A, sizeof A, 4.0, &retry));
    cp_ratelimit_free(limit);
}
END_TEST

/* Thousands of addresses busy at once, each within its share, are not refused (their
 * buckets are found in sets of four), and buckets are handed on when their owners go quiet:
 * three rounds of 10,000 different addresses. */
START_TEST(many_quiet_clients_are_never_refused)
{
    struct cp_ratelimit *limit = cp_ratelimit_new(1.0, 5);
    unsigned retry = 0;
    int refused = 0;
    for (int round = 0; round < 3; round++)
        for (unsigned i = 0; i < 10000; i++) {
            unsigned n = i + 10000u * (unsigned)round;
            unsigned char addr[4] = {10, (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                                     (unsigned char)n};
            refused += !cp_ratelimit_take(limit, addr, sizeof addr, 1000.0 + 10.0 * round, &retry);
        }
    ck_assert_msg(refused == 0, "%d of 30000 refused", refused);
    cp_ratelimit_free(limit);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");
    tcase_add_test(tc, a_burst_then_the_rate);
    tcase_add_test(tc, clients_have_their_own_buckets);
    tcase_add_test(tc, retry_after_counts_the_missing_tokens);
    tcase_add_test(tc, many_quiet_clients_are_never_refused);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
