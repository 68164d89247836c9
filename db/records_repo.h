/* Reading a series' records (reporting.series_range and reporting.chart_records): what a
 * range of charts covers, and the songs with the most number ones, the longest runs, the
 * biggest debuts and the most streams in it. */
#ifndef CP_RECORDS_REPO_H
#define CP_RECORDS_REPO_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

struct cp_records_query {
    const char *chart_kind, *region, *period; /* the series */
    const char *from, *to;                    /* YYYY-MM-DD, or NULL: the series' first/last */
    int limit;                                /* rows per record */
};

/* The columns of the range row (row 0 of *range) and of every record row (*records). */
enum cp_records_range_column {
    CP_RRC_FROM,
    CP_RRC_TO,
    CP_RRC_CHARTS,
    CP_RRC_CHARTS_EXPECTED,
    CP_RRC_HISTORY_COMPLETE,
};
enum cp_records_column {
    CP_REC_RECORD, /* number_ones | longest_runs | biggest_debuts | most_streams */
    CP_REC_SONG_ID,
    CP_REC_TRACK_ID,
    CP_REC_TRACK_NAME,
    CP_REC_ARTIST_NAMES,
    CP_REC_PERIODS,
    CP_REC_FIRST_DATE,
    CP_REC_LAST_DATE,
    CP_REC_CHART_DATE,
    CP_REC_RANK,
    CP_REC_STREAMS,
    CP_REC_ONGOING,
};

/* CP_OK with *range (one row) and *records (rows in record order, then place; the caller
 * PQclears both), CP_ERR_NOT_FOUND when the series has no chart in the range, CP_ERR_DB
 * with the message in err (nothing to clear). */
cp_status cp_records_repo_find(PGconn *db, const struct cp_records_query *q, PGresult **range,
                               PGresult **records, char *err, size_t errlen);

#endif
