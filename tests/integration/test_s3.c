/* The S3 raw zone against a real S3-compatible server (s3rver from npm) started on
 * loopback: put/get round trip, S3's errors surfaced with its code, and the pipeline
 * (the real binary) landing objects in S3 and loading them from there. s3rver checks the
 * x-amz-content-sha256 header as S3 does but does not verify signatures, so a wrong secret cannot
 * be tested here. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/config.h"
#include "core/mem.h"
#include "pipeline/rawstore.h"
#include "tests/testutil.h"

#define BUCKET "chartpulse-raw"

static pid_t s3_pid;
static int s3_port;
static char s3_dir[] = "/tmp/chartpulse-s3-XXXXXX";

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    return ntohs(addr.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

static void start_s3rver(void)
{
    char *bin = cp_asprintf("%s/node_modules/.bin/s3rver", tu_env("CHARTPULSE_SOURCE_DIR", "."));
    ck_assert_msg(access(bin, X_OK) == 0, "%s missing: run scripts/env.sh deps", bin);
    ck_assert_ptr_nonnull(mkdtemp(s3_dir));
    s3_port = free_port();
    char port[16];
    snprintf(port, sizeof port, "%d", s3_port);
    s3_pid = fork();
    if (s3_pid == 0) {
        execl(bin, bin, "-d", s3_dir, "-a", "127.0.0.1", "-p", port, "--silent",
              "--configure-bucket", BUCKET, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(s3_port); i++)
        usleep(50000);
    ck_assert_msg(port_open(s3_port), "s3rver did not start on port %d", s3_port);
    free(bin);
}

static void stop_s3rver(void)
{
    if (s3_pid > 0) {
        kill(s3_pid, SIGTERM);
        waitpid(s3_pid, NULL, 0);
    }
    char *rm = cp_asprintf("rm -rf '%s'", s3_dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
}

static void s3_env(const char *bucket_and_prefix, const char *key_id)
{
    char *uri = cp_asprintf("s3://%s", bucket_and_prefix);
    char *endpoint = cp_asprintf("http://127.0.0.1:%d", s3_port);
    setenv("CHARTPULSE_RAW_URI", uri, 1);
    setenv("CHARTPULSE_S3_ENDPOINT", endpoint, 1);
    setenv("AWS_ACCESS_KEY_ID", key_id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    free(uri);
    free(endpoint);
}

static struct cp_rawstore *open_store(struct cp_config *cfg)
{
    char err[512];
    ck_assert_msg(cp_config_load(cfg, err, sizeof err) == CP_OK, "%s", err);
    struct cp_rawstore *store = NULL;
    ck_assert_msg(cp_rawstore_open(cfg, &store, err, sizeof err) == CP_OK, "%s", err);
    return store;
}

START_TEST(put_get_roundtrip)
{
    s3_env(BUCKET "/landing/", "S3RVER");
    struct cp_config cfg;
    struct cp_rawstore *store = open_store(&cfg);
    char err[512];
    const char body[] = "\xef\xbb\xbfrank,uri\r\n1,\"spotify:track:x\"\r\n";
    const char *key = "source=charts.spotify.com/chart=regional-daily/region=global/"
                      "date=2030-01-01/regional-global-daily-2030-01-01.0123456789ab.csv";
    ck_assert_msg(cp_rawstore_put(store, key, body, sizeof body - 1, err, sizeof err) == CP_OK,
                  "%s", err);
    char *data = NULL;
    size_t len = 0;
    ck_assert_msg(cp_rawstore_get(store, key, &data, &len, err, sizeof err) == CP_OK, "%s", err);
    ck_assert_uint_eq(len, sizeof body - 1);
    ck_assert(memcmp(data, body, len) == 0);
    free(data);
    /* the object sits under the prefix, byte for byte */
    char *check = cp_asprintf("find '%s' -path '*landing*' -name '*.csv*' | grep -q .", s3_dir);
    ck_assert_int_eq(system(check), 0);
    free(check);
    cp_rawstore_close(store);
    cp_config_cleanup(&cfg);
}
END_TEST

START_TEST(missing_key_and_bucket_errors)
{
    s3_env(BUCKET, "S3RVER");
    struct cp_config cfg;
    struct cp_rawstore *store = open_store(&cfg);
    char err[512];
    char *data = NULL;
    size_t len;
    ck_assert_int_eq(cp_rawstore_get(store, "source=x/none.csv", &data, &len, err, sizeof err),
                     CP_ERR_NOT_FOUND);
    ck_assert_msg(strstr(err, "NoSuchKey") != NULL, "%s", err);
    cp_rawstore_close(store);
    cp_config_cleanup(&cfg);

    s3_env("no-such-bucket", "S3RVER");
    store = open_store(&cfg);
    ck_assert_int_eq(cp_rawstore_put(store, "a.csv", "x", 1, err, sizeof err), CP_ERR_NOT_FOUND);
    ck_assert_msg(strstr(err, "NoSuchBucket") != NULL, "%s", err);
    cp_rawstore_close(store);
    cp_config_cleanup(&cfg);
}
END_TEST

START_TEST(unreachable_endpoint_is_io_error)
{
    s3_env(BUCKET, "S3RVER");
    char *endpoint = cp_asprintf("http://127.0.0.1:%d", free_port());
    setenv("CHARTPULSE_S3_ENDPOINT", endpoint, 1);
    free(endpoint);
    struct cp_config cfg;
    struct cp_rawstore *store = open_store(&cfg);
    char err[512];
    ck_assert_int_eq(cp_rawstore_put(store, "a.csv", "x", 1, err, sizeof err), CP_ERR_IO);
    ck_assert_msg(strstr(err, "a.csv") != NULL, "%s", err);
    cp_rawstore_close(store);
    cp_config_cleanup(&cfg);
}
END_TEST

/* The pipeline end to end on S3: ingest lands the files in the bucket, load reads them
 * back from it, through the real binary. */
START_TEST(pipeline_through_s3)
{
    char *db_url = tu_fresh_database("chartpulse_test_s3", NULL);
    char *dir = tu_fixture_path("pipeline");
    char *env_db = cp_asprintf("DATABASE_URL=%s", db_url);
    char *env_uri = cp_strdup("CHARTPULSE_RAW_URI=s3://" BUCKET "/raw");
    char *env_ep = cp_asprintf("CHARTPULSE_S3_ENDPOINT=http://127.0.0.1:%d", s3_port);
    const char *env[] = {env_db,
                         env_uri,
                         env_ep,
                         "AWS_ACCESS_KEY_ID=S3RVER",
                         "AWS_SECRET_ACCESS_KEY=S3RVER",
                         "AWS_REGION=us-east-1",
                         NULL};
    char *d1 = cp_asprintf("%s/regional-global-daily-2030-01-01.csv", dir);
    char *d2 = cp_asprintf("%s/regional-global-daily-2030-01-02.csv", dir);
    const char *ingest[] = {"ingest", d1, d2, NULL};
    char *out = NULL;
    ck_assert_msg(tu_run_cli(ingest, env, &out) == 0, "%s", out);
    free(out);
    const char *load[] = {"load", NULL};
    ck_assert_msg(tu_run_cli(load, env, &out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "2 objects loaded, 10 rows") != NULL, "%s", out);
    free(out);
    /* the objects are in the bucket under the prefix and Hive-style keys */
    char *check =
        cp_asprintf("find '%s' -path '*raw/source=charts.spotify.com*' | grep -q .", s3_dir);
    ck_assert_int_eq(system(check), 0);
    free(check);
    PGconn *db = PQconnectdb(db_url);
    char *n = tu_query_value(
        db, "select count(*) || '/' || count(*) filter (where derived_movement = 'up')"
            " from core.chart_entry");
    ck_assert_str_eq(n, "10/1");
    free(n);
    PQfinish(db);
    free(d1);
    free(d2);
    free(env_db);
    free(env_uri);
    free(env_ep);
    free(dir);
    free(db_url);
}
END_TEST

START_TEST(credentials_required)
{
    s3_env(BUCKET, "S3RVER");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    struct cp_config cfg;
    char err[512];
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    struct cp_rawstore *store = NULL;
    ck_assert_int_eq(cp_rawstore_open(&cfg, &store, err, sizeof err), CP_ERR_INVALID);
    ck_assert_msg(strstr(err, "AWS_SECRET_ACCESS_KEY") != NULL, "%s", err);
    cp_config_cleanup(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("s3");
    TCase *tc = tcase_create("s3");
    tcase_add_unchecked_fixture(tc, start_s3rver, stop_s3rver);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, put_get_roundtrip);
    tcase_add_test(tc, missing_key_and_bucket_errors);
    tcase_add_test(tc, unreachable_endpoint_is_io_error);
    tcase_add_test(tc, credentials_required);
    tcase_add_test(tc, pipeline_through_s3);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
