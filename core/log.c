/* Structured logging to stderr in text or JSON. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

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
        json_object_set_new(line, "msg", json_string(message));
        if (thread_request_id[0])
            json_object_set_new(line, "request_id", json_string(thread_request_id));
        for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2)
            json_object_set_new(line, fields[i], json_string(fields[i + 1]));
        char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        pthread_mutex_lock(&log_lock);
        fprintf(stderr, "%s\n", text ? text : "{}");
        pthread_mutex_unlock(&log_lock);
        free(text);
        json_decref(line);
        return;
    }
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s %-5s %s", when, level_names[level], message);
    if (thread_request_id[0])
        fprintf(stderr, " request_id=%s", thread_request_id);
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2)
        fprintf(stderr, " %s=%s", fields[i], fields[i + 1]);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
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
