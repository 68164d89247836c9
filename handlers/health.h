/* GET /healthz (liveness, never touches the database) and GET /readyz (readiness: the
 * database answers and every migration this binary carries is applied). */
#ifndef CP_HEALTH_H
#define CP_HEALTH_H

#include "handlers/handler.h"

/* 200 {"status":"ok"}. Needs no database (route db CP_DB_NONE). */
cp_status cp_health_live(const struct cp_request *req, struct cp_reply *reply);
/* 200 {"status":"ready","database":"ok","migrations":"current"}, or CP_ERR_DB (503) with a
 * detail saying what is not ready. Calls cp_request_db after validating. */
cp_status cp_health_ready(const struct cp_request *req, struct cp_reply *reply);

#endif
