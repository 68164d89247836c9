/* The text of JSON and CSV answers: arbitrary bytes as the text fields an answer quotes
 * (names from chart files, a problem's detail and instance, which quote what a client sent).
 * The input is split at 0x1e bytes into fields.
 *
 * Properties, per field: the safe form (core/text.h, what problem details, instances and
 * rejected rows go through) is UTF-8 without NUL, within its cap, unchanged by a second
 * pass and the same through cp_text_safe_dup; the log form has no control byte; a problem
 * built from it as the server builds one (server/http.c) dumps to JSON that parses back to
 * the same text. For the CSV writer (handlers/csv.c): rows of those texts, a number and a
 * nested member parse back with an RFC 4180 reader (libcsv, strict) to the header and one
 * row per element, each cell the text itself, or the text behind one leading quote when it
 * starts with = + - @, a tab or a CR; no text cell that starts with one of them is left as it
 * is unless it reads as a number. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"
#include "handlers/csv.h"
#include "handlers/handler.h"
#include "tests/fuzz/fuzz_check.h"

#define FIELDS_MAX 8
/* above every cap below: the caps under test are the safe form's own */
#define BUF_MAX 16384
/* server/http.c's PROBLEM_TEXT_MAX, and a small cap that the fuzzer can cross */
static const size_t caps[] = {4096, 64};

static bool valid_utf8(const char *s, size_t n)
{
    return cp_utf8_invalid_at(s, n) == n;
}

static void check_safe(const char *s, size_t n, size_t cap)
{
    struct cp_buf out;
    cp_buf_init(&out, BUF_MAX);
    cp_text_safe(&out, s, n, cap);
    size_t len = 0;
    char *safe = cp_buf_take(&out, &len);
    if (!safe)
        safe = cp_strdup("");
    FUZZ_CHECK(len <= cap, "safe form of %zu bytes over cap %zu", len, cap);
    FUZZ_CHECK(!memchr(safe, '\0', len), "NUL in the safe form");
    FUZZ_CHECK(valid_utf8(safe, len), "safe form not UTF-8");
    /* escapes only lengthen: shorter means cut, and a cut says so */
    FUZZ_CHECK(len >= n || strstr(safe, " [cut: "), "the safe form of %zu bytes lost some (%zu)", n,
               len);

    struct cp_buf again;
    cp_buf_init(&again, BUF_MAX);
    cp_text_safe(&again, safe, len, cap);
    size_t len2 = 0;
    char *twice = cp_buf_take(&again, &len2);
    FUZZ_CHECK(len2 == len && (!len || !memcmp(twice, safe, len)), "safe form not stable");
    free(twice);

    char *dup = cp_text_safe_dup(s, n, cap);
    FUZZ_CHECK(strlen(dup) == len && !memcmp(dup, safe, len), "cp_text_safe_dup differs");
    free(dup);

    struct cp_buf line;
    cp_buf_init(&line, BUF_MAX);
    cp_text_line(&line, s, n, cap);
    size_t llen = 0;
    char *one = cp_buf_take(&line, &llen);
    FUZZ_CHECK(llen <= cap && valid_utf8(one ? one : "", llen), "log form");
    for (size_t i = 0; i < llen; i++)
        FUZZ_CHECK((unsigned char)one[i] >= 0x20 && one[i] != 0x7f,
                   "control byte 0x%02x in the log form", (unsigned char)one[i]);
    free(one);

    /* a problem as server/http.c builds one */
    json_t *problem = json_object();
    json_object_set_new(problem, "status", json_integer(400));
    json_t *detail = json_string(safe);
    FUZZ_CHECK(detail, "the safe form is no JSON string");
    json_object_set_new(problem, "detail", detail);
    json_object_set_new(problem, "instance", json_string(safe));
    char *text = json_dumps(problem, JSON_COMPACT);
    FUZZ_CHECK(text && valid_utf8(text, strlen(text)), "problem did not dump");
    json_error_t error;
    json_t *back = json_loads(text, 0, &error);
    FUZZ_CHECK(back, "the problem does not parse back: %s", error.text);
    const char *read = json_string_value(json_object_get(back, "detail"));
    FUZZ_CHECK(read && !strcmp(read, safe), "detail changed on the way");
    FUZZ_CHECK(json_equal(problem, back), "problem changed on the way");
    json_decref(back);
    free(text);
    json_decref(problem);
    free(safe);
}

/* ---- CSV ------------------------------------------------------------------------------ */

struct parsed {
    char **cells; /* row-major */
    size_t count, cap;
    size_t *row_len; /* cells per row */
    size_t rows, rows_cap, in_row;
};

static void cell_cb(void *s, size_t n, void *ud)
{
    struct parsed *p = ud;
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->cells = cp_realloc(p->cells, p->cap * sizeof *p->cells);
    }
    p->cells[p->count++] = cp_strndup(s ? s : "", n);
    p->in_row++;
}

static void row_cb(int c, void *ud)
{
    (void)c;
    struct parsed *p = ud;
    if (p->rows == p->rows_cap) {
        p->rows_cap = p->rows_cap ? p->rows_cap * 2 : 8;
        p->row_len = cp_realloc(p->row_len, p->rows_cap * sizeof *p->row_len);
    }
    p->row_len[p->rows++] = p->in_row;
    p->in_row = 0;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0; /* keep blanks: the writer does not quote them */
}

static bool danger(const char *s)
{
    return s[0] && strchr("=+-@\t\r", s[0]);
}

static bool reads_as_number(const char *s)
{
    char *end = NULL;
    (void)strtod(s, &end);
    return end && end != s && !*end;
}

static void check_cell(const char *cell, const char *text)
{
    if (!strcmp(cell, text)) {
        FUZZ_CHECK(!danger(text) || reads_as_number(text), "formula cell left as is: '%s'", text);
        return;
    }
    FUZZ_CHECK(danger(text) && cell[0] == '\'' && !strcmp(cell + 1, text),
               "cell '%s' for text '%s'", cell, text);
}

static void check_csv(char **texts, size_t nt, long long number)
{
    static const char *const columns[] = {"name",       "artist",  "streams",
                                          "track.name", "missing", NULL};
    json_t *rows = json_array();
    for (size_t i = 0; i < nt; i++) {
        json_t *row = json_object();
        json_object_set_new(row, "name", json_string(texts[i]));
        json_object_set_new(row, "artist", json_string(texts[(i + 1) % nt]));
        json_object_set_new(row, "streams", json_integer(number + (long long)i));
        json_object_set_new(row, "track", json_pack("{s:s}", "name", texts[(i + 2) % nt]));
        json_array_append_new(rows, row);
    }
    json_t *body = json_pack("{s:o}", "entries", rows);
    struct cp_reply reply;
    memset(&reply, 0, sizeof reply);
    cp_status st = cp_csv_reply_rows(&reply, body, "entries", columns);
    FUZZ_CHECK(st == CP_OK && reply.text, "CSV not written: %d", (int)st);
    FUZZ_CHECK(strlen(reply.text) == reply.text_len, "NUL in the CSV");
    FUZZ_CHECK(valid_utf8(reply.text, reply.text_len), "CSV not UTF-8");

    struct csv_parser parser;
    FUZZ_CHECK(!csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI), "csv_init");
    csv_set_space_func(&parser, no_space);
    struct parsed p;
    memset(&p, 0, sizeof p);
    size_t used = csv_parse(&parser, reply.text, reply.text_len, cell_cb, row_cb, &p);
    FUZZ_CHECK(used == reply.text_len, "CSV does not parse: %s", csv_strerror(csv_error(&parser)));
    FUZZ_CHECK(!csv_fini(&parser, cell_cb, row_cb, &p), "CSV ends inside a field");
    csv_free(&parser);

    FUZZ_CHECK(p.rows == nt + 1, "%zu CSV rows for %zu elements", p.rows, nt);
    for (size_t r = 0; r < p.rows; r++)
        FUZZ_CHECK(p.row_len[r] == 5, "row %zu has %zu cells", r, p.row_len[r]);
    for (size_t c = 0; c < 5; c++)
        FUZZ_CHECK(!strcmp(p.cells[c], columns[c]), "header cell '%s'", p.cells[c]);
    for (size_t i = 0; i < nt; i++) {
        char **cell = p.cells + 5 * (i + 1);
        check_cell(cell[0], texts[i]);
        check_cell(cell[1], texts[(i + 1) % nt]);
        char digits[32];
        snprintf(digits, sizeof digits, "%lld", number + (long long)i);
        FUZZ_CHECK(!strcmp(cell[2], digits), "number cell '%s' for %s", cell[2], digits);
        check_cell(cell[3], texts[(i + 2) % nt]);
        FUZZ_CHECK(!cell[4][0], "a missing member wrote '%s'", cell[4]);
    }
    for (size_t i = 0; i < p.count; i++)
        free(p.cells[i]);
    free(p.cells);
    free(p.row_len);
    cp_reply_cleanup(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char *texts[FIELDS_MAX];
    size_t nt = 0, start = 0;
    uint64_t bits = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        bits = (bits << 8) | data[i];
    /* any sign, far enough from the ends that number + row index does not overflow */
    long long number = (long long)(bits >> 2);
    if (len && data[0] & 1)
        number = -number;
    for (size_t i = 0; i <= len && nt < FIELDS_MAX; i++) {
        if (i < len && data[i] != 0x1e)
            continue;
        const char *s = (const char *)data + start;
        size_t n = i - start;
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
            check_safe(s, n, caps[c]);
        /* answers hold text that passed the safe form or the loader's UTF-8 check */
        texts[nt++] = cp_text_safe_dup(s, n, caps[0]);
        start = i + 1;
    }
    if (nt)
        check_csv(texts, nt, number);
    for (size_t i = 0; i < nt; i++)
        free(texts[i]);
    return 0;
}
