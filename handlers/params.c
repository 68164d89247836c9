/* Shared REST parameter validation with problem details naming the parameter. */
#include "handlers/params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/number.h"
#include "core/series.h"

static cp_status region_checked(struct cp_reply *reply, const char *region)
{
    if (cp_region_known(region))
        return CP_OK;
    return cp_reply_problem(reply, CP_ERR_INVALID,
                            "region: must be 'global' or a lower-case ISO 3166-1 country code "
                            "chartpulse knows, e.g. 'us' (got '%.40s')",
                            region);
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
    cp_status st = region_checked(reply, region);
    if (st == CP_OK)
        *out = region;
    return st;
}

cp_status cp_param_region_filter(const struct cp_request *req, struct cp_reply *reply,
                                 const char **out)
{
    const char *region = cp_request_query(req, "region");
    cp_status st = region ? region_checked(reply, region) : CP_OK;
    if (st == CP_OK)
        *out = region;
    return st;
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
    return cp_param_choice(req, reply, "period", cp_periods, cp_periods[0], out);
}

cp_status cp_param_kind(const struct cp_request *req, struct cp_reply *reply, const char **out)
{
    return cp_param_choice(req, reply, "kind", cp_chart_kinds, cp_chart_kinds[0], out);
}

cp_status cp_param_int(const struct cp_request *req, struct cp_reply *reply, const char *name,
                       long min, long max, long fallback, long *out)
{
    const char *value = cp_request_query(req, name);
    if (!value) {
        *out = fallback;
        return CP_OK;
    }
    long long v;
    if (!cp_number_parse(value, min, max, &v))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "%s: must be an integer from %ld to %ld (got '%.40s')", name, min,
                                max, value);
    *out = (long)v;
    return CP_OK;
}

cp_status cp_param_limit(const struct cp_request *req, struct cp_reply *reply, int *out)
{
    long limit = CP_LIMIT_DEFAULT;
    cp_status st = cp_param_int(req, reply, "limit", 1, CP_LIMIT_MAX, CP_LIMIT_DEFAULT, &limit);
    if (st == CP_OK)
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
    if (!cp_date_valid(value))
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
    if (!cp_date_valid(value))
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
