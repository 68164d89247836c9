/* Allocation wrappers: every allocation in chartpulse goes through these, and they abort
 * with a message on out-of-memory, so callers never check for NULL. */
#ifndef CP_MEM_H
#define CP_MEM_H

#include <stddef.h>

void *cp_malloc(size_t size);
void *cp_calloc(size_t count, size_t size);
void *cp_realloc(void *ptr, size_t size);
/* Returns a new copy of s (NULL stays NULL); caller frees. */
char *cp_strdup(const char *s);
/* Returns a new NUL-terminated copy of the first n bytes of s; caller frees. */
char *cp_strndup(const char *s, size_t n);
/* Returns a new string built like printf; caller frees. */
char *cp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
