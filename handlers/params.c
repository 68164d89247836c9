/* Shared REST parameter validation with problem details naming the parameter. */
#include "params.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cp_param_region_valid(const char *s)
{
    if (!strcmp(s, "global"))
        return true;
    return strlen(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z';
}

bool cp_param_date_valid(const char *s)
{
    static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (year < 1 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days_in_month[month - 1] + (month == 2 && leap);
}

bool cp_param_int_valid(const char *s, long min, long max, long *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

cp_status cp_param_region(const struct cp_request *req, struct cp_reply *reply, const char **out)
{
    const char *region = cp_request_param(req, "region");
    if (!region)
        region = cp_request_query(req, "region");
    if (!region) {
        *out = "global";
        return CP_OK;
    }
    if (!cp_param_region_valid(region))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "region: must be 'global' or a two-letter lower-case country "
                                "code (got '%.40s')",
                                region);
    *out = region;
    return CP_OK;
}

cp_status cp_param_choice(const struct cp_request *req, struct cp_reply *reply, const char *name,
                          const char *const *choices, const char *fallback, const char **out)
{
    const char *value = cp_request_query(req, name);
    if (!value) {
        *out = fallback;
        return CP_OK;
    }
    for (size_t i = 0; choices[i]; i++) {
        if (!strcmp(value, choices[i])) {
            *out = choices[i];
            return CP_OK;
        }
    }
    char allowed[256] = "";
    for (size_t i = 0; choices[i]; i++) {
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof allowed - used, "%s'%s'", i ? ", " : "", choices[i]);
    }
    return cp_reply_problem(reply, CP_ERR_INVALID, "%s: must be one of %s (got '%.40s')", name,
                            allowed, value);
}

cp_status cp_param_period(const struct cp_request *req, struct cp_reply *reply, const char **out)
{
    static const char *const periods[] = {"daily", "weekly", NULL};
    return cp_param_choice(req, reply, "period", periods, "daily", out);
}

cp_status cp_param_kind(const struct cp_request *req, struct cp_reply *reply, const char **out)
{
    static const char *const kinds[] = {"regional", "viral", NULL};
    return cp_param_choice(req, reply, "kind", kinds, "regional", out);
}

cp_status cp_param_int(const struct cp_request *req, struct cp_reply *reply, const char *name,
                       long min, long max, long fallback, long *out)
{
    const char *value = cp_request_query(req, name);
    if (!value) {
        *out = fallback;
        return CP_OK;
    }
    if (!cp_param_int_valid(value, min, max, out))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "%s: must be an integer from %ld to %ld (got '%.40s')", name, min,
                                max, value);
    return CP_OK;
}

cp_status cp_param_limit(const struct cp_request *req, struct cp_reply *reply, int *out)
{
    long limit;
    cp_status st = cp_param_int(req, reply, "limit", 1, CP_LIMIT_MAX, CP_LIMIT_DEFAULT, &limit);
    *out = (int)limit;
    return st;
}

cp_status cp_param_date(const struct cp_request *req, struct cp_reply *reply, const char *name,
                        const char **out)
{
    const char *value = cp_request_query(req, name);
    *out = NULL;
    if (!value)
        return CP_OK;
    if (!cp_param_date_valid(value))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "%s: must be a calendar date YYYY-MM-DD (got '%.40s')", name,
                                value);
    *out = value;
    return CP_OK;
}

cp_status cp_param_date_or_latest(const struct cp_request *req, struct cp_reply *reply,
                                  const char **out)
{
    const char *value = cp_request_query(req, "date");
    *out = NULL;
    if (!value || !strcmp(value, "latest"))
        return CP_OK;
    if (!cp_param_date_valid(value))
        return cp_reply_problem(
            reply, CP_ERR_INVALID,
            "date: must be a calendar date YYYY-MM-DD or 'latest' (got '%.40s')", value);
    *out = value;
    return CP_OK;
}

cp_status cp_param_range(const struct cp_request *req, struct cp_reply *reply, const char **from,
                         const char **to)
{
    cp_status st = cp_param_date(req, reply, "from", from);
    if (st == CP_OK)
        st = cp_param_date(req, reply, "to", to);
    if (st == CP_OK && *from && *to && strcmp(*from, *to) > 0)
        return cp_reply_problem(reply, CP_ERR_INVALID, "from: %s is after to (%s)", *from, *to);
    return st;
}
