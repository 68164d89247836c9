/* The Kaplan-Meier estimator against curves worked out by hand (ties, censoring). */
#include <math.h>

#include "analytics/survival.h"
#include "tests/testutil.h"

#define EPS 1e-12

/* 0C 1E 1E 2C 3E 3C 4E, by hand:
 *   t=0: a censoring at 0 only leaves the risk set (7 -> 6), no step
 *   t=1: 6 at risk, 2 end:           S = 4/6          = 2/3
 *   t=2: 4 at risk, 1 censored:      S = 2/3
 *   t=3: 3 at risk, 1 ends, 1 cens.: S = 2/3 * 2/3    = 4/9 (the censored one counts at risk)
 *   t=4: 1 at risk, 1 ends:          S = 0 */
static struct cp_spell mixed[] = {{3, true},  {0, false}, {1, true}, {4, true},
                                  {2, false}, {1, true},  {3, false}};

START_TEST(ties_and_censoring_by_hand)
{
    struct cp_km_step st[7];
    size_t n;
    ck_assert(cp_km_estimate(mixed, 7, st, &n));
    ck_assert_uint_eq(n, 4);
    int time[] = {1, 2, 3, 4}, risk[] = {6, 4, 3, 1}, ev[] = {2, 0, 1, 1}, ce[] = {0, 1, 1, 0};
    double surv[] = {2.0 / 3, 2.0 / 3, 4.0 / 9, 0};
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(st[i].time, time[i]);
        ck_assert_int_eq(st[i].at_risk, risk[i]);
        ck_assert_int_eq(st[i].events, ev[i]);
        ck_assert_int_eq(st[i].censored, ce[i]);
        ck_assert_double_eq_tol(st[i].survival, surv[i], EPS);
    }
    ck_assert_double_eq_tol(cp_km_survival_at(st, n, 0), 1.0, EPS);
    ck_assert_double_eq_tol(cp_km_survival_at(st, n, 2), 2.0 / 3, EPS);
    ck_assert_double_eq_tol(cp_km_survival_at(st, n, 9), 0.0, EPS);
    ck_assert_int_eq(cp_km_median(st, n), 3);
}
END_TEST

START_TEST(remaining_time_by_hand)
{
    struct cp_km_step st[7];
    size_t n;
    bool restricted;
    ck_assert(cp_km_estimate(mixed, 7, st, &n));
    /* on 1 chart: S(1) + S(2) + S(3) over S(0) = 2/3 + 2/3 + 4/9 = 16/9; the curve reaches 0 */
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 1, &restricted), 16.0 / 9, EPS);
    ck_assert(!restricted);
    /* on 3: P(T = 3 | T >= 3) = 1/3, P(T = 4 | T >= 3) = 2/3, so 2/3 more */
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 3, &restricted), 2.0 / 3, EPS);
    /* on 4: every run that long ended at 4 */
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 4, &restricted), 0.0, EPS);
    /* past the longest run nothing is known */
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 5, &restricted), -1, EPS);
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 0, &restricted), -1, EPS);
}
END_TEST

START_TEST(curve_above_zero_gives_a_restricted_mean)
{
    /* 1E 2C 3C: S(1) = 2/3, then only censorings; tau = 3 */
    struct cp_spell sp[] = {{2, false}, {1, true}, {3, false}};
    struct cp_km_step st[3];
    size_t n;
    bool restricted;
    ck_assert(cp_km_estimate(sp, 3, st, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(st[2].survival, 2.0 / 3, EPS);
    ck_assert_int_eq(cp_km_median(st, n), -1);
    /* min(T, 3) - 1 given T >= 1: S(1) + S(2) = 4/3 */
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 1, &restricted), 4.0 / 3, EPS);
    ck_assert(restricted);
    /* on 2: S(2) / S(1) = 1 */
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 2, &restricted), 1.0, EPS);
}
END_TEST

START_TEST(no_censoring_is_the_empirical_distribution)
{
    /* 2E 2E 5E 1E: S(1) = 3/4, S(2) = 1/4, S(5) = 0; mean = sum S(k), k = 0..4 = 1 + 3/4 +
     * 1/4 + 1/4 + 1/4 = 2.5 = (2 + 2 + 5 + 1) / 4 */
    struct cp_spell sp[] = {{2, true}, {2, true}, {5, true}, {1, true}};
    struct cp_km_step st[4];
    size_t n;
    bool restricted;
    ck_assert(cp_km_estimate(sp, 4, st, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(st[1].survival, 0.25, EPS);
    ck_assert_int_eq(st[1].events, 2);
    ck_assert_double_eq_tol(cp_km_remaining(st, n, 1, &restricted) + 1, 2.5, EPS);
    ck_assert_int_eq(cp_km_median(st, n), 2);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    struct cp_spell sp[] = {{2, true}, {-1, true}};
    struct cp_km_step st[2];
    size_t n = 99;
    ck_assert(!cp_km_estimate(sp, 2, st, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert(cp_km_estimate(sp, 0, st, &n));
    ck_assert_uint_eq(n, 0);
    bool restricted;
    ck_assert_double_eq_tol(cp_km_remaining(st, 0, 1, &restricted), -1, EPS);
}
END_TEST

static Suite *survival_suite(void)
{
    Suite *s = suite_create("survival");
    TCase *tc = tcase_create("kaplan-meier");
    tcase_add_test(tc, ties_and_censoring_by_hand);
    tcase_add_test(tc, remaining_time_by_hand);
    tcase_add_test(tc, curve_above_zero_gives_a_restricted_mean);
    tcase_add_test(tc, no_censoring_is_the_empirical_distribution);
    tcase_add_test(tc, bad_input_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(survival_suite());
}
