/* Chart file readers: format detection, file-name metadata, and row parsing (libcsv) with
 * per-row validation for every chart CSV format of SPEC §4. */
#include "pipeline/chart_csv.h"

#include <csv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/series.h"
#include "core/spotify_id.h"
#include "core/text.h"

#define REASON_MAX       320  /* bytes of a reject reason */
#define VALUE_SHOWN_MAX  60   /* bytes of an offending cell quoted in a reason */
#define HEADER_SHOWN_MAX 160  /* bytes of an unrecognised header quoted in an error */
#define HEADER_NAME_MAX  48   /* longer header names cannot be one we know */
#define WARNINGS_MAX     4096 /* cap of the warnings text */
#define DETECT_MIN_SCORE 3    /* known column names a header needs to be recognised */
#define CHART_KEY_MAX    32   /* "regional/global/2017-01-01" */
#define RANK_WORDS       ((CP_CHART_RANK_MAX + 64) / 64)

/* ---- formats and their columns ------------------------------------------------------ */

enum role {
    ROLE_RANK = 0,
    ROLE_TRACK,
    ROLE_TITLE,
    ROLE_ARTIST,
    ROLE_LABEL,
    ROLE_PEAK,
    ROLE_PREVIOUS,
    ROLE_DAYS,
    ROLE_WEEKS,
    ROLE_STREAMS,
    ROLE_DATE,
    ROLE_REGION,
    ROLE_CHART,
    ROLE_TREND,
    ROLE_COUNT
};

struct column_spec {
    const char *name; /* normalised: lower case, '_' for spaces */
    enum role role;
    bool required;
};

#define MAX_SPEC_COLUMNS 10

struct format_spec {
    enum cp_chart_format format;
    const char *name;   /* cp_chart_format_name */
    const char *source; /* cp_chart_format_source */
    bool per_row_meta;  /* rows carry their own date and region */
    struct column_spec columns[MAX_SPEC_COLUMNS];
};

/* Title and artist columns are required although their cells may be empty: a file without
 * them is not the format it claims, and loading it would blank every name. */
static const struct format_spec formats[] = {
    {CP_FORMAT_CHARTS_SPOTIFY,
     "charts.spotify.com",
     "charts.spotify.com",
     false,
     {{"rank", ROLE_RANK, true},
      {"uri", ROLE_TRACK, true},
      {"artist_names", ROLE_ARTIST, true},
      {"track_name", ROLE_TITLE, true},
      {"source", ROLE_LABEL, false},
      {"peak_rank", ROLE_PEAK, false},
      {"previous_rank", ROLE_PREVIOUS, false},
      {"days_on_chart", ROLE_DAYS, false},
      {"weeks_on_chart", ROLE_WEEKS, false},
      {"streams", ROLE_STREAMS, true}}},
    {CP_FORMAT_LEGACY,
     "spotifycharts.com",
     "spotifycharts.com",
     false,
     {{"position", ROLE_RANK, true},
      {"track_name", ROLE_TITLE, true},
      {"artist", ROLE_ARTIST, true},
      {"streams", ROLE_STREAMS, true},
      {"url", ROLE_TRACK, true}}},
    {CP_FORMAT_KAGGLE_CHARTS,
     "kaggle-charts",
     "kaggle",
     true,
     {{"title", ROLE_TITLE, true},
      {"rank", ROLE_RANK, true},
      {"date", ROLE_DATE, true},
      {"artist", ROLE_ARTIST, true},
      {"url", ROLE_TRACK, true},
      {"region", ROLE_REGION, true},
      {"chart", ROLE_CHART, true},
      {"trend", ROLE_TREND, false},
      {"streams", ROLE_STREAMS, true}}},
    {CP_FORMAT_KAGGLE_2017,
     "kaggle-2017",
     "kaggle",
     true,
     {{"position", ROLE_RANK, true},
      {"track_name", ROLE_TITLE, true},
      {"artist", ROLE_ARTIST, true},
      {"streams", ROLE_STREAMS, true},
      {"url", ROLE_TRACK, true},
      {"date", ROLE_DATE, true},
      {"region", ROLE_REGION, true}}},
};

#define N_FORMATS (sizeof formats / sizeof formats[0])

static const struct format_spec *spec_for(enum cp_chart_format format)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (formats[i].format == format)
            return &formats[i];
    return NULL;
}

const char *cp_chart_format_name(enum cp_chart_format format)
{
    const struct format_spec *spec = spec_for(format);
    return spec ? spec->name : "unknown";
}

const char *cp_chart_format_source(enum cp_chart_format format)
{
    const struct format_spec *spec = spec_for(format);
    return spec ? spec->source : "unknown";
}

enum cp_chart_format cp_chart_format_parse(const char *name)
{
    static const struct {
        const char *alias;
        enum cp_chart_format format;
    } aliases[] = {
        {"spotify", CP_FORMAT_CHARTS_SPOTIFY}, {"charts", CP_FORMAT_CHARTS_SPOTIFY},
        {"legacy", CP_FORMAT_LEGACY},          {"kaggle", CP_FORMAT_KAGGLE_CHARTS},
        {"kaggle2017", CP_FORMAT_KAGGLE_2017},
    };
    if (!name)
        return CP_FORMAT_UNKNOWN;
    for (size_t i = 0; i < N_FORMATS; i++)
        if (strcasecmp(name, formats[i].name) == 0)
            return formats[i].format;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].alias) == 0)
            return aliases[i].format;
    return CP_FORMAT_UNKNOWN;
}

/* ---- small validators ---------------------------------------------------------------- */

enum number_check { NUMBER_OK, NUMBER_EMPTY, NUMBER_NEGATIVE, NUMBER_BAD, NUMBER_TOO_LARGE };

/* Parses a whole non-negative integer. A zero fraction ("253019.0") is accepted because
 * pandas writes integer columns that held a NaN as floats. Surrounding blanks are ignored. */
static enum number_check parse_count(const char *s, long long *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return NUMBER_EMPTY;
    bool negative = false;
    if (*s == '-' || *s == '+') {
        negative = *s == '-';
        s++;
    }
    if (!(*s >= '0' && *s <= '9'))
        return NUMBER_BAD;
    long long value = 0;
    bool too_large = false;
    for (; *s >= '0' && *s <= '9'; s++) {
        int digit = *s - '0';
        if (value > (INT64_MAX - digit) / 10)
            too_large = true;
        else
            value = value * 10 + digit;
    }
    if (*s == '.') {
        s++;
        while (*s == '0')
            s++;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0')
        return NUMBER_BAD;
    if (negative && value != 0)
        return NUMBER_NEGATIVE;
    if (too_large)
        return NUMBER_TOO_LARGE;
    *out = value;
    return NUMBER_OK;
}

/* ---- record reader: libcsv driven line by line so each row's bytes are known ---------- */

/* Field text of the current record: contents back to back, each NUL-terminated. Reused
 * across records, so parsing allocates only while the longest row grows the buffers. */
struct record {
    char *text;
    size_t text_len, text_cap;
    size_t *start;  /* offset of each field in text */
    size_t *length; /* bytes of each field: a NUL byte inside one ends its C string early */
    const char **field;
    size_t count, cap;
};

struct cursor {
    const char *data;
    size_t len;
    size_t pos; /* next byte to feed */
    long line;  /* physical line of data[pos] */
    struct csv_parser parser;
    struct record rec;
    bool row_done;
    /* where the last record stood in data */
    size_t rec_start, rec_end;
    long rec_line;
    bool rec_unterminated; /* ended by end of file inside a quoted field */
};

static void on_field(void *s, size_t n, void *ud)
{
    struct cursor *c = ud;
    struct record *r = &c->rec;
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->start = cp_realloc(r->start, r->cap * sizeof *r->start);
        r->length = cp_realloc(r->length, r->cap * sizeof *r->length);
        r->field = cp_realloc(r->field, r->cap * sizeof *r->field);
    }
    if (r->text_len + n + 1 > r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap : 1024;
        while (cap < r->text_len + n + 1)
            cap *= 2;
        r->text = cp_realloc(r->text, cap);
        r->text_cap = cap;
    }
    if (n)
        memcpy(r->text + r->text_len, s, n);
    r->start[r->count] = r->text_len;
    r->length[r->count++] = n;
    r->text_len += n;
    r->text[r->text_len++] = '\0';
}

static void on_row_end(int terminator, void *ud)
{
    (void)terminator;
    ((struct cursor *)ud)->row_done = true;
}

static void libcsv_free(void *p)
{
    free(p);
}

static void cursor_init(struct cursor *c, const char *data, size_t len)
{
    memset(c, 0, sizeof *c);
    c->data = data;
    c->len = len;
    c->line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    csv_init(&c->parser, CSV_APPEND_NULL);
    csv_set_realloc_func(&c->parser, cp_realloc);
    csv_set_free_func(&c->parser, libcsv_free);
}

static void cursor_cleanup(struct cursor *c)
{
    csv_free(&c->parser);
    free(c->rec.text);
    free(c->rec.start);
    free(c->rec.length);
    free(c->rec.field);
}

static bool line_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
            return false;
    return true;
}

/* Reads the next record. Each physical line is fed to libcsv on its own, so a row can only
 * end at the line break that closes a chunk: its start and end offsets and first line are
 * exact. libcsv's own terminators are kept (its inline test is faster than a callback per
 * byte): CR and LF both end a row, CRLF ends it at the CR and the LF is then skipped as an
 * empty line, and so is every blank line between rows. */
static bool cursor_next(struct cursor *c)
{
    struct record *r = &c->rec;
    r->count = 0;
    r->text_len = 0;
    c->row_done = false;
    c->rec_unterminated = false;
    bool in_row = false;
    while (c->pos < c->len) {
        const char *chunk = c->data + c->pos;
        const char *lf = memchr(chunk, '\n', c->len - c->pos);
        size_t n = lf ? (size_t)(lf - chunk) + 1 : c->len - c->pos;
        /* A CR that is not part of CRLF is a line break of its own (old Mac files). */
        const char *cr = memchr(chunk, '\r', n);
        if (cr && (size_t)(cr - chunk) + 1 < n && cr[1] != '\n')
            n = (size_t)(cr - chunk) + 1;
        bool line_break = chunk[n - 1] == '\n' || chunk[n - 1] == '\r';
        if (!in_row) {
            if (line_blank(chunk, n)) {
                c->pos += n;
                c->line++;
                continue;
            }
            in_row = true;
            c->rec_start = c->pos;
            c->rec_line = c->line;
        }
        /* Without CSV_STRICT libcsv fails only when out of memory, and cp_realloc aborts
         * first; so the whole chunk is always consumed. */
        csv_parse(&c->parser, chunk, n, on_field, on_row_end, c);
        c->pos += n;
        if (line_break)
            c->line++;
        if (c->row_done) {
            c->rec_end = c->pos - 1; /* the line break */
            break;
        }
    }
    if (!in_row)
        return false;
    if (!c->row_done) {
        /* End of data inside a row: the last row lacks its newline, or a quoted field was
         * never closed. A newline tells the two apart: it ends the row only outside quotes. */
        csv_parse(&c->parser, "\n", 1, on_field, on_row_end, c);
        c->rec_unterminated = !c->row_done;
        csv_fini(&c->parser, on_field, on_row_end, c);
        c->rec_end = c->len;
        if (c->data[c->rec_end - 1] == '\n' || c->data[c->rec_end - 1] == '\r')
            c->rec_end--;
    }
    if (c->rec_end > c->rec_start && c->rec_end < c->len && c->data[c->rec_end - 1] == '\r' &&
        c->data[c->rec_end] == '\n')
        c->rec_end--;
    for (size_t i = 0; i < r->count; i++)
        r->field[i] = r->text + r->start[i];
    return true;
}

/* ---- header ------------------------------------------------------------------------- */

/* Lower case, trimmed, spaces and dashes as '_': "Track Name", "Track_Name" and
 * "track_name" are one name. Returns false when the name is too long to be ours. */
static bool normalise_name(const char *s, char out[HEADER_NAME_MAX])
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= HEADER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        else if (ch == ' ' || ch == '-')
            ch = '_';
        out[i] = ch;
    }
    out[n] = '\0';
    return true;
}

static int spec_column(const struct format_spec *spec, const char *normalised)
{
    for (int i = 0; i < MAX_SPEC_COLUMNS && spec->columns[i].name; i++)
        if (strcmp(spec->columns[i].name, normalised) == 0)
            return i;
    return -1;
}

/* Scores a header against every format: the format with the most known names wins; on a
 * tie the one missing fewer required columns (legacy's five columns are a subset of the
 * Kaggle 2017 header, so legacy wins unless Date/Region are there). */
static enum cp_chart_format detect_header(const struct record *header)
{
    enum cp_chart_format best = CP_FORMAT_UNKNOWN;
    int best_score = 0, best_missing = 0;
    for (size_t f = 0; f < N_FORMATS; f++) {
        bool seen[MAX_SPEC_COLUMNS] = {false};
        int score = 0;
        for (size_t i = 0; i < header->count; i++) {
            char name[HEADER_NAME_MAX];
            if (!normalise_name(header->field[i], name))
                continue;
            int col = spec_column(&formats[f], name);
            if (col >= 0 && !seen[col]) {
                seen[col] = true;
                score++;
            }
        }
        int missing = 0;
        for (int col = 0; col < MAX_SPEC_COLUMNS && formats[f].columns[col].name; col++)
            missing += formats[f].columns[col].required && !seen[col];
        if (score > best_score || (score == best_score && missing < best_missing)) {
            best = formats[f].format;
            best_score = score;
            best_missing = missing;
        }
    }
    return best_score >= DETECT_MIN_SCORE ? best : CP_FORMAT_UNKNOWN;
}

/* Finds the header record: the first record, or the second when the first is the notes
 * line of a spotifycharts.com export. Leaves c after the header. */
static enum cp_chart_format find_header(struct cursor *c, size_t *first_start, size_t *first_end)
{
    *first_start = *first_end = 0;
    if (!cursor_next(c))
        return CP_FORMAT_UNKNOWN;
    *first_start = c->rec_start;
    *first_end = c->rec_end;
    enum cp_chart_format format = detect_header(&c->rec);
    if (format != CP_FORMAT_UNKNOWN)
        return format;
    if (!cursor_next(c))
        return CP_FORMAT_UNKNOWN;
    format = detect_header(&c->rec);
    return format == CP_FORMAT_LEGACY ? format : CP_FORMAT_UNKNOWN;
}

enum cp_chart_format cp_chart_detect(const char *data, size_t len)
{
    struct cursor c;
    cursor_init(&c, data, len);
    size_t start, end;
    enum cp_chart_format format = find_header(&c, &start, &end);
    cursor_cleanup(&c);
    return format;
}

/* ---- file names --------------------------------------------------------------------- */

static void set_text(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void cp_chart_meta_from_filename(const char *name, struct cp_chart_meta *meta)
{
    if (!name)
        return;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    if (n >= 4 && strcasecmp(base + n - 4, ".csv") == 0)
        n -= 4;
    if (cp_date_valid_n(base, n, CP_DATE_YEAR_MIN)) { /* 2017-01-01.csv */
        set_text(meta->chart_date, sizeof meta->chart_date, base, n);
        return;
    }
    /* <kind>-<region>-<period>[-<date>|-<start>--<end>|-latest] */
    const char *kind = NULL;
    size_t pos;
    if (n > 9 && strncasecmp(base, "regional-", 9) == 0) {
        kind = "regional";
        pos = 9;
    } else if (n > 6 && strncasecmp(base, "viral-", 6) == 0) {
        kind = "viral";
        pos = 6;
    } else {
        return;
    }
    size_t region_len = 0;
    while (pos + region_len < n && base[pos + region_len] != '-')
        region_len++;
    const char *region = base + pos;
    bool code = region_len == 2 || (region_len == 6 && strncasecmp(region, "global", 6) == 0);
    for (size_t i = 0; i < region_len; i++) {
        char ch = region[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            code = false;
    }
    if (!code)
        return;
    pos += region_len;
    const char *period = NULL;
    if (n - pos >= 6 && strncasecmp(base + pos, "-daily", 6) == 0 &&
        (n - pos == 6 || base[pos + 6] == '-')) {
        period = "daily";
        pos += 6;
    } else if (n - pos >= 7 && strncasecmp(base + pos, "-weekly", 7) == 0 &&
               (n - pos == 7 || base[pos + 7] == '-')) {
        period = "weekly";
        pos += 7;
    } else {
        return;
    }
    snprintf(meta->chart_kind, sizeof meta->chart_kind, "%s", kind);
    for (size_t i = 0; i < region_len; i++) {
        char ch = region[i];
        meta->region[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    meta->region[region_len] = '\0';
    snprintf(meta->period, sizeof meta->period, "%s", period);
    if (pos == n)
        return;
    const char *dates = base + pos + 1;
    size_t dates_len = n - pos - 1;
    if (cp_date_valid_n(dates, dates_len, CP_DATE_YEAR_MIN))
        set_text(meta->chart_date, sizeof meta->chart_date, dates, dates_len);
    else if (dates_len == 22 && dates[10] == '-' && dates[11] == '-' &&
             cp_date_valid_n(dates, 10, CP_DATE_YEAR_MIN) &&
             cp_date_valid_n(dates + 12, 10, CP_DATE_YEAR_MIN)) {
        /* spotifycharts.com's A--B runs from A to the day before B: the week's last day is
         * B - 1, the Thursday charts.spotify.com dates the same week by */
        char end[11];
        set_text(end, sizeof end, dates + 12, 10);
        cp_date_format_days(cp_date_text_to_days(end) - 1, meta->chart_date);
    }
}

/* ---- ranks already taken per chart ---------------------------------------------------- */

struct chart_ranks {
    char key[CHART_KEY_MAX]; /* "kind/region/date"; "" = free slot */
    uint64_t taken[RANK_WORDS];
};

/* Open addressing keyed by chart; one file may hold thousands of charts (Kaggle). */
struct rank_table {
    struct chart_ranks *slots;
    size_t cap, used;
    long last; /* slot of the previous row's chart: rows of one chart come together */
    const char *last_kind, *last_region;
    char last_date[11];
};

static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    return h;
}

static size_t rank_slot(struct rank_table *t, const char *key)
{
    size_t i = key_hash(key) & (t->cap - 1);
    while (t->slots[i].key[0] && strcmp(t->slots[i].key, key) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static void rank_table_grow(struct rank_table *t)
{
    struct chart_ranks *old = t->slots;
    size_t old_cap = t->cap;
    t->cap = old_cap ? old_cap * 2 : 8;
    t->slots = cp_calloc(t->cap, sizeof *t->slots);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key[0])
            t->slots[rank_slot(t, old[i].key)] = old[i];
    free(old);
    t->last = -1;
}

/* Marks rank taken on the chart (kind, region, date); false when it already was. kind and
 * region are static strings, so pointer equality is a cheap "same chart as last row". */
static bool rank_take(struct rank_table *t, const char *kind, const char *region, const char *date,
                      int rank)
{
    bool same = t->last >= 0 && kind == t->last_kind && region == t->last_region &&
                strcmp(date, t->last_date) == 0;
    if (!same) {
        char key[CHART_KEY_MAX];
        snprintf(key, sizeof key, "%s/%s/%s", kind, region, date);
        if ((t->used + 1) * 2 > t->cap)
            rank_table_grow(t);
        size_t i = rank_slot(t, key);
        if (!t->slots[i].key[0]) {
            memcpy(t->slots[i].key, key, sizeof key);
            t->used++;
        }
        t->last = (long)i;
        t->last_kind = kind;
        t->last_region = region;
        snprintf(t->last_date, sizeof t->last_date, "%s", date);
    }
    uint64_t *word = &t->slots[t->last].taken[rank / 64];
    uint64_t bit = (uint64_t)1 << (rank % 64);
    if (*word & bit)
        return false;
    *word |= bit;
    return true;
}

/* ---- reading ------------------------------------------------------------------------ */

/* What a field of a data row may hold, by its place in the header. */
struct field_rule {
    char name[HEADER_NAME_MAX + 16]; /* as reasons name it: "artist_names", "column 12" */
    size_t cap;                      /* bytes */
};

struct reader {
    const struct format_spec *spec;
    int col[ROLE_COUNT];       /* field index of each role, -1 when absent */
    size_t nfields;            /* fields in the header */
    struct field_rule *fields; /* nfields of them */
    /* file-level values; for per-row formats the fallbacks for empty cells */
    const char *kind, *region, *period, *date;
    bool streams_required_file; /* a non-viral file: rows must carry streams */
    struct rank_table ranks;
    /* the previous row's region cell and its code: Kaggle rows of a region come together */
    char region_cell[64];
    const char *region_code;
    char reason[REASON_MAX];
    struct cp_buf raw; /* the safe form of a rejected row's text */
};

/* Writes at most VALUE_SHOWN_MAX bytes of s, cut on a UTF-8 character boundary. */
static const char *shown(const char *s, char out[VALUE_SHOWN_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= VALUE_SHOWN_MAX)
        return s;
    n = VALUE_SHOWN_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

static void set_reason(struct reader *rd, const char *what, const char *value, const char *problem)
{
    char buf[VALUE_SHOWN_MAX + 4];
    snprintf(rd->reason, sizeof rd->reason, "%s: \"%s\" %s", what, shown(value, buf), problem);
}

static const char *cell(const struct reader *rd, const struct record *rec, enum role role)
{
    return rd->col[role] >= 0 ? rec->field[rd->col[role]] : NULL;
}

static bool is_minus_one(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s++ != '-')
        return false;
    long long v = 0;
    return parse_count(s, &v) == NUMBER_OK && v == 1;
}

/* A rank-like cell (peak_rank, previous_rank): empty means "not said" (-1). */
static bool check_src_rank(struct reader *rd, const char *what, const char *value,
                           bool allow_minus_one, int *out)
{
    *out = -1;
    if (!value)
        return true;
    long long v = 0;
    enum number_check st = parse_count(value, &v);
    if (st == NUMBER_EMPTY)
        return true;
    if (allow_minus_one && st == NUMBER_NEGATIVE && is_minus_one(value))
        return true;
    if (st != NUMBER_OK || v < 1 || v > CP_CHART_RANK_MAX) {
        set_reason(rd, what, value,
                   allow_minus_one ? "is not a rank (1..1000) or -1" : "is not a rank (1..1000)");
        return false;
    }
    *out = (int)v;
    return true;
}

static const char *resolve_region(struct reader *rd, const char *value)
{
    if (rd->region_code && strcmp(value, rd->region_cell) == 0)
        return rd->region_code;
    const char *code = cp_region_from_name(value);
    if (code && strlen(value) < sizeof rd->region_cell) {
        memcpy(rd->region_cell, value, strlen(value) + 1);
        rd->region_code = code;
    }
    return code;
}

/* The cap of a field holding role's values. */
static size_t role_cap(enum role role)
{
    switch (role) {
    case ROLE_TITLE:
    case ROLE_ARTIST:
    case ROLE_LABEL:
        return CP_CHART_NAME_MAX;
    case ROLE_TRACK:
        return CP_CHART_TRACK_MAX;
    default:
        return CP_CHART_SHORT_MAX;
    }
}

/* Row hygiene, before any value is looked at: every field within its cap, without NUL
 * bytes, valid UTF-8 (PostgreSQL refuses anything else, and a NUL would cut the value short
 * in C). Fields past the header's are held to the cap of an ignored column. */
static bool check_fields(struct reader *rd, const struct record *rec)
{
    for (size_t i = 0; i < rec->count; i++) {
        char other[32];
        const char *name = other;
        size_t cap = CP_CHART_OTHER_MAX;
        if (i < rd->nfields) {
            name = rd->fields[i].name;
            cap = rd->fields[i].cap;
        } else {
            snprintf(other, sizeof other, "column %zu", i + 1);
        }
        const char *value = rec->field[i];
        size_t n = rec->length[i];
        if (n > cap) {
            snprintf(rd->reason, sizeof rd->reason, "%s: %zu bytes, longer than the %zu-byte cap",
                     name, n, cap);
            return false;
        }
        const char *nul = memchr(value, '\0', n);
        if (nul) {
            snprintf(rd->reason, sizeof rd->reason, "%s: contains a NUL byte at offset %zu", name,
                     (size_t)(nul - value));
            return false;
        }
        size_t bad = cp_utf8_invalid_at(value, n);
        if (bad < n) {
            snprintf(rd->reason, sizeof rd->reason,
                     "%s: not valid UTF-8 at offset %zu (byte 0x%02x)", name, bad,
                     (unsigned char)value[bad]);
            return false;
        }
    }
    return true;
}

/* Validates one data record into row; on failure rd->reason says why. */
static bool validate_row(struct reader *rd, const struct record *rec, struct cp_chart_row *row)
{
    if (!check_fields(rd, rec))
        return false;
    if (rec->count != rd->nfields) {
        snprintf(rd->reason, sizeof rd->reason, "row has %zu fields, header has %zu", rec->count,
                 rd->nfields);
        return false;
    }
    long long v = 0;
    const char *value = cell(rd, rec, ROLE_RANK);
    enum number_check st = parse_count(value, &v);
    if (st == NUMBER_EMPTY) {
        snprintf(rd->reason, sizeof rd->reason, "rank: missing");
        return false;
    }
    if (st != NUMBER_OK || v < 1) {
        set_reason(rd, "rank", value, "is not a positive integer");
        return false;
    }
    if (v > CP_CHART_RANK_MAX) {
        set_reason(rd, "rank", value, "is above 1000");
        return false;
    }
    row->rank = (int)v;

    value = cell(rd, rec, ROLE_TRACK);
    if (!value[0]) {
        snprintf(rd->reason, sizeof rd->reason, "track id: missing");
        return false;
    }
    if (cp_spotify_parse_id(value, "track", row->track_id) != CP_OK) {
        set_reason(rd, "track id", value, "is not 22 base62 characters");
        return false;
    }

    row->chart_kind = rd->kind;
    value = cell(rd, rec, ROLE_CHART);
    if (value && value[0]) {
        if (strcasecmp(value, "top200") == 0 || strcasecmp(value, "regional") == 0) {
            row->chart_kind = "regional";
        } else if (strcasecmp(value, "viral50") == 0 || strcasecmp(value, "viral") == 0) {
            row->chart_kind = "viral";
        } else {
            set_reason(rd, "chart", value, "is not top200 or viral50");
            return false;
        }
    } else if (value && !row->chart_kind) {
        snprintf(rd->reason, sizeof rd->reason, "chart: missing");
        return false;
    }
    bool viral = strcmp(row->chart_kind, "viral") == 0;

    row->streams = -1;
    value = cell(rd, rec, ROLE_STREAMS);
    st = value ? parse_count(value, &v) : NUMBER_EMPTY;
    if (st == NUMBER_EMPTY) {
        if (!viral) {
            snprintf(rd->reason, sizeof rd->reason,
                     "streams: missing (required on regional charts)");
            return false;
        }
    } else if (st == NUMBER_NEGATIVE) {
        set_reason(rd, "streams", value, "is negative");
        return false;
    } else if (st == NUMBER_TOO_LARGE) {
        set_reason(rd, "streams", value, "is too large");
        return false;
    } else if (st != NUMBER_OK) {
        set_reason(rd, "streams", value, "is not an integer");
        return false;
    } else {
        row->streams = v;
    }

    row->chart_date = rd->date;
    value = cell(rd, rec, ROLE_DATE);
    if (value && value[0]) {
        if (!cp_date_valid(value)) {
            set_reason(rd, "date", value, "is not a valid date");
            return false;
        }
        row->chart_date = value;
    } else if (value && !row->chart_date) {
        snprintf(rd->reason, sizeof rd->reason, "date: missing");
        return false;
    }

    row->region = rd->region;
    value = cell(rd, rec, ROLE_REGION);
    if (value && value[0]) {
        row->region = resolve_region(rd, value);
        if (!row->region) {
            set_reason(rd, "region", value, "is not a known region");
            return false;
        }
    } else if (value && !row->region) {
        snprintf(rd->reason, sizeof rd->reason, "region: missing");
        return false;
    }
    row->period = rd->period;

    if (!check_src_rank(rd, "peak_rank", cell(rd, rec, ROLE_PEAK), false, &row->src_peak_rank) ||
        !check_src_rank(rd, "previous_rank", cell(rd, rec, ROLE_PREVIOUS), true,
                        &row->src_previous_rank))
        return false;
    /* The periods column is the one matching the chart's period when both exist. */
    enum role periods_role = strcmp(rd->period, "weekly") == 0
                                 ? (rd->col[ROLE_WEEKS] >= 0 ? ROLE_WEEKS : ROLE_DAYS)
                                 : (rd->col[ROLE_DAYS] >= 0 ? ROLE_DAYS : ROLE_WEEKS);
    row->src_periods_on_chart = -1;
    value = cell(rd, rec, periods_role);
    if (value) {
        st = parse_count(value, &v);
        if (st == NUMBER_OK && v <= INT32_MAX) {
            row->src_periods_on_chart = (int)v;
        } else if (st != NUMBER_EMPTY) {
            set_reason(rd, periods_role == ROLE_WEEKS ? "weeks_on_chart" : "days_on_chart", value,
                       "is not a non-negative integer");
            return false;
        }
    }

    const char *title = cell(rd, rec, ROLE_TITLE);
    const char *artist = cell(rd, rec, ROLE_ARTIST);
    row->track_name = title ? title : "";
    row->artist_names = artist ? artist : "";
    row->label = cell(rd, rec, ROLE_LABEL);

    if (!rank_take(&rd->ranks, row->chart_kind, row->region, row->chart_date, row->rank)) {
        snprintf(rd->reason, sizeof rd->reason, "rank: %d appears twice on chart %s/%s/%s",
                 row->rank, row->chart_kind, row->region, row->chart_date);
        return false;
    }
    return true;
}

/* Copies at most HEADER_SHOWN_MAX bytes of a line for an error message, with anything but
 * printable ASCII as '?' (the file may be binary or in some other encoding). */
static void printable(const char *s, size_t n, char out[HEADER_SHOWN_MAX + 4])
{
    size_t shown_len = n > HEADER_SHOWN_MAX ? HEADER_SHOWN_MAX : n;
    for (size_t i = 0; i < shown_len; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    memcpy(out + shown_len, n > shown_len ? "..." : "", n > shown_len ? 4 : 1);
}

/* The record's bytes in their safe form, which any text column takes. */
static const char *raw_text(struct reader *rd, const struct cursor *c)
{
    cp_buf_reset(&rd->raw);
    cp_text_safe(&rd->raw, c->data + c->rec_start, c->rec_end - c->rec_start,
                 CP_CHART_REJECT_RAW_MAX);
    return rd->raw.data ? rd->raw.data : "";
}

/* The name a reason gives a header cell the reader ignores: the cell when it is a short
 * printable name, else its position. */
static void other_column_name(const char *cell, size_t n, size_t index,
                              char out[HEADER_NAME_MAX + 16])
{
    bool plain = n > 0 && n < HEADER_NAME_MAX;
    for (size_t i = 0; plain && i < n; i++)
        plain = cell[i] >= 0x20 && cell[i] < 0x7f;
    if (plain)
        snprintf(out, HEADER_NAME_MAX + 16, "%s", cell);
    else
        snprintf(out, HEADER_NAME_MAX + 16, "column %zu", index + 1);
}

/* An ignored header cell as a warning quotes it: its line form (core/text.h), cut short. The
 * warnings go to logs and stderr, and a header cell may hold a newline, a NUL or bytes that
 * are not UTF-8 like any other cell. */
#define COLUMN_SHOWN_MAX (VALUE_SHOWN_MAX + CP_TEXT_CUT_MARKER_MAX)

static const char *shown_column(const char *cell, size_t n, struct cp_buf *out)
{
    cp_buf_reset(out);
    cp_text_line(out, cell, n, COLUMN_SHOWN_MAX);
    return out->data ? out->data : "";
}

/* Maps header names to roles. Unknown and repeated names are listed in warnings. */
static cp_status map_columns(struct reader *rd, const struct record *header,
                             struct cp_buf *warnings, char *err, size_t errlen)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        rd->col[i] = -1;
    rd->nfields = header->count;
    free(rd->fields);
    rd->fields = cp_calloc(header->count ? header->count : 1, sizeof *rd->fields);
    bool seen[MAX_SPEC_COLUMNS] = {false};
    size_t ignored = 0;
    struct cp_buf quoted;
    cp_buf_init(&quoted, COLUMN_SHOWN_MAX);
    for (size_t i = 0; i < header->count; i++) {
        char name[HEADER_NAME_MAX];
        int col = normalise_name(header->field[i], name) ? spec_column(rd->spec, name) : -1;
        struct field_rule *rule = &rd->fields[i];
        if (col >= 0 && !seen[col]) {
            seen[col] = true;
            rd->col[rd->spec->columns[col].role] = (int)i;
            snprintf(rule->name, sizeof rule->name, "%s", rd->spec->columns[col].name);
            rule->cap = role_cap(rd->spec->columns[col].role);
            continue;
        }
        other_column_name(header->field[i], header->length[i], i, rule->name);
        rule->cap = CP_CHART_OTHER_MAX;
        const char *lead = ignored++       ? ", "
                           : warnings->len ? "; ignored extra columns: "
                                           : "ignored extra columns: ";
        (void)cp_buf_addf(warnings, "%s\"%s\"", lead,
                          shown_column(header->field[i], header->length[i], &quoted));
    }
    cp_buf_free(&quoted);
    for (int col = 0; col < MAX_SPEC_COLUMNS && rd->spec->columns[col].name; col++) {
        const struct column_spec *cs = &rd->spec->columns[col];
        if (!cs->required || seen[col])
            continue;
        if (cs->role == ROLE_STREAMS && !rd->streams_required_file)
            continue;
        snprintf(err, errlen, "%s file: missing required column %s", rd->spec->name, cs->name);
        return CP_ERR_FORMAT;
    }
    return CP_OK;
}

/* Decides the file-level values (kind, region, period, date) before any row is read. */
static cp_status resolve_meta(struct reader *rd, const struct cp_chart_meta *meta,
                              const struct record *header, struct cp_buf *warnings, char *err,
                              size_t errlen)
{
    bool has_streams = false, has_days = false, has_weeks = false;
    for (size_t i = 0; i < header->count; i++) {
        char name[HEADER_NAME_MAX];
        if (!normalise_name(header->field[i], name))
            continue;
        has_streams |= strcmp(name, "streams") == 0;
        has_days |= strcmp(name, "days_on_chart") == 0;
        has_weeks |= strcmp(name, "weeks_on_chart") == 0;
    }
    bool spotify = rd->spec->format == CP_FORMAT_CHARTS_SPOTIFY;

    rd->kind = NULL;
    if (meta->chart_kind[0]) {
        if (strcmp(meta->chart_kind, "regional") == 0)
            rd->kind = "regional";
        else if (strcmp(meta->chart_kind, "viral") == 0)
            rd->kind = "viral";
        else {
            snprintf(err, errlen, "chart kind: \"%s\" is not regional or viral", meta->chart_kind);
            return CP_ERR_FORMAT;
        }
    } else if (spotify && !has_streams) {
        /* charts.spotify.com's viral download is the only one without streams. */
        rd->kind = "viral";
        (void)cp_buf_addf(warnings, "%sno streams column: read as a viral chart",
                          warnings->len ? "; " : "");
    } else if (rd->spec->format != CP_FORMAT_KAGGLE_CHARTS) {
        rd->kind = "regional";
    }
    rd->streams_required_file = !(rd->kind && strcmp(rd->kind, "viral") == 0);

    if (meta->period[0]) {
        if (strcmp(meta->period, "daily") == 0)
            rd->period = "daily";
        else if (strcmp(meta->period, "weekly") == 0)
            rd->period = "weekly";
        else {
            snprintf(err, errlen, "period: \"%s\" is not daily or weekly", meta->period);
            return CP_ERR_FORMAT;
        }
    } else {
        rd->period = spotify && has_weeks && !has_days ? "weekly" : "daily";
    }
    if (spotify && strcmp(rd->period, "weekly") == 0 && has_days && !has_weeks)
        (void)cp_buf_addf(warnings, "%sa weekly chart with a days_on_chart column",
                          warnings->len ? "; " : "");
    if (spotify && strcmp(rd->period, "daily") == 0 && has_weeks && !has_days)
        (void)cp_buf_addf(warnings, "%sa daily chart with a weeks_on_chart column",
                          warnings->len ? "; " : "");

    rd->region = NULL;
    if (meta->region[0]) {
        rd->region = cp_region_from_name(meta->region);
        if (!rd->region) {
            snprintf(err, errlen, "region: \"%s\" is not a known region", meta->region);
            return CP_ERR_FORMAT;
        }
    } else if (!rd->spec->per_row_meta) {
        snprintf(err, errlen, "region not known: pass --region");
        return CP_ERR_FORMAT;
    }

    rd->date = NULL;
    if (meta->chart_date[0]) {
        if (!cp_date_valid(meta->chart_date)) {
            snprintf(err, errlen, "date: \"%s\" is not a valid date", meta->chart_date);
            return CP_ERR_FORMAT;
        }
        rd->date = meta->chart_date;
    } else if (!rd->spec->per_row_meta) {
        snprintf(err, errlen, "date not known: pass --date");
        return CP_ERR_FORMAT;
    }
    return CP_OK;
}

/* Finds and checks the header and decides the file-level values: everything before the
 * first data row. On success the cursor stands on the header. */
static cp_status begin_read(struct reader *rd, struct cursor *c, const char *data, size_t len,
                            const struct cp_chart_meta *meta, struct cp_buf *notes, char *err,
                            size_t errlen)
{
    size_t first_start, first_end;
    enum cp_chart_format detected = find_header(c, &first_start, &first_end);
    enum cp_chart_format format = meta->format != CP_FORMAT_UNKNOWN ? meta->format : detected;
    rd->spec = spec_for(format);
    if (first_end == first_start && detected == CP_FORMAT_UNKNOWN) {
        snprintf(err, errlen, "empty file: no header line");
        return CP_ERR_FORMAT;
    }
    if (!rd->spec) {
        char shown_header[HEADER_SHOWN_MAX + 4];
        printable(data + first_start, first_end - first_start, shown_header);
        snprintf(err, errlen, "unknown header: \"%s\" is not a chart format chartpulse reads",
                 shown_header);
        return CP_ERR_FORMAT;
    }
    if (detected == CP_FORMAT_UNKNOWN) {
        /* A forced format on a header we do not recognise: its first line is the header. */
        cursor_cleanup(c);
        cursor_init(c, data, len);
        (void)cursor_next(c);
    }
    cp_status st = resolve_meta(rd, meta, &c->rec, notes, err, errlen);
    if (st == CP_OK)
        st = map_columns(rd, &c->rec, notes, err, errlen);
    return st;
}

static void reader_init(struct reader *rd)
{
    memset(rd, 0, sizeof *rd);
    rd->ranks.last = -1;
    cp_buf_init(&rd->raw, CP_CHART_REJECT_RAW_MAX);
}

static void reader_cleanup(struct reader *rd)
{
    free(rd->ranks.slots);
    free(rd->fields);
    cp_buf_free(&rd->raw);
}

/* A file with a header and nothing else is not a chart: loading it would record a chart
 * of no entries as if the download had worked. */
static cp_status no_data_rows(char *err, size_t errlen)
{
    snprintf(err, errlen, "no data rows: the file holds a header line only");
    return CP_ERR_FORMAT;
}

cp_status cp_chart_resolve(const char *data, size_t len, struct cp_chart_meta *meta, char *err,
                           size_t errlen)
{
    struct reader rd;
    reader_init(&rd);
    struct cp_buf notes;
    cp_buf_init(&notes, WARNINGS_MAX);
    struct cursor c;
    cursor_init(&c, data, len);
    cp_status st = begin_read(&rd, &c, data, len, meta, &notes, err, errlen);
    if (st == CP_OK && !cursor_next(&c))
        st = no_data_rows(err, errlen);
    if (st == CP_OK) {
        meta->format = rd.spec->format;
        if (rd.kind)
            snprintf(meta->chart_kind, sizeof meta->chart_kind, "%s", rd.kind);
        if (rd.period)
            snprintf(meta->period, sizeof meta->period, "%s", rd.period);
        if (rd.region)
            snprintf(meta->region, sizeof meta->region, "%s", rd.region);
    }
    cp_buf_free(&notes);
    reader_cleanup(&rd);
    cursor_cleanup(&c);
    return st;
}

cp_status cp_chart_read(const char *data, size_t len, const struct cp_chart_meta *meta,
                        cp_chart_row_fn on_row, cp_chart_reject_fn on_reject, void *ud,
                        char **warnings, char *err, size_t errlen)
{
    if (warnings)
        *warnings = NULL;
    struct reader rd;
    reader_init(&rd);
    struct cp_buf notes;
    cp_buf_init(&notes, WARNINGS_MAX);
    struct cursor c;
    cursor_init(&c, data, len);

    cp_status st = begin_read(&rd, &c, data, len, meta, &notes, err, errlen);
    if (st != CP_OK)
        goto out;

    size_t records = 0;
    while (cursor_next(&c)) {
        records++;
        struct cp_chart_row row;
        row.line_no = c.rec_line;
        row.raw_offset = c.rec_start;
        row.raw_len = c.rec_end - c.rec_start;
        bool good = validate_row(&rd, &c.rec, &row);
        if (c.rec_unterminated) {
            /* The row swallowed the rest of the file: its cells mean nothing. */
            snprintf(rd.reason, sizeof rd.reason, "unterminated quoted field");
            good = false;
        }
        if (good) {
            if (on_row)
                on_row(&row, ud);
        } else if (on_reject) {
            on_reject(c.rec_line, raw_text(&rd, &c), rd.reason, ud);
        }
    }
    if (!records) {
        st = no_data_rows(err, errlen);
        goto out;
    }
    if (warnings && notes.len)
        *warnings = cp_buf_take(&notes, NULL);

out:
    cp_buf_free(&notes);
    reader_cleanup(&rd);
    cursor_cleanup(&c);
    return st;
}
