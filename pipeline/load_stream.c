/* The loader's in-memory rows and its streamed path (see load_stream.h). */
#include "pipeline/load_stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/mem.h"
#include "core/series.h"
#include "db/etl_repo.h"
#include "db/pgresult.h"
#include "pipeline/load.h"

/* The COPY text of one streamed table. It grows with the object's rows, which the staged
 * strings' cap (LOAD_MAX_OBJECT) already bounds; a few hundred bytes a row at most. */
#define STREAMED_COPY_MAX ((size_t)8 << 30)
/* The array literal of an object's track ids: 25 bytes a track. */
#define TRACK_IDS_MAX ((size_t)1 << 30)

/* ---- the staged rows ------------------------------------------------------------------ */

void cp_staged_init(struct cp_staged *s, size_t max_bytes)
{
    memset(s, 0, sizeof *s);
    cp_buf_init(&s->strings, max_bytes);
}

void cp_staged_free(struct cp_staged *s)
{
    for (size_t i = 0; i < s->nseries; i++) {
        free(s->series[i].chart_kind);
        free(s->series[i].region);
        free(s->series[i].period);
    }
    free(s->series);
    free(s->rows);
    cp_buf_free(&s->strings);
    memset(s, 0, sizeof *s);
}

static size_t add_string(struct cp_staged *s, const char *text)
{
    size_t at = s->strings.len;
    if (cp_buf_add(&s->strings, text, strlen(text) + 1) != CP_OK)
        s->status = CP_ERR_TOO_LARGE;
    return at;
}

static int series_index(struct cp_staged *s, const struct cp_chart_row *row)
{
    /* rows of one series come in runs: look at the last one first */
    for (size_t k = s->nseries; k-- > 0;) {
        const struct cp_series *se = &s->series[k];
        if (!strcmp(se->chart_kind, row->chart_kind) && !strcmp(se->region, row->region) &&
            !strcmp(se->period, row->period))
            return (int)k;
    }
    s->series = cp_realloc(s->series, (s->nseries + 1) * sizeof *s->series);
    struct cp_series *se = &s->series[s->nseries];
    memset(se, 0, sizeof *se);
    se->chart_kind = cp_strdup(row->chart_kind);
    se->region = cp_strdup(row->region);
    se->period = cp_strdup(row->period);
    return (int)s->nseries++;
}

void cp_staged_add(struct cp_staged *s, const struct cp_chart_row *row)
{
    if (s->count == s->alloc) {
        s->alloc = s->alloc ? s->alloc * 2 : 1024;
        s->rows = cp_realloc(s->rows, s->alloc * sizeof *s->rows);
    }
    struct cp_staged_row *r = &s->rows[s->count++];
    r->line_no = row->line_no;
    r->series = series_index(s, row);
    r->rank = row->rank;
    snprintf(r->chart_date, sizeof r->chart_date, "%s", row->chart_date);
    memcpy(r->track_id, row->track_id, sizeof r->track_id);
    r->name = add_string(s, row->track_name);
    r->artists = add_string(s, row->artist_names);
    r->label = row->label ? add_string(s, row->label) : CP_NO_LABEL;
    r->streams = row->streams;
    r->src_peak_rank = row->src_peak_rank;
    r->src_previous_rank = row->src_previous_rank;
    r->src_periods_on_chart = row->src_periods_on_chart;
    r->raw_offset = row->raw_offset;
    r->raw_len = row->raw_len;

    struct cp_series *se = &s->series[r->series];
    if (!se->min_date[0] || strcmp(r->chart_date, se->min_date) < 0)
        memcpy(se->min_date, r->chart_date, sizeof se->min_date);
    if (!s->min_date[0] || strcmp(r->chart_date, s->min_date) < 0)
        memcpy(s->min_date, r->chart_date, sizeof s->min_date);
    if (strcmp(r->chart_date, s->max_date) > 0)
        memcpy(s->max_date, r->chart_date, sizeof s->max_date);
}

static const char *str_at(const struct cp_staged *s, size_t offset)
{
    return s->strings.data + offset;
}

/* COPY text helpers: a tab before every field but the first. */
static void put_int(struct cp_buf *b, long long v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    cp_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void put_tab_int(struct cp_buf *b, long long v)
{
    cp_buf_add(b, "\t", 1);
    put_int(b, v);
}

/* -1 (absent) is NULL */
static void put_tab_int_or_null(struct cp_buf *b, long long v)
{
    if (v < 0)
        cp_buf_add(b, "\t\\N", 3);
    else
        put_tab_int(b, v);
}

static void put_tab_str(struct cp_buf *b, const char *s)
{
    cp_buf_add(b, "\t", 1);
    cp_copy_escape(b, s);
}

static void put_series(struct cp_buf *b, const struct cp_series *se)
{
    cp_copy_escape(b, se->chart_kind);
    put_tab_str(b, se->region);
    put_tab_str(b, se->period);
}

/* a row's title, artist line and label */
static void put_tab_track_meta(struct cp_buf *b, const struct cp_staged *s,
                               const struct cp_staged_row *r)
{
    put_tab_str(b, str_at(s, r->name));
    put_tab_str(b, str_at(s, r->artists));
    if (r->label == CP_NO_LABEL)
        cp_buf_add(b, "\t\\N", 3);
    else
        put_tab_str(b, str_at(s, r->label));
}

static cp_status end_line(struct cp_buf *b)
{
    return cp_buf_add(b, "\n", 1);
}

cp_status cp_staged_stage_text(const struct cp_staged *s, struct cp_buf *out)
{
    cp_status st = CP_OK;
    for (size_t i = 0; i < s->count && st == CP_OK; i++) {
        const struct cp_staged_row *r = &s->rows[i];
        const struct cp_series *se = &s->series[r->series];
        put_int(out, r->line_no);
        cp_buf_add(out, "\t", 1);
        put_series(out, se);
        put_tab_str(out, r->chart_date);
        put_tab_int(out, r->rank);
        put_tab_str(out, r->track_id);
        put_tab_track_meta(out, s, r);
        put_tab_int_or_null(out, r->streams);
        put_tab_int_or_null(out, r->src_peak_rank);
        put_tab_int_or_null(out, r->src_previous_rank);
        put_tab_int_or_null(out, r->src_periods_on_chart);
        st = end_line(out);
    }
    return st;
}

/* ---- run state: one per (series, track) ------------------------------------------------- */

/* A track's state in a series: its core.chart_run row, carried forward chart by chart,
 * and the month being summed for core.track_month. */
struct run_state {
    int series;
    char track_id[23];
    bool known; /* has a chart_run row or an earlier row in this object */
    char first_date[11], last_date[11], peak_date[11];
    int first_rank, last_rank, peak_rank;
    long long periods, streak, longest_streak, reentries, periods_at_1, periods_top10;
    long long total_streams; /* -1: null */
    size_t meta_row;         /* the row whose title/artists/label are the newest */
    /* the month being summed */
    char month[8]; /* YYYY-MM, "" when none */
    int m_entries, m_ones, m_top10, m_best;
    long long m_streams; /* -1: null */
    uint32_t m_days;
};

/* Open addressing over indexes into states (0 = empty slot). */
struct run_map {
    struct run_state *states;
    size_t count;
    uint32_t *slots;
    size_t mask;
};

static uint64_t key_hash(int series, const char *track_id)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)series;
    for (const char *p = track_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static void map_init(struct run_map *m, size_t most)
{
    size_t cap = 16;
    while (cap < most * 2)
        cap <<= 1;
    m->states = cp_calloc(most ? most : 1, sizeof *m->states);
    m->count = 0;
    m->slots = cp_calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
}

static void map_free(struct run_map *m)
{
    free(m->states);
    free(m->slots);
}

/* The state of (series, track), added (unknown) when absent. most was the bound given to
 * map_init; it is never exceeded because every key comes from one staged row. */
static struct run_state *map_get(struct run_map *m, int series, const char *track_id)
{
    for (size_t i = key_hash(series, track_id) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t at = m->slots[i];
        if (!at) {
            struct run_state *st = &m->states[m->count++];
            st->series = series;
            memcpy(st->track_id, track_id, sizeof st->track_id);
            st->total_streams = -1;
            m->slots[i] = (uint32_t)m->count;
            return st;
        }
        struct run_state *st = &m->states[at - 1];
        if (st->series == series && !strcmp(st->track_id, track_id))
            return st;
    }
}

static struct run_state *map_find(const struct run_map *m, int series, const char *track_id)
{
    for (size_t i = key_hash(series, track_id) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t at = m->slots[i];
        if (!at)
            return NULL;
        struct run_state *st = &m->states[at - 1];
        if (st->series == series && !strcmp(st->track_id, track_id))
            return st;
    }
}

/* -1 for NULL */
static long long cell_int(const PGresult *res, int row, int col)
{
    bool present;
    long long v = cp_pg_int(res, row, col, &present);
    return present ? v : -1;
}

static void copy_date(char dst[11], const PGresult *res, int row, int col)
{
    snprintf(dst, 11, "%s", PQgetvalue(res, row, col));
}

/* Fills the states of the object's tracks in series k from core.chart_run. */
static cp_status read_runs(PGconn *conn, const struct cp_staged *s, int k, struct run_map *m,
                           char *err, size_t errlen)
{
    struct cp_buf ids;
    cp_buf_init(&ids, TRACK_IDS_MAX);
    cp_buf_add(&ids, "{", 1);
    bool first = true;
    for (size_t i = 0; i < m->count; i++) {
        if (m->states[i].series != k)
            continue;
        if (!first)
            cp_buf_add(&ids, ",", 1);
        cp_buf_adds(&ids, m->states[i].track_id); /* base62: nothing to quote */
        first = false;
    }
    cp_buf_add(&ids, "}", 1);
    const struct cp_series *se = &s->series[k];
    PGresult *res = NULL;
    cp_status st = cp_etl_chart_runs(conn, se->chart_kind, se->region, se->period, ids.data, &res,
                                     err, errlen);
    cp_buf_free(&ids);
    if (st != CP_OK)
        return st;
    for (int i = 0; i < PQntuples(res); i++) {
        struct run_state *r = map_find(m, k, PQgetvalue(res, i, 0));
        if (!r)
            continue;
        r->known = true;
        copy_date(r->first_date, res, i, 1);
        r->first_rank = (int)cell_int(res, i, 2);
        copy_date(r->last_date, res, i, 3);
        r->last_rank = (int)cell_int(res, i, 4);
        r->peak_rank = (int)cell_int(res, i, 5);
        copy_date(r->peak_date, res, i, 6);
        r->periods = cell_int(res, i, 7);
        r->streak = cell_int(res, i, 8);
        r->longest_streak = cell_int(res, i, 9);
        r->reentries = cell_int(res, i, 10);
        r->periods_at_1 = cell_int(res, i, 11);
        r->periods_top10 = cell_int(res, i, 12);
        r->total_streams = cell_int(res, i, 13);
    }
    PQclear(res);
    return CP_OK;
}

/* qsort has no context argument; loads run on several threads */
static _Thread_local const struct cp_staged *sort_rows;

static int cmp_rows(const void *a, const void *b)
{
    const struct cp_staged_row *x = &sort_rows->rows[*(const size_t *)a];
    const struct cp_staged_row *y = &sort_rows->rows[*(const size_t *)b];
    if (x->series != y->series)
        return x->series < y->series ? -1 : 1;
    int c = strcmp(x->chart_date, y->chart_date);
    if (c)
        return c;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* The row indexes in (series, date, rank) order: every chart's rows together, in rank
 * order, the charts of a series in date order. */
static size_t *sorted_rows(const struct cp_staged *s)
{
    size_t *rows = cp_calloc(s->count ? s->count : 1, sizeof *rows);
    for (size_t i = 0; i < s->count; i++)
        rows[i] = i;
    sort_rows = s;
    qsort(rows, s->count, sizeof *rows, cmp_rows);
    return rows;
}

size_t cp_staged_reject_repeated_tracks(struct cp_staged *s, const char *data,
                                        cp_chart_reject_fn on_reject, void *ud)
{
    size_t *order = sorted_rows(s);
    bool *drop = cp_calloc(s->count ? s->count : 1, sizeof *drop);
    struct run_map m;
    map_init(&m, s->count);
    size_t dropped = 0;
    for (size_t i = 0; i < s->count; i++) {
        const struct cp_staged_row *row = &s->rows[order[i]];
        struct run_state *r = map_get(&m, row->series, row->track_id);
        if (r->known && !strcmp(r->last_date, row->chart_date)) {
            drop[order[i]] = true;
            dropped++;
        } else {
            r->known = true;
            memcpy(r->last_date, row->chart_date, sizeof r->last_date);
            r->last_rank = row->rank;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++) {
        const struct cp_staged_row *row = &s->rows[i];
        if (!drop[i]) {
            s->rows[kept++] = *row;
            continue;
        }
        const struct cp_series *se = &s->series[row->series];
        const struct run_state *first = map_find(&m, row->series, row->track_id);
        char reason[256];
        snprintf(reason, sizeof reason,
                 "track_id: %s appears twice on chart %s/%s/%s (also at rank %d)", row->track_id,
                 se->chart_kind, se->region, row->chart_date, first->last_rank);
        char *raw = cp_strndup(data + row->raw_offset, row->raw_len);
        on_reject(row->line_no, raw, reason, ud);
        free(raw);
    }
    s->count = kept;
    map_free(&m);
    free(drop);
    free(order);
    return dropped;
}

/* ---- the streamed path ---------------------------------------------------------------- */

struct streamed_out {
    struct cp_buf charts, entries, tracks, runs, months;
};

static int cmp_series(const void *a, const void *b)
{
    const struct cp_series *x = &sort_rows->series[*(const size_t *)a];
    const struct cp_series *y = &sort_rows->series[*(const size_t *)b];
    int c = strcmp(x->chart_kind, y->chart_kind);
    if (!c)
        c = strcmp(x->region, y->region);
    if (!c)
        c = strcmp(x->period, y->period);
    return c;
}

static void add_streams(long long *total, long long streams)
{
    if (streams >= 0)
        *total = (*total < 0 ? 0 : *total) + streams;
}

static void flush_month(struct cp_buf *b, const struct cp_staged *s, struct run_state *r)
{
    if (!r->month[0])
        return;
    put_series(b, &s->series[r->series]);
    cp_buf_add(b, "\t", 1);
    cp_buf_add(b, r->month, 7);
    cp_buf_add(b, "-01", 3);
    put_tab_str(b, r->track_id);
    put_tab_int(b, r->m_entries);
    put_tab_int_or_null(b, r->m_streams);
    put_tab_int(b, r->m_ones);
    put_tab_int(b, r->m_top10);
    put_tab_int(b, r->m_best);
    put_tab_int(b, r->m_days);
    end_line(b);
    r->month[0] = '\0';
}

/* Whether row a's title, artists and label win over row b's: a later chart, or the same
 * chart and an earlier line. */
static bool newer_meta(const struct cp_staged_row *a, const struct cp_staged_row *b)
{
    int c = strcmp(a->chart_date, b->chart_date);
    return c > 0 || (c == 0 && a->line_no < b->line_no);
}

/* The date one period before a chart's: the previous period, whose chart a track must
 * have been on for its streak to go on and its movement to be known (SPEC §4a). */
static void previous_period(const char *chart_date, const char *period, char out[11])
{
    cp_date_format_days(cp_date_text_to_days(chart_date) - cp_period_days(period), out);
}

/* One row in chart order: derives its columns from the track's state, advances the state
 * and writes the chart_entry line. prev_period is the date one period before the row's
 * chart and prev_loaded whether that chart is loaded (or in this object). Returns false
 * when the track is already on this chart. The rules are etl.recompute_chart_runs's. */
static bool derive_row(const struct cp_staged *s, size_t row_index, const char *prev_period,
                       bool prev_loaded, struct run_map *m, struct streamed_out *o)
{
    const struct cp_staged_row *row = &s->rows[row_index];
    struct run_state *r = map_find(m, row->series, row->track_id);
    if (r->known && !strcmp(r->last_date, row->chart_date))
        return false;
    int previous_rank = -1;
    const char *movement;
    bool continues = r->known && !strcmp(r->last_date, prev_period);
    if (continues) {
        previous_rank = r->last_rank;
        movement = r->last_rank > row->rank ? "up" : r->last_rank < row->rank ? "down" : "same";
        r->streak++;
    } else {
        movement = !prev_loaded ? "unknown" : r->known ? "re-entry" : "new";
        r->streak = 1;
        r->reentries += prev_loaded && r->known;
    }
    if (!r->known) {
        memcpy(r->first_date, row->chart_date, sizeof r->first_date);
        r->first_rank = row->rank;
        r->peak_rank = row->rank;
        memcpy(r->peak_date, row->chart_date, sizeof r->peak_date);
        r->periods = 1;
        r->known = true;
    } else {
        r->periods++;
        if (row->rank < r->peak_rank) {
            r->peak_rank = row->rank;
            memcpy(r->peak_date, row->chart_date, sizeof r->peak_date);
        }
    }
    if (r->streak > r->longest_streak)
        r->longest_streak = r->streak;
    memcpy(r->last_date, row->chart_date, sizeof r->last_date);
    r->last_rank = row->rank;
    r->periods_at_1 += row->rank == 1;
    r->periods_top10 += row->rank <= 10;
    add_streams(&r->total_streams, row->streams);
    /* the newest metadata: the latest chart, the first line among equals */
    if (r->meta_row == SIZE_MAX || newer_meta(&s->rows[row_index], &s->rows[r->meta_row]))
        r->meta_row = row_index;

    if (r->month[0] && memcmp(r->month, row->chart_date, 7) != 0)
        flush_month(&o->months, s, r);
    if (!r->month[0]) {
        memcpy(r->month, row->chart_date, 7);
        r->month[7] = '\0';
        r->m_entries = r->m_ones = r->m_top10 = 0;
        r->m_best = row->rank;
        r->m_streams = -1;
        r->m_days = 0;
    }
    r->m_entries++;
    r->m_ones += row->rank == 1;
    r->m_top10 += row->rank <= 10;
    if (row->rank < r->m_best)
        r->m_best = row->rank;
    add_streams(&r->m_streams, row->streams);
    r->m_days |= 1u << (atoi(row->chart_date + 8) - 1);

    struct cp_buf *b = &o->entries;
    put_series(b, &s->series[row->series]);
    put_tab_str(b, row->chart_date);
    put_tab_int(b, row->rank);
    put_tab_str(b, row->track_id);
    put_tab_int_or_null(b, row->streams);
    put_tab_int_or_null(b, previous_rank);
    put_tab_str(b, movement);
    put_tab_int(b, r->peak_rank);
    put_tab_int(b, r->periods);
    put_tab_int(b, r->streak);
    put_tab_int_or_null(b, row->src_peak_rank);
    put_tab_int_or_null(b, row->src_previous_rank);
    put_tab_int_or_null(b, row->src_periods_on_chart);
    put_tab_str(b, str_at(s, row->artists));
    end_line(b);
    return true;
}

static void put_chart(struct cp_buf *b, const struct cp_staged *s, const struct cp_staged_row *row,
                      long entries, long long object_id)
{
    put_series(b, &s->series[row->series]);
    put_tab_str(b, row->chart_date);
    put_tab_int(b, entries);
    put_tab_int(b, object_id);
    end_line(b);
}

static void put_run(struct cp_buf *b, const struct cp_staged *s, const struct run_state *r)
{
    put_series(b, &s->series[r->series]);
    put_tab_str(b, r->track_id);
    put_tab_str(b, r->first_date);
    put_tab_int(b, r->first_rank);
    put_tab_str(b, r->last_date);
    put_tab_int(b, r->last_rank);
    put_tab_int(b, r->peak_rank);
    put_tab_str(b, r->peak_date);
    put_tab_int(b, r->periods);
    put_tab_int(b, r->streak);
    put_tab_int(b, r->longest_streak);
    put_tab_int(b, r->reentries);
    put_tab_int(b, r->periods_at_1);
    put_tab_int(b, r->periods_top10);
    put_tab_int_or_null(b, r->total_streams);
    end_line(b);
}

/* Every track once, with the metadata of its newest row over all series. */
static void put_tracks(struct cp_buf *b, const struct cp_staged *s, const struct run_map *m)
{
    struct run_map seen;
    map_init(&seen, m->count);
    for (size_t i = 0; i < m->count; i++) {
        const struct run_state *r = &m->states[i];
        struct run_state *t = map_get(&seen, -1, r->track_id);
        if (t->known) {
            if (newer_meta(&s->rows[r->meta_row], &s->rows[t->meta_row]))
                t->meta_row = r->meta_row;
        } else {
            t->known = true;
            t->meta_row = r->meta_row;
        }
    }
    for (size_t i = 0; i < seen.count; i++) {
        const struct cp_staged_row *row = &s->rows[seen.states[i].meta_row];
        cp_copy_escape(b, row->track_id);
        put_tab_track_meta(b, s, row);
        put_tab_str(b, row->chart_date);
        end_line(b);
    }
    map_free(&seen);
}

static cp_status write_streamed(PGconn *conn, const struct streamed_out *o, long long object_id,
                                long long rows, char *err, size_t errlen)
{
    static const struct {
        size_t offset;
        const char *sql;
    } copies[] = {
        {offsetof(struct streamed_out, charts),
         "copy core.chart (chart_kind, region, period, chart_date, entries, object_id) from stdin"},
        {offsetof(struct streamed_out, entries),
         "copy core.chart_entry (chart_kind, region, period, chart_date, rank, track_id, streams,"
         " derived_previous_rank, derived_movement, derived_peak_rank, derived_periods_on_chart,"
         " streak, src_peak_rank, src_previous_rank, src_periods_on_chart, artist_names)"
         " from stdin"},
        {offsetof(struct streamed_out, tracks),
         "copy pg_temp.stream_track (track_id, name, artist_names, label, chart_date) from stdin"},
        {offsetof(struct streamed_out, runs),
         "copy pg_temp.stream_run (chart_kind, region, period, track_id, first_date, first_rank,"
         " last_date, last_rank, peak_rank, peak_date, periods, streak, longest_streak,"
         " reentries, periods_at_1, periods_top10, total_streams) from stdin"},
        {offsetof(struct streamed_out, months),
         "copy pg_temp.stream_month (chart_kind, region, period, month, track_id, entries,"
         " streams, number_ones, top10, best_rank, day_mask) from stdin"},
    };
    cp_status st = cp_etl_stream_tables(conn, err, errlen);
    for (size_t i = 0; st == CP_OK && i < sizeof copies / sizeof copies[0]; i++) {
        const struct cp_buf *b = (const struct cp_buf *)((const char *)o + copies[i].offset);
        if (b->len)
            st = cp_etl_copy_in(conn, copies[i].sql, b->data, b->len, err, errlen);
    }
    if (st == CP_OK)
        st = cp_etl_merge_streamed(conn, object_id, rows, err, errlen);
    return st;
}

cp_status cp_load_streamed(PGconn *conn, long long object_id, struct cp_staged *s, bool *streamed,
                           char *err, size_t errlen)
{
    *streamed = false;
    /* the advisory locks, in one order for every load */
    size_t *order = cp_calloc(s->nseries ? s->nseries : 1, sizeof *order);
    for (size_t k = 0; k < s->nseries; k++)
        order[k] = k;
    sort_rows = s;
    qsort(order, s->nseries, sizeof *order, cmp_series);
    cp_status st = CP_OK;
    bool appends = true;
    for (size_t i = 0; i < s->nseries && st == CP_OK; i++) {
        struct cp_series *se = &s->series[order[i]];
        st = cp_etl_lock_series(conn, se->chart_kind, se->region, se->period, se->latest, err,
                                errlen);
        if (st == CP_OK && se->latest[0] && strcmp(se->min_date, se->latest) <= 0)
            appends = false;
    }
    free(order);
    if (st != CP_OK || !appends || s->count == 0)
        return st;

    struct run_map m;
    map_init(&m, s->count);
    for (size_t i = 0; i < s->count; i++) {
        struct run_state *r = map_get(&m, s->rows[i].series, s->rows[i].track_id);
        r->meta_row = SIZE_MAX;
    }
    for (size_t k = 0; k < s->nseries && st == CP_OK; k++)
        st = read_runs(conn, s, (int)k, &m, err, errlen);

    size_t *rows = sorted_rows(s);

    struct streamed_out o;
    struct cp_buf *bufs[] = {&o.charts, &o.entries, &o.tracks, &o.runs, &o.months};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        cp_buf_init(bufs[i], STREAMED_COPY_MAX);

    /* rows in (series, date, rank) order. A chart's previous period is loaded when it is
     * the chart before it in the object or, for the object's first chart of the series,
     * the series' latest loaded chart: every loaded chart is older than the object's. When
     * the previous period is older than that chart (weekly dates not 7 days apart), whether
     * it is loaded is not known here: the object goes to the set-based merge, as it does
     * when a track is on a chart twice (ok false, st CP_OK). */
    bool ok = st == CP_OK;
    char prev_period[11] = "";
    bool prev_loaded = false;
    size_t chart_start = 0;
    for (size_t i = 0; ok && i < s->count; i++) {
        const struct cp_staged_row *row = &s->rows[rows[i]];
        const struct cp_staged_row *before = i ? &s->rows[rows[i - 1]] : NULL;
        bool new_series = !before || before->series != row->series;
        if (!new_series && !strcmp(before->chart_date, row->chart_date)) {
            ok = derive_row(s, rows[i], prev_period, prev_loaded, &m, &o);
            continue;
        }
        const struct cp_series *se = &s->series[row->series];
        const char *reference = new_series ? se->latest : before->chart_date;
        previous_period(row->chart_date, se->period, prev_period);
        if (reference[0] && strcmp(prev_period, reference) < 0) {
            ok = false;
            break;
        }
        prev_loaded = !strcmp(prev_period, reference);
        if (before)
            put_chart(&o.charts, s, before, (long)(i - chart_start), object_id);
        chart_start = i;
        ok = derive_row(s, rows[i], prev_period, prev_loaded, &m, &o);
    }
    if (ok && st == CP_OK) {
        put_chart(&o.charts, s, &s->rows[rows[s->count - 1]], (long)(s->count - chart_start),
                  object_id);
        for (size_t i = 0; i < m.count; i++) {
            put_run(&o.runs, s, &m.states[i]);
            flush_month(&o.months, s, &m.states[i]);
        }
        put_tracks(&o.tracks, s, &m);
        st = write_streamed(conn, &o, object_id, (long long)s->count, err, errlen);
        *streamed = st == CP_OK;
    }
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        cp_buf_free(bufs[i]);
    free(rows);
    map_free(&m);
    return st;
}
