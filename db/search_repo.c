/* SQL for search: substring matches on core.search_key(name), which the trigram indexes
 * of 0007_search_trends.sql serve. */
#include "db/search_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/pgresult.h"

/* The match class of search_key(name) against the query: 0 exact, 1 prefix, 2 a word
 * (after a space) starts with it, 3 anywhere. $1 is the query. */
#define MATCH_CLASS(col)                                                                           \
    "case when core.search_key(" col ") = core.search_key($1) then 0"                              \
    "     when core.search_key(" col ") like core.search_pattern($1) || '%' then 1"                \
    "     when ' ' || core.search_key(" col ") like '% ' || core.search_pattern($1) || '%'"        \
    "     then 2 else 3 end"

/* Look-alike tracks (relinked ids, re-releases) are told apart by their song and by when
 * and how high they charted anywhere. */
static const char TRACKS_SQL[] =
    "with hits as ("
    "  select t.track_id, t.name, t.artist_names, " MATCH_CLASS(
        "t.name") " as match"
                  "  from core.track t"
                  "  where core.search_key(t.name) like '%' || core.search_pattern($1) || '%'"
                  "  order by match, length(t.name), t.name, t.track_id"
                  "  limit $2::integer"
                  ")"
                  " select h.track_id, h.name, h.artist_names, coalesce(s.song_id, h.track_id),"
                  "        to_char(r.first_date, 'YYYY-MM-DD'), to_char(r.last_date, 'YYYY-MM-DD'),"
                  "        r.peak_rank"
                  " from hits h"
                  " left join core.song_member s using (track_id)"
                  " left join lateral (select min(first_date) as first_date, max(last_date) as "
                  "last_date,"
                  "                           min(peak_rank) as peak_rank"
                  "                    from core.chart_run c where c.track_id = h.track_id) r on "
                  "true"
                  " order by h.match, length(h.name), h.name, h.track_id";

static const char ARTISTS_SQL[] = "select a.public_id, a.spotify_id, a.name, " MATCH_CLASS(
    "a.name") " as match"
              " from core.artist a"
              " where core.search_key(a.name) like '%' || core.search_pattern($1) || '%'"
              " order by match, a.provisional, length(a.name), a.name, a.artist_id"
              " limit $2::integer";

static PGresult *run(PGconn *db, const char *sql, const char *const *params, char *err,
                     size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    snprintf(err, errlen, "%s", PQresultErrorMessage(res));
    err[strcspn(err, "\n")] = '\0';
    PQclear(res);
    return NULL;
}

cp_status cp_search_repo_find(PGconn *db, const char *query, int limit,
                              struct cp_search_results *out, char *err, size_t errlen)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    const char *params[] = {query, limit_text};
    PGresult *tracks = run(db, TRACKS_SQL, params, err, errlen);
    if (!tracks)
        return CP_ERR_DB;
    PGresult *artists = run(db, ARTISTS_SQL, params, err, errlen);
    if (!artists) {
        PQclear(tracks);
        return CP_ERR_DB;
    }
    memset(out, 0, sizeof *out);
    out->track_result = tracks;
    out->artist_result = artists;
    int rows = PQntuples(tracks);
    out->tracks = cp_calloc(rows ? (size_t)rows : 1, sizeof *out->tracks);
    for (int row = 0; row < rows; row++) {
        struct cp_search_hit *h = &out->tracks[out->track_count++];
        h->id = PQgetvalue(tracks, row, 0);
        h->name = PQgetvalue(tracks, row, 1);
        h->artist_names = PQgetvalue(tracks, row, 2);
        h->song_id = PQgetvalue(tracks, row, 3);
        h->first_date = cp_pg_text(tracks, row, 4);
        h->last_date = cp_pg_text(tracks, row, 5);
        h->best_rank = (int)cp_pg_int(tracks, row, 6, NULL); /* 0 when never charted */
    }
    rows = PQntuples(artists);
    out->artists = cp_calloc(rows ? (size_t)rows : 1, sizeof *out->artists);
    for (int row = 0; row < rows; row++) {
        struct cp_search_hit *h = &out->artists[out->artist_count++];
        h->id = PQgetvalue(artists, row, 0);
        h->spotify_id = cp_pg_text(artists, row, 1);
        h->name = PQgetvalue(artists, row, 2);
    }
    return CP_OK;
}

void cp_search_repo_cleanup(struct cp_search_results *results)
{
    free(results->tracks);
    free(results->artists);
    results->tracks = results->artists = NULL;
    results->track_count = results->artist_count = 0;
    PQclear(results->track_result);
    PQclear(results->artist_result);
    results->track_result = results->artist_result = NULL;
}
