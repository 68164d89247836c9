/* Raw zone backends: a local folder now; S3 through libcurl's SigV4 support. */
#include "rawstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "buf.h"
#include "mem.h"

/* Raw objects larger than this are refused: chart files are at most a few hundred MB
 * (the full Kaggle charts.csv is ~3.5 GB and must be split before ingest). */
#define RAWSTORE_MAX_OBJECT ((size_t)2 << 30)

struct cp_rawstore {
    char *root; /* file backend: absolute folder */
};

void cp_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(data, len, digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

cp_status cp_rawstore_open(const struct cp_config *cfg, struct cp_rawstore **out, char *err,
                           size_t errlen)
{
    if (!strncmp(cfg->raw_uri, "s3://", 5)) {
        snprintf(err, errlen, "CHARTPULSE_RAW_URI: s3:// raw zones are not supported yet");
        return CP_ERR_INVALID;
    }
    struct cp_rawstore *store = cp_calloc(1, sizeof *store);
    store->root = cp_strdup(cfg->raw_uri + strlen("file://"));
    *out = store;
    return CP_OK;
}

void cp_rawstore_close(struct cp_rawstore *store)
{
    if (!store)
        return;
    free(store->root);
    free(store);
}

static cp_status valid_key(const char *key, char *err, size_t errlen)
{
    if (!*key || key[0] == '/' || strstr(key, "..") || strstr(key, "//")) {
        snprintf(err, errlen, "raw zone key '%s' is not a relative path", key);
        return CP_ERR_INVALID;
    }
    return CP_OK;
}

/* mkdir -p for every parent folder of path. */
static cp_status make_parents(char *path, char *err, size_t errlen)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        int saved = errno;
        *p = '/';
        if (rc != 0 && saved != EEXIST) {
            snprintf(err, errlen, "cannot create folder for %s: %s", path, strerror(saved));
            return CP_ERR_IO;
        }
    }
    return CP_OK;
}

cp_status cp_rawstore_put(struct cp_rawstore *store, const char *key, const void *data, size_t len,
                          char *err, size_t errlen)
{
    cp_status st = valid_key(key, err, errlen);
    if (st != CP_OK)
        return st;
    char *path = cp_asprintf("%s/%s", store->root, key);
    char *tmp = cp_asprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = -1;
    st = make_parents(path, err, errlen);
    if (st != CP_OK)
        goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        st = CP_ERR_IO;
        goto out;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            st = CP_ERR_IO;
            goto out;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        st = CP_ERR_IO;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot move %s into place: %s", path, strerror(errno));
        st = CP_ERR_IO;
    }
out:
    if (fd >= 0)
        close(fd);
    if (st != CP_OK)
        unlink(tmp);
    free(tmp);
    free(path);
    return st;
}

cp_status cp_rawstore_get(struct cp_rawstore *store, const char *key, char **data, size_t *len,
                          char *err, size_t errlen)
{
    cp_status st = valid_key(key, err, errlen);
    if (st != CP_OK)
        return st;
    char *path = cp_asprintf("%s/%s", store->root, key);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read raw object %s: %s", path, strerror(errno));
        free(path);
        return errno == ENOENT ? CP_ERR_NOT_FOUND : CP_ERR_IO;
    }
    struct cp_buf b;
    cp_buf_init(&b, RAWSTORE_MAX_OBJECT);
    char chunk[1 << 16];
    size_t n;
    while (st == CP_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = cp_buf_add(&b, chunk, n);
    if (st == CP_OK && ferror(f))
        st = CP_ERR_IO;
    fclose(f);
    if (st != CP_OK) {
        snprintf(err, errlen, "cannot read raw object %s: %s", path, cp_strerror(st));
        cp_buf_free(&b);
    } else {
        *data = cp_buf_take(&b, len);
    }
    free(path);
    return st;
}

/* Partition values go into paths: keep them to a safe alphabet. */
static void append_part(struct cp_buf *b, const char *name, const char *value)
{
    cp_buf_addf(b, "%s=", name);
    if (!value || !*value)
        value = "unknown";
    for (const char *p = value; *p; p++) {
        char c = *p;
        int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
        cp_buf_add(b, safe ? &c : "_", 1);
    }
    cp_buf_adds(b, "/");
}

char *cp_rawstore_key(const char *source, const char *chart, const char *region, const char *date,
                      const char *sha256_hex, const char *original_name)
{
    struct cp_buf b;
    cp_buf_init(&b, 4096);
    append_part(&b, "source", source);
    append_part(&b, "chart", chart);
    append_part(&b, "region", region);
    append_part(&b, "date", date);
    const char *base = strrchr(original_name, '/');
    base = base ? base + 1 : original_name;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    for (size_t i = 0; i < stem; i++) {
        char c = base[i];
        int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
        cp_buf_add(&b, safe ? &c : "_", 1);
    }
    cp_buf_addf(&b, ".%.12s%s", sha256_hex, dot && dot != base ? dot : "");
    return cp_buf_take(&b, NULL);
}
