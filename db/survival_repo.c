/* Reading a series' chart survival (reporting.survival_curves, reporting.survival_remaining,
 * reporting.series_window): the curves per debut band and the tracks now charting. */
#include "db/survival_repo.h"

#include <string.h>

#include "db/pgresult.h"

/* The whole body in one statement, built by PostgreSQL: the curves are a few hundred rows
 * at most and every number is already stored. */
static const char SURVIVAL_SQL[] =
    "with w as (select window_from, window_to from reporting.series_window "
    "           where chart_kind = $1 and region = $2 and period = $3), "
    "bands as ("
    "  select debut_band, sum(events) as events, max(at_risk) as spells, "
    "         sum(censored) as censored, "
    "         min(charts) filter (where survival <= 0.5) as median_charts, "
    "         json_agg(json_build_object('charts', charts, 'at_risk', at_risk, 'events', events,"
    "                  'censored', censored, 'survival', round(survival::numeric, 6)) "
    "                  order by charts) as curve "
    "  from reporting.survival_curves where chart_kind = $1 and region = $2 and period = $3 "
    "  group by debut_band), "
    "rem as ("
    "  select json_agg(json_build_object('track', json_build_object('id', track_id, "
    "                  'name', track_name), 'artists', artist_names, 'debut_band', debut_band,"
    "                  'charts_so_far', charts_so_far, 'expected_remaining', "
    "                  round(expected_remaining::numeric, 3), 'restricted', restricted) "
    "                  order by expected_remaining desc nulls last, track_id) as rows "
    "  from reporting.survival_remaining where chart_kind = $1 and region = $2 and period = $3)"
    "select json_build_object('window_from', w.window_from, 'window_to', w.window_to, "
    "  'bands', coalesce((select json_agg(json_build_object('debut_band', debut_band, "
    "           'spells', spells, 'events', events, 'censored', censored, "
    "           'median_charts', median_charts, 'curve', curve) "
    "           order by case debut_band when '1-10' then 1 when '11-50' then 2 else 3 end) "
    "           from bands), '[]'), "
    "  'remaining', coalesce((select rows from rem), '[]'))::text "
    "from w";

cp_status cp_survival_repo_show(PGconn *db, const char *kind, const char *region,
                                const char *period, PGresult **out, char *err, size_t errlen)
{
    const char *params[] = {kind, region, period};
    return cp_pg_rows(db, SURVIVAL_SQL, 3, params, out, err, errlen);
}

cp_status cp_survival_repo_spells(PGconn *db, PGresult **out, char *err, size_t errlen)
{
    return cp_pg_rows(db,
                      "select chart_kind, region, period, debut_band, track_id, charts, "
                      "ongoing, censored from reporting.chart_spells "
                      "where spell_no = 1 and not left_truncated and debut_band is not null "
                      "order by chart_kind, region, period, debut_band",
                      0, NULL, out, err, errlen);
}

cp_status cp_survival_repo_clear(PGconn *db, char *err, size_t errlen)
{
    cp_status st = cp_pg_exec(db, "delete from core.survival_curve", 0, NULL, err, errlen);
    return st == CP_OK ? cp_pg_exec(db, "delete from core.survival_remaining", 0, NULL, err, errlen)
                       : st;
}

cp_status cp_survival_repo_store(PGconn *db, const char *const series[4],
                                 const char *const curve[5], const char *const remaining[4],
                                 char *err, size_t errlen)
{
    const char *p[9];
    memcpy(p, series, 4 * sizeof *p);
    memcpy(p + 4, curve, 5 * sizeof *p);
    cp_status st = cp_pg_exec(
        db,
        "insert into core.survival_curve (chart_kind, region, period, debut_band, charts, "
        "at_risk, events, censored, survival) "
        "select $1, $2, $3, $4, * from unnest($5::int[], $6::int[], $7::int[], $8::int[], "
        "$9::float8[])",
        9, p, err, errlen);
    if (st != CP_OK)
        return st;
    memcpy(p + 4, remaining, 4 * sizeof *p);
    return cp_pg_exec(db,
                      "insert into core.survival_remaining (chart_kind, region, period, "
                      "debut_band, track_id, charts_so_far, expected_remaining, restricted) "
                      "select $1, $2, $3, $4, * from unnest($5::text[], $6::int[], $7::float8[], "
                      "$8::bool[])",
                      8, p, err, errlen);
}
