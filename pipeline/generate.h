/* Synthetic Spotify charts in the exact charts.spotify.com download format (or the Kaggle
 * "Spotify Charts" charts.csv format), for demos on machines without real data and for
 * benchmarks at scale. The output is a pure function of the options (seed included): same
 * options, byte-identical files on every platform. */
#ifndef CP_GENERATE_H
#define CP_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* `global` plus every country of core.region (db/migrations/0001_core.sql). */
#define CP_GENERATE_MAX_REGIONS    75
#define CP_GENERATE_MAX_DAYS       36525 /* a century of daily charts */
#define CP_GENERATE_MAX_CHART_SIZE 1000

/* What the files look like. Both formats carry the same charts for the same options. */
enum cp_generate_format {
    CP_GENERATE_SPOTIFY = 0, /* charts.spotify.com: one file per chart, daily and weekly */
    CP_GENERATE_KAGGLE,      /* Kaggle charts.csv: one file per region and calendar year,
                                daily charts only */
};

/* Called after each file is written. rows counts every row written so far. */
typedef void (*cp_generate_progress_fn)(long files_done, long files_total, long long rows,
                                        void *ud);

struct cp_generate_opts {
    const char *out_dir;     /* created (with parents) if missing; files are overwritten */
    int regions;             /* 1..CP_GENERATE_MAX_REGIONS: `global`, then us, gb, de, br, mx, ...
                                in order of market size */
    int days;                /* daily charts per region, 1..CP_GENERATE_MAX_DAYS */
    const char *end_date;    /* YYYY-MM-DD of the newest daily chart; NULL = yesterday (UTC) */
    unsigned long long seed; /* any value; the whole output is a function of the options */
    int chart_size;          /* ranks per chart, 1..CP_GENERATE_MAX_CHART_SIZE; 0 = 200 */
    bool weekly;             /* also write weekly charts (weeks Friday..Thursday, dated by the
                                Thursday; only weeks whose seven days are all generated);
                                ignored by the kaggle format, which has no weekly charts */
    enum cp_generate_format format;
    cp_generate_progress_fn progress; /* may be NULL */
    void *progress_ud;
};

/* Sets the defaults of `chartpulse generate`: 3 regions, 60 days ending yesterday, seed 1,
 * 200 ranks, weekly charts on, the spotify format, no output directory and no progress
 * callback. */
void cp_generate_opts_init(struct cp_generate_opts *opts);

/* Writes regional-<region>-daily-<date>.csv (and, with weekly, regional-<region>-weekly-
 * <date>.csv) for every region and date into opts->out_dir, one file at a time, in memory
 * bounded by the number of tracks alive at once (not by days or regions). Within each file
 * ranks run 1..chart_size without holes, streams never increase with rank, and peak_rank,
 * previous_rank and days_on_chart/weeks_on_chart follow exactly from the generated files of
 * the same region and period. A weekly entry's streams are the sum of the track's streams
 * on that week's daily charts.
 *
 * With format CP_GENERATE_KAGGLE it writes instead kaggle-charts-<year>-<region>.csv, one
 * file per region and calendar year holding that year's daily charts, rows in date then
 * rank order: header `title,rank,date,artist,url,region,chart,trend,streams`, no BOM, CRLF
 * line endings, fields quoted only where RFC 4180 needs it, region as its country name in
 * core/series.c ("Global", "United States"), chart `top200`, trend NEW_ENTRY (not on
 * the previous day's chart), MOVE_UP, MOVE_DOWN or SAME_POSITION, streams as pandas writes
 * them (`253019.0`), url https://open.spotify.com/track/<id>. Ranks, tracks, titles,
 * artists and streams are exactly those of the spotify format's daily files.
 *
 * Returns CP_ERR_INVALID with a message naming the option ("regions", "days", "end_date",
 * "chart_size", "out_dir") for a bad option, CP_ERR_IO naming the path when a file cannot
 * be written. *rows_written (may be NULL) receives the number of rows written, also on
 * failure. Prints nothing. */
cp_status cp_generate(const struct cp_generate_opts *opts, long long *rows_written, char *err,
                      size_t errlen);

/* `chartpulse generate --out DIR [--regions N] [--days N] [--seed S] [--end-date D]
 * [--chart-size N] [--weekly|--no-weekly] [--format spotify|kaggle] [--help]`. argv[0] is the
 * subcommand's name. Returns the process exit status: 0 on success (after a one-line summary on
 * stdout), 1 with one line on stderr naming the bad flag or the failure. Shows a progress line on
 * stderr when stderr is a terminal. */
int cp_generate_main(int argc, char **argv);

#endif
