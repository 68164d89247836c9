/* Structured logging to stderr in text or JSON. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/text.h"

/* A field value or message longer than this is cut (cp_text_safe's marker says so). */
#define LOG_VALUE_MAX 8192
/* A whole text line: the message, the request id and every field, each at most the above. */
#define LOG_LINE_MAX (1u << 20)

static enum cp_log_format log_format = CP_LOG_TEXT;
static enum cp_log_level log_min_level = CP_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char thread_request_id[64];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void cp_log_init(enum cp_log_format format, enum cp_log_level min_level)
{
    log_format = format;
    log_min_level = min_level;
}

void cp_log_set_request_id(const char *request_id)
{
    if (!request_id)
        thread_request_id[0] = '\0';
    else
        snprintf(thread_request_id, sizeof thread_request_id, "%s", request_id);
}

/* Anything logged may hold bytes a client chose (a path, a header, a parameter): a JSON
 * line gets them as valid UTF-8 (jansson refuses anything else, which used to drop the
 * field), escaped by cp_text_safe; see emit for text lines. */
static json_t *json_safe(const char *s)
{
    char *safe = cp_text_safe_dup(s, strlen(s), LOG_VALUE_MAX);
    json_t *value = json_string(safe);
    free(safe);
    return value;
}

static void emit(enum cp_log_level level, const char *const *fields, const char *fmt, va_list ap)
{
    if (level < log_min_level)
        return;
    char message[2048];
    vsnprintf(message, sizeof message, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

    if (log_format == CP_LOG_JSON) {
        json_t *line = json_object();
        json_object_set_new(line, "time", json_string(when));
        json_object_set_new(line, "level", json_string(level_names[level]));
        json_object_set_new(line, "msg", json_safe(message));
        if (thread_request_id[0])
            json_object_set_new(line, "request_id", json_string(thread_request_id));
        for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2)
            json_object_set_new(line, fields[i], json_safe(fields[i + 1]));
        char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        pthread_mutex_lock(&log_lock);
        fprintf(stderr, "%s\n", text ? text : "{}");
        pthread_mutex_unlock(&log_lock);
        free(text);
        json_decref(line);
        return;
    }
    /* A text line escapes control bytes too (cp_text_line): a newline decoded from a path's
     * %0A would otherwise write a forged line of its own. */
    struct cp_buf text;
    cp_buf_init(&text, LOG_LINE_MAX);
    (void)cp_buf_adds(&text, when);
    (void)cp_buf_adds(&text, " ");
    char level_name[8];
    snprintf(level_name, sizeof level_name, "%-5s ", level_names[level]);
    (void)cp_buf_adds(&text, level_name);
    cp_text_line(&text, message, strlen(message), LOG_VALUE_MAX);
    if (thread_request_id[0]) {
        (void)cp_buf_adds(&text, " request_id=");
        cp_text_line(&text, thread_request_id, strlen(thread_request_id), LOG_VALUE_MAX);
    }
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        (void)cp_buf_adds(&text, " ");
        (void)cp_buf_adds(&text, fields[i]);
        (void)cp_buf_adds(&text, "=");
        cp_text_line(&text, fields[i + 1], strlen(fields[i + 1]), LOG_VALUE_MAX);
    }
    size_t len = 0;
    char *line = cp_buf_take(&text, &len);
    pthread_mutex_lock(&log_lock);
    fwrite(line, 1, len, stderr);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
    free(line);
}

void cp_log_fields(enum cp_log_level level, const char *const *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, fields, fmt, ap);
    va_end(ap);
}

void cp_log(enum cp_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, NULL, fmt, ap);
    va_end(ap);
}

/* SIGHUP: the log goes to stderr; when that is a file (`serve 2>>FILE`, a service
 * manager's log file), the file is opened again by name, so a rotated log is left alone and
 * a new one begins. A pipe or terminal is kept as it is. */
void cp_log_reopen(void)
{
    struct stat st;
    char path[4096];
    ssize_t n = readlink("/proc/self/fd/2", path, sizeof path - 1);
    if (fstat(STDERR_FILENO, &st) != 0 || !S_ISREG(st.st_mode) || n <= 0) {
        cp_log_info("received SIGHUP: the log is not a file, nothing to reopen");
        return;
    }
    path[n] = '\0';
    const char *deleted = strstr(path, " (deleted)");
    if (deleted && !deleted[10])
        path[deleted - path] = '\0';
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        cp_log_warn("received SIGHUP: cannot reopen the log file %s: %s", path, strerror(errno));
        return;
    }
    fflush(stderr);
    dup2(fd, STDERR_FILENO); /* atomic for threads writing meanwhile */
    close(fd);
    cp_log_info("received SIGHUP: log file %s reopened", path);
}
