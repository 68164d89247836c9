/* The one settings table: each setting's environment name, default, validator and slot. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"

typedef const char *(*validate_fn)(struct cp_config *cfg, const char *value);

struct setting {
    const char *name;
    /* NULL: unset unless given. "$PWD" expands to the working directory, "${NAME}" to the
     * value of setting NAME, which must come earlier in the table. */
    const char *default_value;
    size_t offset;        /* of the char * slot in struct cp_config */
    validate_fn validate; /* returns NULL when fine, else why not */
    bool secret;
    bool empty_means_unset; /* an empty value clears the setting instead of defaulting */
};

static const char *valid_pg_url(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    if (strncmp(v, "postgresql://", 13) && strncmp(v, "postgres://", 11))
        return "must be a postgresql:// URL";
    return NULL;
}

static const char *valid_redis_url(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    if (strncmp(v, "redis://", 8))
        return "must be a redis://host:port/db URL, or empty to disable the cache";
    return NULL;
}

static const char *valid_http_url(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
        return "must be an http:// or https:// URL";
    return NULL;
}

static const char *valid_listen(struct cp_config *cfg, const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return "must be HOST:PORT";
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        return "port must be a number from 0 to 65535";
    free(cfg->listen_host);
    const char *host = v;
    size_t hostlen = (size_t)(colon - v);
    if (host[0] == '[' && hostlen >= 2 && host[hostlen - 1] == ']') {
        host++;
        hostlen -= 2;
    }
    cfg->listen_host = cp_strndup(host, hostlen);
    cfg->listen_port = (int)port;
    return NULL;
}

static const char *valid_raw_uri(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    if (!strncmp(v, "file:///", 8))
        return NULL;
    if (!strncmp(v, "s3://", 5) && v[5] && v[5] != '/')
        return NULL;
    return "must be file:///absolute/path or s3://bucket[/prefix]";
}

static const char *valid_schedule(struct cp_config *cfg, const char *v)
{
    if (cp_schedule_parse(v, &cfg->schedule) != CP_OK)
        return "must be daily@HH:MM or every N{s,m,h,d} (e.g. 'every 6h')";
    return NULL;
}

static const char *valid_log_format(struct cp_config *cfg, const char *v)
{
    if (!strcmp(v, "text"))
        cfg->log_format = CP_LOG_TEXT;
    else if (!strcmp(v, "json"))
        cfg->log_format = CP_LOG_JSON;
    else
        return "must be text or json";
    return NULL;
}

static const char *valid_port(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    char *end;
    errno = 0;
    long port = strtol(v, &end, 10);
    if (errno || *end || end == v || port < 1 || port > 65535)
        return "must be a port number from 1 to 65535";
    return NULL;
}

static const char *valid_nonempty(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    return *v ? NULL : "must not be empty";
}

/* A whole number from lo to hi into *out; NULL when fine. */
static const char *parse_count(const char *v, long lo, long hi, unsigned *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi)
        return "out of range";
    *out = (unsigned)n;
    return NULL;
}

static const char *valid_connections_per_ip(struct cp_config *cfg, const char *v)
{
    if (!strcmp(v, "off")) {
        cfg->connections_per_ip = 0;
        return NULL;
    }
    if (parse_count(v, 1, 100000, &cfg->connections_per_ip))
        return "must be a number of connections from 1 to 100000, or off";
    return NULL;
}

static const char *valid_header_timeout(struct cp_config *cfg, const char *v)
{
    if (parse_count(v, 1, 3600, &cfg->header_timeout_s))
        return "must be a number of seconds from 1 to 3600";
    return NULL;
}

/* "RATE/s" or "RATE/s,BURST" (requests per second and per client, and how many may come at
 * once), or "off". */
static const char *valid_rate_limit(struct cp_config *cfg, const char *v)
{
    static const char why[] = "must be RATE/s or RATE/s,BURST (e.g. 50/s,200), or off";
    if (!strcmp(v, "off")) {
        cfg->rate_limit_per_s = 0;
        cfg->rate_limit_burst = 0;
        return NULL;
    }
    char *end;
    errno = 0;
    double rate = strtod(v, &end);
    if (errno || end == v || !(rate > 0) || rate > 1e6 || strncmp(end, "/s", 2))
        return why;
    end += 2;
    unsigned burst = 0;
    if (*end == ',') {
        if (parse_count(end + 1, 1, 1000000, &burst))
            return why;
    } else if (*end) {
        return why;
    } else {
        burst = rate < 1 ? 1u : (unsigned)(rate * 2 + 0.5); /* two seconds' worth */
    }
    cfg->rate_limit_per_s = rate;
    cfg->rate_limit_burst = burst;
    return NULL;
}

static const char *valid_step_retries(struct cp_config *cfg, const char *v)
{
    if (parse_count(v, 0, 10, &cfg->step_retries))
        return "must be a number of retries from 0 to 10";
    return NULL;
}

static const char *valid_step_backoff(struct cp_config *cfg, const char *v)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || end == v || *end || !(s >= 0) || s > 3600)
        return "must be a number of seconds from 0 to 3600 (e.g. 30 or 0.5)";
    cfg->step_backoff_s = s;
    return NULL;
}

static const char *valid_readable_file(struct cp_config *cfg, const char *v)
{
    (void)cfg;
    if (!*v)
        return "must be a file path";
    if (access(v, R_OK) != 0)
        return "cannot be read";
    return NULL;
}

#define SLOT(field) offsetof(struct cp_config, field)

/* The private PostgreSQL and Redis of scripts/env.sh listen on these ports; the connection
 * defaults below follow them, so moving the services moves every default with them. */
static const struct setting settings[] = {
    {"CHARTPULSE_PG_PORT", "54320", SLOT(pg_port), valid_port, false, false},
    {"CHARTPULSE_REDIS_PORT", "63790", SLOT(redis_port), valid_port, false, false},
    {"DATABASE_URL", "postgresql://chartpulse@127.0.0.1:${CHARTPULSE_PG_PORT}/chartpulse",
     SLOT(database_url), valid_pg_url, true, false},
    {"API_DATABASE_URL", NULL, SLOT(api_database_url), valid_pg_url, true, true},
    {"DATABASE_READ_URL", NULL, SLOT(database_read_url), valid_pg_url, true, true},
    {"REDIS_URL", "redis://127.0.0.1:${CHARTPULSE_REDIS_PORT}/0", SLOT(redis_url), valid_redis_url,
     true, true},
    {"CHARTPULSE_LISTEN", "127.0.0.1:8080", SLOT(listen), valid_listen, false, false},
    {"CHARTPULSE_RAW_URI", "file://$PWD/var/raw", SLOT(raw_uri), valid_raw_uri, false, false},
    {"CHARTPULSE_S3_ENDPOINT", NULL, SLOT(s3_endpoint), valid_http_url, false, true},
    {"AWS_ACCESS_KEY_ID", NULL, SLOT(aws_access_key_id), valid_nonempty, true, true},
    {"AWS_SECRET_ACCESS_KEY", NULL, SLOT(aws_secret_access_key), valid_nonempty, true, true},
    {"AWS_REGION", NULL, SLOT(aws_region), valid_nonempty, false, true},
    {"SPOTIFY_CLIENT_ID", NULL, SLOT(spotify_client_id), valid_nonempty, true, true},
    {"SPOTIFY_CLIENT_SECRET", NULL, SLOT(spotify_client_secret), valid_nonempty, true, true},
    {"SPOTIFY_API_URL", "https://api.spotify.com/v1", SLOT(spotify_api_url), valid_http_url, false,
     false},
    {"SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com", SLOT(spotify_accounts_url),
     valid_http_url, false, false},
    {"CHARTPULSE_ADMIN_TOKEN", NULL, SLOT(admin_token), valid_nonempty, true, true},
    {"CHARTPULSE_SCHEDULE", NULL, SLOT(schedule_text), valid_schedule, false, true},
    {"CHARTPULSE_STEP_RETRIES", "2", SLOT(step_retries_text), valid_step_retries, false, false},
    {"CHARTPULSE_STEP_BACKOFF", "30", SLOT(step_backoff_text), valid_step_backoff, false, false},
    {"CHARTPULSE_LOG_FORMAT", NULL, SLOT(log_format_text), valid_log_format, false, true},
    {"CHARTPULSE_CONNECTIONS_PER_IP", "64", SLOT(connections_per_ip_text), valid_connections_per_ip,
     false, false},
    {"CHARTPULSE_HEADER_TIMEOUT", "10", SLOT(header_timeout_text), valid_header_timeout, false,
     false},
    {"CHARTPULSE_RATE_LIMIT", "50/s,200", SLOT(rate_limit_text), valid_rate_limit, false, false},
    {"CHARTPULSE_TLS_CERT", NULL, SLOT(tls_cert), valid_readable_file, false, true},
    {"CHARTPULSE_TLS_KEY", NULL, SLOT(tls_key), valid_readable_file, false, true},
};

#define N_SETTINGS (sizeof settings / sizeof settings[0])

/* Strings of struct cp_config that validators derive from a setting (not in the table). */
static const size_t derived_strings[] = {SLOT(listen_host)};

#define N_DERIVED (sizeof derived_strings / sizeof derived_strings[0])

static char **slot(struct cp_config *cfg, const struct setting *s)
{
    return (char **)((char *)cfg + s->offset);
}

static const struct setting *find_setting(const char *name)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (!strcmp(settings[i].name, name))
            return &settings[i];
    return NULL;
}

/* The default with $PWD and ${NAME} expanded (NAME's value in cfg, "" when unset). */
static char *expand_default(const struct cp_config *cfg, const char *def)
{
    char *out = cp_strdup("");
    const char *p = def;
    while (*p) {
        const char *var = strchr(p, '$');
        if (!var) {
            char *next = cp_asprintf("%s%s", out, p);
            free(out);
            out = next;
            break;
        }
        const char *value = "";
        char cwd[4096];
        const char *after = var + 1;
        if (!strncmp(var, "$PWD", 4)) {
            value = getcwd(cwd, sizeof cwd) ? cwd : "/tmp";
            after = var + 4;
        } else if (var[1] == '{' && strchr(var, '}')) {
            const char *close = strchr(var, '}');
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(close - var - 2), var + 2);
            const struct setting *s = find_setting(name);
            const char *v = s ? *(char *const *)((const char *)cfg + s->offset) : NULL;
            value = v ? v : "";
            after = close + 1;
        }
        char *next = cp_asprintf("%s%.*s%s", out, (int)(var - p), p, value);
        free(out);
        out = next;
        p = after;
    }
    return out;
}

static cp_status apply(struct cp_config *cfg, const struct setting *s, const char *value, char *err,
                       size_t errlen)
{
    char **dst = slot(cfg, s);
    free(*dst);
    *dst = NULL;
    if (value && !*value && s->empty_means_unset)
        return CP_OK;
    if (!value || (!*value && s->default_value)) {
        if (!s->default_value)
            return CP_OK;
        *dst = expand_default(cfg, s->default_value);
    } else {
        *dst = cp_strdup(value);
    }
    const char *why = s->validate ? s->validate(cfg, *dst) : NULL;
    if (why) {
        if (s->secret)
            snprintf(err, errlen, "%s: %s", s->name, why);
        else
            snprintf(err, errlen, "%s: %s (got '%s')", s->name, why, *dst);
        return CP_ERR_INVALID;
    }
    return CP_OK;
}

static void derive(struct cp_config *cfg)
{
    if (!cfg->api_database_url &&
        cp_pg_url_with_user(cfg->database_url, "chartpulse_api", &cfg->api_database_url) != CP_OK)
        cfg->api_database_url = cp_strdup(cfg->database_url);
    if (!cfg->log_format_text)
        cfg->log_format = isatty(STDERR_FILENO) ? CP_LOG_TEXT : CP_LOG_JSON;
    if (!cfg->schedule_text)
        cfg->schedule.kind = CP_SCHEDULE_NONE;
}

cp_status cp_config_load(struct cp_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        cp_status st = apply(cfg, &settings[i], getenv(settings[i].name), err, errlen);
        if (st != CP_OK) {
            cp_config_cleanup(cfg);
            return st;
        }
    }
    derive(cfg);
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, errlen, "%s: must be set together with %s",
                 cfg->tls_cert ? "CHARTPULSE_TLS_CERT" : "CHARTPULSE_TLS_KEY",
                 cfg->tls_cert ? "CHARTPULSE_TLS_KEY" : "CHARTPULSE_TLS_CERT");
        cp_config_cleanup(cfg);
        return CP_ERR_INVALID;
    }
    return CP_OK;
}

cp_status cp_config_set(struct cp_config *cfg, const char *name, const char *value, char *err,
                        size_t errlen)
{
    const struct setting *s = find_setting(name);
    if (!s) {
        snprintf(err, errlen, "%s: not a setting", name);
        return CP_ERR_INVALID;
    }
    cp_status st = apply(cfg, s, value, err, errlen);
    if (st == CP_OK && !strcmp(name, "DATABASE_URL") && !getenv("API_DATABASE_URL")) {
        free(cfg->api_database_url);
        cfg->api_database_url = NULL;
        derive(cfg);
    }
    return st;
}

void cp_config_cleanup(struct cp_config *cfg)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char **dst = slot(cfg, &settings[i]);
        free(*dst);
        *dst = NULL;
    }
    for (size_t i = 0; i < N_DERIVED; i++) {
        char **dst = (char **)((char *)cfg + derived_strings[i]);
        free(*dst);
        *dst = NULL;
    }
}

void cp_config_copy(struct cp_config *dst, const struct cp_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char **p = slot(dst, &settings[i]);
        *p = *p ? cp_strdup(*p) : NULL;
    }
    for (size_t i = 0; i < N_DERIVED; i++) {
        char **p = (char **)((char *)dst + derived_strings[i]);
        *p = *p ? cp_strdup(*p) : NULL;
    }
}

cp_status cp_schedule_parse(const char *text, struct cp_schedule *out)
{
    int hh, mm, used = 0;
    if (!strncmp(text, "daily@", 6)) {
        if (sscanf(text + 6, "%2d:%2d%n", &hh, &mm, &used) != 2 || text[6 + used] || hh < 0 ||
            hh > 23 || mm < 0 || mm > 59 || used != 5)
            return CP_ERR_INVALID;
        out->kind = CP_SCHEDULE_DAILY_AT;
        out->minute_of_day = hh * 60 + mm;
        out->interval_seconds = 0;
        return CP_OK;
    }
    if (!strncmp(text, "every ", 6)) {
        const char *p = text + 6;
        if (!isdigit((unsigned char)*p))
            return CP_ERR_INVALID;
        char *end;
        errno = 0;
        long n = strtol(p, &end, 10);
        if (errno || n <= 0 || n > 100000 || !end[0] || end[1])
            return CP_ERR_INVALID;
        long unit;
        switch (*end) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return CP_ERR_INVALID;
        }
        out->kind = CP_SCHEDULE_EVERY;
        out->interval_seconds = n * unit;
        out->minute_of_day = 0;
        return CP_OK;
    }
    return CP_ERR_INVALID;
}

cp_status cp_pg_url_with_user(const char *url, const char *user, char **out)
{
    const char *rest;
    if (!strncmp(url, "postgresql://", 13))
        rest = url + 13;
    else if (!strncmp(url, "postgres://", 11))
        rest = url + 11;
    else
        return CP_ERR_INVALID;
    size_t scheme_len = (size_t)(rest - url);
    /* userinfo ends at the last '@' before the path starts */
    const char *path = strchr(rest, '/');
    const char *at = NULL;
    for (const char *p = rest; *p && (!path || p < path); p++)
        if (*p == '@')
            at = p;
    const char *hostpart = at ? at + 1 : rest;
    *out = cp_asprintf("%.*s%s@%s", (int)scheme_len, url, user, hostpart);
    return CP_OK;
}
