/* GET /openapi.json (the contract, openapi/openapi.yaml as JSON), GET /docs (an HTML page
 * rendering it with Swagger UI) and GET /docs/{asset} (the renderer's script and styles).
 * Everything is compiled into the binary (cmake/embed_assets.cmake), so the docs need no
 * files beside the binary and no network. */
#ifndef CP_DOCS_H
#define CP_DOCS_H

#include <stddef.h>

#include "handlers/embedded.h"
#include "handlers/handler.h"

/* The embedded files (generated): "openapi.json", "swagger-ui-bundle.js", "swagger-ui.css".
 * A renderer file missing at build time is left out; /docs then says so and links to
 * /openapi.json. */
extern const struct cp_embedded_file cp_docs_assets[];
extern const size_t cp_docs_assets_count;

cp_status cp_docs_openapi(const struct cp_request *req, struct cp_reply *reply);
cp_status cp_docs_page(const struct cp_request *req, struct cp_reply *reply);
/* Path: asset, one of the renderer's embedded files; 404 for anything else. */
cp_status cp_docs_asset(const struct cp_request *req, struct cp_reply *reply);

#endif
