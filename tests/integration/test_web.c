/* The dashboard end to end: a real server on port 0 answering /, /assets/{version}/... and
 * /favicon.ico from the files of web/ compiled into it. No database is involved. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/http.h"
#include "tests/testutil.h"

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"
#define IMMUTABLE "public, max-age=31536000, immutable"
/* Asset URLs the page may hold, at most. */
#define MAX_ASSETS 64

static struct tu_server live;

static void suite_setup(void)
{
    cp_log_init(CP_LOG_TEXT, CP_LOG_WARN);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void suite_teardown(void)
{
    curl_global_cleanup();
}

static void test_setup(void)
{
    tu_server_start(&live, NULL, NULL);
}

static void test_teardown(void)
{
    tu_server_stop(&live);
}

/* ---- helpers ----------------------------------------------------------------------- */

static void get(struct tu_http_result *r, const char *method, const char *path,
                const char *const *headers)
{
    char *url = cp_asprintf("%s%s", live.base, path);
    tu_http_request(r, method, url, headers, NULL, 0);
    free(url);
}

/* The value of header name in r, copied into out; "" when absent. */
static const char *header(const struct tu_http_result *r, const char *name, char *out,
                          size_t outlen)
{
    if (!tu_http_header(r->headers.data, name, out, outlen))
        out[0] = '\0';
    return out;
}

static void assert_header(const struct tu_http_result *r, const char *name, const char *want)
{
    char value[1024];
    ck_assert_msg(tu_http_header(r->headers.data, name, value, sizeof value), "no %s header", name);
    ck_assert_str_eq(value, want);
}

static void assert_dashboard_headers(const struct tu_http_result *r)
{
    assert_header(r, "Content-Security-Policy", CSP);
    assert_header(r, "X-Content-Type-Options", "nosniff");
    assert_header(r, "Referrer-Policy", "no-referrer");
}

/* web/<name> as it is in the source tree; caller frees. */
static char *web_file(const char *name, size_t *len)
{
    char *path = cp_asprintf("%s/web/%s", tu_env("CHARTPULSE_SOURCE_DIR", "."), name);
    char *data = tu_read_file(path, len);
    free(path);
    return data;
}

/* The Content-Type a dashboard file must be served with, by its extension. */
static const char *expected_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *ext = dot ? dot + 1 : "";
    if (!strcmp(ext, "js") || !strcmp(ext, "mjs"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(ext, "css"))
        return "text/css; charset=utf-8";
    if (!strcmp(ext, "svg"))
        return "image/svg+xml";
    if (!strcmp(ext, "html"))
        return "text/html; charset=utf-8";
    if (!strcmp(ext, "json"))
        return "application/json; charset=utf-8";
    if (!strcmp(ext, "txt") || !strcmp(ext, "LICENSE"))
        return "text/plain; charset=utf-8";
    if (!strcmp(ext, "png"))
        return "image/png";
    if (!strcmp(ext, "woff2"))
        return "font/woff2";
    return "application/octet-stream";
}

/* GET path answers web/<name> byte for byte, typed by its extension, with cache_control
 * and the dashboard's headers. */
static void assert_serves_file(const char *path, const char *name, const char *cache_control)
{
    struct tu_http_result r;
    get(&r, "GET", path, NULL);
    ck_assert_msg(r.status == 200, "%s: %ld", path, r.status);
    assert_header(&r, "Content-Type", expected_type(name));
    assert_header(&r, "Cache-Control", cache_control);
    assert_dashboard_headers(&r);
    size_t len;
    char *source = web_file(name, &len);
    ck_assert_msg(r.body.len == len && !memcmp(r.body.data, source, len),
                  "%s is not web/%s byte for byte", path, name);
    free(source);
    tu_http_result_free(&r);
}

/* The page's asset URLs ("assets/<version>/<path>", from href="..." and src="..."), as
 * new strings in urls; returns how many. */
static size_t page_assets(const char *page, char **urls, size_t max)
{
    size_t n = 0;
    for (const char *p = strstr(page, "=\"assets/"); p && n < max; p = strstr(p, "=\"assets/")) {
        p += 2;
        size_t len = strcspn(p, "\"");
        urls[n++] = cp_strndup(p, len);
        p += len;
    }
    return n;
}

/* GET / and the asset version its first asset URL carries (12 hex digits) into version. */
static void current_version(char *version, size_t len)
{
    struct tu_http_result r;
    get(&r, "GET", "/", NULL);
    ck_assert_int_eq(r.status, 200);
    const char *at = strstr(r.body.data, "assets/");
    ck_assert_ptr_nonnull(at);
    at += strlen("assets/");
    size_t n = strcspn(at, "/");
    ck_assert_uint_eq(n, 12);
    snprintf(version, len, "%.*s", (int)n, at);
    tu_http_result_free(&r);
}

/* Sends `GET <target> HTTP/1.1` exactly as given (libcurl would resolve dot segments) and
 * returns the status code of the answer. */
static int raw_get_status(const char *target)
{
    char *request =
        cp_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target);
    char *answer = tu_raw_exchange(cp_server_port(live.server), request, strlen(request));
    free(request);
    int status = tu_raw_status(answer);
    free(answer);
    return status;
}

/* ---- the tests --------------------------------------------------------------------- */

START_TEST(index_is_the_page_with_its_version)
{
    struct tu_http_result r;
    get(&r, "GET", "/", NULL);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Type", "text/html; charset=utf-8");
    assert_header(&r, "Cache-Control", "no-cache");
    assert_dashboard_headers(&r);
    char etag[128];
    ck_assert_str_ne(header(&r, "ETag", etag, sizeof etag), "");
    ck_assert_ptr_null(strstr(r.body.data, "__ASSET_VERSION__"));
    ck_assert_ptr_nonnull(strstr(r.body.data, "<!doctype html>"));
    /* the page is web/index.html with the version filled in, nothing else */
    size_t len;
    char *source = web_file("index.html", &len);
    char version[16];
    current_version(version, sizeof version);
    struct cp_buf want;
    cp_buf_init(&want, TU_TEXT_MAX);
    for (const char *p = source, *hit; *p; p = hit + strlen("__ASSET_VERSION__")) {
        hit = strstr(p, "__ASSET_VERSION__");
        if (!hit) {
            cp_buf_add(&want, p, strlen(p));
            break;
        }
        cp_buf_add(&want, p, (size_t)(hit - p));
        cp_buf_add(&want, version, strlen(version));
    }
    ck_assert_uint_eq(r.body.len, want.len);
    ck_assert_int_eq(memcmp(r.body.data, want.data, want.len), 0);
    cp_buf_free(&want);
    free(source);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(every_linked_asset_is_served_immutable)
{
    struct tu_http_result page;
    get(&page, "GET", "/", NULL);
    ck_assert_int_eq(page.status, 200);
    char *urls[MAX_ASSETS];
    size_t n = page_assets(page.body.data, urls, MAX_ASSETS);
    ck_assert_uint_ge(n, 3); /* at least the icon, a style sheet and a script */
    for (size_t i = 0; i < n; i++) {
        char *path = cp_asprintf("/%s", urls[i]);
        const char *name = strchr(urls[i] + strlen("assets/"), '/') + 1;
        assert_serves_file(path, name, IMMUTABLE);
        free(path);
        free(urls[i]);
    }
    tu_http_result_free(&page);
}
END_TEST

START_TEST(other_version_is_the_current_file_revalidated)
{
    assert_serves_file("/assets/000000000000/vendor/uPlot.min.css", "vendor/uPlot.min.css",
                       "no-cache");
}
END_TEST

/* If-None-Match with the ETag of a first answer gives 304 with the same headers. */
static void assert_revalidates(const char *path, const char *cache_control)
{
    struct tu_http_result r;
    get(&r, "GET", path, NULL);
    ck_assert_int_eq(r.status, 200);
    char etag[128], line[160];
    ck_assert_str_ne(header(&r, "ETag", etag, sizeof etag), "");
    tu_http_result_free(&r);
    snprintf(line, sizeof line, "If-None-Match: %s", etag);
    const char *const headers[] = {line, NULL};
    get(&r, "GET", path, headers);
    ck_assert_msg(r.status == 304, "%s: %ld", path, r.status);
    ck_assert_uint_eq(r.body.len, 0);
    assert_header(&r, "ETag", etag);
    assert_header(&r, "Cache-Control", cache_control);
    assert_dashboard_headers(&r);
    tu_http_result_free(&r);
}

START_TEST(etag_and_if_none_match_give_304)
{
    char version[16], path[96];
    current_version(version, sizeof version);
    assert_revalidates("/", "no-cache");
    snprintf(path, sizeof path, "/assets/%s/vendor/uPlot.iife.min.js", version);
    assert_revalidates(path, IMMUTABLE);
    assert_revalidates("/favicon.ico", "no-cache");
}
END_TEST

START_TEST(gzip_when_accepted)
{
    char version[16], path[96];
    current_version(version, sizeof version);
    snprintf(path, sizeof path, "/assets/%s/vendor/uPlot.iife.min.js", version);
    const char *const headers[] = {"Accept-Encoding: gzip", NULL};
    struct tu_http_result r;
    get(&r, "GET", path, headers);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Encoding", "gzip");
    assert_header(&r, "Content-Type", "text/javascript; charset=utf-8");
    assert_dashboard_headers(&r);
    size_t plain_len, len;
    char *plain = tu_gunzip(r.body.data, r.body.len, &plain_len);
    char *source = web_file("vendor/uPlot.iife.min.js", &len);
    ck_assert_uint_lt(r.body.len, len);
    ck_assert_uint_eq(plain_len, len);
    ck_assert_int_eq(memcmp(plain, source, len), 0);
    free(plain);
    free(source);
    tu_http_result_free(&r);

    get(&r, "GET", "/", headers);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Encoding", "gzip");
    tu_http_result_free(&r);
}
END_TEST

START_TEST(unknown_asset_is_404)
{
    char version[16];
    current_version(version, sizeof version);
    const char *const names[] = {"nothing.js", "vendor/nothing.css", "vendor", "APP.JS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *path = cp_asprintf("/assets/%s/%s", version, names[i]);
        struct tu_http_result r;
        get(&r, "GET", path, NULL);
        ck_assert_msg(r.status == 404, "%s: %ld", path, r.status);
        assert_header(&r, "Content-Type", "application/problem+json");
        tu_http_result_free(&r);
        free(path);
    }
    struct tu_http_result r;
    get(&r, "GET", "/assets", NULL);
    ck_assert_int_eq(r.status, 404);
    tu_http_result_free(&r);
    get(&r, "GET", "/index.html", NULL);
    ck_assert_int_eq(r.status, 404);
    tu_http_result_free(&r);
}
END_TEST

START_TEST(traversal_never_leaves_the_embedded_files)
{
    char version[16];
    current_version(version, sizeof version);
    /* what each would mean if it were resolved, it must not be */
    const char *const tails[] = {
        "../../CMakeLists.txt",
        "../../../../../../etc/passwd",
        "%2e%2e/%2e%2e/CMakeLists.txt",
        "%2e%2e%2f%2e%2e%2fCMakeLists.txt",
        "..%2F..%2FCMakeLists.txt",
        "vendor%2F..%2F..%2Fx",
        "vendor%2FuPlot.min.css",
        "vendor/../app.js",
        "./app.js",
        "vendor/./uPlot.min.css",
        ".%2Fapp.js",
        "vendor\\..\\app.js",
        "vendor%5C..%5Capp.js",
        "vendor%5CuPlot.min.css",
        "app.js%00",
        "app.js%00.css",
        "%00",
        "app.js%0a",
        "/app.js",
        "vendor//uPlot.min.css",
        "vendor/",
        "",
    };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char *target = cp_asprintf("/assets/%s/%s", version, tails[i]);
        int status = raw_get_status(target);
        ck_assert_msg(status == 404, "%s: %d", target, status);
        free(target);
    }
    /* the same files, asked for plainly, are there: the refusals above are not by accident */
    char *target = cp_asprintf("/assets/%s/vendor/uPlot.min.css", version);
    ck_assert_int_eq(raw_get_status(target), 200);
    free(target);
    ck_assert_int_eq(raw_get_status("/../CMakeLists.txt"), 404);
}
END_TEST

START_TEST(head_answers_headers_only)
{
    char version[16];
    current_version(version, sizeof version);
    char *asset = cp_asprintf("/assets/%s/app.js", version);
    const char *const paths[] = {"/", asset, "/favicon.ico"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_http_result r;
        get(&r, "HEAD", paths[i], NULL);
        ck_assert_msg(r.status == 200, "HEAD %s: %ld", paths[i], r.status);
        ck_assert_uint_eq(r.body.len, 0);
        char etag[128];
        ck_assert_str_ne(header(&r, "ETag", etag, sizeof etag), "");
        assert_dashboard_headers(&r);
        tu_http_result_free(&r);
    }
    free(asset);
}
END_TEST

START_TEST(favicon_is_the_svg)
{
    /* named .ico, answered as what it is */
    ck_assert_str_eq(expected_type("favicon.svg"), "image/svg+xml");
    assert_serves_file("/favicon.ico", "favicon.svg", "no-cache");
}
END_TEST

/* The policy is the dashboard's: /docs runs an inline script and the API has no use for it. */
START_TEST(docs_and_api_have_no_dashboard_policy)
{
    const char *const paths[] = {"/docs", "/healthz"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_http_result r;
        get(&r, "GET", paths[i], NULL);
        ck_assert_int_eq(r.status, 200);
        char value[16];
        ck_assert_msg(
            !tu_http_header(r.headers.data, "Content-Security-Policy", value, sizeof value),
            "%s has the dashboard's CSP", paths[i]);
        tu_http_result_free(&r);
    }
}
END_TEST

START_TEST(only_get_and_head)
{
    struct tu_http_result r;
    char *url = cp_asprintf("%s/", live.base);
    tu_http_request(&r, "POST", url, NULL, "x", 1);
    free(url);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Allow", "GET, HEAD");
    tu_http_result_free(&r);
}
END_TEST

static Suite *web_suite(void)
{
    Suite *s = suite_create("web");
    TCase *tc = tcase_create("dashboard");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, index_is_the_page_with_its_version);
    tcase_add_test(tc, every_linked_asset_is_served_immutable);
    tcase_add_test(tc, other_version_is_the_current_file_revalidated);
    tcase_add_test(tc, etag_and_if_none_match_give_304);
    tcase_add_test(tc, gzip_when_accepted);
    tcase_add_test(tc, unknown_asset_is_404);
    tcase_add_test(tc, traversal_never_leaves_the_embedded_files);
    tcase_add_test(tc, head_answers_headers_only);
    tcase_add_test(tc, favicon_is_the_svg);
    tcase_add_test(tc, docs_and_api_have_no_dashboard_policy);
    tcase_add_test(tc, only_get_and_head);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(web_suite());
}
