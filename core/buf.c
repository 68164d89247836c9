/* Growing byte buffer with a cap. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void cp_buf_init(struct cp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
    b->failed = CP_OK;
}

cp_status cp_buf_status(const struct cp_buf *b)
{
    return b->failed;
}

static cp_status grow(struct cp_buf *b, size_t extra)
{
    if (b->failed != CP_OK)
        return b->failed;
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = CP_ERR_TOO_LARGE;
        return b->failed;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return CP_OK;
    size_t alloc = b->alloc ? b->alloc : 256;
    while (alloc < need)
        alloc *= 2;
    b->data = cp_realloc(b->data, alloc);
    b->alloc = alloc;
    return CP_OK;
}

cp_status cp_buf_add(struct cp_buf *b, const void *data, size_t len)
{
    cp_status st = grow(b, len);
    if (st != CP_OK)
        return st;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return CP_OK;
}

cp_status cp_buf_adds(struct cp_buf *b, const char *s)
{
    return cp_buf_add(b, s, strlen(s));
}

cp_status cp_buf_addf(struct cp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->failed != CP_OK)
        return b->failed;
    if (n < 0) {
        b->failed = CP_ERR_INTERNAL;
        return b->failed;
    }
    cp_status st = grow(b, (size_t)n);
    if (st != CP_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CP_OK;
}

void cp_buf_reset(struct cp_buf *b)
{
    b->len = 0;
    b->failed = CP_OK;
    if (b->data)
        b->data[0] = '\0';
}

char *cp_buf_take(struct cp_buf *b, size_t *len)
{
    char *p = b->data ? b->data : cp_strdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->failed = CP_OK;
    return p;
}

void cp_buf_free(struct cp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->failed = CP_OK;
}
