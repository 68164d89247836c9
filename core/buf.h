/* A growing byte buffer with a named cap (after curl's dynbuf). The content is always
 * NUL-terminated so it can be used as a string. */
#ifndef CP_BUF_H
#define CP_BUF_H

#include <stddef.h>

#include "core/status.h"

struct cp_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t max; /* appends that would grow len past max fail with CP_ERR_TOO_LARGE */
};

void cp_buf_init(struct cp_buf *b, size_t max);
cp_status cp_buf_add(struct cp_buf *b, const void *data, size_t len);
cp_status cp_buf_adds(struct cp_buf *b, const char *s);
cp_status cp_buf_addf(struct cp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the content, keep the allocation. */
void cp_buf_reset(struct cp_buf *b);
/* Hand the content to the caller (who frees it) and reset b to empty. Never NULL. */
char *cp_buf_take(struct cp_buf *b, size_t *len);
void cp_buf_free(struct cp_buf *b);

#endif
