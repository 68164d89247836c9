/* SQL for the raw-zone catalog (catalog.raw_object) and ETL rejects. */
#ifndef CP_CATALOG_REPO_H
#define CP_CATALOG_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "status.h"

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
 * cp_raw_object_cleanup, then free the array). only_id > 0 restricts to that object and
 * includes it even when loaded (for --reload). */
cp_status cp_catalog_pending(PGconn *conn, long long only_id, struct cp_raw_object **objects,
                             size_t *count, char *err, size_t errlen);
/* Records a failed load attempt (the object stays pending). */
cp_status cp_catalog_mark_failed(PGconn *conn, long long object_id, const char *reason, char *err,
                                 size_t errlen);

#endif
