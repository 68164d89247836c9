/* The API reference: the embedded OpenAPI document and a Swagger UI page over it. */
#include "handlers/docs.h"

#include <string.h>

#include "core/mem.h"

#define CONTENT_TYPE_HTML "text/html; charset=utf-8"

/* Relative URLs, so the page also works behind a proxy that mounts the API under a prefix. */
static const char PAGE[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>chartpulse API reference</title>\n"
    "<link rel=\"stylesheet\" href=\"docs/swagger-ui.css\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"api\"><noscript>The API reference needs JavaScript; the contract itself is "
    "at <a href=\"openapi.json\">/openapi.json</a>.</noscript></div>\n"
    "<script src=\"docs/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "window.ui = SwaggerUIBundle({url: 'openapi.json', dom_id: '#api', deepLinking: true});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

/* Served when the build had no renderer (node_modules missing). */
static const char PAGE_WITHOUT_RENDERER[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>chartpulse API reference</title></head>\n"
    "<body>\n"
    "<h1>chartpulse API reference</h1>\n"
    "<p>This build has no renderer built in (it was built without node_modules: run "
    "<code>scripts/env.sh deps</code> and rebuild). The contract is at "
    "<a href=\"openapi.json\">/openapi.json</a>.</p>\n"
    "</body>\n"
    "</html>\n";

static const struct cp_embedded_file *find_asset(const char *name)
{
    return cp_embedded_find(cp_docs_assets, cp_docs_assets_count, name);
}

/* Answers a copy of an embedded file (the reply owns its text). */
static cp_status reply_asset(struct cp_reply *reply, const struct cp_embedded_file *asset)
{
    return cp_reply_text(reply, cp_strndup((const char *)asset->data, asset->len), asset->len,
                         cp_embedded_content_type(asset->name));
}

cp_status cp_docs_openapi(const struct cp_request *req, struct cp_reply *reply)
{
    (void)req;
    const struct cp_embedded_file *spec = find_asset("openapi.json");
    if (!spec)
        return cp_reply_problem(reply, CP_ERR_INTERNAL, "this build has no OpenAPI document");
    return reply_asset(reply, spec);
}

cp_status cp_docs_page(const struct cp_request *req, struct cp_reply *reply)
{
    (void)req;
    bool renderer = find_asset("swagger-ui-bundle.js") && find_asset("swagger-ui.css");
    const char *page = renderer ? PAGE : PAGE_WITHOUT_RENDERER;
    size_t len = renderer ? sizeof PAGE - 1 : sizeof PAGE_WITHOUT_RENDERER - 1;
    return cp_reply_text(reply, cp_strndup(page, len), len, CONTENT_TYPE_HTML);
}

cp_status cp_docs_asset(const struct cp_request *req, struct cp_reply *reply)
{
    const char *name = cp_request_param(req, "asset");
    const struct cp_embedded_file *asset =
        name && strcmp(name, "openapi.json") ? find_asset(name) : NULL;
    if (!asset)
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND, "no docs asset '%.60s'", name ? name : "");
    return reply_asset(reply, asset);
}
