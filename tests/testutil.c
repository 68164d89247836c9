/* Shared helpers for the Check suites. */
#include "tests/testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/mem.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <zlib.h>

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
    cp_buf_init(&b, TU_FILE_MAX);
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

TCase *tu_real_data_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_tags(tc, "real");
    return tc;
}

/* Suites run in parallel (ctest -j): each gets its own Redis database (and so its own cache
 * generation key and cached bodies) from CHARTPULSE_TEST_REDIS_DB, and its own raw zone
 * under CHARTPULSE_RAW_URI, both set before anything reads them and inherited by the
 * chartpulse processes a suite starts. */
static void isolate_suite(const char *suite_name)
{
    const char *db = getenv("CHARTPULSE_TEST_REDIS_DB");
    const char *redis = getenv("REDIS_URL");
    if (db && redis && !strncmp(redis, "redis://", 8)) {
        const char *slash = strchr(redis + 8, '/');
        size_t prefix = slash ? (size_t)(slash - redis) : strlen(redis);
        char *url = cp_asprintf("%.*s/%s", (int)prefix, redis, db);
        setenv("REDIS_URL", url, 1);
        free(url);
    }
    const char *raw = getenv("CHARTPULSE_RAW_URI");
    if (db && raw && !strncmp(raw, "file://", 7)) {
        char *own = cp_asprintf("%s/%s", raw, suite_name);
        setenv("CHARTPULSE_RAW_URI", own, 1);
        free(own);
    }
}

int tu_run_suite(Suite *s)
{
    const char *include = getenv("CK_INCLUDE_TAGS");
    if (include && !strcmp(include, "real")) {
        char *probe = tu_real_data_path("");
        if (!probe) {
            /* ctest reports exit status 77 as skipped (SKIP_RETURN_CODE in CMakeLists.txt) */
            fprintf(stderr, "skipped: ../shared/data/real is not present\n");
            srunner_free(srunner_create(s)); /* frees the suite (LeakSanitizer) */
            return 77;
        }
        free(probe);
    }
    const char *self = getenv("CHARTPULSE_TEST_NAME");
    isolate_suite(self ? self : "suite");
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

    /* As the cluster's superuser: a test's leftover connections may belong to another role
     * (a server's chartpulse_api pool), which only it may terminate for the drop. */
    char *postgres_db = with_database(template_url, "postgres");
    char *admin_url = NULL;
    ck_assert_int_eq(cp_pg_url_with_user(postgres_db, "postgres", &admin_url), CP_OK);
    free(postgres_db);
    PGconn *conn = PQconnectdb(admin_url);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "cannot connect to %s: %s", admin_url,
                  PQerrorMessage(conn));
    char *drop = cp_asprintf("drop database if exists \"%s\" with (force)", name);
    char *create = from_template
                       ? cp_asprintf("create database \"%s\" owner chartpulse template \"%s\"",
                                     name, template_name)
                       : cp_asprintf("create database \"%s\" owner chartpulse", name);
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

char *tu_serve_fresh_database(const char *name)
{
    char *api_url = NULL;
    char *owner_url = tu_fresh_database(name, &api_url);
    setenv("DATABASE_URL", owner_url, 1);
    setenv("API_DATABASE_URL", api_url, 1);
    unsetenv("DATABASE_READ_URL");
    free(api_url);
    return owner_url;
}

char *tu_empty_database(const char *name)
{
    return create_database(name, false, NULL);
}

pid_t tu_spawn_cli(const char *const *args, const char *const *env, int errfd)
{
    const char *bin = getenv("CHARTPULSE_BINARY");
    ck_assert_msg(bin != NULL, "CHARTPULSE_BINARY is not set (run the tests through ctest)");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(errfd >= 0 ? errfd : devnull, STDERR_FILENO);
        dup2(devnull, STDOUT_FILENO);
        const char *argv[64];
        size_t n = 0;
        argv[n++] = bin;
        for (size_t i = 0; args[i] && n < 63; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    /* in the parent too: a kill(-pid) right after this call must find the group */
    setpgid(pid, pid);
    return pid;
}

int tu_run_cli(const char *const *args, const char *const *env, char **stderr_text)
{
    char errpath[] = "/tmp/chartpulse-cli-XXXXXX";
    int errfd = mkstemp(errpath);
    ck_assert_int_ge(errfd, 0);
    pid_t pid = tu_spawn_cli(args, env, errfd);
    int wstatus;
    waitpid(pid, &wstatus, 0);
    close(errfd);
    if (stderr_text)
        *stderr_text = tu_read_file(errpath, NULL);
    unlink(errpath);
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128;
}

char *tu_query_value(struct pg_conn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    ck_assert_msg(PQntuples(res) == 1, "%s: %d rows", sql, PQntuples(res));
    char *v = cp_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

void tu_exec_sql(struct pg_conn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType rs = PQresultStatus(res);
    ck_assert_msg(rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    PQclear(res);
}

void tu_wait_until(struct pg_conn *conn, const char *sql, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        char *v = tu_query_value(conn, sql);
        bool done = !strcmp(v, "t");
        free(v);
        if (done)
            return;
        usleep(100 * 1000);
    }
    ck_abort_msg("still not true after %d s: %s", seconds, sql);
}

char *tu_pipeline_checksum(struct pg_conn *conn)
{
    return tu_query_value(
        conn, "select md5(string_agg(t, '|' order by t)) from ("
              " select 'c' || (c.chart_kind, c.region, c.period, c.chart_date, c.entries, "
              "c.object_id)::text"
              "   as t from core.chart c"
              " union all select 'e' || e::text from core.chart_entry e"
              " union all select 't' || (t.track_id, t.name, t.artist_names, t.label)::text from "
              "core.track t"
              " union all select 'a' || (a.artist_id, a.spotify_id, a.name, a.provisional)::text"
              "   from core.artist a"
              " union all select 'k' || k::text from core.track_credit k"
              " union all select 'o' || (o.object_id, o.object_key, o.sha256, o.rows_loaded,"
              "   o.rows_rejected, o.loaded_at)::text from catalog.raw_object o"
              " union all select 'r' || r::text from etl.reject r) s");
}

char *tu_derived_checksum(struct pg_conn *conn)
{
    return tu_query_value(
        conn, "select md5(string_agg(t, '|' order by t)) from ("
              " select 'e' || (chart_kind, region, period, chart_date, rank, track_id, streams,"
              "  derived_previous_rank, derived_movement, derived_peak_rank,"
              "  derived_periods_on_chart, streak, artist_names)::text as t"
              " from core.chart_entry"
              " union all select 't' || (track_id, name, artist_names, credit_source)::text"
              " from core.track"
              " union all select 'k' || (k.track_id, k.position, a.name, k.role)::text"
              " from core.track_credit k join core.artist a using (artist_id)"
              " union all select 's' || s::text from core.song_member s"
              " union all select 'c' || (chart_kind, region, period, chart_date, entries)::text"
              " from core.chart"
              " union all select 'r' || r::text from core.chart_run r"
              " union all select 'm' || m::text from core.track_month m) s");
}

int tu_load_each_object_shuffled(struct pg_conn *conn, const char *const *env, int *objects)
{
    PGresult *res =
        PQexec(conn, "select object_id from catalog.raw_object order by md5(object_key)");
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(conn));
    int set_based = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *load[] = {"load", "--object", PQgetvalue(res, i, 0), NULL};
        char *out = NULL;
        int rc = tu_run_cli(load, env, &out);
        ck_assert_msg(rc == 0, "load --object %s: %s", PQgetvalue(res, i, 0), out);
        set_based += strstr(out, "0 streamed, 1 merged set-based") != NULL;
        free(out);
    }
    *objects = PQntuples(res);
    PQclear(res);
    return set_based;
}

bool tu_http_header(const char *header_block, const char *name, char *out, size_t outlen)
{
    size_t namelen = strlen(name);
    const char *p = header_block;
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > namelen && p[namelen] == ':' && !strncasecmp(p, name, namelen)) {
            const char *v = p + namelen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(linelen - (size_t)(v - p)), v);
            return true;
        }
        p = eol ? eol + 2 : p + linelen;
    }
    return false;
}

void tu_stderr_begin(struct tu_stderr *capture)
{
    snprintf(capture->path, sizeof capture->path, "/tmp/chartpulse-stderr-XXXXXX");
    int fd = mkstemp(capture->path);
    ck_assert_msg(fd >= 0, "cannot create a file for stderr");
    fflush(stderr);
    capture->saved_fd = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

char *tu_stderr_end(struct tu_stderr *capture)
{
    fflush(stderr);
    dup2(capture->saved_fd, STDERR_FILENO);
    close(capture->saved_fd);
    size_t len = 0;
    char *text = tu_read_file(capture->path, &len);
    unlink(capture->path);
    return text;
}

char *tu_gunzip(const char *data, size_t len, size_t *outlen)
{
    struct cp_buf out;
    cp_buf_init(&out, TU_BODY_MAX);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    int rc;
    do {
        unsigned char chunk[4096];
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
        ck_assert_int_eq(cp_buf_add(&out, chunk, sizeof chunk - zs.avail_out), CP_OK);
    } while (rc != Z_STREAM_END);
    inflateEnd(&zs);
    return cp_buf_take(&out, outlen);
}

/* ---- an HTTP client ------------------------------------------------------------------ */

#define TU_MAX_RESPONSE_BYTES ((size_t)32 << 20)

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    return cp_buf_add(userdata, data, size * n) == CP_OK ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
    if (size * n >= 5 && !strncmp(data, "HTTP/", 5))
        cp_buf_reset(userdata); /* a new status line: forget a 100 Continue's headers */
    return cp_buf_add(userdata, data, size * n) == CP_OK ? size * n : 0;
}

void tu_http_request(struct tu_http_result *r, const char *method, const char *url,
                     const char *const *extra_headers, const char *body, size_t body_len)
{
    memset(r, 0, sizeof *r);
    cp_buf_init(&r->body, TU_MAX_RESPONSE_BYTES);
    cp_buf_init(&r->headers, TU_HEADERS_MAX);
    CURL *curl = curl_easy_init();
    ck_assert_ptr_nonnull(curl);
    struct curl_slist *headers = NULL;
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        headers = curl_slist_append(headers, extra_headers[i]);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(curl);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (r->body.len)
        r->json = json_loadb(r->body.data, r->body.len, 0, NULL);
}

void tu_http_result_free(struct tu_http_result *r)
{
    json_decref(r->json);
    cp_buf_free(&r->body);
    cp_buf_free(&r->headers);
}

void tu_server_opts(struct cp_server_opts *opts)
{
    cp_server_opts_init(opts);
    opts->db_workers = 2;
    opts->db_connect_timeout_s = 2;
}

void tu_server_start(struct tu_server *ts, const char *const *settings,
                     const struct cp_server_opts *opts)
{
    memset(ts, 0, sizeof *ts);
    char err[512];
    ck_assert_msg(cp_config_load(&ts->cfg, err, sizeof err) == CP_OK, "config: %s", err);
    ck_assert_msg(cp_config_set(&ts->cfg, "CHARTPULSE_LISTEN", "127.0.0.1:0", err, sizeof err) ==
                      CP_OK,
                  "CHARTPULSE_LISTEN: %s", err);
    for (size_t i = 0; settings && settings[i]; i += 2)
        if (settings[i + 1])
            ck_assert_msg(cp_config_set(&ts->cfg, settings[i], settings[i + 1], err, sizeof err) ==
                              CP_OK,
                          "%s: %s", settings[i], err);
    struct cp_server_opts defaults;
    if (!opts) {
        tu_server_opts(&defaults);
        opts = &defaults;
    }
    ck_assert_msg(cp_server_start(&ts->cfg, opts, &ts->server, err, sizeof err) == CP_OK,
                  "server: %s", err);
    ck_assert_int_gt(cp_server_port(ts->server), 0);
    snprintf(ts->base, sizeof ts->base, "http://127.0.0.1:%d", cp_server_port(ts->server));
}

void tu_server_stop(struct tu_server *ts)
{
    cp_server_stop(ts->server);
    ts->server = NULL;
    cp_config_cleanup(&ts->cfg);
}

char *tu_raw_exchange(int port, const char *request, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(send(fd, request, len, 0), (ssize_t)len);
    struct cp_buf answer;
    cp_buf_init(&answer, TU_TEXT_MAX);
    char chunk[4096];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0)
        ck_assert_int_eq(cp_buf_add(&answer, chunk, (size_t)n), CP_OK);
    close(fd);
    return cp_buf_take(&answer, NULL);
}

int tu_raw_status(const char *answer)
{
    int status = 0;
    ck_assert_msg(sscanf(answer, "HTTP/1.1 %d", &status) == 1, "no status line in '%.200s'",
                  answer);
    return status;
}
