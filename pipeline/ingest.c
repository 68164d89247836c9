/* `chartpulse ingest`: files -> raw zone + catalog. */
#include "pipeline/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/series.h"
#include "db/catalog_repo.h"
#include "db/pool.h"
#include "pipeline/spotify_ingest.h"

#define INGEST_MAX_FILE ((size_t)2 << 30)

static void set_field(char *dst, size_t dstlen, const char *value)
{
    if (value && *value)
        snprintf(dst, dstlen, "%s", value);
}

/* Checks the flag values themselves, before any file is read. */
static cp_status check_overrides(const struct cp_ingest_overrides *ovr, char *err, size_t errlen)
{
    if (ovr->chart_kind && !cp_chart_kind_valid(ovr->chart_kind)) {
        snprintf(err, errlen, "--kind: '%s' is not regional or viral", ovr->chart_kind);
        return CP_ERR_INVALID;
    }
    if (ovr->period && !cp_period_valid(ovr->period)) {
        snprintf(err, errlen, "--period: '%s' is not daily or weekly", ovr->period);
        return CP_ERR_INVALID;
    }
    if (ovr->region && !cp_region_known(ovr->region)) {
        snprintf(err, errlen, "--region: '%s' is not a known region code", ovr->region);
        return CP_ERR_INVALID;
    }
    if (ovr->chart_date && !cp_date_valid(ovr->chart_date)) {
        snprintf(err, errlen, "--date: '%s' is not a valid YYYY-MM-DD date", ovr->chart_date);
        return CP_ERR_INVALID;
    }
    return CP_OK;
}

/* Nothing but an optional BOM and blank lines: no header, no rows. */
static bool blank_file(const char *data, size_t len)
{
    size_t i = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
    for (; i < len; i++)
        if (!(data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            return false;
    return true;
}

cp_status cp_ingest_buffer(PGconn *conn, struct cp_rawstore *store, const char *name,
                           const char *data, size_t len, const struct cp_ingest_overrides *ovr,
                           enum cp_ingest_outcome *outcome, long long *object_id, char *err,
                           size_t errlen)
{
    struct cp_chart_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.format = ovr->format != CP_FORMAT_UNKNOWN ? ovr->format : cp_chart_detect(data, len);
    if (blank_file(data, len)) {
        snprintf(err, errlen, "empty file: no header line and no data rows");
        return CP_ERR_FORMAT;
    }
    if (meta.format == CP_FORMAT_UNKNOWN) {
        snprintf(err, errlen,
                 "not a chart file in any format chartpulse reads "
                 "(see SPEC §4); pass --format to force one");
        return CP_ERR_FORMAT;
    }
    cp_chart_meta_from_filename(name, &meta);
    set_field(meta.chart_kind, sizeof meta.chart_kind, ovr->chart_kind);
    set_field(meta.region, sizeof meta.region, ovr->region);
    set_field(meta.period, sizeof meta.period, ovr->period);
    set_field(meta.chart_date, sizeof meta.chart_date, ovr->chart_date);
    /* Decide kind and period from the header as the loader will, and refuse now a file
     * that could never be loaded. */
    cp_status st = cp_chart_resolve(data, len, &meta, err, errlen);
    if (st != CP_OK)
        return st;
    bool per_row_meta =
        meta.format == CP_FORMAT_KAGGLE_CHARTS || meta.format == CP_FORMAT_KAGGLE_2017;
    if (!per_row_meta) {
        if (!meta.chart_date[0]) {
            snprintf(err, errlen,
                     "the chart date cannot be known from the file name; "
                     "pass --date YYYY-MM-DD");
            return CP_ERR_INVALID;
        }
        if (!meta.region[0]) {
            snprintf(err, errlen,
                     "the region cannot be known from the file name; "
                     "pass --region CODE (e.g. --region global)");
            return CP_ERR_INVALID;
        }
    }

    struct cp_raw_object obj;
    memset(&obj, 0, sizeof obj);
    cp_sha256_hex(data, len, obj.sha256);
    char existing[512], mine[512];
    st =
        cp_catalog_find_sha256(conn, obj.sha256, object_id, existing, sizeof existing, err, errlen);
    if (st != CP_OK)
        return st;
    if (*object_id) {
        const char *base_name = strrchr(name, '/');
        snprintf(mine, sizeof mine, "%s: %s/%s/%s/%s", base_name ? base_name + 1 : name,
                 meta.chart_kind[0] ? meta.chart_kind : "-", meta.region[0] ? meta.region : "-",
                 meta.period[0] ? meta.period : "-", meta.chart_date[0] ? meta.chart_date : "-");
        const char *their_part = strstr(existing, ": ");
        const char *my_part = strstr(mine, ": ");
        *outcome = their_part && my_part && strcmp(their_part, my_part) ? CP_INGEST_DUPLICATE_OTHER
                                                                        : CP_INGEST_DUPLICATE;
        if (*outcome == CP_INGEST_DUPLICATE_OTHER)
            snprintf(err, errlen, "same bytes as object %lld (%s), so not ingested as %s",
                     *object_id, existing, my_part + 2);
        return CP_OK;
    }
    char chart[32];
    snprintf(chart, sizeof chart, "%s-%s", meta.chart_kind[0] ? meta.chart_kind : "mixed",
             meta.period[0] ? meta.period : "mixed");
    obj.source = (char *)cp_chart_format_source(meta.format);
    obj.format = (char *)cp_chart_format_name(meta.format);
    obj.object_key =
        cp_rawstore_key(obj.source, chart, meta.region[0] ? meta.region : "mixed",
                        meta.chart_date[0] ? meta.chart_date : "mixed", obj.sha256, name);
    const char *base = strrchr(name, '/');
    obj.original_name = (char *)(base ? base + 1 : name);
    obj.chart_kind = meta.chart_kind;
    obj.region = meta.region;
    obj.period = meta.period;
    obj.chart_date = meta.chart_date;
    obj.bytes = (long long)len;

    st = cp_rawstore_put(store, obj.object_key, data, len, err, errlen);
    if (st == CP_OK)
        st = cp_catalog_insert(conn, &obj, object_id, err, errlen);
    if (st == CP_OK && *object_id == 0) {
        /* another ingest stored the same content in the meantime */
        st = cp_catalog_find_sha256(conn, obj.sha256, object_id, NULL, 0, err, errlen);
        *outcome = CP_INGEST_DUPLICATE;
    } else {
        *outcome = CP_INGEST_NEW;
    }
    free(obj.object_key);
    return st;
}

static cp_status read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return CP_ERR_IO;
    }
    struct cp_buf b;
    cp_buf_init(&b, INGEST_MAX_FILE);
    char chunk[1 << 16];
    size_t n;
    cp_status st = CP_OK;
    while (st == CP_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = cp_buf_add(&b, chunk, n);
    if (st == CP_OK && ferror(f)) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        st = CP_ERR_IO;
    } else if (st != CP_OK) {
        snprintf(err, errlen, "larger than the %zu MB a raw object may be", INGEST_MAX_FILE >> 20);
    }
    fclose(f);
    if (st == CP_OK)
        *data = cp_buf_take(&b, len);
    else
        cp_buf_free(&b);
    return st;
}

/* The file list: plain files as given, folders searched for *.csv, sorted by path. */
struct file_list {
    char **paths;
    size_t count, alloc;
};

static void list_add(struct file_list *l, char *path)
{
    if (l->count == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 64;
        l->paths = cp_realloc(l->paths, l->alloc * sizeof *l->paths);
    }
    l->paths[l->count++] = path;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_csv_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcasecmp(name + n - 4, ".csv");
}

static void collect(const char *path, struct file_list *l, bool top)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        list_add(l, cp_strdup(path)); /* reported when it is read */
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        if (top || has_csv_suffix(path))
            list_add(l, cp_strdup(path));
        return;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        list_add(l, cp_strdup(path));
        return;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *child = cp_asprintf("%s/%s", path, de->d_name);
        collect(child, l, false);
        free(child);
    }
    closedir(dir);
}

static void usage(FILE *out)
{
    fputs("usage: chartpulse ingest [--format F] [--region R] [--period daily|weekly]\n"
          "                         [--kind regional|viral] [--date YYYY-MM-DD] FILE|DIR...\n"
          "       chartpulse ingest spotify --playlist ID [--region R]\n"
          "\n"
          "Lands chart files unchanged in the raw zone (CHARTPULSE_RAW_URI) and records them in\n"
          "the catalog; `chartpulse load` then loads them. Folders are searched for *.csv.\n"
          "Format, region, period and date are read from the header and the file name; the\n"
          "flags fill in what a file lacks. Content already ingested is skipped. An empty\n"
          "file, or one with a header and no data row, is refused.\n"
          "\n"
          "  --format F   charts.spotify.com | spotifycharts.com | kaggle-charts | kaggle-2017\n"
          "  --region R   region code (global, us, de, ...)\n"
          "  --period P   daily | weekly\n"
          "  --kind K     regional | viral\n"
          "  --date D     the chart date (for weekly charts the last day of the week)\n",
          out);
}

int cp_ingest_main(int argc, char **argv)
{
    const char *cmd = "ingest";
    if (argc > 1 && !strcmp(argv[1], "spotify"))
        return cp_spotify_ingest_main(argc - 1, argv + 1);
    struct cp_ingest_overrides ovr = {CP_FORMAT_UNKNOWN, NULL, NULL, NULL, NULL};
    static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                            {"region", required_argument, NULL, 'r'},
                                            {"period", required_argument, NULL, 'p'},
                                            {"kind", required_argument, NULL, 'k'},
                                            {"date", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:r:p:k:d:h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            ovr.format = cp_chart_format_parse(optarg);
            if (ovr.format == CP_FORMAT_UNKNOWN)
                return cp_cli_fail(cmd, "--format: '%s' is not a format chartpulse reads", optarg);
            break;
        case 'r':
            ovr.region = optarg;
            break;
        case 'p':
            ovr.period = optarg;
            break;
        case 'k':
            ovr.chart_kind = optarg;
            break;
        case 'd':
            ovr.chart_date = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc)
        return cp_cli_fail(cmd, "no FILE or DIR given (see --help)");
    char err[1024];
    if (check_overrides(&ovr, err, sizeof err) != CP_OK)
        return cp_cli_fail(cmd, "%s", err);

    struct cp_config cfg;
    if (!cp_cli_setup(cmd, &cfg))
        return 1;
    int status = 1;
    struct cp_rawstore *store = NULL;
    struct file_list files = {NULL, 0, 0};
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        goto out;
    }
    if (cp_rawstore_open(&cfg, &store, err, sizeof err) != CP_OK) {
        cp_cli_fail(cmd, "%s", err);
        goto out;
    }
    for (int i = optind; i < argc; i++)
        collect(argv[i], &files, true);
    qsort(files.paths, files.count, sizeof *files.paths, cmp_path);

    long fresh = 0, duplicates = 0, refused = 0;
    long long bytes_total = 0;
    struct cp_progress progress;
    cp_progress_init(&progress);
    for (size_t i = 0; i < files.count; i++) {
        const char *path = files.paths[i];
        char *data = NULL;
        size_t len = 0;
        long long object_id = 0;
        enum cp_ingest_outcome outcome;
        cp_status st = read_file(path, &data, &len, err, sizeof err);
        if (st == CP_OK)
            st = cp_ingest_buffer(conn, store, path, data, len, &ovr, &outcome, &object_id, err,
                                  sizeof err);
        free(data);
        if (st == CP_ERR_DB) {
            cp_progress_finish(&progress);
            cp_cli_fail(cmd, "%s: database error: %s", path, err);
            goto out;
        }
        if (st != CP_OK) {
            cp_progress_finish(&progress);
            fprintf(stderr, "chartpulse ingest: %s: refused: %s\n", path, err);
            refused++;
        } else if (outcome == CP_INGEST_DUPLICATE) {
            duplicates++;
        } else if (outcome == CP_INGEST_DUPLICATE_OTHER) {
            cp_progress_finish(&progress);
            fprintf(stderr, "chartpulse ingest: %s: warning: %s\n", path, err);
            duplicates++;
        } else {
            fresh++;
            bytes_total += (long long)len;
        }
        cp_progress_update(&progress, "ingest", (double)(i + 1), (double)files.count, 0);
    }
    cp_progress_finish(&progress);
    fprintf(stderr,
            "ingest: %ld new object%s (%lld bytes), %ld already in the catalog, %ld refused\n",
            fresh, fresh == 1 ? "" : "s", bytes_total, duplicates, refused);
    status = refused ? 1 : 0;
out:
    for (size_t i = 0; i < files.count; i++)
        free(files.paths[i]);
    free(files.paths);
    cp_rawstore_close(store);
    if (conn)
        PQfinish(conn);
    cp_config_cleanup(&cfg);
    return status;
}
