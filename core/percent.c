/* Percent-decoding of path segments and query strings. */
#include "core/percent.h"

#include "core/mem.h"
#include "core/number.h"

char *cp_percent_decode(const char *s, size_t n, bool plus_as_space, size_t *len)
{
    char *out = cp_malloc(n + 1); /* decoding only shortens */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = cp_hex_digit(s[i + 1])) >= 0 &&
            (lo = cp_hex_digit(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus_as_space && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}
