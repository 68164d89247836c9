/* Web API data SQL: pending ids, album/track/artist metadata, missing ids, snapshots. */
#include "db/enrich_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static cp_status db_error(PGresult *res, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(res));
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    PQclear(res);
    return CP_ERR_DB;
}

/* Runs a statement that returns no rows (or rows nobody reads). */
static cp_status exec_params(PGconn *conn, const char *what, const char *sql, int n,
                             const char *const *params, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        return db_error(res, what, err, errlen);
    PQclear(res);
    return CP_OK;
}

struct kind_sql {
    const char *name;
    const char *pending; /* $1 after, $2 limit */
    const char *count;
};

static const struct kind_sql kinds[CP_ENRICH_KIND_COUNT] = {
    [CP_ENRICH_TRACK] = {"track",
                         "select t.track_id from core.track t"
                         " where t.enriched_at is null and t.track_id > $1"
                         " and not exists (select 1 from etl.enrich_missing m"
                         "  where m.kind = 'track' and m.spotify_id = t.track_id)"
                         " order by t.track_id limit $2",
                         "select count(*) from core.track t where t.enriched_at is null"
                         " and not exists (select 1 from etl.enrich_missing m"
                         "  where m.kind = 'track' and m.spotify_id = t.track_id)"},
    [CP_ENRICH_ALBUM] = {"album",
                         "select a.album_id from core.album a"
                         " where a.enriched_at is null and a.album_id > $1"
                         " and not exists (select 1 from etl.enrich_missing m"
                         "  where m.kind = 'album' and m.spotify_id = a.album_id)"
                         " order by a.album_id limit $2",
                         "select count(*) from core.album a where a.enriched_at is null"
                         " and not exists (select 1 from etl.enrich_missing m"
                         "  where m.kind = 'album' and m.spotify_id = a.album_id)"},
    [CP_ENRICH_ARTIST] = {"artist",
                          "select a.spotify_id from core.artist a"
                          " where a.spotify_id is not null and a.enriched_at is null"
                          " and a.spotify_id > $1"
                          " and not exists (select 1 from etl.enrich_missing m"
                          "  where m.kind = 'artist' and m.spotify_id = a.spotify_id)"
                          " order by a.spotify_id limit $2",
                          "select count(*) from core.artist a"
                          " where a.spotify_id is not null and a.enriched_at is null"
                          " and not exists (select 1 from etl.enrich_missing m"
                          "  where m.kind = 'artist' and m.spotify_id = a.spotify_id)"},
};

const char *cp_enrich_kind_name(enum cp_enrich_kind kind)
{
    return kind < CP_ENRICH_KIND_COUNT ? kinds[kind].name : "?";
}

cp_status cp_enrich_repo_pending(PGconn *conn, enum cp_enrich_kind kind, const char *after,
                                 int limit, cp_enrich_id **ids, size_t *count, char *err,
                                 size_t errlen)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    const char *params[] = {after ? after : "", limit_text};
    PGresult *res = PQexecParams(conn, kinds[kind].pending, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, "pending ids", err, errlen);
    size_t n = (size_t)PQntuples(res);
    cp_enrich_id *list = cp_calloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n; i++)
        snprintf(list[i], sizeof list[i], "%s", PQgetvalue(res, (int)i, 0));
    PQclear(res);
    *ids = list;
    *count = n;
    return CP_OK;
}

cp_status cp_enrich_repo_count_pending(PGconn *conn, enum cp_enrich_kind kind, long long *count,
                                       char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, kinds[kind].count, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, "pending count", err, errlen);
    *count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return CP_OK;
}

cp_status cp_enrich_repo_begin(PGconn *conn, char *err, size_t errlen)
{
    return exec_params(conn, "begin", "begin", 0, NULL, err, errlen);
}

cp_status cp_enrich_repo_commit(PGconn *conn, char *err, size_t errlen)
{
    cp_status st = exec_params(conn, "commit", "commit", 0, NULL, err, errlen);
    if (st != CP_OK)
        cp_enrich_repo_rollback(conn);
    return st;
}

void cp_enrich_repo_rollback(PGconn *conn)
{
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(conn, "rollback");
        PQclear(res);
    }
}

/* Decimal text of v, or NULL when v < 0 (absent). */
static const char *opt_number(long long v, char *buf, size_t buflen)
{
    if (v < 0)
        return NULL;
    snprintf(buf, buflen, "%lld", v);
    return buf;
}

cp_status cp_enrich_repo_store_album(PGconn *conn, const struct cp_album_row *album, char *err,
                                     size_t errlen)
{
    char popularity[16], total[16];
    const char *params[] = {album->album_id,
                            album->name,
                            album->album_type,
                            album->release_date,
                            album->release_date ? album->release_date_precision : NULL,
                            album->label,
                            opt_number(album->popularity, popularity, sizeof popularity),
                            opt_number(album->total_tracks, total, sizeof total),
                            album->images_json,
                            album->full ? "true" : "false"};
    return exec_params(
        conn, "store album",
        "insert into core.album as a (album_id, name, album_type, release_date,"
        " release_date_precision, label, popularity, total_tracks, images, enriched_at)"
        " values ($1, coalesce($2, ''), $3, $4::date, $5, $6, $7::smallint, $8::integer,"
        " $9::jsonb, case when $10::boolean then now() end)"
        " on conflict (album_id) do update set"
        "  name = coalesce(nullif(excluded.name, ''), a.name),"
        "  album_type = coalesce(excluded.album_type, a.album_type),"
        "  release_date = case when excluded.release_date is null then a.release_date"
        "   else excluded.release_date end,"
        "  release_date_precision = case when excluded.release_date is null"
        "   then a.release_date_precision else excluded.release_date_precision end,"
        "  label = case when $10::boolean then excluded.label else a.label end,"
        "  popularity = case when $10::boolean then excluded.popularity else a.popularity end,"
        "  total_tracks = coalesce(excluded.total_tracks, a.total_tracks),"
        "  images = coalesce(excluded.images, a.images),"
        "  enriched_at = coalesce(excluded.enriched_at, a.enriched_at),"
        "  updated_at = now()",
        10, params, err, errlen);
}

cp_status cp_enrich_repo_store_track(PGconn *conn, const struct cp_track_row *track, char *err,
                                     size_t errlen)
{
    char duration[24], popularity[16];
    const char *explicit_text =
        track->explicit_flag < 0 ? NULL : (track->explicit_flag ? "true" : "false");
    const char *params[] = {
        track->track_id,    track->name,
        track->artist_line, opt_number(track->duration_ms, duration, sizeof duration),
        explicit_text,      track->isrc,
        track->album_id,    opt_number(track->popularity, popularity, sizeof popularity)};
    cp_status st = exec_params(
        conn, "store track",
        "update core.track set"
        " name = coalesce(nullif(name, ''), $2, ''),"
        " artist_names = case when artist_names = '' then coalesce($3, '') else artist_names end,"
        " duration_ms = $4::integer, explicit = $5::boolean, isrc = $6, album_id = $7,"
        " popularity = $8::smallint, enriched_at = now(), updated_at = now()"
        " where track_id = $1",
        8, params, err, errlen);
    if (st != CP_OK || !track->artists_json)
        return st;
    const char *credit_params[] = {track->track_id, track->artists_json};
    return exec_params(conn, "store credits",
                       "select etl.replace_track_credits($1, $2::jsonb)"
                       " where exists (select 1 from core.track where track_id = $1)",
                       2, credit_params, err, errlen);
}

cp_status cp_enrich_repo_store_artist(PGconn *conn, const struct cp_artist_row *artist, char *err,
                                      size_t errlen)
{
    char popularity[16], followers[24];
    const char *params[] = {artist->spotify_id,
                            artist->name,
                            artist->genres_json,
                            opt_number(artist->popularity, popularity, sizeof popularity),
                            opt_number(artist->followers, followers, sizeof followers),
                            artist->images_json};
    return exec_params(conn, "store artist",
                       "update core.artist set"
                       " name = coalesce(nullif($2, ''), name),"
                       " genres = case when $3::jsonb is null then null"
                       "  else array(select jsonb_array_elements_text($3::jsonb)) end,"
                       " popularity = $4::smallint, followers = $5::bigint, images = $6::jsonb,"
                       " provisional = false, enriched_at = now(), updated_at = now()"
                       " where spotify_id = $1",
                       6, params, err, errlen);
}

cp_status cp_enrich_repo_mark_missing(PGconn *conn, enum cp_enrich_kind kind, const char *id,
                                      long http_status, const char *reason, char *err,
                                      size_t errlen)
{
    char status_text[16];
    const char *params[] = {
        kinds[kind].name, id,
        opt_number(http_status > 0 ? http_status : -1, status_text, sizeof status_text), reason};
    return exec_params(conn, "mark missing",
                       "insert into etl.enrich_missing (kind, spotify_id, http_status, reason)"
                       " values ($1, $2, $3::integer, $4)"
                       " on conflict (kind, spotify_id) do update set"
                       "  http_status = excluded.http_status, reason = excluded.reason,"
                       "  noted_at = now()",
                       4, params, err, errlen);
}

cp_status cp_enrich_repo_snapshot_object(PGconn *conn, const char *region, const char *date,
                                         long long *object_id, char *err, size_t errlen)
{
    const char *params[] = {region, date};
    PGresult *res = PQexecParams(conn,
                                 "select coalesce(object_id, 0) from core.chart"
                                 " where chart_kind = 'playlist' and region = $1"
                                 " and period = 'daily' and chart_date = $2::date",
                                 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, "snapshot lookup", err, errlen);
    *object_id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return CP_OK;
}
