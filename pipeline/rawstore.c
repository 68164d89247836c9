/* Raw zone backends: a local folder, or S3 / an S3-compatible store through libcurl's
 * SigV4 signing (path-style requests when CHARTPULSE_S3_ENDPOINT is set, virtual-hosted
 * style against AWS otherwise). */
#include "pipeline/rawstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "core/buf.h"
#include "core/mem.h"

/* An S3 request URL: endpoint, bucket, prefix and one Hive-style key, URI-encoded. */
#define S3_URL_MAX 8192
/* A raw-zone key (source=…/chart=…/region=…/date=…/name.<sha12>.csv). */
#define RAW_KEY_MAX 4096

/* Raw objects larger than this are refused: chart files are at most a few hundred MB
 * (the full Kaggle charts.csv is ~3.5 GB and must be split before ingest). */
#define RAWSTORE_MAX_OBJECT ((size_t)2 << 30)

/* S3 calls give up after this long; objects are at most a few hundred MB on loopback or
 * a data-centre network. */
#define S3_TIMEOUT_SECONDS         300L
#define S3_CONNECT_TIMEOUT_SECONDS 10L
#define S3_MAX_ERROR_BODY          ((size_t)64 << 10)

enum backend { BACKEND_FILE, BACKEND_S3 };

struct cp_rawstore {
    enum backend backend;
    char *root;     /* file: absolute folder */
    char *base_url; /* s3: URL objects are addressed under, ending in '/' */
    char *prefix;   /* s3: key prefix inside the bucket, "" or ending in '/' */
    char *sigv4;    /* s3: CURLOPT_AWS_SIGV4 provider string */
    char *userpwd;  /* s3: access key:secret (never logged) */
    CURL *curl;     /* s3: reused for keep-alive */
};

void cp_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(data, len, digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static cp_status open_s3(const struct cp_config *cfg, struct cp_rawstore *store, char *err,
                         size_t errlen)
{
    const char *rest = cfg->raw_uri + strlen("s3://");
    const char *slash = strchr(rest, '/');
    char *bucket = slash ? cp_strndup(rest, (size_t)(slash - rest)) : cp_strdup(rest);
    const char *prefix = slash ? slash + 1 : "";
    size_t plen = strlen(prefix);
    while (plen && prefix[plen - 1] == '/')
        plen--;
    store->prefix = plen ? cp_asprintf("%.*s/", (int)plen, prefix) : cp_strdup("");
    if (!cfg->aws_access_key_id || !cfg->aws_secret_access_key) {
        snprintf(err, errlen,
                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set for an "
                 "s3:// CHARTPULSE_RAW_URI");
        free(bucket);
        return CP_ERR_INVALID;
    }
    const char *region = cfg->aws_region ? cfg->aws_region : "us-east-1";
    if (cfg->s3_endpoint) {
        const char *ep = cfg->s3_endpoint;
        size_t elen = strlen(ep);
        while (elen && ep[elen - 1] == '/')
            elen--;
        store->base_url = cp_asprintf("%.*s/%s/", (int)elen, ep, bucket);
    } else {
        store->base_url = cp_asprintf("https://%s.s3.%s.amazonaws.com/", bucket, region);
    }
    store->sigv4 = cp_asprintf("aws:amz:%s:s3", region);
    store->userpwd = cp_asprintf("%s:%s", cfg->aws_access_key_id, cfg->aws_secret_access_key);
    store->curl = curl_easy_init();
    free(bucket);
    if (!store->curl) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return CP_ERR_INTERNAL;
    }
    return CP_OK;
}

cp_status cp_rawstore_open(const struct cp_config *cfg, struct cp_rawstore **out, char *err,
                           size_t errlen)
{
    struct cp_rawstore *store = cp_calloc(1, sizeof *store);
    cp_status st = CP_OK;
    if (!strncmp(cfg->raw_uri, "s3://", 5)) {
        store->backend = BACKEND_S3;
        st = open_s3(cfg, store, err, errlen);
    } else {
        store->backend = BACKEND_FILE;
        store->root = cp_strdup(cfg->raw_uri + strlen("file://"));
    }
    if (st != CP_OK) {
        cp_rawstore_close(store);
        return st;
    }
    *out = store;
    return CP_OK;
}

void cp_rawstore_close(struct cp_rawstore *store)
{
    if (!store)
        return;
    if (store->curl)
        curl_easy_cleanup(store->curl);
    free(store->root);
    free(store->base_url);
    free(store->prefix);
    free(store->sigv4);
    free(store->userpwd);
    free(store);
}

/* AWS's URI encoding of an object key: unreserved characters stay, '/' separates
 * segments, everything else is %XX (so '=' in Hive-style keys becomes %3D). */
static void append_uri_encoded(struct cp_buf *b, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            cp_buf_add(b, &c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            cp_buf_add(b, esc, 3);
        }
    }
}

struct upload {
    const char *data;
    size_t len, done;
};

static size_t read_upload(char *dst, size_t size, size_t nmemb, void *ud)
{
    struct upload *up = ud;
    size_t n = size * nmemb;
    if (n > up->len - up->done)
        n = up->len - up->done;
    memcpy(dst, up->data + up->done, n);
    up->done += n;
    return n;
}

static size_t write_body(char *src, size_t size, size_t nmemb, void *ud)
{
    return cp_buf_add(ud, src, size * nmemb) == CP_OK ? size * nmemb : 0;
}

/* The text of <tag>...</tag> in an S3 error document, or "" when absent. */
static void xml_tag(const char *xml, const char *tag, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!xml)
        return;
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(xml, open);
    const char *z = a ? strstr(a, close) : NULL;
    if (a && z)
        snprintf(out, outlen, "%.*s", (int)(z - a - strlen(open)), a + strlen(open));
}

/* One S3 request. For PUT, body/len is uploaded; for GET, *response receives the object.
 * S3 errors become a message with S3's own code and text. */
static cp_status s3_request(struct cp_rawstore *store, const char *method, const char *key,
                            const void *body, size_t len, struct cp_buf *response, char *err,
                            size_t errlen)
{
    struct cp_buf url;
    cp_buf_init(&url, S3_URL_MAX);
    cp_buf_adds(&url, store->base_url);
    append_uri_encoded(&url, store->prefix);
    append_uri_encoded(&url, key);

    /* S3 requires the payload hash header on every request; libcurl 7.88 does not add it,
     * and it is part of what SigV4 signs. */
    char sha[65];
    cp_sha256_hex(body ? body : "", body ? len : 0, sha);
    char sha_header[128];
    snprintf(sha_header, sizeof sha_header, "x-amz-content-sha256: %s", sha);
    struct curl_slist *headers = curl_slist_append(NULL, sha_header);
    if (!strcmp(method, "PUT"))
        headers = curl_slist_append(headers, "Content-Type: application/octet-stream");

    struct cp_buf error_body;
    cp_buf_init(&error_body, S3_MAX_ERROR_BODY);
    struct upload up = {body, len, 0};
    CURL *c = store->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.data);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, store->sigv4);
    curl_easy_setopt(c, CURLOPT_USERPWD, store->userpwd);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, S3_TIMEOUT_SECONDS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, S3_CONNECT_TIMEOUT_SECONDS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!strcmp(method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    }
    struct cp_buf *sink = response ? response : &error_body;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);

    cp_status st = CP_OK;
    CURLcode rc = curl_easy_perform(c);
    long http = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "S3 %s %s: %s", method, key, curl_easy_strerror(rc));
        st = rc == CURLE_WRITE_ERROR ? CP_ERR_TOO_LARGE : CP_ERR_IO;
    } else if (http < 200 || http > 299) {
        char code[128], message[512];
        xml_tag(sink->data, "Code", code, sizeof code);
        xml_tag(sink->data, "Message", message, sizeof message);
        snprintf(err, errlen, "S3 %s %s: HTTP %ld %s%s%s", method, key, http, code[0] ? code : "",
                 code[0] && message[0] ? ": " : "", message);
        st = http == 404                  ? CP_ERR_NOT_FOUND
             : http == 403 || http == 401 ? CP_ERR_UNAUTHORIZED
                                          : CP_ERR_UPSTREAM;
    }
    curl_slist_free_all(headers);
    cp_buf_free(&error_body);
    cp_buf_free(&url);
    return st;
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
    if (store->backend == BACKEND_S3)
        return s3_request(store, "PUT", key, data, len, NULL, err, errlen);
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
    if (store->backend == BACKEND_S3) {
        struct cp_buf b;
        cp_buf_init(&b, RAWSTORE_MAX_OBJECT);
        st = s3_request(store, "GET", key, NULL, 0, &b, err, errlen);
        if (st == CP_OK)
            *data = cp_buf_take(&b, len);
        else
            cp_buf_free(&b);
        return st;
    }
    char *path = cp_asprintf("%s/%s", store->root, key);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int open_errno = errno; /* a missing object fails its load; other errors are the run's */
        snprintf(err, errlen, "cannot read raw object %s: %s", path, strerror(open_errno));
        free(path);
        return open_errno == ENOENT ? CP_ERR_NOT_FOUND : CP_ERR_IO;
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
    cp_buf_init(&b, RAW_KEY_MAX);
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
