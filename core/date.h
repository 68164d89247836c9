/* Calendar dates as chartpulse writes them: YYYY-MM-DD, proleptic Gregorian. The one
 * validator for chart dates in files and flags, API path and query dates, and release dates
 * from the Web API, and the day arithmetic of generated charts and forecasts. */
#ifndef CP_DATE_H
#define CP_DATE_H

#include <stdbool.h>
#include <stddef.h>

/* Chart dates and API dates are years 1900..9999 (a "0017-01-01" is a mangled file, not a
 * chart); release dates are any year 1..9999 (some catalogues date recordings early). */
#define CP_DATE_YEAR_MIN 1900

/* True when s[0..n) is exactly YYYY-MM-DD naming a real calendar day with a year from
 * year_min to 9999. */
bool cp_date_valid_n(const char *s, size_t n, int year_min);
/* cp_date_valid_n over a NUL-terminated s with year_min CP_DATE_YEAR_MIN; false for NULL. */
bool cp_date_valid(const char *s);

/* Days since 1970-01-01 (negative before) of a valid date (H. Hinnant's days_from_civil). */
long cp_date_to_days(int year, int month, int day);
/* The same of a date already checked by cp_date_valid. */
long cp_date_text_to_days(const char *s);
/* The date `days` after 1970-01-01 (civil_from_days). */
void cp_date_from_days(long days, int *year, int *month, int *day);
/* The same written YYYY-MM-DD into out (years 0..9999). */
void cp_date_format_days(long days, char out[11]);

/* A Web API release date: "YYYY", "YYYY-MM" or "YYYY-MM-DD" whose shape matches precision
 * ("year", "month", "day"; NULL accepts any), years 1..9999. Writes the first day it
 * covers as YYYY-MM-DD into out and the precision (static) into *out_precision. False when
 * malformed. */
bool cp_date_parse_release(const char *text, const char *precision, char out[11],
                           const char **out_precision);

#endif
