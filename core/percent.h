/* Percent-decoding (RFC 3986 §2.1) of URL pieces: path segments and query strings. */
#ifndef CP_PERCENT_H
#define CP_PERCENT_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes s[0..n) into a new string (caller frees) of *len bytes plus a terminating NUL.
 * %XX becomes its byte; a '%' not followed by two hex digits stays as it is. With
 * plus_as_space a '+' becomes a space (form encoding, which query strings use). The result
 * may hold NUL bytes (from %00): *len, not strlen, says how long it is. */
char *cp_percent_decode(const char *s, size_t n, bool plus_as_space, size_t *len);

#endif
