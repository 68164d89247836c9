/* The dashboard's files, from memory. */
#include "handlers/web.h"

#include <string.h>

#include "core/mem.h"

#define INDEX_NAME   "index.html"
#define FAVICON_NAME "favicon.svg"

/* Answers a copy of the embedded file name (the reply owns its text), with cache_control
 * (static) instead of the route's when not NULL. */
static cp_status reply_file(struct cp_reply *reply, const char *name, const char *cache_control)
{
    const struct cp_embedded_file *file = cp_embedded_find(cp_web_files, cp_web_files_count, name);
    if (!file)
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND, "no dashboard file '%.80s'", name);
    reply->cache_control = cache_control;
    return cp_reply_text(reply, cp_strndup((const char *)file->data, file->len), file->len,
                         cp_embedded_content_type(file->name));
}

cp_status cp_web_index(const struct cp_request *req, struct cp_reply *reply)
{
    (void)req;
    return reply_file(reply, INDEX_NAME, NULL);
}

cp_status cp_web_favicon(const struct cp_request *req, struct cp_reply *reply)
{
    (void)req;
    return reply_file(reply, FAVICON_NAME, NULL);
}

cp_status cp_web_asset(const struct cp_request *req, struct cp_reply *reply)
{
    const char *version = cp_request_param(req, "version");
    const char *path = cp_request_param(req, "path");
    if (!version || !path)
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND, "no dashboard file here");
    /* Another version is a page opened before an upgrade asking for its own files: the
     * current ones are the best answer there is, but must not be cached under a URL that
     * promises other bytes. */
    bool current = !strcmp(version, cp_web_version);
    return reply_file(reply, path, current ? CP_WEB_CACHE_IMMUTABLE : CP_WEB_CACHE_REVALIDATE);
}
