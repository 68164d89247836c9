/* A fake Spotify Web API and accounts service for the tests, on libmicrohttpd: it serves a
 * catalog read from a JSON file the way the real service documents (2026), injects
 * scripted faults, and records every request so tests can check what was asked.
 *
 * usage: fake_spotify --catalog FILE [--port N] [--client-id ID] [--client-secret S]
 *                     [--expires-in SECONDS] [--token-uses N] [--omit FIELD,...]
 *                     [--faults JSON]
 * Prints "port N" on stdout once it listens on 127.0.0.1, then serves until SIGTERM.
 *
 * Service routes (as the real one):
 *   POST /api/token                       client credentials (Basic auth or form fields)
 *   GET  /v1/playlists/{id}/items         paging object, limit <= 50, `next` links
 *   GET  /v1/playlists/{id}/tracks        403: removed for development-mode apps
 *   GET  /v1/tracks?ids= (<= 50)  /v1/tracks/{id}
 *   GET  /v1/albums?ids= (<= 20)  /v1/albums/{id}
 *   GET  /v1/artists?ids= (<= 50) /v1/artists/{id}
 * Errors are {"error":{"status":N,"message":"..."}}; the token endpoint's are
 * {"error":"invalid_client","error_description":"..."}.
 *
 * Control routes (not recorded):
 *   GET  /_fake/requests        every request so far, as a JSON array of
 *                               {seq, method, path, query, route, status, fault,
 *                                token, client_port}
 *   POST /_fake/faults          a JSON array of fault rules, added to those in force
 *   POST /_fake/expire-tokens   every token issued so far answers 401 from now on
 *   POST /_fake/reset           forget requests, faults and tokens
 * A fault rule: {"route": R, "nth": N, "times": T, "status": S, "retry_after": A,
 *                "reason": "QUOTA_EXCEEDED", "message": M}
 *   route: token, playlist-items, tracks-batch, track, albums-batch, album,
 *          artists-batch, artist, or "*" for any service route
 *   nth:   fires from the route's Nth request on (1-based, default 1)
 *   times: how many requests it answers (default 1; 0 = every one from then on)
 *   status: the HTTP status to answer (0 = close the connection without an answer)
 *   retry_after: Retry-After header value (number or string); reason: error.reason
 * --omit drops fields from every object served: popularity, followers, genres, label,
 * isrc (as development-mode apps see them since February 2026). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/mem.h"

#define QUERY_MAX          (1 << 16)
#define MAX_BODY           (1 << 20)
#define PAGE_LIMIT_MAX     50
#define PAGE_LIMIT_DEFAULT 20

struct token {
    char *value;
    double expires_at;
    long uses;
    bool revoked;
};

struct fake {
    json_t *tracks;    /* id -> catalog entry */
    json_t *albums;    /* id -> catalog entry */
    json_t *artists;   /* id -> catalog entry */
    json_t *playlists; /* id -> catalog entry */
    const char *client_id;
    const char *client_secret;
    long expires_in;
    long token_uses; /* 0 = unlimited */
    bool omit_popularity, omit_followers, omit_genres, omit_label, omit_isrc;
    json_t *faults;       /* array of rules, each with a "fired" count */
    json_t *requests;     /* the request log */
    json_t *route_counts; /* route -> requests so far */
    struct token *tokens;
    size_t n_tokens;
    long token_serial;
};

static struct fake fake;

/* ---------------------------------------------------------------- helpers */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool valid_id(const char *id)
{
    if (!id || strlen(id) != 22)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return false;
    return true;
}

struct request {
    struct cp_buf body;
    bool started;
};

struct answer {
    int status; /* 0 = drop the connection */
    json_t *body;
    char retry_after[32];
};

static void answer_json(struct answer *a, int status, json_t *body)
{
    a->status = status;
    json_decref(a->body);
    a->body = body;
}

static void answer_error(struct answer *a, int status, const char *message)
{
    answer_json(a, status,
                json_pack("{s:{s:i,s:s}}", "error", "status", status, "message", message));
}

static void answer_auth_error(struct answer *a, int status, const char *code, const char *desc)
{
    answer_json(a, status, json_pack("{s:s,s:s}", "error", code, "error_description", desc));
}

/* ---------------------------------------------------------------- objects */

static char *base_url(struct MHD_Connection *conn)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    return cp_asprintf("http://%s/v1", host ? host : "127.0.0.1");
}

static json_t *external_urls(const char *kind, const char *id)
{
    char *url = cp_asprintf("https://open.spotify.com/%s/%s", kind, id);
    json_t *o = json_pack("{s:s}", "spotify", url);
    free(url);
    return o;
}

static void set_common(json_t *o, const char *base, const char *kind, const char *id)
{
    char *href = cp_asprintf("%s/%ss/%s", base, kind, id);
    char *uri = cp_asprintf("spotify:%s:%s", kind, id);
    json_object_set_new(o, "external_urls", external_urls(kind, id));
    json_object_set_new(o, "href", json_string(href));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "type", json_string(kind));
    json_object_set_new(o, "uri", json_string(uri));
    free(href);
    free(uri);
}

static void copy_field(json_t *to, const json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (v)
        json_object_set(to, key, v);
}

static json_t *images_of(const json_t *entry)
{
    json_t *images = json_object_get(entry, "images");
    return images ? json_incref(images) : json_array();
}

static json_t *simplified_artist(const char *base, const char *id)
{
    const json_t *entry = json_object_get(fake.artists, id);
    json_t *o = json_object();
    set_common(o, base, "artist", id);
    json_object_set_new(o, "name",
                        json_string(json_string_value(json_object_get(entry, "name"))
                                        ? json_string_value(json_object_get(entry, "name"))
                                        : ""));
    return o;
}

static json_t *artist_list(const char *base, const json_t *ids)
{
    json_t *list = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
        json_array_append_new(list, simplified_artist(base, json_string_value(id)));
    return list;
}

static json_t *full_artist(const char *base, const char *id)
{
    const json_t *entry = json_object_get(fake.artists, id);
    json_t *o = simplified_artist(base, id);
    if (!fake.omit_followers && json_object_get(entry, "followers"))
        json_object_set_new(
            o, "followers",
            json_pack("{s:n,s:O}", "href", "total", json_object_get(entry, "followers")));
    if (!fake.omit_genres && json_object_get(entry, "genres"))
        copy_field(o, entry, "genres");
    json_object_set_new(o, "images", images_of(entry));
    if (!fake.omit_popularity)
        copy_field(o, entry, "popularity");
    return o;
}

static json_t *simplified_album(const char *base, const char *id)
{
    const json_t *entry = json_object_get(fake.albums, id);
    json_t *o = json_object();
    copy_field(o, entry, "album_type");
    json_object_set_new(o, "artists", artist_list(base, json_object_get(entry, "artists")));
    json_object_set_new(o, "available_markets", json_pack("[sss]", "DE", "SE", "US"));
    set_common(o, base, "album", id);
    json_object_set_new(o, "images", images_of(entry));
    copy_field(o, entry, "name");
    copy_field(o, entry, "release_date");
    copy_field(o, entry, "release_date_precision");
    copy_field(o, entry, "total_tracks");
    return o;
}

static json_t *full_album(const char *base, const char *id)
{
    const json_t *entry = json_object_get(fake.albums, id);
    json_t *o = simplified_album(base, id);
    json_object_set_new(o, "copyrights", json_array());
    json_object_set_new(o, "external_ids", json_pack("{s:s}", "upc", "00000000000000"));
    json_object_set_new(o, "genres", json_array());
    if (!fake.omit_label)
        copy_field(o, entry, "label");
    if (!fake.omit_popularity)
        copy_field(o, entry, "popularity");
    char *href = cp_asprintf("%s/albums/%s/tracks?offset=0&limit=50", base, id);
    json_t *total = json_object_get(entry, "total_tracks");
    json_object_set_new(
        o, "tracks",
        json_pack("{s:s,s:[],s:i,s:n,s:i,s:n,s:I}", "href", href, "items", "limit", 50, "next",
                  "offset", 0, "previous", "total",
                  (json_int_t)(json_is_integer(total) ? json_integer_value(total) : 0)));
    free(href);
    return o;
}

static json_t *full_track(const char *base, const char *id)
{
    const json_t *entry = json_object_get(fake.tracks, id);
    json_t *o = json_object();
    const char *album_id = json_string_value(json_object_get(entry, "album"));
    if (album_id)
        json_object_set_new(o, "album", simplified_album(base, album_id));
    json_object_set_new(o, "artists", artist_list(base, json_object_get(entry, "artists")));
    json_object_set_new(o, "available_markets", json_pack("[sss]", "DE", "SE", "US"));
    json_object_set_new(o, "disc_number", json_integer(1));
    copy_field(o, entry, "duration_ms");
    copy_field(o, entry, "explicit");
    const char *isrc = json_string_value(json_object_get(entry, "isrc"));
    if (isrc && !fake.omit_isrc)
        json_object_set_new(o, "external_ids", json_pack("{s:s}", "isrc", isrc));
    set_common(o, base, "track", id);
    json_object_set_new(o, "is_local", json_false());
    copy_field(o, entry, "name");
    if (!fake.omit_popularity)
        copy_field(o, entry, "popularity");
    json_object_set_new(o, "preview_url", json_null());
    json_object_set_new(o, "track_number", json_integer(1));
    return o;
}

/* One entry of a playlist's item list as a playlist item object. */
static json_t *playlist_item(const char *base, const json_t *spec, size_t index)
{
    json_t *item = json_object();
    char added[32];
    snprintf(added, sizeof added, "2026-01-%02zuT12:00:00Z", index % 28 + 1);
    json_object_set_new(item, "added_at", json_string(added));
    json_object_set_new(
        item, "added_by",
        json_pack("{s:s,s:s,s:s}", "id", "owner", "type", "user", "uri", "spotify:user:owner"));
    json_object_set_new(item, "primary_color", json_null());
    json_t *track = NULL;
    bool local = false;
    if (json_is_string(spec) && json_object_get(fake.tracks, json_string_value(spec))) {
        track = full_track(base, json_string_value(spec));
    } else if (json_is_object(spec) && json_object_get(spec, "local")) {
        local = true;
        track = json_pack("{s:n,s:[],s:n,s:b,s:O,s:s,s:n}", "id", "artists", "href", "is_local", 1,
                          "name", json_object_get(spec, "local"), "type", "track", "uri");
    } else if (json_is_object(spec) && json_object_get(spec, "episode")) {
        track = json_pack("{s:s,s:O,s:s,s:s}", "id", "0123456789abcdefghijEP", "name",
                          json_object_get(spec, "episode"), "type", "episode", "uri",
                          "spotify:episode:0123456789abcdefghijEP");
    }
    json_object_set_new(item, "is_local", json_boolean(local));
    json_object_set_new(item, "item", track ? track : json_null());
    return item;
}

/* ---------------------------------------------------------------- faults */

static long count_request(const char *route)
{
    long n = json_integer_value(json_object_get(fake.route_counts, route)) + 1;
    json_object_set_new(fake.route_counts, route, json_integer(n));
    return n;
}

/* The rule that answers this request, if any; returns its index or -1. */
static int match_fault(const char *route, long nth_of_route, long nth_overall, struct answer *a)
{
    size_t i;
    json_t *rule;
    json_array_foreach(fake.faults, i, rule)
    {
        const char *r = json_string_value(json_object_get(rule, "route"));
        bool any = r && !strcmp(r, "*");
        if (!r || (!any && strcmp(r, route)))
            continue;
        json_t *nth_value = json_object_get(rule, "nth");
        json_t *times_value = json_object_get(rule, "times");
        long nth = json_is_integer(nth_value) ? (long)json_integer_value(nth_value) : 1;
        long times = json_is_integer(times_value) ? (long)json_integer_value(times_value) : 1;
        long fired = (long)json_integer_value(json_object_get(rule, "fired"));
        long seen = any ? nth_overall : nth_of_route;
        if (seen < nth || (times > 0 && fired >= times))
            continue;
        json_object_set_new(rule, "fired", json_integer(fired + 1));
        int status = (int)json_integer_value(json_object_get(rule, "status"));
        a->status = status;
        if (status == 0)
            return (int)i;
        const char *message = json_string_value(json_object_get(rule, "message"));
        const char *reason = json_string_value(json_object_get(rule, "reason"));
        if (!message)
            message = status == 429   ? "API rate limit exceeded"
                      : status == 403 ? "Forbidden"
                      : status == 404 ? "Resource not found"
                      : status >= 500 ? "Service unavailable"
                                      : "Error";
        json_t *error = json_pack("{s:i,s:s}", "status", status, "message", message);
        if (reason)
            json_object_set_new(error, "reason", json_string(reason));
        if (!strcmp(route, "token") && status < 500 && status != 429) {
            answer_auth_error(a, status, message, message);
            json_decref(error);
        } else {
            answer_json(a, status, json_pack("{s:o}", "error", error));
        }
        json_t *retry = json_object_get(rule, "retry_after");
        if (json_is_integer(retry))
            snprintf(a->retry_after, sizeof a->retry_after, "%lld",
                     (long long)json_integer_value(retry));
        else if (json_is_string(retry))
            snprintf(a->retry_after, sizeof a->retry_after, "%s", json_string_value(retry));
        return (int)i;
    }
    return -1;
}

/* ---------------------------------------------------------------- routes */

static void serve_token(struct MHD_Connection *conn, const struct request *req, struct answer *a)
{
    char *client = NULL, *secret = NULL;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth && !strncasecmp(auth, "Basic ", 6)) {
        const char *b64 = auth + 6;
        size_t len = strlen(b64);
        unsigned char *decoded = cp_calloc(len + 4, 1);
        int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)len);
        if (n > 0) {
            while (n > 0 && decoded[n - 1] == '\0')
                n--;
            decoded[n] = '\0';
            char *colon = strchr((char *)decoded, ':');
            if (colon) {
                client = cp_strndup((char *)decoded, (size_t)(colon - (char *)decoded));
                secret = cp_strdup(colon + 1);
            }
        }
        free(decoded);
    }
    const char *body = req->body.data ? req->body.data : "";
    const char *content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    bool form = content_type && !strncasecmp(content_type, "application/x-www-form-urlencoded", 33);
    if (!form || !strstr(body, "grant_type=client_credentials")) {
        answer_auth_error(a, 400, "unsupported_grant_type", "grant_type parameter is missing");
    } else if (!client || !secret || strcmp(client, fake.client_id) ||
               strcmp(secret, fake.client_secret)) {
        answer_auth_error(a, 400, "invalid_client", "Invalid client");
    } else {
        fake.tokens = cp_realloc(fake.tokens, (fake.n_tokens + 1) * sizeof *fake.tokens);
        struct token *t = &fake.tokens[fake.n_tokens++];
        t->value =
            cp_asprintf("fake-token-%ld-%ld", ++fake.token_serial, (long)time(NULL) % 100000);
        t->expires_at = now_seconds() + (double)fake.expires_in;
        t->uses = 0;
        t->revoked = false;
        answer_json(a, 200,
                    json_pack("{s:s,s:s,s:i}", "access_token", t->value, "token_type", "Bearer",
                              "expires_in", (int)fake.expires_in));
    }
    free(client);
    free(secret);
}

/* Checks the bearer token; on failure answers 401. Returns the token or NULL. */
static const char *check_token(struct MHD_Connection *conn, struct answer *a)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7)) {
        answer_error(a, 401, "No token provided");
        return NULL;
    }
    for (size_t i = 0; i < fake.n_tokens; i++) {
        struct token *t = &fake.tokens[i];
        if (strcmp(t->value, auth + 7))
            continue;
        if (t->revoked || now_seconds() >= t->expires_at ||
            (fake.token_uses > 0 && t->uses >= fake.token_uses)) {
            answer_error(a, 401, "The access token expired");
            return NULL;
        }
        t->uses++;
        return t->value;
    }
    answer_error(a, 401, "Invalid access token");
    return NULL;
}

static long query_long(struct MHD_Connection *conn, const char *name, long fallback, bool *bad)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return fallback;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end)
        *bad = true;
    return n;
}

static void serve_playlist_items(struct MHD_Connection *conn, const char *id, struct answer *a)
{
    const json_t *playlist = json_object_get(fake.playlists, id);
    if (!valid_id(id)) {
        answer_error(a, 400, "Invalid base62 id");
        return;
    }
    if (!playlist) {
        answer_error(a, 404, "Resource not found");
        return;
    }
    bool bad = false;
    long limit = query_long(conn, "limit", PAGE_LIMIT_DEFAULT, &bad);
    long offset = query_long(conn, "offset", 0, &bad);
    if (bad || limit < 1 || limit > PAGE_LIMIT_MAX) {
        answer_error(a, 400, "Invalid limit");
        return;
    }
    if (offset < 0) {
        answer_error(a, 400, "Invalid offset");
        return;
    }
    char *base = base_url(conn);
    const json_t *items = json_object_get(playlist, "items");
    long total = (long)json_array_size(items);
    json_t *page = json_array();
    for (long i = offset; i < total && i < offset + limit; i++)
        json_array_append_new(page,
                              playlist_item(base, json_array_get(items, (size_t)i), (size_t)i));
    char *href = cp_asprintf("%s/playlists/%s/items?offset=%ld&limit=%ld", base, id, offset, limit);
    json_t *next = json_null(), *previous = json_null();
    if (offset + limit < total) {
        char *n = cp_asprintf("%s/playlists/%s/items?offset=%ld&limit=%ld", base, id,
                              offset + limit, limit);
        next = json_string(n);
        free(n);
    }
    if (offset > 0) {
        char *p = cp_asprintf("%s/playlists/%s/items?offset=%ld&limit=%ld", base, id,
                              offset > limit ? offset - limit : 0, limit);
        previous = json_string(p);
        free(p);
    }
    answer_json(a, 200,
                json_pack("{s:s,s:o,s:i,s:o,s:i,s:o,s:i}", "href", href, "items", page, "limit",
                          (int)limit, "next", next, "offset", (int)offset, "previous", previous,
                          "total", (int)total));
    free(href);
    free(base);
}

struct kind {
    const char *plural; /* the route and the batch answer's key */
    json_t **catalog;
    size_t batch_max;
    json_t *(*build)(const char *base, const char *id);
};

static const struct kind kinds[] = {
    {"tracks", &fake.tracks, 50, full_track},
    {"albums", &fake.albums, 20, full_album},
    {"artists", &fake.artists, 50, full_artist},
};

static void serve_batch(struct MHD_Connection *conn, const struct kind *k, struct answer *a)
{
    const char *ids = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ids");
    if (!ids || !*ids) {
        answer_error(a, 400, "invalid id");
        return;
    }
    char *copy = cp_strdup(ids);
    char *base = base_url(conn);
    json_t *list = json_array();
    size_t count = 0;
    bool bad = false;
    for (char *p = copy; p && !bad;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!valid_id(p))
            bad = true;
        else
            json_array_append_new(list, json_object_get(*k->catalog, p) ? k->build(base, p)
                                                                        : json_null());
        count++;
        p = comma ? comma + 1 : NULL;
    }
    if (bad) {
        answer_error(a, 400, "Invalid base62 id");
        json_decref(list);
    } else if (count > k->batch_max) {
        answer_error(a, 400, "Too many ids requested");
        json_decref(list);
    } else {
        answer_json(a, 200, json_pack("{s:o}", k->plural, list));
    }
    free(copy);
    free(base);
}

static void serve_one(struct MHD_Connection *conn, const struct kind *k, const char *id,
                      struct answer *a)
{
    if (!valid_id(id)) {
        answer_error(a, 400, "Invalid base62 id");
        return;
    }
    if (!json_object_get(*k->catalog, id)) {
        answer_error(a, 404, "Resource not found");
        return;
    }
    char *base = base_url(conn);
    answer_json(a, 200, k->build(base, id));
    free(base);
}

/* Names the route of a service request ("token", "tracks-batch", ...); NULL = none. */
static const char *route_of(const char *method, const char *url, const struct kind **k,
                            const char **id)
{
    *k = NULL;
    *id = NULL;
    if (!strcmp(url, "/api/token"))
        return "token";
    if (strncmp(url, "/v1/", 4) || strcmp(method, "GET"))
        return NULL;
    const char *rest = url + 4;
    if (!strncmp(rest, "playlists/", 10)) {
        const char *slash = strchr(rest + 10, '/');
        if (slash && !strcmp(slash, "/items")) {
            *id = rest + 10;
            return "playlist-items";
        }
        if (slash && !strcmp(slash, "/tracks"))
            return "playlist-tracks";
        return NULL;
    }
    static const char *const batch_routes[] = {"tracks-batch", "albums-batch", "artists-batch"};
    static const char *const one_routes[] = {"track", "album", "artist"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].plural);
        if (strncmp(rest, kinds[i].plural, n))
            continue;
        *k = &kinds[i];
        if (rest[n] == '\0')
            return batch_routes[i];
        if (rest[n] == '/' && rest[n + 1] && !strchr(rest + n + 1, '/')) {
            *id = rest + n + 1;
            return one_routes[i];
        }
    }
    return NULL;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct cp_buf *b = cls;
    cp_buf_addf(b, "%s%s%s%s", b->len ? "&" : "", key, value ? "=" : "", value ? value : "");
    return MHD_YES;
}

static void serve_control(struct MHD_Connection *conn, const char *method, const char *url,
                          const struct request *req, struct answer *a)
{
    if (!strcmp(url, "/_fake/requests") && !strcmp(method, "GET")) {
        answer_json(a, 200, json_incref(fake.requests));
    } else if (!strcmp(url, "/_fake/faults") && !strcmp(method, "POST")) {
        json_error_t error;
        json_t *rules = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &error);
        if (!json_is_array(rules)) {
            json_decref(rules);
            answer_error(a, 400, "expected a JSON array of fault rules");
            return;
        }
        size_t i;
        json_t *rule;
        json_array_foreach(rules, i, rule)
        {
            json_t *copy = json_deep_copy(rule);
            json_object_set_new(copy, "fired", json_integer(0));
            json_array_append_new(fake.faults, copy);
        }
        json_decref(rules);
        answer_json(a, 200, json_pack("{s:i}", "faults", (int)json_array_size(fake.faults)));
    } else if (!strcmp(url, "/_fake/expire-tokens") && !strcmp(method, "POST")) {
        for (size_t i = 0; i < fake.n_tokens; i++)
            fake.tokens[i].revoked = true;
        answer_json(a, 200, json_pack("{s:i}", "expired", (int)fake.n_tokens));
    } else if (!strcmp(url, "/_fake/reset") && !strcmp(method, "POST")) {
        json_array_clear(fake.faults);
        json_array_clear(fake.requests);
        json_object_clear(fake.route_counts);
        for (size_t i = 0; i < fake.n_tokens; i++)
            free(fake.tokens[i].value);
        fake.n_tokens = 0;
        answer_json(a, 200, json_object());
    } else {
        answer_error(a, 404, "no such control route");
    }
    (void)conn;
}

static void serve(struct MHD_Connection *conn, const char *method, const char *url,
                  const struct request *req, struct answer *a)
{
    if (!strncmp(url, "/_fake/", 7)) {
        serve_control(conn, method, url, req, a);
        return;
    }
    const struct kind *k;
    const char *id;
    const char *route = route_of(method, url, &k, &id);
    long nth_route = count_request(route ? route : "unknown");
    long nth_overall = (long)json_array_size(fake.requests) + 1;
    int fault = route ? match_fault(route, nth_route, nth_overall, a) : -1;
    const char *token = NULL;
    if (fault >= 0) {
        /* answered by the rule */
    } else if (!route) {
        answer_error(a, 404, "Service not found");
    } else if (!strcmp(route, "token")) {
        if (strcmp(method, "POST"))
            answer_error(a, 405, "Method not allowed");
        else
            serve_token(conn, req, a);
    } else if ((token = check_token(conn, a)) == NULL) {
        /* answered 401 */
    } else if (!strcmp(route, "playlist-items")) {
        char *playlist_id = cp_strndup(id, strcspn(id, "/"));
        serve_playlist_items(conn, playlist_id, a);
        free(playlist_id);
    } else if (!strcmp(route, "playlist-tracks")) {
        answer_error(a, 403, "Forbidden");
    } else if (strstr(route, "-batch")) {
        serve_batch(conn, k, a);
    } else {
        serve_one(conn, k, id, a);
    }

    struct cp_buf query;
    cp_buf_init(&query, QUERY_MAX);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &query);
    int port = 0;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr && info->client_addr->sa_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)(const void *)info->client_addr)->sin_port);
    json_array_append_new(fake.requests,
                          json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:i}", "seq",
                                    (int)nth_overall, "method", method, "path", url, "query",
                                    query.data ? query.data : "", "route",
                                    route ? route : "unknown", "status", a->status, "fault",
                                    fault >= 0 ? json_integer(fault) : json_null(), "token",
                                    token ? json_string(token) : json_null(), "client_port", port));
    cp_buf_free(&query);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct request *req = *con_cls;
    if (!req) {
        req = cp_calloc(1, sizeof *req);
        cp_buf_init(&req->body, MAX_BODY);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (cp_buf_add(&req->body, upload_data, *upload_data_size) != CP_OK)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct answer a = {200, NULL, ""};
    serve(conn, method, url, req, &a);
    if (a.status == 0) {
        json_decref(a.body);
        return MHD_NO; /* hang up without an answer */
    }
    char *text = a.body ? json_dumps(a.body, JSON_COMPACT | JSON_ENCODE_ANY) : cp_strdup("");
    json_decref(a.body);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (a.retry_after[0])
        MHD_add_response_header(resp, "Retry-After", a.retry_after);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)a.status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    struct request *req = *con_cls;
    if (req) {
        cp_buf_free(&req->body);
        free(req);
        *con_cls = NULL;
    }
}

/* ---------------------------------------------------------------- start-up */

/* Indexes a catalog array by id into a new object. */
static json_t *index_by_id(const json_t *catalog, const char *key)
{
    json_t *index = json_object();
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(catalog, key), i, entry)
    {
        const char *id = json_string_value(json_object_get(entry, "id"));
        if (id)
            json_object_set(index, id, entry);
    }
    return index;
}

static void usage(FILE *out)
{
    fputs("usage: fake_spotify --catalog FILE [--port N] [--client-id ID] [--client-secret S]\n"
          "                    [--expires-in SECONDS] [--token-uses N] [--omit FIELD,...]\n"
          "                    [--faults JSON]\n"
          "(see the comment at the top of tests/fake_spotify/fake_spotify.c)\n",
          out);
}

static bool set_omit(const char *list)
{
    char *copy = cp_strdup(list);
    bool ok = true;
    for (char *p = copy; p && ok;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!strcmp(p, "popularity"))
            fake.omit_popularity = true;
        else if (!strcmp(p, "followers"))
            fake.omit_followers = true;
        else if (!strcmp(p, "genres"))
            fake.omit_genres = true;
        else if (!strcmp(p, "label"))
            fake.omit_label = true;
        else if (!strcmp(p, "isrc"))
            fake.omit_isrc = true;
        else if (*p)
            ok = false;
        p = comma ? comma + 1 : NULL;
    }
    free(copy);
    return ok;
}

int main(int argc, char **argv)
{
    const char *catalog_path = NULL, *faults_text = NULL;
    long port = 0;
    fake.client_id = "fake-client-id";
    fake.client_secret = "fake-client-secret";
    fake.expires_in = 3600;
    static const struct option options[] = {{"catalog", required_argument, NULL, 'c'},
                                            {"port", required_argument, NULL, 'p'},
                                            {"client-id", required_argument, NULL, 'i'},
                                            {"client-secret", required_argument, NULL, 's'},
                                            {"expires-in", required_argument, NULL, 'e'},
                                            {"token-uses", required_argument, NULL, 'u'},
                                            {"omit", required_argument, NULL, 'o'},
                                            {"faults", required_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:p:i:s:e:u:o:f:h", options, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c':
            catalog_path = optarg;
            break;
        case 'p':
            port = strtol(optarg, &end, 10);
            break;
        case 'i':
            fake.client_id = optarg;
            break;
        case 's':
            fake.client_secret = optarg;
            break;
        case 'e':
            fake.expires_in = strtol(optarg, &end, 10);
            break;
        case 'u':
            fake.token_uses = strtol(optarg, &end, 10);
            break;
        case 'o':
            if (!set_omit(optarg)) {
                fprintf(stderr, "fake_spotify: --omit: unknown field in '%s'\n", optarg);
                return 2;
            }
            break;
        case 'f':
            faults_text = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (end && *end) {
            fprintf(stderr, "fake_spotify: '%s' is not a number\n", optarg);
            return 2;
        }
    }
    if (!catalog_path) {
        usage(stderr);
        return 2;
    }
    json_error_t error;
    json_t *catalog = json_load_file(catalog_path, 0, &error);
    if (!catalog) {
        fprintf(stderr, "fake_spotify: %s:%d: %s\n", catalog_path, error.line, error.text);
        return 1;
    }
    fake.tracks = index_by_id(catalog, "tracks");
    fake.albums = index_by_id(catalog, "albums");
    fake.artists = index_by_id(catalog, "artists");
    fake.playlists = index_by_id(catalog, "playlists");
    json_decref(catalog);
    fake.faults = json_array();
    fake.requests = json_array();
    fake.route_counts = json_object();
    if (faults_text) {
        json_t *rules = json_loads(faults_text, 0, &error);
        if (!json_is_array(rules)) {
            fprintf(stderr, "fake_spotify: --faults: not a JSON array: %s\n", error.text);
            return 2;
        }
        size_t i;
        json_t *rule;
        json_array_foreach(rules, i, rule)
        {
            json_object_set_new(rule, "fired", json_integer(0));
            json_array_append(fake.faults, rule);
        }
        json_decref(rules);
    }

    /* the daemon's thread inherits this mask, so the signals reach sigwait below */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!daemon) {
        fprintf(stderr, "fake_spotify: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? (unsigned)info->port : (unsigned)port);
    fflush(stdout);

    int sig;
    sigwait(&stop_signals, &sig);
    MHD_stop_daemon(daemon);
    for (size_t i = 0; i < fake.n_tokens; i++)
        free(fake.tokens[i].value);
    free(fake.tokens);
    json_decref(fake.tracks);
    json_decref(fake.albums);
    json_decref(fake.artists);
    json_decref(fake.playlists);
    json_decref(fake.faults);
    json_decref(fake.requests);
    json_decref(fake.route_counts);
    return 0;
}
