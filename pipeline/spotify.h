/* The Spotify Web API client (SPEC §5): client-credentials token cached in memory and in
 * Redis, one keep-alive connection reused for every call, a timeout on every call, retries
 * with backoff on 429/5xx honouring Retry-After up to a cap. Ids: core/spotify_id.h. */
#ifndef CP_SPOTIFY_H
#define CP_SPOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/spotify_id.h"
#include "core/status.h"

/* Exit status of a command that stopped cleanly because Spotify asked it to (Retry-After
 * past --max-wait, or a quota exceeded): what was done is kept, the rest is for the next
 * run. EX_TEMPFAIL of sysexits.h: "try again later". */
#define CP_SPOTIFY_EXIT_STOPPED 75

/* Default cap on a Retry-After the client waits out, seconds (--max-wait). */
#define CP_SPOTIFY_DEFAULT_MAX_WAIT 60.0

/* Parses a Retry-After value: delta-seconds or an HTTP-date (RFC 9110), relative to now
 * (seconds since the epoch). Returns false when absent or malformed. */
bool cp_spotify_parse_retry_after(const char *value, double now, double *seconds);

/* The backoff before retry number attempt (0-based) after a 5xx: exponential from
 * base seconds, doubled each time, capped at cap, scaled by jitter in [0, 1) to a value
 * in [half, full] of the step ("equal jitter"). */
double cp_spotify_backoff(int attempt, double base, double cap, double jitter);

struct cp_spotify_settings {
    const char *api_url;       /* SPOTIFY_API_URL, e.g. https://api.spotify.com/v1 */
    const char *accounts_url;  /* SPOTIFY_ACCOUNTS_URL; the token is at /api/token */
    const char *client_id;     /* secret: never logged */
    const char *client_secret; /* secret: never logged */
    const char *redis_url;     /* NULL: the token is cached in memory only */
    double max_wait;           /* longest Retry-After waited out, seconds */
    long timeout;              /* whole-call timeout, seconds; 0 = default (30) */
    long connect_timeout;      /* seconds; 0 = default (10) */
};

/* Counters for the summary line. */
struct cp_spotify_stats {
    long requests; /* HTTP requests sent, token requests included */
    long retries;  /* requests sent again after a 429, 5xx or network error */
    long token_fetches;
    long token_refreshes_on_401;
    double waited; /* seconds slept before retries */
};

/* One answer. Owned by the caller: cp_spotify_reply_cleanup. */
struct cp_spotify_reply {
    long http_status; /* the final HTTP status; 0 when there was none */
    json_t *body;     /* the parsed body (new reference), NULL when empty or not JSON */
    char *raw;        /* the body bytes as received, NUL-terminated; NULL when none */
    size_t raw_len;
};

void cp_spotify_reply_cleanup(struct cp_spotify_reply *reply);

struct cp_spotify;

/* Creates a client (no network I/O yet). Copies what it keeps of settings. Fails with
 * CP_ERR_INVALID when the client id or secret is missing. */
cp_status cp_spotify_new(const struct cp_spotify_settings *settings, struct cp_spotify **out,
                         char *err, size_t errlen);
void cp_spotify_free(struct cp_spotify *sp);

/* GET path, relative to the API base ("/tracks?ids=...") or an absolute URL under it (a
 * paging object's `next`), with a valid token, retrying as SPEC §5 says. Returns:
 *   CP_OK               a 2xx answer with a JSON body
 *   CP_ERR_NOT_FOUND    404
 *   CP_ERR_UNAUTHORIZED the client credentials were rejected, or a fresh token was
 *   CP_ERR_UPSTREAM     any other error answer (reply->http_status says which, e.g. 403),
 *                       a body that is not JSON, or 5xx that outlasted the retries;
 *                       also when the client has stopped (see cp_spotify_stop_reason)
 *   CP_ERR_IO           the host could not be reached or timed out (err names the host)
 *   CP_ERR_INVALID      an absolute URL that is not under the API base
 * err receives one line saying what failed; reply is filled in every case. */
cp_status cp_spotify_get(struct cp_spotify *sp, const char *path, struct cp_spotify_reply *reply,
                         char *err, size_t errlen);

/* Non-NULL once Spotify asked the client to stop: a Retry-After longer than max_wait, a
 * 429 with reason QUOTA_EXCEEDED, or rate limiting that would not end. The text says
 * why, in one line; the client then refuses every further call. */
const char *cp_spotify_stop_reason(const struct cp_spotify *sp);

/* The counters so far. */
const struct cp_spotify_stats *cp_spotify_stats(const struct cp_spotify *sp);

/* "host[:port]" of an http(s) URL into out (for messages). */
void cp_spotify_url_host(const char *url, char *out, size_t outlen);

#endif
