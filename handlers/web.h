/* The dashboard: GET / (web/index.html), GET /assets/{version}/{path...} (every file of
 * web/, at any depth) and GET /favicon.ico (web/favicon.svg). All of web/ is compiled into
 * the binary (cmake/embed_assets.cmake, CMakeLists.txt): the server reads no files and a
 * path can only ever name an embedded file.
 *
 * Asset URLs carry the build's asset version, a hash of all of web/'s names and bytes,
 * which the build writes into index.html in place of __ASSET_VERSION__. So an asset under
 * the current version never changes and may be cached for a year, while / is revalidated
 * on every load and picks up a new build's version at once. */
#ifndef CP_WEB_H
#define CP_WEB_H

#include <stddef.h>

#include "handlers/embedded.h"
#include "handlers/handler.h"

/* The embedded files of web/, named by their path under it ("vendor/uPlot.min.css"), and
 * the asset version: 12 hex digits (generated). */
extern const struct cp_embedded_file cp_web_files[];
extern const size_t cp_web_files_count;
extern const char cp_web_version[];

/* Cache-Control of the dashboard's answers. */
#define CP_WEB_CACHE_REVALIDATE "no-cache"
#define CP_WEB_CACHE_IMMUTABLE  "public, max-age=31536000, immutable"

cp_status cp_web_index(const struct cp_request *req, struct cp_reply *reply);
/* Path: version, path. The file under any version (a page loaded before an upgrade still
 * gets the current files), immutable only under the build's own; 404 for a path that is
 * not an embedded file. */
cp_status cp_web_asset(const struct cp_request *req, struct cp_reply *reply);
cp_status cp_web_favicon(const struct cp_request *req, struct cp_reply *reply);

#endif
