/* Log lines carry bytes a client chose (paths, parameters): a text line escapes control
 * bytes and invalid UTF-8 so that one event stays one line; a JSON line keeps every field,
 * as valid UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "core/mem.h"
#include "tests/testutil.h"

/* What cp_log_fields writes for fields in format; caller frees. */
static char *logged(enum cp_log_format format, const char *const *fields, const char *message)
{
    struct tu_stderr capture;
    tu_stderr_begin(&capture);
    cp_log_init(format, CP_LOG_INFO);
    cp_log_fields(CP_LOG_INFO, fields, "%s", message);
    char *text = tu_stderr_end(&capture);
    return text;
}

static size_t lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

START_TEST(text_line_escapes_controls_and_invalid_utf8)
{
    const char *const fields[] = {"path", "/v1/x\n2099-01-01 info forged\r\t", "name",
                                  "Beyonc\xc3\xa9 \xff", NULL};
    char *text = logged(CP_LOG_TEXT, fields, "message\nsecond");
    ck_assert_uint_eq(lines(text), 1);
    ck_assert_msg(strstr(text, " message\\x0asecond ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, " path=/v1/x\\x0a2099-01-01 info forged\\x0d\\x09 ") != NULL, "%s",
                  text);
    ck_assert_msg(strstr(text, " name=Beyonc\xc3\xa9 \\xff\n") != NULL, "%s", text);
    free(text);
}
END_TEST

START_TEST(json_line_keeps_a_field_that_is_not_utf8)
{
    const char *const fields[] = {"path", "/v1/\xff\xfe", "other", "line\nbreak", NULL};
    char *text = logged(CP_LOG_JSON, fields, "bad \xc0\xaf message");
    ck_assert_uint_eq(lines(text), 1);
    json_error_t error;
    json_t *line = json_loads(text, 0, &error);
    ck_assert_msg(line != NULL, "not JSON: %s (%s)", text, error.text);
    ck_assert_str_eq(json_string_value(json_object_get(line, "path")), "/v1/\\xff\\xfe");
    ck_assert_str_eq(json_string_value(json_object_get(line, "other")), "line\nbreak");
    ck_assert_str_eq(json_string_value(json_object_get(line, "msg")), "bad \\xc0\\xaf message");
    json_decref(line);
    free(text);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, text_line_escapes_controls_and_invalid_utf8);
    tcase_add_test(tc, json_line_keeps_a_field_that_is_not_utf8);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(log_suite());
}
