/* CSV answers (handlers/csv.h): text cells that a spreadsheet would run as a formula get a
 * leading single quote; numbers, and text that is a plain number, stay as they are. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "handlers/csv.h"
#include "tests/testutil.h"

/* The CSV of one row {"v": value} under the header "v", without the header; caller frees. */
static char *cell(json_t *value)
{
    json_t *body = json_pack("{s:[{s:o}]}", "rows", "v", value);
    static const char *const columns[] = {"v", NULL};
    struct cp_reply reply = {0};
    ck_assert_int_eq(cp_csv_reply_rows(&reply, body, "rows", columns), CP_OK);
    ck_assert(!strncmp(reply.text, "v\r\n", 3));
    char *row = strdup(reply.text + 3);
    cp_reply_cleanup(&reply);
    return row;
}

static void assert_cell(json_t *value, const char *want)
{
    char *got = cell(value);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(formula_text_is_quoted)
{
    assert_cell(json_string("=HYPERLINK(\"http://evil/\",\"x\")"),
                "\"'=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\"\r\n");
    assert_cell(json_string("=1+2"), "'=1+2\r\n");
    assert_cell(json_string("+cmd"), "'+cmd\r\n");
    assert_cell(json_string("-2+3"), "'-2+3\r\n");
    assert_cell(json_string("@SUM(A1)"), "'@SUM(A1)\r\n");
    assert_cell(json_string("\tlead"), "'\tlead\r\n");
    assert_cell(json_string("\rlead"), "\"'\rlead\"\r\n");
    /* the first of joined strings starts the cell */
    assert_cell(json_pack("[ss]", "@evil", "Other"), "'@evil; Other\r\n");
    assert_cell(json_pack("[ss]", "Other", "@evil"), "Other; @evil\r\n");
}
END_TEST

START_TEST(numbers_and_plain_text_stay)
{
    assert_cell(json_integer(-3), "-3\r\n");
    assert_cell(json_real(-0.5), "-0.5\r\n");
    assert_cell(json_string("-3"), "-3\r\n");
    assert_cell(json_string("+12.5"), "+12.5\r\n");
    assert_cell(json_string("-1e6"), "-1e6\r\n");
    assert_cell(json_string("Plain Song"), "Plain Song\r\n");
    assert_cell(json_string("a=b"), "a=b\r\n");
    assert_cell(json_string(""), "\r\n");
    assert_cell(json_null(), "\r\n");
    /* not numbers */
    assert_cell(json_string("-"), "'-\r\n");
    assert_cell(json_string("-1e"), "'-1e\r\n");
    assert_cell(json_string("-.e1"), "'-.e1\r\n");
}
END_TEST

static Suite *csv_cells_suite(void)
{
    Suite *s = suite_create("csv_cells");
    TCase *tc = tcase_create("csv_cells");
    tcase_add_test(tc, formula_text_is_quoted);
    tcase_add_test(tc, numbers_and_plain_text_stay);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(csv_cells_suite());
}
