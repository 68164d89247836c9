/* POST /v1/uploads: validate, land in the raw zone and catalog, load, answer the object. */
#include "handlers/uploads.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/generation.h"
#include "core/log.h"
#include "core/series.h"
#include "core/text.h"
#include "db/catalog_repo.h"
#include "handlers/catalog.h"
#include "handlers/params.h"
#include "pipeline/ingest.h"
#include "pipeline/load.h"
#include "pipeline/rawstore.h"

/* The longest file name most file systems and object stores take, in bytes. */
#define FILENAME_MAX_LEN 255
/* The ending every chart file has; the format itself is told from the header. */
#define FILENAME_SUFFIX ".csv"

/* The code point of the UTF-8 character at s (already validated), its length in *len. */
static unsigned decode_utf8(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if (s[0] < 0xe0) {
        *len = 2;
        return (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    }
    if (s[0] < 0xf0) {
        *len = 3;
        return (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    }
    *len = 4;
    return (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3f) << 12 |
           (unsigned)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Control characters (C0, DEL, C1) and the bidirectional overrides and isolates, which
 * make a name read otherwise than it is stored. */
static bool hidden_character(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Checks an upload's file name before anything is stored: it becomes part of a raw-zone
 * key and of the catalog, and the catalog (JSON) can only show text. CP_OK, or a 400
 * problem naming what is wrong. */
static cp_status check_file_name(const char *name, struct cp_reply *reply)
{
    size_t len = name ? strlen(name) : 0;
    if (!len)
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "filename: required (e.g. regional-global-daily-2024-03-01.csv)");
    if (len > FILENAME_MAX_LEN)
        return cp_reply_problem(reply, CP_ERR_INVALID, "filename: at most %d bytes (got %zu)",
                                FILENAME_MAX_LEN, len);
    size_t bad = cp_utf8_invalid_at(name, len);
    if (bad < len)
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "filename: not valid UTF-8 at offset %zu (byte 0x%02x); send "
                                "the name's UTF-8 bytes percent-encoded",
                                bad, (unsigned char)name[bad]);
    for (size_t i = 0, n; i < len; i += n) {
        unsigned cp = decode_utf8((const unsigned char *)name + i, &n);
        if (cp == '/' || cp == '\\')
            return cp_reply_problem(reply, CP_ERR_INVALID,
                                    "filename: must be a plain file name, without '/' or '\\'");
        if (hidden_character(cp))
            return cp_reply_problem(reply, CP_ERR_INVALID,
                                    "filename: contains the control character U+%04X at "
                                    "offset %zu",
                                    cp, i);
    }
    if (name[0] == '.')
        return cp_reply_problem(reply, CP_ERR_INVALID, "filename: must not start with '.'");
    size_t suffix = strlen(FILENAME_SUFFIX);
    if (len <= suffix || strcasecmp(name + len - suffix, FILENAME_SUFFIX))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "filename: must end in " FILENAME_SUFFIX " (got '%s')", name);
    return CP_OK;
}

/* The catalog object object_id as the API shows it, or NULL (err set). New reference. */
static json_t *object_json(PGconn *db, long long object_id, char *err, size_t errlen)
{
    /* the listing is newest first: the first object below object_id + 1 is the object */
    struct cp_catalog_query q = {.before = object_id + 1, .limit = 1};
    struct cp_catalog_page page;
    if (cp_catalog_list(db, &q, &page, err, errlen) != CP_OK)
        return NULL;
    json_t *obj = NULL;
    if (page.count == 1 && page.items[0].object_id == object_id)
        obj = cp_catalog_object_json(&page.items[0]);
    else
        snprintf(err, errlen, "object %lld is not in the catalog", object_id);
    cp_catalog_page_cleanup(&page);
    return obj;
}

/* Loads object_id (just cataloged). CP_ERR_FORMAT when its rows as a whole cannot be read. */
static cp_status load_object(PGconn *db, struct cp_rawstore *store, long long object_id, char *err,
                             size_t errlen)
{
    struct cp_raw_object *objects = NULL;
    size_t count = 0;
    cp_status st = cp_catalog_pending(db, object_id, false, &objects, &count, err, errlen);
    if (st != CP_OK)
        return st;
    for (size_t i = 0; i < count && st == CP_OK; i++) {
        struct cp_load_result result = {0};
        st = cp_load_object(db, store, &objects[i], &result, err, errlen);
        if (result.warnings)
            cp_log_warn("upload: object %lld (%s): %s", objects[i].object_id,
                        objects[i].original_name, result.warnings);
        free(result.warnings);
    }
    for (size_t i = 0; i < count; i++)
        cp_raw_object_cleanup(&objects[i]);
    free(objects);
    return st;
}

cp_status cp_uploads_create(const struct cp_request *req, struct cp_reply *reply)
{
    /* validate */
    cp_status st = cp_request_authorize_admin(req, reply);
    if (st != CP_OK)
        return st;
    const char *filename = cp_request_query(req, "filename");
    if ((st = check_file_name(filename, reply)) != CP_OK)
        return st;
    const char *region, *period, *kind, *date;
    if ((st = cp_param_region_filter(req, reply, &region)) != CP_OK ||
        (st = cp_param_choice(req, reply, "period", cp_periods, NULL, &period)) != CP_OK ||
        (st = cp_param_choice(req, reply, "kind", cp_chart_kinds, NULL, &kind)) != CP_OK ||
        (st = cp_param_date(req, reply, "date", &date)) != CP_OK)
        return st;
    if (!req->body || !req->body_len)
        return cp_reply_problem(reply, CP_ERR_INVALID, "body: send the chart CSV as the body");

    /* repo: land, catalog, load */
    PGconn *db = cp_request_db(req);
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    char err[1024];
    struct cp_rawstore *store = NULL;
    if (cp_rawstore_open(req->config, &store, err, sizeof err) != CP_OK) {
        cp_log_error("upload: cannot open the raw zone: %s", err);
        return cp_reply_problem(reply, CP_ERR_IO, "the raw zone cannot be opened");
    }
    struct cp_ingest_overrides ovr = {
        .format = CP_FORMAT_UNKNOWN,
        .chart_kind = kind ? kind : "",
        .region = region ? region : "",
        .period = period ? period : "",
        .chart_date = date ? date : "",
    };
    enum cp_ingest_outcome outcome;
    long long object_id = 0;
    st = cp_ingest_buffer(db, store, filename, req->body, req->body_len, &ovr, &outcome, &object_id,
                          err, sizeof err);
    if (st == CP_OK && outcome == CP_INGEST_NEW) {
        st = load_object(db, store, object_id, err, sizeof err);
        if (st == CP_OK) {
            char cache_err[256];
            if (cp_generation_bump(req->config->redis_url, cache_err, sizeof cache_err) != CP_OK)
                cp_log_warn("upload: could not invalidate the API cache: %s", cache_err);
        }
    }
    cp_rawstore_close(store);
    if (st == CP_ERR_FORMAT || st == CP_ERR_INVALID) /* 422, or 400 for what a flag fills in */
        return cp_reply_problem(reply, st, "%s", err);
    if (st != CP_OK) {
        cp_log_error("upload of %s failed: %s", filename, err);
        return cp_reply_problem(reply, st, "the upload could not be stored or loaded");
    }
    cp_log_info("upload %s: object %lld %s", filename, object_id,
                outcome == CP_INGEST_NEW ? "cataloged and loaded" : "was uploaded before");

    /* build JSON */
    json_t *body = object_json(db, object_id, err, sizeof err);
    if (!body) {
        cp_log_error("upload: reading object %lld back failed: %s", object_id, err);
        return cp_reply_problem(reply, CP_ERR_DB, "the object was stored but cannot be read back");
    }

    /* respond */
    return outcome == CP_INGEST_NEW ? cp_reply_created(reply, body) : cp_reply_json(reply, body);
}
