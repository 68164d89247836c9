/* Shared helpers for the Check suites. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "mem.h"

#include <libpq-fe.h>

static const char *source_dir(void)
{
    const char *dir = getenv("CHARTPULSE_SOURCE_DIR");
    return dir ? dir : ".";
}

char *tu_fixture_path(const char *name)
{
    return cp_asprintf("%s/tests/fixtures/%s", source_dir(), name);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    struct cp_buf b;
    cp_buf_init(&b, (size_t)1 << 30);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ck_assert_int_eq(cp_buf_add(&b, chunk, n), CP_OK);
    fclose(f);
    return cp_buf_take(&b, len);
}

char *tu_real_data_path(const char *rel)
{
    char *root = cp_asprintf("%s/../shared/data/real", source_dir());
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        free(root);
        return NULL;
    }
    char *path = cp_asprintf("%s/%s", root, rel);
    free(root);
    return path;
}

const char *tu_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

/* Replaces the database name (the path) of a postgres URL. */
static char *with_database(const char *url, const char *name)
{
    const char *scheme_end = strstr(url, "://");
    const char *slash = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
    const char *query = strchr(url, '?');
    size_t prefix = slash ? (size_t)(slash - url) : strlen(url);
    return cp_asprintf("%.*s/%s%s", (int)prefix, url, name, query ? query : "");
}

static char *create_database(const char *name, bool from_template, char **api_url)
{
    const char *template_url =
        tu_env("DATABASE_URL", "postgresql://chartpulse@127.0.0.1:54320/chartpulse_test");
    const char *slash = strrchr(template_url, '/');
    ck_assert_msg(slash != NULL, "DATABASE_URL has no database name");
    char template_name[128];
    snprintf(template_name, sizeof template_name, "%.*s", (int)strcspn(slash + 1, "?"), slash + 1);

    char *admin_url = with_database(template_url, "postgres");
    PGconn *conn = PQconnectdb(admin_url);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "cannot connect to %s: %s", admin_url,
                  PQerrorMessage(conn));
    char *drop = cp_asprintf("drop database if exists \"%s\" with (force)", name);
    char *create = from_template
                       ? cp_asprintf("create database \"%s\" template \"%s\"", name, template_name)
                       : cp_asprintf("create database \"%s\"", name);
    const char *steps[] = {drop, create};
    for (size_t i = 0; i < 2; i++) {
        PGresult *res = PQexec(conn, steps[i]);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", steps[i],
                      PQresultErrorMessage(res));
        PQclear(res);
    }
    free(drop);
    free(create);
    PQfinish(conn);
    free(admin_url);

    char *owner = with_database(template_url, name);
    if (api_url) {
        char *api = NULL;
        ck_assert_int_eq(cp_pg_url_with_user(owner, "chartpulse_api", &api), CP_OK);
        *api_url = api;
    }
    return owner;
}

char *tu_fresh_database(const char *name, char **api_url)
{
    return create_database(name, true, api_url);
}

char *tu_empty_database(const char *name)
{
    return create_database(name, false, NULL);
}
