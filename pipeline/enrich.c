/* `chartpulse enrich`: Web API metadata for tracks, albums and artists not enriched yet. */
#include "pipeline/enrich.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/enrich_repo.h"
#include "db/pool.h"
#include "pipeline/spotify.h"

/* One track's COPY line: names, image lists and credits of one track. */
#define TRACK_LINE_MAX (1u << 16)
/* A batch route's path and query: 50 ids of 23 bytes plus the route. */
#define BATCH_PATH_MAX 4096

/* The most ids each batch route takes (SPEC §5). */
#define TRACKS_PER_CALL  50
#define ALBUMS_PER_CALL  20
#define ARTISTS_PER_CALL 50
#define MAX_PER_CALL     50

/* ---------------------------------------------------------------- parsing */

static const char *str_field(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A non-negative integer field up to max, or -1 when absent, not a number or out of
 * range (stored as NULL rather than failing the batch on a column's range). */
static long long int_field(const json_t *obj, const char *key, long long max)
{
    json_t *v = json_object_get(obj, key);
    long long n = -1;
    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) <= (double)max)
        n = (long long)json_real_value(v);
    return n >= 0 && n <= max ? n : -1;
}

/* A field as compact JSON text (caller frees), or NULL when absent or of another type. */
static char *json_field_text(const json_t *obj, const char *key, bool want_array)
{
    json_t *v = json_object_get(obj, key);
    if (!v || (want_array && !json_is_array(v)))
        return NULL;
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *id_of(const json_t *obj, const char *requested_id)
{
    return requested_id ? requested_id : str_field(obj, "id");
}

static void fill_album(struct cp_album_row *row, const json_t *album, const char *id, char date[11])
{
    memset(row, 0, sizeof *row);
    row->album_id = id;
    row->name = str_field(album, "name");
    row->album_type = str_field(album, "album_type");
    const char *precision = NULL;
    if (cp_date_parse_release(str_field(album, "release_date"),
                              str_field(album, "release_date_precision"), date, &precision)) {
        row->release_date = date;
        row->release_date_precision = precision;
    }
    row->popularity = -1;
    row->total_tracks = (int)int_field(album, "total_tracks", INT32_MAX);
}

static cp_status cp_enrich_store_album(PGconn *conn, const json_t *album, const char *requested_id,
                                       char *err, size_t errlen)
{
    const char *id = id_of(album, requested_id);
    if (!cp_spotify_id_valid(id)) {
        snprintf(err, errlen, "an album object without a valid id");
        return CP_ERR_UPSTREAM;
    }
    struct cp_album_row row;
    char date[11];
    fill_album(&row, album, id, date);
    row.full = true;
    row.label = str_field(album, "label");
    row.popularity = (int)int_field(album, "popularity", 100);
    char *images = json_field_text(album, "images", true);
    row.images_json = images;
    cp_status st = cp_enrich_repo_store_album(conn, &row, err, errlen);
    free(images);
    return st;
}

cp_status cp_enrich_store_track(PGconn *conn, const json_t *track, const char *requested_id,
                                char *err, size_t errlen)
{
    const char *id = id_of(track, requested_id);
    if (!cp_spotify_id_valid(id)) {
        snprintf(err, errlen, "a track object without a valid id");
        return CP_ERR_UPSTREAM;
    }
    cp_status st = CP_OK;
    const json_t *album = json_object_get(track, "album");
    const char *album_id = str_field(album, "id");
    char *album_images = NULL, *artists = NULL;
    struct cp_buf line;
    cp_buf_init(&line, TRACK_LINE_MAX);
    if (json_is_object(album) && cp_spotify_id_valid(album_id)) {
        struct cp_album_row album_row;
        char date[11];
        fill_album(&album_row, album, album_id, date);
        album_images = json_field_text(album, "images", true);
        album_row.images_json = album_images;
        st = cp_enrich_repo_store_album(conn, &album_row, err, errlen);
    } else {
        album_id = NULL;
    }
    if (st != CP_OK)
        goto out;

    const json_t *artist_list = json_object_get(track, "artists");
    if (json_is_array(artist_list)) {
        artists = json_dumps(artist_list, JSON_COMPACT);
        size_t i;
        const json_t *artist;
        json_array_foreach(artist_list, i, artist)
        {
            const char *name = str_field(artist, "name");
            if (name && *name)
                cp_buf_addf(&line, "%s%s", line.len ? ", " : "", name);
        }
    }
    const json_t *explicit_value = json_object_get(track, "explicit");
    struct cp_track_row row = {
        .track_id = id,
        .name = str_field(track, "name"),
        .artist_line = line.len ? line.data : NULL,
        .isrc = str_field(json_object_get(track, "external_ids"), "isrc"),
        .album_id = album_id,
        .artists_json = artists,
        .duration_ms = int_field(track, "duration_ms", INT32_MAX),
        .explicit_flag = json_is_boolean(explicit_value) ? json_is_true(explicit_value) : -1,
        .popularity = (int)int_field(track, "popularity", 100),
    };
    st = cp_enrich_repo_store_track(conn, &row, err, errlen);
out:
    free(album_images);
    free(artists);
    cp_buf_free(&line);
    return st;
}

static cp_status cp_enrich_store_artist(PGconn *conn, const json_t *artist,
                                        const char *requested_id, char *err, size_t errlen)
{
    const char *id = id_of(artist, requested_id);
    if (!cp_spotify_id_valid(id)) {
        snprintf(err, errlen, "an artist object without a valid id");
        return CP_ERR_UPSTREAM;
    }
    char *genres = json_field_text(artist, "genres", true);
    char *images = json_field_text(artist, "images", true);
    struct cp_artist_row row = {
        .spotify_id = id,
        .name = str_field(artist, "name"),
        .genres_json = genres,
        .images_json = images,
        .popularity = (int)int_field(artist, "popularity", 100),
        .followers = int_field(json_object_get(artist, "followers"), "total", INT64_MAX),
    };
    cp_status st = cp_enrich_repo_store_artist(conn, &row, err, errlen);
    free(genres);
    free(images);
    return st;
}

/* ---------------------------------------------------------------- the run */

struct phase {
    enum cp_enrich_kind kind;
    const char *route;     /* "/tracks": batch at route?ids=, one at route/{id} */
    const char *batch_key; /* the array in the batch answer */
    int per_call;
    cp_status (*store)(PGconn *, const json_t *, const char *, char *, size_t);
};

static const struct phase phases[] = {
    {CP_ENRICH_TRACK, "/tracks", "tracks", TRACKS_PER_CALL, cp_enrich_store_track},
    {CP_ENRICH_ALBUM, "/albums", "albums", ALBUMS_PER_CALL, cp_enrich_store_album},
    {CP_ENRICH_ARTIST, "/artists", "artists", ARTISTS_PER_CALL, cp_enrich_store_artist},
};

#define N_PHASES (sizeof phases / sizeof phases[0])

struct enrich_run {
    PGconn *conn;
    struct cp_spotify *sp;
    bool batch_unavailable[CP_ENRICH_KIND_COUNT]; /* the batch route answered 403/404 */
    long long enriched[CP_ENRICH_KIND_COUNT];
    long long missing[CP_ENRICH_KIND_COUNT];
    struct cp_progress progress;
};

/* What became of one id of a batch. */
struct outcome {
    json_t *object;   /* the API's object (owned), or NULL */
    long http_status; /* object == NULL: 404, or 0 for a null in a batch answer; -1 = not asked */
};

static cp_status fetch_batch(struct enrich_run *run, const struct phase *ph,
                             const cp_enrich_id *ids, size_t n, struct outcome *out, char *err,
                             size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        out[i].object = NULL;
        out[i].http_status = -1;
    }
    struct cp_spotify_reply reply;
    cp_status st;
    if (!run->batch_unavailable[ph->kind]) {
        struct cp_buf path;
        cp_buf_init(&path, BATCH_PATH_MAX);
        cp_buf_addf(&path, "%s?ids=", ph->route);
        for (size_t i = 0; i < n; i++)
            cp_buf_addf(&path, "%s%s", i ? "," : "", ids[i]);
        st = cp_spotify_get(run->sp, path.data, &reply, err, errlen);
        cp_buf_free(&path);
        if (st == CP_OK) {
            json_t *list = json_object_get(reply.body, ph->batch_key);
            if (!json_is_array(list) || json_array_size(list) != n) {
                snprintf(err, errlen, "GET %s?ids=: the answer has no `%s` array of %zu", ph->route,
                         ph->batch_key, n);
                cp_spotify_reply_cleanup(&reply);
                return CP_ERR_UPSTREAM;
            }
            for (size_t i = 0; i < n; i++) {
                json_t *item = json_array_get(list, i);
                out[i].object = json_is_object(item) ? json_incref(item) : NULL;
                out[i].http_status = 0;
            }
            cp_spotify_reply_cleanup(&reply);
            return CP_OK;
        }
        long status = reply.http_status;
        cp_spotify_reply_cleanup(&reply);
        if (cp_spotify_stop_reason(run->sp) || (status != 403 && status != 404))
            return st;
        /* development-mode apps lost the batch routes (Feb 2026): ask one id at a time from
         * now on, without trying the batch route again in this run */
        run->batch_unavailable[ph->kind] = true;
        cp_log_info("enrich: GET %s?ids= answered %ld; fetching one %s per request", ph->route,
                    status, cp_enrich_kind_name(ph->kind));
    }
    for (size_t i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", ph->route, ids[i]);
        st = cp_spotify_get(run->sp, path, &reply, err, errlen);
        if (st == CP_OK && json_is_object(reply.body)) {
            out[i].object = json_incref(reply.body);
            out[i].http_status = reply.http_status;
        } else if (st == CP_ERR_NOT_FOUND) {
            out[i].http_status = 404;
            st = CP_OK;
        } else if (st == CP_OK) {
            snprintf(err, errlen, "GET %s: the answer is not a JSON object", path);
            st = CP_ERR_UPSTREAM;
        }
        cp_spotify_reply_cleanup(&reply);
        if (st != CP_OK)
            return st; /* the ids fetched so far are stored by the caller */
    }
    return CP_OK;
}

/* Stores a batch's outcomes in one transaction. */
static cp_status store_batch(struct enrich_run *run, const struct phase *ph,
                             const cp_enrich_id *ids, size_t n, const struct outcome *out,
                             char *err, size_t errlen)
{
    cp_status st = cp_enrich_repo_begin(run->conn, err, errlen);
    long long stored = 0, missing = 0;
    for (size_t i = 0; st == CP_OK && i < n; i++) {
        if (out[i].object) {
            st = ph->store(run->conn, out[i].object, ids[i], err, errlen);
            stored++;
        } else if (out[i].http_status >= 0) {
            st = cp_enrich_repo_mark_missing(run->conn, ph->kind, ids[i], out[i].http_status,
                                             out[i].http_status == 404 ? "not found (404)"
                                                                       : "null in the batch answer",
                                             err, errlen);
            missing++;
        }
    }
    if (st == CP_OK)
        st = cp_enrich_repo_commit(run->conn, err, errlen);
    else
        cp_enrich_repo_rollback(run->conn);
    if (st == CP_OK) {
        run->enriched[ph->kind] += stored;
        run->missing[ph->kind] += missing;
    }
    return st;
}

static cp_status run_phase(struct enrich_run *run, const struct phase *ph, char *err, size_t errlen)
{
    long long total = 0;
    cp_status st = cp_enrich_repo_count_pending(run->conn, ph->kind, &total, err, errlen);
    if (st != CP_OK)
        return st;
    char what[32];
    snprintf(what, sizeof what, "enrich %ss", cp_enrich_kind_name(ph->kind));
    cp_enrich_id after = "";
    long long done = 0;
    while (st == CP_OK) {
        cp_enrich_id *ids = NULL;
        size_t n = 0;
        st =
            cp_enrich_repo_pending(run->conn, ph->kind, after, ph->per_call, &ids, &n, err, errlen);
        if (st != CP_OK || n == 0) {
            free(ids);
            break;
        }
        /* ids that neither store nor prove missing are not asked for again in this run */
        memcpy(after, ids[n - 1], sizeof after);
        struct outcome out[MAX_PER_CALL];
        char fetch_err[1024] = "";
        cp_status fetched = fetch_batch(run, ph, ids, n, out, fetch_err, sizeof fetch_err);
        st = store_batch(run, ph, ids, n, out, err, errlen);
        for (size_t i = 0; i < n; i++)
            json_decref(out[i].object);
        free(ids);
        if (st == CP_OK && fetched != CP_OK) {
            snprintf(err, errlen, "%s", fetch_err);
            st = fetched;
        }
        done += (long long)n;
        cp_progress_update(&run->progress, what, (double)done, (double)total, done);
    }
    return st;
}

static void usage(FILE *out)
{
    fputs("usage: chartpulse enrich [--max-wait SECONDS]\n"
          "\n"
          "Fetches metadata from the Spotify Web API for the tracks, albums and artists not\n"
          "enriched yet: duration, explicit, ISRC, album, release date and its precision,\n"
          "images, genres, popularity, followers (NULL where the API gives none). A track's\n"
          "real artist credits replace the ones split from a chart's artist line.\n"
          "Batch routes are tried first; when one answers 403/404 (development-mode apps)\n"
          "each id is fetched on its own. Every batch is committed as it completes.\n"
          "\n"
          "  --max-wait S   longest Retry-After to wait out (default 60); past it, or when\n"
          "                 Spotify reports the quota exceeded, the run stops, keeps what it\n"
          "                 did, says what is left and exits with status 75\n"
          "\n"
          "Settings: SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_API_URL,\n"
          "SPOTIFY_ACCOUNTS_URL, REDIS_URL (token cache), DATABASE_URL.\n",
          out);
}

/* Parses --max-wait. */
static bool parse_seconds(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || v < 0 || v > 86400)
        return false;
    *out = v;
    return true;
}

static void summary(const struct enrich_run *run, char *out, size_t outlen)
{
    const struct cp_spotify_stats *stats = cp_spotify_stats(run->sp);
    long long missing = 0;
    for (int k = 0; k < CP_ENRICH_KIND_COUNT; k++)
        missing += run->missing[k];
    snprintf(out, outlen,
             "%lld track%s, %lld album%s, %lld artist%s enriched, %lld id%s unknown to Spotify; "
             "%ld request%s (%ld retried)",
             run->enriched[CP_ENRICH_TRACK], run->enriched[CP_ENRICH_TRACK] == 1 ? "" : "s",
             run->enriched[CP_ENRICH_ALBUM], run->enriched[CP_ENRICH_ALBUM] == 1 ? "" : "s",
             run->enriched[CP_ENRICH_ARTIST], run->enriched[CP_ENRICH_ARTIST] == 1 ? "" : "s",
             missing, missing == 1 ? "" : "s", stats->requests, stats->requests == 1 ? "" : "s",
             stats->retries);
}

int cp_enrich_main(int argc, char **argv)
{
    const char *cmd = "enrich";
    double max_wait = CP_SPOTIFY_DEFAULT_MAX_WAIT;
    static const struct option options[] = {{"max-wait", required_argument, NULL, 'w'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", options, NULL)) != -1) {
        switch (c) {
        case 'w':
            if (!parse_seconds(optarg, &max_wait))
                return cp_cli_fail(cmd, "--max-wait: '%s' is not a number of seconds", optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", argv[optind]);

    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    char err[1024];
    int status = 1;
    struct enrich_run run;
    memset(&run, 0, sizeof run);
    struct cp_spotify_settings settings = {
        .api_url = cfg.spotify_api_url,
        .accounts_url = cfg.spotify_accounts_url,
        .client_id = cfg.spotify_client_id,
        .client_secret = cfg.spotify_client_secret,
        .redis_url = cfg.redis_url,
        .max_wait = max_wait,
    };
    if (cp_spotify_new(&settings, &run.sp, err, sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    run.conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!run.conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    cp_progress_init(&run.progress);
    cp_status st = CP_OK;
    for (size_t i = 0; st == CP_OK && i < N_PHASES; i++)
        st = run_phase(&run, &phases[i], err, sizeof err);
    cp_progress_finish(&run.progress);

    char done[512];
    summary(&run, done, sizeof done);
    const char *stop = cp_spotify_stop_reason(run.sp);
    if (stop) {
        long long left[CP_ENRICH_KIND_COUNT] = {0, 0, 0};
        char count_err[256];
        for (int k = 0; k < CP_ENRICH_KIND_COUNT; k++)
            if (cp_enrich_repo_count_pending(run.conn, (enum cp_enrich_kind)k, &left[k], count_err,
                                             sizeof count_err) != CP_OK)
                left[k] = -1;
        cp_cli_fail(cmd,
                    "stopped: %s; kept %s; left for the next run: %lld tracks, %lld albums, "
                    "%lld artists",
                    stop, done, left[CP_ENRICH_TRACK], left[CP_ENRICH_ALBUM],
                    left[CP_ENRICH_ARTIST]);
        status = CP_SPOTIFY_EXIT_STOPPED;
    } else if (st != CP_OK) {
        long long kept = 0;
        for (int k = 0; k < CP_ENRICH_KIND_COUNT; k++)
            kept += run.enriched[k] + run.missing[k];
        if (kept)
            cp_cli_fail(cmd, "%s (kept what was done before: %s)", err, done);
        else
            cp_cli_fail(cmd, "%s", err);
    } else {
        fprintf(stderr, "enrich: %s\n", done);
        status = 0;
    }
out:
    cp_spotify_free(run.sp);
    if (run.conn)
        PQfinish(run.conn);
    cp_config_cleanup(&cfg);
    return status;
}
