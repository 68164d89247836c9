/* Lookup and content types of the files compiled into the binary. */
#include "handlers/embedded.h"

#include <stdbool.h>
#include <string.h>

const struct cp_embedded_file *cp_embedded_find(const struct cp_embedded_file *files, size_t count,
                                                const char *name)
{
    for (size_t i = 0; name && i < count; i++)
        if (files[i].name && !strcmp(files[i].name, name))
            return &files[i];
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t len = strlen(s), n = strlen(suffix);
    return len >= n && !strcmp(s + len - n, suffix);
}

const char *cp_embedded_content_type(const char *name)
{
    static const struct {
        const char *suffix;
        const char *type;
    } types[] = {
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".map", "application/json; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".txt", "text/plain; charset=utf-8"},
        /* license files vendored beside a library: uPlot.LICENSE, LICENSE */
        {"LICENSE", "text/plain; charset=utf-8"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ends_with(name, types[i].suffix))
            return types[i].type;
    return "application/octet-stream";
}
