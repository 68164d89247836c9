/* Whole numbers as people type them in flags and query parameters. */
#ifndef CP_NUMBER_H
#define CP_NUMBER_H

#include <stdbool.h>

/* True with *out set when s is 1..18 decimal digits (no sign, no blanks) whose value lies in
 * [min, max]; false otherwise, *out untouched. */
bool cp_number_parse(const char *s, long long min, long long max, long long *out);

/* The value 0..15 of a hex digit (either case), or -1 when c is not one. */
int cp_hex_digit(char c);

#endif
