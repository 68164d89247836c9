/* `chartpulse model backtest [--region R] [--period P] [--kind K] [--min-points N]`. */
#include "pipeline/model.h"

#include <stdio.h>
#include <string.h>

#include "analytics/forecast.h"
#include "core/cli.h"
#include "core/number.h"
#include "core/series.h"
#include "db/pool.h"
#include "db/tracks_repo.h"

/* Horizons reported, in charts: a day, a week, two and four weeks on daily charts; one to
 * eight weeks on weekly ones. */
static const int DAILY_HORIZONS[] = {1, 7, 14, 28};
static const int WEEKLY_HORIZONS[] = {1, 2, 4, 8};
#define N_HORIZONS 4
/* Origins per track: as many as the API uses, so the table predicts its numbers. */
#define ORIGINS_PER_TRACK  CP_FORECAST_MAX_ORIGINS
#define DEFAULT_MIN_POINTS 20

static const enum cp_forecast_model MODELS[] = {CP_MODEL_NAIVE, CP_MODEL_DAMPED};
#define N_MODELS (sizeof MODELS / sizeof MODELS[0])

static void usage(void)
{
    printf("usage: chartpulse model backtest [--region R] [--period daily|weekly]\n"
           "                                 [--kind regional|viral] [--min-points N]\n\n"
           "Compares the forecast models of GET /v1/tracks/{id}/forecast on every track of\n"
           "one chart series (default: regional global daily) with at least N observations\n"
           "(default %d). For each track, up to %d forecast origins evenly spaced over its\n"
           "history; at each, the model is fitted on the observations before the origin and\n"
           "its forecasts are compared with what followed. Prints, per model and horizon (in\n"
           "charts), the mean absolute error of rank, the mean absolute percentage error of\n"
           "streams and the number of evaluated forecasts. Reads DATABASE_URL.\n",
           DEFAULT_MIN_POINTS, ORIGINS_PER_TRACK);
}

struct options {
    const char *region, *period, *kind;
    long min_points;
};

/* Returns 0 to go on, 1 on a bad argument (reported), -1 after --help. */
static int parse(int argc, char **argv, struct options *o)
{
    const char *cmd = "model";
    if (argc < 2 || strcmp(argv[1], "backtest")) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            usage();
            return -1;
        }
        cp_cli_fail(cmd, "expected 'backtest' (see chartpulse model --help)");
        return 1;
    }
    *o = (struct options){.region = "global",
                          .period = cp_periods[0],
                          .kind = cp_chart_kinds[0],
                          .min_points = DEFAULT_MIN_POINTS};
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage();
            return -1;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) {
            cp_cli_fail(cmd, "%s needs a value (see --help)", arg);
            return 1;
        }
        i++;
        long long points;
        if (!strcmp(arg, "--region") && cp_region_known(value))
            o->region = value;
        else if (!strcmp(arg, "--period") && cp_period_valid(value))
            o->period = value;
        else if (!strcmp(arg, "--kind") && cp_chart_kind_valid(value))
            o->kind = value;
        else if (!strcmp(arg, "--min-points") &&
                 cp_number_parse(value, CP_FORECAST_MIN_POINTS + 1, 100000, &points))
            o->min_points = (long)points;
        else if (!strcmp(arg, "--region") || !strcmp(arg, "--period") || !strcmp(arg, "--kind") ||
                 !strcmp(arg, "--min-points")) {
            cp_cli_fail(cmd, "%s: bad value '%s' (see --help)", arg, value);
            return 1;
        } else {
            cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", arg);
            return 1;
        }
    }
    return 0;
}

static void print_table(const struct options *o, const int *horizons, size_t tracks,
                        struct cp_forecast_errors errors[N_MODELS][N_HORIZONS])
{
    printf("model backtest: %s %s %s, %zu tracks with >= %ld observations, <= %d origins "
           "each\n\n",
           o->kind, o->region, o->period, tracks, o->min_points, ORIGINS_PER_TRACK);
    printf("%-18s %7s %9s %13s %9s\n", "model", "horizon", "rank_mae", "streams_mape", "points");
    for (size_t m = 0; m < N_MODELS; m++) {
        for (size_t h = 0; h < N_HORIZONS; h++) {
            const struct cp_forecast_errors *e = &errors[m][h];
            char mae[32] = "-", mape[32] = "-";
            if (e->rank_count)
                snprintf(mae, sizeof mae, "%.2f", e->rank_abs_sum / (double)e->rank_count);
            if (e->streams_count)
                snprintf(mape, sizeof mape, "%.2f%%",
                         e->streams_ape_sum / (double)e->streams_count);
            printf("%-18s %7d %9s %13s %9zu\n", cp_forecast_model_name(MODELS[m]), horizons[h], mae,
                   mape, e->rank_count);
        }
    }
}

int cp_model_main(int argc, char **argv)
{
    const char *cmd = "model";
    struct options o;
    int parsed = parse(argc, argv, &o);
    if (parsed)
        return parsed < 0 ? 0 : 1;
    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    int status = 1;
    char err[1024];
    struct cp_series_tracks series = {0};
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    if (cp_tracks_repo_series(conn, o.kind, o.region, o.period, &series, err, sizeof err) !=
        CP_OK) {
        cp_cli_fail(cmd, "cannot read the %s %s %s series: %s", o.kind, o.region, o.period, err);
        goto out;
    }

    const int *horizons = cp_period_days(o.period) == 7 ? WEEKLY_HORIZONS : DAILY_HORIZONS;
    int max_horizon = horizons[N_HORIZONS - 1];
    struct cp_forecast_errors errors[N_MODELS][N_HORIZONS] = {{{0}}};
    struct cp_forecast_errors per_h[CP_FORECAST_MAX_HORIZON];
    struct cp_progress progress;
    cp_progress_init(&progress);
    size_t evaluated_tracks = 0;
    for (size_t t = 0; t < series.track_count; t++) {
        size_t begin = series.offsets[t], n = series.offsets[t + 1] - begin;
        cp_progress_update(&progress, "tracks", (double)t, (double)series.track_count,
                           (long long)t);
        if (n < (size_t)o.min_points)
            continue;
        evaluated_tracks++;
        struct cp_forecast_series s = {
            .rank = series.rank + begin,
            .streams = series.streams ? series.streams + begin : NULL,
            .n = n,
            .chart_size = series.chart_size,
        };
        for (size_t m = 0; m < N_MODELS; m++) {
            memset(per_h, 0, sizeof per_h);
            /* the same origins for every model: none before the damped model can fit */
            cp_forecast_backtest(&s, MODELS[m], max_horizon, CP_FORECAST_MIN_POINTS,
                                 ORIGINS_PER_TRACK, per_h);
            for (size_t h = 0; h < N_HORIZONS; h++) {
                const struct cp_forecast_errors *src = &per_h[horizons[h] - 1];
                struct cp_forecast_errors *dst = &errors[m][h];
                dst->rank_abs_sum += src->rank_abs_sum;
                dst->rank_count += src->rank_count;
                dst->streams_ape_sum += src->streams_ape_sum;
                dst->streams_count += src->streams_count;
            }
        }
    }
    cp_progress_finish(&progress);
    print_table(&o, horizons, evaluated_tracks, errors);
    if (evaluated_tracks == 0)
        fprintf(stderr,
                "chartpulse model: no track of the %s %s %s series has %ld observations"
                " (load more charts or lower --min-points)\n",
                o.kind, o.region, o.period, o.min_points);
    status = 0;
out:
    cp_tracks_repo_series_cleanup(&series);
    if (conn)
        PQfinish(conn);
    cp_config_cleanup(&cfg);
    return status;
}
