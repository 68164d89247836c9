/* The Spotify Web API client: token, keep-alive transport, retries, id parsing. */
#include "pipeline/spotify.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/redis.h"
#include "pipeline/rawstore.h"

/* A Web API answer larger than this is refused (a playlist page of 50 full tracks is
 * about 250 KB). */
#define SPOTIFY_MAX_BODY                ((size_t)32 << 20)
#define SPOTIFY_DEFAULT_TIMEOUT         30L
#define SPOTIFY_DEFAULT_CONNECT_TIMEOUT 10L
/* A token is replaced this long before it expires, so no call races its expiry. */
#define TOKEN_MARGIN       60.0
#define DEFAULT_EXPIRES_IN 3600.0
/* Retries of one call: 5xx answers, network errors (timeouts, dropped connections), and
 * 429s waited out before the client gives up and stops. */
#define SERVER_RETRIES     5
#define NETWORK_RETRIES    2
#define RATE_LIMIT_RETRIES 10
#define BACKOFF_BASE       0.5
#define BACKOFF_CAP        30.0
#define REDIS_TIMEOUT_MS   1000
#define REDIS_KEY_PREFIX   "chartpulse:spotify:token:"

struct cp_spotify {
    char *api_url; /* without a trailing '/' */
    char *accounts_url;
    char *client_id;
    char *client_secret;
    double max_wait;
    long timeout;
    long connect_timeout;
    CURL *curl;  /* one handle: its connection cache keeps connections alive between calls */
    char *token; /* NULL when none is held */
    double token_refresh_at; /* wall-clock seconds from which the token is replaced */
    char *redis_url;
    redisContext *redis; /* NULL until first used, or when Redis is off or failed */
    bool redis_failed;
    char redis_key[sizeof REDIS_KEY_PREFIX + 16];
    char *stop_reason;
    struct cp_spotify_stats stats;
    uint64_t rng;
};

bool cp_spotify_parse_retry_after(const char *value, double now, double *seconds)
{
    if (!value)
        return false;
    while (isspace((unsigned char)*value))
        value++;
    if (!*value)
        return false;
    if (isdigit((unsigned char)*value)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (errno || *end)
            return false;
        *seconds = (double)v;
        return true;
    }
    /* IMF-fixdate, the form HTTP senders must use: "Sun, 06 Nov 1994 08:49:37 GMT" */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char day_name[4], month_name[4];
    int day, year, hour, minute, second, consumed = 0;
    if (sscanf(value, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", day_name, &day,
               month_name, &year, &hour, &minute, &second, &consumed) != 7 ||
        consumed == 0)
        return false;
    const char *end = value + consumed;
    const char *month_at = strstr(months, month_name);
    if (strlen(month_name) != 3 || !month_at || (month_at - months) % 3)
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = year - 1900;
    tm.tm_mon = (int)((month_at - months) / 3);
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return false;
    double at = (double)timegm(&tm);
    *seconds = at > now ? at - now : 0;
    return true;
}

double cp_spotify_backoff(int attempt, double base, double cap, double jitter)
{
    double step = base;
    for (int i = 0; i < attempt && step < cap; i++)
        step *= 2;
    if (step > cap)
        step = cap;
    if (jitter < 0)
        jitter = 0;
    if (jitter >= 1)
        jitter = 0.999999;
    return step / 2 + step / 2 * jitter;
}

void cp_spotify_url_host(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = NULL;
    size_t n = strcspn(p, "/?#");
    for (size_t i = 0; i < n; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) { /* never show credentials that a URL may carry */
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, outlen, "%.*s", (int)n, p);
}

/* ---------------------------------------------------------------- small helpers */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double next_jitter(struct cp_spotify *sp)
{
    /* xorshift64*: jitter only needs to keep clients from retrying in step */
    sp->rng ^= sp->rng >> 12;
    sp->rng ^= sp->rng << 25;
    sp->rng ^= sp->rng >> 27;
    return (double)((sp->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static char *strip_trailing_slash(const char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    return cp_strndup(url, n);
}

/* "GET /v1/tracks" for messages: the URL's path without host and query. */
static void describe_call(const char *method, const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p)
        p = "/";
    snprintf(out, outlen, "%s %.*s", method, (int)strcspn(p, "?#"), p);
}

/* The message of a Web API error body: {"error":{"status":..,"message":..}} or the
 * accounts service's {"error":"..","error_description":".."}. */
static void error_message(const json_t *body, char *out, size_t outlen)
{
    out[0] = '\0';
    json_t *error = json_object_get(body, "error");
    if (json_is_object(error)) {
        const char *message = json_string_value(json_object_get(error, "message"));
        if (message)
            snprintf(out, outlen, "%s", message);
    } else if (json_is_string(error)) {
        const char *desc = json_string_value(json_object_get(body, "error_description"));
        snprintf(out, outlen, "%s%s%s", json_string_value(error), desc ? ": " : "",
                 desc ? desc : "");
    }
}

static const char *error_reason(const json_t *body)
{
    json_t *error = json_object_get(body, "error");
    const char *reason = json_string_value(json_object_get(error, "reason"));
    return reason ? reason : json_string_value(json_object_get(body, "reason"));
}

static void set_stop(struct cp_spotify *sp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_stop(struct cp_spotify *sp, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    free(sp->stop_reason);
    sp->stop_reason = cp_strdup(text);
}

/* ---------------------------------------------------------------- Redis token cache */

static void redis_fail(struct cp_spotify *sp, const char *why)
{
    if (!sp->redis_failed)
        cp_log_warn("spotify: Redis token cache unavailable (%s); keeping the token in memory only",
                    why);
    sp->redis_failed = true;
    if (sp->redis) {
        redisFree(sp->redis);
        sp->redis = NULL;
    }
}

/* Runs a command and checks its reply type; on failure turns the cache off. */
static redisReply *redis_run(struct cp_spotify *sp, int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(sp->redis, argc, argv, NULL);
    if (!reply) {
        redis_fail(sp, sp->redis->errstr);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[256];
        snprintf(why, sizeof why, "%s", reply->str);
        freeReplyObject(reply);
        redis_fail(sp, why);
        return NULL;
    }
    return reply;
}

static bool redis_ready(struct cp_spotify *sp)
{
    if (sp->redis)
        return true;
    if (!sp->redis_url || sp->redis_failed)
        return false;
    struct cp_redis_address addr;
    char why[512];
    if (!cp_redis_parse_url(sp->redis_url, &addr, why, sizeof why)) {
        redis_fail(sp, why);
        return false;
    }
    sp->redis = cp_redis_open(&addr, REDIS_TIMEOUT_MS, why, sizeof why);
    if (!sp->redis) {
        redis_fail(sp, why);
        return false;
    }
    return true;
}

/* Takes a token another process cached, with the time it has left. */
static bool redis_load_token(struct cp_spotify *sp)
{
    if (!redis_ready(sp))
        return false;
    /* one round trip: the token and its remaining life together */
    const char *argv[] = {"EVAL",
                          "local t = redis.call('GET', KEYS[1]) "
                          "if not t then return nil end "
                          "return {t, redis.call('PTTL', KEYS[1])}",
                          "1", sp->redis_key};
    redisReply *r = redis_run(sp, 4, argv);
    if (!r)
        return false;
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[0]->type == REDIS_REPLY_STRING &&
              r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer > 1000;
    if (ok) {
        sp->token = cp_strndup(r->element[0]->str, r->element[0]->len);
        sp->token_refresh_at = wall_now() + (double)r->element[1]->integer / 1000.0;
    }
    freeReplyObject(r);
    return ok;
}

static void redis_store_token(struct cp_spotify *sp, double ttl)
{
    if (ttl < 1 || !redis_ready(sp))
        return;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)(ttl * 1000));
    const char *argv[] = {"SET", sp->redis_key, sp->token, "PX", ms};
    redisReply *r = redis_run(sp, 5, argv);
    if (r)
        freeReplyObject(r);
}

/* Drops the cached token, but only if it is still the one that was rejected: another
 * process may have cached a new one meanwhile. */
static void redis_drop_token(struct cp_spotify *sp, const char *token)
{
    if (!redis_ready(sp))
        return;
    const char *argv[] = {"EVAL",
                          "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                          "return redis.call('DEL', KEYS[1]) end return 0",
                          "1", sp->redis_key, token};
    redisReply *r = redis_run(sp, 5, argv);
    if (r)
        freeReplyObject(r);
}

/* ---------------------------------------------------------------- transport */

struct http_result {
    long status;
    struct cp_buf body;
    char retry_after[64];
    bool body_too_large;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct http_result *res = ud;
    size_t len = size * nmemb;
    if (cp_buf_add(&res->body, data, len) != CP_OK) {
        res->body_too_large = true;
        return 0;
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct http_result *res = ud;
    size_t len = size * nmemb;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && !strncasecmp(data, name, sizeof name - 1)) {
        const char *v = data + sizeof name - 1;
        size_t n = len - (sizeof name - 1);
        while (n && (*v == ' ' || *v == '\t')) {
            v++;
            n--;
        }
        while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
            n--;
        snprintf(res->retry_after, sizeof res->retry_after, "%.*s", (int)n, v);
    }
    return len;
}

static bool network_error_retryable(CURLcode rc)
{
    return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

/* One HTTP exchange on the shared handle. post_body != NULL makes it the token POST. */
static CURLcode perform(struct cp_spotify *sp, const char *url, struct curl_slist *headers,
                        const char *post_body, struct http_result *res, char *curl_error)
{
    CURL *c = sp->curl;
    /* reset keeps the handle's live connections, so the next call reuses them */
    curl_easy_reset(c);
    cp_buf_reset(&res->body);
    res->retry_after[0] = '\0';
    res->status = 0;
    res->body_too_large = false;
    curl_error[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, sp->timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, sp->connect_timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "chartpulse/" CHARTPULSE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
    if (post_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, sp->client_id);
        curl_easy_setopt(c, CURLOPT_PASSWORD, sp->client_secret);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    sp->stats.requests++;
    return rc;
}

static cp_status ensure_token(struct cp_spotify *sp, char *err, size_t errlen);

static void wait_before_retry(struct cp_spotify *sp, double seconds)
{
    sp->stats.retries++;
    sp->stats.waited += seconds;
    sleep_seconds(seconds);
}

/* Sends a request until it gets an answer worth returning: 429 and 5xx are retried as
 * SPEC §5 says, as are network errors that a new attempt may not meet. token_call is the
 * token POST; every other call is a GET with the current token. On CP_OK res holds the
 * final answer, whatever its status. */
static cp_status send_with_retries(struct cp_spotify *sp, bool token_call, const char *url,
                                   struct http_result *res, char *err, size_t errlen)
{
    char what[256];
    describe_call(token_call ? "POST" : "GET", url, what, sizeof what);
    int server_tries = 0, network_tries = 0, rate_tries = 0;
    for (;;) {
        if (sp->stop_reason) {
            snprintf(err, errlen, "%s", sp->stop_reason);
            return CP_ERR_UPSTREAM;
        }
        struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
        if (token_call) {
            headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
        } else {
            cp_status st = ensure_token(sp, err, errlen);
            if (st != CP_OK) {
                curl_slist_free_all(headers);
                return st;
            }
            char *auth = cp_asprintf("Authorization: Bearer %s", sp->token);
            headers = curl_slist_append(headers, auth);
            free(auth);
        }
        char curl_error[CURL_ERROR_SIZE];
        CURLcode rc = perform(sp, url, headers, token_call ? "grant_type=client_credentials" : NULL,
                              res, curl_error);
        curl_slist_free_all(headers);

        if (rc != CURLE_OK) {
            char host[256];
            cp_spotify_url_host(url, host, sizeof host);
            if (res->body_too_large) {
                snprintf(err, errlen, "%s: the answer from %s is larger than %zu MB", what, host,
                         SPOTIFY_MAX_BODY >> 20);
                return CP_ERR_UPSTREAM;
            }
            if (network_error_retryable(rc) && network_tries < NETWORK_RETRIES) {
                double wait =
                    cp_spotify_backoff(network_tries++, BACKOFF_BASE, BACKOFF_CAP, next_jitter(sp));
                cp_log_warn("spotify: %s: %s; retrying in %.1f s", what,
                            curl_error[0] ? curl_error : curl_easy_strerror(rc), wait);
                wait_before_retry(sp, wait);
                continue;
            }
            snprintf(err, errlen, "cannot reach %s (%s): %s", host, what,
                     curl_error[0] ? curl_error : curl_easy_strerror(rc));
            return CP_ERR_IO;
        }

        long status = res->status;
        double retry_after = 0;
        bool has_retry_after =
            cp_spotify_parse_retry_after(res->retry_after, wall_now(), &retry_after);
        if (status == 429) {
            json_t *body = json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, NULL);
            const char *reason = error_reason(body);
            bool quota = reason && !strcmp(reason, "QUOTA_EXCEEDED");
            json_decref(body);
            if (quota) {
                set_stop(sp, "Spotify reports the quota exceeded (429 QUOTA_EXCEEDED) on %s", what);
            } else if (has_retry_after && retry_after > sp->max_wait) {
                set_stop(sp,
                         "Spotify asked to wait %.0f s (429 Retry-After) on %s, more than "
                         "--max-wait %.0f s",
                         retry_after, what, sp->max_wait);
            } else if (rate_tries >= RATE_LIMIT_RETRIES) {
                set_stop(sp, "Spotify rate-limited %s %d times in a row", what, rate_tries + 1);
            } else {
                double wait = has_retry_after ? retry_after
                                              : cp_spotify_backoff(rate_tries, 1.0, sp->max_wait,
                                                                   next_jitter(sp));
                rate_tries++;
                cp_log_warn("spotify: %s: rate limited (429); retrying in %.1f s", what, wait);
                wait_before_retry(sp, wait);
                continue;
            }
            snprintf(err, errlen, "%s", sp->stop_reason);
            return CP_ERR_UPSTREAM;
        }
        if (status == 500 || status == 502 || status == 503 || status == 504) {
            if (has_retry_after && retry_after > sp->max_wait) {
                set_stop(sp,
                         "Spotify asked to wait %.0f s (%ld Retry-After) on %s, more than "
                         "--max-wait %.0f s",
                         retry_after, status, what, sp->max_wait);
                snprintf(err, errlen, "%s", sp->stop_reason);
                return CP_ERR_UPSTREAM;
            }
            if (server_tries >= SERVER_RETRIES) {
                snprintf(err, errlen, "%s: Spotify answered %ld %d times in a row", what, status,
                         server_tries + 1);
                return CP_ERR_UPSTREAM;
            }
            double wait =
                cp_spotify_backoff(server_tries++, BACKOFF_BASE, BACKOFF_CAP, next_jitter(sp));
            if (has_retry_after && retry_after > wait)
                wait = retry_after;
            cp_log_warn("spotify: %s: %ld; retrying in %.1f s", what, status, wait);
            wait_before_retry(sp, wait);
            continue;
        }
        return CP_OK;
    }
}

/* ---------------------------------------------------------------- token */

static void drop_token(struct cp_spotify *sp)
{
    if (!sp->token)
        return;
    redis_drop_token(sp, sp->token);
    free(sp->token);
    sp->token = NULL;
}

static cp_status fetch_token(struct cp_spotify *sp, char *err, size_t errlen)
{
    char *url = cp_asprintf("%s/api/token", sp->accounts_url);
    struct http_result res;
    memset(&res, 0, sizeof res);
    cp_buf_init(&res.body, SPOTIFY_MAX_BODY);
    cp_status st = send_with_retries(sp, true, url, &res, err, errlen);
    sp->stats.token_fetches++;
    json_t *body = NULL;
    if (st != CP_OK)
        goto out;
    body = json_loadb(res.body.data ? res.body.data : "", res.body.len, 0, NULL);
    if (res.status == 400 || res.status == 401) {
        const char *code = json_string_value(json_object_get(body, "error"));
        if (res.status == 401 || (code && !strcmp(code, "invalid_client"))) {
            snprintf(err, errlen, "Spotify rejected the client credentials (%s)",
                     code ? code : "401 Unauthorized");
            st = CP_ERR_UNAUTHORIZED;
        } else {
            char message[256];
            error_message(body, message, sizeof message);
            snprintf(err, errlen, "Spotify's token endpoint answered %ld (%s)", res.status,
                     message[0] ? message : "no reason given");
            st = CP_ERR_UPSTREAM;
        }
        goto out;
    }
    const char *token = json_string_value(json_object_get(body, "access_token"));
    if (res.status != 200 || !token || !*token) {
        char host[256];
        cp_spotify_url_host(url, host, sizeof host);
        snprintf(err, errlen, "the token endpoint at %s answered %ld without an access token", host,
                 res.status);
        st = CP_ERR_UPSTREAM;
        goto out;
    }
    json_t *expires = json_object_get(body, "expires_in");
    double expires_in = json_is_number(expires) ? json_number_value(expires) : DEFAULT_EXPIRES_IN;
    /* replace the token TOKEN_MARGIN before it expires; one with less life than that is
     * used for half of it */
    double life = expires_in > TOKEN_MARGIN ? expires_in - TOKEN_MARGIN : expires_in / 2;
    free(sp->token);
    sp->token = cp_strdup(token);
    sp->token_refresh_at = wall_now() + life;
    redis_store_token(sp, life);
out:
    json_decref(body);
    cp_buf_free(&res.body);
    free(url);
    return st;
}

static cp_status ensure_token(struct cp_spotify *sp, char *err, size_t errlen)
{
    if (sp->token && wall_now() < sp->token_refresh_at)
        return CP_OK;
    free(sp->token);
    sp->token = NULL;
    if (redis_load_token(sp))
        return CP_OK;
    return fetch_token(sp, err, errlen);
}

/* ---------------------------------------------------------------- the client */

void cp_spotify_reply_cleanup(struct cp_spotify_reply *reply)
{
    json_decref(reply->body);
    free(reply->raw);
    memset(reply, 0, sizeof *reply);
}

cp_status cp_spotify_new(const struct cp_spotify_settings *settings, struct cp_spotify **out,
                         char *err, size_t errlen)
{
    if (!settings->client_id || !*settings->client_id || !settings->client_secret ||
        !*settings->client_secret) {
        snprintf(err, errlen,
                 "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set "
                 "(the client-credentials flow needs both)");
        return CP_ERR_INVALID;
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return CP_ERR_INTERNAL;
    }
    struct cp_spotify *sp = cp_calloc(1, sizeof *sp);
    sp->curl = curl;
    sp->api_url =
        strip_trailing_slash(settings->api_url ? settings->api_url : "https://api.spotify.com/v1");
    sp->accounts_url = strip_trailing_slash(
        settings->accounts_url ? settings->accounts_url : "https://accounts.spotify.com");
    sp->client_id = cp_strdup(settings->client_id);
    sp->client_secret = cp_strdup(settings->client_secret);
    sp->redis_url =
        settings->redis_url && *settings->redis_url ? cp_strdup(settings->redis_url) : NULL;
    sp->max_wait = settings->max_wait >= 0 ? settings->max_wait : CP_SPOTIFY_DEFAULT_MAX_WAIT;
    sp->timeout = settings->timeout > 0 ? settings->timeout : SPOTIFY_DEFAULT_TIMEOUT;
    sp->connect_timeout =
        settings->connect_timeout > 0 ? settings->connect_timeout : SPOTIFY_DEFAULT_CONNECT_TIMEOUT;
    /* One cache entry per accounts service and client: a token is only good where it came
     * from. The key holds a hash, never the id itself. */
    char *identity = cp_asprintf("%s\n%s", sp->accounts_url, sp->client_id);
    char sha[65];
    cp_sha256_hex(identity, strlen(identity), sha);
    free(identity);
    snprintf(sp->redis_key, sizeof sp->redis_key, "%s%.16s", REDIS_KEY_PREFIX, sha);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sp->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    if (!sp->rng)
        sp->rng = 88172645463325252ULL;
    *out = sp;
    return CP_OK;
}

void cp_spotify_free(struct cp_spotify *sp)
{
    if (!sp)
        return;
    curl_easy_cleanup(sp->curl);
    if (sp->redis)
        redisFree(sp->redis);
    free(sp->api_url);
    free(sp->accounts_url);
    free(sp->client_id);
    if (sp->client_secret) {
        memset(sp->client_secret, 0, strlen(sp->client_secret));
        free(sp->client_secret);
    }
    free(sp->token);
    free(sp->redis_url);
    free(sp->stop_reason);
    free(sp);
}

const char *cp_spotify_stop_reason(const struct cp_spotify *sp)
{
    return sp->stop_reason;
}

const struct cp_spotify_stats *cp_spotify_stats(const struct cp_spotify *sp)
{
    return &sp->stats;
}

/* The absolute URL for path; NULL when an absolute path is not under the API base (a
 * `next` link elsewhere would carry our token to another host). */
static char *api_url_for(const struct cp_spotify *sp, const char *path)
{
    if (!strncmp(path, "http://", 7) || !strncmp(path, "https://", 8)) {
        size_t n = strlen(sp->api_url);
        if (strncmp(path, sp->api_url, n) || (path[n] && path[n] != '/' && path[n] != '?'))
            return NULL;
        return cp_strdup(path);
    }
    return cp_asprintf("%s%s%s", sp->api_url, path[0] == '/' ? "" : "/", path);
}

cp_status cp_spotify_get(struct cp_spotify *sp, const char *path, struct cp_spotify_reply *reply,
                         char *err, size_t errlen)
{
    memset(reply, 0, sizeof *reply);
    char *url = api_url_for(sp, path);
    if (!url) {
        snprintf(err, errlen, "refusing to follow %s: it is not under SPOTIFY_API_URL %s", path,
                 sp->api_url);
        return CP_ERR_INVALID;
    }
    char what[256];
    describe_call("GET", url, what, sizeof what);
    struct http_result res;
    memset(&res, 0, sizeof res);
    cp_buf_init(&res.body, SPOTIFY_MAX_BODY);
    bool refreshed = false;
    cp_status st;
    for (;;) {
        st = send_with_retries(sp, false, url, &res, err, errlen);
        if (st != CP_OK || res.status != 401 || refreshed)
            break;
        /* the token expired or was revoked before its time: one new token, one retry */
        refreshed = true;
        sp->stats.token_refreshes_on_401++;
        cp_log_info("spotify: %s: access token rejected (401); fetching a new one", what);
        drop_token(sp);
    }
    reply->http_status = res.status;
    if (res.body.len) {
        reply->raw = cp_buf_take(&res.body, &reply->raw_len);
        reply->body = json_loadb(reply->raw, reply->raw_len, 0, NULL);
    }
    if (st != CP_OK)
        goto out;
    char message[256];
    error_message(reply->body, message, sizeof message);
    if (res.status >= 200 && res.status < 300) {
        if (!json_is_object(reply->body) && !json_is_array(reply->body)) {
            snprintf(err, errlen, "%s: the answer is not JSON", what);
            st = CP_ERR_UPSTREAM;
        }
    } else if (res.status == 404) {
        snprintf(err, errlen, "%s: not found (404)%s%s", what, message[0] ? ": " : "", message);
        st = CP_ERR_NOT_FOUND;
    } else if (res.status == 401) {
        snprintf(err, errlen, "%s: Spotify rejected a fresh access token (401)%s%s", what,
                 message[0] ? ": " : "", message);
        st = CP_ERR_UNAUTHORIZED;
    } else {
        snprintf(err, errlen, "%s: Spotify answered %ld%s%s", what, res.status,
                 message[0] ? ": " : "", message);
        st = CP_ERR_UPSTREAM;
    }
out:
    cp_buf_free(&res.body);
    free(url);
    return st;
}
