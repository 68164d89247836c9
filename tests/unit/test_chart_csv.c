/* Chart file readers: every format, every reject reason, file-name metadata, real files. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mem.h"
#include "core/text.h"
#include "pipeline/chart_csv.h"
#include "tests/testutil.h"

/* ---- collecting what the reader hands out -------------------------------------------- */

struct got_row {
    long line_no;
    char chart_kind[16], region[16], period[8], chart_date[11];
    int rank;
    char track_id[23];
    char *track_name, *artist_names, *label; /* label NULL when the format has none */
    long long streams;
    int src_peak_rank, src_previous_rank, src_periods_on_chart;
};

struct got_reject {
    long line_no;
    char *raw_text;
    char *reason;
};

struct got {
    struct got_row *rows;
    size_t nrows, rows_cap;
    struct got_reject *rejects;
    size_t nrejects, rejects_cap;
    char *warnings;
    char err[256];
    cp_status status;
};

static void copy_text(char *dst, size_t dstlen, const char *src)
{
    ck_assert_msg(src != NULL, "a row string is NULL");
    ck_assert_msg(strlen(src) < dstlen, "'%s' is too long", src);
    snprintf(dst, dstlen, "%s", src);
}

static void collect_row(const struct cp_chart_row *row, void *ud)
{
    struct got *g = ud;
    if (g->nrows == g->rows_cap) {
        g->rows_cap = g->rows_cap ? g->rows_cap * 2 : 16;
        g->rows = cp_realloc(g->rows, g->rows_cap * sizeof *g->rows);
    }
    struct got_row *r = &g->rows[g->nrows++];
    r->line_no = row->line_no;
    copy_text(r->chart_kind, sizeof r->chart_kind, row->chart_kind);
    copy_text(r->region, sizeof r->region, row->region);
    copy_text(r->period, sizeof r->period, row->period);
    copy_text(r->chart_date, sizeof r->chart_date, row->chart_date);
    r->rank = row->rank;
    memcpy(r->track_id, row->track_id, sizeof r->track_id);
    r->track_name = cp_strdup(row->track_name);
    r->artist_names = cp_strdup(row->artist_names);
    r->label = cp_strdup(row->label);
    r->streams = row->streams;
    r->src_peak_rank = row->src_peak_rank;
    r->src_previous_rank = row->src_previous_rank;
    r->src_periods_on_chart = row->src_periods_on_chart;
}

static void collect_reject(long line_no, const char *raw_text, const char *reason, void *ud)
{
    struct got *g = ud;
    if (g->nrejects == g->rejects_cap) {
        g->rejects_cap = g->rejects_cap ? g->rejects_cap * 2 : 16;
        g->rejects = cp_realloc(g->rejects, g->rejects_cap * sizeof *g->rejects);
    }
    struct got_reject *r = &g->rejects[g->nrejects++];
    r->line_no = line_no;
    r->raw_text = cp_strdup(raw_text);
    r->reason = cp_strdup(reason);
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->nrows; i++) {
        free(g->rows[i].track_name);
        free(g->rows[i].artist_names);
        free(g->rows[i].label);
    }
    for (size_t i = 0; i < g->nrejects; i++) {
        free(g->rejects[i].raw_text);
        free(g->rejects[i].reason);
    }
    free(g->rows);
    free(g->rejects);
    free(g->warnings);
    memset(g, 0, sizeof *g);
}

/* Reads data as the CLI would: detect, then the file name, then the caller's region/date. */
static void read_buffer(const char *data, size_t len, const char *name, const char *region,
                        const char *date, struct got *g)
{
    memset(g, 0, sizeof *g);
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = cp_chart_detect(data, len);
    if (name)
        cp_chart_meta_from_filename(name, &meta);
    if (region)
        snprintf(meta.region, sizeof meta.region, "%s", region);
    if (date)
        snprintf(meta.chart_date, sizeof meta.chart_date, "%s", date);
    g->status = cp_chart_read(data, len, &meta, collect_row, collect_reject, g, &g->warnings,
                              g->err, sizeof g->err);
}

static void read_fixture(const char *name, const char *region, const char *date, struct got *g)
{
    char *rel = cp_asprintf("charts/%s", name);
    char *path = tu_fixture_path(rel);
    size_t len;
    char *data = tu_read_file(path, &len);
    read_buffer(data, len, name, region, date, g);
    free(data);
    free(path);
    free(rel);
}

static void read_text(const char *text, const char *name, const char *region, const char *date,
                      struct got *g)
{
    read_buffer(text, strlen(text), name, region, date, g);
}

static void assert_no_rejects(const struct got *g)
{
    ck_assert_msg(g->nrejects == 0, "%zu rejects, first at line %ld: %s", g->nrejects,
                  g->nrejects ? g->rejects[0].line_no : 0L,
                  g->nrejects ? g->rejects[0].reason : "");
}

/* ---- formats ------------------------------------------------------------------------- */

struct detect_case {
    const char *fixture;
    enum cp_chart_format format;
};

static const struct detect_case detect_cases[] = {
    {"regional-global-daily-2024-03-01.csv", CP_FORMAT_CHARTS_SPOTIFY},
    {"regional-gb-weekly-2024-03-07.csv", CP_FORMAT_CHARTS_SPOTIFY},
    {"viral-za-daily-2024-03-01.csv", CP_FORMAT_CHARTS_SPOTIFY},
    {"regional-kr-daily-2024-03-01.csv", CP_FORMAT_CHARTS_SPOTIFY},
    {"2017-01-02.csv", CP_FORMAT_LEGACY},
    {"regional-us-weekly-2019-12-27--2020-01-03.csv", CP_FORMAT_LEGACY},
    {"kaggle_charts.csv", CP_FORMAT_KAGGLE_CHARTS},
    {"kaggle2017_charts.csv", CP_FORMAT_KAGGLE_2017},
    {"missing-uri.csv", CP_FORMAT_CHARTS_SPOTIFY},
    {"unknown-header.csv", CP_FORMAT_UNKNOWN},
};

START_TEST(detect_formats)
{
    const struct detect_case *c = &detect_cases[_i];
    char *rel = cp_asprintf("charts/%s", c->fixture);
    char *path = tu_fixture_path(rel);
    size_t len;
    char *data = tu_read_file(path, &len);
    ck_assert_msg(cp_chart_detect(data, len) == c->format, "%s: detected %s, expected %s",
                  c->fixture, cp_chart_format_name(cp_chart_detect(data, len)),
                  cp_chart_format_name(c->format));
    free(data);
    free(path);
    free(rel);
}
END_TEST

struct header_case {
    const char *header;
    enum cp_chart_format format;
};

/* Header variants: quoting, case, Track_Name, and legacy versus Kaggle 2017. */
static const struct header_case header_cases[] = {
    {"\"rank\",\"uri\",\"artist_names\",\"track_name\",\"source\",\"peak_rank\","
     "\"previous_rank\",\"days_on_chart\",\"streams\"\n",
     CP_FORMAT_CHARTS_SPOTIFY},
    {"RANK,URI,ARTIST_NAMES,TRACK_NAME,SOURCE,PEAK_RANK,PREVIOUS_RANK,WEEKS_ON_CHART,STREAMS\n",
     CP_FORMAT_CHARTS_SPOTIFY},
    {"Position,Track Name,Artist,Streams,URL\n", CP_FORMAT_LEGACY},
    {"Position,\"Track Name\",Artist,Streams,URL\n", CP_FORMAT_LEGACY},
    {"Position,Track Name,Artist,\"Streams\",URL\n", CP_FORMAT_LEGACY},
    {",,,\"Note that these figures are generated using a formula.\",\n"
     "Position,\"Track Name\",Artist,Streams,URL\n",
     CP_FORMAT_LEGACY},
    {"Position,Track_Name,Artist,Streams,URL,Date,Region\n", CP_FORMAT_KAGGLE_2017},
    {"Position,Track Name,Artist,Streams,URL,Date,Region\n", CP_FORMAT_KAGGLE_2017},
    {"title,rank,date,artist,url,region,chart,trend,streams\r\n", CP_FORMAT_KAGGLE_CHARTS},
    {"\xEF\xBB\xBFtitle,rank,date,artist,url,region,chart,trend,streams", CP_FORMAT_KAGGLE_CHARTS},
    {"a,b,c\n", CP_FORMAT_UNKNOWN},
    {"", CP_FORMAT_UNKNOWN},
    {"\xEF\xBB\xBF", CP_FORMAT_UNKNOWN},
    /* a notes line is skipped only in front of a legacy header */
    {"x,y\ntitle,rank,date,artist,url,region,chart,trend,streams\n", CP_FORMAT_UNKNOWN},
};

START_TEST(detect_headers)
{
    const struct header_case *c = &header_cases[_i];
    enum cp_chart_format got = cp_chart_detect(c->header, strlen(c->header));
    ck_assert_msg(got == c->format, "case %d: detected %s, expected %s", _i,
                  cp_chart_format_name(got), cp_chart_format_name(c->format));
}
END_TEST

START_TEST(format_names)
{
    static const enum cp_chart_format all[] = {CP_FORMAT_CHARTS_SPOTIFY, CP_FORMAT_LEGACY,
                                               CP_FORMAT_KAGGLE_CHARTS, CP_FORMAT_KAGGLE_2017};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ck_assert_int_eq(cp_chart_format_parse(cp_chart_format_name(all[i])), all[i]);
        ck_assert_str_ne(cp_chart_format_source(all[i]), "unknown");
    }
    ck_assert_str_eq(cp_chart_format_name(CP_FORMAT_CHARTS_SPOTIFY), "charts.spotify.com");
    ck_assert_int_eq(cp_chart_format_parse("spotify"), CP_FORMAT_CHARTS_SPOTIFY);
    ck_assert_int_eq(cp_chart_format_parse("LEGACY"), CP_FORMAT_LEGACY);
    ck_assert_int_eq(cp_chart_format_parse("kaggle"), CP_FORMAT_KAGGLE_CHARTS);
    ck_assert_int_eq(cp_chart_format_parse("kaggle2017"), CP_FORMAT_KAGGLE_2017);
    ck_assert_int_eq(cp_chart_format_parse("csv"), CP_FORMAT_UNKNOWN);
    ck_assert_int_eq(cp_chart_format_parse(NULL), CP_FORMAT_UNKNOWN);
    ck_assert_str_eq(cp_chart_format_name(CP_FORMAT_UNKNOWN), "unknown");
}
END_TEST

START_TEST(spotify_daily)
{
    struct got g;
    read_fixture("regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_ptr_null(g.warnings);
    ck_assert_int_eq(g.nrows, 4);
    const struct got_row *r = &g.rows[0];
    ck_assert_int_eq(r->line_no, 2);
    ck_assert_str_eq(r->chart_kind, "regional");
    ck_assert_str_eq(r->region, "global");
    ck_assert_str_eq(r->period, "daily");
    ck_assert_str_eq(r->chart_date, "2024-03-01");
    ck_assert_int_eq(r->rank, 1);
    ck_assert_str_eq(r->track_id, "Fix0000000000000000001");
    ck_assert_str_eq(r->artist_names, "Ana \xC3\x91\xC3\xBA\xC3\xB1"
                                      "ez, Bob \"B\" Brown");
    ck_assert_str_eq(r->track_name, "Hello, \"World\"");
    ck_assert_str_eq(r->label, "Label One");
    ck_assert_int_eq(r->streams, 5602357);
    ck_assert_int_eq(r->src_peak_rank, 1);
    ck_assert_int_eq(r->src_previous_rank, 1);
    ck_assert_int_eq(r->src_periods_on_chart, 12);
    ck_assert_int_eq(g.rows[1].src_previous_rank, -1);
    ck_assert_str_eq(g.rows[1].track_name, "Caf\xC3\xA9 del Mar");
    /* rank 3 is absent: a hole, not an error */
    ck_assert_int_eq(g.rows[2].rank, 4);
    ck_assert_int_eq(g.rows[2].line_no, 4);
    ck_assert_str_eq(g.rows[2].track_name, "\xEB\xB0\xA4\xED\x8E\xB8\xEC\xA7\x80");
    ck_assert_str_eq(g.rows[3].label, "");
    ck_assert_int_eq(g.rows[3].streams, 0);
    got_free(&g);
}
END_TEST

START_TEST(spotify_weekly_crlf_no_final_newline)
{
    struct got g;
    read_fixture("regional-gb-weekly-2024-03-07.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 3);
    ck_assert_str_eq(g.rows[0].period, "weekly");
    ck_assert_str_eq(g.rows[0].region, "gb");
    ck_assert_str_eq(g.rows[0].chart_date, "2024-03-07");
    ck_assert_int_eq(g.rows[1].src_periods_on_chart, 30);
    /* the last row has no newline and its last cell no trailing CR */
    ck_assert_int_eq(g.rows[2].line_no, 4);
    ck_assert_int_eq(g.rows[2].streams, 800000);
    ck_assert_int_eq(g.rows[2].src_previous_rank, -1);
    got_free(&g);
}
END_TEST

START_TEST(spotify_viral_without_streams)
{
    struct got g;
    read_fixture("viral-za-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 2);
    ck_assert_str_eq(g.rows[0].chart_kind, "viral");
    ck_assert_str_eq(g.rows[0].region, "za");
    ck_assert_int_eq(g.rows[0].streams, -1);
    ck_assert_str_eq(g.rows[0].artist_names, "Deep Fix, Boo");
    ck_assert_int_eq(g.rows[1].src_periods_on_chart, 1);
    got_free(&g);

    /* without a file name the missing streams column marks a viral chart, with a warning */
    char *path = tu_fixture_path("charts/viral-za-daily-2024-03-01.csv");
    size_t len;
    char *data = tu_read_file(path, &len);
    read_buffer(data, len, NULL, "za", "2024-03-01", &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    ck_assert_int_eq(g.nrows, 2);
    ck_assert_str_eq(g.rows[0].chart_kind, "viral");
    ck_assert_ptr_nonnull(g.warnings);
    ck_assert_ptr_nonnull(strstr(g.warnings, "viral"));
    got_free(&g);

    /* a regional chart needs the streams column */
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = CP_FORMAT_CHARTS_SPOTIFY;
    snprintf(meta.chart_kind, sizeof meta.chart_kind, "regional");
    snprintf(meta.region, sizeof meta.region, "za");
    snprintf(meta.chart_date, sizeof meta.chart_date, "2024-03-01");
    char err[256] = "";
    ck_assert_int_eq(
        cp_chart_read(data, len, &meta, collect_row, collect_reject, &g, NULL, err, sizeof err),
        CP_ERR_FORMAT);
    ck_assert_msg(strstr(err, "streams") != NULL, "error '%s' does not name streams", err);
    ck_assert_int_eq(g.nrows, 0);
    got_free(&g);
    free(data);
    free(path);
}
END_TEST

/* Found by tests/fuzz (fuzz_chart_kaggle): an ignored header cell was quoted in the warnings
 * as it stood, so a newline in it started a line of its own in the log and bytes that are not
 * UTF-8 reached the JSON log and the upload answer as they were. */
START_TEST(extra_column_warning_is_one_line_of_text)
{
    static const char data[] = "title,rank,date,artist,url,region,chart,trend,streams,"
                               "\"bad\xff\xfe\nFAKE log line\"\n"
                               "T,1,2017-01-01,A,https://open.spotify.com/track/"
                               "4iV5W9uYEdYUVa79Axb7Rh,ar,top200,SAME_POSITION,5,x\n";
    struct got g;
    read_buffer(data, sizeof data - 1, "charts.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    ck_assert_int_eq(g.nrows, 1);
    ck_assert_ptr_nonnull(g.warnings);
    ck_assert_msg(strstr(g.warnings, "\"bad\\xff\\xfe\\x0aFAKE log line\""), "warnings: %s",
                  g.warnings);
    size_t n = strlen(g.warnings);
    ck_assert_uint_eq(cp_utf8_invalid_at(g.warnings, n), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg((unsigned char)g.warnings[i] >= 0x20, "control byte in: %s", g.warnings);
    got_free(&g);
}
END_TEST

START_TEST(spotify_extra_columns_warning)
{
    struct got g;
    read_fixture("regional-kr-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 2);
    ck_assert_ptr_nonnull(g.warnings);
    ck_assert_msg(strstr(g.warnings, "\"Start Date\"") && strstr(g.warnings, "\"Start_Date\""),
                  "warnings: %s", g.warnings);
    ck_assert_str_eq(g.rows[1].artist_names, "Justin B, Daniel C");
    ck_assert_str_eq(g.rows[1].label, "RBMG/Def Jam");
    ck_assert_int_eq(g.rows[1].streams, 13462);
    ck_assert_str_eq(g.rows[0].region, "kr");
    got_free(&g);
}
END_TEST

START_TEST(legacy_notes_line_multiline_blank)
{
    struct got g;
    read_fixture("2017-01-02.csv", "global", NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 4);
    ck_assert_str_eq(g.rows[0].chart_date, "2017-01-02");
    ck_assert_str_eq(g.rows[0].region, "global");
    ck_assert_str_eq(g.rows[0].chart_kind, "regional");
    ck_assert_str_eq(g.rows[0].period, "daily");
    ck_assert_int_eq(g.rows[0].line_no, 3);
    ck_assert_ptr_null(g.rows[0].label);
    ck_assert_int_eq(g.rows[0].src_peak_rank, -1);
    ck_assert_int_eq(g.rows[0].src_previous_rank, -1);
    ck_assert_int_eq(g.rows[0].src_periods_on_chart, -1);
    ck_assert_str_eq(g.rows[1].track_name, "How Far I'll Go - From \"Moana\"");
    ck_assert_str_eq(g.rows[1].track_id, "Fix0000000000000000042");
    /* after a blank line, a row whose title holds a line break: it starts on line 6 */
    ck_assert_int_eq(g.rows[2].line_no, 6);
    ck_assert_str_eq(g.rows[2].track_name, "Two\nLines");
    ck_assert_int_eq(g.rows[3].line_no, 8);
    ck_assert_str_eq(g.rows[3].track_name, "I Don\xE2\x80\x99t Wanna Live Forever");
    got_free(&g);

    /* a legacy file with no region in its name needs the caller's region */
    read_fixture("2017-01-02.csv", NULL, NULL, &g);
    ck_assert_int_eq(g.status, CP_ERR_FORMAT);
    ck_assert_str_eq(g.err, "region not known: pass --region");
    got_free(&g);
}
END_TEST

START_TEST(legacy_weekly_range_name)
{
    struct got g;
    read_fixture("regional-us-weekly-2019-12-27--2020-01-03.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 2);
    /* the week 2019-12-27 (Friday) .. 2020-01-02 (Thursday), dated by its last day */
    ck_assert_str_eq(g.rows[0].chart_date, "2020-01-02");
    ck_assert_str_eq(g.rows[0].period, "weekly");
    ck_assert_str_eq(g.rows[0].region, "us");
    ck_assert_str_eq(g.rows[1].track_name, "Comma, Song");
    ck_assert_int_eq(g.rows[1].streams, 11000000);
    got_free(&g);
}
END_TEST

START_TEST(kaggle_charts)
{
    struct got g;
    read_fixture("kaggle_charts.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 5);
    ck_assert_str_eq(g.rows[0].region, "ar");
    ck_assert_str_eq(g.rows[0].chart_kind, "regional");
    ck_assert_str_eq(g.rows[0].period, "daily");
    ck_assert_str_eq(g.rows[0].chart_date, "2017-01-01");
    ck_assert_int_eq(g.rows[0].streams, 253019);
    ck_assert_str_eq(g.rows[0].track_name, "Chantaje (feat. Fix)");
    ck_assert_str_eq(g.rows[1].track_name, "Vente Pa' Ca, Fix");
    ck_assert_str_eq(g.rows[2].region, "global");
    ck_assert_int_eq(g.rows[2].rank, 1); /* same rank on another chart is fine */
    ck_assert_str_eq(g.rows[3].region, "us");
    ck_assert_str_eq(g.rows[3].chart_kind, "viral");
    ck_assert_str_eq(g.rows[3].chart_date, "2017-01-02");
    ck_assert_int_eq(g.rows[3].streams, -1);
    ck_assert_str_eq(g.rows[4].region, "kr");
    ck_assert_int_eq(g.rows[4].line_no, 6);
    got_free(&g);
}
END_TEST

START_TEST(kaggle_2017)
{
    struct got g;
    read_fixture("kaggle2017_charts.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 4);
    ck_assert_int_eq(g.rows[0].rank, 2);
    ck_assert_str_eq(g.rows[0].chart_kind, "regional");
    ck_assert_str_eq(g.rows[1].track_name, "");
    ck_assert_str_eq(g.rows[1].artist_names, "");
    ck_assert_str_eq(g.rows[1].chart_date, "2017-11-10");
    ck_assert_str_eq(g.rows[3].region, "th");
    ck_assert_int_eq(g.rows[3].streams, 50000);
    got_free(&g);
}
END_TEST

START_TEST(mixed_rejects_lines_and_raw_text)
{
    struct got g;
    read_fixture("mixed-rejects.csv", "global", "2024-03-01", &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    ck_assert_int_eq(g.nrows, 3);
    ck_assert_int_eq(g.rows[0].line_no, 2);
    ck_assert_int_eq(g.rows[1].line_no, 6);
    ck_assert_int_eq(g.rows[2].line_no, 9);
    ck_assert_int_eq(g.nrejects, 4);
    ck_assert_int_eq(g.rejects[0].line_no, 3);
    ck_assert_str_eq(g.rejects[0].reason, "rank: \"abc\" is not a positive integer");
    ck_assert_str_eq(g.rejects[0].raw_text,
                     "abc,\"spotify:track:Fix0000000000000000082\",\"A\",\"Bad rank\",\"L\",1,1,1,"
                     "\"100\"");
    ck_assert_int_eq(g.rejects[1].line_no, 4);
    ck_assert_str_eq(g.rejects[1].reason, "streams: \"-5\" is negative");
    ck_assert_str_eq(g.rejects[1].raw_text,
                     "3,\"spotify:track:Fix0000000000000000083\",\"A\",\"Multi\r\nline bad\",\"L\","
                     "1,1,1,\"-5\"");
    ck_assert_int_eq(g.rejects[2].line_no, 7);
    ck_assert_str_eq(g.rejects[2].reason,
                     "track id: \"spotify:track:xyz\" is not 22 base62 characters");
    ck_assert_int_eq(g.rejects[3].line_no, 8);
    ck_assert_str_eq(g.rejects[3].reason, "row has 3 fields, header has 9");
    ck_assert_str_eq(g.rejects[3].raw_text, "6,\"spotify:track:Fix0000000000000000086\",\"A\"");
    got_free(&g);
}
END_TEST

/* ---- one reject reason per case ------------------------------------------------------ */

#define SPOTIFY_HEADER                                                                             \
    "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams\n"
#define VIRAL_HEADER                                                                               \
    "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart\n"
#define KAGGLE_HEADER "title,rank,date,artist,url,region,chart,trend,streams\n"
#define K17_HEADER    "Position,Track_Name,Artist,Streams,URL,Date,Region\n"
#define LEGACY_HEADER "Position,Track Name,Artist,Streams,URL\n"
#define ID            "Fix0000000000000000099"
#define URL           "https://open.spotify.com/track/" ID

struct reject_case {
    const char *name; /* file name, for metadata */
    const char *text;
    const char *reason;
};

static const struct reject_case reject_cases[] = {
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "abc,spotify:track:" ID ",A,T,L,1,1,1,10\n",
     "rank: \"abc\" is not a positive integer"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "0,spotify:track:" ID ",A,T,L,1,1,1,10\n",
     "rank: \"0\" is not a positive integer"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "-2,spotify:track:" ID ",A,T,L,1,1,1,10\n",
     "rank: \"-2\" is not a positive integer"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1.5,spotify:track:" ID ",A,T,L,1,1,1,10\n",
     "rank: \"1.5\" is not a positive integer"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1001,spotify:track:" ID ",A,T,L,1,1,1,10\n", "rank: \"1001\" is above 1000"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER ",spotify:track:" ID ",A,T,L,1,1,1,10\n", "rank: missing"},
    {"regional-global-daily-2024-03-01.csv", SPOTIFY_HEADER "1,spotify:track:xyz,A,T,L,1,1,1,10\n",
     "track id: \"spotify:track:xyz\" is not 22 base62 characters"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:Fix000000000000000009!,A,T,L,1,1,1,10\n",
     "track id: \"spotify:track:Fix000000000000000009!\" is not 22 base62 characters"},
    {"regional-global-daily-2024-03-01.csv", SPOTIFY_HEADER "1,,A,T,L,1,1,1,10\n",
     "track id: missing"},
    {"regional-global-daily-2024-03-01.csv", SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,\n",
     "streams: missing (required on regional charts)"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,-5\n", "streams: \"-5\" is negative"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,12.5\n",
     "streams: \"12.5\" is not an integer"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,\"1,234\"\n",
     "streams: \"1,234\" is not an integer"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,99999999999999999999\n",
     "streams: \"99999999999999999999\" is too large"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,x,1,1,10\n",
     "peak_rank: \"x\" is not a rank (1..1000)"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,-2,1,10\n",
     "previous_rank: \"-2\" is not a rank (1..1000) or -1"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,-1,10\n",
     "days_on_chart: \"-1\" is not a non-negative integer"},
    {"regional-global-daily-2024-03-01.csv", SPOTIFY_HEADER "1,spotify:track:" ID ",A,T\n",
     "row has 4 fields, header has 9"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,10,extra\n",
     "row has 10 fields, header has 9"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,10\n"
                    "1,spotify:track:Fix0000000000000000098,A,T,L,1,1,1,10\n",
     "rank: 1 appears twice on chart regional/global/2024-03-01"},
    {"regional-global-daily-2024-03-01.csv",
     SPOTIFY_HEADER "1,spotify:track:" ID ",\"A,T,L,1,1,1,10\n", "unterminated quoted field"},
    {"viral-za-daily-2024-03-01.csv", VIRAL_HEADER "x,spotify:track:" ID ",A,T,L,1,1,1\n",
     "rank: \"x\" is not a positive integer"},
    {"regional-global-daily-2017-01-01.csv",
     LEGACY_HEADER "1,T,A,10,https://open.spotify.com/album/" ID "\n",
     "track id: \"https://open.spotify.com/album/" ID "\" is not 22 base62 characters"},
    {"regional-global-daily-2017-01-01.csv",
     LEGACY_HEADER "1,T,A,,https://open.spotify.com/track/" ID "\n",
     "streams: missing (required on regional charts)"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-30,A," URL ",Argentina,top200,SAME_POSITION,1.0\n",
     "date: \"2021-02-30\" is not a valid date"},
    {"charts.csv", KAGGLE_HEADER "T,1,01/02/2021,A," URL ",Argentina,top200,SAME_POSITION,1.0\n",
     "date: \"01/02/2021\" is not a valid date"},
    {"charts.csv", KAGGLE_HEADER "T,1,,A," URL ",Argentina,top200,SAME_POSITION,1.0\n",
     "date: missing"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Atlantis,top200,SAME_POSITION,1.0\n",
     "region: \"Atlantis\" is not a known region"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-01,A," URL ",,top200,SAME_POSITION,1.0\n",
     "region: missing"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Argentina,top50,SAME_POSITION,1.0\n",
     "chart: \"top50\" is not top200 or viral50"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Argentina,,SAME_POSITION,1.0\n",
     "chart: missing"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Argentina,top200,MOVE_UP,\n",
     "streams: missing (required on regional charts)"},
    {"charts.csv", KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Argentina,top200,MOVE_UP,253019.5\n",
     "streams: \"253019.5\" is not an integer"},
    {"charts.csv",
     KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Argentina,viral50,MOVE_UP,\n"
                   "T,1,2021-02-01,A," URL ",ar,viral50,MOVE_UP,\n",
     "rank: 1 appears twice on chart viral/ar/2021-02-01"},
    {"charts_global.csv", K17_HEADER "1,T,A,10," URL ",2017-13-01,global\n",
     "date: \"2017-13-01\" is not a valid date"},
    {"charts_global.csv", K17_HEADER "1,T,A,10," URL ",2017-01-01,xx\n",
     "region: \"xx\" is not a known region"},
    {"charts_global.csv", K17_HEADER "1,T,A,10," URL ",2017-01-01,\n", "region: missing"},
};

START_TEST(reject_reasons)
{
    const struct reject_case *c = &reject_cases[_i];
    struct got g;
    read_text(c->text, c->name, NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "case %d: %s", _i, g.err);
    ck_assert_msg(g.nrejects == 1, "case %d: %zu rejects, %zu rows", _i, g.nrejects, g.nrows);
    ck_assert_msg(strcmp(g.rejects[0].reason, c->reason) == 0,
                  "case %d: reason '%s', expected '%s'", _i, g.rejects[0].reason, c->reason);
    /* the raw text is the bad row as it stood, without its line ending */
    ck_assert_msg(strchr(g.rejects[0].raw_text, '\n') == NULL, "case %d: raw '%s'", _i,
                  g.rejects[0].raw_text);
    ck_assert_msg(strstr(c->text, g.rejects[0].raw_text) != NULL, "case %d: raw '%s'", _i,
                  g.rejects[0].raw_text);
    got_free(&g);
}
END_TEST

START_TEST(long_values_cut_in_reasons)
{
    char *text = cp_asprintf(SPOTIFY_HEADER "1,spotify:track:%0200d,A,T,L,1,1,1,10\n", 7);
    struct got g;
    read_text(text, "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_int_eq(g.nrejects, 1);
    ck_assert_msg(strlen(g.rejects[0].reason) < 120, "reason too long: %s", g.rejects[0].reason);
    ck_assert_ptr_nonnull(strstr(g.rejects[0].reason, "...\" is not 22 base62"));
    got_free(&g);
    free(text);
}
END_TEST

/* ---- row hygiene: NUL bytes, bytes that are not UTF-8, fields over their cap ------------ */

#define BYTES(literal) literal, sizeof(literal) - 1

struct hygiene_case {
    const char *name; /* file name, for metadata */
    const char *text;
    size_t len;
    const char *reason;
    const char *raw; /* the reject's raw text: the row in its safe form */
};

static const struct hygiene_case hygiene_cases[] = {
    /* a NUL used to end the C string: "La" was loaded as the track's artists */
    {"regional-global-daily-2024-03-01.csv",
     BYTES(SPOTIFY_HEADER "1,spotify:track:" ID ",\"La\0 Bamba\",T,L,1,1,1,10\n"),
     "artist_names: contains a NUL byte at offset 2",
     "1,spotify:track:" ID ",\"La\\x00 Bamba\",T,L,1,1,1,10"},
    /* ... and "1\0" read as rank 1 */
    {"regional-global-daily-2024-03-01.csv",
     BYTES(SPOTIFY_HEADER "\"1\0\",spotify:track:" ID ",A,T,L,1,1,1,10\n"),
     "rank: contains a NUL byte at offset 1", "\"1\\x00\",spotify:track:" ID ",A,T,L,1,1,1,10"},
    {"regional-global-daily-2024-03-01.csv",
     BYTES(SPOTIFY_HEADER "1,spotify:track:" ID ",A,Caf\xE9 del Mar,L,1,1,1,10\n"),
     "track_name: not valid UTF-8 at offset 3 (byte 0xe9)",
     "1,spotify:track:" ID ",A,Caf\\xe9 del Mar,L,1,1,1,10"},
    {"regional-global-daily-2024-03-01.csv",
     BYTES(SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,\"\xC0\xAF\",1,1,1,10\n"),
     "source: not valid UTF-8 at offset 0 (byte 0xc0)",
     "1,spotify:track:" ID ",A,T,\"\\xc0\\xaf\",1,1,1,10"},
    {"regional-global-daily-2024-03-01.csv",
     BYTES(SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,\"1\xED\xA0\x80\"\n"),
     "streams: not valid UTF-8 at offset 1 (byte 0xed)",
     "1,spotify:track:" ID ",A,T,L,1,1,1,\"1\\xed\\xa0\\x80\""},
    {"regional-global-daily-2017-01-01.csv", BYTES(LEGACY_HEADER "1,T,\"A\0\",10," URL "\n"),
     "artist: contains a NUL byte at offset 1", "1,T,\"A\\x00\",10," URL},
    {"charts.csv", BYTES(KAGGLE_HEADER "T,1,2021-02-01,A," URL ",Argentina,top200,\xFF,1.0\n"),
     "trend: not valid UTF-8 at offset 0 (byte 0xff)",
     "T,1,2021-02-01,A," URL ",Argentina,top200,\\xff,1.0"},
    /* a column the reader ignores is held to the same rules */
    {"regional-kr-daily-2024-03-01.csv",
     BYTES("rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,"
           "streams,Start Date\n"
           "1,spotify:track:" ID ",A,T,L,1,1,1,10,\"2021\0\"\n"),
     "Start Date: contains a NUL byte at offset 4",
     "1,spotify:track:" ID ",A,T,L,1,1,1,10,\"2021\\x00\""},
    /* and so is a field past the header's */
    {"regional-global-daily-2024-03-01.csv",
     BYTES(SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,10,\xFE\n"),
     "column 10: not valid UTF-8 at offset 0 (byte 0xfe)",
     "1,spotify:track:" ID ",A,T,L,1,1,1,10,\\xfe"},
    {"charts_global.csv",
     BYTES(K17_HEADER "1,T,A,10," URL ",2017-01-01,"
                      "\"Republic of the Very Long Name That No Real Country Has At All,Ok\"\n"),
     "region: 65 bytes, longer than the 64-byte cap", NULL},
};

START_TEST(hygiene_rejects)
{
    const struct hygiene_case *c = &hygiene_cases[_i];
    struct got g;
    read_buffer(c->text, c->len, c->name, NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "case %d: %s", _i, g.err);
    ck_assert_msg(g.nrejects == 1 && g.nrows == 0, "case %d: %zu rejects, %zu rows", _i, g.nrejects,
                  g.nrows);
    ck_assert_msg(strcmp(g.rejects[0].reason, c->reason) == 0,
                  "case %d: reason '%s', expected '%s'", _i, g.rejects[0].reason, c->reason);
    if (c->raw)
        ck_assert_msg(strcmp(g.rejects[0].raw_text, c->raw) == 0, "case %d: raw '%s'", _i,
                      g.rejects[0].raw_text);
    got_free(&g);
}
END_TEST

/* The bad row goes, the rows around it load unchanged. */
START_TEST(hygiene_rejects_the_row_alone)
{
    static const char text[] =
        SPOTIFY_HEADER "1,spotify:track:Fix0000000000000000001,\"La Oreja, Bad\",T1,L,1,1,1,10\n"
                       "2,spotify:track:Fix0000000000000000002,\"La\0 Oreja\",T2,L,1,1,1,10\n"
                       "3,spotify:track:Fix0000000000000000003,A3,\"T\xFF"
                       "3\",L,1,1,1,10\n"
                       "4,spotify:track:Fix0000000000000000004,\"La Oreja\",T4,L,1,1,1,10\n";
    struct got g;
    read_buffer(text, sizeof text - 1, "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    ck_assert_int_eq(g.nrows, 2);
    ck_assert_int_eq(g.rows[0].rank, 1);
    ck_assert_str_eq(g.rows[0].artist_names, "La Oreja, Bad");
    ck_assert_int_eq(g.rows[1].rank, 4);
    ck_assert_int_eq(g.rows[1].line_no, 5);
    ck_assert_str_eq(g.rows[1].artist_names, "La Oreja");
    ck_assert_int_eq(g.nrejects, 2);
    ck_assert_int_eq(g.rejects[0].line_no, 3);
    ck_assert_int_eq(g.rejects[1].line_no, 4);
    got_free(&g);
}
END_TEST

/* Each cap holds at its value and refuses one byte more; a 900 KB artist line (which made
 * PostgreSQL refuse the whole object: "index row requires 10328 bytes") is one reject whose
 * raw text is cut to CP_CHART_REJECT_RAW_MAX. */
START_TEST(hygiene_caps)
{
    static const struct {
        const char *before, *after; /* the row around the field */
        size_t cap;
        const char *column;
        char fill;
    } caps[] = {
        {"1,spotify:track:" ID ",\"", "\",T,L,1,1,1,10\n", CP_CHART_NAME_MAX, "artist_names", 'a'},
        {"1,spotify:track:" ID ",A,\"", "\",L,1,1,1,10\n", CP_CHART_NAME_MAX, "track_name", 't'},
        {"1,spotify:track:" ID ",A,T,\"", "\",1,1,1,10\n", CP_CHART_NAME_MAX, "source", 'l'},
        {"1,spotify:track:" ID ",A,T,L,1,1,1,\"", "\"\n", CP_CHART_SHORT_MAX, "streams", ' '},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        for (size_t extra = 0; extra < 2; extra++) {
            size_t n = caps[i].cap + extra;
            char *value = cp_calloc(n + 1, 1);
            memset(value, caps[i].fill, n);
            if (caps[i].fill == ' ')
                value[n - 1] = '7'; /* a number in blanks */
            char *text = cp_asprintf(SPOTIFY_HEADER "%s%s%s", caps[i].before, value, caps[i].after);
            struct got g;
            read_text(text, "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
            ck_assert_msg(g.status == CP_OK, "%s", g.err);
            if (!extra) {
                ck_assert_msg(g.nrows == 1, "%s at its cap: %s", caps[i].column,
                              g.nrejects ? g.rejects[0].reason : "");
            } else {
                ck_assert_int_eq(g.nrejects, 1);
                char *want = cp_asprintf("%s: %zu bytes, longer than the %zu-byte cap",
                                         caps[i].column, n, caps[i].cap);
                ck_assert_str_eq(g.rejects[0].reason, want);
                free(want);
            }
            got_free(&g);
            free(text);
            free(value);
        }
    }

    /* a track URI or URL: 256 bytes */
    char *uri = cp_calloc(CP_CHART_TRACK_MAX + 2, 1);
    memset(uri, 'u', CP_CHART_TRACK_MAX + 1);
    char *text = cp_asprintf(SPOTIFY_HEADER "1,%s,A,T,L,1,1,1,10\n", uri);
    struct got g;
    read_text(text, "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_int_eq(g.nrejects, 1);
    ck_assert_str_eq(g.rejects[0].reason, "uri: 257 bytes, longer than the 256-byte cap");
    got_free(&g);
    free(text);
    free(uri);

    size_t big = 921600;
    char *artist = cp_calloc(big + 1, 1);
    memset(artist, 'x', big);
    text = cp_asprintf(SPOTIFY_HEADER "1,spotify:track:Fix0000000000000000001,A,T,L,1,1,1,10\n"
                                      "2,spotify:track:" ID ",\"%s\",T,L,1,1,1,10\n"
                                      "3,spotify:track:Fix0000000000000000003,A,T,L,1,1,1,10\n",
                       artist);
    read_text(text, "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    ck_assert_int_eq(g.nrows, 2);
    ck_assert_int_eq(g.nrejects, 1);
    ck_assert_str_eq(g.rejects[0].reason,
                     "artist_names: 921600 bytes, longer than the 2000-byte cap");
    size_t raw_len = strlen(g.rejects[0].raw_text);
    ck_assert_msg(raw_len <= CP_CHART_REJECT_RAW_MAX, "raw text of %zu bytes", raw_len);
    ck_assert_ptr_nonnull(strstr(g.rejects[0].raw_text, "[cut: 921654 bytes in all]"));
    static const char start[] = "2,spotify:track:" ID ",\"xxx";
    ck_assert_int_eq(strncmp(g.rejects[0].raw_text, start, sizeof start - 1), 0);
    got_free(&g);
    free(text);
    free(artist);
}
END_TEST

/* ---- file-level refusals -------------------------------------------------------------- */

struct refusal_case {
    const char *name;
    const char *region;
    const char *date;
    const char *text;
    const char *error; /* substring of the message */
};

static const struct refusal_case refusal_cases[] = {
    {"regional-global-daily-2024-03-01.csv", NULL, NULL,
     "rank,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams\n",
     "missing required column uri"},
    {"regional-global-daily-2024-03-01.csv", NULL, NULL,
     "uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams\n",
     "missing required column rank"},
    {"regional-global-daily-2024-03-01.csv", NULL, NULL,
     "rank,uri,artist_names,source,peak_rank,previous_rank,days_on_chart,streams\n",
     "missing required column track_name"},
    {"2017-01-01.csv", "global", NULL, "Position,Track Name,Artist,Streams\n",
     "missing required column url"},
    {"2017-01-01.csv", "global", NULL, "Position,Track Name,Artist,URL\n",
     "missing required column streams"},
    {"charts.csv", NULL, NULL, "title,rank,date,artist,url,chart,trend,streams\n",
     "missing required column region"},
    {"charts.csv", NULL, NULL, "title,rank,artist,url,region,chart,trend,streams\n",
     "missing required column date"},
    {"charts.csv", NULL, NULL, "title,rank,date,artist,url,region,trend,streams\n",
     "missing required column chart"},
    {"x.csv", NULL, NULL, "Position,Track_Name,Artist,Streams,URL,Region\n",
     "missing required column date"},
    {"x.csv", NULL, NULL, "id,name,plays\n1,foo,10\n", "unknown header: \"id,name,plays\""},
    {"x.csv", NULL, NULL, "", "empty file"},
    {"x.csv", NULL, NULL, "\n\n", "empty file"},
    {"x.csv", NULL, NULL, "Position,Track Name,Artist,Streams,URL\n",
     "region not known: pass --region"},
    {"x.csv", "global", NULL, "Position,Track Name,Artist,Streams,URL\n",
     "date not known: pass --date"},
    {"regional-global-daily-latest.csv", NULL, NULL, SPOTIFY_HEADER, "date not known: pass --date"},
    {"x.csv", "atlantis", "2020-01-01", LEGACY_HEADER,
     "region: \"atlantis\" is not a known region"},
    {"x.csv", "global", "2020-02-30", LEGACY_HEADER, "date: \"2020-02-30\" is not a valid date"},
    {"regional-xx-daily-2020-01-01.csv", NULL, NULL, SPOTIFY_HEADER,
     "region: \"xx\" is not a known region"},
};

START_TEST(file_refusals)
{
    const struct refusal_case *c = &refusal_cases[_i];
    struct got g;
    read_text(c->text, c->name, c->region, c->date, &g);
    ck_assert_msg(g.status == CP_ERR_FORMAT, "case %d: status %d", _i, g.status);
    ck_assert_msg(strstr(g.err, c->error) != NULL, "case %d: error '%s' lacks '%s'", _i, g.err,
                  c->error);
    ck_assert_ptr_null(g.warnings);
    ck_assert_int_eq(g.nrows + g.nrejects, 0);
    got_free(&g);
}
END_TEST

START_TEST(missing_column_fixture)
{
    struct got g;
    read_fixture("missing-uri.csv", "global", "2024-03-01", &g);
    ck_assert_int_eq(g.status, CP_ERR_FORMAT);
    ck_assert_str_eq(g.err, "charts.spotify.com file: missing required column uri");
    got_free(&g);
    read_fixture("unknown-header.csv", "global", "2024-03-01", &g);
    ck_assert_int_eq(g.status, CP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(g.err, "id,name,plays"));
    got_free(&g);
}
END_TEST

START_TEST(forced_format)
{
    /* --format legacy on a header in another case and order still maps by name */
    const char *text = "url,STREAMS,artist,track name,position\n" URL ",5,A,T,1\n";
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = CP_FORMAT_LEGACY;
    snprintf(meta.region, sizeof meta.region, "Global");
    snprintf(meta.chart_date, sizeof meta.chart_date, "2020-01-01");
    struct got g;
    memset(&g, 0, sizeof g);
    char err[256] = "";
    ck_assert_int_eq(cp_chart_read(text, strlen(text), &meta, collect_row, collect_reject, &g, NULL,
                                   err, sizeof err),
                     CP_OK);
    ck_assert_int_eq(g.nrows, 1);
    ck_assert_str_eq(g.rows[0].region, "global");
    ck_assert_int_eq(g.rows[0].streams, 5);
    ck_assert_str_eq(g.rows[0].track_id, ID);
    got_free(&g);

    /* forcing a format onto a file of another one names what is missing */
    meta.format = CP_FORMAT_KAGGLE_CHARTS;
    ck_assert_int_eq(cp_chart_read(text, strlen(text), &meta, collect_row, collect_reject, &g, NULL,
                                   err, sizeof err),
                     CP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "missing required column"));
    got_free(&g);
}
END_TEST

START_TEST(kaggle_meta_fills_empty_cells)
{
    const char *text = KAGGLE_HEADER "T,1,,A," URL ",,top200,SAME_POSITION,10.0\n";
    struct got g;
    read_text(text, "charts.csv", "ar", "2019-05-05", &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    assert_no_rejects(&g);
    ck_assert_int_eq(g.nrows, 1);
    ck_assert_str_eq(g.rows[0].region, "ar");
    ck_assert_str_eq(g.rows[0].chart_date, "2019-05-05");
    got_free(&g);
}
END_TEST

START_TEST(quoting_and_line_endings)
{
    /* the same chart in several byte layouts reads to the same rows */
    static const char *variants[] = {
        "\xEF\xBB\xBF" LEGACY_HEADER "1,\"A \"\"B\"\", C\",\"X, Y\",10," URL "\n",
        LEGACY_HEADER "1,\"A \"\"B\"\", C\",\"X, Y\",10," URL,
        "Position,Track Name,Artist,Streams,URL\r\n1,\"A \"\"B\"\", C\",\"X, Y\",10," URL "\r\n",
        "\"Position\",\"Track Name\",\"Artist\",\"Streams\",\"URL\"\r\n"
        "\"1\",\"A \"\"B\"\", C\",\"X, Y\",\"10\",\"" URL "\"",
        LEGACY_HEADER "\n\n1,\"A \"\"B\"\", C\",\"X, Y\",10," URL "\n\n",
        "Position,Track Name,Artist,Streams,URL\r1,\"A \"\"B\"\", C\",\"X, Y\",10," URL "\r",
        "Position,Track Name,Artist,Streams,URL\r\n\r\n  1 ,\"A \"\"B\"\", C\" , \"X, Y\",\t10," URL
        "\r\n",
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        struct got g;
        read_text(variants[i], "2017-01-01.csv", "global", NULL, &g);
        ck_assert_msg(g.status == CP_OK, "variant %zu: %s", i, g.err);
        assert_no_rejects(&g);
        ck_assert_msg(g.nrows == 1, "variant %zu: %zu rows", i, g.nrows);
        ck_assert_str_eq(g.rows[0].track_name, "A \"B\", C");
        ck_assert_str_eq(g.rows[0].artist_names, "X, Y");
        ck_assert_int_eq(g.rows[0].streams, 10);
        ck_assert_str_eq(g.rows[0].track_id, ID);
        got_free(&g);
    }
}
END_TEST

START_TEST(old_mac_line_breaks)
{
    /* CR alone ends lines and rows; inside quotes it stays in the cell */
    const char *text = LEGACY_HEADER "1,T1,A,10," URL "\r2,\"T\r2\",A,20,"
                                     "https://open.spotify.com/track/Fix0000000000000000098\r"
                                     "x,T3,A,30," URL "\r";
    struct got g;
    read_text(text, "2017-01-01.csv", "global", NULL, &g);
    ck_assert_msg(g.status == CP_OK, "%s", g.err);
    ck_assert_int_eq(g.nrows, 2);
    ck_assert_int_eq(g.rows[0].line_no, 2);
    ck_assert_int_eq(g.rows[1].line_no, 3);
    ck_assert_str_eq(g.rows[1].track_name, "T\r2");
    ck_assert_int_eq(g.nrejects, 1);
    ck_assert_int_eq(g.rejects[0].line_no, 5);
    ck_assert_str_eq(g.rejects[0].raw_text, "x,T3,A,30," URL);
    got_free(&g);
}
END_TEST

START_TEST(header_only_and_null_callbacks)
{
    /* a header and nothing else is refused, not read as a chart of no entries */
    static const char *const header_only[] = {
        SPOTIFY_HEADER,
        SPOTIFY_HEADER "\n\r\n\n",
        "\xEF\xBB\xBF" SPOTIFY_HEADER,
        ",,,\"Note that these figures are generated using a formula.\",\n" LEGACY_HEADER,
    };
    for (size_t i = 0; i < sizeof header_only / sizeof header_only[0]; i++) {
        struct got g;
        read_text(header_only[i], "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
        ck_assert_msg(g.status == CP_ERR_FORMAT, "case %zu: %d", i, g.status);
        ck_assert_str_eq(g.err, "no data rows: the file holds a header line only");
        ck_assert_int_eq(g.nrows + g.nrejects, 0);
        got_free(&g);
        /* ingest asks cp_chart_resolve first: it refuses the same */
        struct cp_chart_meta meta;
        memset(&meta, 0, sizeof meta);
        cp_chart_meta_from_filename("regional-global-daily-2024-03-01.csv", &meta);
        char err[128] = "";
        ck_assert_int_eq(
            cp_chart_resolve(header_only[i], strlen(header_only[i]), &meta, err, sizeof err),
            CP_ERR_FORMAT);
        ck_assert_str_eq(err, "no data rows: the file holds a header line only");
    }
    /* a file whose only row is rejected has a data row: it reads, with the reject */
    struct got g;
    read_text(SPOTIFY_HEADER "x\n", "regional-global-daily-2024-03-01.csv", NULL, NULL, &g);
    ck_assert_int_eq(g.status, CP_OK);
    ck_assert_int_eq(g.nrejects, 1);
    got_free(&g);

    const char *text = SPOTIFY_HEADER "1,spotify:track:" ID ",A,T,L,1,1,1,10\nx\n";
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = CP_FORMAT_CHARTS_SPOTIFY;
    cp_chart_meta_from_filename("regional-global-daily-2024-03-01.csv", &meta);
    char err[64];
    ck_assert_int_eq(
        cp_chart_read(text, strlen(text), &meta, NULL, NULL, NULL, NULL, err, sizeof err), CP_OK);
}
END_TEST

/* ---- file names --------------------------------------------------------------------- */

struct name_case {
    const char *name;
    const char *kind, *region, *period, *date; /* expected; "" = left as it was */
};

static const struct name_case name_cases[] = {
    {"regional-global-daily-2025-05-01.csv", "regional", "global", "daily", "2025-05-01"},
    {"/data/in/regional-au-weekly-2017-07-20.csv", "regional", "au", "weekly", "2017-07-20"},
    {"viral-za-daily-2022-09-01.csv", "viral", "za", "daily", "2022-09-01"},
    /* legacy weekly ranges A--B: the week ends the day before B (a Thursday) */
    {"regional-us-weekly-2019-12-27--2020-01-03.csv", "regional", "us", "weekly", "2020-01-02"},
    {"regional-us-weekly-2019-01-04--2019-01-11.csv", "regional", "us", "weekly", "2019-01-10"},
    {"regional-global-weekly-2020-02-28--2020-03-06.csv", "regional", "global", "weekly",
     "2020-03-05"}, /* across a leap day */
    {"regional-us-weekly-2020-12-25--2021-01-01.csv", "regional", "us", "weekly", "2020-12-31"},
    {"regional-us-weekly-2019-01-04--2019-02-30.csv", "regional", "us", "weekly", ""},
    {"2017-01-01.csv", "", "", "", "2017-01-01"},
    {"regional-global-daily-latest.csv", "regional", "global", "daily", ""},
    {"REGIONAL-GB-DAILY-2020-01-01.CSV", "regional", "gb", "daily", "2020-01-01"},
    {"regional-kr-daily-2021-02-30.csv", "regional", "kr", "daily", ""},
    {"charts.csv", "", "", "", ""},
    {"charts_global.csv", "", "", "", ""},
    {"regional-global-monthly-2020-01-01.csv", "", "", "", ""},
    {"regional-1x-daily-2020-01-01.csv", "", "", "", ""},
    {"regional-europe-daily-2020-01-01.csv", "", "", "", ""},
    {"viral-.csv", "", "", "", ""},
    {"2017-02-29.csv", "", "", "", ""},
    {"", "", "", "", ""},
};

START_TEST(meta_from_filename)
{
    const struct name_case *c = &name_cases[_i];
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    cp_chart_meta_from_filename(c->name, &meta);
    ck_assert_msg(strcmp(meta.chart_kind, c->kind) == 0, "%s: kind '%s'", c->name, meta.chart_kind);
    ck_assert_msg(strcmp(meta.region, c->region) == 0, "%s: region '%s'", c->name, meta.region);
    ck_assert_msg(strcmp(meta.period, c->period) == 0, "%s: period '%s'", c->name, meta.period);
    ck_assert_msg(strcmp(meta.chart_date, c->date) == 0, "%s: date '%s'", c->name, meta.chart_date);
}
END_TEST

START_TEST(meta_from_filename_keeps_what_it_cannot_tell)
{
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.region, sizeof meta.region, "global");
    snprintf(meta.chart_kind, sizeof meta.chart_kind, "viral");
    cp_chart_meta_from_filename("2017-01-01.csv", &meta);
    ck_assert_str_eq(meta.region, "global");
    ck_assert_str_eq(meta.chart_kind, "viral");
    ck_assert_str_eq(meta.chart_date, "2017-01-01");
    snprintf(meta.chart_date, sizeof meta.chart_date, "2020-10-24");
    cp_chart_meta_from_filename("regional-global-daily-latest.csv", &meta);
    ck_assert_str_eq(meta.chart_date, "2020-10-24");
    ck_assert_str_eq(meta.chart_kind, "regional");
    cp_chart_meta_from_filename(NULL, &meta);
}
END_TEST

/* ---- the real files in ../shared/data/real ------------------------------------------- */

struct real_folder {
    const char *dir; /* under ../shared/data/real */
    size_t files;
    size_t rows;
};

static const struct real_folder real_folders[] = {
    {"lycnda-charts-spotify-com/regional-global-daily", 5, 1000},
    {"lycnda-charts-spotify-com/regional-global-weekly", 175, 34995},
    {"lycnda-charts-spotify-com/regional-au-weekly", 107, 21396},
    {"lycnda-charts-spotify-com/viral-za-daily", 38, 3799},
    {"lycnda-charts-spotify-com/regional-kr-daily-MODIFIED", 59, 10976},
    {"mattleesounds-charts-spotify-com", 13, 2596},
    {"clayol-spotifycharts-daily-global", 31, 6200},
    {"groovydata-spotifycharts-daily-global", 12, 2400},
    {"sonyal-spotifycharts-weekly-us/pre-covid", 53, 10600},
    {"sonyal-spotifycharts-weekly-us/covid", 51, 10200},
    {"kamolruts-kaggle2017-daily", 2, 32800 + 31736},
    {"spandana-kaggle-charts-sample", 1, 100},
};

/* Row counts of single files that SOURCES.md calls out. */
struct real_file {
    const char *path;
    size_t rows;
};

static const struct real_file real_files[] = {
    {"lycnda-charts-spotify-com/regional-global-weekly/regional-global-weekly-2017-07-20.csv", 196},
    {"lycnda-charts-spotify-com/regional-global-weekly/regional-global-weekly-2017-11-09.csv", 199},
    {"lycnda-charts-spotify-com/regional-au-weekly/regional-au-weekly-2017-07-20.csv", 196},
    {"lycnda-charts-spotify-com/viral-za-daily/viral-za-daily-2022-09-13.csv", 99},
    {"mattleesounds-charts-spotify-com/regional-global-weekly-2023-03-09.csv", 198},
    {"kamolruts-kaggle2017-daily/charts_global.csv", 32800},
    {"kamolruts-kaggle2017-daily/charts_th.csv", 31736},
};

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads one real file as the CLI would, with the caller's overrides a user would pass. */
static void read_real(const char *path, struct got *g)
{
    size_t len;
    char *data = tu_read_file(path, &len);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* legacy files named only by date are global; `latest` was committed on 2020-10-25 */
    const char *region = NULL, *date = NULL;
    if (cp_chart_detect(data, len) == CP_FORMAT_LEGACY && strncmp(base, "regional-", 9) != 0)
        region = "global";
    if (strcmp(base, "regional-global-daily-latest.csv") == 0)
        date = "2020-10-24";
    read_buffer(data, len, base, region, date, g);
    free(data);
}

START_TEST(real_files_load)
{
    char *root = tu_real_data_path("");
    if (!root) {
        printf("skipped: ../shared/data/real not present\n");
        return;
    }
    free(root);
    const struct real_folder *f = &real_folders[_i];
    char *dir_path = tu_real_data_path(f->dir);
    DIR *dir = opendir(dir_path);
    ck_assert_msg(dir != NULL, "cannot open %s", dir_path);
    size_t files = 0, rows = 0, rejects = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!has_suffix(de->d_name, ".csv"))
            continue;
        char *path = cp_asprintf("%s/%s", dir_path, de->d_name);
        struct got g;
        read_real(path, &g);
        ck_assert_msg(g.status == CP_OK, "%s: %s", path, g.err);
        for (size_t i = 0; i < g.nrejects; i++)
            printf("%s:%ld: %s\n", de->d_name, g.rejects[i].line_no, g.rejects[i].reason);
        /* only the re-saved KR files carry extra columns */
        if (strstr(f->dir, "MODIFIED"))
            ck_assert_msg(g.warnings && strstr(g.warnings, "Start_Date"), "%s: warnings %s", path,
                          g.warnings ? g.warnings : "(none)");
        else
            ck_assert_msg(g.warnings == NULL, "%s: warnings %s", path, g.warnings);
        files++;
        rows += g.nrows;
        rejects += g.nrejects;
        got_free(&g);
        free(path);
    }
    closedir(dir);
    printf("%s: %zu files, %zu rows, %zu rejects\n", f->dir, files, rows, rejects);
    ck_assert_int_eq(files, f->files);
    ck_assert_int_eq(rejects, 0);
    ck_assert_int_eq(rows, f->rows);
    free(dir_path);
}
END_TEST

START_TEST(real_file_counts)
{
    const struct real_file *f = &real_files[_i];
    char *path = tu_real_data_path(f->path);
    if (!path) {
        printf("skipped: ../shared/data/real not present\n");
        return;
    }
    struct got g;
    read_real(path, &g);
    ck_assert_msg(g.status == CP_OK, "%s: %s", path, g.err);
    ck_assert_int_eq(g.nrejects, 0);
    ck_assert_int_eq(g.nrows, f->rows);
    got_free(&g);
    free(path);
}
END_TEST

START_TEST(real_quirks)
{
    char *path = tu_real_data_path("kamolruts-kaggle2017-daily/charts_global.csv");
    if (!path) {
        printf("skipped: ../shared/data/real not present\n");
        return;
    }
    struct got g;
    read_real(path, &g);
    /* the upstream rows with empty title and artist load, kept empty for enrichment */
    size_t empty = 0;
    for (size_t i = 0; i < g.nrows; i++) {
        if (g.rows[i].track_name[0] || g.rows[i].artist_names[0])
            continue;
        empty++;
        ck_assert_str_eq(g.rows[i].track_id, "1YqcGlCHNquxBhlUZsjhMT");
        ck_assert_str_eq(g.rows[i].region, "global");
    }
    ck_assert_int_eq(empty, 6);
    got_free(&g);
    free(path);

    path = tu_real_data_path("spandana-kaggle-charts-sample/charts_sample.csv");
    read_real(path, &g);
    ck_assert_int_eq(g.nrows, 100);
    ck_assert_str_eq(g.rows[0].region, "ar");
    ck_assert_str_eq(g.rows[0].chart_date, "2017-01-01");
    ck_assert_int_eq(g.rows[0].streams, 253019);
    ck_assert_int_eq(g.rows[99].rank, 100);
    got_free(&g);
    free(path);

    path = tu_real_data_path("groovydata-spotifycharts-daily-global/"
                             "regional-global-daily-latest.csv");
    size_t len;
    char *data = tu_read_file(path, &len);
    read_buffer(data, len, "regional-global-daily-latest.csv", NULL, NULL, &g);
    ck_assert_int_eq(g.status, CP_ERR_FORMAT);
    ck_assert_str_eq(g.err, "date not known: pass --date");
    got_free(&g);
    free(data);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chart_csv");
    TCase *tc = tcase_create("formats");
    tcase_add_loop_test(tc, detect_formats, 0, sizeof detect_cases / sizeof detect_cases[0]);
    tcase_add_loop_test(tc, detect_headers, 0, sizeof header_cases / sizeof header_cases[0]);
    tcase_add_test(tc, format_names);
    tcase_add_test(tc, spotify_daily);
    tcase_add_test(tc, spotify_weekly_crlf_no_final_newline);
    tcase_add_test(tc, spotify_viral_without_streams);
    tcase_add_test(tc, spotify_extra_columns_warning);
    tcase_add_test(tc, extra_column_warning_is_one_line_of_text);
    tcase_add_test(tc, legacy_notes_line_multiline_blank);
    tcase_add_test(tc, legacy_weekly_range_name);
    tcase_add_test(tc, kaggle_charts);
    tcase_add_test(tc, kaggle_2017);
    tcase_add_test(tc, mixed_rejects_lines_and_raw_text);
    tcase_add_loop_test(tc, reject_reasons, 0, sizeof reject_cases / sizeof reject_cases[0]);
    tcase_add_test(tc, long_values_cut_in_reasons);
    tcase_add_loop_test(tc, hygiene_rejects, 0, sizeof hygiene_cases / sizeof hygiene_cases[0]);
    tcase_add_test(tc, hygiene_rejects_the_row_alone);
    tcase_add_test(tc, hygiene_caps);
    tcase_add_loop_test(tc, file_refusals, 0, sizeof refusal_cases / sizeof refusal_cases[0]);
    tcase_add_test(tc, missing_column_fixture);
    tcase_add_test(tc, forced_format);
    tcase_add_test(tc, kaggle_meta_fills_empty_cells);
    tcase_add_test(tc, quoting_and_line_endings);
    tcase_add_test(tc, old_mac_line_breaks);
    tcase_add_test(tc, header_only_and_null_callbacks);
    tcase_add_loop_test(tc, meta_from_filename, 0, sizeof name_cases / sizeof name_cases[0]);
    tcase_add_test(tc, meta_from_filename_keeps_what_it_cannot_tell);
    suite_add_tcase(s, tc);

    TCase *real = tu_real_data_tcase("real");
    tcase_set_timeout(real, 120);
    tcase_add_loop_test(real, real_files_load, 0, sizeof real_folders / sizeof real_folders[0]);
    tcase_add_loop_test(real, real_file_counts, 0, sizeof real_files / sizeof real_files[0]);
    tcase_add_test(real, real_quirks);
    suite_add_tcase(s, real);
    return tu_run_suite(s);
}
