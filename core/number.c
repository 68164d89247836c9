/* Whole numbers (core/number.h). */
#include "core/number.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cp_number_parse(const char *s, long long min, long long max, long long *out)
{
    size_t len = s ? strlen(s) : 0;
    if (!len || len > 18 || strspn(s, "0123456789") != len)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int cp_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
