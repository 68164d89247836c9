/* `chartpulse catalog export --format glue|athena`: the raw zone described as a data lake.
 * One table per format in the catalog (catalog.raw_object), its columns the format's CSV
 * header (SPEC §4) and its partitions the Hive-style keys the raw zone stores objects under
 * (source=/chart=/region=/date=, pipeline/rawstore.h), declared with partition projection so
 * Athena or Spark query the raw files without PostgreSQL and without a crawler or
 * MSCK REPAIR. The partition values projected are those the catalog holds when exported:
 * export again after ingesting a new region or chart. */
#ifndef CP_CATALOG_EXPORT_H
#define CP_CATALOG_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/status.h"

enum cp_catalog_dialect { CP_CATALOG_GLUE, CP_CATALOG_ATHENA };

/* One table of the export: its name and its definition (DDL or Glue JSON). */
struct cp_catalog_table {
    char name[64];
    char *text; /* owned */
};

/* Reads the catalog's formats and partitions and writes one definition per format, with
 * location the raw zone's URI (s3://bucket/prefix or file:///path) and database the Glue
 * database / Athena schema. *tables is a new array (cp_catalog_tables_free). Formats the
 * export has no columns for are left out with a line each in warnings (may be NULL). */
cp_status cp_catalog_export(PGconn *conn, enum cp_catalog_dialect dialect, const char *location,
                            const char *database, struct cp_catalog_table **tables, size_t *count,
                            struct cp_buf *warnings, char *err, size_t errlen);
void cp_catalog_tables_free(struct cp_catalog_table *tables, size_t count);

/* The subcommand; argv[0] is "catalog". */
int cp_catalog_main(int argc, char **argv);

#endif
