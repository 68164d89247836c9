/* CSV answers for list endpoints (SPEC §6): content negotiation (`?format=csv` or an
 * `Accept` header preferring text/csv) and an RFC 4180 writer (header row, CRLF line ends,
 * fields with a comma, quote, CR or LF quoted with doubled quotes, NULL written as empty).
 *
 * How a list handler adds CSV (the usual four steps stay; CSV only changes "respond"):
 *
 *     bool csv;
 *     cp_status st = cp_csv_negotiate(req, reply, &csv);  // first, with the other params:
 *     if (st != CP_OK)                                     // a bad ?format= is a 400
 *         return st;                                       // naming `format`
 *     ... repo, build the JSON body as usual ...
 *     if (csv) {
 *         static const char *const columns[] = {"rank", "track.id", "track.name",
 *                                               "streams", NULL};
 *         return cp_csv_reply_rows(reply, body, "entries", columns);  // steals body
 *     }
 *     return cp_reply_json(reply, body);
 *
 * Columns name members of each row object; a dotted name ("track.id") reaches into nested
 * objects. JSON values become text: strings as is, integers in decimal, reals in the
 * shortest form that round-trips, true/false, null or a missing member as an empty field,
 * arrays/objects as compact JSON (an array of strings as the strings joined by "; ").
 * The CSV header row is the column names as given. A text cell (a JSON string) that starts
 * with = + - @, a tab or a CR gets a leading single quote so that spreadsheets do not run it
 * as a formula (CSV injection); numbers, and text that is a plain number such as "-3", are
 * written as they are.
 *
 * A cacheable route needs nothing more: the response cache keys on the negotiated type
 * (http.c) and answers carry `Vary: Accept`. */
#ifndef CP_CSV_H
#define CP_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "handlers/handler.h"

/* Content-Type of every CSV answer. */
#define CP_CSV_CONTENT_TYPE "text/csv; charset=utf-8"
/* Largest CSV body a handler may build (the JSON answers are bounded by `limit` anyway). */
#define CP_CSV_MAX_BYTES (64u * 1024u * 1024u)

/* Reads `?format=` (json | csv) and the request's Accept header. *csv is true when format
 * is csv, or when format is absent and Accept ranks text/csv above application/json (by
 * q-value, then order; `*` wildcards count for JSON). Returns CP_OK, or CP_ERR_INVALID with
 * a 400 problem "format: must be 'json' or 'csv' ..." in reply. */
cp_status cp_csv_negotiate(const struct cp_request *req, struct cp_reply *reply, bool *csv);

/* For the response cache (http.c): true when CSV is negotiated by the Accept header alone
 * (no `format` among the query parameters, which are part of the cache key already). */
bool cp_csv_wanted_by_accept(const struct cp_param *query, size_t query_count, const char *accept);

/* The CSV of the array body[rows_member] (or of body itself when rows_member is NULL and
 * body is an array): a header row of columns (NULL-terminated), then one row per element.
 * Steals the reference to body. Returns CP_OK with the CSV in reply, or CP_ERR_INTERNAL
 * (with a problem) when the member is not an array, or CP_ERR_TOO_LARGE. */
cp_status cp_csv_reply_rows(struct cp_reply *reply, json_t *body, const char *rows_member,
                            const char *const *columns);

#endif
