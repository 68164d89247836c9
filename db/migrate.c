/* Applies the embedded migrations in order, one transaction each, under an advisory lock. */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "core/cli.h"
#include "core/log.h"
#include "db/pool.h"

/* An arbitrary constant identifying chartpulse's migration lock. */
#define MIGRATE_LOCK_KEY "724201119"

static void sha256_hex(const char *text, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static cp_status exec_ok(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType rs = PQresultStatus(res);
    cp_status st = CP_OK;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        st = CP_ERR_DB;
    }
    PQclear(res);
    return st;
}

static int cp_migrate_latest_version(void)
{
    int latest = 0;
    for (size_t i = 0; i < cp_migrations_count; i++)
        if (cp_migrations[i].version > latest)
            latest = cp_migrations[i].version;
    return latest;
}

/* Looks up the checksum recorded for version; *found is 0 when it was never applied. */
static cp_status recorded_checksum(PGconn *conn, int version, int *found, char out[65], char *err,
                                   size_t errlen)
{
    char vbuf[16];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    const char *params[] = {vbuf};
    PGresult *res =
        PQexecParams(conn, "select checksum from public.schema_migrations where version = $1", 1,
                     NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        PQclear(res);
        return CP_ERR_DB;
    }
    *found = PQntuples(res) > 0;
    if (*found)
        snprintf(out, 65, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return CP_OK;
}

static cp_status apply_one(PGconn *conn, const struct cp_migration *m, const char *checksum,
                           char *err, size_t errlen)
{
    char detail[1024];
    cp_status st = exec_ok(conn, "begin", detail, sizeof detail);
    if (st == CP_OK)
        st = exec_ok(conn, m->sql, detail, sizeof detail);
    if (st == CP_OK) {
        char vbuf[16];
        snprintf(vbuf, sizeof vbuf, "%d", m->version);
        const char *params[] = {vbuf, m->name, checksum};
        PGresult *res =
            PQexecParams(conn,
                         "insert into public.schema_migrations (version, name, checksum)"
                         " values ($1, $2, $3)",
                         3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(detail, sizeof detail, "%s", PQresultErrorMessage(res));
            st = CP_ERR_DB;
        }
        PQclear(res);
    }
    if (st == CP_OK)
        st = exec_ok(conn, "commit", detail, sizeof detail);
    if (st != CP_OK) {
        char ignored[256];
        exec_ok(conn, "rollback", ignored, sizeof ignored);
        snprintf(err, errlen, "migration %04d_%s failed: %s", m->version, m->name, detail);
        /* libpq messages end in a newline; keep the error one line */
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
    }
    return st;
}

cp_status cp_migrate_run(PGconn *conn, int *applied, char *err, size_t errlen)
{
    int count = 0;
    cp_status st =
        exec_ok(conn,
                "set client_min_messages = warning;"
                "create table if not exists public.schema_migrations ("
                " version integer primary key, name text not null,"
                " checksum text not null, applied_at timestamptz not null default now())",
                err, errlen);
    if (st == CP_OK)
        st = exec_ok(conn, "select pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen);
    if (st != CP_OK)
        goto out;
    for (size_t i = 0; i < cp_migrations_count && st == CP_OK; i++) {
        const struct cp_migration *m = &cp_migrations[i];
        char checksum[65], recorded[65];
        int found = 0;
        sha256_hex(m->sql, checksum);
        st = recorded_checksum(conn, m->version, &found, recorded, err, errlen);
        if (st != CP_OK)
            break;
        if (found) {
            if (strcmp(recorded, checksum))
                cp_log_warn("migration %04d_%s was edited after it was applied; "
                            "write a new migration instead",
                            m->version, m->name);
            continue;
        }
        st = apply_one(conn, m, checksum, err, errlen);
        if (st == CP_OK) {
            cp_log_info("applied migration %04d_%s", m->version, m->name);
            count++;
        }
    }
    char ignored[256];
    exec_ok(conn, "select pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", ignored, sizeof ignored);
out:
    if (applied)
        *applied = count;
    return st;
}

cp_status cp_migrate_pending(PGconn *conn, int *pending, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "select coalesce(array_agg(version), '{}') from "
                                 "public.schema_migrations");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        PQclear(res);
        /* no migrations table: nothing applied yet */
        *pending = (int)cp_migrations_count;
        return CP_ERR_DB;
    }
    const char *list = PQgetvalue(res, 0, 0); /* e.g. {1,2} */
    int missing = 0;
    for (size_t i = 0; i < cp_migrations_count; i++) {
        char needle[16];
        int hit = 0;
        for (const char *p = list; *p; p++) {
            if (*p == '{' || *p == ',') {
                int n = snprintf(needle, sizeof needle, "%d", cp_migrations[i].version);
                if (!strncmp(p + 1, needle, (size_t)n) && (p[1 + n] == ',' || p[1 + n] == '}'))
                    hit = 1;
            }
        }
        missing += !hit;
    }
    PQclear(res);
    *pending = missing;
    return CP_OK;
}

int cp_migrate_main(int argc, char **argv)
{
    const char *cmd = "migrate";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: chartpulse migrate\n\n"
                   "Applies the schema migrations this binary carries (db/migrations) that the\n"
                   "database at DATABASE_URL has not applied yet, each in its own transaction.\n"
                   "Safe to run any number of times.\n");
            return 0;
        }
        return cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", argv[i]);
    }
    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    char err[2048];
    int applied = 0, status = 1;
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    if (cp_migrate_run(conn, &applied, err, sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    fprintf(stderr, "migrate: %d migration%s applied, schema at version %d\n", applied,
            applied == 1 ? "" : "s", cp_migrate_latest_version());
    status = 0;
out:
    if (conn)
        PQfinish(conn);
    cp_config_cleanup(&cfg);
    return status;
}
