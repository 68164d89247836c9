/* The forecast models and their backtest on synthetic series with known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/forecast.h"
#include "tests/testutil.h"

#define EPS 1e-9

START_TEST(constant_series_forecasts_the_constant_with_tight_intervals)
{
    int rank[20];
    long long streams[20];
    for (int i = 0; i < 20; i++) {
        rank[i] = 5;
        streams[i] = 1000000;
    }
    struct cp_forecast_series s = {.rank = rank, .streams = streams, .n = 20, .chart_size = 200};
    struct cp_forecast f;
    ck_assert(cp_forecast_run(&s, 7, &f));
    ck_assert_int_eq(f.model, CP_MODEL_DAMPED);
    ck_assert_str_eq(cp_forecast_model_name(f.model), "damped-holt-log");
    for (int h = 0; h < 7; h++) {
        ck_assert_double_eq_tol(f.points[h].rank, 5.0, EPS);
        ck_assert_double_eq_tol(f.points[h].rank_low, 5.0, EPS);
        ck_assert_double_eq_tol(f.points[h].rank_high, 5.0, EPS);
        ck_assert_double_eq_tol(f.points[h].streams, 1e6, 1e-3);
        ck_assert_double_eq_tol(f.points[h].streams_high - f.points[h].streams_low, 0.0, 1e-3);
    }
    /* origins t = 5..19, horizons 1..7 where an observation exists: 9 * 7 + 6+5+4+3+2+1 */
    ck_assert_uint_eq(f.backtest.rank_count, 84);
    ck_assert_uint_eq(f.backtest.streams_count, 84);
    ck_assert_double_eq_tol(f.backtest.rank_abs_sum, 0.0, EPS);
    ck_assert_double_eq_tol(f.backtest.streams_ape_sum, 0.0, 1e-6);
}
END_TEST

START_TEST(linear_trend_is_followed)
{
    double y[30];
    for (int t = 0; t < 30; t++)
        y[t] = 10.0 + 2.0 * t;
    struct cp_forecast_fit fit;
    cp_forecast_fit_damped(y, 30, &fit);
    /* a damped trend lags a perfect line a little each step; the fit keeps the least
     * damping, follows the last value exactly and re-learns the slope as fast as it can */
    ck_assert_double_eq_tol(fit.phi, 0.98, EPS);
    ck_assert_double_eq_tol(fit.alpha, 1.0, EPS);
    ck_assert_double_eq_tol(fit.beta, 0.4, EPS);
    ck_assert_double_eq_tol(fit.level, y[29], 1e-9);
    ck_assert_double_gt(fit.trend, 1.9);
    ck_assert_double_le(fit.trend, 2.0);
    double damped = 0.0, power = 1.0;
    for (int h = 1; h <= 5; h++) {
        power *= 0.98;
        damped += power;
        double point = cp_forecast_point(&fit, h);
        ck_assert_double_eq_tol(point, fit.level + fit.trend * damped, 1e-9);
        /* within 10% of the undamped line's increase over the first charts */
        ck_assert_msg(fabs(point - (y[29] + 2.0 * h)) <= 0.1 * 2.0 * h, "h=%d: %f", h, point);
    }

    /* through the track API: a rank halving every 10 charts keeps climbing, streams
     * growing 5% a chart keep growing */
    int rank[40];
    long long streams[40];
    for (int t = 0; t < 40; t++) {
        rank[t] = (int)lround(180.0 * pow(0.5, t / 10.0));
        streams[t] = llround(500000.0 * pow(1.05, t));
    }
    struct cp_forecast_series s = {.rank = rank, .streams = streams, .n = 40, .chart_size = 200};
    struct cp_forecast f;
    ck_assert(cp_forecast_run(&s, 5, &f));
    ck_assert_double_lt(f.points[0].rank, rank[39]);
    ck_assert_double_gt(f.points[0].streams, (double)streams[39]);
    for (int h = 1; h < 5; h++) {
        ck_assert_double_le(f.points[h].rank, f.points[h - 1].rank);
        ck_assert_double_gt(f.points[h].streams, f.points[h - 1].streams);
    }
    ck_assert_double_eq_tol(f.points[0].streams, streams[39] * 1.05, streams[39] * 0.01);
}
END_TEST

/* A deterministic wiggle, so the fit has non-zero errors. */
static void noisy_series(int *rank, long long *streams, int n)
{
    for (int t = 0; t < n; t++) {
        rank[t] = 40 + (int)lround(8.0 * sin(t * 1.3)) + t / 3;
        streams[t] = 800000 - 9000LL * t + llround(40000.0 * cos(t * 0.7));
    }
}

START_TEST(intervals_widen_with_horizon)
{
    int rank[50];
    long long streams[50];
    noisy_series(rank, streams, 50);
    struct cp_forecast_series s = {.rank = rank, .streams = streams, .n = 50, .chart_size = 200};
    struct cp_forecast f;
    ck_assert(cp_forecast_run(&s, 30, &f));
    ck_assert_double_gt(f.rank_fit.sigma, 0.0);
    for (int h = 0; h < 30; h++) {
        const struct cp_forecast_point *p = &f.points[h];
        ck_assert_double_le(p->rank_low, p->rank);
        ck_assert_double_le(p->rank, p->rank_high);
        ck_assert_double_lt(p->streams_low, p->streams);
        ck_assert_double_lt(p->streams, p->streams_high);
        ck_assert_double_ge(p->rank_low, 1.0);
        ck_assert_double_le(p->rank_high, 200.0);
        if (h > 0) {
            ck_assert_double_gt(cp_forecast_sd(&f.rank_fit, h + 1), cp_forecast_sd(&f.rank_fit, h));
            ck_assert_double_gt(p->streams_high - p->streams_low,
                                f.points[h - 1].streams_high - f.points[h - 1].streams_low);
        }
    }
    /* the first step's sd is the one-step error's */
    ck_assert_double_eq_tol(cp_forecast_sd(&f.rank_fit, 1), f.rank_fit.sigma, EPS);
}
END_TEST

START_TEST(forecasts_are_deterministic)
{
    int rank[60];
    long long streams[60];
    noisy_series(rank, streams, 60);
    struct cp_forecast_series s = {.rank = rank, .streams = streams, .n = 60, .chart_size = 200};
    struct cp_forecast *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    ck_assert(cp_forecast_run(&s, 90, a));
    ck_assert(cp_forecast_run(&s, 90, b));
    ck_assert_int_eq(memcmp(a->points, b->points, sizeof a->points), 0);
    ck_assert_int_eq(memcmp(&a->backtest, &b->backtest, sizeof a->backtest), 0);
    ck_assert_int_eq(memcmp(&a->rank_fit, &b->rank_fit, sizeof a->rank_fit), 0);
    free(a);
    free(b);
}
END_TEST

START_TEST(naive_backtest_by_hand)
{
    /* origins 1, 2, 3; forecasts: from [10] -> 10, from [10,12] -> 12, from [..14] -> 14 */
    int rank[] = {10, 12, 14, 16};
    long long streams[] = {100, 200, 100, 200};
    struct cp_forecast_series s = {.rank = rank, .streams = streams, .n = 4, .chart_size = 50};
    struct cp_forecast_errors e[2];
    memset(e, 0, sizeof e);
    cp_forecast_backtest(&s, CP_MODEL_NAIVE, 2, 0, 10, e);
    /* h=1: |10-12| + |12-14| + |14-16|; h=2: |10-14| + |12-16| (origin 3 has no h=2) */
    ck_assert_uint_eq(e[0].rank_count, 3);
    ck_assert_double_eq_tol(e[0].rank_abs_sum, 6.0, 1e-9);
    ck_assert_uint_eq(e[1].rank_count, 2);
    ck_assert_double_eq_tol(e[1].rank_abs_sum, 8.0, 1e-9);
    /* streams h=1: 100 vs 200 (50%), 200 vs 100 (100%), 100 vs 200 (50%) */
    ck_assert_uint_eq(e[0].streams_count, 3);
    ck_assert_double_eq_tol(e[0].streams_ape_sum, 200.0, 1e-9);
    /* h=2: 100 vs 100, 200 vs 200 */
    ck_assert_double_eq_tol(e[1].streams_ape_sum, 0.0, 1e-9);

    /* at most max_origins origins, evenly spaced with both ends: 1 and 3 */
    memset(e, 0, sizeof e);
    cp_forecast_backtest(&s, CP_MODEL_NAIVE, 1, 0, 2, e);
    ck_assert_uint_eq(e[0].rank_count, 2);
    ck_assert_double_eq_tol(e[0].rank_abs_sum, 4.0, 1e-9);

    /* the damped model needs CP_FORECAST_MIN_POINTS before its first origin */
    memset(e, 0, sizeof e);
    cp_forecast_backtest(&s, CP_MODEL_DAMPED, 2, 0, 10, e);
    ck_assert_uint_eq(e[0].rank_count, 0);

    /* a later first origin: only origin 3 */
    memset(e, 0, sizeof e);
    cp_forecast_backtest(&s, CP_MODEL_NAIVE, 1, 3, 10, e);
    ck_assert_uint_eq(e[0].rank_count, 1);
    ck_assert_double_eq_tol(e[0].rank_abs_sum, 2.0, 1e-9);
}
END_TEST

START_TEST(short_history_is_naive)
{
    int rank[] = {20, 10, 20};
    struct cp_forecast_series s = {.rank = rank, .streams = NULL, .n = 3, .chart_size = 100};
    struct cp_forecast f;
    ck_assert(cp_forecast_run(&s, 4, &f));
    ck_assert_int_eq(f.model, CP_MODEL_NAIVE);
    ck_assert_str_eq(cp_forecast_model_name(f.model), "naive-last-value");
    ck_assert(!f.has_streams);
    /* sigma: root mean square of the log changes, ln 2 each way */
    ck_assert_double_eq_tol(f.rank_fit.sigma, log(2.0), 1e-12);
    double z = cp_forecast_z();
    for (int h = 1; h <= 4; h++) {
        const struct cp_forecast_point *p = &f.points[h - 1];
        ck_assert_double_eq_tol(p->rank, 20.0, 1e-9);
        /* random walk: sd grows as sqrt(h) */
        double high = 20.0 * exp(z * log(2.0) * sqrt((double)h));
        ck_assert_double_eq_tol(p->rank_high, high > 100.0 ? 100.0 : high, 1e-9);
    }
    /* one observation: the prior sigma */
    struct cp_forecast_series one = {.rank = rank, .n = 1, .chart_size = 100};
    ck_assert(cp_forecast_run(&one, 1, &f));
    ck_assert_double_eq_tol(f.rank_fit.sigma, CP_FORECAST_PRIOR_SIGMA_RANK, EPS);
    ck_assert_uint_eq(f.backtest.rank_count, 0);
}
END_TEST

START_TEST(ranks_are_clamped_to_the_chart)
{
    int rising[10], falling[10];
    for (int t = 0; t < 10; t++) {
        rising[t] = 10 - t;       /* 10 .. 1 */
        falling[t] = 150 + 5 * t; /* 150 .. 195 */
    }
    struct cp_forecast_series s = {.rank = rising, .n = 10, .chart_size = 200};
    struct cp_forecast f;
    ck_assert(cp_forecast_run(&s, 20, &f));
    for (int h = 0; h < 20; h++) {
        ck_assert_double_ge(f.points[h].rank_low, 1.0);
        ck_assert_double_ge(f.points[h].rank, 1.0);
    }
    s.rank = falling;
    ck_assert(cp_forecast_run(&s, 20, &f));
    ck_assert_double_eq_tol(f.points[19].rank_high, 200.0, EPS);
    for (int h = 0; h < 20; h++)
        ck_assert_double_le(f.points[h].rank, 200.0);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    int rank[] = {1};
    struct cp_forecast_series s = {.rank = rank, .n = 1, .chart_size = 10};
    struct cp_forecast f;
    ck_assert(!cp_forecast_run(&s, 0, &f));
    ck_assert(!cp_forecast_run(&s, CP_FORECAST_MAX_HORIZON + 1, &f));
    s.n = 0;
    ck_assert(!cp_forecast_run(&s, 1, &f));
}
END_TEST

static Suite *forecast_suite(void)
{
    Suite *s = suite_create("forecast");
    TCase *tc = tcase_create("models");
    tcase_add_test(tc, constant_series_forecasts_the_constant_with_tight_intervals);
    tcase_add_test(tc, linear_trend_is_followed);
    tcase_add_test(tc, intervals_widen_with_horizon);
    tcase_add_test(tc, forecasts_are_deterministic);
    tcase_add_test(tc, naive_backtest_by_hand);
    tcase_add_test(tc, short_history_is_naive);
    tcase_add_test(tc, ranks_are_clamped_to_the_chart);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(forecast_suite());
}
