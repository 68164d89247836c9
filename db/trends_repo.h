/* Reading trends from the reporting schema: movers (reporting.movers), new entries
 * (reporting.chart_entries), stream totals (reporting.daily_totals) and momentum. */
#ifndef CP_TRENDS_REPO_H
#define CP_TRENDS_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* A chart series and, for the chart-based trends, one of its charts. Borrowed strings. */
struct cp_trends_query {
    const char *chart_kind; /* regional | viral */
    const char *region;
    const char *period; /* daily | weekly */
    const char *date;   /* YYYY-MM-DD, or NULL for the series' latest chart */
    int limit;
};

/* One track on a chart, with whichever columns the trend fills in (the rest zero/false).
 * Strings are borrowed from the struct cp_trend_list holding the row. */
struct cp_trend_row {
    bool gainer; /* movers: on the gainers list (else the losers list) */
    int rank;
    const char *track_id;
    const char *track_name;
    const char *artist_names;
    long long streams;
    bool has_streams;
    int previous_rank;
    bool has_previous_rank;
    int rank_change; /* previous_rank - rank: positive moved up */
    const char *movement;
    int peak_rank;
    bool has_peak_rank;
    int periods_on_chart; /* days on daily charts, weeks on weekly ones */
    bool has_periods_on_chart;
    long long recent_streams, earlier_streams; /* momentum */
    double growth;
    bool has_growth;
};

struct cp_trend_list {
    char date[11];          /* the chart's date */
    char previous_date[11]; /* the previous period's chart, "" when it is not loaded */
    struct cp_trend_row *rows;
    size_t count;
    PGresult *result; /* private */
};

/* Each returns CP_OK, CP_ERR_NOT_FOUND when the series has no chart on q->date (or none at
 * all for the latest), or CP_ERR_DB with the message in err. Only on CP_OK is there
 * anything to clean up (cp_trends_repo_cleanup). */

/* Gainers (rank_change > 0, largest first) then losers (rank_change < 0, most negative
 * first), each at most q->limit, ties by rank. */
cp_status cp_trends_repo_movers(PGconn *db, const struct cp_trends_query *q,
                                struct cp_trend_list *out, char *err, size_t errlen);
/* Entries with movement new or re-entry, by rank, at most q->limit. */
cp_status cp_trends_repo_new_entries(PGconn *db, const struct cp_trends_query *q,
                                     struct cp_trend_list *out, char *err, size_t errlen);
/* The tracks on the chart, by growth of streams: recent_streams sums a track's streams on
 * the `window` charts of the series ending with this one, earlier_streams on the `window`
 * charts before those (charts it was not on add 0); growth = recent / earlier - 1, absent
 * when earlier is 0. Ordered by growth (absent last), then recent_streams, then rank. */
cp_status cp_trends_repo_momentum(PGconn *db, const struct cp_trends_query *q, int window,
                                  struct cp_trend_list *out, char *err, size_t errlen);
void cp_trends_repo_cleanup(struct cp_trend_list *list);

/* One bucket of stream totals. Strings borrowed from struct cp_stream_totals. */
struct cp_stream_point {
    const char *date; /* the bucket's first day (a Monday for weeks) */
    long long streams;
    bool has_streams; /* false when no chart in the bucket had streams */
    long long charts; /* charts in the bucket */
};

struct cp_stream_totals {
    struct cp_stream_point *points;
    size_t count;
    PGresult *result; /* private */
};

/* Total chart streams of the series per bucket (granularity day | week | month) over
 * charts dated from..to (either NULL: open), oldest first. CP_OK or CP_ERR_DB. */
cp_status cp_trends_repo_streams(PGconn *db, const struct cp_trends_query *q, const char *from,
                                 const char *to, const char *granularity,
                                 struct cp_stream_totals *out, char *err, size_t errlen);
void cp_trends_repo_streams_cleanup(struct cp_stream_totals *totals);

#endif
