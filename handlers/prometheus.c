/* The Prometheus scrape endpoint. */
#include "prometheus.h"

#include "buf.h"
#include "log.h"
#include "metrics.h"

/* The exposition is about twenty lines per route; far below this. */
#define METRICS_TEXT_MAX (4u << 20)

cp_status cp_prometheus_show(const struct cp_request *req, struct cp_reply *reply)
{
    if (!req->metrics)
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "this server keeps no metrics");
    struct cp_buf text;
    cp_buf_init(&text, METRICS_TEXT_MAX);
    if (cp_metrics_render(req->metrics, &text) != CP_OK) {
        cp_buf_free(&text);
        cp_log_error("the metrics text exceeds %u bytes", METRICS_TEXT_MAX);
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "the metrics could not be rendered");
    }
    size_t len = 0;
    char *body = cp_buf_take(&text, &len);
    return cp_reply_text(reply, body, len, CP_METRICS_CONTENT_TYPE);
}
