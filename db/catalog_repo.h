/* SQL for the raw-zone catalog (catalog.raw_object) and ETL rejects. */
#ifndef CP_CATALOG_REPO_H
#define CP_CATALOG_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

/* One cataloged raw object. Strings are owned by the struct (cp_raw_object_cleanup). */
struct cp_raw_object {
    long long object_id;
    char *source;
    char *format;
    char *object_key;
    char *original_name;
    char *chart_kind; /* NULL when the object spans several (Kaggle) */
    char *region;
    char *period;
    char *chart_date;
    long long bytes;
    char sha256[65];
};

void cp_raw_object_cleanup(struct cp_raw_object *obj);

/* *object_id receives the id of an object with this content, or 0 when there is none.
 * partition (may be NULL) receives that object's "name: kind/region/period/date" with "-"
 * for what is unknown. */
cp_status cp_catalog_find_sha256(PGconn *conn, const char *sha256, long long *object_id,
                                 char *partition, size_t partition_len, char *err, size_t errlen);
/* Inserts obj (object_id ignored). When an object with the same sha256 exists already,
 * *object_id receives 0 and nothing changes. */
cp_status cp_catalog_insert(PGconn *conn, const struct cp_raw_object *obj, long long *object_id,
                            char *err, size_t errlen);
/* Objects not yet loaded, oldest chart date first. *objects is a new array (free each with
 * cp_raw_object_cleanup, then free the array). Objects whose last load failed (load_error
 * set) are left out unless retry_failed. only_id > 0 restricts to that object and includes
 * it whatever its state (loaded: for a reload; failed: for a retry). */
cp_status cp_catalog_pending(PGconn *conn, long long only_id, bool retry_failed,
                             struct cp_raw_object **objects, size_t *count, char *err,
                             size_t errlen);
/* *count receives how many objects are not loaded because their last load failed: those
 * cp_catalog_pending leaves out without retry_failed. */
cp_status cp_catalog_count_failed(PGconn *conn, long long *count, char *err, size_t errlen);
/* Records a failed load attempt: the object is "failed" with this reason (kept in the safe
 * text form of core/text.h, at most CP_CATALOG_ERROR_MAX bytes) until a load of it works,
 * and later loads leave it out unless asked to retry it. */
#define CP_CATALOG_ERROR_MAX 2000
cp_status cp_catalog_mark_failed(PGconn *conn, long long object_id, const char *reason, char *err,
                                 size_t errlen);

/* Marks object_id loaded with rows chart entries, for an object loaded as part of another
 * object's chart (the later pages of a playlist snapshot, merged with its first page). */
cp_status cp_catalog_mark_loaded(PGconn *conn, long long object_id, long long rows, char *err,
                                 size_t errlen);

/* ---- the catalog as the API lists it (GET /v1/catalog) ----------------------------- */

/* Which objects to list, newest (highest object_id) first. NULL filters are not applied. */
struct cp_catalog_query {
    const char *source; /* exact source, e.g. "charts.spotify.com" */
    const char *region; /* exact region code */
    const char *status; /* pending | loaded | failed (see cp_catalog_item.status) */
    long long before;   /* only objects with a smaller object_id; 0 for no bound */
    long long offset;   /* skip this many after the filters */
    int limit;          /* at most this many */
};

/* One listed object. Strings are borrowed from the cp_catalog_page holding the item and live
 * until cp_catalog_page_cleanup; NULL where the column is NULL. */
struct cp_catalog_item {
    long long object_id;
    const char *source;
    const char *format;
    const char *object_key;
    const char *original_name;
    const char *chart_kind; /* NULL when the object spans several, likewise below */
    const char *region;
    const char *period;
    const char *chart_date; /* YYYY-MM-DD */
    long long bytes;
    const char *sha256;
    const char *ingested_at; /* RFC 3339 UTC, microseconds: 2024-03-01T06:00:00.123456Z */
    const char *loaded_at;   /* likewise; NULL until loaded */
    long long rows_loaded;
    bool has_rows_loaded;
    long long rows_rejected;
    bool has_rows_rejected;
    const char *load_error; /* the last failed attempt's reason, NULL after a success */
    const char *status;     /* failed (load_error set), else loaded (loaded_at set), else pending */
};

/* A page of the listing. Owns items and the strings they point at. */
struct cp_catalog_page {
    struct cp_catalog_item *items;
    size_t count;
    PGresult *result; /* private: backs the item strings */
};

/* Reads one page of catalog.raw_object for q. CP_OK (possibly with no items) or CP_ERR_DB with
 * the database's message in err. Only on CP_OK is there anything to clean up. */
cp_status cp_catalog_list(PGconn *conn, const struct cp_catalog_query *q,
                          struct cp_catalog_page *page, char *err, size_t errlen);
void cp_catalog_page_cleanup(struct cp_catalog_page *page);

/* One rejected row of an object (etl.reject). Strings borrowed as above. */
struct cp_catalog_reject {
    long long line_no;
    const char *reason;
    const char *raw_text;
};

/* A page of one object's rejects, by line number. */
struct cp_catalog_rejects {
    long long total; /* rejects the object has, across all pages */
    struct cp_catalog_reject *items;
    size_t count;
    PGresult *result; /* private */
};

/* Reads up to limit rejects of object_id from offset on. CP_ERR_NOT_FOUND when no such
 * object exists (an object without rejects gives CP_OK with none), CP_ERR_DB with err on a
 * failure (the reading role needs SELECT on etl.reject). */
cp_status cp_catalog_list_rejects(PGconn *conn, long long object_id, int limit, long long offset,
                                  struct cp_catalog_rejects *rejects, char *err, size_t errlen);
void cp_catalog_rejects_cleanup(struct cp_catalog_rejects *rejects);

/* What `chartpulse catalog export` describes (pipeline/catalog_export.c): per format, the
 * distinct values of each partition key of its object keys
 * (source=/chart=/region=/date=, comma-joined), whether every date value is a date, the
 * first and last date, the objects, and those whose key lacks the layout. As cp_pg_rows
 * answers (CP_ERR_NOT_FOUND: an empty catalog). */
cp_status cp_catalog_partitions(PGconn *conn, PGresult **out, char *err, size_t errlen);
/* Up to five partitions holding objects of more than one format: the partition and the
 * formats. As cp_pg_rows answers (CP_ERR_NOT_FOUND: none). */
cp_status cp_catalog_shared_partitions(PGconn *conn, PGresult **out, char *err, size_t errlen);

#endif
