/* Validation of the query and path parameters every REST resource shares (SPEC §6):
 * region, period, kind, dates, ranges and limit, by the rules of core/ (series.h, date.h). Each
 * function reads one parameter, applies its default when it is absent, and on a bad value fills the
 * reply with a 400 problem whose detail starts with the parameter's name ("limit: must be ..."),
 * returning CP_ERR_INVALID; handlers just return that status. */
#ifndef CP_PARAMS_H
#define CP_PARAMS_H

#include <stdbool.h>

#include "handlers/handler.h"

#define CP_LIMIT_DEFAULT 100
#define CP_LIMIT_MAX     1000

/* The region: path parameter `region` if the route has one, else query `region`
 * (default "global"), one of core/series.h's regions. *out is borrowed from the request. */
cp_status cp_param_region(const struct cp_request *req, struct cp_reply *reply, const char **out);
/* Query `region` as an optional filter: *out is NULL when absent. */
cp_status cp_param_region_filter(const struct cp_request *req, struct cp_reply *reply,
                                 const char **out);
/* Query `period`: daily (default) | weekly. *out is a static string. */
cp_status cp_param_period(const struct cp_request *req, struct cp_reply *reply, const char **out);
/* Query `kind`: regional (default) | viral. *out is a static string. */
cp_status cp_param_kind(const struct cp_request *req, struct cp_reply *reply, const char **out);
/* Query `limit`: 1..CP_LIMIT_MAX, default CP_LIMIT_DEFAULT. */
cp_status cp_param_limit(const struct cp_request *req, struct cp_reply *reply, int *out);
/* Query parameter `name` as a date; *out is NULL when absent (borrowed otherwise). */
cp_status cp_param_date(const struct cp_request *req, struct cp_reply *reply, const char *name,
                        const char **out);
/* Query `date`: a date or `latest` (the default); *out is NULL for latest. */
cp_status cp_param_date_or_latest(const struct cp_request *req, struct cp_reply *reply,
                                  const char **out);
/* Queries `from` and `to` (either may be absent: NULL), refusing from > to. */
cp_status cp_param_range(const struct cp_request *req, struct cp_reply *reply, const char **from,
                         const char **to);
/* Query parameter `name` constrained to choices (NULL-terminated); fallback when absent.
 * *out points into choices (static) or is fallback. */
cp_status cp_param_choice(const struct cp_request *req, struct cp_reply *reply, const char *name,
                          const char *const *choices, const char *fallback, const char **out);
/* Query parameter `name` as an integer in [min, max], fallback when absent. */
cp_status cp_param_int(const struct cp_request *req, struct cp_reply *reply, const char *name,
                       long min, long max, long fallback, long *out);

#endif
