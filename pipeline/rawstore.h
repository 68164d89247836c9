/* The raw zone: objects stored byte-for-byte under Hive-style keys
 * (source=.../chart=.../region=.../date=.../name), in a local folder (file:///path) or an
 * S3 bucket (s3://bucket/prefix). Writes are atomic: a reader never sees half an object. */
#ifndef CP_RAWSTORE_H
#define CP_RAWSTORE_H

#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

struct cp_rawstore;

/* Opens the raw zone named by cfg->raw_uri. */
cp_status cp_rawstore_open(const struct cp_config *cfg, struct cp_rawstore **out, char *err,
                           size_t errlen);
void cp_rawstore_close(struct cp_rawstore *store);

/* Stores data under key (relative, '/'-separated, no "..") replacing any object there. */
cp_status cp_rawstore_put(struct cp_rawstore *store, const char *key, const void *data, size_t len,
                          char *err, size_t errlen);
/* Reads the object at key into a new buffer (caller frees *data; NUL-terminated). */
cp_status cp_rawstore_get(struct cp_rawstore *store, const char *key, char **data, size_t *len,
                          char *err, size_t errlen);

/* Builds the Hive-style key for an object. Empty partition values become "unknown".
 * sha256_hex is the content hash; its first 12 characters keep different contents with the
 * same file name apart. Caller frees. */
char *cp_rawstore_key(const char *source, const char *chart, const char *region, const char *date,
                      const char *sha256_hex, const char *original_name);

/* Hex SHA-256 of data into out (65 bytes with NUL). */
void cp_sha256_hex(const void *data, size_t len, char out[65]);

#endif
