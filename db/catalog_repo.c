/* Catalog SQL: raw objects and their load state. */
#include "catalog_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

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
    const char *params[] = {obj->source,           obj->format,          obj->object_key,
                            obj->original_name,    nonempty(obj->chart_kind), nonempty(obj->region),
                            nonempty(obj->period), nonempty(obj->chart_date), bytes,
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

cp_status cp_catalog_pending(PGconn *conn, long long only_id, struct cp_raw_object **objects,
                             size_t *count, char *err, size_t errlen)
{
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", only_id);
    const char *params[] = {idbuf};
    PGresult *res = PQexecParams(
        conn,
        "select object_id, source, format, object_key, original_name, chart_kind, region, period,"
        " chart_date::text, bytes, sha256 from catalog.raw_object"
        " where ($1::bigint > 0 and object_id = $1::bigint) or ($1::bigint = 0 and loaded_at is null)"
        " order by chart_date nulls last, object_id",
        1, NULL, params, NULL, NULL, 0);
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

cp_status cp_catalog_mark_failed(PGconn *conn, long long object_id, const char *reason, char *err,
                                 size_t errlen)
{
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", object_id);
    const char *params[] = {idbuf, reason};
    PGresult *res = PQexecParams(conn,
                                 "update catalog.raw_object set load_error = $2 where object_id = $1",
                                 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return db_error(res, err, errlen);
    PQclear(res);
    return CP_OK;
}
