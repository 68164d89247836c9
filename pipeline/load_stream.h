/* The rows of one raw object as the loader holds them between parsing and the database,
 * and the streamed load path.
 *
 * Streamed path: when every chart of the object is newer than every loaded chart of its
 * series (the usual case: charts arrive in date order), the loader derives the chart-run
 * columns (previous rank, movement, peak, periods on chart, streak) itself, from the
 * series' core.chart_run rows and the object's rows in chart-date order, and COPYs the
 * finished rows straight into core.chart and core.chart_entry. The track, chart_run and
 * track_month upserts follow in SQL (etl.merge_streamed). Otherwise the rows are staged
 * and merged set-based by etl.merge_stage, which handles any order; the tests check that
 * both give the same tables. */
#ifndef CP_LOAD_STREAM_H
#define CP_LOAD_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/status.h"
#include "pipeline/chart_csv.h"

/* A chart series: (chart kind, region, period). */
struct cp_series {
    char *chart_kind;
    char *region;
    char *period;
    char min_date[11]; /* of the object's rows in this series */
    char latest[11];   /* the series' latest loaded chart, "" when none (streamed path) */
};

struct cp_staged_row {
    long line_no;
    int series; /* index into cp_staged.series */
    int rank;
    char chart_date[11];
    char track_id[23];
    size_t name, artists, label; /* offsets into cp_staged.strings; label CP_NO_LABEL: none */
    long long streams;           /* -1: absent */
    int src_peak_rank, src_previous_rank, src_periods_on_chart; /* -1: absent */
    size_t raw_offset, raw_len; /* the record in the object's bytes */
};
#define CP_NO_LABEL ((size_t)-1)

struct cp_staged {
    struct cp_staged_row *rows;
    size_t count, alloc;
    struct cp_series *series;
    size_t nseries;
    struct cp_buf strings;
    char min_date[11], max_date[11]; /* over all rows; "" when none */
    cp_status status;                /* CP_ERR_TOO_LARGE once a buffer hit its cap */
};

void cp_staged_init(struct cp_staged *s, size_t max_bytes);
void cp_staged_add(struct cp_staged *s, const struct cp_chart_row *row);
void cp_staged_free(struct cp_staged *s);

/* A track can be on a chart once. Every later position of a track already on the chart
 * (by rank) is taken out of the rows and given to on_reject with its line, text (from
 * data, the bytes the rows were read from) and reason. Returns how many were. */
size_t cp_staged_reject_repeated_tracks(struct cp_staged *s, const char *data,
                                        cp_chart_reject_fn on_reject, void *ud);

/* The rows as COPY text for pg_temp.stage_entry (the set-based path). */
cp_status cp_staged_stage_text(const struct cp_staged *s, struct cp_buf *out);

/* Inside the object's open transaction (rejects already copied): takes the series' advisory
 * locks and, when every chart extends its series and no track appears twice on one chart,
 * loads the object by the streamed path and sets *streamed (call
 * cp_staged_reject_repeated_tracks first). Otherwise sets *streamed to
 * false and writes nothing (the locks stay held for the set-based merge). */
cp_status cp_load_streamed(PGconn *conn, long long object_id, struct cp_staged *s, bool *streamed,
                           char *err, size_t errlen);

#endif
