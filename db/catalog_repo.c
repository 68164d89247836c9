/* Catalog SQL: raw objects and their load state. */
#include "db/catalog_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"
#include "db/pgresult.h"

static cp_status db_error(PGresult *res, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", PQresultErrorMessage(res));
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    PQclear(res);
    return CP_ERR_DB;
}

void cp_raw_object_cleanup(struct cp_raw_object *obj)
{
    free(obj->source);
    free(obj->format);
    free(obj->object_key);
    free(obj->original_name);
    free(obj->chart_kind);
    free(obj->region);
    free(obj->period);
    free(obj->chart_date);
    memset(obj, 0, sizeof *obj);
}

cp_status cp_catalog_find_sha256(PGconn *conn, const char *sha256, long long *object_id,
                                 char *partition, size_t partition_len, char *err, size_t errlen)
{
    const char *params[] = {sha256};
    PGresult *res = PQexecParams(
        conn,
        "select object_id, original_name || ': ' || coalesce(chart_kind, '-') || '/' ||"
        " coalesce(region, '-') || '/' || coalesce(period, '-') || '/' ||"
        " coalesce(chart_date::text, '-') from catalog.raw_object where sha256 = $1",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    *object_id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    if (partition && partition_len)
        snprintf(partition, partition_len, "%s", PQntuples(res) ? PQgetvalue(res, 0, 1) : "");
    PQclear(res);
    return CP_OK;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

cp_status cp_catalog_insert(PGconn *conn, const struct cp_raw_object *obj, long long *object_id,
                            char *err, size_t errlen)
{
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%lld", obj->bytes);
    const char *params[] = {obj->source,
                            obj->format,
                            obj->object_key,
                            obj->original_name,
                            nonempty(obj->chart_kind),
                            nonempty(obj->region),
                            nonempty(obj->period),
                            nonempty(obj->chart_date),
                            bytes,
                            obj->sha256};
    PGresult *res = PQexecParams(
        conn,
        "insert into catalog.raw_object (source, format, object_key, original_name, chart_kind,"
        " region, period, chart_date, bytes, sha256)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " on conflict do nothing returning object_id",
        10, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    *object_id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return CP_OK;
}

static char *opt_value(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : cp_strdup(PQgetvalue(res, row, col));
}

cp_status cp_catalog_pending(PGconn *conn, long long only_id, bool retry_failed,
                             struct cp_raw_object **objects, size_t *count, char *err,
                             size_t errlen)
{
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", only_id);
    const char *params[] = {idbuf, retry_failed ? "true" : "false"};
    PGresult *res = PQexecParams(
        conn,
        "select object_id, source, format, object_key, original_name, chart_kind, region, period,"
        " chart_date::text, bytes, sha256 from catalog.raw_object"
        " where ($1::bigint > 0 and object_id = $1::bigint)"
        "    or ($1::bigint = 0 and loaded_at is null and (load_error is null or $2::boolean))"
        " order by chart_date nulls last, object_id",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    size_t n = (size_t)PQntuples(res);
    struct cp_raw_object *list = cp_calloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        int r = (int)i;
        list[i].object_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        list[i].source = opt_value(res, r, 1);
        list[i].format = opt_value(res, r, 2);
        list[i].object_key = opt_value(res, r, 3);
        list[i].original_name = opt_value(res, r, 4);
        list[i].chart_kind = opt_value(res, r, 5);
        list[i].region = opt_value(res, r, 6);
        list[i].period = opt_value(res, r, 7);
        list[i].chart_date = opt_value(res, r, 8);
        list[i].bytes = strtoll(PQgetvalue(res, r, 9), NULL, 10);
        snprintf(list[i].sha256, sizeof list[i].sha256, "%s", PQgetvalue(res, r, 10));
    }
    PQclear(res);
    *objects = list;
    *count = n;
    return CP_OK;
}

cp_status cp_catalog_count_failed(PGconn *conn, long long *count, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "select count(*) from catalog.raw_object"
                                 " where loaded_at is null and load_error is not null");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    *count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return CP_OK;
}

cp_status cp_catalog_mark_failed(PGconn *conn, long long object_id, const char *reason, char *err,
                                 size_t errlen)
{
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", object_id);
    /* whatever the reason quotes, storing it must not fail too; "" would read as no error */
    char *text =
        cp_text_safe_dup(reason ? reason : "", reason ? strlen(reason) : 0, CP_CATALOG_ERROR_MAX);
    const char *params[] = {idbuf, text[0] ? text : "load failed"};
    PGresult *res =
        PQexecParams(conn, "update catalog.raw_object set load_error = $2 where object_id = $1", 2,
                     NULL, params, NULL, NULL, 0);
    free(text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return db_error(res, err, errlen);
    PQclear(res);
    return CP_OK;
}

cp_status cp_catalog_mark_loaded(PGconn *conn, long long object_id, long long rows, char *err,
                                 size_t errlen)
{
    char idbuf[32], rowsbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", object_id);
    snprintf(rowsbuf, sizeof rowsbuf, "%lld", rows);
    const char *params[] = {idbuf, rowsbuf};
    PGresult *res =
        PQexecParams(conn,
                     "update catalog.raw_object set loaded_at = now(), rows_loaded = $2,"
                     " rows_rejected = 0, load_error = null where object_id = $1",
                     2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return db_error(res, err, errlen);
    PQclear(res);
    return CP_OK;
}

/* ---- the catalog as the API lists it ------------------------------------------------ */

/* Newest first through the primary key; the filters are few and the catalog holds one row per
 * file, so a scan of the matching rows is cheap. Timestamps are RFC 3339 in UTC, whatever
 * the session's time zone. */
static const char CATALOG_LIST_SQL[] =
    "select object_id, source, format, object_key, original_name, chart_kind, region, period,"
    "       to_char(chart_date, 'YYYY-MM-DD'), bytes, sha256,"
    "       to_char(ingested_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "       to_char(loaded_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "       rows_loaded, rows_rejected, load_error, status"
    " from (select *, case when load_error is not null then 'failed'"
    "                      when loaded_at is not null then 'loaded'"
    "                      else 'pending' end as status"
    "       from catalog.raw_object) o"
    " where ($1::text is null or source = $1)"
    "   and ($2::text is null or region = $2)"
    "   and ($3::text is null or status = $3)"
    "   and ($4::bigint is null or object_id < $4)"
    " order by object_id desc"
    " limit $5::integer offset $6::bigint";

enum catalog_column {
    CAT_OBJECT_ID,
    CAT_SOURCE,
    CAT_FORMAT,
    CAT_OBJECT_KEY,
    CAT_ORIGINAL_NAME,
    CAT_CHART_KIND,
    CAT_REGION,
    CAT_PERIOD,
    CAT_CHART_DATE,
    CAT_BYTES,
    CAT_SHA256,
    CAT_INGESTED_AT,
    CAT_LOADED_AT,
    CAT_ROWS_LOADED,
    CAT_ROWS_REJECTED,
    CAT_LOAD_ERROR,
    CAT_STATUS,
};

/* A column's text, borrowed from res, or NULL for SQL NULL. */
static const char *borrowed(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static long long count_field(const PGresult *res, int row, int col, bool *present)
{
    *present = !PQgetisnull(res, row, col);
    return *present ? strtoll(PQgetvalue(res, row, col), NULL, 10) : 0;
}

cp_status cp_catalog_list(PGconn *conn, const struct cp_catalog_query *q,
                          struct cp_catalog_page *page, char *err, size_t errlen)
{
    char before[32], limit[16], offset[32];
    snprintf(before, sizeof before, "%lld", q->before);
    snprintf(limit, sizeof limit, "%d", q->limit);
    snprintf(offset, sizeof offset, "%lld", q->offset);
    const char *before_param = q->before > 0 ? before : NULL;
    const char *params[] = {q->source, q->region, q->status, before_param, limit, offset};
    PGresult *res = PQexecParams(conn, CATALOG_LIST_SQL, 6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    size_t n = (size_t)PQntuples(res);
    struct cp_catalog_item *items = cp_calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        int r = (int)i;
        struct cp_catalog_item *it = &items[i];
        it->object_id = strtoll(PQgetvalue(res, r, CAT_OBJECT_ID), NULL, 10);
        it->source = borrowed(res, r, CAT_SOURCE);
        it->format = borrowed(res, r, CAT_FORMAT);
        it->object_key = borrowed(res, r, CAT_OBJECT_KEY);
        it->original_name = borrowed(res, r, CAT_ORIGINAL_NAME);
        it->chart_kind = borrowed(res, r, CAT_CHART_KIND);
        it->region = borrowed(res, r, CAT_REGION);
        it->period = borrowed(res, r, CAT_PERIOD);
        it->chart_date = borrowed(res, r, CAT_CHART_DATE);
        it->bytes = strtoll(PQgetvalue(res, r, CAT_BYTES), NULL, 10);
        it->sha256 = borrowed(res, r, CAT_SHA256);
        it->ingested_at = borrowed(res, r, CAT_INGESTED_AT);
        it->loaded_at = borrowed(res, r, CAT_LOADED_AT);
        it->rows_loaded = count_field(res, r, CAT_ROWS_LOADED, &it->has_rows_loaded);
        it->rows_rejected = count_field(res, r, CAT_ROWS_REJECTED, &it->has_rows_rejected);
        it->load_error = borrowed(res, r, CAT_LOAD_ERROR);
        it->status = borrowed(res, r, CAT_STATUS);
    }
    page->items = items;
    page->count = n;
    page->result = res;
    return CP_OK;
}

void cp_catalog_page_cleanup(struct cp_catalog_page *page)
{
    free(page->items);
    PQclear(page->result);
    memset(page, 0, sizeof *page);
}

/* The object's row always comes back (so "no rows" is exactly "no such object"); its rejects
 * are a left join, a null line_no meaning none on this page. */
static const char REJECTS_SQL[] =
    "select (select count(*) from etl.reject c where c.object_id = o.object_id),"
    "       r.line_no, r.reason, r.raw_text"
    " from catalog.raw_object o"
    " left join lateral ("
    "   select line_no, reason, raw_text from etl.reject r"
    "   where r.object_id = o.object_id"
    "   order by line_no limit $2::integer offset $3::bigint"
    " ) r on true"
    " where o.object_id = $1::bigint"
    " order by r.line_no";

cp_status cp_catalog_list_rejects(PGconn *conn, long long object_id, int limit, long long offset,
                                  struct cp_catalog_rejects *rejects, char *err, size_t errlen)
{
    char id[32], limit_text[16], offset_text[32];
    snprintf(id, sizeof id, "%lld", object_id);
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    snprintf(offset_text, sizeof offset_text, "%lld", offset);
    const char *params[] = {id, limit_text, offset_text};
    PGresult *res = PQexecParams(conn, REJECTS_SQL, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return db_error(res, err, errlen);
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return CP_ERR_NOT_FOUND;
    }
    struct cp_catalog_reject *items = cp_calloc((size_t)rows, sizeof *items);
    size_t n = 0;
    for (int r = 0; r < rows; r++) {
        if (PQgetisnull(res, r, 1))
            continue;
        items[n].line_no = strtoll(PQgetvalue(res, r, 1), NULL, 10);
        items[n].reason = PQgetvalue(res, r, 2);
        items[n].raw_text = PQgetvalue(res, r, 3);
        n++;
    }
    rejects->total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    rejects->items = items;
    rejects->count = n;
    rejects->result = res;
    return CP_OK;
}

void cp_catalog_rejects_cleanup(struct cp_catalog_rejects *rejects)
{
    free(rejects->items);
    PQclear(rejects->result);
    memset(rejects, 0, sizeof *rejects);
}

cp_status cp_catalog_partitions(PGconn *conn, PGresult **out, char *err, size_t errlen)
{
    return cp_pg_rows(
        conn,
        "select format, "
        "       string_agg(distinct p[1], ',' order by p[1]), "
        "       string_agg(distinct p[2], ',' order by p[2]), "
        "       string_agg(distinct p[3], ',' order by p[3]), "
        "       string_agg(distinct p[4], ',' order by p[4]), "
        "       coalesce(bool_and(p[4] ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'), false), "
        "       min(p[4]), max(p[4]), count(*), count(*) filter (where p is null) "
        "  from (select format, regexp_match(object_key, "
        "               '^source=([^/]+)/chart=([^/]+)/region=([^/]+)/date=([^/]+)/') as p "
        "          from catalog.raw_object) k "
        " group by format order by format",
        0, NULL, out, err, errlen);
}

cp_status cp_catalog_shared_partitions(PGconn *conn, PGresult **out, char *err, size_t errlen)
{
    return cp_pg_rows(conn,
                      "select k, string_agg(distinct format, ', ' order by format) "
                      "  from (select format, substring(object_key from "
                      "               '^(source=[^/]+/chart=[^/]+/region=[^/]+/date=[^/]+/)') as k "
                      "          from catalog.raw_object) o "
                      " where k is not null group by k having count(distinct format) > 1 "
                      " order by k limit 5",
                      0, NULL, out, err, errlen);
}
