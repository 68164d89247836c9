/* Reading one published chart (a series' entries on one date) from the reporting schema. */
#ifndef CP_CHARTS_REPO_H
#define CP_CHARTS_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* The chart-run columns of an entry. */
struct cp_chart_run_values {
    int previous_rank;
    bool has_previous_rank;
    const char *movement; /* up|down|same|new|re-entry|unknown, NULL when not computed */
    int peak_rank;
    bool has_peak_rank;
    int periods_on_chart; /* days on daily charts, weeks on weekly ones */
    bool has_periods_on_chart;
};

/* One chart position as reporting.chart_entries has it. The strings are borrowed from the
 * struct cp_chart that holds the entry and live until cp_charts_repo_cleanup. The has_*
 * flags are false where the column is NULL (streams on viral charts, previous rank of a
 * new entry or of a chart whose previous period is not loaded). The shown run values are
 * the source's where the file had them (run_source "source"), else the derived ones;
 * derived always holds the values computed from the loaded history (SPEC §4a). */
struct cp_chart_entry {
    int rank;
    const char *track_id;
    const char *track_name;
    const char *artist_names; /* the credit line as the chart file printed it */
    long long streams;
    bool has_streams;
    struct cp_chart_run_values shown;   /* what the API shows */
    const char *run_source;             /* "source" | "derived": where shown comes from */
    struct cp_chart_run_values derived; /* counted over the loaded charts */
    const char *song_id;      /* the song the track id belongs to (relinked ids share one) */
    const char *credits_json; /* the track's credited artists: a JSON array of {id, name} */
};

/* Which chart to read: a series (kind, region, period) and a date. */
struct cp_chart_query {
    const char *chart_kind; /* regional | viral */
    const char *region;     /* global | two-letter code */
    const char *period;     /* daily | weekly */
    const char *date;       /* YYYY-MM-DD, or NULL for the series' newest chart */
    int limit;              /* at most this many entries, by rank */
};

/* A chart read by cp_charts_repo_find. Owns entries and the strings they point at; release
 * with cp_charts_repo_cleanup. */
struct cp_chart {
    char date[11];          /* YYYY-MM-DD */
    char previous_date[11]; /* the previous period's chart (the day or week before), "" when
                               that chart is not loaded */
    struct cp_chart_entry *entries;
    size_t count;
    PGresult *result; /* private: backs the entry strings */
};

/* Reads the chart q names into *chart (up to q->limit entries ordered by rank). Returns
 * CP_OK, CP_ERR_NOT_FOUND when the series has no chart on that date (or none at all for
 * the newest), or CP_ERR_DB with the database's message in err. Only on CP_OK does *chart
 * hold anything to clean up. */
cp_status cp_charts_repo_find(PGconn *db, const struct cp_chart_query *q, struct cp_chart *chart,
                              char *err, size_t errlen);
void cp_charts_repo_cleanup(struct cp_chart *chart);

/* The dates (YYYY-MM-DD, column 0) of every loaded chart of the series, oldest first
 * (reporting.chart_dates). CP_OK with *out (the caller PQclears it), CP_ERR_NOT_FOUND when
 * the series has no chart, or CP_ERR_DB with the message in err. */
cp_status cp_charts_repo_dates(PGconn *db, const char *kind, const char *region, const char *period,
                               PGresult **out, char *err, size_t errlen);

#endif
