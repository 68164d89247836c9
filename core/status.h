/* The one status enum of chartpulse, its messages, and its mapping to HTTP statuses and
 * RFC 9457 problem types. Handlers return a cp_status; only http.c picks HTTP codes. */
#ifndef CP_STATUS_H
#define CP_STATUS_H

typedef enum {
    CP_OK = 0,
    CP_ERR_INVALID,      /* a parameter or input value is malformed */
    CP_ERR_NOT_FOUND,    /* the named thing does not exist */
    CP_ERR_METHOD,       /* the route exists, the method does not */
    CP_ERR_UNAUTHORIZED, /* a missing or wrong credential */
    CP_ERR_CONFLICT,     /* the request contradicts current state */
    CP_ERR_TOO_LARGE,    /* a body, buffer or file exceeds its cap */
    CP_ERR_FORMAT,       /* an input file is in no format we read */
    CP_ERR_DB,           /* the database failed or is unreachable */
    CP_ERR_IO,           /* a file, network or storage operation failed */
    CP_ERR_UPSTREAM,     /* a remote service answered with an error */
    CP_ERR_INTERNAL,     /* a bug: an invariant did not hold */
    CP_ERR_BUSY,         /* too much of this work is queued already: retry later */
    CP_ERR_RATE_LIMITED, /* this client sent more than its share: retry later */
    CP_STATUS_COUNT
} cp_status;

/* A short, static, human-readable description of st. */
const char *cp_strerror(cp_status st);
/* The HTTP status code a response carrying st gets. */
int cp_status_http(cp_status st);
/* The RFC 9457 problem title for st (static). */
const char *cp_status_title(cp_status st);
/* The RFC 9457 problem type URI for st (static). */
const char *cp_status_type(cp_status st);

#endif
