/* Query strings: parsed from the raw request target and checked against the route. */
#include "server/query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/percent.h"
#include "core/text.h"
#include "server/router.h"

/* A name or value quoted in a problem detail: short, and always printable text. */
#define QUOTE_MAX 64
/* The list of accepted names in an "unknown parameter" detail. */
#define ACCEPTED_MAX 512

static bool listed(const char *const *accepted, const char *name, size_t len)
{
    for (size_t i = 0; accepted && accepted[i]; i++)
        if (strlen(accepted[i]) == len && !memcmp(accepted[i], name, len))
            return true;
    return false;
}

static char *unknown_detail(const char *const *accepted, const char *name, size_t len)
{
    char *quoted = cp_text_safe_dup(name, len, QUOTE_MAX);
    struct cp_buf names;
    cp_buf_init(&names, ACCEPTED_MAX);
    for (size_t i = 0; accepted && accepted[i]; i++) {
        if (i)
            (void)cp_buf_adds(&names, ", ");
        (void)cp_buf_adds(&names, accepted[i]);
    }
    char *list = cp_buf_take(&names, NULL);
    char *detail =
        *list ? cp_asprintf("unknown query parameter '%s' (accepted here: %s)", quoted, list)
              : cp_asprintf("unknown query parameter '%s' (this resource takes none)", quoted);
    free(list);
    free(quoted);
    return detail;
}

/* Checks and stores one `name[=value]` piece (n bytes at p). */
static cp_status take_pair(const char *p, size_t n, const char *const *accepted,
                           struct cp_param *out, size_t *count, char **detail)
{
    const char *eq = memchr(p, '=', n);
    size_t raw_name_len = eq ? (size_t)(eq - p) : n;
    size_t name_len = 0;
    char *name = cp_percent_decode(p, raw_name_len, true, &name_len);
    cp_status st = CP_ERR_INVALID;
    if (!listed(accepted, name, name_len)) {
        *detail = unknown_detail(accepted, name, name_len);
        goto done;
    }
    for (size_t i = 0; i < *count; i++) {
        if (!strcmp(out[i].name, name)) {
            *detail = cp_asprintf("parameter '%s' given twice", name);
            goto done;
        }
    }
    size_t value_len = 0, bad;
    char *value =
        eq ? cp_percent_decode(eq + 1, n - raw_name_len - 1, true, &value_len) : cp_strdup("");
    if (memchr(value, '\0', value_len))
        *detail = cp_asprintf("%s: contains a NUL byte", name);
    else if ((bad = cp_utf8_invalid_at(value, value_len)) != value_len)
        *detail = cp_asprintf("%s: not valid UTF-8 at offset %zu (byte 0x%02x)", name, bad,
                              (unsigned char)value[bad]); /* the loader's rejects say the same */
    else
        st = CP_OK;
    if (st != CP_OK) {
        free(value);
        goto done;
    }
    out[*count].name = name;
    out[*count].value = value;
    (*count)++;
    return CP_OK;
done:
    free(name);
    return st;
}

cp_status cp_query_parse(const char *raw, const char *const *accepted, struct cp_param *out,
                         size_t max, size_t *count, char **detail)
{
    *count = 0;
    *detail = NULL;
    if (!raw || accepted == cp_query_any)
        return CP_OK;
    size_t pairs = 0;
    for (const char *p = raw; *p; p += strcspn(p, "&"), p += *p == '&')
        if (*p != '&')
            pairs++;
    if (pairs > max) {
        *detail = cp_asprintf("more than %zu query parameters", max);
        return CP_ERR_INVALID;
    }
    for (const char *p = raw; *p;) {
        size_t n = strcspn(p, "&");
        if (n) {
            cp_status st = take_pair(p, n, accepted, out, count, detail);
            if (st != CP_OK)
                return st;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return CP_OK;
}
