/* The forecast evaluation protocol of SPEC §4b over a whole chart series, the models it
 * judges (three baselines and a pooled regression learned across every track of the
 * series) and empirical prediction intervals with their measured coverage. Pure
 * computation on arrays (no I/O, no globals).
 *
 * A series is a panel: charts 0..charts-1 in date order, and for every track its rank and
 * streams on each chart (rank 0 where it was not on the chart). Models see the panel
 * through a view whose `charts` is the origin + 1, so a model reading chart t + 1 at origin
 * t reads past the end of what it was given; the no-leakage test fills the future with
 * garbage and checks that no prediction changes.
 *
 * Protocol (§4b): origins t = CP_BT_FIRST_ORIGIN, + stride, ... while t + 1 < charts. At t,
 * every track on chart t whose run of consecutive charts up to t is at least
 * CP_BT_MIN_RUN long is forecast h = 1..horizons ahead, and scored when it is on chart
 * t + h. Streams error: APE in percent. Rank: 1 + the number of tracks of chart t (all of
 * them, eligible or not) with larger predicted streams; the naive model's rank is its rank
 * at t. */
#ifndef CP_BACKTEST_H
#define CP_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>

#define CP_BT_FIRST_ORIGIN  8 /* the 9th chart */
#define CP_BT_MIN_RUN       4 /* consecutive charts up to the origin */
#define CP_BT_MAX_HORIZON   7
#define CP_BT_DRIFT_STEPS   3
#define CP_BT_HOLT_POINTS   26
#define CP_BT_INTERVAL_LOW  0.1 /* an 80% central interval, as the API's */
#define CP_BT_INTERVAL_HIGH 0.9
/* Errors a horizon needs before its interval is trusted (and its coverage counted). */
#define CP_BT_INTERVAL_MIN_ERRORS 30

struct cp_panel {
    size_t charts; /* visible charts: a model may read charts [0, charts) only */
    size_t stride; /* charts per track row in rank/streams (the full series length) */
    size_t tracks;
    const int *rank;       /* [track * stride + chart], 0 = not on that chart */
    const double *streams; /* same layout, > 0 where rank > 0 */
    const int *weekday;    /* per chart 0 (Monday)..6, or NULL on weekly charts */
};

/* A forecast model: state made once per series, told each origin in increasing order
 * (advance may learn from charts <= t), then asked for the log streams of a track on
 * chart t h charts ahead. Add a model by writing these four and listing it in
 * cp_backtest_models. */
struct cp_model {
    const char *name;
    bool rank_is_last;       /* ranks are the rank at t (the naive model), not from streams */
    const char *assumptions; /* one line for the table's notes and docs */
    void *(*create)(const struct cp_panel *full, int horizons);
    void (*advance)(void *state, const struct cp_panel *view, size_t t);
    double (*predict)(void *state, const struct cp_panel *view, size_t t, size_t track, int h);
    void (*destroy)(void *state);
};

extern const struct cp_model cp_model_naive, cp_model_drift, cp_model_holt, cp_model_pooled;
/* Every model, baselines first; the last is the pooled model. */
extern const struct cp_model *const cp_backtest_models[];
extern const size_t cp_backtest_model_count;

/* One model's scores at one horizon. */
struct cp_bt_score {
    double rank_abs_sum, streams_ape_sum;
    size_t scored;
    /* forecasts that had an interval (CP_BT_INTERVAL_MIN_ERRORS earlier errors whose
     * target chart was <= the origin) and how many of the actual values fell inside */
    size_t with_interval, rank_covered, streams_covered;
};

/* Runs the protocol for models[0..n) on p (p->charts == p->stride) with origins every
 * stride-th chart; scores[m * horizons + h - 1]. Returns false on a bad argument. */
bool cp_backtest_run(const struct cp_panel *p, const struct cp_model *const *models, size_t n,
                     int horizons, size_t stride, struct cp_bt_score *scores);

/* A forecast of a track on the series' last chart. */
struct cp_live_forecast {
    size_t track;
    int horizon;
    double rank, rank_low, rank_high, streams, streams_low, streams_high;
};

/* Backtests model on p as cp_backtest_run does (scores[horizons]), then forecasts every
 * track of p's last chart h = 1..horizons ahead with the model trained on every chart, and
 * 80% intervals from the quantiles of all its backtest errors at h; a horizon with fewer
 * than CP_BT_INTERVAL_MIN_ERRORS errors gets no forecasts. Rank intervals are clamped to
 * 1..the chart's size. *out (caller frees) gets *count rows. */
bool cp_backtest_live(const struct cp_panel *p, const struct cp_model *model, int horizons,
                      size_t stride, struct cp_bt_score *scores, struct cp_live_forecast **out,
                      size_t *count);

/* Number of consecutive charts up to and including t that track is on (0 if not on t). */
size_t cp_panel_run(const struct cp_panel *p, size_t track, size_t t);

/* The q-quantile (0..1) of v[0..n), n >= 1, sorting v in place: linear interpolation
 * between order statistics (type 7, as R's default and numpy's). */
double cp_quantile(double *v, size_t n, double q);

/* Ridge regression: solves (X'X + lambda D) b = X'y by Cholesky, where xtx (p x p, row
 * major) and xty are the sums and D is the identity except D[0][0] = 0 (the intercept is
 * not shrunk). Returns false when the system is not positive definite. */
bool cp_ridge_solve(const double *xtx, const double *xty, size_t p, double lambda, double *b);

#endif
