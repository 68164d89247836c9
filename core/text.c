/* UTF-8 validation and the safe text form of arbitrary bytes. */
#include "core/text.h"

#include <stdio.h>

#include "core/buf.h"

/* Every safe form fits in this (a byte escaped as \xNN is four); the caller's cap is smaller
 * in practice, this only bounds the scratch buffer. */
#define SAFE_MAX ((size_t)1 << 30)

/* Length of the well-formed UTF-8 character at s[i] (RFC 3629, table 3-7 of the Unicode
 * standard), or 0 when the byte there does not start one. */
static size_t utf8_char_len(const unsigned char *s, size_t n, size_t i)
{
    unsigned char b = s[i];
    if (b < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n - i < len)
        return 0;
    if (s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t cp_utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_char_len(u, n, i);
        if (!len)
            return i;
        i += len;
    }
    return n;
}

/* Bytes the safe form of s[i] takes, and how many input bytes it covers (*used). With
 * controls, every ASCII control byte (and DEL) is escaped too. */
static size_t safe_piece(const unsigned char *s, size_t n, size_t i, size_t *used, bool controls)
{
    size_t len = s[i] && !(controls && (s[i] < 0x20 || s[i] == 0x7f)) ? utf8_char_len(s, n, i) : 0;
    *used = len ? len : 1;
    return len ? len : 4;
}

static void add_piece(struct cp_buf *out, const unsigned char *s, size_t i, size_t used,
                      size_t piece)
{
    if (piece == used) {
        (void)cp_buf_add(out, s + i, used);
    } else {
        char hex[5];
        snprintf(hex, sizeof hex, "\\x%02x", s[i]);
        (void)cp_buf_add(out, hex, 4);
    }
}

static void safe_form(struct cp_buf *out, const char *s, size_t n, size_t cap, bool controls)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t total = 0, used;
    for (size_t i = 0; i < n; i += used)
        total += safe_piece(u, n, i, &used, controls);
    char marker[CP_TEXT_CUT_MARKER_MAX];
    size_t budget = total, marker_len = 0;
    if (total > cap) {
        int m = snprintf(marker, sizeof marker, " [cut: %zu bytes in all]", n);
        marker_len = m > 0 && (size_t)m < sizeof marker ? (size_t)m : 0;
        budget = cap > marker_len ? cap - marker_len : 0;
    }
    size_t written = 0;
    for (size_t i = 0; i < n; i += used) {
        size_t piece = safe_piece(u, n, i, &used, controls);
        if (written + piece > budget)
            break;
        add_piece(out, u, i, used, piece);
        written += piece;
    }
    if (marker_len)
        (void)cp_buf_add(out, marker, marker_len);
}

void cp_text_safe(struct cp_buf *out, const char *s, size_t n, size_t cap)
{
    safe_form(out, s, n, cap, false);
}

void cp_text_line(struct cp_buf *out, const char *s, size_t n, size_t cap)
{
    safe_form(out, s, n, cap, true);
}

char *cp_text_safe_dup(const char *s, size_t n, size_t cap)
{
    struct cp_buf b;
    cp_buf_init(&b, cap < SAFE_MAX ? cap : SAFE_MAX);
    cp_text_safe(&b, s, n, cap);
    return cp_buf_take(&b, NULL);
}
