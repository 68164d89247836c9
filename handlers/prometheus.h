/* GET /metrics: the server's metrics (server/metrics.h) for Prometheus to scrape. Named
 * after the format rather than the path, so it does not shadow server/metrics.h. */
#ifndef CP_PROMETHEUS_H
#define CP_PROMETHEUS_H

#include "router.h"

/* 200 with the text exposition format (version 0.0.4) of req->metrics. Needs no database
 * (route db CP_DB_NONE); never cached. CP_ERR_INTERNAL when the server keeps no metrics or
 * the text outgrows its cap. */
cp_status cp_prometheus_show(const struct cp_request *req, struct cp_reply *reply);

#endif
