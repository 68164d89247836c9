/* Calendar dates (core/date.h). */
#include "core/date.h"

#include <stdio.h>
#include <string.h>

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int number(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int cp_date_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool parts_valid(int year, int month, int day, int year_min)
{
    return year >= year_min && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
           day <= cp_date_days_in_month(year, month);
}

bool cp_date_valid_n(const char *s, size_t n, int year_min)
{
    if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
        !digits(s + 8, 2))
        return false;
    return parts_valid(number(s, 4), number(s + 5, 2), number(s + 8, 2), year_min);
}

bool cp_date_valid(const char *s)
{
    return s && cp_date_valid_n(s, strlen(s), CP_DATE_YEAR_MIN);
}

static long floor_div(long a, long b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

long cp_date_to_days(int year, int month, int day)
{
    long y = year - (month <= 2);
    long era = floor_div(y, 400);
    long yoe = y - era * 400;
    long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long cp_date_text_to_days(const char *s)
{
    return cp_date_to_days(number(s, 4), number(s + 5, 2), number(s + 8, 2));
}

void cp_date_from_days(long days, int *year, int *month, int *day)
{
    long z = days + 719468;
    long era = floor_div(z, 146097);
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (*month <= 2));
}

void cp_date_format_days(long days, char out[11])
{
    int y, m, d;
    cp_date_from_days(days, &y, &m, &d);
    /* digit by digit: the ranges are known, and snprintf's would make GCC warn */
    int parts[3] = {((y % 10000) + 10000) % 10000, m, d};
    int widths[3] = {4, 2, 2};
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        if (i)
            out[at++] = '-';
        for (int w = widths[i] - 1, v = parts[i]; w >= 0; w--, v /= 10)
            out[at + (size_t)w] = (char)('0' + v % 10);
        at += (size_t)widths[i];
    }
    out[at] = '\0';
}

bool cp_date_parse_release(const char *text, const char *precision, char out[11],
                           const char **out_precision)
{
    if (!text)
        return false;
    size_t len = strlen(text);
    const char *shape = len == 4 ? "year" : len == 7 ? "month" : len == 10 ? "day" : NULL;
    if (!shape || (precision && strcmp(precision, shape)))
        return false;
    if (!digits(text, 4) || (len > 4 && (text[4] != '-' || !digits(text + 5, 2))) ||
        (len > 7 && (text[7] != '-' || !digits(text + 8, 2))))
        return false;
    int year = number(text, 4);
    int month = len > 4 ? number(text + 5, 2) : 1;
    int day = len > 7 ? number(text + 8, 2) : 1;
    if (!parts_valid(year, month, day, 1))
        return false;
    cp_date_format_days(cp_date_to_days(year, month, day), out);
    *out_precision = shape;
    return true;
}
