/* Structured logging to stderr: one line per event, as `text` (for terminals) or `json`
 * (for collectors). Each line carries the level, the time, the thread's request id when
 * one is set, a message and optional key=value fields. Thread-safe. */
#ifndef CP_LOG_H
#define CP_LOG_H

#include <stdbool.h>

enum cp_log_level { CP_LOG_DEBUG, CP_LOG_INFO, CP_LOG_WARN, CP_LOG_ERROR };
enum cp_log_format { CP_LOG_TEXT, CP_LOG_JSON };

void cp_log_init(enum cp_log_format format, enum cp_log_level min_level);
/* The request id included in this thread's lines; NULL clears it. The string is copied. */
void cp_log_set_request_id(const char *request_id);

/* fields: NULL, or a NULL-terminated list of alternating key and value strings. */
void cp_log_fields(enum cp_log_level level, const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cp_log(enum cp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cp_log_debug(...) cp_log(CP_LOG_DEBUG, __VA_ARGS__)
#define cp_log_info(...)  cp_log(CP_LOG_INFO, __VA_ARGS__)
#define cp_log_warn(...)  cp_log(CP_LOG_WARN, __VA_ARGS__)
#define cp_log_error(...) cp_log(CP_LOG_ERROR, __VA_ARGS__)

/* SIGHUP (`chartpulse serve`): when stderr, where the log goes, is a file, opens that file
 * again by name (after a rotation, a new file begins); a pipe or terminal is left alone. */
void cp_log_reopen(void);

#endif
