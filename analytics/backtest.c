/* SPEC §4b's rolling-origin protocol, its baselines, the pooled ridge model and empirical
 * intervals (described in backtest.h). */
#include "analytics/backtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/forecast.h"
#include "core/mem.h"

static int rank_at(const struct cp_panel *p, size_t track, size_t t)
{
    return p->rank[track * p->stride + t];
}

static double log_streams_at(const struct cp_panel *p, size_t track, size_t t)
{
    double s = p->streams[track * p->stride + t];
    return log(s < 1.0 ? 1.0 : s);
}

size_t cp_panel_run(const struct cp_panel *p, size_t track, size_t t)
{
    size_t run = 0;
    for (size_t c = t + 1; c-- > 0 && rank_at(p, track, c) > 0;)
        run++;
    return run;
}

/* ---- baselines ------------------------------------------------------------------------- */

/* Naive: the log streams at t, whatever the horizon. */
static double naive_predict(void *state, const struct cp_panel *p, size_t t, size_t track, int h)
{
    (void)state, (void)h;
    return log_streams_at(p, track, t);
}

/* Drift: the mean change of log streams over the last CP_BT_DRIFT_STEPS steps (fewer when
 * the run is shorter; none, the naive forecast, for a track new at t) carried h steps. */
static double drift_predict(void *state, const struct cp_panel *p, size_t t, size_t track, int h)
{
    (void)state;
    size_t run = cp_panel_run(p, track, t);
    size_t k = run - 1 < CP_BT_DRIFT_STEPS ? run - 1 : CP_BT_DRIFT_STEPS;
    double y = log_streams_at(p, track, t);
    if (k == 0)
        return y;
    return y + h * (y - log_streams_at(p, track, t - k)) / (double)k;
}

/* Damped Holt on the log streams of the track's current run, its last CP_BT_HOLT_POINTS
 * points (forecast.h's grid-searched fit); a run of one point is the naive forecast. */
static double holt_predict(void *state, const struct cp_panel *p, size_t t, size_t track, int h)
{
    (void)state;
    size_t run = cp_panel_run(p, track, t);
    size_t n = run < CP_BT_HOLT_POINTS ? run : CP_BT_HOLT_POINTS;
    if (n < 2)
        return log_streams_at(p, track, t);
    double y[CP_BT_HOLT_POINTS];
    for (size_t i = 0; i < n; i++)
        y[i] = log_streams_at(p, track, t + 1 - n + i);
    struct cp_forecast_fit fit;
    cp_forecast_fit_damped(y, n, &fit);
    return cp_forecast_point(&fit, h);
}

const struct cp_model cp_model_naive = {
    .name = "naive",
    .rank_is_last = true,
    .assumptions = "streams and rank stay where they are at t (a random walk)",
    .predict = naive_predict,
};

const struct cp_model cp_model_drift = {
    .name = "drift",
    .assumptions = "log streams keep changing by their mean change over the last 3 steps",
    .predict = drift_predict,
};

const struct cp_model cp_model_holt = {
    .name = "damped-holt",
    .assumptions = "log streams follow a local level and a damped trend (ETS(A,Ad,N)) fitted "
                   "to the track's own last <= 26 points",
    .predict = holt_predict,
};

/* ---- the pooled model ------------------------------------------------------------------ */

/* Ridge regression of y = log S(s + h) - log S(s) on features of track i at chart s, one
 * fit per horizon, over every (track, s) of the series whose target chart s + h is at most
 * the origin: the sums X'X and X'y grow as origins advance, so every origin gets an exact
 * refit on its expanding window and nothing after the origin is ever added. */
enum {
    F_ONE,
    F_LOG_STREAMS,
    F_LOG_RANK,
    F_D1,       /* the last log change (0 when the run is shorter) */
    F_D2,       /* the one before */
    F_D3,       /* mean log change over 3 steps */
    F_LOG_RUN,  /* log(1 + consecutive charts up to s) */
    F_LOG_AGE,  /* log(1 + charts since its first chart in the series) */
    F_PEAK_GAP, /* max log streams so far - log streams at s */
    F_LOG_SINCE_PEAK,
    F_NEW,        /* first chart in the series */
    F_REENTRY,    /* back after a gap */
    F_WEEKLY_END, /* features above are common; six weekday dummies of s and of s + h follow */
};
#define POOLED_DAILY_FEATURES (F_WEEKLY_END + 12)
#define POOLED_LAMBDA         1.0
/* Examples per feature a horizon needs before its fit is used (else the naive forecast). */
#define POOLED_MIN_EXAMPLES_PER_FEATURE 10

struct pooled {
    size_t p; /* features */
    int horizons;
    size_t next_target; /* charts < this are added as targets */
    double xtx[CP_BT_MAX_HORIZON][POOLED_DAILY_FEATURES * POOLED_DAILY_FEATURES];
    double xty[CP_BT_MAX_HORIZON][POOLED_DAILY_FEATURES];
    double beta[CP_BT_MAX_HORIZON][POOLED_DAILY_FEATURES];
    size_t examples[CP_BT_MAX_HORIZON];
    bool fitted[CP_BT_MAX_HORIZON];
};

static void pooled_features(const struct cp_panel *p, size_t track, size_t s, int h, size_t n,
                            double *x)
{
    memset(x, 0, n * sizeof *x);
    double y = log_streams_at(p, track, s);
    size_t run = cp_panel_run(p, track, s);
    x[F_ONE] = 1.0;
    x[F_LOG_STREAMS] = y;
    x[F_LOG_RANK] = log((double)rank_at(p, track, s));
    if (run >= 2)
        x[F_D1] = y - log_streams_at(p, track, s - 1);
    if (run >= 3)
        x[F_D2] = log_streams_at(p, track, s - 1) - log_streams_at(p, track, s - 2);
    if (run >= 4)
        x[F_D3] = (y - log_streams_at(p, track, s - 3)) / 3.0;
    x[F_LOG_RUN] = log1p((double)run);
    size_t first = s, peak_at = s;
    double peak = y;
    for (size_t c = s + 1; c-- > 0;) {
        if (rank_at(p, track, c) <= 0)
            continue;
        first = c;
        double v = log_streams_at(p, track, c);
        if (v > peak) {
            peak = v;
            peak_at = c;
        }
    }
    x[F_LOG_AGE] = log1p((double)(s - first));
    x[F_PEAK_GAP] = peak - y;
    x[F_LOG_SINCE_PEAK] = log1p((double)(s - peak_at));
    x[F_NEW] = first == s;
    x[F_REENTRY] = run == 1 && first < s;
    if (n == POOLED_DAILY_FEATURES) {
        /* Monday is the base level of both dummies */
        int from = p->weekday[s], to = (p->weekday[s] + h) % 7;
        if (from > 0)
            x[F_WEEKLY_END + from - 1] = 1.0;
        if (to > 0)
            x[F_WEEKLY_END + 6 + to - 1] = 1.0;
    }
}

static void *pooled_create(const struct cp_panel *full, int horizons)
{
    struct pooled *m = cp_calloc(1, sizeof *m);
    m->p = full->weekday ? POOLED_DAILY_FEATURES : F_WEEKLY_END;
    m->horizons = horizons;
    return m;
}

/* Adds every example whose target chart is in [next_target, t] and refits. */
static void pooled_advance(void *state, const struct cp_panel *p, size_t t)
{
    struct pooled *m = state;
    size_t n = m->p;
    double x[POOLED_DAILY_FEATURES];
    for (size_t target = m->next_target; target <= t; target++) {
        for (int h = 1; h <= m->horizons && (size_t)h <= target; h++) {
            size_t s = target - (size_t)h;
            double *xtx = m->xtx[h - 1], *xty = m->xty[h - 1];
            for (size_t i = 0; i < p->tracks; i++) {
                if (rank_at(p, i, s) <= 0 || rank_at(p, i, target) <= 0)
                    continue;
                pooled_features(p, i, s, h, n, x);
                double y = log_streams_at(p, i, target) - log_streams_at(p, i, s);
                for (size_t a = 0; a < n; a++) {
                    xty[a] += x[a] * y;
                    for (size_t b = 0; b < n; b++)
                        xtx[a * n + b] += x[a] * x[b];
                }
                m->examples[h - 1]++;
            }
        }
    }
    m->next_target = t + 1;
    for (int h = 1; h <= m->horizons; h++)
        m->fitted[h - 1] =
            m->examples[h - 1] >= POOLED_MIN_EXAMPLES_PER_FEATURE * n &&
            cp_ridge_solve(m->xtx[h - 1], m->xty[h - 1], n, POOLED_LAMBDA, m->beta[h - 1]);
}

static double pooled_predict(void *state, const struct cp_panel *p, size_t t, size_t track, int h)
{
    struct pooled *m = state;
    double y = log_streams_at(p, track, t);
    if (!m->fitted[h - 1])
        return y;
    double x[POOLED_DAILY_FEATURES], change = 0.0;
    pooled_features(p, track, t, h, m->p, x);
    for (size_t a = 0; a < m->p; a++)
        change += m->beta[h - 1][a] * x[a];
    return y + change;
}

static void pooled_destroy(void *state)
{
    free(state);
}

const struct cp_model cp_model_pooled = {
    .name = "pooled-ridge",
    .assumptions = "the h-step log change of streams is a linear function, the same for every "
                   "track of the series, of the track's level, rank, recent changes, age, run, "
                   "distance from its peak and (daily) weekdays; errors are exchangeable over "
                   "tracks and time",
    .create = pooled_create,
    .advance = pooled_advance,
    .predict = pooled_predict,
    .destroy = pooled_destroy,
};

const struct cp_model *const cp_backtest_models[] = {&cp_model_naive, &cp_model_drift,
                                                     &cp_model_holt, &cp_model_pooled};
const size_t cp_backtest_model_count = sizeof cp_backtest_models / sizeof cp_backtest_models[0];

/* ---- numerics -------------------------------------------------------------------------- */

bool cp_ridge_solve(const double *xtx, const double *xty, size_t p, double lambda, double *b)
{
    double *l = cp_calloc(p * p, sizeof *l);
    bool ok = true;
    for (size_t i = 0; i < p && ok; i++) {
        for (size_t j = 0; j <= i; j++) {
            double sum = xtx[i * p + j] + (i == j && i > 0 ? lambda : 0.0);
            for (size_t k = 0; k < j; k++)
                sum -= l[i * p + k] * l[j * p + k];
            if (i == j) {
                if (!(sum > 1e-12)) {
                    ok = false;
                    break;
                }
                l[i * p + i] = sqrt(sum);
            } else {
                l[i * p + j] = sum / l[j * p + j];
            }
        }
    }
    if (ok) {
        /* L z = X'y, then L' b = z */
        for (size_t i = 0; i < p; i++) {
            double sum = xty[i];
            for (size_t k = 0; k < i; k++)
                sum -= l[i * p + k] * b[k];
            b[i] = sum / l[i * p + i];
        }
        for (size_t i = p; i-- > 0;) {
            double sum = b[i];
            for (size_t k = i + 1; k < p; k++)
                sum -= l[k * p + i] * b[k];
            b[i] = sum / l[i * p + i];
        }
    }
    free(l);
    return ok;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cp_quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, compare_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

/* ---- the protocol ---------------------------------------------------------------------- */

/* The backtest errors of one model at one horizon, in the order they were made, with the
 * chart each forecast was for: the prefix whose target is <= an origin is what a forecaster
 * standing at that origin could have known. */
struct error_log {
    double *log_err, *rank_err; /* log(actual / predicted), actual - predicted rank */
    size_t *target;
    size_t n, cap;
};

static void error_log_add(struct error_log *e, size_t target, double log_err, double rank_err)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 256;
        e->log_err = cp_realloc(e->log_err, e->cap * sizeof *e->log_err);
        e->rank_err = cp_realloc(e->rank_err, e->cap * sizeof *e->rank_err);
        e->target = cp_realloc(e->target, e->cap * sizeof *e->target);
    }
    e->log_err[e->n] = log_err;
    e->rank_err[e->n] = rank_err;
    e->target[e->n] = target;
    e->n++;
}

static void error_log_free(struct error_log *e)
{
    free(e->log_err);
    free(e->rank_err);
    free(e->target);
}

struct bounds {
    bool ok;
    double log_low, log_high, rank_low, rank_high;
};

/* The interval quantiles from the errors known at origin t. */
static struct bounds error_bounds(const struct error_log *e, size_t t, double *scratch)
{
    size_t known = 0;
    while (known < e->n && e->target[known] <= t)
        known++;
    struct bounds b = {.ok = known >= CP_BT_INTERVAL_MIN_ERRORS};
    if (!b.ok)
        return b;
    memcpy(scratch, e->log_err, known * sizeof *scratch);
    b.log_low = cp_quantile(scratch, known, CP_BT_INTERVAL_LOW);
    b.log_high = cp_quantile(scratch, known, CP_BT_INTERVAL_HIGH);
    memcpy(scratch, e->rank_err, known * sizeof *scratch);
    b.rank_low = cp_quantile(scratch, known, CP_BT_INTERVAL_LOW);
    b.rank_high = cp_quantile(scratch, known, CP_BT_INTERVAL_HIGH);
    return b;
}

/* cp_backtest_run; when kept is not NULL, the error logs are handed to it (n * horizons
 * of them, the caller frees) instead of freed. */
static bool run_protocol(const struct cp_panel *p, const struct cp_model *const *models, size_t n,
                         int horizons, size_t stride, struct cp_bt_score *scores,
                         struct error_log **kept)
{
    if (!p || !models || !scores || n == 0 || horizons < 1 || horizons > CP_BT_MAX_HORIZON ||
        stride < 1 || p->charts != p->stride)
        return false;
    memset(scores, 0, n * (size_t)horizons * sizeof *scores);
    void **states = cp_calloc(n, sizeof *states);
    for (size_t m = 0; m < n; m++)
        if (models[m]->create)
            states[m] = models[m]->create(p, horizons);
    struct error_log *logs = cp_calloc(n * (size_t)horizons, sizeof *logs);
    size_t *on = cp_malloc((p->tracks + 1) * sizeof *on);
    double *pred = cp_malloc((p->tracks + 1) * sizeof *pred);
    double *scratch = NULL;
    size_t scratch_cap = 0;

    for (size_t t = CP_BT_FIRST_ORIGIN; t + 1 < p->charts; t += stride) {
        struct cp_panel view = *p;
        view.charts = t + 1;
        size_t count = 0;
        for (size_t i = 0; i < p->tracks; i++)
            if (rank_at(p, i, t) > 0)
                on[count++] = i;
        for (size_t m = 0; m < n; m++) {
            const struct cp_model *model = models[m];
            if (model->advance)
                model->advance(states[m], &view, t);
            for (int h = 1; h <= horizons && t + (size_t)h < p->charts; h++) {
                struct error_log *log_h = &logs[m * (size_t)horizons + (size_t)h - 1];
                if (log_h->n > scratch_cap) {
                    scratch_cap = log_h->n;
                    scratch = cp_realloc(scratch, scratch_cap * sizeof *scratch);
                }
                struct bounds b = error_bounds(log_h, t, scratch);
                for (size_t k = 0; k < count; k++)
                    pred[k] = model->predict(states[m], &view, t, on[k], h);
                struct cp_bt_score *score = &scores[m * (size_t)horizons + (size_t)h - 1];
                for (size_t k = 0; k < count; k++) {
                    size_t i = on[k], target = t + (size_t)h;
                    if (cp_panel_run(p, i, t) < CP_BT_MIN_RUN || rank_at(p, i, target) <= 0)
                        continue;
                    double rank = 1.0;
                    if (model->rank_is_last) {
                        rank = rank_at(p, i, t);
                    } else {
                        for (size_t j = 0; j < count; j++)
                            rank += pred[j] > pred[k];
                    }
                    double actual = p->streams[i * p->stride + target];
                    double forecast = exp(pred[k]);
                    int actual_rank = rank_at(p, i, target);
                    score->rank_abs_sum += fabs(rank - actual_rank);
                    score->streams_ape_sum += 100.0 * fabs(forecast - actual) / actual;
                    score->scored++;
                    double log_err = log_streams_at(p, i, target) - pred[k];
                    if (b.ok) {
                        score->with_interval++;
                        score->streams_covered += log_err >= b.log_low && log_err <= b.log_high;
                        score->rank_covered +=
                            actual_rank >= rank + b.rank_low && actual_rank <= rank + b.rank_high;
                    }
                    error_log_add(log_h, target, log_err, actual_rank - rank);
                }
            }
        }
    }

    for (size_t m = 0; m < n; m++)
        if (models[m]->destroy)
            models[m]->destroy(states[m]);
    if (kept) {
        *kept = logs;
    } else {
        for (size_t k = 0; k < n * (size_t)horizons; k++)
            error_log_free(&logs[k]);
        free(logs);
    }
    free(states);
    free(on);
    free(pred);
    free(scratch);
    return true;
}

bool cp_backtest_run(const struct cp_panel *p, const struct cp_model *const *models, size_t n,
                     int horizons, size_t stride, struct cp_bt_score *scores)
{
    return run_protocol(p, models, n, horizons, stride, scores, NULL);
}

bool cp_backtest_live(const struct cp_panel *p, const struct cp_model *model, int horizons,
                      size_t stride, struct cp_bt_score *scores, struct cp_live_forecast **out,
                      size_t *count)
{
    struct error_log *logs = NULL;
    if (!out || !count || !run_protocol(p, &model, 1, horizons, stride, scores, &logs))
        return false;
    size_t last = p->charts - 1, on_chart = 0;
    for (size_t i = 0; i < p->tracks; i++)
        on_chart += rank_at(p, i, last) > 0;
    *out = cp_calloc(on_chart * (size_t)horizons + 1, sizeof **out);
    *count = 0;
    void *state = model->create ? model->create(p, horizons) : NULL;
    if (model->advance)
        model->advance(state, p, last);
    size_t *on = cp_malloc((on_chart + 1) * sizeof *on);
    double *pred = cp_malloc((on_chart + 1) * sizeof *pred);
    size_t k = 0;
    for (size_t i = 0; i < p->tracks; i++)
        if (rank_at(p, i, last) > 0)
            on[k++] = i;
    for (int h = 1; h <= horizons; h++) {
        struct error_log *e = &logs[h - 1];
        double *scratch = cp_malloc((e->n + 1) * sizeof *scratch);
        /* every error's target is <= the last chart: all of them are known now */
        struct bounds b = error_bounds(e, last, scratch);
        free(scratch);
        if (!b.ok)
            continue;
        for (size_t j = 0; j < on_chart; j++)
            pred[j] = model->predict(state, p, last, on[j], h);
        for (size_t j = 0; j < on_chart; j++) {
            double rank = 1.0;
            if (model->rank_is_last) {
                rank = rank_at(p, on[j], last);
            } else {
                for (size_t m = 0; m < on_chart; m++)
                    rank += pred[m] > pred[j];
            }
            double top = (double)on_chart, low = rank + b.rank_low, high = rank + b.rank_high;
            (*out)[(*count)++] = (struct cp_live_forecast){
                .track = on[j],
                .horizon = h,
                .rank = rank,
                .rank_low = low < 1.0   ? 1.0
                            : low > top ? top
                                        : low,
                .rank_high = high < 1.0   ? 1.0
                             : high > top ? top
                                          : high,
                .streams = exp(pred[j]),
                .streams_low = exp(pred[j] + b.log_low),
                .streams_high = exp(pred[j] + b.log_high),
            };
        }
    }
    if (model->destroy)
        model->destroy(state);
    for (int h = 0; h < horizons; h++)
        error_log_free(&logs[h]);
    free(logs);
    free(on);
    free(pred);
    return true;
}
