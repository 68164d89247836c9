/* Helpers shared by the Check suites: fixture paths, the shared real-data folder, and the
 * settings the test runner exports for the private PostgreSQL and Redis. */
#ifndef CP_TESTUTIL_H
#define CP_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/config.h"
#include "server/http.h"

/* Caps of the tests' own buffers: a file read whole, a text built in a test, an HTTP answer's
 * headers, a short path or query. */
#define TU_FILE_MAX    ((size_t)1 << 30)
#define TU_TEXT_MAX    ((size_t)1 << 20)
#define TU_HEADERS_MAX ((size_t)64 << 10)
#define TU_SHORT_MAX   ((size_t)1 << 16)
#define TU_BODY_MAX    ((size_t)64 << 20)

/* Absolute path of a file under tests/fixtures; caller frees. */
/* Sends request (a whole HTTP/1.1 request, byte for byte: libcurl would rewrite dot
 * segments and framing) to 127.0.0.1:port and returns everything the server answered
 * until it closed the connection; caller frees. */
char *tu_raw_exchange(int port, const char *request, size_t len);
/* The status code of a raw answer's status line (fails the test when there is none). */
int tu_raw_status(const char *answer);

char *tu_fixture_path(const char *name);
/* Reads a whole file into a NUL-terminated buffer; caller frees. Fails the test if absent. */
char *tu_read_file(const char *path, size_t *len);
/* Absolute path of ../shared/data/real/<rel> if that folder exists, else NULL (and the
 * caller should skip with a message). Caller frees. */
char *tu_real_data_path(const char *rel);
/* A test case that reads ../shared/data/real, tagged "real": CMake runs it as a ctest entry
 * of its own (<suite>_real, CK_INCLUDE_TAGS=real) that tu_run_suite reports as skipped
 * (exit 77) when the folder is absent, and leaves it out of the suite's main entry. */
TCase *tu_real_data_tcase(const char *name);
/* Environment variable or a default. */
const char *tu_env(const char *name, const char *fallback);
/* Creates (or recreates) database `name` as a copy of the migrated template database named
 * in DATABASE_URL (the test runner's chartpulse_test), so a suite has data of its own.
 * Returns the owner URL; *api_url (may be NULL) receives the same database as the
 * chartpulse_api role. Callers free both. Fails the test when PostgreSQL is unreachable. */
char *tu_fresh_database(const char *name, char **api_url);
/* tu_fresh_database for a suite that starts servers: also points DATABASE_URL and
 * API_DATABASE_URL (which the server reads) at the new database and unsets
 * DATABASE_READ_URL. Returns the owner URL; caller frees. */
char *tu_serve_fresh_database(const char *name);
/* Like tu_fresh_database, but an empty database with no migrations applied. */
char *tu_empty_database(const char *name);
/* Runs the chartpulse binary (CHARTPULSE_BINARY) with args (NULL-terminated, without the
 * program name) and extra environment entries env ("NAME=value", NULL-terminated, may be
 * NULL). Returns its exit status; *stderr_text (may be NULL) receives what it printed on
 * stderr (caller frees). Standard output is discarded. */
int tu_run_cli(const char *const *args, const char *const *env, char **stderr_text);
/* Starts the binary as tu_run_cli does, without waiting: in a process group of its own
 * (so kill(-pid, ...) reaches the steps it starts too), stderr to errfd (or /dev/null when
 * errfd < 0), stdout discarded. Returns its pid; the caller waits for it. */
pid_t tu_spawn_cli(const char *const *args, const char *const *env, int errfd);
/* The first column of the only row sql returns, as text ("" for NULL); caller frees.
 * Fails the test on an error or a row count other than one. */
struct pg_conn;
char *tu_query_value(struct pg_conn *conn, const char *sql);
/* Runs sql on conn, failing the test on an error. */
void tu_exec_sql(struct pg_conn *conn, const char *sql);
/* Waits up to seconds for sql (one value) to return "t" on conn, failing the test after. */
void tu_wait_until(struct pg_conn *conn, const char *sql, int seconds);
/* A checksum over the content of every table the pipeline writes (core, catalog, rejects),
 * to show that a re-run changed nothing; caller frees. */
char *tu_pipeline_checksum(struct pg_conn *conn);
/* A checksum over what the load derives: chart entries with their run columns and printed
 * artist lines, charts, core.chart_run, core.track_month, tracks' titles and credit lines,
 * credits by artist name and songs, without object ids, load times or internal artist ids,
 * to compare two loads of the same files in different orders; caller frees. */
char *tu_derived_checksum(struct pg_conn *conn);
/* Loads every cataloged object of conn's database one at a time (`load --object`, with
 * env) in a fixed shuffled order (by the hash of the object key), failing the test if one
 * does not load. *objects receives how many there were; returns how many took the
 * set-based merge. */
int tu_load_each_object_shuffled(struct pg_conn *conn, const char *const *env, int *objects);
/* The value of header `name` (case-insensitive) in a raw response header block ("Name:
 * value\r\n" lines), copied into out; false when absent. */
bool tu_http_header(const char *header_block, const char *name, char *out, size_t outlen);
/* Inflates a gzip body into a new NUL-terminated buffer (caller frees); fails the test on
 * corrupt data. */
char *tu_gunzip(const char *data, size_t len, size_t *outlen);
/* What the process writes to stderr (the log, from every thread), caught in a temporary
 * file between tu_stderr_begin and tu_stderr_end, which returns it (caller frees). */
struct tu_stderr {
    int saved_fd;
    char path[64];
};
void tu_stderr_begin(struct tu_stderr *capture);
char *tu_stderr_end(struct tu_stderr *capture);
/* Runs a Check suite and returns the process exit status. */
int tu_run_suite(Suite *s);

/* One HTTP exchange with a server under test, through libcurl. */
struct tu_http_result {
    long status;
    struct cp_buf body;
    struct cp_buf headers; /* the final response's header block (not a 100 Continue's) */
    json_t *json;          /* the body parsed, when it is JSON; else NULL */
};
/* Performs method on url. extra_headers is NULL or a NULL-terminated list of
 * "Name: value"; body (may be NULL) is sent as the request body. Fails the test when the
 * request cannot be made at all. Free r with tu_http_result_free. */
void tu_http_request(struct tu_http_result *r, const char *method, const char *url,
                     const char *const *extra_headers, const char *body, size_t body_len);
void tu_http_result_free(struct tu_http_result *r);

/* A `chartpulse serve` inside the test process, on a free loopback port. Start one per
 * test: its threads do not survive Check's fork. */
struct tu_server {
    struct cp_config cfg;
    struct cp_server *server;
    char base[64]; /* http://127.0.0.1:<port> */
};
/* Starts ts with the environment's settings, overridden by settings: "NAME", "value"
 * pairs ending in NULL (a NULL value keeps the environment's), or NULL for none. opts NULL
 * means the tests' defaults: two database workers, a 2-second connect timeout. Fails the
 * test when the server does not start. */
void tu_server_start(struct tu_server *ts, const char *const *settings,
                     const struct cp_server_opts *opts);
void tu_server_stop(struct tu_server *ts);
/* The tests' server options, to adjust before tu_server_start. */
void tu_server_opts(struct cp_server_opts *opts);

#endif
