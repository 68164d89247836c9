/* The chart file readers (pipeline/chart_csv.c) as the loader drives them: the format forced
 * (FUZZ_FORMAT, as `ingest --format` does) or detected from the bytes, file-level values from
 * a file name of that format, cp_chart_resolve as `ingest` calls it, then cp_chart_read as
 * `load` does, the whole file in memory.
 *
 * Properties: every data record reaches exactly one of on_row/on_reject, in file order (lines
 * strictly increasing, good rows' byte ranges inside the data and in order); a file that
 * fails is refused whole, before any callback, with a message; a file `ingest` accepted
 * (resolve OK) is read by `load`; a good row is what chart_csv.h promises (rank 1..1000, a
 * 22-character base62 id, kind/period from their sets, a YYYY-MM-DD date, every text field
 * UTF-8 within its cap, no two rows on one rank of one chart); a reject's raw text is the
 * safe form (UTF-8, within CP_CHART_REJECT_RAW_MAX and its marker) and it has a reason. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"
#include "pipeline/chart_csv.h"
#include "tests/fuzz/fuzz_check.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT CP_FORMAT_UNKNOWN /* detect, as `ingest` does without --format */
#endif

struct seen {
    long last_line;
    size_t last_end;
    size_t len;
    size_t rows, rejects;
    char **keys; /* kind|region|date|rank of each good row */
    size_t keys_cap;
};

static bool utf8_text(const char *s)
{
    size_t n = strlen(s);
    return cp_utf8_invalid_at(s, n) == n;
}

static bool base62_id(const char *id)
{
    if (strlen(id) != 22)
        return false;
    for (size_t i = 0; i < 22; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

static bool iso_date(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return false;
    int month = (d[5] - '0') * 10 + (d[6] - '0');
    int day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static void on_row(const struct cp_chart_row *row, void *ud)
{
    struct seen *s = ud;
    FUZZ_CHECK(row->line_no > s->last_line, "row at line %ld after line %ld", row->line_no,
               s->last_line);
    s->last_line = row->line_no;
    FUZZ_CHECK(row->raw_offset >= s->last_end && row->raw_offset + row->raw_len <= s->len,
               "row bytes %zu+%zu (data %zu, previous end %zu)", row->raw_offset, row->raw_len,
               s->len, s->last_end);
    s->last_end = row->raw_offset + row->raw_len;
    FUZZ_CHECK(row->rank >= 1 && row->rank <= CP_CHART_RANK_MAX, "rank %d", row->rank);
    FUZZ_CHECK(base62_id(row->track_id), "track id '%s'", row->track_id);
    FUZZ_CHECK(!strcmp(row->chart_kind, "regional") || !strcmp(row->chart_kind, "viral"),
               "chart kind '%s'", row->chart_kind);
    FUZZ_CHECK(!strcmp(row->period, "daily") || !strcmp(row->period, "weekly"), "period '%s'",
               row->period);
    FUZZ_CHECK(iso_date(row->chart_date), "chart date '%s'", row->chart_date);
    FUZZ_CHECK(row->region[0] && strlen(row->region) < 16 && utf8_text(row->region), "region '%s'",
               row->region);
    FUZZ_CHECK(utf8_text(row->track_name) && strlen(row->track_name) <= CP_CHART_NAME_MAX,
               "track name of %zu bytes", strlen(row->track_name));
    FUZZ_CHECK(utf8_text(row->artist_names) && strlen(row->artist_names) <= CP_CHART_NAME_MAX,
               "artist names of %zu bytes", strlen(row->artist_names));
    FUZZ_CHECK(!row->label || (utf8_text(row->label) && strlen(row->label) <= CP_CHART_NAME_MAX),
               "label");
    FUZZ_CHECK(row->streams >= -1, "streams %lld", row->streams);
    FUZZ_CHECK(row->src_peak_rank == -1 || row->src_peak_rank >= 1, "peak rank %d",
               row->src_peak_rank);
    FUZZ_CHECK(row->src_previous_rank == -1 || row->src_previous_rank >= 1, "previous rank %d",
               row->src_previous_rank);
    FUZZ_CHECK(row->src_periods_on_chart == -1 || row->src_periods_on_chart >= 0,
               "periods on chart %d", row->src_periods_on_chart);
    if (s->rows == s->keys_cap) {
        s->keys_cap = s->keys_cap ? s->keys_cap * 2 : 64;
        s->keys = cp_realloc(s->keys, s->keys_cap * sizeof *s->keys);
    }
    s->keys[s->rows++] =
        cp_asprintf("%s|%s|%s|%d", row->chart_kind, row->region, row->chart_date, row->rank);
}

static void on_reject(long line_no, const char *raw_text, const char *reason, void *ud)
{
    struct seen *s = ud;
    FUZZ_CHECK(line_no > s->last_line, "reject at line %ld after line %ld", line_no, s->last_line);
    s->last_line = line_no;
    s->rejects++;
    FUZZ_CHECK(raw_text && utf8_text(raw_text), "reject text not UTF-8");
    FUZZ_CHECK(strlen(raw_text) <= CP_CHART_REJECT_RAW_MAX, "reject text of %zu bytes",
               strlen(raw_text));
    FUZZ_CHECK(reason && reason[0] && utf8_text(reason), "reject without a reason");
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file name of the format, so its file-level values are what `ingest` would derive. */
static const char *file_name(enum cp_chart_format format)
{
    switch (format) {
    case CP_FORMAT_LEGACY:
        return "regional-us-weekly-2019-12-27--2020-01-03.csv";
    case CP_FORMAT_KAGGLE_CHARTS:
        return "charts.csv";
    case CP_FORMAT_KAGGLE_2017:
        return "data.csv";
    default:
        return "regional-global-daily-2024-05-01.csv";
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t len)
{
    /* an exact-size copy, so ASan sees any read past the end of the file */
    char *data = cp_malloc(len ? len : 1);
    if (len)
        memcpy(data, bytes, len);

    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = FUZZ_FORMAT != CP_FORMAT_UNKNOWN ? FUZZ_FORMAT : cp_chart_detect(data, len);
    if (meta.format == CP_FORMAT_UNKNOWN) {
        free(data);
        return 0;
    }
    cp_chart_meta_from_filename(file_name(meta.format), &meta);
    char err[512] = "";
    cp_status resolved = cp_chart_resolve(data, len, &meta, err, sizeof err);
    FUZZ_CHECK(resolved == CP_OK || (err[0] && utf8_text(err)), "resolve failed without a message");

    struct seen s;
    memset(&s, 0, sizeof s);
    s.len = len;
    char *warnings = NULL;
    err[0] = '\0';
    cp_status st =
        cp_chart_read(data, len, &meta, on_row, on_reject, &s, &warnings, err, sizeof err);
    if (st != CP_OK) {
        FUZZ_CHECK(err[0] && utf8_text(err), "read failed without a message");
        FUZZ_CHECK(!s.rows && !s.rejects, "a refused file gave %zu rows and %zu rejects", s.rows,
                   s.rejects);
        FUZZ_CHECK(!warnings, "warnings for a refused file");
        FUZZ_CHECK(resolved != CP_OK, "ingest took the file, load refused it: %s", err);
    } else {
        FUZZ_CHECK(s.rows + s.rejects >= 1, "a file read with no row and no reject");
        /* each record starts on a line of its own */
        size_t lines = 1;
        for (size_t i = 0; i < len; i++)
            lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n'));
        FUZZ_CHECK(s.rows + s.rejects <= lines, "%zu rows + %zu rejects from %zu lines", s.rows,
                   s.rejects, lines);
        FUZZ_CHECK(!warnings || utf8_text(warnings), "warnings not UTF-8");
    }
    if (s.rows)
        qsort(s.keys, s.rows, sizeof *s.keys, compare_keys);
    for (size_t i = 1; i < s.rows; i++)
        FUZZ_CHECK(strcmp(s.keys[i - 1], s.keys[i]), "two good rows on %s", s.keys[i]);
    for (size_t i = 0; i < s.rows; i++)
        free(s.keys[i]);
    free(s.keys);
    free(warnings);
    free(data);
    return 0;
}
