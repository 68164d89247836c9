/* A growing byte buffer with a named cap (after curl's dynbuf). The content is always
 * NUL-terminated so it can be used as a string. A failed append sticks: every later append
 * fails with the same status until cp_buf_reset, so a writer may append a whole record and
 * check once (cp_buf_status) without ever emitting half of it as if it were whole. */
#ifndef CP_BUF_H
#define CP_BUF_H

#include <stddef.h>

#include "core/status.h"

struct cp_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t max;       /* appends that would grow len past max fail with CP_ERR_TOO_LARGE */
    cp_status failed; /* CP_OK, or the status of the first failed append */
};

/* max is the buffer's cap: a named constant of the caller's, never SIZE_MAX. */
void cp_buf_init(struct cp_buf *b, size_t max);
/* Each returns CP_OK, or the buffer's failure (CP_ERR_TOO_LARGE past the cap), which then
 * sticks: the content stays as it was before the failed append. */
cp_status cp_buf_add(struct cp_buf *b, const void *data, size_t len);
cp_status cp_buf_adds(struct cp_buf *b, const char *s);
cp_status cp_buf_addf(struct cp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* CP_OK while every append so far succeeded, else the first failure's status. */
cp_status cp_buf_status(const struct cp_buf *b);
/* Forget the content and any failure, keep the allocation. */
void cp_buf_reset(struct cp_buf *b);
/* Hand the content to the caller (who frees it) and reset b to empty. Never NULL. */
char *cp_buf_take(struct cp_buf *b, size_t *len);
void cp_buf_free(struct cp_buf *b);

#endif
