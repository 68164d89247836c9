/* GET /v1/pipeline/runs (recent runs with step timings and outcome) and POST (start one in
 * the background: Bearer admin token, 202 with the run, 409 while one is going). */
#ifndef CP_PIPELINE_RUNS_H
#define CP_PIPELINE_RUNS_H

#include "handlers/handler.h"

cp_status cp_pipeline_runs_index(const struct cp_request *req, struct cp_reply *reply);
cp_status cp_pipeline_runs_create(const struct cp_request *req, struct cp_reply *reply);

#endif
