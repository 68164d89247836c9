/* Settings: defaults, derivation, and a clear error naming each bad setting. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "tests/testutil.h"

static const char *all_settings[] = {"DATABASE_URL",
                                     "API_DATABASE_URL",
                                     "DATABASE_READ_URL",
                                     "REDIS_URL",
                                     "CHARTPULSE_LISTEN",
                                     "CHARTPULSE_RAW_URI",
                                     "CHARTPULSE_S3_ENDPOINT",
                                     "AWS_ACCESS_KEY_ID",
                                     "AWS_SECRET_ACCESS_KEY",
                                     "AWS_REGION",
                                     "SPOTIFY_CLIENT_ID",
                                     "SPOTIFY_CLIENT_SECRET",
                                     "SPOTIFY_API_URL",
                                     "SPOTIFY_ACCOUNTS_URL",
                                     "CHARTPULSE_ADMIN_TOKEN",
                                     "CHARTPULSE_SCHEDULE",
                                     "CHARTPULSE_LOG_FORMAT",
                                     "CHARTPULSE_PG_PORT",
                                     "CHARTPULSE_REDIS_PORT",
                                     "CHARTPULSE_CONNECTIONS_PER_IP",
                                     "CHARTPULSE_HEADER_TIMEOUT",
                                     "CHARTPULSE_RATE_LIMIT",
                                     "CHARTPULSE_TLS_CERT",
                                     "CHARTPULSE_TLS_KEY"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof all_settings / sizeof all_settings[0]; i++)
        unsetenv(all_settings[i]);
}

START_TEST(defaults)
{
    clear_env();
    struct cp_config cfg;
    char err[256] = "";
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_str_eq(cfg.database_url, "postgresql://chartpulse@127.0.0.1:54320/chartpulse");
    ck_assert_str_eq(cfg.api_database_url,
                     "postgresql://chartpulse_api@127.0.0.1:54320/chartpulse");
    ck_assert_ptr_null(cfg.database_read_url);
    ck_assert_str_eq(cfg.redis_url, "redis://127.0.0.1:63790/0");
    ck_assert_str_eq(cfg.listen_host, "127.0.0.1");
    ck_assert_int_eq(cfg.listen_port, 8080);
    ck_assert(strncmp(cfg.raw_uri, "file:///", 8) == 0);
    ck_assert(strstr(cfg.raw_uri, "/var/raw") != NULL);
    ck_assert_str_eq(cfg.spotify_api_url, "https://api.spotify.com/v1");
    ck_assert_str_eq(cfg.spotify_accounts_url, "https://accounts.spotify.com");
    ck_assert_ptr_null(cfg.admin_token);
    ck_assert_int_eq(cfg.schedule.kind, CP_SCHEDULE_NONE);
    cp_config_cleanup(&cfg);
}
END_TEST

START_TEST(empty_redis_disables_cache)
{
    clear_env();
    setenv("REDIS_URL", "", 1);
    struct cp_config cfg;
    char err[256];
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_ptr_null(cfg.redis_url);
    cp_config_cleanup(&cfg);
}
END_TEST

START_TEST(api_url_derived_from_password_url)
{
    char *out = NULL;
    ck_assert_int_eq(
        cp_pg_url_with_user("postgres://owner:s3cret@db.example:5432/charts?sslmode=require",
                            "chartpulse_api", &out),
        CP_OK);
    ck_assert_str_eq(out, "postgres://chartpulse_api@db.example:5432/charts?sslmode=require");
    free(out);
    ck_assert_int_eq(cp_pg_url_with_user("mysql://x", "u", &out), CP_ERR_INVALID);
}
END_TEST

struct bad_case {
    const char *name;
    const char *value;
};

static const struct bad_case bad_cases[] = {
    {"DATABASE_URL", "mysql://root@localhost/x"},
    {"API_DATABASE_URL", "localhost:5432"},
    {"REDIS_URL", "127.0.0.1:6379"},
    {"CHARTPULSE_LISTEN", "8080"},
    {"CHARTPULSE_LISTEN", "127.0.0.1:99999"},
    {"CHARTPULSE_LISTEN", "127.0.0.1:http"},
    {"CHARTPULSE_RAW_URI", "/var/raw"},
    {"CHARTPULSE_RAW_URI", "s3://"},
    {"CHARTPULSE_S3_ENDPOINT", "minio:9000"},
    {"SPOTIFY_API_URL", "api.spotify.com"},
    {"CHARTPULSE_SCHEDULE", "hourly"},
    {"CHARTPULSE_SCHEDULE", "daily@25:00"},
    {"CHARTPULSE_SCHEDULE", "every 0h"},
    {"CHARTPULSE_SCHEDULE", "every 6 hours"},
    {"CHARTPULSE_LOG_FORMAT", "xml"},
    {"CHARTPULSE_CONNECTIONS_PER_IP", "0"},
    {"CHARTPULSE_CONNECTIONS_PER_IP", "many"},
    {"CHARTPULSE_HEADER_TIMEOUT", "0"},
    {"CHARTPULSE_HEADER_TIMEOUT", "10s"},
    {"CHARTPULSE_RATE_LIMIT", "fast"},
    {"CHARTPULSE_RATE_LIMIT", "50"},
    {"CHARTPULSE_RATE_LIMIT", "0/s"},
    {"CHARTPULSE_RATE_LIMIT", "50/s,"},
    {"CHARTPULSE_RATE_LIMIT", "50/m"},
    {"CHARTPULSE_TLS_CERT", "/nonexistent/cert.pem"},
    {"CHARTPULSE_TLS_KEY", "/nonexistent/key.pem"},
};

START_TEST(bad_value_names_setting)
{
    clear_env();
    const struct bad_case *c = &bad_cases[_i];
    setenv(c->name, c->value, 1);
    struct cp_config cfg;
    char err[256] = "";
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_ERR_INVALID);
    ck_assert_msg(strncmp(err, c->name, strlen(c->name)) == 0, "error '%s' does not name %s", err,
                  c->name);
    unsetenv(c->name);
}
END_TEST

/* The flood defences' settings (docs/security.md): defaults, forms, and TLS needing both
 * files. */
START_TEST(defence_settings)
{
    clear_env();
    struct cp_config cfg;
    char err[256] = "";
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_uint_eq(cfg.connections_per_ip, 64);
    ck_assert_uint_eq(cfg.header_timeout_s, 10);
    ck_assert_double_eq(cfg.rate_limit_per_s, 50);
    ck_assert_uint_eq(cfg.rate_limit_burst, 200);
    ck_assert_ptr_null(cfg.tls_cert);
    cp_config_cleanup(&cfg);

    setenv("CHARTPULSE_CONNECTIONS_PER_IP", "off", 1);
    setenv("CHARTPULSE_RATE_LIMIT", "off", 1);
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_uint_eq(cfg.connections_per_ip, 0);
    ck_assert_double_eq(cfg.rate_limit_per_s, 0);
    cp_config_cleanup(&cfg);

    setenv("CHARTPULSE_RATE_LIMIT", "2.5/s", 1); /* no burst: two seconds' worth */
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_double_eq(cfg.rate_limit_per_s, 2.5);
    ck_assert_uint_eq(cfg.rate_limit_burst, 5);
    cp_config_cleanup(&cfg);

    /* a certificate without its key (or the other way round) names both */
    setenv("CHARTPULSE_TLS_CERT", "/dev/null", 1);
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_ERR_INVALID);
    ck_assert_str_eq(err, "CHARTPULSE_TLS_CERT: must be set together with CHARTPULSE_TLS_KEY");
    setenv("CHARTPULSE_TLS_KEY", "/dev/null", 1);
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_str_eq(cfg.tls_key, "/dev/null");
    cp_config_cleanup(&cfg);
    clear_env();
}
END_TEST

START_TEST(secret_value_not_echoed)
{
    clear_env();
    setenv("DATABASE_URL", "mysql://root:hunter2@localhost/x", 1);
    struct cp_config cfg;
    char err[256] = "";
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_ERR_INVALID);
    ck_assert_ptr_null(strstr(err, "hunter2"));
    unsetenv("DATABASE_URL");
}
END_TEST

START_TEST(schedules)
{
    struct cp_schedule s;
    ck_assert_int_eq(cp_schedule_parse("daily@06:00", &s), CP_OK);
    ck_assert_int_eq(s.kind, CP_SCHEDULE_DAILY_AT);
    ck_assert_int_eq(s.minute_of_day, 360);
    ck_assert_int_eq(cp_schedule_parse("every 6h", &s), CP_OK);
    ck_assert_int_eq(s.kind, CP_SCHEDULE_EVERY);
    ck_assert_int_eq(s.interval_seconds, 6 * 3600);
    ck_assert_int_eq(cp_schedule_parse("every 30m", &s), CP_OK);
    ck_assert_int_eq(s.interval_seconds, 1800);
    ck_assert_int_eq(cp_schedule_parse("daily@6:00", &s), CP_ERR_INVALID);
}
END_TEST

START_TEST(cli_override)
{
    clear_env();
    struct cp_config cfg;
    char err[256] = "";
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_int_eq(cp_config_set(&cfg, "CHARTPULSE_LISTEN", "127.0.0.1:0", err, sizeof err),
                     CP_OK);
    ck_assert_int_eq(cfg.listen_port, 0);
    ck_assert_int_eq(cp_config_set(&cfg, "CHARTPULSE_LISTEN", "nope", err, sizeof err),
                     CP_ERR_INVALID);
    ck_assert(strstr(err, "CHARTPULSE_LISTEN") != NULL);
    cp_config_cleanup(&cfg);
}
END_TEST

/* Moving the private services (scripts/env.sh) moves the connection defaults with them:
 * `make demo` with CHARTPULSE_PG_PORT=55432 must not load into whatever listens on 54320. */
START_TEST(connection_defaults_follow_the_ports)
{
    clear_env();
    setenv("CHARTPULSE_PG_PORT", "55432", 1);
    setenv("CHARTPULSE_REDIS_PORT", "6400", 1);
    struct cp_config cfg;
    char err[256] = "";
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_OK);
    ck_assert_str_eq(cfg.database_url, "postgresql://chartpulse@127.0.0.1:55432/chartpulse");
    ck_assert_str_eq(cfg.api_database_url,
                     "postgresql://chartpulse_api@127.0.0.1:55432/chartpulse");
    ck_assert_str_eq(cfg.redis_url, "redis://127.0.0.1:6400/0");
    cp_config_cleanup(&cfg);
    setenv("CHARTPULSE_PG_PORT", "0", 1);
    ck_assert_int_eq(cp_config_load(&cfg, err, sizeof err), CP_ERR_INVALID);
    ck_assert(strstr(err, "CHARTPULSE_PG_PORT") != NULL);
    clear_env();
}
END_TEST

/* The server keeps its own copy of the settings: every string of it is its own (a setting
 * missing from a hand-kept list would be freed twice; ASan reports that). */
START_TEST(copy_owns_every_string)
{
    clear_env();
    static const char *const plain[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
        "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "CHARTPULSE_ADMIN_TOKEN"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        setenv(plain[i], "set", 1);
    setenv("CHARTPULSE_SCHEDULE", "every 6h", 1);
    setenv("CHARTPULSE_LOG_FORMAT", "json", 1);
    setenv("DATABASE_READ_URL", "postgresql://reader@127.0.0.1:5/x", 1);
    setenv("CHARTPULSE_S3_ENDPOINT", "http://127.0.0.1:9", 1);
    struct cp_config src, dst;
    char err[256] = "";
    ck_assert_msg(cp_config_load(&src, err, sizeof err) == CP_OK, "%s", err);
    cp_config_copy(&dst, &src);
    char **fields[] = {&dst.pg_port,           &dst.database_url, &dst.api_database_url,
                       &dst.database_read_url, &dst.redis_url,    &dst.listen,
                       &dst.listen_host,       &dst.raw_uri,      &dst.s3_endpoint,
                       &dst.aws_access_key_id, &dst.admin_token,  &dst.schedule_text,
                       &dst.log_format_text};
    char **originals[] = {&src.pg_port,           &src.database_url, &src.api_database_url,
                          &src.database_read_url, &src.redis_url,    &src.listen,
                          &src.listen_host,       &src.raw_uri,      &src.s3_endpoint,
                          &src.aws_access_key_id, &src.admin_token,  &src.schedule_text,
                          &src.log_format_text};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        ck_assert_ptr_nonnull(*fields[i]);
        ck_assert_ptr_ne(*fields[i], *originals[i]);
        ck_assert_str_eq(*fields[i], *originals[i]);
    }
    ck_assert_int_eq(dst.schedule.kind, CP_SCHEDULE_EVERY);
    cp_config_cleanup(&src);
    ck_assert_str_eq(dst.admin_token, "set"); /* still readable after the original is gone */
    cp_config_cleanup(&dst);
    clear_env();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, empty_redis_disables_cache);
    tcase_add_test(tc, api_url_derived_from_password_url);
    tcase_add_loop_test(tc, bad_value_names_setting, 0, sizeof bad_cases / sizeof bad_cases[0]);
    tcase_add_test(tc, secret_value_not_echoed);
    tcase_add_test(tc, schedules);
    tcase_add_test(tc, cli_override);
    tcase_add_test(tc, connection_defaults_follow_the_ports);
    tcase_add_test(tc, copy_owns_every_string);
    tcase_add_test(tc, defence_settings);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
