/* Shared helpers for the Check suites. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "mem.h"

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
