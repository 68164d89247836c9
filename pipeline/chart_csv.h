/* Readers for every chart file format of SPEC §4. A file is recognised by its header
 * (names matched case-insensitively, quoted or not, after an optional UTF-8 BOM and, for
 * the legacy spotifycharts.com export, an optional notes line); chart kind, region,
 * period and date come from the file name, from columns, or from the caller's overrides.
 * Rows are parsed with a real RFC 4180 parser (libcsv): quoted fields, doubled quotes,
 * commas and newlines inside quotes, CRLF, a missing final newline.
 *
 * Each data row is validated and handed to exactly one of two callbacks: on_row for a good
 * row, on_reject (with its line number, raw text and reason) for a bad one. Nothing is
 * dropped silently. */
#ifndef CP_CHART_CSV_H
#define CP_CHART_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

enum cp_chart_format {
    CP_FORMAT_UNKNOWN = 0,
    CP_FORMAT_CHARTS_SPOTIFY, /* charts.spotify.com daily/weekly/viral download */
    CP_FORMAT_LEGACY,         /* spotifycharts.com export (<= 2021) */
    CP_FORMAT_KAGGLE_CHARTS,  /* Kaggle "Spotify Charts" charts.csv */
    CP_FORMAT_KAGGLE_2017,    /* Kaggle "Spotify's Worldwide Daily Song Ranking" */
};

/* What a file is: filled from the file name and header, overridable by the caller.
 * Empty strings mean "not known". For formats whose rows carry region/date (Kaggle),
 * the row's values win and these stay empty unless the caller forces them. */
struct cp_chart_meta {
    enum cp_chart_format format;
    char chart_kind[16]; /* "regional" | "viral" */
    char region[16];     /* "global" or an ISO code, lower case */
    char period[8];      /* "daily" | "weekly" */
    char chart_date[11]; /* YYYY-MM-DD; for weekly charts the last day of the week */
};

/* One validated chart row. Strings are borrowed: valid only during the callback. */
struct cp_chart_row {
    long line_no; /* 1-based physical line where the row starts */
    const char *chart_kind;
    const char *region;
    const char *period;
    const char *chart_date;     /* YYYY-MM-DD */
    int rank;                   /* >= 1 */
    char track_id[23];          /* 22 base62 characters */
    const char *track_name;     /* may be "" */
    const char *artist_names;   /* may be "" */
    const char *label;          /* NULL when the format has none */
    long long streams;          /* -1 when absent (viral charts) */
    int src_peak_rank;          /* -1 when the file does not say */
    int src_previous_rank;      /* -1 when new/re-entry or when the file does not say */
    int src_periods_on_chart;   /* -1 when the file does not say */
    size_t raw_offset, raw_len; /* the record's bytes in the data given to cp_chart_read */
};

typedef void (*cp_chart_row_fn)(const struct cp_chart_row *row, void *ud);
/* raw_text is the row's text as it stood in the file (without the line ending), in the safe
 * form of core/text.h (NUL and bytes that are not UTF-8 as \xNN) and cut at
 * CP_CHART_REJECT_RAW_MAX bytes with a marker, so it can always be stored. */
typedef void (*cp_chart_reject_fn)(long line_no, const char *raw_text, const char *reason,
                                   void *ud);

/* Detects the format from the first bytes of a file. */
enum cp_chart_format cp_chart_detect(const char *data, size_t len);
const char *cp_chart_format_name(enum cp_chart_format format); /* "charts.spotify.com", ... */
/* The source a format's files come from, for the catalog. */
const char *cp_chart_format_source(enum cp_chart_format format);
/* Parses a format name as printed by cp_chart_format_name or a short alias
 * (spotify, legacy, kaggle, kaggle2017). */
enum cp_chart_format cp_chart_format_parse(const char *name);

/* Fills meta from a file name (basename or path), e.g. regional-global-daily-2025-05-01.csv,
 * viral-za-daily-2022-09-01.csv, 2017-01-01.csv (date only), or a legacy spotifycharts.com
 * weekly file regional-us-weekly-2019-12-27--2020-01-03.csv: its range A--B is the week from
 * A (a Friday) to the day before B, dated by that last day (2020-01-02, a Thursday), as
 * charts.spotify.com dates the same week. Fields it cannot tell stay as they were. */
void cp_chart_meta_from_filename(const char *name, struct cp_chart_meta *meta);

/* Reads a whole file held in memory. meta gives the file-level values (format must be set;
 * use cp_chart_detect). Calls on_row/on_reject for every data row. Returns CP_OK when the
 * file could be read (even if some rows were rejected); CP_ERR_FORMAT with a message naming
 * the problem (unknown header, a missing required column, region/date not known and not in
 * the rows) when the file as a whole cannot be read. *warnings (may be NULL) receives a
 * newly allocated text of file-level warnings (ignored extra columns), or NULL.
 *
 * File-level values: for charts.spotify.com and legacy files meta's region and chart_date
 * must be set (else CP_ERR_FORMAT "region not known: pass --region" / "date not known: pass
 * --date"); a region may be a code or a country name. An empty chart_kind is "regional",
 * except that a charts.spotify.com file without a streams column is read as "viral" (with
 * a warning); an empty period is "weekly" when the file has weeks_on_chart, else "daily".
 * For the Kaggle formats each row's date/region/chart win; meta's values only fill a row
 * whose cell is empty. Besides the checks of SPEC §4 a row is rejected when a field breaks
 * row hygiene (see CP_CHART_NAME_MAX below) or its rank was already taken on the same chart
 * (kind, region, date) earlier in the file. A file with a header but no data row is
 * CP_ERR_FORMAT ("no data rows: ..."), as is an empty one. */
cp_status cp_chart_read(const char *data, size_t len, const struct cp_chart_meta *meta,
                        cp_chart_row_fn on_row, cp_chart_reject_fn on_reject, void *ud,
                        char **warnings, char *err, size_t errlen);

/* Highest rank a chart row may carry (core.chart_entry.rank is checked 1..1000). */
#define CP_CHART_RANK_MAX 1000

/* Row hygiene: the caps, in bytes, of one field of a data row (README "Limits"). A row with
 * a field over its cap, a NUL byte or bytes that are not UTF-8 in any field is rejected,
 * that row alone, with a reason naming the column and the problem. The longest real values
 * are under 200 bytes (a Thai title); names stay well below the 2704 bytes a PostgreSQL
 * b-tree entry may take (core.artist's provisional names are indexed). */
#define CP_CHART_NAME_MAX  2000 /* track_name/title, artist_names/artist, source (label) */
#define CP_CHART_TRACK_MAX 256  /* uri or url: a track URI or an open.spotify.com URL */
#define CP_CHART_SHORT_MAX 64   /* ranks, streams, *_on_chart, date, region, chart, trend */
#define CP_CHART_OTHER_MAX 2000 /* a column the reader ignores */
/* The raw text of a rejected row as etl.reject keeps it: the safe form (core/text.h: NUL
 * and bytes that are not UTF-8 as \xNN), cut at this many bytes with a marker. */
#define CP_CHART_REJECT_RAW_MAX 8192

/* Reads only the header and fills the empty file-level fields of meta (format, chart kind,
 * period, region) the way cp_chart_read would decide them: a charts.spotify.com file
 * without streams is viral, one with weeks_on_chart is weekly, etc. Fields already set are
 * kept (and checked). Returns what cp_chart_read would for a file it cannot read. */
cp_status cp_chart_resolve(const char *data, size_t len, struct cp_chart_meta *meta, char *err,
                           size_t errlen);

#endif
