/* SPEC 4b's protocol, its baselines, the pooled model and the numerics, against values
 * worked out by hand or counted here by code independent of analytics/backtest.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/backtest.h"
#include "tests/testutil.h"

#define EPS 1e-9

/* A panel the tests fill: rank[track][chart], streams[track][chart]. */
#define MAX_TRACKS 80
#define MAX_CHARTS 40
struct fixture {
    int rank[MAX_TRACKS * MAX_CHARTS];
    double streams[MAX_TRACKS * MAX_CHARTS];
    int weekday[MAX_CHARTS];
    struct cp_panel panel;
};

static void fixture_init(struct fixture *f, size_t tracks, size_t charts)
{
    memset(f, 0, sizeof *f);
    f->panel = (struct cp_panel){.charts = charts,
                                 .stride = charts,
                                 .tracks = tracks,
                                 .rank = f->rank,
                                 .streams = f->streams};
}

static void put(struct fixture *f, size_t track, size_t chart, int rank, double streams)
{
    f->rank[track * f->panel.stride + chart] = rank;
    f->streams[track * f->panel.stride + chart] = streams;
}

START_TEST(numerics_by_hand)
{
    /* [2 1; 1 3] b = [3; 5] with lambda 1 added to the second diagonal only:
     * [2 1; 1 4] b = [3; 5] -> b = (1, 1) */
    double xtx[] = {2, 1, 1, 3}, xty[] = {3, 5}, b[2];
    ck_assert(cp_ridge_solve(xtx, xty, 2, 1.0, b));
    ck_assert_double_eq_tol(b[0], 1.0, EPS);
    ck_assert_double_eq_tol(b[1], 1.0, EPS);
    double singular[] = {0, 0, 0, 0};
    ck_assert(!cp_ridge_solve(singular, xty, 2, 1.0, b));

    /* type-7 quantiles of 1..5: q = 0.1 -> 1.4, q = 0.9 -> 4.6, q = 0.5 -> 3 */
    double v[] = {5, 3, 1, 4, 2};
    ck_assert_double_eq_tol(cp_quantile(v, 5, 0.1), 1.4, EPS);
    ck_assert_double_eq_tol(cp_quantile(v, 5, 0.9), 4.6, EPS);
    ck_assert_double_eq_tol(cp_quantile(v, 5, 0.5), 3.0, EPS);
    double one[] = {7};
    ck_assert_double_eq_tol(cp_quantile(one, 1, 0.9), 7.0, EPS);
}
END_TEST

START_TEST(baselines_by_hand)
{
    struct fixture f;
    fixture_init(&f, 2, 12);
    /* track 0 doubles every chart from chart 6 (100, 200, 400, 800 up to chart 9); track 1
     * holds 1000 and enters at chart 8 */
    for (size_t c = 6; c < 12; c++)
        put(&f, 0, c, 2, 100.0 * pow(2.0, (double)(c - 6)));
    for (size_t c = 8; c < 12; c++)
        put(&f, 1, c, 1, 1000.0);
    struct cp_panel view = f.panel;
    view.charts = 10;
    ck_assert_uint_eq(cp_panel_run(&view, 0, 9), 4);
    ck_assert_uint_eq(cp_panel_run(&view, 1, 9), 2);
    ck_assert_uint_eq(cp_panel_run(&view, 0, 5), 0);
    /* naive: log 800 at every horizon */
    ck_assert_double_eq_tol(cp_model_naive.predict(NULL, &view, 9, 0, 3), log(800.0), EPS);
    /* drift: mean log change over 3 steps is log 2, so h = 2 gives 3200 */
    ck_assert_double_eq_tol(exp(cp_model_drift.predict(NULL, &view, 9, 0, 2)), 3200.0, 1e-6);
    /* a run of two: one step of change (0) */
    ck_assert_double_eq_tol(exp(cp_model_drift.predict(NULL, &view, 9, 1, 4)), 1000.0, 1e-6);
    /* Holt on a constant run forecasts the constant; on a new track, the naive forecast */
    ck_assert_double_eq_tol(exp(cp_model_holt.predict(NULL, &view, 9, 1, 3)), 1000.0, 1e-6);
    view.charts = 9;
    ck_assert_double_eq_tol(exp(cp_model_holt.predict(NULL, &view, 8, 1, 3)), 1000.0, 1e-6);
}
END_TEST

/* One origin, scored by hand: charts 0..9, origin 8 only (t + 1 < 10), h = 1. Track 0 is on
 * every chart with 100 streams, rank 2, then 150 (rank 1) on chart 9; track 1 on every
 * chart with 120, rank 1, then 90 (rank 2) on chart 9; track 2 is only on chart 8 (rank 3,
 * 50): not eligible, but it counts when ranks are made from predicted streams. */
START_TEST(one_origin_by_hand)
{
    struct fixture f;
    fixture_init(&f, 3, 10);
    for (size_t c = 0; c < 9; c++) {
        put(&f, 0, c, 2, 100.0);
        put(&f, 1, c, 1, 120.0);
    }
    put(&f, 2, 8, 3, 50.0);
    put(&f, 0, 9, 1, 150.0);
    put(&f, 1, 9, 2, 90.0);
    const struct cp_model *models[] = {&cp_model_naive, &cp_model_drift};
    struct cp_bt_score s[2];
    ck_assert(cp_backtest_run(&f.panel, models, 2, 1, 1, s));
    /* naive: ranks 2 and 1 against 1 and 2 -> MAE 1; APE |100-150|/150 and |120-90|/90 */
    ck_assert_uint_eq(s[0].scored, 2);
    ck_assert_double_eq_tol(s[0].rank_abs_sum, 2.0, EPS);
    ck_assert_double_eq_tol(s[0].streams_ape_sum, 100.0 * (50.0 / 150.0 + 30.0 / 90.0), 1e-9);
    /* drift of flat runs is the naive forecast, but its ranks come from predicted streams
     * (120 > 100 > 50): the same 2 and 1 here */
    ck_assert_uint_eq(s[1].scored, 2);
    ck_assert_double_eq_tol(s[1].rank_abs_sum, 2.0, EPS);
    /* too few earlier errors for an interval */
    ck_assert_uint_eq(s[0].with_interval, 0);
}
END_TEST

/* A deterministic pseudo-random chart series: tracks enter, grow or decay, and leave. */
static void random_series(struct fixture *f, size_t tracks, size_t charts, unsigned seed)
{
    fixture_init(f, tracks, charts);
    srand(seed);
    for (size_t i = 0; i < tracks; i++) {
        size_t start = (size_t)rand() % charts, len = 1 + (size_t)rand() % charts;
        double level = 1000.0 + rand() % 100000, slope = ((rand() % 200) - 120) / 1000.0;
        for (size_t c = start; c < charts && c < start + len; c++) {
            if (rand() % 10 == 0)
                continue; /* a gap */
            level *= exp(slope + ((rand() % 100) - 50) / 1000.0);
            f->streams[i * charts + c] = level < 1.0 ? 1.0 : level;
            f->rank[i * charts + c] = 1; /* ranked below */
        }
    }
    /* ranks by streams on each chart (ties by track index) */
    for (size_t c = 0; c < charts; c++)
        for (size_t i = 0; i < tracks; i++) {
            if (!f->rank[i * charts + c])
                continue;
            int rank = 1;
            for (size_t j = 0; j < tracks; j++)
                if (f->rank[j * charts + c] &&
                    (f->streams[j * charts + c] > f->streams[i * charts + c] ||
                     (f->streams[j * charts + c] == f->streams[i * charts + c] && j < i)))
                    rank++;
            f->rank[i * charts + c] = rank;
        }
}

/* The naive baseline's numbers, counted here straight from the protocol's words. */
START_TEST(naive_matches_an_independent_count)
{
    static struct fixture f;
    size_t tracks = 30, charts = 25;
    random_series(&f, tracks, charts, 7);
    int horizons = 4;
    size_t stride = 2;
    const struct cp_model *models[] = {&cp_model_naive};
    struct cp_bt_score s[4];
    ck_assert(cp_backtest_run(&f.panel, models, 1, horizons, stride, s));
    for (int h = 1; h <= horizons; h++) {
        double rank_sum = 0.0, ape_sum = 0.0;
        size_t scored = 0;
        for (size_t t = 8; t < charts - 1; t += stride) {
            if (t + (size_t)h >= charts)
                continue;
            for (size_t i = 0; i < tracks; i++) {
                const int *r = &f.rank[i * charts];
                const double *v = &f.streams[i * charts];
                if (!r[t] || !r[t - 1] || !r[t - 2] || !r[t - 3] || !r[t + h])
                    continue;
                rank_sum += fabs((double)(r[t] - r[t + h]));
                ape_sum += 100.0 * fabs(v[t] - v[t + h]) / v[t + h];
                scored++;
            }
        }
        ck_assert_uint_gt(scored, 0);
        ck_assert_uint_eq(s[h - 1].scored, scored);
        ck_assert_double_eq_tol(s[h - 1].rank_abs_sum, rank_sum, 1e-6);
        ck_assert_double_eq_tol(s[h - 1].streams_ape_sum, ape_sum, 1e-6);
    }
}
END_TEST

/* Every track loses a fifth of its streams each chart: the h-step log change is h log 0.8 for
 * every example, which the intercept alone fits exactly (no shrinkage on it), so the
 * pooled forecast is exact and its errors are zero. */
START_TEST(pooled_learns_a_common_decay)
{
    static struct fixture f;
    size_t tracks = 80, charts = 30;
    fixture_init(&f, tracks, charts);
    for (size_t i = 0; i < tracks; i++)
        for (size_t c = 0; c < charts; c++)
            put(&f, i, c, (int)i + 1, (1e6 + 1000.0 * (double)(tracks - i)) * pow(0.8, (double)c));
    void *state = cp_model_pooled.create(&f.panel, 4);
    struct cp_panel view = f.panel;
    for (size_t t = 8; t <= 20; t++) {
        view.charts = t + 1;
        cp_model_pooled.advance(state, &view, t);
    }
    for (int h = 1; h <= 4; h++)
        for (size_t i = 0; i < tracks; i++)
            ck_assert_double_eq_tol(cp_model_pooled.predict(state, &view, 20, i, h),
                                    log(f.streams[i * charts + 20]) + h * log(0.8), 1e-6);
    cp_model_pooled.destroy(state);

    const struct cp_model *models[] = {&cp_model_pooled};
    struct cp_bt_score s[4];
    ck_assert(cp_backtest_run(&f.panel, models, 1, 4, 1, s));
    for (int h = 0; h < 4; h++) {
        ck_assert_uint_gt(s[h].scored, 0);
        ck_assert_double_eq_tol(s[h].streams_ape_sum / (double)s[h].scored, 0.0, 1e-4);
        ck_assert_double_eq_tol(s[h].rank_abs_sum, 0.0, EPS);
        /* rank errors are all zero, so every later actual rank is inside its interval */
        ck_assert_uint_gt(s[h].with_interval, 0);
        ck_assert_uint_eq(s[h].rank_covered, s[h].with_interval);
    }
}
END_TEST

/* Trained only on charts up to the origin: filling every later chart with other numbers
 * changes no forecast made at the origin, for any model. */
START_TEST(no_model_sees_past_the_origin)
{
    static struct fixture a, b;
    size_t tracks = 80, charts = 30, origin = 20;
    random_series(&a, tracks, charts, 11);
    b = a;
    b.panel.rank = b.rank;
    b.panel.streams = b.streams;
    srand(99);
    for (size_t i = 0; i < tracks; i++)
        for (size_t c = origin + 1; c < charts; c++) {
            b.rank[i * charts + c] = 1 + rand() % 100;
            b.streams[i * charts + c] = 1.0 + rand() % 1000000;
        }
    for (size_t m = 0; m < cp_backtest_model_count; m++) {
        const struct cp_model *model = cp_backtest_models[m];
        void *sa = model->create ? model->create(&a.panel, 4) : NULL;
        void *sb = model->create ? model->create(&b.panel, 4) : NULL;
        struct cp_panel va = a.panel, vb = b.panel;
        for (size_t t = 8; t <= origin; t++) {
            va.charts = vb.charts = t + 1;
            if (model->advance) {
                model->advance(sa, &va, t);
                model->advance(sb, &vb, t);
            }
        }
        size_t compared = 0;
        for (size_t i = 0; i < tracks; i++) {
            if (!a.rank[i * charts + origin])
                continue;
            for (int h = 1; h <= 4; h++) {
                double pa = model->predict(sa, &va, origin, i, h);
                double pb = model->predict(sb, &vb, origin, i, h);
                ck_assert_msg(pa == pb, "%s: track %zu h %d: %g vs %g", model->name, i, h, pa, pb);
                compared++;
            }
        }
        ck_assert_uint_gt(compared, 0);
        if (model->destroy) {
            model->destroy(sa);
            model->destroy(sb);
        }
    }
    /* and the pooled model did learn something from the past: not the naive forecast */
    void *s = cp_model_pooled.create(&a.panel, 4);
    struct cp_panel v = a.panel;
    for (size_t t = 8; t <= origin; t++) {
        v.charts = t + 1;
        cp_model_pooled.advance(s, &v, t);
    }
    for (int h = 1; h <= 4; h++) {
        bool differs = false;
        for (size_t i = 0; i < tracks; i++)
            if (a.rank[i * charts + origin])
                differs |= fabs(cp_model_pooled.predict(s, &v, origin, i, h) -
                                cp_model_naive.predict(NULL, &v, origin, i, h)) > 1e-6;
        ck_assert_msg(differs, "the pooled model is not fitted at h %d", h);
    }
    cp_model_pooled.destroy(s);
}
END_TEST

/* Coverage is counted from errors known at the origin: on a series whose errors are
 * exchangeable the 80% interval covers about 80% (generous bounds: 0.6..0.95). */
START_TEST(interval_coverage_is_near_nominal)
{
    static struct fixture f;
    random_series(&f, 40, 40, 3);
    const struct cp_model *models[] = {&cp_model_naive};
    struct cp_bt_score s[1];
    ck_assert(cp_backtest_run(&f.panel, models, 1, 1, 1, s));
    ck_assert_uint_gt(s[0].with_interval, 100);
    double coverage = (double)s[0].streams_covered / (double)s[0].with_interval;
    ck_assert_double_gt(coverage, 0.6);
    ck_assert_double_lt(coverage, 0.95);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    struct fixture f;
    fixture_init(&f, 1, 12);
    const struct cp_model *models[] = {&cp_model_naive};
    struct cp_bt_score s[8];
    ck_assert(!cp_backtest_run(&f.panel, models, 1, 0, 1, s));
    ck_assert(!cp_backtest_run(&f.panel, models, 1, CP_BT_MAX_HORIZON + 1, 1, s));
    ck_assert(!cp_backtest_run(&f.panel, models, 1, 1, 0, s));
    f.panel.charts = 11; /* a view, not a whole series */
    ck_assert(!cp_backtest_run(&f.panel, models, 1, 1, 1, s));
}
END_TEST

static Suite *backtest_suite(void)
{
    Suite *s = suite_create("backtest");
    TCase *tc = tcase_create("protocol");
    tcase_add_test(tc, numerics_by_hand);
    tcase_add_test(tc, baselines_by_hand);
    tcase_add_test(tc, one_origin_by_hand);
    tcase_add_test(tc, naive_matches_an_independent_count);
    tcase_add_test(tc, pooled_learns_a_common_decay);
    tcase_add_test(tc, no_model_sees_past_the_origin);
    tcase_add_test(tc, interval_coverage_is_near_nominal);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(backtest_suite());
}
