/* Kaplan-Meier curves per series and debut band, stored for the API and BI. */
#include "pipeline/survival_refresh.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/survival.h"
#include "core/buf.h"
#include "core/mem.h"
#include "db/etl_repo.h"
#include "db/survival_repo.h"

/* arrays of one series and band are sent as text; 64 MiB is far past any real series */
#define SURVIVAL_SQL_MAX ((size_t)64 << 20)

/* a text[] literal element: quoted, with " and \ escaped */
static void add_quoted(struct cp_buf *b, const char *s)
{
    cp_buf_adds(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            cp_buf_adds(b, "\\");
        cp_buf_add(b, s, 1);
    }
    cp_buf_adds(b, "\"");
}

/* One series and band: rows [from, to) of the spells result. */
static bool store_group(PGconn *conn, PGresult *sp, int from, int to, char *err, size_t errlen)
{
    size_t n = (size_t)(to - from);
    struct cp_spell *spells = cp_calloc(n, sizeof *spells);
    struct cp_km_step *steps = cp_calloc(n, sizeof *steps);
    for (int r = from; r < to; r++) {
        int charts = atoi(PQgetvalue(sp, r, 5));
        bool censored = PQgetvalue(sp, r, 7)[0] == 't';
        /* a run on the last chart before a break or the latest has lasted past charts - 1;
         * whether it ends at charts is not known (analytics/survival.h) */
        spells[r - from] = (struct cp_spell){censored ? charts - 1 : charts, !censored};
    }
    size_t nsteps = 0;
    bool ok = cp_km_estimate(spells, n, steps, &nsteps);
    if (!ok) {
        snprintf(err, errlen, "survival: a spell with a negative length in %s %s %s",
                 PQgetvalue(sp, from, 0), PQgetvalue(sp, from, 1), PQgetvalue(sp, from, 2));
        goto out;
    }
    struct cp_buf a[5], ids, so_far, rem, restr;
    for (int i = 0; i < 5; i++) {
        cp_buf_init(&a[i], SURVIVAL_SQL_MAX);
        cp_buf_adds(&a[i], "{");
    }
    for (size_t i = 0; i < nsteps; i++) {
        const char *sep = i ? "," : "";
        cp_buf_addf(&a[0], "%s%d", sep, steps[i].time);
        cp_buf_addf(&a[1], "%s%d", sep, steps[i].at_risk);
        cp_buf_addf(&a[2], "%s%d", sep, steps[i].events);
        cp_buf_addf(&a[3], "%s%d", sep, steps[i].censored);
        cp_buf_addf(&a[4], "%s%.17g", sep, steps[i].survival);
    }
    cp_buf_init(&ids, SURVIVAL_SQL_MAX);
    cp_buf_init(&so_far, SURVIVAL_SQL_MAX);
    cp_buf_init(&rem, SURVIVAL_SQL_MAX);
    cp_buf_init(&restr, SURVIVAL_SQL_MAX);
    cp_buf_adds(&ids, "{");
    cp_buf_adds(&so_far, "{");
    cp_buf_adds(&rem, "{");
    cp_buf_adds(&restr, "{");
    bool first = true;
    for (int r = from; r < to; r++) {
        if (PQgetvalue(sp, r, 6)[0] != 't')
            continue;
        int charts = atoi(PQgetvalue(sp, r, 5));
        bool restricted;
        double left = cp_km_remaining(steps, nsteps, charts, &restricted);
        const char *sep = first ? "" : ",";
        first = false;
        cp_buf_adds(&ids, sep);
        add_quoted(&ids, PQgetvalue(sp, r, 4));
        cp_buf_addf(&so_far, "%s%d", sep, charts);
        if (left < 0)
            cp_buf_addf(&rem, "%sNULL", sep);
        else
            cp_buf_addf(&rem, "%s%.17g", sep, left);
        cp_buf_addf(&restr, "%s%s", sep, restricted ? "t" : "f");
    }
    struct cp_buf *all[] = {&a[0], &a[1], &a[2], &a[3], &a[4], &ids, &so_far, &rem, &restr};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        cp_buf_adds(all[i], "}");
        if (cp_buf_status(all[i]) != CP_OK)
            ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "survival: %s %s %s has more spells than %zu bytes hold",
                 PQgetvalue(sp, from, 0), PQgetvalue(sp, from, 1), PQgetvalue(sp, from, 2),
                 SURVIVAL_SQL_MAX);
    } else {
        const char *series[] = {PQgetvalue(sp, from, 0), PQgetvalue(sp, from, 1),
                                PQgetvalue(sp, from, 2), PQgetvalue(sp, from, 3)};
        const char *curve[] = {a[0].data, a[1].data, a[2].data, a[3].data, a[4].data};
        const char *remaining[] = {ids.data, so_far.data, rem.data, restr.data};
        ok = cp_survival_repo_store(conn, series, curve, remaining, err, errlen) == CP_OK;
    }
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        cp_buf_free(all[i]);
out:
    free(spells);
    free(steps);
    return ok;
}

cp_status cp_survival_refresh(PGconn *conn, char *err, size_t errlen)
{
    if (cp_etl_begin(conn, err, errlen) != CP_OK)
        return CP_ERR_DB;
    PGresult *sp = NULL;
    cp_status st = cp_survival_repo_clear(conn, err, errlen);
    if (st == CP_OK)
        st = cp_survival_repo_spells(conn, &sp, err, errlen);
    bool ok = st == CP_OK || st == CP_ERR_NOT_FOUND; /* no spells: the stale rows still go */
    int rows = st == CP_OK ? PQntuples(sp) : 0;
    for (int from = 0; ok && from < rows;) {
        int to = from + 1;
        while (to < rows && !strcmp(PQgetvalue(sp, to, 0), PQgetvalue(sp, from, 0)) &&
               !strcmp(PQgetvalue(sp, to, 1), PQgetvalue(sp, from, 1)) &&
               !strcmp(PQgetvalue(sp, to, 2), PQgetvalue(sp, from, 2)) &&
               !strcmp(PQgetvalue(sp, to, 3), PQgetvalue(sp, from, 3)))
            to++;
        ok = store_group(conn, sp, from, to, err, errlen);
        from = to;
    }
    if (sp)
        PQclear(sp);
    if (ok && cp_etl_commit(conn, err, errlen) == CP_OK) /* rolls back when it fails */
        return CP_OK;
    if (!ok)
        cp_etl_rollback(conn);
    return CP_ERR_DB;
}
