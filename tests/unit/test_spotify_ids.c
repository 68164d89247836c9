/* Unit tests of the Spotify client's pure parts (ids and dates: test_core_rules.c):
 * Retry-After, backoff, hosts for messages, and playlist items. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pipeline/enrich.h"
#include "pipeline/spotify.h"
#include "pipeline/spotify_ingest.h"
#include "tests/testutil.h"

#define ID "37i9dQZF1DXcBWIGoYBM5M"

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
    tcase_add_test(tc, retry_after);
    tcase_add_test(tc, backoff);
    tcase_add_test(tc, url_host);
    tcase_add_test(tc, playlist_items);
    tcase_add_test(tc, client_needs_credentials);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
