/* The catalog endpoints: validate the filters and paging, read the catalog, shape JSON. */
#include "handlers/catalog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/number.h"
#include "db/catalog_repo.h"
#include "handlers/csv.h"
#include "handlers/params.h"

/* Longest source name we take as a filter; real ones are a few words. */
#define SOURCE_MAX 100

/* A JSON string of s, or null; bytes that are not UTF-8 become '?'. New reference. */
static json_t *text_or_null(const char *s)
{
    if (!s)
        return json_null();
    json_t *value = json_string(s);
    if (value)
        return value;
    char *copy = cp_strdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    value = json_string(copy);
    free(copy);
    return value ? value : json_null();
}

static json_t *count_or_null(bool present, long long v)
{
    return present ? json_integer(v) : json_null();
}

/* limit and offset, shared by both endpoints. Returns CP_OK or the problem's status. */
static cp_status paging(const struct cp_request *req, struct cp_reply *reply, int *limit,
                        long long *offset)
{
    const char *limit_text = cp_request_query(req, "limit");
    long long value = CP_LIMIT_DEFAULT;
    if (limit_text && !cp_number_parse(limit_text, 1, CP_LIMIT_MAX, &value))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "limit: must be an integer from 1 to %d (got '%.40s')",
                                CP_LIMIT_MAX, limit_text);
    *limit = (int)value;
    const char *offset_text = cp_request_query(req, "offset");
    *offset = 0;
    if (offset_text && !cp_number_parse(offset_text, 0, 1000000000000LL, offset))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "offset: must be a non-negative integer (got '%.40s')",
                                offset_text);
    return CP_OK;
}

json_t *cp_catalog_object_json(const struct cp_catalog_item *it)
{
    json_t *partition = json_object();
    json_object_set_new(partition, "chart_kind", text_or_null(it->chart_kind));
    json_object_set_new(partition, "region", text_or_null(it->region));
    json_object_set_new(partition, "period", text_or_null(it->period));
    json_object_set_new(partition, "chart_date", text_or_null(it->chart_date));
    json_t *obj = json_object();
    json_object_set_new(obj, "object_id", json_integer(it->object_id));
    json_object_set_new(obj, "source", text_or_null(it->source));
    json_object_set_new(obj, "format", text_or_null(it->format));
    json_object_set_new(obj, "key", text_or_null(it->object_key));
    json_object_set_new(obj, "original_name", text_or_null(it->original_name));
    json_object_set_new(obj, "partition", partition);
    json_object_set_new(obj, "bytes", json_integer(it->bytes));
    json_object_set_new(obj, "sha256", text_or_null(it->sha256));
    json_object_set_new(obj, "ingested_at", text_or_null(it->ingested_at));
    json_object_set_new(obj, "loaded_at", text_or_null(it->loaded_at));
    json_object_set_new(obj, "rows_loaded", count_or_null(it->has_rows_loaded, it->rows_loaded));
    json_object_set_new(obj, "rows_rejected",
                        count_or_null(it->has_rows_rejected, it->rows_rejected));
    json_object_set_new(obj, "load_error", text_or_null(it->load_error));
    json_object_set_new(obj, "status", text_or_null(it->status));
    return obj;
}

/* CSV columns: one row per object (csv.h), nested members by dotted name. */
static const char *const CATALOG_CSV_COLUMNS[] = {"object_id",
                                                  "source",
                                                  "format",
                                                  "key",
                                                  "original_name",
                                                  "partition.chart_kind",
                                                  "partition.region",
                                                  "partition.period",
                                                  "partition.chart_date",
                                                  "bytes",
                                                  "sha256",
                                                  "ingested_at",
                                                  "loaded_at",
                                                  "rows_loaded",
                                                  "rows_rejected",
                                                  "load_error",
                                                  "status",
                                                  NULL};
static const char *const REJECTS_CSV_COLUMNS[] = {"line_no", "reason", "raw_text", NULL};

cp_status cp_catalog_index(const struct cp_request *req, struct cp_reply *reply)
{
    static const char *const statuses[] = {"pending", "loaded", "failed", NULL};

    /* validate */
    struct cp_catalog_query q = {0};
    bool csv;
    cp_status st = cp_csv_negotiate(req, reply, &csv);
    if (st != CP_OK)
        return st;
    st = paging(req, reply, &q.limit, &q.offset);
    if (st != CP_OK)
        return st;
    const char *before = cp_request_query(req, "before");
    if (before && !cp_number_parse(before, 1, 9223372036854775807LL, &q.before))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "before: must be a positive object_id (got '%.40s')", before);
    q.source = cp_request_query(req, "source");
    if (q.source && (!*q.source || strlen(q.source) > SOURCE_MAX))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "source: must be 1 to %d characters (got '%.40s')", SOURCE_MAX,
                                q.source);
    if ((st = cp_param_region_filter(req, reply, &q.region)) != CP_OK)
        return st;
    q.status = cp_request_query(req, "status");
    if (q.status) {
        size_t i = 0;
        while (statuses[i] && strcmp(statuses[i], q.status))
            i++;
        if (!statuses[i])
            return cp_reply_problem(reply, CP_ERR_INVALID,
                                    "status: must be 'pending', 'loaded' or 'failed' (got '%.40s')",
                                    q.status);
    }

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_catalog_page page;
    char err[512];
    st = cp_catalog_list(db, &q, &page, err, sizeof err);
    if (st != CP_OK) {
        cp_log_error("catalog query failed: %s", err);
        return cp_reply_problem(reply, st, "the catalog could not be read from the database");
    }

    /* build JSON */
    json_t *objects = json_array();
    for (size_t i = 0; i < page.count; i++)
        json_array_append_new(objects, cp_catalog_object_json(&page.items[i]));
    json_t *body = json_object();
    json_object_set_new(body, "objects", objects);
    json_object_set_new(body, "count", json_integer((json_int_t)page.count));
    json_object_set_new(body, "limit", json_integer(q.limit));
    json_object_set_new(body, "offset", json_integer(q.offset));
    json_object_set_new(body, "next_before",
                        page.count == (size_t)q.limit && page.count
                            ? json_integer(page.items[page.count - 1].object_id)
                            : json_null());
    cp_catalog_page_cleanup(&page);

    /* respond */
    if (csv)
        return cp_csv_reply_rows(reply, body, "objects", CATALOG_CSV_COLUMNS);
    return cp_reply_json(reply, body);
}

cp_status cp_catalog_rejects(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    const char *id_text = cp_request_param(req, "object_id");
    long long object_id = 0;
    if (!id_text || !cp_number_parse(id_text, 1, 9223372036854775807LL, &object_id))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "object_id: must be a positive integer (got '%.40s')",
                                id_text ? id_text : "");
    int limit;
    long long offset;
    bool csv;
    cp_status st = cp_csv_negotiate(req, reply, &csv);
    if (st != CP_OK)
        return st;
    st = paging(req, reply, &limit, &offset);
    if (st != CP_OK)
        return st;

    /* repo */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_catalog_rejects rejects;
    char err[512];
    st = cp_catalog_list_rejects(db, object_id, limit, offset, &rejects, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND)
        return cp_reply_problem(reply, st, "no raw object %lld in the catalog", object_id);
    if (st != CP_OK) {
        cp_log_error("rejects query failed: %s", err);
        return cp_reply_problem(reply, st, "the rejects could not be read from the database");
    }

    /* build JSON */
    json_t *items = json_array();
    for (size_t i = 0; i < rejects.count; i++) {
        const struct cp_catalog_reject *r = &rejects.items[i];
        json_t *row = json_object();
        json_object_set_new(row, "line_no", json_integer(r->line_no));
        json_object_set_new(row, "reason", text_or_null(r->reason));
        json_object_set_new(row, "raw_text", text_or_null(r->raw_text));
        json_array_append_new(items, row);
    }
    json_t *body = json_object();
    json_object_set_new(body, "object_id", json_integer(object_id));
    json_object_set_new(body, "total", json_integer(rejects.total));
    json_object_set_new(body, "count", json_integer((json_int_t)rejects.count));
    json_object_set_new(body, "limit", json_integer(limit));
    json_object_set_new(body, "offset", json_integer(offset));
    json_object_set_new(body, "rejects", items);
    cp_catalog_rejects_cleanup(&rejects);

    /* respond */
    if (csv)
        return cp_csv_reply_rows(reply, body, "rejects", REJECTS_CSV_COLUMNS);
    return cp_reply_json(reply, body);
}
