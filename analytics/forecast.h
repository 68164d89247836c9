/* Forecasts of a track's chart trajectory and their rolling-origin backtest. Pure
 * computation on arrays (no I/O, no globals), so the same numbers come out of the API, the
 * `chartpulse model backtest` command and the unit tests.
 *
 * The model (CP_MODEL_DAMPED, "damped-holt-log"): Holt's linear exponential smoothing with
 * a damped trend (Gardner & McKenzie 1985), in the error-correction form of ETS(A,Ad,N)
 * (Hyndman et al., "Forecasting with Exponential Smoothing", 2008, ch. 3 and 6), fitted
 * separately to log(rank) and log(streams):
 *
 *     e_t = y_t - (l_{t-1} + phi b_{t-1})
 *     l_t = l_{t-1} + phi b_{t-1} + alpha e_t
 *     b_t = phi b_{t-1} + alpha beta e_t
 *     yhat_{t+h} = l_t + (phi + phi^2 + ... + phi^h) b_t
 *
 * Logs, because chart moves are multiplicative (a track slips from 10 to 20 as easily as
 * from 100 to 200) and streams decay roughly geometrically after a release; the back
 * transform exp() keeps forecasts positive. Damping, because an undamped trend carried 90
 * charts ahead sends any track to #1 or off the chart. alpha, beta and phi are chosen by a
 * fixed grid search minimising the in-sample one-step squared error (ties keep the first
 * grid point, so the fit is deterministic). l_0 = y_0 and b_0 = the mean slope of the
 * first (up to) three steps.
 *
 * Intervals: sigma^2 is the mean squared one-step error; the h-step variance is ETS's
 * sigma^2 (1 + sum_{j=1}^{h-1} (alpha + alpha beta (phi + ... + phi^j))^2), which grows
 * with h. The CP_FORECAST_INTERVAL interval is exp(yhat +- z sd) (z = 1.2816 for 80%),
 * asymmetric on the original scale. Ranks are clamped to 1..chart size.
 *
 * Short histories (fewer than CP_FORECAST_MIN_POINTS observations) get CP_MODEL_NAIVE
 * ("naive-last-value"): the last value carried forward, a random walk whose sigma is the
 * root mean square of the log changes seen so far, or the CP_FORECAST_PRIOR_SIGMA_* priors
 * when fewer than two changes exist.
 *
 * A track's observations are the charts it was on, in date order; charts it missed are
 * skipped (its rank there is unknown, only "below the chart"), so step k means "k charts
 * on which it appears later". */
#ifndef CP_FORECAST_H
#define CP_FORECAST_H

#include <stdbool.h>
#include <stddef.h>

#define CP_FORECAST_MIN_POINTS  5   /* the damped model needs this many observations */
#define CP_FORECAST_MAX_HORIZON 90  /* charts ahead */
#define CP_FORECAST_INTERVAL    0.8 /* the coverage the intervals aim at */
#define CP_FORECAST_MAX_ORIGINS 30  /* backtest origins per track in the API */
/* Random-walk sigma of log rank and log streams per chart when a history is too short to
 * measure it: the root mean square change of log rank (30,853 pairs) and log streams from
 * one chart to the next on the real global weekly charts 2016-2023 (tests/integration/
 * test_tracks.c loads them). Daily charts move less, so these err on the wide side. */
#define CP_FORECAST_PRIOR_SIGMA_RANK    0.27
#define CP_FORECAST_PRIOR_SIGMA_STREAMS 0.13

enum cp_forecast_model {
    CP_MODEL_NAIVE,  /* last value, random-walk intervals */
    CP_MODEL_DAMPED, /* damped-trend Holt on logs */
};

/* The model's public name ("naive-last-value", "damped-holt-log"). Static. */
const char *cp_forecast_model_name(enum cp_forecast_model model);

/* A fitted smoothing model of one (log) series. The naive model is the special case
 * alpha = 1, beta = 0, trend = 0. */
struct cp_forecast_fit {
    double alpha, beta, phi;
    double level, trend; /* the state after the last observation */
    double sigma;        /* standard deviation of the one-step errors */
};

/* Fits the damped model to y[0..n), n >= 2. */
void cp_forecast_fit_damped(const double *y, size_t n, struct cp_forecast_fit *fit);
/* The point forecast h >= 1 steps ahead, on the fitted (log) scale. */
double cp_forecast_point(const struct cp_forecast_fit *fit, int h);
/* Its standard deviation, non-decreasing in h. */
double cp_forecast_sd(const struct cp_forecast_fit *fit, int h);

/* A track's observations in one series, oldest first. streams may be NULL (viral charts):
 * then there is no streams forecast; otherwise every value must be >= 0. */
struct cp_forecast_series {
    const int *rank;
    const long long *streams;
    size_t n;
    int chart_size; /* ranks are clamped to 1..chart_size */
};

struct cp_forecast_point {
    double rank, rank_low, rank_high;
    double streams, streams_low, streams_high; /* meaningful only when has_streams */
};

/* Rolling-origin errors, summed; per horizon in the backtest command, over all horizons in
 * the API. */
struct cp_forecast_errors {
    double rank_abs_sum;    /* sum of |forecast rank - actual rank| */
    size_t rank_count;      /* evaluated (origin, horizon) pairs */
    double streams_ape_sum; /* sum of |forecast - actual| / actual, in percent */
    size_t streams_count;
};

/* A forecast with its backtest. */
struct cp_forecast {
    enum cp_forecast_model model;
    struct cp_forecast_fit rank_fit, streams_fit;
    bool has_streams;
    int horizon;
    struct cp_forecast_point points[CP_FORECAST_MAX_HORIZON];
    struct cp_forecast_errors backtest; /* of this model at horizons 1..horizon */
};

/* Forecasts the next horizon (1..CP_FORECAST_MAX_HORIZON) observations of s (n >= 1):
 * the damped model when n >= CP_FORECAST_MIN_POINTS, else the naive one; its backtest uses
 * at most CP_FORECAST_MAX_ORIGINS origins. Returns false on a bad argument. */
bool cp_forecast_run(const struct cp_forecast_series *s, int horizon, struct cp_forecast *out);

/* Rolling-origin backtest of model on s: at up to max_origins origins t, evenly spaced over
 * [first, n - 1] where first is the larger of first_origin and the model's minimum
 * (CP_FORECAST_MIN_POINTS for the damped model, 1 for the naive one), fits on observations
 * [0, t) and forecasts t .. t + horizon - 1; each forecast whose observation exists is
 * added to errors[h - 1] (an array of horizon elements, which this adds to and does not
 * reset). Comparing models, pass the same first_origin so they face the same origins. */
void cp_forecast_backtest(const struct cp_forecast_series *s, enum cp_forecast_model model,
                          int horizon, size_t first_origin, size_t max_origins,
                          struct cp_forecast_errors *errors);

/* The 1 - (1 - CP_FORECAST_INTERVAL) / 2 normal quantile. */
double cp_forecast_z(void);

#endif
