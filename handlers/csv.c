/* CSV answers: content negotiation and an RFC 4180 writer for list endpoints. */
#include "handlers/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"

/* The writer: rows of fields appended into a growing buffer. */
struct cp_csv {
    struct cp_buf out;
    size_t fields_in_row; /* fields written in the current row (separators) */
};

/* ---- negotiation ------------------------------------------------------------------ */

/* The q-value and position of the best Accept entry matching csv (text/csv) or JSON
 * (application/json, application/<x>+json, any application type, and any type at all). */
struct accept_rank {
    double q;
    int position;
};

static bool better(const struct accept_rank *a, const struct accept_rank *b)
{
    return a->q > b->q || (a->q == b->q && a->position < b->position);
}

static bool cp_csv_accept_prefers_csv(const char *accept)
{
    struct accept_rank csv = {-1, 0}, json = {-1, 0};
    const char *p = accept;
    int position = 0;
    while (p && *p) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        size_t len = strcspn(p, " \t,;");
        const char *type = p;
        p += len;
        double q = 1.0;
        while (*p && *p != ',') {
            p += strspn(p, " \t;");
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                char *end;
                q = strtod(p + 2, &end);
                p = end > p + 2 ? end : p + 2;
            } else {
                p += strcspn(p, ";,");
            }
        }
        struct accept_rank here = {q, position++};
        if (len == 8 && !strncasecmp(type, "text/csv", 8)) {
            if (better(&here, &csv))
                csv = here;
        } else if ((len == 16 && !strncasecmp(type, "application/json", 16)) ||
                   (len == 13 && !strncasecmp(type, "application/*", 13)) ||
                   (len == 3 && !strncmp(type, "*/*", 3)) ||
                   (len > 17 && !strncasecmp(type, "application/", 12) &&
                    !strncasecmp(type + len - 5, "+json", 5))) {
            if (better(&here, &json))
                json = here;
        }
    }
    return csv.q > 0 && better(&csv, &json);
}

cp_status cp_csv_negotiate(const struct cp_request *req, struct cp_reply *reply, bool *csv)
{
    const char *format = cp_request_query(req, "format");
    if (format) {
        if (!strcmp(format, "csv")) {
            *csv = true;
            return CP_OK;
        }
        if (!strcmp(format, "json")) {
            *csv = false;
            return CP_OK;
        }
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "format: must be 'json' or 'csv' (got '%.40s')", format);
    }
    *csv = cp_csv_accept_prefers_csv(req->accept);
    return CP_OK;
}

bool cp_csv_wanted_by_accept(const struct cp_param *query, size_t query_count, const char *accept)
{
    for (size_t i = 0; i < query_count; i++)
        if (!strcmp(query[i].name, "format"))
            return false;
    return cp_csv_accept_prefers_csv(accept);
}

/* ---- the writer ------------------------------------------------------------------- */

static void cp_csv_init(struct cp_csv *csv)
{
    cp_buf_init(&csv->out, CP_CSV_MAX_BYTES);
    csv->fields_in_row = 0;
}

static void cp_csv_cleanup(struct cp_csv *csv)
{
    cp_buf_free(&csv->out);
    csv->fields_in_row = 0;
}

static cp_status cp_csv_field_n(struct cp_csv *csv, const char *value, size_t len)
{
    cp_status st = CP_OK;
    if (csv->fields_in_row++ && (st = cp_buf_add(&csv->out, ",", 1)) != CP_OK)
        return st;
    if (!value || !len)
        return CP_OK;
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = value[i] == ',' || value[i] == '"' || value[i] == '\r' || value[i] == '\n';
    if (!quote)
        return cp_buf_add(&csv->out, value, len);
    if ((st = cp_buf_add(&csv->out, "\"", 1)) != CP_OK)
        return st;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (value[i] != '"')
            continue;
        /* the quote itself, then once more: "" */
        if ((st = cp_buf_add(&csv->out, value + start, i + 1 - start)) != CP_OK ||
            (st = cp_buf_add(&csv->out, "\"", 1)) != CP_OK)
            return st;
        start = i + 1;
    }
    if ((st = cp_buf_add(&csv->out, value + start, len - start)) != CP_OK)
        return st;
    return cp_buf_add(&csv->out, "\"", 1);
}

/* Whether text reads as a plain decimal number (-3, 12.5, 1e6): a spreadsheet takes it as
 * that number, never as a formula, so it is left as it is. */
static bool plain_number(const char *value, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (value[i] == '-' || value[i] == '+'))
        i++;
    for (; i < len && value[i] >= '0' && value[i] <= '9'; i++)
        digits++;
    if (i < len && value[i] == '.')
        for (i++; i < len && value[i] >= '0' && value[i] <= '9'; i++)
            digits++;
    if (digits && i < len && (value[i] == 'e' || value[i] == 'E')) {
        size_t exp_digits = 0;
        if (++i < len && (value[i] == '-' || value[i] == '+'))
            i++;
        for (; i < len && value[i] >= '0' && value[i] <= '9'; i++)
            exp_digits++;
        if (!exp_digits)
            return false;
    }
    return digits && i == len;
}

/* A text cell (a track or artist name, anything a chart file or the Spotify API supplied).
 * Spreadsheets run a cell that starts with = + - @ (or a tab or CR, which some strip
 * first) as a formula: `=HYPERLINK(...)` in a track name would become a live link. Such a
 * cell gets a leading single quote, as OWASP's CSV-injection advice says, which shows it as
 * text; numbers written from JSON numbers never come here, and text that is a plain number
 * (a negative one too) is left alone. */
static cp_status cp_csv_field_text(struct cp_csv *csv, const char *value, size_t len)
{
    if (!len || !memchr("=+-@\t\r", value[0], 6) || plain_number(value, len))
        return cp_csv_field_n(csv, value, len);
    char *quoted = cp_malloc(len + 2);
    quoted[0] = '\'';
    memcpy(quoted + 1, value, len);
    quoted[len + 1] = '\0';
    cp_status st = cp_csv_field_n(csv, quoted, len + 1);
    free(quoted);
    return st;
}

static cp_status cp_csv_field(struct cp_csv *csv, const char *value)
{
    return cp_csv_field_n(csv, value, value ? strlen(value) : 0);
}

static cp_status cp_csv_field_int(struct cp_csv *csv, bool present, long long value)
{
    if (!present)
        return cp_csv_field(csv, NULL);
    char text[32];
    int n = snprintf(text, sizeof text, "%lld", value);
    return cp_csv_field_n(csv, text, (size_t)n);
}

static cp_status cp_csv_field_double(struct cp_csv *csv, bool present, double value)
{
    if (!present)
        return cp_csv_field(csv, NULL);
    char text[40];
    /* the shortest of %.15g..%.17g that reads back as the same double */
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, value);
        if (strtod(text, NULL) == value)
            break;
    }
    return cp_csv_field(csv, text);
}

static cp_status cp_csv_field_json(struct cp_csv *csv, const json_t *value)
{
    switch (value ? json_typeof(value) : JSON_NULL) {
    case JSON_STRING:
        return cp_csv_field_text(csv, json_string_value(value), json_string_length(value));
    case JSON_INTEGER:
        return cp_csv_field_int(csv, true, json_integer_value(value));
    case JSON_REAL:
        return cp_csv_field_double(csv, true, json_real_value(value));
    case JSON_TRUE:
        return cp_csv_field(csv, "true");
    case JSON_FALSE:
        return cp_csv_field(csv, "false");
    case JSON_NULL:
        return cp_csv_field(csv, NULL);
    case JSON_ARRAY: {
        /* an array of strings (artist names, periods) reads best joined */
        size_t i;
        json_t *item;
        bool all_strings = true;
        json_array_foreach(value, i, item) all_strings = all_strings && json_is_string(item);
        if (all_strings) {
            struct cp_buf joined;
            cp_buf_init(&joined, CP_CSV_MAX_BYTES);
            cp_status st = CP_OK;
            json_array_foreach(value, i, item)
            {
                if (st == CP_OK && i)
                    st = cp_buf_add(&joined, "; ", 2);
                if (st == CP_OK)
                    st = cp_buf_add(&joined, json_string_value(item), json_string_length(item));
            }
            if (st == CP_OK)
                st = cp_csv_field_text(csv, joined.data, joined.len);
            cp_buf_free(&joined);
            return st;
        }
        break;
    }
    case JSON_OBJECT:
        break;
    }
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
    cp_status st = cp_csv_field(csv, text);
    free(text);
    return st;
}

static cp_status cp_csv_end_row(struct cp_csv *csv)
{
    csv->fields_in_row = 0;
    return cp_buf_add(&csv->out, "\r\n", 2);
}

static cp_status cp_csv_header(struct cp_csv *csv, const char *const *names)
{
    cp_status st = CP_OK;
    for (size_t i = 0; names[i] && st == CP_OK; i++)
        st = cp_csv_field(csv, names[i]);
    return st == CP_OK ? cp_csv_end_row(csv) : st;
}

static cp_status cp_csv_reply(struct cp_csv *csv, struct cp_reply *reply)
{
    size_t len = 0;
    char *text = cp_buf_take(&csv->out, &len);
    csv->fields_in_row = 0;
    return cp_reply_text(reply, text, len, CP_CSV_CONTENT_TYPE);
}

/* The member of row named by a dotted path ("track.id"), or NULL. Borrowed. */
static const json_t *lookup_path(const json_t *row, const char *path)
{
    const json_t *at = row;
    const char *p = path;
    while (at && json_is_object(at)) {
        const char *dot = strchr(p, '.');
        if (!dot)
            return json_object_get(at, p);
        at = json_object_getn(at, p, (size_t)(dot - p));
        p = dot + 1;
    }
    return NULL;
}

cp_status cp_csv_reply_rows(struct cp_reply *reply, json_t *body, const char *rows_member,
                            const char *const *columns)
{
    const json_t *rows = rows_member ? json_object_get(body, rows_member) : body;
    if (!json_is_array(rows)) {
        json_decref(body);
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "the answer has no rows to write as CSV");
    }
    struct cp_csv csv;
    cp_csv_init(&csv);
    cp_status st = cp_csv_header(&csv, columns);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; columns[c] && st == CP_OK; c++)
            st = cp_csv_field_json(&csv, lookup_path(row, columns[c]));
        if (st == CP_OK)
            st = cp_csv_end_row(&csv);
        if (st != CP_OK)
            break;
    }
    json_decref(body);
    if (st != CP_OK) {
        cp_csv_cleanup(&csv);
        return cp_reply_problem(reply, st, "the CSV answer exceeds %u bytes; lower the limit",
                                CP_CSV_MAX_BYTES);
    }
    st = cp_csv_reply(&csv, reply);
    cp_csv_cleanup(&csv);
    return st;
}
