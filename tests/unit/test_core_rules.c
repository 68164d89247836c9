/* Unit tests of the domain rules in core/ that every layer shares: Spotify ids (chart files'
 * uri/url columns, API paths, --playlist), calendar dates (files, flags, API, release dates),
 * the series vocabulary and text from outside (UTF-8, the safe form). Table-driven: one row
 * per input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/number.h"
#include "core/series.h"
#include "core/spotify_id.h"
#include "core/text.h"
#include "tests/testutil.h"

/* ---- Spotify ids ------------------------------------------------------------------- */

#define ID "37i9dQZF1DXcBWIGoYBM5M"

static const struct {
    const char *text;
    const char *kind;
    const char *want; /* NULL = refused */
} id_cases[] = {
    {ID, "playlist", ID},
    {"  " ID "\n", "playlist", ID},
    {"spotify:playlist:" ID, "playlist", ID},
    {"spotify:user:spotify:playlist:" ID, "playlist", ID},
    {"https://open.spotify.com/playlist/" ID, "playlist", ID},
    {"https://open.spotify.com/playlist/" ID "?si=a1b2c3d4e5", "playlist", ID},
    {"https://open.spotify.com/playlist/" ID "/", "playlist", ID},
    {"http://open.spotify.com/playlist/" ID "#top", "playlist", ID},
    {"open.spotify.com/playlist/" ID, "playlist", ID},
    {"https://open.spotify.com/intl-de/track/1zHlj4dQ8ZAtrayhuDDmkY?si=x", "track",
     "1zHlj4dQ8ZAtrayhuDDmkY"},
    {"https://open.spotify.com/embed/track/1zHlj4dQ8ZAtrayhuDDmkY", "track",
     "1zHlj4dQ8ZAtrayhuDDmkY"},
    {"spotify:track:1zHlj4dQ8ZAtrayhuDDmkY", "track", "1zHlj4dQ8ZAtrayhuDDmkY"},
    {"spotify:artist:0TnOYISbd1XYRBk9myaseg", "artist", "0TnOYISbd1XYRBk9myaseg"},
    /* refused */
    {"spotify:album:1zHlj4dQ8ZAtrayhuDDmkY", "track", NULL},
    {"https://open.spotify.com/album/1zHlj4dQ8ZAtrayhuDDmkY", "track", NULL},
    {"https://example.com/track/1zHlj4dQ8ZAtrayhuDDmkY", "track", NULL},
    {"https://open.spotify.com/track/", "track", NULL},
    {"spotify:track:", "track", NULL},
    {"1zHlj4dQ8ZAtrayhuDDmk", "track", NULL},   /* 21 characters */
    {"1zHlj4dQ8ZAtrayhuDDmkYY", "track", NULL}, /* 23 characters */
    {"1zHlj4dQ8ZAtrayhuDDm-Y", "track", NULL},  /* not base62 */
    {"spotify:track:1zHlj4dQ8ZAtrayhuDDmkY:extra", "track", NULL},
    {"notspotify:track:1zHlj4dQ8ZAtrayhuDDmkY", "track", NULL},
    {"", "track", NULL},
};

START_TEST(parse_ids_of_each_kind)
{
    for (size_t i = 0; i < sizeof id_cases / sizeof id_cases[0]; i++) {
        char out[CP_SPOTIFY_ID_SIZE] = "";
        cp_status st = cp_spotify_parse_id(id_cases[i].text, id_cases[i].kind, out);
        if (id_cases[i].want) {
            ck_assert_msg(st == CP_OK, "'%s' as %s was refused", id_cases[i].text,
                          id_cases[i].kind);
            ck_assert_str_eq(out, id_cases[i].want);
        } else {
            ck_assert_msg(st == CP_ERR_INVALID, "'%s' as %s was accepted as %s", id_cases[i].text,
                          id_cases[i].kind, out);
        }
    }
    ck_assert(cp_spotify_id_valid(ID));
    ck_assert(!cp_spotify_id_valid(NULL));
    ck_assert(!cp_spotify_id_valid("abc"));
}
END_TEST

/* The forms chart files write in their uri/url columns. */
struct track_case {
    const char *in;
    const char *id; /* NULL = none */
};

static const struct track_case track_cases[] = {
    {"spotify:track:7qiZfU4dY1lWllzX7mPBI3", "7qiZfU4dY1lWllzX7mPBI3"},
    {"https://open.spotify.com/track/7qiZfU4dY1lWllzX7mPBI3", "7qiZfU4dY1lWllzX7mPBI3"},
    {"https://open.spotify.com/track/7qiZfU4dY1lWllzX7mPBI3?si=abc", "7qiZfU4dY1lWllzX7mPBI3"},
    {"https://open.spotify.com/intl-de/track/7qiZfU4dY1lWllzX7mPBI3", "7qiZfU4dY1lWllzX7mPBI3"},
    {"7qiZfU4dY1lWllzX7mPBI3", "7qiZfU4dY1lWllzX7mPBI3"},
    {" 7qiZfU4dY1lWllzX7mPBI3 ", "7qiZfU4dY1lWllzX7mPBI3"},
    {"7qiZfU4dY1lWllzX7mPBI", NULL},
    {"7qiZfU4dY1lWllzX7mPBI33", NULL},
    {"7qiZfU4dY1lWllzX7mPBI3?x", NULL},
    {"spotify:album:7qiZfU4dY1lWllzX7mPBI3", NULL},
    {"https://open.spotify.com/album/7qiZfU4dY1lWllzX7mPBI3", NULL},
    {"https://open.spotify.com/track/7qiZfU4dY1lWllzX7mPBI-", NULL},
    {"", NULL},
};

START_TEST(track_ids)
{
    const struct track_case *c = &track_cases[_i];
    char out[23] = "";
    bool ok = cp_spotify_parse_id(c->in, "track", out) == CP_OK;
    if (c->id) {
        ck_assert_msg(ok, "'%s' not extracted", c->in);
        ck_assert_str_eq(out, c->id);
        ck_assert(cp_spotify_id_valid(out));
    } else {
        ck_assert_msg(!ok, "'%s' gave '%s'", c->in, out);
    }
}
END_TEST

START_TEST(id_valid)
{
    ck_assert(cp_spotify_id_valid("0123456789abcdefABCDEF"));
    ck_assert(!cp_spotify_id_valid("0123456789abcdefABCDE"));
    ck_assert(!cp_spotify_id_valid("0123456789abcdefABCDE_"));
    ck_assert(!cp_spotify_id_valid(NULL));
    ck_assert(cp_spotify_parse_id(NULL, "track", (char[23]){0}) == CP_ERR_INVALID);
}
END_TEST

/* ---- dates ----------------------------------------------------------------------- */

START_TEST(chart_dates)
{
    static const char *good[] = {"2017-01-01", "2020-02-29", "2000-02-29", "2021-12-31"};
    static const char *bad[] = {"2021-02-29", "1900-02-29", "2021-13-01", "2021-00-10",
                                "2021-04-31", "2021-1-01",  "20210101",   "2021-01-01x",
                                "",           "1899-12-31", "2021/01/01"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(cp_date_valid(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!cp_date_valid(bad[i]), "%s", bad[i]);
    ck_assert(!cp_date_valid(NULL));
}
END_TEST

/* API dates follow the same rule as chart dates: a year before 1900 is refused everywhere. */
START_TEST(one_date_rule)
{
    ck_assert(!cp_date_valid("0005-01-01"));
    ck_assert(!cp_date_valid("1899-12-31"));
    ck_assert(cp_date_valid("1900-01-01"));
    ck_assert(cp_date_valid("9999-12-31"));
    ck_assert(cp_date_valid_n("0005-01-01", 10, 1));
    ck_assert(!cp_date_valid_n("2021-01-01", 9, 1));
}
END_TEST

START_TEST(day_arithmetic_round_trips)
{
    ck_assert_int_eq(cp_date_to_days(1970, 1, 1), 0);
    ck_assert_int_eq(cp_date_text_to_days("2000-03-01"), 11017);
    ck_assert_int_eq(cp_date_to_days(1969, 12, 31), -1);
    char out[11];
    for (long d = cp_date_to_days(1899, 12, 25); d < cp_date_to_days(2101, 1, 10); d += 13) {
        cp_date_format_days(d, out);
        ck_assert_msg(cp_date_valid_n(out, strlen(out), 1), "%ld gave %s", d, out);
        ck_assert_int_eq(cp_date_text_to_days(out), d);
    }
    cp_date_format_days(cp_date_to_days(2024, 2, 29), out);
    ck_assert_str_eq(out, "2024-02-29");
}
END_TEST

static const struct {
    const char *text;
    const char *precision;
    const char *want_date; /* NULL = refused */
    const char *want_precision;
} date_cases[] = {
    {"2019", "year", "2019-01-01", "year"},
    {"2019-05", "month", "2019-05-01", "month"},
    {"2019-05-17", "day", "2019-05-17", "day"},
    {"2019-05-17", NULL, "2019-05-17", "day"},
    {"1987", NULL, "1987-01-01", "year"},
    {"2020-02-29", "day", "2020-02-29", "day"},
    {"2019-02-29", "day", NULL, NULL},
    {"2019-13", "month", NULL, NULL},
    {"0000", "year", NULL, NULL}, /* the API's placeholder for unknown */
    {"2019", "day", NULL, NULL},  /* text and precision disagree */
    {"2019-5-1", NULL, NULL, NULL},
    {"", NULL, NULL, NULL},
    {NULL, "year", NULL, NULL},
};

START_TEST(release_dates)
{
    for (size_t i = 0; i < sizeof date_cases / sizeof date_cases[0]; i++) {
        char out[11] = "";
        const char *precision = NULL;
        bool ok =
            cp_date_parse_release(date_cases[i].text, date_cases[i].precision, out, &precision);
        if (date_cases[i].want_date) {
            ck_assert_msg(ok, "'%s' refused", date_cases[i].text);
            ck_assert_str_eq(out, date_cases[i].want_date);
            ck_assert_str_eq(precision, date_cases[i].want_precision);
        } else {
            ck_assert_msg(!ok, "'%s' accepted as %s",
                          date_cases[i].text ? date_cases[i].text : "NULL", out);
        }
    }
}
END_TEST

/* ---- series vocabulary and numbers ---------------------------------------------------- */

START_TEST(series_vocabulary)
{
    ck_assert(cp_period_valid("daily"));
    ck_assert(cp_period_valid("weekly"));
    ck_assert(!cp_period_valid("Daily"));
    ck_assert(!cp_period_valid("monthly"));
    ck_assert(!cp_period_valid(NULL));
    ck_assert(cp_chart_kind_valid("regional"));
    ck_assert(cp_chart_kind_valid("viral"));
    ck_assert(!cp_chart_kind_valid("top200"));
    ck_assert_str_eq(cp_periods[0], "daily");
    ck_assert_str_eq(cp_chart_kinds[0], "regional");
    ck_assert_int_eq(cp_period_days("weekly"), 7);
    ck_assert_int_eq(cp_period_days("daily"), 1);
    /* counts are named by their unit (SPEC 4a) */
    ck_assert_str_eq(cp_period_unit("weekly"), "weeks");
    ck_assert_str_eq(cp_period_unit("daily"), "days");
    ck_assert_str_eq(cp_period_on_chart("weekly"), "weeks_on_chart");
    ck_assert_str_eq(cp_period_on_chart("daily"), "days_on_chart");
    ck_assert(cp_region_known("global"));
    ck_assert(cp_region_known("us"));
    ck_assert(!cp_region_known("zz"));
    ck_assert(!cp_region_known("US"));
}
END_TEST

START_TEST(numbers)
{
    long long v = -1;
    ck_assert(cp_number_parse("0", 0, 10, &v) && v == 0);
    ck_assert(cp_number_parse("10", 0, 10, &v) && v == 10);
    ck_assert(!cp_number_parse("11", 0, 10, &v));
    ck_assert(!cp_number_parse("-1", -5, 10, &v));
    ck_assert(!cp_number_parse(" 1", 0, 10, &v));
    ck_assert(!cp_number_parse("1x", 0, 10, &v));
    ck_assert(!cp_number_parse("", 0, 10, &v));
    ck_assert(!cp_number_parse(NULL, 0, 10, &v));
    ck_assert(!cp_number_parse("9999999999999999999", 0, 10, &v));
    ck_assert(v == 10);
    ck_assert_int_eq(cp_hex_digit('0'), 0);
    ck_assert_int_eq(cp_hex_digit('9'), 9);
    ck_assert_int_eq(cp_hex_digit('a'), 10);
    ck_assert_int_eq(cp_hex_digit('F'), 15);
    ck_assert_int_eq(cp_hex_digit('g'), -1);
    ck_assert_int_eq(cp_hex_digit('%'), -1);
}
END_TEST

/* ---- text from outside ---------------------------------------------------------------- */

static const struct {
    const char *bytes;
    size_t len;
    size_t invalid_at; /* len when valid */
} utf8_cases[] = {
    {"", 0, 0},
    {"plain ascii", 11, 11},
    {"Caf\xC3\xA9", 5, 5},
    {"\xEB\xB0\xA4\xED\x8E\xB8", 6, 6}, /* Hangul */
    {"\xF0\x9F\x8E\xB5 note", 9, 9},    /* U+1F3B5 */
    {"\xF4\x8F\xBF\xBF", 4, 4},         /* U+10FFFF, the last */
    {"a\0b", 3, 3},                     /* NUL is UTF-8; callers check it apart */
    {"ab\xFF", 3, 2},                   /* never a UTF-8 byte */
    {"Caf\xE9", 4, 3},                  /* Latin-1 */
    {"\xC0\xAF", 2, 0},                 /* overlong '/' */
    {"\xE0\x80\xAF", 3, 0},             /* overlong, three bytes */
    {"\xF0\x80\x80\xAF", 4, 0},         /* overlong, four bytes */
    {"x\xED\xA0\x80", 4, 1},            /* a UTF-16 surrogate */
    {"\xF4\x90\x80\x80", 4, 0},         /* above U+10FFFF */
    {"ok\xE2\x82", 4, 2},               /* cut off at the end */
    {"\xE2\x82z", 3, 0},                /* cut off by another character */
    {"\x80", 1, 0},                     /* a lone continuation byte */
};

START_TEST(utf8_validation)
{
    size_t got = cp_utf8_invalid_at(utf8_cases[_i].bytes, utf8_cases[_i].len);
    ck_assert_msg(got == utf8_cases[_i].invalid_at, "case %d: invalid at %zu, expected %zu", _i,
                  got, utf8_cases[_i].invalid_at);
}
END_TEST

START_TEST(safe_text_form)
{
    /* valid text as it is; NUL and bytes that are not UTF-8 as \xNN */
    char *safe = cp_text_safe_dup("La\0Foo \xFF\xC3\xA9\\", 11, 100);
    ck_assert_str_eq(safe, "La\\x00Foo \\xff\xC3\xA9\\");
    ck_assert_int_eq(cp_utf8_invalid_at(safe, strlen(safe)), strlen(safe));
    /* applying it again changes nothing */
    char *again = cp_text_safe_dup(safe, strlen(safe), 100);
    ck_assert_str_eq(again, safe);
    free(again);
    free(safe);

    /* over the cap: cut at a character boundary, the marker says how long it was, the whole
     * within the cap */
    char big[3000];
    for (size_t i = 0; i < sizeof big; i += 3)
        memcpy(big + i, "\xE2\x82\xAC", 3); /* U+20AC */
    safe = cp_text_safe_dup(big, sizeof big, 100);
    size_t n = strlen(safe);
    ck_assert_msg(n <= 100, "%zu bytes", n);
    ck_assert_ptr_nonnull(strstr(safe, " [cut: 3000 bytes in all]"));
    ck_assert_int_eq(cp_utf8_invalid_at(safe, n), n);
    again = cp_text_safe_dup(safe, n, 100);
    ck_assert_str_eq(again, safe);
    free(again);
    free(safe);

    /* an escape is never split by the cut */
    char nuls[200] = {0};
    safe = cp_text_safe_dup(nuls, sizeof nuls, 64);
    ck_assert_msg(strlen(safe) <= 64, "%s", safe);
    const char *marker = strstr(safe, " [cut:");
    ck_assert_ptr_nonnull(marker);
    ck_assert_int_eq((marker - safe) % 4, 0);
    free(safe);
    /* exactly at the cap: no cut */
    safe = cp_text_safe_dup("abcd", 4, 4 + CP_TEXT_CUT_MARKER_MAX);
    ck_assert_str_eq(safe, "abcd");
    free(safe);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_rules");
    TCase *tc = tcase_create("core_rules");
    tcase_add_test(tc, parse_ids_of_each_kind);
    tcase_add_loop_test(tc, track_ids, 0, sizeof track_cases / sizeof track_cases[0]);
    tcase_add_test(tc, id_valid);
    tcase_add_test(tc, chart_dates);
    tcase_add_test(tc, one_date_rule);
    tcase_add_test(tc, day_arithmetic_round_trips);
    tcase_add_test(tc, release_dates);
    tcase_add_test(tc, series_vocabulary);
    tcase_add_test(tc, numbers);
    tcase_add_loop_test(tc, utf8_validation, 0, sizeof utf8_cases / sizeof utf8_cases[0]);
    tcase_add_test(tc, safe_text_form);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
