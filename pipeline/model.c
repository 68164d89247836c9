/* `chartpulse model backtest [--region R] [--period P] [--kind K] [--stride N]
 * [--format table|csv|json]`: SPEC §4b's protocol (analytics/backtest.h) over one series. */
#include "pipeline/model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/backtest.h"
#include "core/cli.h"
#include "core/mem.h"
#include "core/number.h"
#include "core/series.h"
#include "db/pool.h"
#include "pipeline/series_panel.h"

static void usage(void)
{
    printf("usage: chartpulse model backtest [--region R] [--period daily|weekly]\n"
           "                                 [--kind regional|viral] [--stride N]\n"
           "                                 [--format table|csv|json]\n\n"
           "Runs the forecast evaluation protocol of SPEC 4b on one chart series (default:\n"
           "regional global daily): origins every N-th chart (default 1) from the 9th on; at\n"
           "each, every track on the chart for >= 4 consecutive charts is forecast h = 1..7\n"
           "(daily) or 1..4 (weekly) charts ahead from the charts up to the origin, and scored\n"
           "when it is on the chart h later. Prints, per model and horizon, the rank MAE, the\n"
           "streams MAPE, the number of scored forecasts and the coverage of the 80%%\n"
           "intervals made from each model's earlier errors. Reads DATABASE_URL.\n");
}

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

struct options {
    const char *region, *period, *kind;
    long stride;
    enum format format;
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
                          .stride = 1,
                          .format = FORMAT_TABLE};
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
        long long stride;
        if (!strcmp(arg, "--region") && cp_region_known(value))
            o->region = value;
        else if (!strcmp(arg, "--period") && cp_period_valid(value))
            o->period = value;
        else if (!strcmp(arg, "--kind") && cp_chart_kind_valid(value))
            o->kind = value;
        else if (!strcmp(arg, "--stride") && cp_number_parse(value, 1, 10000, &stride))
            o->stride = (long)stride;
        else if (!strcmp(arg, "--format") && !strcmp(value, "table"))
            o->format = FORMAT_TABLE;
        else if (!strcmp(arg, "--format") && !strcmp(value, "csv"))
            o->format = FORMAT_CSV;
        else if (!strcmp(arg, "--format") && !strcmp(value, "json"))
            o->format = FORMAT_JSON;
        else if (!strcmp(arg, "--region") || !strcmp(arg, "--period") || !strcmp(arg, "--kind") ||
                 !strcmp(arg, "--stride") || !strcmp(arg, "--format")) {
            cp_cli_fail(cmd, "%s: bad value '%s' (see --help)", arg, value);
            return 1;
        } else {
            cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", arg);
            return 1;
        }
    }
    return 0;
}

struct row {
    const char *model;
    int h;
    double rank_mae, streams_mape, rank_coverage, streams_coverage;
    size_t scored, with_interval;
};

static struct row row_of(const struct cp_model *m, int h, const struct cp_bt_score *s)
{
    struct row r = {
        .model = m->name, .h = h, .scored = s->scored, .with_interval = s->with_interval};
    r.rank_mae = s->scored ? s->rank_abs_sum / (double)s->scored : NAN;
    r.streams_mape = s->scored ? s->streams_ape_sum / (double)s->scored : NAN;
    r.rank_coverage =
        s->with_interval ? 100.0 * (double)s->rank_covered / (double)s->with_interval : NAN;
    r.streams_coverage =
        s->with_interval ? 100.0 * (double)s->streams_covered / (double)s->with_interval : NAN;
    return r;
}

static void print_results(const struct options *o, const struct cp_panel *p, int horizons,
                          const struct cp_bt_score *scores)
{
    size_t n = cp_backtest_model_count;
    if (o->format == FORMAT_JSON) {
        json_t *body = json_object(), *list = json_array();
        json_object_set_new(body, "kind", json_string(o->kind));
        json_object_set_new(body, "region", json_string(o->region));
        json_object_set_new(body, "period", json_string(o->period));
        json_object_set_new(body, "charts", json_integer((json_int_t)p->charts));
        json_object_set_new(body, "stride", json_integer(o->stride));
        json_object_set_new(body, "interval", json_real(CP_BT_INTERVAL_HIGH - CP_BT_INTERVAL_LOW));
        for (int h = 1; h <= horizons; h++) {
            for (size_t m = 0; m < n; m++) {
                struct row r =
                    row_of(cp_backtest_models[m], h, &scores[m * (size_t)horizons + h - 1]);
                json_t *item = json_object();
                json_object_set_new(item, "model", json_string(r.model));
                json_object_set_new(item, "horizon", json_integer(h));
                json_object_set_new(item, "scored", json_integer((json_int_t)r.scored));
                json_object_set_new(item, "rank_mae",
                                    r.scored ? json_real(r.rank_mae) : json_null());
                json_object_set_new(item, "streams_mape",
                                    r.scored ? json_real(r.streams_mape) : json_null());
                json_object_set_new(item, "with_interval",
                                    json_integer((json_int_t)r.with_interval));
                json_object_set_new(item, "rank_coverage",
                                    r.with_interval ? json_real(r.rank_coverage) : json_null());
                json_object_set_new(item, "streams_coverage",
                                    r.with_interval ? json_real(r.streams_coverage) : json_null());
                json_array_append_new(list, item);
            }
        }
        json_object_set_new(body, "results", list);
        char *text = json_dumps(body, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        printf("%s\n", text);
        free(text);
        json_decref(body);
        return;
    }
    if (o->format == FORMAT_CSV)
        printf("model,horizon,rank_mae,streams_mape,scored,rank_coverage,streams_coverage,"
               "with_interval\n");
    else
        printf("model backtest (SPEC 4b): %s %s %s, %zu charts, origins every %ld from the 9th\n"
               "coverage: share of actual values inside the 80%% interval made from the model's\n"
               "earlier errors at that horizon\n\n%-13s %2s %9s %13s %8s %9s %12s\n",
               o->kind, o->region, o->period, p->charts, o->stride, "model", "h", "rank_mae",
               "streams_mape", "scored", "rank_cov", "streams_cov");
    for (int h = 1; h <= horizons; h++) {
        for (size_t m = 0; m < n; m++) {
            struct row r = row_of(cp_backtest_models[m], h, &scores[m * (size_t)horizons + h - 1]);
            if (o->format == FORMAT_CSV)
                printf("%s,%d,%.4f,%.4f,%zu,%.2f,%.2f,%zu\n", r.model, h, r.rank_mae,
                       r.streams_mape, r.scored, r.rank_coverage, r.streams_coverage,
                       r.with_interval);
            else
                printf("%-13s %2d %9.2f %12.2f%% %8zu %8.1f%% %11.1f%%\n", r.model, h, r.rank_mae,
                       r.streams_mape, r.scored, r.rank_coverage, r.streams_coverage);
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
    struct cp_series_panel d = {0};
    struct cp_bt_score *scores = NULL;
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    if (!cp_series_panel_read(conn, o.kind, o.region, o.period, 0, &d, err, sizeof err)) {
        cp_cli_fail(cmd, "cannot read the %s %s %s series: %s", o.kind, o.region, o.period, err);
        goto out;
    }
    if (d.panel.charts < CP_BT_FIRST_ORIGIN + 2) {
        cp_cli_fail(cmd,
                    "the %s %s %s series has %zu charts; the protocol needs at least %d (origins "
                    "start at the 9th, and one chart must follow)",
                    o.kind, o.region, o.period, d.panel.charts, CP_BT_FIRST_ORIGIN + 2);
        goto out;
    }
    int horizons = cp_period_days(o.period) == 7 ? 4 : 7;
    scores = cp_calloc(cp_backtest_model_count * (size_t)horizons, sizeof *scores);
    cp_backtest_run(&d.panel, cp_backtest_models, cp_backtest_model_count, horizons,
                    (size_t)o.stride, scores);
    print_results(&o, &d.panel, horizons, scores);
    status = 0;
out:
    free(scores);
    cp_series_panel_cleanup(&d);
    if (conn)
        PQfinish(conn);
    cp_config_cleanup(&cfg);
    return status;
}
