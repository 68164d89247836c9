/* `chartpulse ingest spotify`: a playlist's pages -> raw zone + catalog -> playlist chart. */
#include "pipeline/spotify_ingest.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/series.h"
#include "db/catalog_repo.h"
#include "db/enrich_repo.h"
#include "db/etl_repo.h"
#include "db/pool.h"
#include "pipeline/enrich.h"
#include "pipeline/load.h"
#include "pipeline/rawstore.h"
#include "pipeline/spotify.h"

/* The COPY text of one playlist snapshot: a few hundred tracks of a few hundred bytes. */
#define SNAPSHOT_STAGE_MAX ((size_t)64 << 20)

/* The most items GET /playlists/{id}/items returns a page (2026). */
#define PAGE_LIMIT 50
/* A chart holds ranks 1..1000 (core.chart_entry); later positions are not fetched. */
#define MAX_POSITIONS 1000
#define SOURCE        "spotify-web-api"
#define FORMAT        CP_SPOTIFY_PLAYLIST_FORMAT
#define CHART_KIND    "playlist"
#define PERIOD        "daily"

struct page {
    char *raw; /* the body as received: what lands in the raw zone */
    size_t len;
    json_t *body;
    long long offset;    /* position of its first item, 0-based */
    long long object_id; /* its catalog object, once landed */
    bool known;          /* these bytes were cataloged before */
    long long entries;   /* chart entries it contributes */
    char sha256[65];
};

struct entry {
    int rank;
    const json_t *track; /* borrowed from its page's body */
    size_t page;
};

struct snapshot {
    char playlist_id[CP_SPOTIFY_ID_SIZE];
    const char *region;
    char date[11];
    struct page *pages;
    size_t n_pages, pages_alloc;
    struct entry *entries;
    size_t n_entries;
    long skipped_not_track;
    long skipped_duplicate;
    bool truncated;
};

const json_t *cp_spotify_ingest_item_track(const json_t *item)
{
    if (!json_is_object(item) || json_is_true(json_object_get(item, "is_local")))
        return NULL;
    const json_t *track = json_object_get(item, "item");
    if (!json_is_object(track))
        track = json_object_get(item, "track");
    if (!json_is_object(track) || json_is_true(json_object_get(track, "is_local")))
        return NULL;
    const char *type = json_string_value(json_object_get(track, "type"));
    if (type && strcmp(type, "track"))
        return NULL;
    if (!cp_spotify_id_valid(json_string_value(json_object_get(track, "id"))))
        return NULL;
    return track;
}

static void snapshot_cleanup(struct snapshot *snap)
{
    for (size_t i = 0; i < snap->n_pages; i++) {
        free(snap->pages[i].raw);
        json_decref(snap->pages[i].body);
    }
    free(snap->pages);
    free(snap->entries);
}

/* Pages through the playlist. On CP_OK every page up to the last (or position
 * MAX_POSITIONS) is in snap. */
static cp_status fetch_pages(struct cp_spotify *sp, struct snapshot *snap, char *err, size_t errlen)
{
    char *path =
        cp_asprintf("/playlists/%s/items?limit=%d&offset=0", snap->playlist_id, PAGE_LIMIT);
    cp_status st = CP_OK;
    long long position = 0;
    while (path) {
        struct cp_spotify_reply reply;
        st = cp_spotify_get(sp, path, &reply, err, errlen);
        free(path);
        path = NULL;
        if (st == CP_ERR_NOT_FOUND) {
            snprintf(err, errlen, "playlist %s not found (404)", snap->playlist_id);
        } else if (st == CP_OK && !json_is_array(json_object_get(reply.body, "items"))) {
            snprintf(err, errlen, "playlist %s: page %zu is not a paging object with items",
                     snap->playlist_id, snap->n_pages + 1);
            st = CP_ERR_UPSTREAM;
        } else if (st != CP_OK && reply.http_status >= 400 && reply.http_status != 429 &&
                   reply.http_status < 500 && reply.http_status != 401) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", err);
            snprintf(err, errlen, "playlist %s: %s", snap->playlist_id, detail);
        }
        if (st != CP_OK) {
            cp_spotify_reply_cleanup(&reply);
            break;
        }
        if (snap->n_pages == snap->pages_alloc) {
            snap->pages_alloc = snap->pages_alloc ? snap->pages_alloc * 2 : 8;
            snap->pages = cp_realloc(snap->pages, snap->pages_alloc * sizeof *snap->pages);
        }
        struct page *pg = &snap->pages[snap->n_pages++];
        memset(pg, 0, sizeof *pg);
        pg->raw = reply.raw;
        pg->len = reply.raw_len;
        pg->body = reply.body;
        json_t *offset = json_object_get(pg->body, "offset");
        pg->offset = json_is_integer(offset) ? json_integer_value(offset) : position;
        position = pg->offset + (long long)json_array_size(json_object_get(pg->body, "items"));
        const char *next = json_string_value(json_object_get(pg->body, "next"));
        if (next && position >= MAX_POSITIONS) {
            snap->truncated = true;
            next = NULL;
        }
        if (next)
            path = cp_strdup(next);
    }
    return st;
}

/* The chart entries: rank = position in the playlist. What is not a track keeps its
 * position empty (ranks may have holes); a track listed twice keeps its first position. */
static void collect_entries(struct snapshot *snap)
{
    size_t cap = 0;
    for (size_t p = 0; p < snap->n_pages; p++)
        cap += json_array_size(json_object_get(snap->pages[p].body, "items"));
    snap->entries = cp_calloc(cap ? cap : 1, sizeof *snap->entries);
    for (size_t p = 0; p < snap->n_pages; p++) {
        const json_t *items = json_object_get(snap->pages[p].body, "items");
        size_t i;
        const json_t *item;
        json_array_foreach(items, i, item)
        {
            long long position = snap->pages[p].offset + (long long)i + 1;
            if (position > MAX_POSITIONS) {
                snap->truncated = true;
                break;
            }
            const json_t *track = cp_spotify_ingest_item_track(item);
            if (!track) {
                snap->skipped_not_track++;
                continue;
            }
            const char *id = json_string_value(json_object_get(track, "id"));
            bool seen = false;
            for (size_t e = 0; e < snap->n_entries && !seen; e++)
                seen =
                    !strcmp(id, json_string_value(json_object_get(snap->entries[e].track, "id")));
            if (seen) {
                snap->skipped_duplicate++;
                continue;
            }
            snap->entries[snap->n_entries++] = (struct entry){(int)position, track, p};
            snap->pages[p].entries++;
        }
    }
}

/* The stage rows in COPY text format (see pipeline/load.c). */
static void stage_text(const struct snapshot *snap, struct cp_buf *b)
{
    for (size_t e = 0; e < snap->n_entries; e++) {
        const json_t *track = snap->entries[e].track;
        const char *name = json_string_value(json_object_get(track, "name"));
        cp_buf_addf(b, "%d\t" CHART_KIND "\t%s\t" PERIOD "\t%s\t%d\t%s\t", snap->entries[e].rank,
                    snap->region, snap->date, snap->entries[e].rank,
                    json_string_value(json_object_get(track, "id")));
        cp_copy_escape(b, name ? name : "");
        cp_buf_adds(b, "\t");
        const json_t *artists = json_object_get(track, "artists");
        size_t i, written = 0;
        const json_t *artist;
        json_array_foreach(artists, i, artist)
        {
            const char *artist_name = json_string_value(json_object_get(artist, "name"));
            if (!artist_name || !*artist_name)
                continue;
            if (written++)
                cp_buf_adds(b, ", ");
            cp_copy_escape(b, artist_name);
        }
        cp_buf_adds(b, "\t\\N\t\\N\t\\N\t\\N\t\\N\n");
    }
}

/* Writes the pages not cataloged yet to the raw zone. */
static cp_status land_pages(PGconn *conn, struct cp_rawstore *store, struct snapshot *snap,
                            char *err, size_t errlen)
{
    for (size_t p = 0; p < snap->n_pages; p++) {
        struct page *pg = &snap->pages[p];
        cp_sha256_hex(pg->raw ? pg->raw : "", pg->len, pg->sha256);
        cp_status st =
            cp_catalog_find_sha256(conn, pg->sha256, &pg->object_id, NULL, 0, err, errlen);
        if (st != CP_OK)
            return st;
        pg->known = pg->object_id != 0;
        if (pg->known)
            continue;
        char name[96];
        snprintf(name, sizeof name, "playlist-%s-page-%zu.json", snap->playlist_id, p + 1);
        char *key = cp_rawstore_key(SOURCE, CHART_KIND "-" PERIOD, snap->region, snap->date,
                                    pg->sha256, name);
        st = cp_rawstore_put(store, key, pg->raw ? pg->raw : "", pg->len, err, errlen);
        free(key);
        if (st != CP_OK)
            return st;
    }
    return CP_OK;
}

/* Catalogs the new pages and loads the snapshot, all in one transaction. */
static cp_status load_snapshot(PGconn *conn, struct snapshot *snap, long long *rows, char *err,
                               size_t errlen)
{
    struct cp_buf stage;
    cp_buf_init(&stage, SNAPSHOT_STAGE_MAX);
    stage_text(snap, &stage);
    cp_status st = cp_etl_begin(conn, err, errlen);
    for (size_t p = 0; st == CP_OK && p < snap->n_pages; p++) {
        struct page *pg = &snap->pages[p];
        if (pg->known)
            continue;
        char name[96];
        snprintf(name, sizeof name, "playlist-%s-page-%zu.json", snap->playlist_id, p + 1);
        struct cp_raw_object obj;
        memset(&obj, 0, sizeof obj);
        obj.source = SOURCE;
        obj.format = FORMAT;
        obj.object_key = cp_rawstore_key(SOURCE, CHART_KIND "-" PERIOD, snap->region, snap->date,
                                         pg->sha256, name);
        obj.original_name = name;
        obj.chart_kind = CHART_KIND;
        obj.region = (char *)snap->region;
        obj.period = PERIOD;
        obj.chart_date = snap->date;
        obj.bytes = (long long)pg->len;
        memcpy(obj.sha256, pg->sha256, sizeof obj.sha256);
        st = cp_catalog_insert(conn, &obj, &pg->object_id, err, errlen);
        free(obj.object_key);
        if (st == CP_OK && pg->object_id == 0)
            st = cp_catalog_find_sha256(conn, pg->sha256, &pg->object_id, NULL, 0, err, errlen);
    }
    if (st == CP_OK)
        st = cp_etl_copy_stage(conn, stage.data ? stage.data : "", stage.len, err, errlen);
    /* the chart is merged as the first page's object; the others are loaded with it */
    for (size_t p = 1; st == CP_OK && p < snap->n_pages; p++)
        st = cp_catalog_mark_loaded(conn, snap->pages[p].object_id, snap->pages[p].entries, err,
                                    errlen);
    if (st == CP_OK)
        st = cp_etl_merge_commit(conn, snap->pages[0].object_id, rows, err, errlen);
    if (st != CP_OK)
        cp_etl_rollback(conn);
    cp_buf_free(&stage);
    return st;
}

/* The track objects of the playlist are full Web API track objects: store their metadata
 * now, so `chartpulse enrich` need not fetch them again. */
static cp_status store_track_metadata(PGconn *conn, const struct snapshot *snap, char *err,
                                      size_t errlen)
{
    cp_status st = cp_enrich_repo_begin(conn, err, errlen);
    for (size_t e = 0; st == CP_OK && e < snap->n_entries; e++)
        st = cp_enrich_store_track(conn, snap->entries[e].track, NULL, err, errlen);
    if (st == CP_OK)
        return cp_enrich_repo_commit(conn, err, errlen);
    cp_enrich_repo_rollback(conn);
    return st;
}

static void usage(FILE *out)
{
    fputs("usage: chartpulse ingest spotify --playlist ID [--region R] [--max-wait SECONDS]\n"
          "\n"
          "Snapshots a playlist through the Spotify Web API (GET /playlists/{id}/items, every\n"
          "page): the pages land unchanged in the raw zone and the catalog, and the snapshot\n"
          "is loaded as today's (UTC) chart of kind `playlist` for the region: rank = position,\n"
          "no streams. Items that are not Spotify tracks (local files, episodes) leave their\n"
          "position empty; only the first 1000 positions are kept. The tracks' metadata is\n"
          "stored too, so `chartpulse enrich` only fetches albums and artists for them.\n"
          "Spotify-owned playlists answer 404 to new and development-mode apps.\n"
          "\n"
          "  --playlist ID  a playlist id, spotify:playlist:ID URI or open.spotify.com URL\n"
          "  --region R     the region the snapshot is filed under (default global)\n"
          "  --max-wait S   longest Retry-After to wait out (default 60); past it, or when\n"
          "                 Spotify reports the quota exceeded, nothing is landed and the\n"
          "                 command exits with status 75 (run it again later)\n",
          out);
}

static void today_utc(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int cp_spotify_ingest_main(int argc, char **argv)
{
    const char *cmd = "ingest spotify";
    const char *playlist = NULL;
    const char *region = "global";
    double max_wait = CP_SPOTIFY_DEFAULT_MAX_WAIT;
    static const struct option options[] = {{"playlist", required_argument, NULL, 'p'},
                                            {"region", required_argument, NULL, 'r'},
                                            {"max-wait", required_argument, NULL, 'w'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:r:w:h", options, NULL)) != -1) {
        switch (c) {
        case 'p':
            playlist = optarg;
            break;
        case 'r':
            region = optarg;
            break;
        case 'w': {
            char *end;
            errno = 0;
            max_wait = strtod(optarg, &end);
            if (errno || end == optarg || *end || max_wait < 0 || max_wait > 86400)
                return cp_cli_fail(cmd, "--max-wait: '%s' is not a number of seconds", optarg);
            break;
        }
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
    struct snapshot snap;
    memset(&snap, 0, sizeof snap);
    if (!playlist)
        return cp_cli_fail(cmd, "--playlist is required (see --help)");
    if (cp_spotify_parse_id(playlist, "playlist", snap.playlist_id) != CP_OK)
        return cp_cli_fail(cmd,
                           "--playlist: '%s' is not a playlist id, spotify:playlist: URI "
                           "or open.spotify.com playlist URL",
                           playlist);
    if (!cp_region_known(region))
        return cp_cli_fail(cmd, "--region: '%s' is not a known region code", region);
    snap.region = region;
    today_utc(snap.date);

    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    char err[1024];
    int status = 1;
    struct cp_spotify *sp = NULL;
    struct cp_rawstore *store = NULL;
    PGconn *conn = NULL;
    struct cp_spotify_settings settings = {
        .api_url = cfg.spotify_api_url,
        .accounts_url = cfg.spotify_accounts_url,
        .client_id = cfg.spotify_client_id,
        .client_secret = cfg.spotify_client_secret,
        .redis_url = cfg.redis_url,
        .max_wait = max_wait,
    };
    if (cp_spotify_new(&settings, &sp, err, sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    if (cp_rawstore_open(&cfg, &store, err, sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }

    cp_status st = fetch_pages(sp, &snap, err, sizeof err);
    if (cp_spotify_stop_reason(sp)) {
        cp_cli_fail(cmd,
                    "stopped: %s; playlist %s: %zu page%s fetched, nothing landed (a snapshot "
                    "is landed whole); run it again later",
                    cp_spotify_stop_reason(sp), snap.playlist_id, snap.n_pages,
                    snap.n_pages == 1 ? "" : "s");
        status = CP_SPOTIFY_EXIT_STOPPED;
        goto out;
    }
    if (st != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    collect_entries(&snap);
    if (snap.truncated)
        cp_log_warn("ingest spotify: playlist %s has more than %d positions; only the first %d "
                    "are kept (a chart's ranks end at %d)",
                    snap.playlist_id, MAX_POSITIONS, MAX_POSITIONS, MAX_POSITIONS);

    st = land_pages(conn, store, &snap, err, sizeof err);
    if (st != CP_OK) {
        cp_cli_fail(cmd, "playlist %s: %s", snap.playlist_id, err);
        goto out;
    }
    bool all_known = true;
    for (size_t p = 0; p < snap.n_pages; p++)
        all_known = all_known && snap.pages[p].known;
    long long loaded_from = 0;
    if (all_known && cp_enrich_repo_snapshot_object(conn, snap.region, snap.date, &loaded_from, err,
                                                    sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    const struct cp_spotify_stats *stats = cp_spotify_stats(sp);
    if (all_known && loaded_from == snap.pages[0].object_id) {
        fprintf(stderr,
                "ingest spotify: playlist %s unchanged since today's snapshot (object %lld); "
                "nothing to load; %ld request%s\n",
                snap.playlist_id, loaded_from, stats->requests, stats->requests == 1 ? "" : "s");
        status = 0;
        goto out;
    }
    long long rows = 0;
    st = load_snapshot(conn, &snap, &rows, err, sizeof err);
    if (st != CP_OK) {
        cp_cli_fail(cmd, "playlist %s: not loaded: %s", snap.playlist_id, err);
        goto out;
    }
    st = store_track_metadata(conn, &snap, err, sizeof err);
    if (st != CP_OK) {
        cp_cli_fail(cmd, "playlist %s: snapshot loaded, but its track metadata was not stored: %s",
                    snap.playlist_id, err);
        goto out;
    }
    fprintf(stderr,
            "ingest spotify: playlist %s: %lld entries from %zu page%s loaded as the %s playlist "
            "chart of %s (%ld item%s not a track, %ld repeated); %ld request%s (%ld retried)\n",
            snap.playlist_id, rows, snap.n_pages, snap.n_pages == 1 ? "" : "s", snap.region,
            snap.date, snap.skipped_not_track, snap.skipped_not_track == 1 ? "" : "s",
            snap.skipped_duplicate, stats->requests, stats->requests == 1 ? "" : "s",
            stats->retries);
    status = 0;
out:
    snapshot_cleanup(&snap);
    cp_spotify_free(sp);
    cp_rawstore_close(store);
    if (conn)
        PQfinish(conn);
    cp_config_cleanup(&cfg);
    return status;
}
