/* The search endpoint: validate q, match names in the database, shape the hits. */
#include "handlers/search.h"

#include <stddef.h>

#include "core/log.h"
#include "db/search_repo.h"
#include "handlers/params.h"

#define SEARCH_QUERY_MAX_CHARS 200

/* The number of characters in s when it is valid UTF-8 without control characters, else
 * -1. */
static long utf8_text_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long chars = 0;
    while (*p) {
        unsigned c = *p;
        size_t extra;
        unsigned min;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return -1;
            extra = 0;
            min = 0;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            c &= 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            c &= 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            c &= 0x07;
            min = 0x10000;
        } else {
            return -1;
        }
        p++;
        for (size_t i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            c = (c << 6) | (*p & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -1;
        chars++;
    }
    return chars;
}

cp_status cp_search_index(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    const char *q = cp_request_query(req, "q");
    if (!q || !*q)
        return cp_reply_problem(reply, CP_ERR_INVALID, "q: is required (1..%d characters)",
                                SEARCH_QUERY_MAX_CHARS);
    long chars = utf8_text_chars(q);
    if (chars < 0)
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "q: must be UTF-8 text without control characters");
    if (chars > SEARCH_QUERY_MAX_CHARS)
        return cp_reply_problem(reply, CP_ERR_INVALID, "q: must be 1..%d characters (got %ld)",
                                SEARCH_QUERY_MAX_CHARS, chars);
    int limit;
    cp_status st = cp_param_limit(req, reply, &limit);
    if (st != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_search_results results;
    char err[512];
    st = cp_search_repo_find(db, q, limit, &results, err, sizeof err);
    if (st != CP_OK) {
        cp_log_error("search query failed: %s", err);
        return cp_reply_problem(reply, st, "the search could not be run in the database");
    }

    /* build */
    json_t *tracks = json_array();
    for (size_t i = 0; i < results.track_count; i++) {
        const struct cp_search_hit *h = &results.tracks[i];
        json_array_append_new(
            tracks,
            json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", h->id, "name", h->name,
                      "artists", h->artist_names, "song_id", h->song_id, "first_chart_date",
                      h->first_date ? json_string(h->first_date) : json_null(), "last_chart_date",
                      h->last_date ? json_string(h->last_date) : json_null(), "best_rank",
                      h->best_rank ? json_integer(h->best_rank) : json_null()));
    }
    json_t *artists = json_array();
    for (size_t i = 0; i < results.artist_count; i++) {
        const struct cp_search_hit *h = &results.artists[i];
        json_array_append_new(artists,
                              json_pack("{s:s, s:o, s:s}", "id", h->id, "spotify_id",
                                        h->spotify_id ? json_string(h->spotify_id) : json_null(),
                                        "name", h->name));
    }
    cp_search_repo_cleanup(&results);

    /* respond */
    return cp_reply_json(
        reply, json_pack("{s:s, s:o, s:o}", "query", q, "tracks", tracks, "artists", artists));
}
