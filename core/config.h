/* The settings of SPEC §3, read from the environment through one typed table
 * (config.c). Every value is validated at load; a bad one stops start-up with a
 * message naming the setting. Secrets are never logged. */
#ifndef CP_CONFIG_H
#define CP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/log.h"
#include "core/status.h"

enum cp_schedule_kind { CP_SCHEDULE_NONE, CP_SCHEDULE_DAILY_AT, CP_SCHEDULE_EVERY };

struct cp_schedule {
    enum cp_schedule_kind kind;
    int minute_of_day;     /* CP_SCHEDULE_DAILY_AT: 0..1439, UTC */
    long interval_seconds; /* CP_SCHEDULE_EVERY: > 0 */
};

/* All strings are owned by the config and freed by cp_config_cleanup. Optional settings
 * that are unset are NULL. */
struct cp_config {
    char *pg_port;    /* CHARTPULSE_PG_PORT: the private PostgreSQL (scripts/env.sh) */
    char *redis_port; /* CHARTPULSE_REDIS_PORT: the private Redis */
    char *database_url;
    char *api_database_url;
    char *database_read_url;
    char *redis_url; /* NULL when the cache is disabled (REDIS_URL set to empty) */
    char *listen;
    char *listen_host;
    int listen_port;
    char *raw_uri;
    char *s3_endpoint;
    char *aws_access_key_id;
    char *aws_secret_access_key;
    char *aws_region;
    char *spotify_client_id;
    char *spotify_client_secret;
    char *spotify_api_url;
    char *spotify_accounts_url;
    char *admin_token;
    char *schedule_text;
    struct cp_schedule schedule;
    /* A failed pipeline step is retried (pipeline/pipeline_run.c). */
    char *step_retries_text; /* CHARTPULSE_STEP_RETRIES */
    unsigned step_retries;   /* retries after the first attempt */
    char *step_backoff_text; /* CHARTPULSE_STEP_BACKOFF */
    double step_backoff_s;   /* the wait before the first retry; doubled for each next */
    char *log_format_text;
    enum cp_log_format log_format;
    /* The server's defences against a flood from one client (docs/security.md). */
    char *connections_per_ip_text; /* CHARTPULSE_CONNECTIONS_PER_IP */
    unsigned connections_per_ip;   /* 0: no limit */
    char *header_timeout_text;     /* CHARTPULSE_HEADER_TIMEOUT */
    unsigned header_timeout_s;     /* a request head must be complete within this */
    char *rate_limit_text;         /* CHARTPULSE_RATE_LIMIT */
    double rate_limit_per_s;       /* database requests per second per client; 0: off */
    unsigned rate_limit_burst;
    char *tls_cert; /* CHARTPULSE_TLS_CERT: PEM certificate (chain) file; NULL: plain HTTP */
    char *tls_key;  /* CHARTPULSE_TLS_KEY: its PEM private key file */
};

/* Reads every setting from the environment (getenv), applying defaults and validating.
 * On failure returns CP_ERR_INVALID and writes "NAME: why" into err. */
cp_status cp_config_load(struct cp_config *cfg, char *err, size_t errlen);
void cp_config_cleanup(struct cp_config *cfg);
/* Makes dst an independent copy of src (every string duplicated, by the settings table);
 * free it with cp_config_cleanup. */
void cp_config_copy(struct cp_config *dst, const struct cp_config *src);

/* Overrides one setting by its environment name (for CLI flags), re-validating it. */
cp_status cp_config_set(struct cp_config *cfg, const char *name, const char *value, char *err,
                        size_t errlen);

/* Parses a CHARTPULSE_SCHEDULE value: "daily@HH:MM" or "every N{s,m,h,d}". */
cp_status cp_schedule_parse(const char *text, struct cp_schedule *out);

/* Copies url into out with its user (and password) replaced by user. Returns
 * CP_ERR_INVALID when url is not a postgres:// or postgresql:// URL. Caller frees *out. */
cp_status cp_pg_url_with_user(const char *url, const char *user, char **out);

#endif
