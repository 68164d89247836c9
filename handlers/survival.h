/* GET /v1/survival: the chart survival curves of one series by debut band, and the
 * expected remaining time on chart of the tracks on its latest chart in their debut run
 * (core.survival_curve and core.survival_remaining, written by `chartpulse refresh`;
 * docs/methodology-survival-trends.md says how they are estimated).
 *
 * Query: region (default global), period (daily|weekly, default daily), kind
 * (regional|viral, default regional). Answers (200):
 *
 *   {"region": "global", "period": "weekly", "chart_kind": "regional",
 *    "window_from": "2016-12-29", "window_to": "2019-05-02",
 *    "bands": [{"debut_band": "1-10", "spells": 22, "events": 12, "censored": 10,
 *               "median_charts": 37 | null, "curve": [{"charts": 1, "at_risk": 22,
 *               "events": 1, "censored": 0, "survival": 0.954545}, ...]}, ...],
 *    "remaining": [{"track": {"id", "name"}, "artists", "debut_band", "charts_so_far",
 *                   "expected_remaining": 12.3 | null, "restricted": true}, ...]}
 *
 * bands holds the bands that have spells, in band order; remaining is by expected
 * remaining time, longest first. Errors: CP_ERR_INVALID naming the parameter,
 * CP_ERR_NOT_FOUND when the series has no chart, CP_ERR_DB. */
#ifndef CP_SURVIVAL_HANDLER_H
#define CP_SURVIVAL_HANDLER_H

#include "handlers/handler.h"

cp_status cp_survival_show(const struct cp_request *req, struct cp_reply *reply);

#endif
