/* Unit tests of the Spotify client's pure parts: id parsing (bare ids, URIs, URLs),
 * Retry-After, backoff, hosts for messages, release dates, and playlist items. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "enrich.h"
#include "spotify.h"
#include "spotify_ingest.h"
#include "testutil.h"

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

START_TEST(parse_ids)
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

START_TEST(retry_after)
{
    double s = -1;
    ck_assert(cp_spotify_parse_retry_after("5", 0, &s));
    ck_assert(s == 5);
    ck_assert(cp_spotify_parse_retry_after(" 120 ", 0, &s));
    ck_assert(s == 120);
    ck_assert(cp_spotify_parse_retry_after("0", 0, &s));
    ck_assert(s == 0);
    /* 1994-11-06T08:49:37Z is 784111777 */
    ck_assert(cp_spotify_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770, &s));
    ck_assert(fabs(s - 7) < 1e-9);
    ck_assert(cp_spotify_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111800, &s));
    ck_assert(s == 0); /* a date in the past: retry now */
    ck_assert(!cp_spotify_parse_retry_after(NULL, 0, &s));
    ck_assert(!cp_spotify_parse_retry_after("", 0, &s));
    ck_assert(!cp_spotify_parse_retry_after("soon", 0, &s));
    ck_assert(!cp_spotify_parse_retry_after("5s", 0, &s));
    ck_assert(!cp_spotify_parse_retry_after("-1", 0, &s));
    ck_assert(!cp_spotify_parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 0, &s));
}
END_TEST

START_TEST(backoff)
{
    /* equal jitter: between half and all of base * 2^attempt, capped */
    ck_assert(cp_spotify_backoff(0, 0.5, 30, 0) == 0.25);
    ck_assert(fabs(cp_spotify_backoff(0, 0.5, 30, 0.999999) - 0.5) < 1e-6);
    ck_assert(cp_spotify_backoff(3, 0.5, 30, 0) == 2);
    ck_assert(cp_spotify_backoff(20, 0.5, 30, 0) == 15);
    ck_assert(cp_spotify_backoff(20, 0.5, 30, 0.5) <= 30);
}
END_TEST

START_TEST(url_host)
{
    char host[128];
    cp_spotify_url_host("https://api.spotify.com/v1", host, sizeof host);
    ck_assert_str_eq(host, "api.spotify.com");
    cp_spotify_url_host("http://127.0.0.1:8080/v1/tracks?ids=a", host, sizeof host);
    ck_assert_str_eq(host, "127.0.0.1:8080");
    cp_spotify_url_host("http://user:secret@example.com:81", host, sizeof host);
    ck_assert_str_eq(host, "example.com:81");
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
            cp_enrich_release_date(date_cases[i].text, date_cases[i].precision, out, &precision);
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

START_TEST(playlist_items)
{
    static const struct {
        const char *json;
        const char *want_id; /* NULL = not a track entry */
    } cases[] = {
        {"{\"is_local\":false,\"item\":{\"id\":\"" ID "\",\"type\":\"track\"}}", ID},
        /* extended quota mode apps still see `track` */
        {"{\"is_local\":false,\"track\":{\"id\":\"" ID "\",\"type\":\"track\"}}", ID},
        {"{\"is_local\":true,\"item\":{\"id\":null,\"type\":\"track\",\"is_local\":true}}", NULL},
        {"{\"is_local\":false,\"item\":{\"id\":\"" ID "\",\"type\":\"episode\"}}", NULL},
        {"{\"is_local\":false,\"item\":null}", NULL},
        {"{\"is_local\":false,\"item\":{\"id\":\"short\",\"type\":\"track\"}}", NULL},
        {"null", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *item = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        const json_t *track = cp_spotify_ingest_item_track(item);
        if (cases[i].want_id) {
            ck_assert_msg(track != NULL, "%s", cases[i].json);
            ck_assert_str_eq(json_string_value(json_object_get(track, "id")), cases[i].want_id);
        } else {
            ck_assert_msg(track == NULL, "%s", cases[i].json);
        }
        json_decref(item);
    }
}
END_TEST

START_TEST(client_needs_credentials)
{
    struct cp_spotify_settings settings = {.api_url = "http://127.0.0.1:1/v1",
                                           .accounts_url = "http://127.0.0.1:1",
                                           .client_id = "id",
                                           .client_secret = NULL};
    struct cp_spotify *sp = NULL;
    char err[256];
    ck_assert_int_eq(cp_spotify_new(&settings, &sp, err, sizeof err), CP_ERR_INVALID);
    ck_assert_msg(strstr(err, "SPOTIFY_CLIENT_SECRET") != NULL, "%s", err);
    settings.client_secret = "secret";
    ck_assert_int_eq(cp_spotify_new(&settings, &sp, err, sizeof err), CP_OK);
    /* a `next` link elsewhere would carry the token to another host: refused unsent */
    struct cp_spotify_reply reply;
    ck_assert_int_eq(cp_spotify_get(sp, "https://evil.example/v1/tracks", &reply, err, sizeof err),
                     CP_ERR_INVALID);
    ck_assert_int_eq(cp_spotify_get(sp, "http://127.0.0.1:1/v10/x", &reply, err, sizeof err),
                     CP_ERR_INVALID);
    ck_assert_int_eq(cp_spotify_stats(sp)->requests, 0);
    cp_spotify_reply_cleanup(&reply);
    cp_spotify_free(sp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spotify_ids");
    TCase *tc = tcase_create("spotify_ids");
    tcase_add_test(tc, parse_ids);
    tcase_add_test(tc, retry_after);
    tcase_add_test(tc, backoff);
    tcase_add_test(tc, url_host);
    tcase_add_test(tc, release_dates);
    tcase_add_test(tc, playlist_items);
    tcase_add_test(tc, client_needs_credentials);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
