/* Files compiled into the binary at build time (cmake/embed_assets.cmake): the /docs
 * renderer and contract (docs.h) and the dashboard in web/ (web.h). Looked up by name only,
 * so nothing a client sends can reach the file system. */
#ifndef CP_EMBEDDED_H
#define CP_EMBEDDED_H

#include <stddef.h>

/* One embedded file; data holds len bytes plus a NUL. */
struct cp_embedded_file {
    const char *name; /* as given to the build: "swagger-ui.css", "vendor/uPlot.min.css" */
    const unsigned char *data;
    size_t len;
};

/* The file of files[0..count) named exactly name, or NULL. */
const struct cp_embedded_file *cp_embedded_find(const struct cp_embedded_file *files, size_t count,
                                                const char *name);
/* The Content-Type for a file name, by its extension (a static string);
 * application/octet-stream when the extension is not known. */
const char *cp_embedded_content_type(const char *name);

#endif
