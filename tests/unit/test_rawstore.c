/* The file raw zone: Hive-style keys, atomic put, get, and refusal of unsafe keys. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/mem.h"
#include "pipeline/rawstore.h"
#include "tests/testutil.h"

static char root[] = "/tmp/chartpulse-rawstore-XXXXXX";
static struct cp_rawstore *store;
static struct cp_config cfg;

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(root));
    char *uri = cp_asprintf("file://%s", root);
    setenv("CHARTPULSE_RAW_URI", uri, 1);
    free(uri);
    char err[256];
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_int_eq(cp_rawstore_open(&cfg, &store, err, sizeof err), CP_OK);
}

static void teardown(void)
{
    cp_rawstore_close(store);
    cp_config_cleanup(&cfg);
    char *rm = cp_asprintf("rm -rf '%s'", root);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    memcpy(root + strlen(root) - 6, "XXXXXX", 6);
}

START_TEST(key_is_hive_style)
{
    char sha[65];
    cp_sha256_hex("abc", 3, sha);
    ck_assert_str_eq(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char *key = cp_rawstore_key("charts.spotify.com", "regional-daily", "global", "2025-05-01", sha,
                                "/some/where/regional-global-daily-2025-05-01.csv");
    ck_assert_str_eq(key, "source=charts.spotify.com/chart=regional-daily/region=global/"
                          "date=2025-05-01/regional-global-daily-2025-05-01.ba7816bf8f01.csv");
    free(key);
    /* unsafe characters in names never reach the path; missing partitions are named */
    key = cp_rawstore_key("kaggle", "mixed", "", NULL, sha, "my charts (1)/../x y.csv");
    ck_assert_str_eq(key,
                     "source=kaggle/chart=mixed/region=unknown/date=unknown/x_y.ba7816bf8f01.csv");
    free(key);
}
END_TEST

START_TEST(put_then_get_roundtrip)
{
    char err[256];
    const char body[] = "\xef\xbb\xbfrank,uri\n1,\"x\"\n";
    ck_assert_int_eq(
        cp_rawstore_put(store, "source=a/chart=b/f.csv", body, sizeof body - 1, err, sizeof err),
        CP_OK);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(cp_rawstore_get(store, "source=a/chart=b/f.csv", &data, &len, err, sizeof err),
                     CP_OK);
    ck_assert_uint_eq(len, sizeof body - 1);
    ck_assert(memcmp(data, body, len) == 0);
    free(data);
    /* no temporary file is left behind */
    char *dir = cp_asprintf("%s/source=a/chart=b", root);
    char *ls = cp_asprintf("test $(ls -A '%s' | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(ls), 0);
    free(ls);
    free(dir);
}
END_TEST

START_TEST(unsafe_keys_refused)
{
    char err[256];
    static const char *bad[] = {"../escape.csv", "/abs.csv", "a//b.csv", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(cp_rawstore_put(store, bad[i], "x", 1, err, sizeof err), CP_ERR_INVALID);
        ck_assert(strstr(err, "not a relative path") != NULL);
    }
}
END_TEST

START_TEST(missing_object_is_not_found)
{
    char err[256];
    char *data = NULL;
    size_t len;
    ck_assert_int_eq(cp_rawstore_get(store, "source=a/none.csv", &data, &len, err, sizeof err),
                     CP_ERR_NOT_FOUND);
    ck_assert(strstr(err, "none.csv") != NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rawstore");
    TCase *tc = tcase_create("rawstore");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, key_is_hive_style);
    tcase_add_test(tc, put_then_get_roundtrip);
    tcase_add_test(tc, unsafe_keys_refused);
    tcase_add_test(tc, missing_object_is_not_found);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
