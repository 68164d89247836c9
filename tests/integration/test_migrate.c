/* Migrations against a real, empty database: applied once, in order, recorded; a second
 * run applies nothing; the roles exist with the privileges SPEC §7 gives them. */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/config.h"
#include "core/mem.h"
#include "db/migrate.h"
#include "tests/testutil.h"

static char *value(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    char *v = cp_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

START_TEST(applies_once_and_records)
{
    char *url = tu_empty_database("chartpulse_test_migrate");
    PGconn *conn = PQconnectdb(url);
    ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
    char err[1024] = "";
    int applied = -1, pending = -1;

    ck_assert_int_eq(cp_migrate_pending(conn, &pending, err, sizeof err), CP_ERR_DB);
    ck_assert_int_eq(pending, (int)cp_migrations_count);

    ck_assert_msg(cp_migrate_run(conn, &applied, err, sizeof err) == CP_OK, "%s", err);
    ck_assert_int_eq(applied, (int)cp_migrations_count);
    ck_assert_int_eq(cp_migrate_pending(conn, &pending, err, sizeof err), CP_OK);
    ck_assert_int_eq(pending, 0);

    ck_assert_msg(cp_migrate_run(conn, &applied, err, sizeof err) == CP_OK, "%s", err);
    ck_assert_int_eq(applied, 0);

    char *versions = value(conn, "select string_agg(version::text, ',' order by version)"
                                 " from public.schema_migrations");
    char *expected = cp_strdup("");
    for (size_t i = 0; i < cp_migrations_count; i++) {
        char *next = cp_asprintf("%s%s%d", expected, i ? "," : "", cp_migrations[i].version);
        free(expected);
        expected = next;
    }
    ck_assert_str_eq(versions, expected);
    free(versions);
    free(expected);

    char *roles = value(conn, "select string_agg(rolname, ',' order by rolname) from pg_roles"
                              " where rolname in ('chartpulse_api', 'chartpulse_bi')");
    ck_assert_str_eq(roles, "chartpulse_api,chartpulse_bi");
    free(roles);
    PQfinish(conn);
    free(url);
}
END_TEST

START_TEST(failed_migration_names_itself_and_rolls_back)
{
    char *url = tu_empty_database("chartpulse_test_migrate");
    PGconn *conn = PQconnectdb(url);
    ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
    /* a conflicting object makes the first migration fail part-way */
    PGresult *res = PQexec(conn, "create schema reporting");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    char err[1024] = "";
    int applied = -1;
    ck_assert_int_eq(cp_migrate_run(conn, &applied, err, sizeof err), CP_ERR_DB);
    ck_assert_int_eq(applied, 0);
    ck_assert_msg(strstr(err, "0001_core") != NULL && strstr(err, "reporting") != NULL, "%s", err);
    /* nothing of the failed migration stayed */
    char *n = value(conn, "select count(*) from pg_namespace where nspname = 'core'");
    ck_assert_str_eq(n, "0");
    free(n);
    PQfinish(conn);
    free(url);
}
END_TEST

START_TEST(api_role_is_read_only)
{
    char *api = NULL;
    char *url = tu_fresh_database("chartpulse_test_migrate", &api);
    PGconn *conn = PQconnectdb(api);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s", PQerrorMessage(conn));
    char *n = value(conn, "select count(*) from core.region");
    ck_assert_int_gt(strtol(n, NULL, 10), 70);
    free(n);
    PGresult *res =
        PQexec(conn, "insert into core.track (track_id) values ('0123456789012345678901')");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    PQfinish(conn);
    free(api);
    free(url);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, applies_once_and_records);
    tcase_add_test(tc, failed_migration_names_itself_and_rolls_back);
    tcase_add_test(tc, api_role_is_read_only);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
