/* Spotify ids: the one parser of bare ids, spotify: URIs and open.spotify.com URLs. */
#include "core/spotify_id.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool id_span_valid(const char *s, size_t len)
{
    if (len != CP_SPOTIFY_ID_SIZE - 1)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_base62(s[i]))
            return false;
    return true;
}

bool cp_spotify_id_valid(const char *id)
{
    return id && id_span_valid(id, strlen(id));
}

static cp_status take_id(const char *s, size_t len, char out[CP_SPOTIFY_ID_SIZE])
{
    if (!id_span_valid(s, len))
        return CP_ERR_INVALID;
    memcpy(out, s, len);
    out[len] = '\0';
    return CP_OK;
}

/* spotify:<kind>:<id>, spotify:user:<user>:<kind>:<id> */
static cp_status parse_uri(const char *s, size_t len, const char *kind,
                           char out[CP_SPOTIFY_ID_SIZE])
{
    const char *last = NULL, *before = NULL;
    for (const char *p = s; p < s + len; p++) {
        if (*p == ':') {
            before = last;
            last = p;
        }
    }
    if (!last || !before)
        return CP_ERR_INVALID;
    size_t kind_len = (size_t)(last - before - 1);
    if (kind_len != strlen(kind) || strncmp(before + 1, kind, kind_len))
        return CP_ERR_INVALID;
    if (before != s + 7 && strncmp(s, "spotify:user:", 13))
        return CP_ERR_INVALID;
    return take_id(last + 1, (size_t)(s + len - last - 1), out);
}

/* [https://]open.spotify.com/[intl-xx/][embed/]<kind>/<id>[/][?query][#fragment] */
static cp_status parse_url(const char *s, size_t len, const char *kind,
                           char out[CP_SPOTIFY_ID_SIZE])
{
    static const char *const prefixes[] = {"https://open.spotify.com/", "http://open.spotify.com/",
                                           "open.spotify.com/"};
    const char *p = NULL;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (len > n && !strncasecmp(s, prefixes[i], n)) {
            p = s + n;
            break;
        }
    }
    if (!p)
        return CP_ERR_INVALID;
    const char *end = s + len;
    for (const char *q = p; q < end; q++) {
        if (*q == '?' || *q == '#') {
            end = q;
            break;
        }
    }
    if (end - p > 5 && !strncmp(p, "intl-", 5)) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash)
            return CP_ERR_INVALID;
        p = slash + 1;
    }
    if (end - p > 6 && !strncmp(p, "embed/", 6))
        p += 6;
    size_t kind_len = strlen(kind);
    if ((size_t)(end - p) <= kind_len || strncmp(p, kind, kind_len) || p[kind_len] != '/')
        return CP_ERR_INVALID;
    p += kind_len + 1;
    if (end > p && end[-1] == '/')
        end--;
    return take_id(p, (size_t)(end - p), out);
}

cp_status cp_spotify_parse_id(const char *text, const char *kind, char out[CP_SPOTIFY_ID_SIZE])
{
    if (!text || !kind)
        return CP_ERR_INVALID;
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    if (len > 8 && !strncmp(text, "spotify:", 8))
        return parse_uri(text, len, kind, out);
    if (memchr(text, '/', len))
        return parse_url(text, len, kind, out);
    return take_id(text, len, out);
}
