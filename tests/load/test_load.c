/* The load test (docs/security.md, overload): a real `chartpulse serve` under 1,000
 * keep-alive connections on loopback, with a refresh that changes answers in the middle of
 * the run, every answer checked against the database. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/mem.h"
#include "tests/testutil.h"

/* The run. Clients come from SOURCE_ADDRESSES loopback addresses (127.0.0.2 and up), four
 * connections each, so the server's per-address connection limit and per-client rate limit
 * (CHARTPULSE_CONNECTIONS_PER_IP, CHARTPULSE_RATE_LIMIT, passed below) judge them as the
 * many clients they stand for. */
#define CONNECTIONS      1000
#define SOURCE_ADDRESSES 250
#define LOAD_SECONDS     20.0
#define REFRESH_AT_S     6.0
/* After `chartpulse refresh` has exited (its new cache generation is in Redis), servers
 * read the generation every second (cache_refresh_ms); an answer to a request sent later
 * than this must be the new one. */
#define SETTLE_S 3.0
/* Every request sent gets its answer within this, or the run fails. */
#define ANSWER_TIMEOUT_S 30.0
/* 503 (with Retry-After) is the overload answer the server gives when a request would wait
 * past the read queue's budget (1 s): shedding load is its job here, and how much it sheds
 * depends on the machine (9% of 14,211 answers with the test build's sanitizers and another
 * suite running beside it on 2 cores). A run where more than this fraction is shed fails:
 * most clients must still be served. */
#define MAX_503_FRACTION 0.25
/* Caps of the client's buffers: one answer, and the answers recorded. */
#define ANSWER_MAX  ((size_t)8 << 20)
#define RECORDS_MAX ((size_t)4 << 20)
/* The server's settings for the run: the documented defaults, written out so that the
 * test states what it ran under. */
#define CONNECTIONS_PER_IP "64"
#define RATE_LIMIT         "50/s,200"

#define DATABASE "chartpulse_test_load"

enum target_kind { TARGET_CHART, TARGET_HISTORY, TARGET_LEADERBOARD };

/* One URL the clients ask for, with what the database says it must answer before and after
 * the refresh (a canonical projection, see project_answer; "404" for a chart not loaded). */
struct target {
    enum target_kind kind;
    char *path;
    char region[16];
    char date[16]; /* chart: a date or "" for latest; history: its from, or "" */
    char track[32];
    char from[16], to[16];
    int limit;
    uint64_t before, after; /* hashes of the expected projections */
    char *etag;             /* the last ETag seen for it, for If-None-Match */
};

static struct target *targets;
static size_t target_count, target_cap;

/* One answer, kept small: the run records every one and judges them at the end, when the
 * database's answer after the refresh is known. */
struct record {
    uint32_t target;
    uint16_t status;
    uint8_t flags;
    float sent_s;    /* since the run started */
    float latency_s; /* until the whole answer was read */
    uint64_t body;   /* hash of the answer's projection (200), 0 otherwise */
    uint64_t etag;   /* hash of its ETag */
    uint64_t inm;    /* hash of the If-None-Match sent, 0 for none */
};
#define RECORD_RETRY_AFTER 1u

static struct record *records;
static size_t record_count;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t hash_text(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1; /* 0 means none */
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- what the database says ------------------------------------------------------- */

static const char CHART_SQL[] =
    "with d as (select coalesce($2::date, (select max(chart_date) from core.chart"
    "   where chart_kind = 'regional' and region = $1 and period = 'daily')) as day)"
    " select case when not exists (select 1 from core.chart c, d where c.chart_kind = 'regional'"
    "   and c.region = $1 and c.period = 'daily' and c.chart_date = d.day) then '404'"
    " else (select to_char(day, 'YYYY-MM-DD') from d) || ';' || coalesce((select string_agg("
    "   e.rank || ':' || e.track_id || ':' || coalesce(e.streams::text, 'null'), ',' order by"
    "   e.rank) from (select e.* from reporting.chart_entries e, d where e.chart_kind = 'regional'"
    "   and e.region = $1 and e.period = 'daily' and e.chart_date = d.day order by e.rank"
    "   limit $3::integer) e), '') end";

static const char HISTORY_SQL[] =
    "select case when not exists (select 1 from core.track where track_id = $1) then '404'"
    " else coalesce((select string_agg(to_char(chart_date, 'YYYY-MM-DD') || ':' || rank || ':'"
    "   || coalesce(streams::text, 'null'), ',' order by chart_date)"
    "   from reporting.chart_entries where chart_kind = 'regional' and region = 'global'"
    "   and period = 'daily' and track_id = $1"
    "   and chart_date >= coalesce($2::date, '-infinity'::date)), '') end";

/* The parameterised leaderboard is the database's own answer (reporting.artist_leaderboard,
 * tested against hand-computed numbers by the pgTAP suite). */
static const char LEADERBOARD_SQL[] =
    "select $1 || ':' || $2 || ';' || coalesce((select string_agg(leaderboard_rank || ':' ||"
    "   artist_id || ':' || coalesce(streams::text, 'null'), ',' order by leaderboard_rank)"
    "   from reporting.artist_leaderboard('global', 'daily', $1::date, $2::date, 'streams',"
    "   'all', $3::integer, 'regional')), '')";

static uint64_t expected_answer(PGconn *db, const struct target *t)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", t->limit);
    const char *sql = NULL;
    const char *params[3] = {NULL, NULL, NULL};
    int n = 0;
    switch (t->kind) {
    case TARGET_CHART:
        sql = CHART_SQL;
        params[0] = t->region;
        params[1] = t->date[0] ? t->date : NULL;
        params[2] = limit;
        n = 3;
        break;
    case TARGET_HISTORY:
        sql = HISTORY_SQL;
        params[0] = t->track;
        params[1] = t->date[0] ? t->date : NULL;
        n = 2;
        break;
    case TARGET_LEADERBOARD:
        sql = LEADERBOARD_SQL;
        params[0] = t->from;
        params[1] = t->to;
        params[2] = limit;
        n = 3;
        break;
    }
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", t->path,
                  PQresultErrorMessage(res));
    uint64_t h = hash_text(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return h;
}

/* The answer's body reduced to what the SQL above computes, in the same text. */
static bool project_answer(const struct target *t, const char *body, size_t len, struct cp_buf *out)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    if (!doc)
        return false;
    bool ok = true;
    cp_buf_reset(out);
    json_t *rows = NULL;
    const char *row_key = NULL;
    switch (t->kind) {
    case TARGET_CHART:
        cp_buf_addf(out, "%s;", json_string_value(json_object_get(doc, "date")));
        rows = json_object_get(doc, "entries");
        break;
    case TARGET_HISTORY:
        rows = json_object_get(doc, "points");
        break;
    case TARGET_LEADERBOARD:
        cp_buf_addf(out, "%s:%s;", json_string_value(json_object_get(doc, "from")),
                    json_string_value(json_object_get(doc, "to")));
        rows = json_object_get(doc, "rows");
        row_key = "artist";
        break;
    }
    if (!json_is_array(rows)) {
        json_decref(doc);
        return false;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *streams = json_object_get(row, "streams");
        char streams_text[32] = "null";
        if (json_is_integer(streams))
            snprintf(streams_text, sizeof streams_text, "%lld",
                     (long long)json_integer_value(streams));
        else if (!json_is_null(streams))
            ok = false;
        if (i)
            cp_buf_add(out, ",", 1);
        if (t->kind == TARGET_HISTORY)
            cp_buf_addf(out, "%s:%lld:%s", json_string_value(json_object_get(row, "date")),
                        (long long)json_integer_value(json_object_get(row, "rank")), streams_text);
        else
            cp_buf_addf(out, "%lld:%s:%s",
                        (long long)json_integer_value(json_object_get(row, "rank")),
                        json_string_value(json_object_get(
                            json_object_get(row, row_key ? row_key : "track"), "id")),
                        streams_text);
    }
    json_decref(doc);
    return ok;
}

/* ---- the URLs ---------------------------------------------------------------------- */

static struct target *add_target(enum target_kind kind)
{
    if (target_count == target_cap) {
        target_cap = target_cap ? target_cap * 2 : 256;
        targets = cp_realloc(targets, target_cap * sizeof *targets);
    }
    struct target *t = &targets[target_count++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    return t;
}

/* Charts of every loaded date and the one the refresh adds (404 until then), and latest, at
 * three limits; the history of tracks on the newest charts, whole and from several dates (so
 * that some URLs are still uncached late in the run); leaderboards over ranges that end on
 * the new date. */
static void build_targets(PGconn *db, const char *new_date)
{
    static const char *const regions[] = {"global", "us"};
    static const int chart_limits[] = {10, 50, 200};
    PGresult *dates = PQexec(db, "select distinct to_char(chart_date, 'YYYY-MM-DD') from "
                                 "core.chart where period = 'daily' order by 1");
    ck_assert_int_eq(PQresultStatus(dates), PGRES_TUPLES_OK);
    int date_count = PQntuples(dates);
    ck_assert_int_gt(date_count, 7);
    for (size_t r = 0; r < 2; r++)
        for (int d = -1; d <= date_count; d++)
            for (size_t l = 0; l < 3; l++) {
                struct target *t = add_target(TARGET_CHART);
                snprintf(t->region, sizeof t->region, "%s", regions[r]);
                snprintf(t->date, sizeof t->date, "%s",
                         d < 0             ? ""
                         : d == date_count ? new_date
                                           : PQgetvalue(dates, d, 0));
                t->limit = chart_limits[l];
                t->path = cp_asprintf("/v1/charts/%s/%s?limit=%d", t->region,
                                      t->date[0] ? t->date : "latest", t->limit);
            }

    PGresult *tracks =
        PQexec(db, "select track_id from reporting.chart_entries where chart_kind = 'regional'"
                   " and region = 'global' and period = 'daily' and chart_date ="
                   " (select max(chart_date) from core.chart where region = 'global')"
                   " order by rank limit 60");
    ck_assert_int_eq(PQresultStatus(tracks), PGRES_TUPLES_OK);
    ck_assert_int_eq(PQntuples(tracks), 60);
    for (int i = 0; i < PQntuples(tracks); i++)
        for (int d = -1; d < date_count; d += 2) {
            struct target *t = add_target(TARGET_HISTORY);
            snprintf(t->track, sizeof t->track, "%s", PQgetvalue(tracks, i, 0));
            if (d >= 0)
                snprintf(t->date, sizeof t->date, "%s", PQgetvalue(dates, d, 0));
            t->path = t->date[0] ? cp_asprintf("/v1/tracks/%s/history?from=%s", t->track, t->date)
                                 : cp_asprintf("/v1/tracks/%s/history", t->track);
        }

    static const int board_limits[] = {10, 25, 100};
    for (int d = 0; d < date_count; d += 3)
        for (size_t l = 0; l < 3; l++) {
            struct target *t = add_target(TARGET_LEADERBOARD);
            snprintf(t->from, sizeof t->from, "%s", PQgetvalue(dates, d, 0));
            snprintf(t->to, sizeof t->to, "%s", new_date);
            t->limit = board_limits[l];
            t->path = cp_asprintf("/v1/artists/leaderboard?from=%s&to=%s&limit=%d", t->from, t->to,
                                  t->limit);
        }
    PQclear(tracks);
    PQclear(dates);
}

/* ---- the clients ------------------------------------------------------------------- */

enum conn_state { CONN_CONNECTING, CONN_WAITING, CONN_CLOSED };

struct client {
    int fd;
    int index;
    enum conn_state state;
    uint32_t target;
    double sent;
    uint64_t inm;
    struct cp_buf request;
    size_t request_sent;
    struct cp_buf answer;
};

struct run {
    int port;
    int epfd;
    double started;
    double deadline; /* no new requests after this */
    struct client *clients;
    struct cp_buf projection;
    /* counts */
    unsigned long connects_failed, closed_mid_answer, malformed, reconnects, sent;
    unsigned long x_cache_hit_local, x_cache_hit_redis, x_cache_miss;
};

static void client_close(struct run *run, struct client *c)
{
    if (c->fd >= 0) {
        epoll_ctl(run->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = CONN_CLOSED;
}

static bool client_connect(struct run *run, struct client *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_msg(c->fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(c->index % SOURCE_ADDRESSES));
    ck_assert_msg(bind(c->fd, (struct sockaddr *)&src, sizeof src) == 0, "bind: %s",
                  strerror(errno));
    int on = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)run->port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
        run->connects_failed++;
        close(c->fd);
        c->fd = -1;
        return false;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
    ck_assert_int_eq(epoll_ctl(run->epfd, EPOLL_CTL_ADD, c->fd, &ev), 0);
    c->state = CONN_CONNECTING;
    return true;
}

static void client_send(struct run *run, struct client *c)
{
    c->target = (uint32_t)(rng_next() % target_count);
    struct target *t = &targets[c->target];
    cp_buf_reset(&c->request);
    cp_buf_reset(&c->answer);
    cp_buf_addf(&c->request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", t->path);
    c->inm = 0;
    /* a quarter of the requests revalidate what an earlier answer said */
    if (t->etag && rng_next() % 4 == 0) {
        cp_buf_addf(&c->request, "If-None-Match: %s\r\n", t->etag);
        c->inm = hash_text(t->etag, strlen(t->etag));
    }
    cp_buf_add(&c->request, "\r\n", 2);
    c->request_sent = 0;
    c->sent = now_s();
    c->state = CONN_WAITING;
    run->sent++;
    ssize_t n = send(c->fd, c->request.data, c->request.len, MSG_NOSIGNAL);
    if (n > 0)
        c->request_sent = (size_t)n;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP |
                                       (c->request_sent < c->request.len ? (unsigned)EPOLLOUT : 0u),
                             .data.ptr = c};
    epoll_ctl(run->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool header_value(const char *head, const char *name, char *out, size_t outlen)
{
    const char *eol = strstr(head, "\r\n"); /* past the status line */
    return eol && tu_http_header(eol + 2, name, out, outlen);
}

/* Records a complete answer. Returns whether the server keeps the connection open. */
static bool client_answered(struct run *run, struct client *c, const char *head, size_t head_len,
                            const char *body, size_t body_len, int status)
{
    struct target *t = &targets[c->target];
    ck_assert_msg(record_count < RECORDS_MAX, "more than %zu answers", RECORDS_MAX);
    struct record *r = &records[record_count++];
    memset(r, 0, sizeof *r);
    r->target = c->target;
    r->status = (uint16_t)status;
    r->sent_s = (float)(c->sent - run->started);
    r->latency_s = (float)(now_s() - c->sent);
    r->inm = c->inm;
    char value[256];
    if (header_value(head, "Retry-After", value, sizeof value))
        r->flags |= RECORD_RETRY_AFTER;
    if (header_value(head, "ETag", value, sizeof value)) {
        r->etag = hash_text(value, strlen(value));
        if (status == 200 && (!t->etag || strcmp(t->etag, value))) {
            free(t->etag);
            t->etag = cp_strdup(value);
        }
    }
    if (header_value(head, "X-Cache", value, sizeof value)) {
        if (!strcmp(value, "hit-local"))
            run->x_cache_hit_local++;
        else if (!strcmp(value, "hit-redis"))
            run->x_cache_hit_redis++;
        else if (!strcmp(value, "miss"))
            run->x_cache_miss++;
    }
    if (status == 200) {
        if (project_answer(t, body, body_len, &run->projection))
            r->body = hash_text(run->projection.data, run->projection.len);
        else
            run->malformed++;
    } else if (status == 404) {
        r->body = hash_text("404", 3);
    }
    (void)head_len;
    return !(header_value(head, "Connection", value, sizeof value) && !strcasecmp(value, "close"));
}

/* Reads what arrived; handles every complete answer in the buffer. */
static void client_read(struct run *run, struct client *c)
{
    for (;;) {
        char chunk[65536];
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) { /* closed by the server */
            if (c->state == CONN_WAITING)
                run->closed_mid_answer++;
            client_close(run, c);
            return;
        }
        ck_assert_msg(cp_buf_add(&c->answer, chunk, (size_t)n) == CP_OK, "an answer over %zu bytes",
                      ANSWER_MAX);
    }
    if (c->state != CONN_WAITING)
        return;
    cp_buf_add(&c->answer, "", 1); /* for the string functions; not counted below */
    c->answer.len--;
    const char *data = c->answer.data;
    const char *end = strstr(data, "\r\n\r\n");
    if (!end)
        return;
    size_t head_len = (size_t)(end - data) + 4;
    int status = 0;
    if (sscanf(data, "HTTP/1.1 %d", &status) != 1) {
        run->malformed++;
        client_close(run, c);
        return;
    }
    char *head = cp_strndup(data, head_len);
    char length_text[32];
    size_t body_len = 0;
    if (status != 304 && status != 204) {
        if (!header_value(head, "Content-Length", length_text, sizeof length_text)) {
            run->malformed++; /* the server sends every answer with its length */
            free(head);
            client_close(run, c);
            return;
        }
        body_len = strtoul(length_text, NULL, 10);
    }
    if (c->answer.len < head_len + body_len) {
        free(head);
        return;
    }
    bool keep = client_answered(run, c, head, head_len, data + head_len, body_len, status);
    free(head);
    c->state = CONN_CONNECTING; /* idle */
    if (!keep) {
        client_close(run, c);
        return;
    }
    if (now_s() < run->deadline)
        client_send(run, c);
}

static void client_event(struct run *run, struct client *c, unsigned events)
{
    if (c->state == CONN_CONNECTING && c->request.len == 0 && (events & EPOLLOUT)) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            run->connects_failed++;
            client_close(run, c);
            return;
        }
        client_send(run, c);
        return;
    }
    if (c->state == CONN_WAITING && (events & EPOLLOUT) && c->request_sent < c->request.len) {
        ssize_t n = send(c->fd, c->request.data + c->request_sent, c->request.len - c->request_sent,
                         MSG_NOSIGNAL);
        if (n > 0)
            c->request_sent += (size_t)n;
        if (c->request_sent == c->request.len) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
            epoll_ctl(run->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        client_read(run, c);
}

/* ---- the server and the refresh ----------------------------------------------------- */

static char *log_path(const char *what)
{
    return cp_asprintf("/tmp/chartpulse-load-%s.%d.log", what, (int)getpid());
}

/* The port the server printed in its "listening on" line, waiting up to 30 s. */
static int server_port(pid_t pid, const char *log)
{
    for (int i = 0; i < 300; i++) {
        char *text = NULL;
        struct stat sb;
        if (stat(log, &sb) == 0 && sb.st_size > 0)
            text = tu_read_file(log, NULL);
        const char *at = text ? strstr(text, "listening on http://127.0.0.1:") : NULL;
        if (at) {
            int port = atoi(at + strlen("listening on http://127.0.0.1:"));
            free(text);
            return port;
        }
        free(text);
        int wstatus;
        ck_assert_msg(waitpid(pid, &wstatus, WNOHANG) == 0, "chartpulse serve exited (see %s)",
                      log);
        usleep(100 * 1000);
    }
    ck_abort_msg("chartpulse serve did not start within 30 s (see %s)", log);
    return -1;
}

static long peak_rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

/* The refresh mid-run: the held-back day is ingested and loaded, then `chartpulse refresh`
 * rebuilds the aggregates and bumps the cache generation; each step a process of its own. */
struct refresh {
    const char *dir;
    int step; /* 0 not started, 1..3 running ingest, load, refresh; 4 done */
    pid_t pid;
    int errfd;
    char *log;
    double started, done;
};

static void refresh_next(struct refresh *rf)
{
    const char *ingest[] = {"ingest", rf->dir, NULL};
    const char *load[] = {"load", NULL};
    const char *refresh[] = {"refresh", NULL};
    const char *const *steps[] = {ingest, load, refresh};
    rf->step++;
    if (rf->step <= 3)
        rf->pid = tu_spawn_cli(steps[rf->step - 1], NULL, rf->errfd);
}

static void refresh_poll(struct refresh *rf)
{
    if (rf->step < 1 || rf->step > 3)
        return;
    int wstatus;
    if (waitpid(rf->pid, &wstatus, WNOHANG) != rf->pid)
        return;
    ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
                  "the mid-run refresh failed at step %d (see %s)", rf->step, rf->log);
    refresh_next(rf);
    if (rf->step == 4)
        rf->done = now_s();
}

/* ---- judging the answers ------------------------------------------------------------ */

/* What an answer to a request sent at sent_s may be: before the refresh started only the
 * old answer, after it has settled only the new one, either in between. */
static bool answer_allowed(const struct target *t, uint64_t body, double sent_s, double start_s,
                           double settle_s)
{
    if (sent_s < start_s)
        return body == t->before;
    if (sent_s >= settle_s)
        return body == t->after;
    return body == t->before || body == t->after;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Hash table from (target, ETag hash) to the body hash first seen with it. */
struct etag_slot {
    uint64_t key;
    uint64_t body;
};
#define ETAG_SLOTS ((size_t)1 << 18)

static struct etag_slot *etag_find(struct etag_slot *slots, uint32_t target, uint64_t etag)
{
    uint64_t key = etag ^ ((uint64_t)target * 0x9e3779b97f4a7c15ull);
    if (!key)
        key = 1;
    for (size_t i = key & (ETAG_SLOTS - 1);; i = (i + 1) & (ETAG_SLOTS - 1))
        if (slots[i].key == key || !slots[i].key) {
            slots[i].key = key;
            return &slots[i];
        }
}

/* Lets the test open sockets sockets (and the server's share of the limit beside them). */
static void raise_nofile(int sockets)
{
    struct rlimit nofile;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &nofile), 0);
    if (nofile.rlim_cur < 4096) {
        nofile.rlim_cur = nofile.rlim_max < 4096 ? nofile.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    ck_assert_msg(nofile.rlim_cur >= (rlim_t)sockets + 200,
                  "cannot open %d sockets (RLIMIT_NOFILE %llu)", sockets,
                  (unsigned long long)nofile.rlim_cur);
}

START_TEST(a_thousand_connections_through_a_refresh_get_right_answers)
{
    raise_nofile(CONNECTIONS);

    /* data: generated charts, the newest day held back for the refresh */
    char *owner_url = tu_serve_fresh_database(DATABASE);
    char *dir = cp_asprintf("/tmp/chartpulse-load-data.%d", (int)getpid());
    char *later = cp_asprintf("%s-later", dir);
    char *cmd = cp_asprintf("rm -rf '%s' '%s' && mkdir -p '%s'", dir, later, later);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    const char *generate[] = {"generate", "--out", dir,      "--regions", "2",
                              "--days",   "21",    "--seed", "13",        NULL};
    char *err = NULL;
    ck_assert_msg(tu_run_cli(generate, NULL, &err) == 0, "generate: %s", err);
    free(err);
    PGconn *db = PQconnectdb(owner_url);
    ck_assert_msg(PQstatus(db) == CONNECTION_OK, "%s", PQerrorMessage(db));
    /* the newest date of the generated files, from their names (…-daily-YYYY-MM-DD.csv) */
    char *newest = NULL;
    {
        char *list = cp_asprintf("ls '%s' | sed -n 's/.*-daily-\\([0-9-]*\\)\\.csv$/\\1/p' | "
                                 "sort | tail -n 1",
                                 dir);
        FILE *p = popen(list, "r");
        ck_assert_ptr_nonnull(p);
        char line[32] = "";
        ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
        pclose(p);
        free(list);
        line[strcspn(line, "\n")] = '\0';
        ck_assert_int_eq(strlen(line), 10);
        newest = cp_strdup(line);
        char *move = cp_asprintf("mv '%s'/*-daily-%s.csv '%s'/", dir, newest, later);
        ck_assert_int_eq(system(move), 0);
        free(move);
    }
    const char *ingest[] = {"ingest", dir, NULL};
    const char *load[] = {"load", NULL};
    const char *refresh_cmd[] = {"refresh", NULL};
    const char *const *setup[] = {ingest, load, refresh_cmd};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_msg(tu_run_cli(setup[i], NULL, &err) == 0, "%s: %s", setup[i][0], err);
        free(err);
    }

    build_targets(db, newest);
    for (size_t i = 0; i < target_count; i++)
        targets[i].before = expected_answer(db, &targets[i]);

    /* the server, a process of its own */
    char *server_log = log_path("serve");
    int server_errfd = open(server_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(server_errfd, 0);
    const char *serve[] = {"serve", "--listen", "127.0.0.1:0", NULL};
    const char *serve_env[] = {"CHARTPULSE_CONNECTIONS_PER_IP=" CONNECTIONS_PER_IP,
                               "CHARTPULSE_RATE_LIMIT=" RATE_LIMIT, "CHARTPULSE_LOG_FORMAT=text",
                               NULL};
    pid_t server = tu_spawn_cli(serve, serve_env, server_errfd);
    close(server_errfd);

    struct refresh rf = {.dir = later, .errfd = -1};
    rf.log = log_path("refresh");
    rf.errfd = open(rf.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(rf.errfd, 0);

    struct run run;
    memset(&run, 0, sizeof run);
    run.port = server_port(server, server_log);
    run.epfd = epoll_create1(EPOLL_CLOEXEC);
    ck_assert_int_ge(run.epfd, 0);
    cp_buf_init(&run.projection, ANSWER_MAX);
    records = cp_calloc(RECORDS_MAX, sizeof *records);
    run.clients = cp_calloc(CONNECTIONS, sizeof *run.clients);
    run.started = now_s();
    run.deadline = run.started + LOAD_SECONDS;
    for (int i = 0; i < CONNECTIONS; i++) {
        struct client *c = &run.clients[i];
        c->index = i;
        c->fd = -1;
        cp_buf_init(&c->request, TU_SHORT_MAX);
        cp_buf_init(&c->answer, ANSWER_MAX);
        client_connect(&run, c);
    }

    int open_at_peak = 0;
    struct epoll_event events[256];
    for (;;) {
        double t = now_s();
        if (rf.step == 0 && t - run.started >= REFRESH_AT_S) {
            rf.started = t;
            refresh_next(&rf);
        }
        refresh_poll(&rf);
        int waiting = 0, open = 0;
        for (int i = 0; i < CONNECTIONS; i++) {
            struct client *c = &run.clients[i];
            waiting += c->state == CONN_WAITING;
            open += c->fd >= 0;
            /* a connection the server closed between answers is opened again */
            if (c->fd < 0 && t < run.deadline) {
                run.reconnects++;
                c->request.len = 0;
                client_connect(&run, c);
            }
        }
        if (open > open_at_peak)
            open_at_peak = open;
        if (t >= run.deadline && (waiting == 0 || t >= run.deadline + ANSWER_TIMEOUT_S) &&
            (rf.step == 0 || rf.step == 4))
            break;
        int n = epoll_wait(run.epfd, events, 256, 50);
        for (int i = 0; i < n; i++)
            client_event(&run, events[i].data.ptr, events[i].events);
    }
    double elapsed = now_s() - run.started;
    unsigned long unanswered = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        struct client *c = &run.clients[i];
        unanswered += c->state == CONN_WAITING;
        client_close(&run, c);
        cp_buf_free(&c->request);
        cp_buf_free(&c->answer);
    }
    close(run.epfd);

    long rss_kb = peak_rss_kb(server);
    kill(server, SIGTERM);
    int wstatus;
    waitpid(server, &wstatus, 0);
    close(rf.errfd);

    /* judge every answer against the database as it is after the refresh */
    for (size_t i = 0; i < target_count; i++)
        targets[i].after = expected_answer(db, &targets[i]);
    size_t changed = 0;
    for (size_t i = 0; i < target_count; i++)
        changed += targets[i].before != targets[i].after;
    double start_s = rf.started - run.started, settle_s = rf.done - run.started + SETTLE_S;

    struct etag_slot *etags = cp_calloc(ETAG_SLOTS, sizeof *etags);
    unsigned long wrong = 0, status_503 = 0, without_retry_after = 0, other_status = 0,
                  answers_304 = 0, wrong_304 = 0, etag_two_bodies = 0, after_settle = 0;
    char first_wrong[512] = "";
    for (size_t i = 0; i < record_count; i++) {
        struct record *r = &records[i];
        if ((r->status == 200 || r->status == 404) && r->etag) {
            struct etag_slot *slot = etag_find(etags, r->target, r->etag);
            if (!slot->body)
                slot->body = r->body;
            else if (slot->body != r->body)
                etag_two_bodies++;
        }
    }
    for (size_t i = 0; i < record_count; i++) {
        struct record *r = &records[i];
        const struct target *t = &targets[r->target];
        after_settle += r->sent_s >= settle_s;
        switch (r->status) {
        case 200:
        case 404:
            if (!answer_allowed(t, r->body, r->sent_s, start_s, settle_s)) {
                if (!wrong++)
                    snprintf(first_wrong, sizeof first_wrong,
                             "%s answered %u, sent at %.2f s (refresh from %.2f s, settled at "
                             "%.2f s), matching %s",
                             t->path, r->status, r->sent_s, start_s, settle_s,
                             r->body == t->before  ? "the answer before the refresh"
                             : r->body == t->after ? "the answer after it"
                                                   : "neither");
            }
            break;
        case 304: {
            answers_304++;
            /* the ETag revalidated must belong to an answer that was right to give then */
            struct etag_slot *slot = r->inm ? etag_find(etags, r->target, r->inm) : NULL;
            if (!slot || !slot->body ||
                !answer_allowed(t, slot->body, r->sent_s, start_s, settle_s)) {
                if (!wrong_304++ && !first_wrong[0])
                    snprintf(first_wrong, sizeof first_wrong,
                             "%s answered 304 at %.2f s for an ETag of %s", t->path, r->sent_s,
                             !r->inm ? "no If-None-Match" : "an answer no longer right");
            }
            break;
        }
        case 503:
            status_503++;
            without_retry_after += !(r->flags & RECORD_RETRY_AFTER);
            break;
        default:
            if (!other_status++ && !first_wrong[0])
                snprintf(first_wrong, sizeof first_wrong, "%s answered %u at %.2f s", t->path,
                         r->status, r->sent_s);
        }
    }
    free(etags);

    float *latencies = cp_calloc(record_count ? record_count : 1, sizeof *latencies);
    for (size_t i = 0; i < record_count; i++)
        latencies[i] = records[i].latency_s;
    qsort(latencies, record_count, sizeof *latencies, compare_float);
    double p50 = record_count ? latencies[record_count / 2] : 0;
    double p99 = record_count ? latencies[(size_t)((double)record_count * 0.99)] : 0;
    free(latencies);

    printf("load: %d connections from %d addresses for %.0f s (%.1f s with the last answers); "
           "%zu URLs, %zu changed by the refresh\n",
           CONNECTIONS, SOURCE_ADDRESSES, LOAD_SECONDS, elapsed, target_count, changed);
    printf("load: %zu answers (%.0f/s), p50 %.1f ms, p99 %.1f ms; %lu answers 304, %lu 503 "
           "(%lu without Retry-After), %lu other statuses\n",
           record_count, (double)record_count / elapsed, p50 * 1000, p99 * 1000, answers_304,
           status_503, without_retry_after, other_status);
    printf("load: X-Cache hit-local %lu, hit-redis %lu, miss %lu; %d connections open at most, "
           "%lu reconnects, %lu connects failed\n",
           run.x_cache_hit_local, run.x_cache_hit_redis, run.x_cache_miss, open_at_peak,
           run.reconnects, run.connects_failed);
    printf("load: refresh from %.2f s to %.2f s; %lu answers to requests sent after it settled; "
           "server peak RSS %.1f MB\n",
           start_s, rf.done - run.started, after_settle, (double)rss_kb / 1024);
    fflush(stdout);

    ck_assert_msg(rf.step == 4, "the refresh did not finish during the run (see %s)", rf.log);
    ck_assert_msg(changed > 0, "the refresh changed no answer: the test would prove nothing");
    ck_assert_msg(after_settle > 1000, "only %lu answers after the refresh settled", after_settle);
    ck_assert_msg(open_at_peak == CONNECTIONS, "only %d of %d connections were open at once",
                  open_at_peak, CONNECTIONS);
    ck_assert_msg(run.connects_failed == 0, "%lu connections failed", run.connects_failed);
    ck_assert_msg(unanswered == 0 && run.closed_mid_answer == 0,
                  "%lu requests unanswered after %.0f s, %lu connections closed with a request "
                  "unanswered (see %s)",
                  unanswered, ANSWER_TIMEOUT_S, run.closed_mid_answer, server_log);
    ck_assert_msg(run.malformed == 0, "%lu answers could not be read", run.malformed);
    ck_assert_msg(wrong == 0 && wrong_304 == 0 && other_status == 0,
                  "%lu wrong answers, %lu wrong 304s, %lu unexpected statuses; first: %s", wrong,
                  wrong_304, other_status, first_wrong);
    ck_assert_msg(etag_two_bodies == 0, "%lu answers shared an ETag with a different body",
                  etag_two_bodies);
    ck_assert_msg(without_retry_after == 0, "%lu answers 503 without Retry-After",
                  without_retry_after);
    ck_assert_msg((double)status_503 <= MAX_503_FRACTION * (double)record_count,
                  "%lu answers 503 of %zu: more than %.0f%%", status_503, record_count,
                  MAX_503_FRACTION * 100);
    ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
                  "chartpulse serve did not stop cleanly (see %s)", server_log);

    for (size_t i = 0; i < target_count; i++) {
        free(targets[i].path);
        free(targets[i].etag);
    }
    free(targets);
    targets = NULL;
    target_count = target_cap = 0;
    free(records);
    free(run.clients);
    cp_buf_free(&run.projection);
    unlink(server_log);
    unlink(rf.log);
    free(server_log);
    free(rf.log);
    cmd = cp_asprintf("rm -rf '%s' '%s'", dir, later);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(dir);
    free(later);
    free(newest);
    PQfinish(db);
    free(owner_url);
}
END_TEST

/* ---- slow connections from one address ---------------------------------------------- */

/* One request from a client at src, on a connection of its own: the status, or 0 when no
 * complete status line came within timeout_s; *took receives the time it took. */
static int exchange_from(const char *src, int port, const char *path, double timeout_s,
                         double *took)
{
    double started = now_s();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &from.sin_addr);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof from), 0);
    struct timeval tv = {.tv_sec = (time_t)timeout_s,
                         .tv_usec = (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int status = 0;
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) == 0) {
        char *request =
            cp_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
        if (send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request)) {
            char answer[256];
            size_t got = 0;
            while (got < sizeof answer - 1) {
                int left_ms = (int)((started + timeout_s - now_s()) * 1000);
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0)
                    break;
                ssize_t n = recv(fd, answer + got, sizeof answer - 1 - got, 0);
                if (n <= 0)
                    break;
                got += (size_t)n;
                answer[got] = '\0';
                if (strstr(answer, "\r\n")) {
                    sscanf(answer, "HTTP/1.1 %d", &status);
                    break;
                }
            }
        }
        free(request);
    }
    close(fd);
    *took = now_s() - started;
    return status;
}

/* 1,000 sockets from one address each sending one header byte every two seconds, for longer
 * than the head deadline: a client from another address still gets every answer within a
 * second, from a `chartpulse serve` with its default defences. */
#define SLOW_CONNECTIONS 1000
#define SLOW_SECONDS     14.0
#define SLOW_BYTE_EVERY  2.0
START_TEST(slow_connections_from_one_address_leave_others_served)
{
    raise_nofile(SLOW_CONNECTIONS);
    char *owner_url = tu_serve_fresh_database(DATABASE "_slow");
    char *server_log = log_path("serve-slow");
    int server_errfd = open(server_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(server_errfd, 0);
    const char *serve[] = {"serve", "--listen", "127.0.0.1:0", NULL};
    const char *serve_env[] = {"CHARTPULSE_LOG_FORMAT=text", NULL};
    pid_t server = tu_spawn_cli(serve, serve_env, server_errfd);
    close(server_errfd);
    int port = server_port(server, server_log);

    static int slow[SLOW_CONNECTIONS];
    for (int i = 0; i < SLOW_CONNECTIONS; i++) {
        slow[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(slow[i], 0);
        struct sockaddr_in from = {.sin_family = AF_INET};
        from.sin_addr.s_addr = htonl(0x7f000002u);
        ck_assert_int_eq(bind(slow[i], (struct sockaddr *)&from, sizeof from), 0);
        struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connect(slow[i], (struct sockaddr *)&dst, sizeof dst); /* EINPROGRESS */
    }
    static const char drip[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    static const char *const paths[] = {"/healthz", "/v1/regions", "/v1/catalog?limit=5"};
    double started = now_s(), next_drip = started;
    size_t drip_at = 0;
    int asked = 0, late = 0, open_at_end = 0;
    double slowest = 0;
    char first_late[256] = "";
    while (now_s() - started < SLOW_SECONDS) {
        if (now_s() >= next_drip) {
            char byte = drip[drip_at < sizeof drip - 1 ? drip_at : sizeof drip - 2];
            drip_at++;
            for (int i = 0; i < SLOW_CONNECTIONS; i++)
                if (slow[i] >= 0 && send(slow[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 &&
                    errno != EAGAIN && errno != ENOTCONN) {
                    close(slow[i]);
                    slow[i] = -1;
                }
            next_drip += SLOW_BYTE_EVERY;
        }
        double took = 0;
        const char *path = paths[asked % 3];
        int status = exchange_from("127.0.0.1", port, path, 1.0, &took);
        asked++;
        if (took > slowest)
            slowest = took;
        if (status != 200 || took >= 1.0) {
            if (!late++)
                snprintf(first_late, sizeof first_late, "%s at %.1f s: status %d after %.2f s",
                         path, now_s() - started, status, took);
        }
        usleep(200 * 1000);
    }
    for (int i = 0; i < SLOW_CONNECTIONS; i++)
        if (slow[i] >= 0) {
            char c;
            ssize_t n = recv(slow[i], &c, 1, MSG_DONTWAIT);
            open_at_end += n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            close(slow[i]);
        }
    kill(server, SIGTERM);
    int wstatus;
    waitpid(server, &wstatus, 0);
    printf("slow: %d slow connections from 127.0.0.2 for %.0f s; %d requests from 127.0.0.1, "
           "%d late or failed, slowest %.0f ms; %d slow connections still open at the end\n",
           SLOW_CONNECTIONS, SLOW_SECONDS, asked, late, slowest * 1000, open_at_end);
    fflush(stdout);
    ck_assert_msg(late == 0,
                  "%d of %d requests from another address were not answered within "
                  "1 s; first: %s",
                  late, asked, first_late);
    ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
                  "chartpulse serve did not stop cleanly (see %s)", server_log);
    unlink(server_log);
    free(server_log);
    free(owner_url);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("load");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 150);
    tcase_add_test(tc, a_thousand_connections_through_a_refresh_get_right_answers);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("slow");
    tcase_set_timeout(slow, 60);
    tcase_add_test(slow, slow_connections_from_one_address_leave_others_served);
    suite_add_tcase(s, slow);
    return tu_run_suite(s);
}
