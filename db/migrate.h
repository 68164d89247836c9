/* Versioned schema migrations (db/migrations/NNNN_name.sql, compiled into the binary).
 * Each is applied in its own transaction and recorded in public.schema_migrations with
 * its SHA-256, so an edited migration is detected instead of silently skipped. */
#ifndef CP_MIGRATE_H
#define CP_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

#include "core/status.h"

struct cp_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct cp_migration cp_migrations[];
extern const size_t cp_migrations_count;

/* Applies every migration not yet recorded, in version order. *applied (may be NULL)
 * receives how many were applied. On failure returns CP_ERR_DB with the reason in err;
 * migrations applied before the failing one stay applied. */
cp_status cp_migrate_run(PGconn *conn, int *applied, char *err, size_t errlen);

/* The number of migrations this binary knows that the database has not applied yet.
 * Works with a read-only role. */
cp_status cp_migrate_pending(PGconn *conn, int *pending, char *err, size_t errlen);

/* The `chartpulse migrate` subcommand. */
int cp_migrate_main(int argc, char **argv);

#endif
