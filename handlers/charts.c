/* The chart endpoint: validate the series and date, read the chart, shape it as JSON. */
#include "charts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "charts_repo.h"
#include "log.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     1000

static bool valid_region(const char *s)
{
    if (!strcmp(s, "global"))
        return true;
    return strlen(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z';
}

/* Strict YYYY-MM-DD naming a real calendar day. */
static bool valid_date(const char *s)
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
    int last = days_in_month[month - 1] + (month == 2 && leap);
    return day <= last;
}

/* A decimal integer in [min, max], digits only. */
static bool parse_int(const char *s, long min, long max, int *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

/* value when it is one of the NULL-terminated choices, else NULL. */
static const char *one_of(const char *value, const char *const *choices)
{
    for (size_t i = 0; choices[i]; i++)
        if (!strcmp(value, choices[i]))
            return choices[i];
    return NULL;
}

static json_t *nullable_int(bool present, long long v)
{
    return present ? json_integer(v) : json_null();
}

static json_t *entry_json(const struct cp_chart_entry *e)
{
    json_t *entry = json_object();
    json_object_set_new(entry, "rank", json_integer(e->rank));
    json_object_set_new(entry, "track",
                        json_pack("{s:s, s:s}", "id", e->track_id, "name", e->track_name));
    json_object_set_new(entry, "artists", json_string(e->artist_names));
    json_object_set_new(entry, "streams", nullable_int(e->has_streams, e->streams));
    json_object_set_new(entry, "previous_rank",
                        nullable_int(e->has_previous_rank, e->previous_rank));
    json_object_set_new(entry, "movement", e->movement ? json_string(e->movement) : json_null());
    json_object_set_new(entry, "peak_rank", nullable_int(e->has_peak_rank, e->peak_rank));
    json_object_set_new(entry, "days_on_chart",
                        nullable_int(e->has_days_on_chart, e->days_on_chart));
    return entry;
}

cp_status cp_charts_show(const struct cp_request *req, struct cp_reply *reply)
{
    static const char *const periods[] = {"daily", "weekly", NULL};
    static const char *const kinds[] = {"regional", "viral", NULL};

    /* validate */
    const char *region = cp_request_param(req, "region");
    const char *date = cp_request_param(req, "date");
    if (!region || !valid_region(region))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "region: must be 'global' or a two-letter lower-case country "
                                "code (got '%.40s')",
                                region ? region : "");
    if (!date || (strcmp(date, "latest") && !valid_date(date)))
        return cp_reply_problem(
            reply, CP_ERR_INVALID,
            "date: must be a calendar date YYYY-MM-DD or 'latest' (got '%.40s')", date ? date : "");
    const char *period_text = cp_request_query(req, "period");
    const char *period = period_text ? one_of(period_text, periods) : "daily";
    if (!period)
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "period: must be 'daily' or 'weekly' (got '%.40s')", period_text);
    const char *kind_text = cp_request_query(req, "kind");
    const char *kind = kind_text ? one_of(kind_text, kinds) : "regional";
    if (!kind)
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "kind: must be 'regional' or 'viral' (got '%.40s')", kind_text);
    const char *limit_text = cp_request_query(req, "limit");
    int limit = LIMIT_DEFAULT;
    if (limit_text && !parse_int(limit_text, 1, LIMIT_MAX, &limit))
        return cp_reply_problem(reply, CP_ERR_INVALID,
                                "limit: must be an integer from 1 to %d (got '%.40s')", LIMIT_MAX,
                                limit_text);

    /* repo */
    bool latest = !strcmp(date, "latest");
    struct cp_chart_query q = {
        .chart_kind = kind,
        .region = region,
        .period = period,
        .date = latest ? NULL : date,
        .limit = limit,
    };
    PGconn *db = cp_request_db(req); /* only now: a bad parameter answers 400, never 503 */
    if (!db)
        return cp_reply_problem(reply, CP_ERR_DB, "the database is unavailable");
    struct cp_chart chart;
    char err[512];
    cp_status st = cp_charts_repo_find(db, &q, &chart, err, sizeof err);
    if (st == CP_ERR_NOT_FOUND) {
        if (latest)
            return cp_reply_problem(reply, st, "no %s %s chart for region '%s' has been loaded",
                                    kind, period, region);
        return cp_reply_problem(reply, st, "no %s %s chart for region '%s' on %s", kind, period,
                                region, date);
    }
    if (st != CP_OK) {
        cp_log_error("chart query failed: %s", err);
        return cp_reply_problem(reply, st, "the chart could not be read from the database");
    }

    /* build JSON */
    json_t *entries = json_array();
    for (size_t i = 0; i < chart.count; i++)
        json_array_append_new(entries, entry_json(&chart.entries[i]));
    json_t *body = json_object();
    json_object_set_new(body, "region", json_string(region));
    json_object_set_new(body, "period", json_string(period));
    json_object_set_new(body, "chart_kind", json_string(kind));
    json_object_set_new(body, "date", json_string(chart.date));
    json_object_set_new(body, "previous_date",
                        chart.previous_date[0] ? json_string(chart.previous_date) : json_null());
    json_object_set_new(body, "entries", entries);
    json_object_set_new(body, "count", json_integer((json_int_t)chart.count));
    cp_charts_repo_cleanup(&chart);

    /* respond */
    return cp_reply_json(reply, body);
}
