/* The synthetic chart generator: determinism, the exact charts.spotify.com and Kaggle
 * formats, the same charts in both, and chart-run columns that agree with the history
 * recomputed here from the files alone. */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <csv.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/series.h"
#include "pipeline/chart_csv.h"
#include "pipeline/generate.h"
#include "tests/testutil.h"

/* Check records every ck_assert (a write to its pipe); rows are checked by the hundred
 * thousand, so hot loops test first and call Check only to fail. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* ---- temporary directories ---------------------------------------------------------- */

static char *make_temp_dir(void)
{
    char *dir = cp_strdup("/tmp/cp_test_generate_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

/* Output directories are flat; remove their files, then the directory. */
static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *path = cp_asprintf("%s/%s", dir, e->d_name);
            unlink(path);
            free(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted file names of dir; caller frees each and the array. */
static char **list_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = cp_realloc(names, cap * sizeof *names);
        }
        names[n++] = cp_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- dates ------------------------------------------------------------------------------ */

static long day_of(const char *date)
{
    struct tm tm = {0};
    ck_assert_int_eq(sscanf(date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long)(timegm(&tm) / 86400);
}

static void date_of(long day, char out[11])
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static bool is_thursday(long day)
{
    return ((day % 7) + 7) % 7 == 0; /* 1970-01-01 was a Thursday */
}

/* ---- reading a chart file ------------------------------------------------------------- */

struct row {
    int rank;
    char id[23];
    char *artists, *title, *label;
    int peak, prev, count;
    long long streams;
};

struct chart {
    struct row *rows;
    size_t n;
};

struct parse_ctx {
    char *fields[16];
    int nfields;
    struct chart *chart;
    size_t cap;
    bool header_seen;
    bool weekly;
};

static void on_field(void *s, size_t len, void *ud)
{
    struct parse_ctx *c = ud;
    EXPECT(c->nfields < 16, "too many fields");
    c->fields[c->nfields++] = cp_strndup(s, len);
}

static long long to_ll(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    EXPECT(*s && *end == '\0', "not an integer: '%s'", s);
    return v;
}

static void on_row(int term, void *ud)
{
    (void)term;
    struct parse_ctx *c = ud;
    EXPECT(c->nfields == 9, "%d fields", c->nfields);
    if (!c->header_seen) {
        static const char *daily[] = {"rank",          "uri",           "artist_names",
                                      "track_name",    "source",        "peak_rank",
                                      "previous_rank", "days_on_chart", "streams"};
        for (int i = 0; i < 9; i++)
            EXPECT(strcmp(c->fields[i], i == 7 && c->weekly ? "weeks_on_chart" : daily[i]) == 0,
                   "header field %d: %s", i, c->fields[i]);
        c->header_seen = true;
    } else {
        struct chart *ch = c->chart;
        if (ch->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 256;
            ch->rows = cp_realloc(ch->rows, c->cap * sizeof *ch->rows);
        }
        struct row *r = &ch->rows[ch->n++];
        r->rank = (int)to_ll(c->fields[0]);
        EXPECT(strncmp(c->fields[1], "spotify:track:", 14) == 0, "uri %s", c->fields[1]);
        EXPECT(strlen(c->fields[1] + 14) == 22, "uri %s", c->fields[1]);
        for (const char *p = c->fields[1] + 14; *p; p++)
            EXPECT(isalnum((unsigned char)*p), "uri %s", c->fields[1]);
        memcpy(r->id, c->fields[1] + 14, 23);
        r->artists = c->fields[2];
        r->title = c->fields[3];
        r->label = c->fields[4];
        c->fields[2] = c->fields[3] = c->fields[4] = NULL;
        r->peak = (int)to_ll(c->fields[5]);
        r->prev = (int)to_ll(c->fields[6]);
        r->count = (int)to_ll(c->fields[7]);
        r->streams = to_ll(c->fields[8]);
    }
    for (int i = 0; i < c->nfields; i++)
        free(c->fields[i]);
    c->nfields = 0;
}

/* The exact quoting of a data line: rank, peak, previous and count bare (optionally
 * negative integers), uri, artists, title, source and streams quoted with "" escapes. */
static bool line_quoting_ok(const char *line, size_t len)
{
    static const bool quoted[9] = {false, true, true, true, true, false, false, false, true};
    size_t pos = 0;
    for (int f = 0; f < 9; f++) {
        if (quoted[f]) {
            if (pos >= len || line[pos] != '"')
                return false;
            pos++;
            for (;;) {
                if (pos >= len)
                    return false;
                if (line[pos] == '"') {
                    if (pos + 1 < len && line[pos + 1] == '"') {
                        pos += 2;
                        continue;
                    }
                    pos++;
                    break;
                }
                pos++;
            }
        } else {
            size_t start = pos;
            if (pos < len && line[pos] == '-')
                pos++;
            while (pos < len && isdigit((unsigned char)line[pos]))
                pos++;
            if (pos == start || (line[start] == '-' && pos == start + 1))
                return false;
        }
        if (f < 8) {
            if (pos >= len || line[pos] != ',')
                return false;
            pos++;
        }
    }
    return pos == len;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (n == 0 || i + n > len || (n == 2 && c < 0xc2))
            return false;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

/* Reads and checks one chart file's format; returns its rows. */
static struct chart read_chart(const char *dir, const char *name, bool weekly)
{
    char *path = cp_asprintf("%s/%s", dir, name);
    size_t len;
    char *data = tu_read_file(path, &len);
    EXPECT(len > 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0, "%s: no BOM", name);
    EXPECT(memchr(data, '\r', len) == NULL, "%s: CR in file", name);
    EXPECT(data[len - 1] == '\n', "%s: no final LF", name);
    EXPECT(valid_utf8((unsigned char *)data, len), "%s: invalid UTF-8", name);
    const char *header = weekly ? "rank,uri,artist_names,track_name,source,peak_rank,"
                                  "previous_rank,weeks_on_chart,streams\n"
                                : "rank,uri,artist_names,track_name,source,peak_rank,"
                                  "previous_rank,days_on_chart,streams\n";
    EXPECT(strncmp(data + 3, header, strlen(header)) == 0, "%s: header", name);
    size_t lines = 0;
    for (const char *p = data + 3 + strlen(header); p < data + len;) {
        const char *nl = memchr(p, '\n', (size_t)(data + len - p));
        EXPECT(nl != NULL, "%s: unterminated line", name);
        EXPECT(line_quoting_ok(p, (size_t)(nl - p)), "%s: quoting of line %.*s", name,
               (int)(nl - p), p);
        lines++;
        p = nl + 1;
    }

    struct chart chart = {NULL, 0};
    struct parse_ctx ctx = {.chart = &chart, .weekly = weekly};
    struct csv_parser parser;
    ck_assert_int_eq(csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL), 0);
    ck_assert_uint_eq(csv_parse(&parser, data + 3, len - 3, on_field, on_row, &ctx), len - 3);
    ck_assert_int_eq(csv_fini(&parser, on_field, on_row, &ctx), 0);
    csv_free(&parser);
    ck_assert(ctx.header_seen);
    ck_assert_uint_eq(chart.n, lines);
    free(data);
    free(path);
    return chart;
}

static void free_chart(struct chart *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->rows[i].artists);
        free(c->rows[i].title);
        free(c->rows[i].label);
    }
    free(c->rows);
}

/* ---- chart-run history recomputed from the files -------------------------------------- */

struct history {
    char id[23];
    int peak, count, last_rank;
    long last_seq;
    long long week_sum; /* scratch for the weekly check */
};

struct history_map {
    struct history *slots;
    size_t cap, used;
};

static void map_init(struct history_map *m)
{
    m->cap = 1 << 14;
    m->used = 0;
    m->slots = cp_calloc(m->cap, sizeof *m->slots);
}

static struct history *map_get(struct history_map *m, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct history *s = &m->slots[i];
        if (s->id[0] == '\0') {
            EXPECT(m->used * 2 < m->cap, "history map full");
            memcpy(s->id, id, 23);
            s->peak = 0;
            s->last_seq = -100;
            m->used++;
            return s;
        }
        if (strcmp(s->id, id) == 0)
            return s;
    }
}

static void map_free(struct history_map *m)
{
    free(m->slots);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const struct row *)a)->id, ((const struct row *)b)->id);
}

/* Ranks 1..n in order, each track once, streams non-increasing. */
static void check_chart_shape(const struct chart *c, const char *name, size_t chart_size)
{
    EXPECT(c->n == chart_size, "%s: %zu rows", name, c->n);
    for (size_t i = 0; i < c->n; i++) {
        EXPECT(c->rows[i].rank == (int)i + 1, "%s: rank %d at row %zu", name, c->rows[i].rank,
               i + 1);
        EXPECT(c->rows[i].streams >= 1, "%s: streams", name);
        if (i > 0)
            EXPECT(c->rows[i].streams <= c->rows[i - 1].streams, "%s: streams rise at rank %zu",
                   name, i + 1);
    }
    struct row *sorted = cp_malloc(c->n * sizeof *sorted);
    memcpy(sorted, c->rows, c->n * sizeof *sorted);
    qsort(sorted, c->n, sizeof *sorted, cmp_id);
    for (size_t i = 1; i < c->n; i++)
        EXPECT(strcmp(sorted[i - 1].id, sorted[i].id) != 0, "%s: %s twice", name, sorted[i].id);
    free(sorted);
}

/* Checks one chart's peak/previous/count against the history and advances it. seq is the
 * chart's position in the series (day or week number). Counts new and re-entries. */
static void check_chart_runs(struct history_map *m, const struct chart *c, long seq,
                             const char *name, long *new_entries, long *re_entries)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct row *r = &c->rows[i];
        struct history *h = map_get(m, r->id);
        int expect_prev = h->last_seq == seq - 1 ? h->last_rank : -1;
        int expect_peak = h->count == 0 || r->rank < h->peak ? r->rank : h->peak;
        EXPECT(r->prev == expect_prev, "%s rank %d: previous_rank %d, history says %d", name,
               r->rank, r->prev, expect_prev);
        EXPECT(r->peak == expect_peak, "%s rank %d: peak_rank %d, history says %d", name, r->rank,
               r->peak, expect_peak);
        EXPECT(r->count == h->count + 1, "%s rank %d: on_chart %d, history says %d", name, r->rank,
               r->count, h->count + 1);
        if (r->prev == -1 && h->count == 0)
            (*new_entries)++;
        else if (r->prev == -1)
            (*re_entries)++;
        h->peak = expect_peak;
        h->count++;
    }
    for (size_t i = 0; i < c->n; i++) {
        struct history *h = map_get(m, c->rows[i].id);
        h->last_rank = c->rows[i].rank;
        h->last_seq = seq;
    }
}

/* ---- generating ----------------------------------------------------------------------- */

static struct cp_generate_opts small_opts(const char *dir)
{
    struct cp_generate_opts o;
    cp_generate_opts_init(&o);
    o.out_dir = dir;
    o.regions = 3;
    o.days = 20;
    o.end_date = "2024-03-10";
    o.seed = 42;
    o.chart_size = 50;
    o.weekly = true;
    return o;
}

static long long generate_ok(const struct cp_generate_opts *o)
{
    char err[256] = "";
    long long rows = -1;
    cp_status st = cp_generate(o, &rows, err, sizeof err);
    ck_assert_msg(st == CP_OK, "cp_generate: %s", err);
    return rows;
}

static bool files_equal(const char *dir_a, const char *dir_b, const char *name)
{
    char *pa = cp_asprintf("%s/%s", dir_a, name), *pb = cp_asprintf("%s/%s", dir_b, name);
    size_t la, lb;
    char *a = tu_read_file(pa, &la), *b = tu_read_file(pb, &lb);
    bool same = la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    free(pa);
    free(pb);
    return same;
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(same_seed_same_bytes)
{
    char *a = make_temp_dir(), *b = make_temp_dir(), *c = make_temp_dir();
    struct cp_generate_opts o = small_opts(a);
    long long rows = generate_ok(&o);
    o.out_dir = b;
    ck_assert_int_eq(generate_ok(&o), rows);
    o.out_dir = c;
    o.seed = 43;
    generate_ok(&o);

    size_t na, nb, nc;
    char **la = list_dir(a, &na), **lb = list_dir(b, &nb), **lc = list_dir(c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_eq(na, nc);
    size_t differing = 0;
    for (size_t i = 0; i < na; i++) {
        ck_assert_str_eq(la[i], lb[i]);
        ck_assert_msg(files_equal(a, b, la[i]), "%s differs between identical runs", la[i]);
        if (!files_equal(a, c, la[i]))
            differing++;
    }
    ck_assert_msg(differing == na, "only %zu of %zu files change with the seed", differing, na);
    free_list(la, na);
    free_list(lb, nb);
    free_list(lc, nc);
    remove_dir(a);
    remove_dir(b);
    remove_dir(c);
}
END_TEST

struct progress_log {
    long calls, last_done, total;
    long long last_rows;
};

static void record_progress(long done, long total, long long rows, void *ud)
{
    struct progress_log *p = ud;
    ck_assert_int_eq(done, p->last_done + 1);
    ck_assert(rows > p->last_rows);
    p->calls++;
    p->last_done = done;
    p->total = total;
    p->last_rows = rows;
}

START_TEST(file_names_and_count)
{
    char *dir = make_temp_dir();
    struct cp_generate_opts o = small_opts(dir);
    struct progress_log log = {0, 0, 0, 0};
    o.progress = record_progress;
    o.progress_ud = &log;
    long long rows = generate_ok(&o);

    static const char *regions[] = {"global", "us", "gb"};
    long last = day_of("2024-03-10"), first = last - 19;
    size_t expected = 0;
    for (size_t r = 0; r < 3; r++)
        for (long d = first; d <= last; d++) {
            char date[11], name[64];
            date_of(d, date);
            snprintf(name, sizeof name, "regional-%s-daily-%s.csv", regions[r], date);
            char *path = cp_asprintf("%s/%s", dir, name);
            ck_assert_msg(access(path, R_OK) == 0, "missing %s", name);
            free(path);
            expected++;
            if (is_thursday(d) && d - 6 >= first) {
                snprintf(name, sizeof name, "regional-%s-weekly-%s.csv", regions[r], date);
                path = cp_asprintf("%s/%s", dir, name);
                ck_assert_msg(access(path, R_OK) == 0, "missing %s", name);
                free(path);
                expected++;
            }
        }
    size_t n;
    char **names = list_dir(dir, &n);
    ck_assert_uint_eq(n, expected);
    ck_assert_uint_eq(expected, 3 * (20 + 2)); /* 2024-02-20..03-10 holds two full weeks */
    free_list(names, n);
    ck_assert_int_eq(rows, (long long)expected * 50);
    ck_assert_int_eq(log.calls, (long)expected);
    ck_assert_int_eq(log.total, (long)expected);
    ck_assert_int_eq(log.last_rows, rows);
    remove_dir(dir);
}
END_TEST

START_TEST(format_and_text)
{
    char *dir = make_temp_dir();
    struct cp_generate_opts o = small_opts(dir);
    o.regions = 8;
    o.days = 30;
    o.chart_size = 200;
    o.weekly = false;
    generate_ok(&o);
    size_t n;
    char **names = list_dir(dir, &n);
    bool comma_in_name = false, quote_in_text = false, feat = false, non_ascii = false,
         multi_artist = false, comma_in_title = false, hangul_or_kana = false;
    for (size_t i = 0; i < n; i++) {
        struct chart c = read_chart(dir, names[i], false);
        check_chart_shape(&c, names[i], 200);
        for (size_t k = 0; k < c.n; k++) {
            const struct row *r = &c.rows[k];
            comma_in_name |= strstr(r->artists, "Tyler, The Creator") != NULL;
            quote_in_text |= strchr(r->title, '"') || strchr(r->artists, '"');
            feat |= strstr(r->title, "(feat. ") != NULL;
            comma_in_title |= strchr(r->title, ',') != NULL;
            multi_artist |= strstr(r->artists, ", ") != NULL;
            for (const unsigned char *p = (const unsigned char *)r->artists; *p; p++)
                non_ascii |= *p >= 0x80;
            /* Hangul syllables start with EA..ED, Japanese kana with E3 81..83 */
            hangul_or_kana |= strstr(r->artists, "\xEB") || strstr(r->title, "\xE3\x81");
            EXPECT(r->label[0] != '\0', "%s: empty label", names[i]);
        }
        free_chart(&c);
    }
    EXPECT(comma_in_name, "no artist name with a comma");
    EXPECT(quote_in_text, "no text with a quote");
    EXPECT(feat, "no (feat. X) title");
    EXPECT(comma_in_title, "no title with a comma");
    EXPECT(multi_artist, "no multi-artist credit");
    EXPECT(non_ascii, "no non-ASCII artist");
    EXPECT(hangul_or_kana, "no Hangul or Japanese text");
    free_list(names, n);
    remove_dir(dir);
}
END_TEST

/* Region codes: global first, then real codes of core.region, each once. */
START_TEST(all_regions_are_real)
{
    char *dir = make_temp_dir();
    struct cp_generate_opts o = small_opts(dir);
    o.regions = CP_GENERATE_MAX_REGIONS;
    o.days = 1;
    o.chart_size = 5;
    o.weekly = false;
    generate_ok(&o);
    char *migration =
        cp_asprintf("%s/db/migrations/0001_core.sql", tu_env("CHARTPULSE_SOURCE_DIR", "."));
    size_t len;
    char *sql = tu_read_file(migration, &len);
    size_t n;
    char **names = list_dir(dir, &n);
    ck_assert_uint_eq(n, CP_GENERATE_MAX_REGIONS);
    for (size_t i = 0; i < n; i++) {
        char code[16];
        ck_assert_int_eq(sscanf(names[i], "regional-%15[a-z]-daily-", code), 1);
        char *needle = cp_asprintf("('%s','", code);
        ck_assert_msg(strstr(sql, needle) != NULL, "%s is not in core.region", code);
        free(needle);
    }
    free_list(names, n);
    free(sql);
    free(migration);
    remove_dir(dir);

    dir = make_temp_dir();
    o.out_dir = dir;
    o.regions = 1;
    generate_ok(&o);
    names = list_dir(dir, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "regional-global-daily-2024-03-10.csv");
    free_list(names, n);
    remove_dir(dir);
}
END_TEST

/* A long run: every chart-run column agrees with the files, and the dynamics the loader and
 * the analytics care about (new entries, re-entries, long runs) occur. */
START_TEST(history_is_consistent)
{
    char *dir = make_temp_dir();
    struct cp_generate_opts o = small_opts(dir);
    o.regions = 2;
    o.days = 400;
    o.end_date = "2025-02-28"; /* includes a December */
    o.chart_size = 40;
    o.weekly = false;
    generate_ok(&o);
    static const char *regions[] = {"global", "us"};
    long last = day_of("2025-02-28");
    for (int r = 0; r < 2; r++) {
        struct history_map m;
        map_init(&m);
        long new_entries = 0, re_entries = 0, longest = 0;
        long long first_rank1 = 0;
        for (long d = last - 399; d <= last; d++) {
            char date[11], name[64];
            date_of(d, date);
            snprintf(name, sizeof name, "regional-%s-daily-%s.csv", regions[r], date);
            struct chart c = read_chart(dir, name, false);
            check_chart_shape(&c, name, 40);
            long before_new = new_entries;
            check_chart_runs(&m, &c, d, name, &new_entries, &re_entries);
            if (d == last - 399) {
                ck_assert_int_eq(new_entries - before_new, 40); /* all new on the first day */
                first_rank1 = c.rows[0].streams;
            }
            for (size_t k = 0; k < c.n; k++)
                if (c.rows[k].count > longest)
                    longest = c.rows[k].count;
            free_chart(&c);
        }
        new_entries -= 40;
        EXPECT(new_entries > 100, "%s: only %ld new entries", regions[r], new_entries);
        EXPECT(re_entries > 50, "%s: only %ld re-entries", regions[r], re_entries);
        EXPECT(longest >= 300, "%s: longest run %ld days", regions[r], longest);
        if (r == 0)
            EXPECT(first_rank1 > 1000000, "global #1 has %lld streams", first_rank1);
        map_free(&m);
    }
    remove_dir(dir);
}
END_TEST

/* Weekly charts: dated Thursdays, streams = the week's daily streams, own chart runs. */
START_TEST(weekly_sums_daily)
{
    char *dir = make_temp_dir();
    struct cp_generate_opts o = small_opts(dir);
    o.regions = 2;
    o.days = 45;
    o.chart_size = 30;
    generate_ok(&o);
    static const char *regions[] = {"global", "us"};
    long last = day_of("2024-03-10"), first = last - 44;
    for (int r = 0; r < 2; r++) {
        struct history_map weeks, sums;
        map_init(&weeks);
        long weekly_files = 0, unused_new = 0, unused_re = 0;
        for (long thu = first + 6; thu <= last; thu++) {
            if (!is_thursday(thu))
                continue;
            map_init(&sums);
            for (long d = thu - 6; d <= thu; d++) {
                char date[11], name[64];
                date_of(d, date);
                snprintf(name, sizeof name, "regional-%s-daily-%s.csv", regions[r], date);
                struct chart c = read_chart(dir, name, false);
                for (size_t k = 0; k < c.n; k++)
                    map_get(&sums, c.rows[k].id)->week_sum += c.rows[k].streams;
                free_chart(&c);
            }
            char date[11], name[64];
            date_of(thu, date);
            snprintf(name, sizeof name, "regional-%s-weekly-%s.csv", regions[r], date);
            struct chart w = read_chart(dir, name, true);
            check_chart_shape(&w, name, 30);
            long long lowest = w.rows[w.n - 1].streams;
            for (size_t k = 0; k < w.n; k++)
                EXPECT(map_get(&sums, w.rows[k].id)->week_sum == w.rows[k].streams,
                       "%s rank %zu: weekly streams are not the daily sum", name, k + 1);
            /* and nothing left off the weekly chart streamed more than its last entry */
            for (size_t s = 0; s < sums.cap; s++)
                if (sums.slots[s].id[0]) {
                    bool listed = false;
                    for (size_t k = 0; k < w.n && !listed; k++)
                        listed = strcmp(w.rows[k].id, sums.slots[s].id) == 0;
                    EXPECT(listed || sums.slots[s].week_sum <= lowest,
                           "%s: %s left off with %lld streams", name, sums.slots[s].id,
                           sums.slots[s].week_sum);
                }
            check_chart_runs(&weeks, &w, thu / 7, name, &unused_new, &unused_re);
            free_chart(&w);
            map_free(&sums);
            weekly_files++;
        }
        ck_assert_int_eq(weekly_files, 6);
        map_free(&weeks);
    }
    /* no weekly file for a date that is not a Thursday or a week not fully generated */
    size_t n;
    char **names = list_dir(dir, &n);
    for (size_t i = 0; i < n; i++) {
        const char *w = strstr(names[i], "-weekly-");
        if (!w)
            continue;
        char date[11];
        memcpy(date, w + 8, 10);
        date[10] = '\0';
        long d = day_of(date);
        EXPECT(is_thursday(d) && d - 6 >= first && d <= last, "%s", names[i]);
    }
    free_list(names, n);
    remove_dir(dir);
}
END_TEST

/* ---- the Kaggle format ------------------------------------------------------------------ */

enum kcol { K_TITLE, K_RANK, K_DATE, K_ARTIST, K_URL, K_REGION, K_CHART, K_TREND, K_STREAMS };

struct krow {
    char *field[9];
};

struct kfile {
    struct krow *rows;
    size_t n, cap;
    char *cur[9];
    int nfields;
    bool header_seen;
    struct cp_buf *rebuilt; /* the file written back with minimal quoting, to compare */
};

static void k_on_field(void *s, size_t len, void *ud)
{
    struct kfile *k = ud;
    EXPECT(k->nfields < 9, "too many fields");
    k->cur[k->nfields++] = cp_strndup(s, len);
}

/* Appends a field quoted only when RFC 4180 needs it, as the generator must have. */
static void add_minimal(struct cp_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        cp_buf_adds(b, s);
        return;
    }
    cp_buf_adds(b, "\"");
    for (const char *p = s; *p; p++) {
        cp_buf_add(b, p, 1);
        if (*p == '"')
            cp_buf_adds(b, "\"");
    }
    cp_buf_adds(b, "\"");
}

static void k_on_row(int term, void *ud)
{
    (void)term;
    struct kfile *k = ud;
    EXPECT(k->nfields == 9, "%d fields", k->nfields);
    for (int i = 0; i < 9; i++) {
        if (i)
            cp_buf_adds(k->rebuilt, ",");
        add_minimal(k->rebuilt, k->cur[i]);
    }
    cp_buf_adds(k->rebuilt, "\r\n");
    if (!k->header_seen) {
        for (int i = 0; i < 9; i++)
            free(k->cur[i]);
        k->header_seen = true;
    } else {
        if (k->n == k->cap) {
            k->cap = k->cap ? k->cap * 2 : 1024;
            k->rows = cp_realloc(k->rows, k->cap * sizeof *k->rows);
        }
        memcpy(k->rows[k->n++].field, k->cur, sizeof k->cur);
    }
    k->nfields = 0;
}

/* Reads a generated Kaggle file and checks its bytes: header, no BOM, CRLF only, UTF-8,
 * and quoting exactly where needed (the file equals its fields written back minimally). */
static struct kfile read_kaggle(const char *dir, const char *name)
{
    char *path = cp_asprintf("%s/%s", dir, name);
    size_t len;
    char *data = tu_read_file(path, &len);
    static const char header[] = "title,rank,date,artist,url,region,chart,trend,streams\r\n";
    EXPECT(len >= sizeof header - 1 && memcmp(data, header, sizeof header - 1) == 0, "%s: header",
           name);
    for (size_t i = 0; i < len; i++)
        EXPECT(data[i] != '\n' || (i > 0 && data[i - 1] == '\r'), "%s: bare LF at %zu", name, i);
    EXPECT(data[len - 1] == '\n', "%s: no final line ending", name);
    EXPECT(valid_utf8((unsigned char *)data, len), "%s: invalid UTF-8", name);

    struct cp_buf rebuilt;
    cp_buf_init(&rebuilt, TU_FILE_MAX);
    struct kfile k = {.rebuilt = &rebuilt};
    struct csv_parser parser;
    ck_assert_int_eq(csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL), 0);
    ck_assert_uint_eq(csv_parse(&parser, data, len, k_on_field, k_on_row, &k), len);
    ck_assert_int_eq(csv_fini(&parser, k_on_field, k_on_row, &k), 0);
    csv_free(&parser);
    EXPECT(rebuilt.len == len && memcmp(rebuilt.data, data, len) == 0,
           "%s: quoting is not minimal RFC 4180", name);
    cp_buf_free(&rebuilt);
    free(data);
    free(path);
    return k;
}

static void free_kaggle(struct kfile *k)
{
    for (size_t i = 0; i < k->n; i++)
        for (int f = 0; f < 9; f++)
            free(k->rows[i].field[f]);
    free(k->rows);
}

static const char *expected_trend(int prev, int rank)
{
    return prev < 0      ? "NEW_ENTRY"
           : prev > rank ? "MOVE_UP"
           : prev < rank ? "MOVE_DOWN"
                         : "SAME_POSITION";
}

/* The spotify format's daily files and the kaggle files of the same options hold the same
 * charts: every row, field by field, with trend following from previous_rank. */
START_TEST(kaggle_same_charts_as_spotify)
{
    char *sdir = make_temp_dir(), *kdir = make_temp_dir();
    struct cp_generate_opts o = small_opts(sdir);
    o.days = 14;
    o.end_date = "2024-01-06"; /* spans a new year: two files per region */
    o.weekly = false;
    long long spotify_rows = generate_ok(&o);
    o.out_dir = kdir;
    o.format = CP_GENERATE_KAGGLE;
    o.weekly = true; /* ignored: the kaggle format has no weekly charts */
    struct progress_log log = {0, 0, 0, 0};
    o.progress = record_progress;
    o.progress_ud = &log;
    ck_assert_int_eq(generate_ok(&o), spotify_rows);

    size_t n;
    char **names = list_dir(kdir, &n);
    static const char *codes[] = {"gb", "global", "us"}; /* sorted like the names */
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(log.calls, 6);
    ck_assert_int_eq(log.total, 6);
    ck_assert_int_eq(log.last_rows, spotify_rows);
    long long kaggle_rows = 0;
    for (size_t f = 0; f < n; f++) {
        const char *code = codes[f % 3]; /* names sort year first */
        int year = f < 3 ? 2023 : 2024;
        char expected_name[64];
        snprintf(expected_name, sizeof expected_name, "kaggle-charts-%d-%s.csv", year, code);
        ck_assert_str_eq(names[f], expected_name);
        struct kfile k = read_kaggle(kdir, names[f]);
        kaggle_rows += (long long)k.n;
        /* 2023-12-24..31 and 2024-01-01..06, 50 ranks a day, in date then rank order */
        ck_assert_uint_eq(k.n, (size_t)(year == 2023 ? 8 : 6) * 50);
        size_t at = 0;
        long first = day_of(year == 2023 ? "2023-12-24" : "2024-01-01");
        long last = day_of(year == 2023 ? "2023-12-31" : "2024-01-06");
        for (long d = first; d <= last; d++) {
            char date[11], sname[64];
            date_of(d, date);
            snprintf(sname, sizeof sname, "regional-%s-daily-%s.csv", code, date);
            struct chart c = read_chart(sdir, sname, false);
            for (size_t i = 0; i < c.n; i++, at++) {
                const struct row *r = &c.rows[i];
                char **kf = k.rows[at].field;
                char rank[16], url[64], streams[32];
                snprintf(rank, sizeof rank, "%d", r->rank);
                snprintf(url, sizeof url, "https://open.spotify.com/track/%s", r->id);
                snprintf(streams, sizeof streams, "%lld.0", r->streams);
                EXPECT(strcmp(kf[K_RANK], rank) == 0, "%s %s: rank %s", names[f], date, kf[K_RANK]);
                EXPECT(strcmp(kf[K_DATE], date) == 0, "%s row %zu: date %s, expected %s", names[f],
                       at, kf[K_DATE], date);
                EXPECT(strcmp(kf[K_URL], url) == 0, "%s %s rank %s: url", names[f], date, rank);
                EXPECT(strcmp(kf[K_TITLE], r->title) == 0, "%s %s rank %s: title '%s' vs '%s'",
                       names[f], date, rank, kf[K_TITLE], r->title);
                EXPECT(strcmp(kf[K_ARTIST], r->artists) == 0, "%s %s rank %s: artist", names[f],
                       date, rank);
                EXPECT(strcmp(kf[K_STREAMS], streams) == 0, "%s %s rank %s: streams %s vs %s",
                       names[f], date, rank, kf[K_STREAMS], streams);
                EXPECT(strcmp(kf[K_CHART], "top200") == 0, "%s: chart %s", names[f], kf[K_CHART]);
                EXPECT(strcmp(kf[K_TREND], expected_trend(r->prev, r->rank)) == 0,
                       "%s %s rank %s: trend %s, previous_rank %d", names[f], date, rank,
                       kf[K_TREND], r->prev);
                const char *back = cp_region_from_name(kf[K_REGION]);
                EXPECT(back && strcmp(back, code) == 0, "%s: region '%s' maps to %s", names[f],
                       kf[K_REGION], back ? back : "nothing");
            }
            free_chart(&c);
        }
        ck_assert_uint_eq(at, k.n);
        free_kaggle(&k);
    }
    ck_assert_int_eq(kaggle_rows, spotify_rows);
    free_list(names, n);
    remove_dir(sdir);
    remove_dir(kdir);
}
END_TEST

START_TEST(kaggle_is_deterministic)
{
    char *a = make_temp_dir(), *b = make_temp_dir(), *c = make_temp_dir();
    struct cp_generate_opts o = small_opts(a);
    o.format = CP_GENERATE_KAGGLE;
    long long rows = generate_ok(&o);
    o.out_dir = b;
    ck_assert_int_eq(generate_ok(&o), rows);
    o.out_dir = c;
    o.seed = 43;
    generate_ok(&o);
    size_t na, nb, nc;
    char **la = list_dir(a, &na), **lb = list_dir(b, &nb), **lc = list_dir(c, &nc);
    ck_assert_uint_eq(na, 3);
    ck_assert_uint_eq(nb, na);
    ck_assert_uint_eq(nc, na);
    for (size_t i = 0; i < na; i++) {
        ck_assert_str_eq(la[i], lb[i]);
        ck_assert_msg(files_equal(a, b, la[i]), "%s differs between identical runs", la[i]);
        ck_assert_msg(!files_equal(a, c, la[i]), "%s does not change with the seed", la[i]);
    }
    free_list(la, na);
    free_list(lb, nb);
    free_list(lc, nc);
    remove_dir(a);
    remove_dir(b);
    remove_dir(c);
}
END_TEST

struct read_count {
    long rows, rejects;
    const char *region;
};

static void count_row(const struct cp_chart_row *row, void *ud)
{
    struct read_count *rc = ud;
    EXPECT(strcmp(row->region, rc->region) == 0, "row region %s, expected %s", row->region,
           rc->region);
    EXPECT(strcmp(row->chart_kind, "regional") == 0 && strcmp(row->period, "daily") == 0,
           "row is %s %s", row->chart_kind, row->period);
    EXPECT(row->streams >= 1, "streams %lld", row->streams);
    rc->rows++;
}

static void count_reject(long line_no, const char *raw, const char *reason, void *ud)
{
    struct read_count *rc = ud;
    rc->rejects++;
    ck_abort_msg("line %ld rejected (%s): %s", line_no, reason, raw);
}

/* Every region's name maps back to its code, and the loader's reader takes every row. */
START_TEST(kaggle_every_region_reads_back)
{
    char *dir = make_temp_dir();
    struct cp_generate_opts o = small_opts(dir);
    o.regions = CP_GENERATE_MAX_REGIONS;
    o.days = 2;
    o.chart_size = 5;
    o.format = CP_GENERATE_KAGGLE;
    generate_ok(&o);
    size_t n;
    char **names = list_dir(dir, &n);
    ck_assert_uint_eq(n, CP_GENERATE_MAX_REGIONS);
    for (size_t i = 0; i < n; i++) {
        char code[16];
        ck_assert_int_eq(sscanf(names[i], "kaggle-charts-2024-%15[a-z].csv", code), 1);
        char *path = cp_asprintf("%s/%s", dir, names[i]);
        size_t len;
        char *data = tu_read_file(path, &len);
        ck_assert_int_eq(cp_chart_detect(data, len), CP_FORMAT_KAGGLE_CHARTS);
        struct cp_chart_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.format = CP_FORMAT_KAGGLE_CHARTS;
        cp_chart_meta_from_filename(names[i], &meta);
        ck_assert_str_eq(meta.region, ""); /* the rows say it */
        struct read_count rc = {0, 0, code};
        char err[256] = "";
        ck_assert_msg(cp_chart_read(data, len, &meta, count_row, count_reject, &rc, NULL, err,
                                    sizeof err) == CP_OK,
                      "%s: %s", names[i], err);
        ck_assert_int_eq(rc.rows, 10);
        ck_assert_int_eq(rc.rejects, 0);
        free(data);
        free(path);
    }
    free_list(names, n);
    remove_dir(dir);
}
END_TEST

struct bad_case {
    const char *name; /* must appear in the message */
    int regions, days, chart_size;
    const char *end_date;
    const char *out_dir;
};

static const struct bad_case bad_cases[] = {
    {"regions", 0, 10, 50, "2024-01-01", "/tmp/x"},
    {"regions", CP_GENERATE_MAX_REGIONS + 1, 10, 50, "2024-01-01", "/tmp/x"},
    {"days", 3, 0, 50, "2024-01-01", "/tmp/x"},
    {"days", 3, -5, 50, "2024-01-01", "/tmp/x"},
    {"days", 3, CP_GENERATE_MAX_DAYS + 1, 50, "2024-01-01", "/tmp/x"},
    {"chart_size", 3, 10, -1, "2024-01-01", "/tmp/x"},
    {"chart_size", 3, 10, CP_GENERATE_MAX_CHART_SIZE + 1, "2024-01-01", "/tmp/x"},
    {"end_date", 3, 10, 50, "2025-13-01", "/tmp/x"},
    {"end_date", 3, 10, 50, "2025-02-30", "/tmp/x"},
    {"end_date", 3, 10, 50, "20250101", "/tmp/x"},
    {"end_date", 3, 10, 50, "2025-1-01", "/tmp/x"},
    {"end_date", 3, 10, 50, "", "/tmp/x"},
    {"out_dir", 3, 10, 50, "2024-01-01", NULL},
    {"out_dir", 3, 10, 50, "2024-01-01", ""},
};

START_TEST(bad_option_names_option)
{
    const struct bad_case *c = &bad_cases[_i];
    struct cp_generate_opts o;
    cp_generate_opts_init(&o);
    o.regions = c->regions;
    o.days = c->days;
    o.chart_size = c->chart_size;
    o.end_date = c->end_date;
    o.out_dir = c->out_dir;
    char err[256] = "";
    long long rows = -1;
    ck_assert_int_eq(cp_generate(&o, &rows, err, sizeof err), CP_ERR_INVALID);
    ck_assert_msg(strstr(err, c->name) != NULL, "error '%s' does not name %s", err, c->name);
    ck_assert_int_eq(rows, 0);
}
END_TEST

START_TEST(bad_format_names_format)
{
    struct cp_generate_opts o = small_opts("/tmp/cp_test_generate_never");
    o.format = (enum cp_generate_format)7;
    char err[256] = "";
    ck_assert_int_eq(cp_generate(&o, NULL, err, sizeof err), CP_ERR_INVALID);
    ck_assert_msg(strstr(err, "format") != NULL, "error '%s' does not name format", err);
    ck_assert_int_ne(access("/tmp/cp_test_generate_never", F_OK), 0);
}
END_TEST

START_TEST(unwritable_dir_is_io_error)
{
    struct cp_generate_opts o = small_opts("/dev/null/charts");
    char err[256] = "";
    ck_assert_int_eq(cp_generate(&o, NULL, err, sizeof err), CP_ERR_IO);
    ck_assert(strstr(err, "/dev/null") != NULL);
}
END_TEST

START_TEST(default_end_is_yesterday)
{
    char *dir = make_temp_dir();
    char *nested = cp_asprintf("%s/a/b", dir); /* parents are created */
    struct cp_generate_opts o = small_opts(nested);
    o.end_date = NULL;
    o.days = 1;
    o.regions = 1;
    o.chart_size = 0; /* the default, 200 */
    long before = (long)(time(NULL) / 86400) - 1;
    long long rows = generate_ok(&o);
    long after = (long)(time(NULL) / 86400) - 1;
    ck_assert_int_eq(rows, 200);
    size_t n;
    char **names = list_dir(nested, &n);
    ck_assert_uint_eq(n, 1);
    char d1[11], d2[11], e1[64], e2[64];
    date_of(before, d1);
    date_of(after, d2);
    snprintf(e1, sizeof e1, "regional-global-daily-%s.csv", d1);
    snprintf(e2, sizeof e2, "regional-global-daily-%s.csv", d2);
    ck_assert_msg(strcmp(names[0], e1) == 0 || strcmp(names[0], e2) == 0, "%s", names[0]);
    free_list(names, n);
    char *a = cp_asprintf("%s/a", dir);
    remove_dir(nested);
    remove_dir(a);
    remove_dir(dir);
}
END_TEST

/* Runs cp_generate_main with stdout/stderr captured; returns the exit status. */
static int run_cli(const char *const *args, int argc, char *err_out, size_t errlen)
{
    char **argv = cp_calloc((size_t)argc + 1, sizeof *argv);
    for (int i = 0; i < argc; i++)
        argv[i] = cp_strdup(args[i]);
    fflush(stdout);
    fflush(stderr);
    FILE *err_file = tmpfile(), *out_file = tmpfile();
    int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
    dup2(fileno(err_file), STDERR_FILENO);
    dup2(fileno(out_file), STDOUT_FILENO);
    int status = cp_generate_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_err, STDERR_FILENO);
    dup2(saved_out, STDOUT_FILENO);
    close(saved_err);
    close(saved_out);
    rewind(err_file);
    size_t n = fread(err_out, 1, errlen - 1, err_file);
    err_out[n] = '\0';
    fclose(err_file);
    fclose(out_file);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    return status;
}

struct cli_bad_case {
    const char *flag;
    const char *value; /* NULL: the flag is last and has no value */
};

static const struct cli_bad_case cli_bad_cases[] = {
    {"--regions", "0"},    {"--regions", "x"},
    {"--regions", "80"},   {"--days", "0"},
    {"--days", "3d"},      {"--seed", "-1"},
    {"--seed", "abc"},     {"--end-date", "2025-02-30"},
    {"--chart-size", "0"}, {"--chart-size", "5000"},
    {"--days", NULL},      {"--bogus", "1"},
    {"--format", "xml"},   {"--format", NULL},
};

START_TEST(cli_bad_flag_names_flag)
{
    const struct cli_bad_case *c = &cli_bad_cases[_i];
    const char *args[6] = {"generate", "--out", "/tmp/cp_test_generate_never", c->flag, c->value};
    char err[1024];
    int status = run_cli(args, c->value ? 5 : 4, err, sizeof err);
    ck_assert_int_ne(status, 0);
    ck_assert_msg(strstr(err, c->flag) != NULL, "stderr '%s' does not name %s", err, c->flag);
    char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == '\0', "stderr is not one line: '%s'", err);
    ck_assert_int_ne(access("/tmp/cp_test_generate_never", F_OK), 0);
}
END_TEST

START_TEST(cli_generates_and_helps)
{
    char err[1024];
    const char *help[] = {"generate", "--help"};
    ck_assert_int_eq(run_cli(help, 2, err, sizeof err), 0);

    const char *missing[] = {"generate", "--days", "3"};
    ck_assert_int_ne(run_cli(missing, 3, err, sizeof err), 0);
    ck_assert(strstr(err, "--out") != NULL);

    char *dir = make_temp_dir();
    const char *args[] = {"generate", "--out",      dir, "--regions",  "2",          "--days",
                          "8",        "--seed",     "7", "--end-date", "2024-03-07", "--chart-size",
                          "10",       "--no-weekly"};
    ck_assert_int_eq(run_cli(args, 14, err, sizeof err), 0);
    size_t n;
    char **names = list_dir(dir, &n);
    ck_assert_uint_eq(n, 16);
    ck_assert_str_eq(names[0], "regional-global-daily-2024-02-29.csv");
    free_list(names, n);
    remove_dir(dir);

    dir = make_temp_dir(); /* weekly is on by default: 2024-03-07 is a Thursday */
    const char *weekly[] = {"generate", "--out",      dir,          "--regions",    "1", "--days",
                            "7",        "--end-date", "2024-03-07", "--chart-size", "10"};
    ck_assert_int_eq(run_cli(weekly, 11, err, sizeof err), 0);
    char *path = cp_asprintf("%s/regional-global-weekly-2024-03-07.csv", dir);
    ck_assert_int_eq(access(path, R_OK), 0);
    free(path);
    remove_dir(dir);

    dir = make_temp_dir();
    const char *kaggle[] = {
        "generate", "--out",      dir,          "--regions",    "2", "--days", "3", "--format",
        "kaggle",   "--end-date", "2024-03-07", "--chart-size", "10"};
    ck_assert_int_eq(run_cli(kaggle, 13, err, sizeof err), 0);
    names = list_dir(dir, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names[0], "kaggle-charts-2024-global.csv");
    ck_assert_str_eq(names[1], "kaggle-charts-2024-us.csv");
    free_list(names, n);
    remove_dir(dir);

    /* weekly charts cannot be written in the kaggle format: asking for them is an error */
    const char *kaggle_weekly[] = {"generate", "--out",    "/tmp/cp_test_generate_never",
                                   "--weekly", "--format", "kaggle"};
    ck_assert_int_ne(run_cli(kaggle_weekly, 6, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "--weekly") != NULL, "stderr '%s' does not name --weekly", err);
    ck_assert_int_ne(access("/tmp/cp_test_generate_never", F_OK), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("generate");
    TCase *tc = tcase_create("generate");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, file_names_and_count);
    tcase_add_test(tc, format_and_text);
    tcase_add_test(tc, all_regions_are_real);
    tcase_add_test(tc, history_is_consistent);
    tcase_add_test(tc, weekly_sums_daily);
    tcase_add_test(tc, kaggle_same_charts_as_spotify);
    tcase_add_test(tc, kaggle_is_deterministic);
    tcase_add_test(tc, kaggle_every_region_reads_back);
    tcase_add_test(tc, bad_format_names_format);
    tcase_add_loop_test(tc, bad_option_names_option, 0, sizeof bad_cases / sizeof bad_cases[0]);
    tcase_add_test(tc, unwritable_dir_is_io_error);
    tcase_add_test(tc, default_end_is_yesterday);
    tcase_add_loop_test(tc, cli_bad_flag_names_flag, 0,
                        sizeof cli_bad_cases / sizeof cli_bad_cases[0]);
    tcase_add_test(tc, cli_generates_and_helps);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
