/* The status table: message, HTTP status, problem title and type for each cp_status. */
#include "core/status.h"

struct status_info {
    const char *message;
    int http;
    const char *title;
    const char *type;
};

static const struct status_info status_table[CP_STATUS_COUNT] = {
    [CP_OK] = {"success", 200, "OK", "about:blank"},
    [CP_ERR_INVALID] = {"invalid value", 400, "Bad Request",
                        "https://chartpulse.dev/problems/invalid-parameter"},
    [CP_ERR_NOT_FOUND] = {"not found", 404, "Not Found",
                          "https://chartpulse.dev/problems/not-found"},
    [CP_ERR_METHOD] = {"method not allowed", 405, "Method Not Allowed",
                       "https://chartpulse.dev/problems/method-not-allowed"},
    [CP_ERR_UNAUTHORIZED] = {"unauthorized", 401, "Unauthorized",
                             "https://chartpulse.dev/problems/unauthorized"},
    [CP_ERR_CONFLICT] = {"conflict", 409, "Conflict", "https://chartpulse.dev/problems/conflict"},
    [CP_ERR_TOO_LARGE] = {"too large", 413, "Content Too Large",
                          "https://chartpulse.dev/problems/too-large"},
    [CP_ERR_FORMAT] = {"unrecognised input format", 422, "Unprocessable Content",
                       "https://chartpulse.dev/problems/unrecognised-format"},
    [CP_ERR_DB] = {"database unavailable", 503, "Service Unavailable",
                   "https://chartpulse.dev/problems/database-unavailable"},
    [CP_ERR_IO] = {"input/output error", 500, "Internal Server Error",
                   "https://chartpulse.dev/problems/io-error"},
    [CP_ERR_UPSTREAM] = {"upstream service error", 502, "Bad Gateway",
                         "https://chartpulse.dev/problems/upstream-error"},
    [CP_ERR_INTERNAL] = {"internal error", 500, "Internal Server Error",
                         "https://chartpulse.dev/problems/internal-error"},
    [CP_ERR_BUSY] = {"busy", 503, "Service Unavailable", "https://chartpulse.dev/problems/busy"},
    [CP_ERR_RATE_LIMITED] = {"rate limited", 429, "Too Many Requests",
                             "https://chartpulse.dev/problems/rate-limited"},
};

static const struct status_info *info(cp_status st)
{
    if ((int)st < 0 || st >= CP_STATUS_COUNT)
        st = CP_ERR_INTERNAL;
    return &status_table[st];
}

const char *cp_strerror(cp_status st)
{
    return info(st)->message;
}

int cp_status_http(cp_status st)
{
    return info(st)->http;
}

const char *cp_status_title(cp_status st)
{
    return info(st)->title;
}

const char *cp_status_type(cp_status st)
{
    return info(st)->type;
}
