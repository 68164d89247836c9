/* Settings: defaults, derivation, and a clear error naming each bad setting. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "tests/testutil.h"

static const char *all_settings[] = {"DATABASE_URL",           "API_DATABASE_URL",
                                     "DATABASE_READ_URL",      "REDIS_URL",
                                     "CHARTPULSE_LISTEN",      "CHARTPULSE_RAW_URI",
                                     "CHARTPULSE_S3_ENDPOINT", "AWS_ACCESS_KEY_ID",
                                     "AWS_SECRET_ACCESS_KEY",  "AWS_REGION",
                                     "SPOTIFY_CLIENT_ID",      "SPOTIFY_CLIENT_SECRET",
                                     "SPOTIFY_API_URL",        "SPOTIFY_ACCOUNTS_URL",
                                     "CHARTPULSE_ADMIN_TOKEN", "CHARTPULSE_SCHEDULE",
                                     "CHARTPULSE_LOG_FORMAT"};

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
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
