/* Damped-trend exponential smoothing on log rank and log streams, the naive fallback and
 * their rolling-origin backtest (the model is described in forecast.h). */
#include "analytics/forecast.h"

#include <math.h>
#include <stdlib.h>

#include "core/mem.h"

/* The grid alpha x beta x phi searched by cp_forecast_fit_damped. phi runs from the least
 * damped down, so that when several points fit equally well (a noiseless series) the fit
 * keeps the trend longest; alpha and beta run from the smoothest up. */
static const double ALPHAS[] = {0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0};
static const double BETAS[] = {0.0, 0.05, 0.1, 0.2, 0.4};
static const double PHIS[] = {0.98, 0.95, 0.9, 0.8};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* z of the central CP_FORECAST_INTERVAL (0.8) normal interval: Phi^-1(0.9). */
#define Z_80 1.2815515655446004

const char *cp_forecast_model_name(enum cp_forecast_model model)
{
    return model == CP_MODEL_DAMPED ? "damped-holt-log" : "naive-last-value";
}

double cp_forecast_z(void)
{
    return Z_80;
}

/* Runs the error-correction recursion over y[0..n) from l_0 = y_0, b_0 = b0; returns the
 * sum of squared one-step errors and leaves the final state in *level, *trend. */
static double smooth(const double *y, size_t n, double alpha, double beta, double phi, double b0,
                     double *level, double *trend)
{
    double l = y[0], b = b0, sse = 0.0;
    for (size_t t = 1; t < n; t++) {
        double predicted = l + phi * b;
        double e = y[t] - predicted;
        sse += e * e;
        l = predicted + alpha * e;
        b = phi * b + alpha * beta * e;
    }
    *level = l;
    *trend = b;
    return sse;
}

void cp_forecast_fit_damped(const double *y, size_t n, struct cp_forecast_fit *fit)
{
    size_t k = n - 1 < 3 ? n - 1 : 3;
    double b0 = k ? (y[k] - y[0]) / (double)k : 0.0;
    double best = INFINITY;
    for (size_t p = 0; p < N_OF(PHIS); p++) {
        for (size_t a = 0; a < N_OF(ALPHAS); a++) {
            for (size_t g = 0; g < N_OF(BETAS); g++) {
                double level, trend;
                double sse = smooth(y, n, ALPHAS[a], BETAS[g], PHIS[p], b0, &level, &trend);
                if (sse < best) {
                    best = sse;
                    *fit = (struct cp_forecast_fit){
                        .alpha = ALPHAS[a],
                        .beta = BETAS[g],
                        .phi = PHIS[p],
                        .level = level,
                        .trend = trend,
                        .sigma = n > 1 ? sqrt(sse / (double)(n - 1)) : 0.0,
                    };
                }
            }
        }
    }
}

static void cp_forecast_fit_naive(const double *y, size_t n, double prior_sigma,
                                  struct cp_forecast_fit *fit)
{
    double sum_sq = 0.0;
    for (size_t t = 1; t < n; t++)
        sum_sq += (y[t] - y[t - 1]) * (y[t] - y[t - 1]);
    *fit = (struct cp_forecast_fit){
        .alpha = 1.0,
        .beta = 0.0,
        .phi = 1.0,
        .level = y[n - 1],
        .trend = 0.0,
        /* one change says too little about the spread: use the prior until there are two */
        .sigma = n >= 3 ? sqrt(sum_sq / (double)(n - 1)) : prior_sigma,
    };
}

double cp_forecast_point(const struct cp_forecast_fit *fit, int h)
{
    double damped_steps = 0.0, power = 1.0;
    for (int i = 1; i <= h; i++) {
        power *= fit->phi;
        damped_steps += power;
    }
    return fit->level + damped_steps * fit->trend;
}

double cp_forecast_sd(const struct cp_forecast_fit *fit, int h)
{
    double variance = 1.0, phi_sum = 0.0, power = 1.0;
    for (int j = 1; j < h; j++) {
        power *= fit->phi;
        phi_sum += power;
        double c = fit->alpha + fit->alpha * fit->beta * phi_sum;
        variance += c * c;
    }
    return fit->sigma * sqrt(variance);
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The series on the log scale the models work on; streams NULL when s has none. Caller
 * frees both. */
static void log_series(const struct cp_forecast_series *s, double **rank, double **streams)
{
    *rank = cp_malloc(s->n * sizeof **rank);
    *streams = NULL;
    for (size_t i = 0; i < s->n; i++)
        (*rank)[i] = log(s->rank[i] < 1 ? 1.0 : (double)s->rank[i]);
    if (s->streams) {
        *streams = cp_malloc(s->n * sizeof **streams);
        /* log(0) is -inf; a chart never prints 0 streams, but one stream is harmless */
        for (size_t i = 0; i < s->n; i++)
            (*streams)[i] = log(s->streams[i] < 1 ? 1.0 : (double)s->streams[i]);
    }
}

static void fit_model(enum cp_forecast_model model, const double *y, size_t n, double prior,
                      struct cp_forecast_fit *fit)
{
    if (model == CP_MODEL_DAMPED)
        cp_forecast_fit_damped(y, n, fit);
    else
        cp_forecast_fit_naive(y, n, prior, fit);
}

/* The largest rank a forecast may take: the chart size, or the worst rank seen when the
 * caller did not know it. */
static double rank_ceiling(const struct cp_forecast_series *s)
{
    int worst = 1;
    for (size_t i = 0; i < s->n; i++)
        if (s->rank[i] > worst)
            worst = s->rank[i];
    return s->chart_size >= worst ? s->chart_size : worst;
}

void cp_forecast_backtest(const struct cp_forecast_series *s, enum cp_forecast_model model,
                          int horizon, size_t first_origin, size_t max_origins,
                          struct cp_forecast_errors *errors)
{
    size_t first = model == CP_MODEL_DAMPED ? CP_FORECAST_MIN_POINTS : 1;
    if (first_origin > first)
        first = first_origin;
    if (s->n <= first || horizon < 1 || max_origins == 0)
        return;
    double *log_rank, *log_streams;
    log_series(s, &log_rank, &log_streams);
    double ceiling = rank_ceiling(s);
    size_t candidates = s->n - first; /* origins first .. n - 1 */
    size_t origins = candidates < max_origins ? candidates : max_origins;
    for (size_t k = 0; k < origins; k++) {
        /* evenly spaced, both ends included, in integers so every platform picks the same */
        size_t t = first + (origins == 1 ? candidates - 1 : k * (candidates - 1) / (origins - 1));
        struct cp_forecast_fit rank_fit, streams_fit;
        fit_model(model, log_rank, t, CP_FORECAST_PRIOR_SIGMA_RANK, &rank_fit);
        if (log_streams)
            fit_model(model, log_streams, t, CP_FORECAST_PRIOR_SIGMA_STREAMS, &streams_fit);
        for (int h = 1; h <= horizon && t + (size_t)h - 1 < s->n; h++) {
            size_t actual = t + (size_t)h - 1;
            struct cp_forecast_errors *e = &errors[h - 1];
            double rank = clamp(exp(cp_forecast_point(&rank_fit, h)), 1.0, ceiling);
            e->rank_abs_sum += fabs(rank - s->rank[actual]);
            e->rank_count++;
            if (log_streams && s->streams[actual] > 0) {
                double streams = exp(cp_forecast_point(&streams_fit, h));
                e->streams_ape_sum +=
                    100.0 * fabs(streams - (double)s->streams[actual]) / (double)s->streams[actual];
                e->streams_count++;
            }
        }
    }
    free(log_rank);
    free(log_streams);
}

bool cp_forecast_run(const struct cp_forecast_series *s, int horizon, struct cp_forecast *out)
{
    if (!s || !out || s->n == 0 || horizon < 1 || horizon > CP_FORECAST_MAX_HORIZON)
        return false;
    *out = (struct cp_forecast){
        .model = s->n >= CP_FORECAST_MIN_POINTS ? CP_MODEL_DAMPED : CP_MODEL_NAIVE,
        .has_streams = s->streams != NULL,
        .horizon = horizon,
    };
    double *log_rank, *log_streams;
    log_series(s, &log_rank, &log_streams);
    fit_model(out->model, log_rank, s->n, CP_FORECAST_PRIOR_SIGMA_RANK, &out->rank_fit);
    if (log_streams)
        fit_model(out->model, log_streams, s->n, CP_FORECAST_PRIOR_SIGMA_STREAMS,
                  &out->streams_fit);
    double ceiling = rank_ceiling(s), z = cp_forecast_z();
    for (int h = 1; h <= horizon; h++) {
        struct cp_forecast_point *p = &out->points[h - 1];
        double mean = cp_forecast_point(&out->rank_fit, h), sd = cp_forecast_sd(&out->rank_fit, h);
        p->rank = clamp(exp(mean), 1.0, ceiling);
        p->rank_low = clamp(exp(mean - z * sd), 1.0, ceiling);
        p->rank_high = clamp(exp(mean + z * sd), 1.0, ceiling);
        if (log_streams) {
            mean = cp_forecast_point(&out->streams_fit, h);
            sd = cp_forecast_sd(&out->streams_fit, h);
            p->streams = exp(mean);
            p->streams_low = exp(mean - z * sd);
            p->streams_high = exp(mean + z * sd);
        }
    }
    free(log_rank);
    free(log_streams);

    struct cp_forecast_errors per_horizon[CP_FORECAST_MAX_HORIZON] = {{0}};
    cp_forecast_backtest(s, out->model, horizon, 0, CP_FORECAST_MAX_ORIGINS, per_horizon);
    for (int h = 0; h < horizon; h++) {
        out->backtest.rank_abs_sum += per_horizon[h].rank_abs_sum;
        out->backtest.rank_count += per_horizon[h].rank_count;
        out->backtest.streams_ape_sum += per_horizon[h].streams_ape_sum;
        out->backtest.streams_count += per_horizon[h].streams_count;
    }
    return true;
}
