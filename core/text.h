/* Text from outside (chart files, error messages) as PostgreSQL will take it: the one UTF-8
 * validator, and the one "safe text" form of arbitrary bytes, used wherever bytes that may
 * not be text must still be stored or shown (rejected rows, load errors). */
#ifndef CP_TEXT_H
#define CP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct cp_buf;

/* Offset of the first byte of s[0..n) that does not start a well-formed UTF-8 character
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no cut-off
 * sequence), or n when all of it is valid. A NUL byte is valid UTF-8; check it apart. */
size_t cp_utf8_invalid_at(const char *s, size_t n);

/* The marker the safe form ends with when it was cut: " [cut: N bytes in all]". */
#define CP_TEXT_CUT_MARKER_MAX 48

/* Appends the safe form of s[0..n) to out: valid UTF-8 as it is, every NUL byte and every
 * byte not part of a valid character as the four characters \xNN (lower-case hex), the
 * whole at most cap bytes. When it would be longer it is cut at a character boundary and
 * ends with the marker; cap must exceed CP_TEXT_CUT_MARKER_MAX. The safe form is valid
 * UTF-8 without NUL bytes, and applying it again with the same cap changes nothing. A
 * backslash is kept as it is, so "\x00" in a file and an escaped NUL read alike; the
 * exact bytes stay in the raw zone. */
void cp_text_safe(struct cp_buf *out, const char *s, size_t n, size_t cap);

/* The safe form with every ASCII control byte (NUL to 0x1f, and DEL) escaped as \xNN too:
 * text that must stay on one line of a log, so a newline a client sent cannot start a line
 * of its own. Same cap and marker as cp_text_safe. */
void cp_text_line(struct cp_buf *out, const char *s, size_t n, size_t cap);

/* cp_text_safe into a new NUL-terminated string (caller frees). */
char *cp_text_safe_dup(const char *s, size_t n, size_t cap);

#endif
