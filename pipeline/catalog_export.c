/* `chartpulse catalog export`: Glue tables and Athena DDL for the raw zone (catalog_export.h). */
#include "pipeline/catalog_export.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cli.h"
#include "core/mem.h"
#include "db/catalog_repo.h"
#include "db/pool.h"
#include "pipeline/spotify_ingest.h"

#define DEFINITION_MAX (4u << 20) /* a date enum of every day since 2013 fits many times over */
#define CSV_SERDE      "org.apache.hadoop.hive.serde2.OpenCSVSerde"
#define JSON_SERDE     "org.openx.data.jsonserde.JsonSerDe"
#define TEXT_INPUT     "org.apache.hadoop.mapred.TextInputFormat"
#define TEXT_OUTPUT    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

/* The partition keys, in the order the raw zone nests them (cp_rawstore_key). */
static const char *const partition_keys[] = {"source", "chart", "region", "date"};
#define N_PARTITION_KEYS 4

struct column {
    const char *name;
    const char *type;
    const char *comment; /* NULL for none */
};

/* A format's columns in file order: its CSV header as SPEC §4 gives it, lower case, spaces as
 * underscores. Data columns named like a partition key (Kaggle's date, region and chart) are
 * prefixed row_: Hive refuses a data column with a partition column's name, and the row's
 * value is the true one for those files, whose partitions read "mixed". */
struct table_spec {
    const char *format; /* catalog.raw_object.format */
    bool json;          /* JSON pages rather than CSV with one header line */
    const char *comment;
    struct column columns[12];
};

static const struct table_spec specs[] = {
    {"charts.spotify.com",
     false,
     "charts.spotify.com downloads; viral charts have no streams column (read as NULL)",
     {{"rank", "string", NULL},
      {"uri", "string", NULL},
      {"artist_names", "string", NULL},
      {"track_name", "string", NULL},
      {"source", "string", "the label, as the file calls it"},
      {"peak_rank", "string", NULL},
      {"previous_rank", "string", "-1 for new entries and re-entries"},
      {"periods_on_chart", "string", "days_on_chart on daily charts, weeks_on_chart on weekly"},
      {"streams", "string", NULL}}},
    {"spotifycharts.com",
     false,
     "spotifycharts.com exports (<= 2021); files that open with a notes line read it as the "
     "header and their header as a row: filter position <> 'Position'",
     {{"position", "string", NULL},
      {"track_name", "string", NULL},
      {"artist", "string", NULL},
      {"streams", "string", NULL},
      {"url", "string", NULL}}},
    {"kaggle-charts",
     false,
     "Kaggle Spotify Charts: one file spans many dates and regions (row_date, row_region)",
     {{"title", "string", NULL},
      {"rank", "string", NULL},
      {"row_date", "string", "the file's date column"},
      {"artist", "string", NULL},
      {"url", "string", NULL},
      {"row_region", "string", "the file's region column (a country name)"},
      {"row_chart", "string", "the file's chart column (top200 | viral50)"},
      {"trend", "string", NULL},
      {"streams", "string", NULL}}},
    {"kaggle-2017",
     false,
     "Kaggle Worldwide Daily Song Ranking (2017)",
     {{"position", "string", NULL},
      {"track_name", "string", NULL},
      {"artist", "string", NULL},
      {"streams", "string", NULL},
      {"url", "string", NULL},
      {"row_date", "string", "the file's date column"},
      {"row_region", "string", "the file's region column (a code)"}}},
    {CP_SPOTIFY_PLAYLIST_FORMAT,
     true,
     "Web API playlist item pages as Spotify sent them (one JSON object per file)",
     {{"href", "string", NULL},
      {"offset", "int", NULL},
      {"total", "int", NULL},
      {"next", "string", NULL},
      {"items",
       "array<struct<added_at:string,item:struct<id:string,name:string>,"
       "track:struct<id:string,name:string>>>",
       "item, or track in extended quota mode"}}},
};

static const struct table_spec *spec_for(const char *format)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (!strcmp(specs[i].format, format))
            return &specs[i];
    return NULL;
}

/* What the catalog holds of one format. */
struct partitions {
    const char *format;
    const char *values[N_PARTITION_KEYS]; /* comma-separated distinct values, sorted */
    bool dates_only;                      /* every date= value is YYYY-MM-DD */
    const char *first_date, *last_date;
    long long objects, unparsed;
};

static void table_name(const char *format, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = format; *p && n + 1 < outlen; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    }
    out[n] = '\0';
}

/* location without trailing slashes, then suffix */
static void add_location(struct cp_buf *b, const char *location, const char *suffix)
{
    size_t n = strlen(location);
    while (n > 0 && location[n - 1] == '/')
        n--;
    cp_buf_add(b, location, n);
    cp_buf_adds(b, suffix);
}

static char *table_location(const struct partitions *p, const char *location)
{
    struct cp_buf b;
    cp_buf_init(&b, DEFINITION_MAX);
    /* one source: the table's own prefix; several (never so far): the raw zone's root */
    if (!strchr(p->values[0], ',')) {
        add_location(&b, location, "/source=");
        cp_buf_adds(&b, p->values[0]);
        cp_buf_adds(&b, "/");
    } else {
        add_location(&b, location, "/");
    }
    return cp_buf_take(&b, NULL);
}

static char *location_template(const char *location)
{
    struct cp_buf b;
    cp_buf_init(&b, DEFINITION_MAX);
    add_location(&b, location, "/source=${source}/chart=${chart}/region=${region}/date=${date}/");
    return cp_buf_take(&b, NULL);
}

/* The table properties partition projection reads, as name/value pairs into add(). */
static void projection(const struct partitions *p, const char *location,
                       void (*add)(void *ud, const char *name, const char *value), void *ud)
{
    add(ud, "projection.enabled", "true");
    for (int k = 0; k < N_PARTITION_KEYS; k++) {
        char name[64];
        if (k == 3 && p->dates_only) {
            char range[32];
            snprintf(range, sizeof range, "%s,%s", p->first_date, p->last_date);
            add(ud, "projection.date.type", "date");
            add(ud, "projection.date.format", "yyyy-MM-dd");
            add(ud, "projection.date.range", range);
            add(ud, "projection.date.interval", "1");
            add(ud, "projection.date.interval.unit", "DAYS");
            continue;
        }
        snprintf(name, sizeof name, "projection.%s.type", partition_keys[k]);
        add(ud, name, "enum");
        snprintf(name, sizeof name, "projection.%s.values", partition_keys[k]);
        add(ud, name, p->values[k]);
    }
    char *tmpl = location_template(location);
    add(ud, "storage.location.template", tmpl ? tmpl : "");
    free(tmpl);
}

static void sql_quoted(struct cp_buf *b, const char *s)
{
    cp_buf_adds(b, "'");
    for (; *s; s++)
        cp_buf_adds(b, *s == '\'' ? "''" : (char[2]){*s, '\0'});
    cp_buf_adds(b, "'");
}

struct ddl_props {
    struct cp_buf *b;
    bool first;
};

static void ddl_prop(void *ud, const char *name, const char *value)
{
    struct ddl_props *d = ud;
    cp_buf_adds(d->b, d->first ? "\n  " : ",\n  ");
    d->first = false;
    sql_quoted(d->b, name);
    cp_buf_adds(d->b, " = ");
    sql_quoted(d->b, value);
}

static char *athena_ddl(const struct table_spec *spec, const struct partitions *p,
                        const char *location, const char *database, const char *table)
{
    struct cp_buf b;
    cp_buf_init(&b, DEFINITION_MAX);
    cp_buf_addf(&b, "-- %s: %lld objects in the catalog\n", p->format, p->objects);
    cp_buf_addf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (", database, table);
    for (size_t i = 0; i < sizeof spec->columns / sizeof spec->columns[0] && spec->columns[i].name;
         i++) {
        const struct column *c = &spec->columns[i];
        cp_buf_addf(&b, "%s\n  `%s` %s", i ? "," : "", c->name, c->type);
        if (c->comment) {
            cp_buf_adds(&b, " COMMENT ");
            sql_quoted(&b, c->comment);
        }
    }
    cp_buf_adds(&b, "\n)\nCOMMENT ");
    sql_quoted(&b, spec->comment);
    cp_buf_adds(&b, "\nPARTITIONED BY (");
    for (int k = 0; k < N_PARTITION_KEYS; k++)
        cp_buf_addf(&b, "%s`%s` string", k ? ", " : "", partition_keys[k]);
    cp_buf_adds(&b, ")\n");
    if (spec->json)
        cp_buf_adds(&b, "ROW FORMAT SERDE '" JSON_SERDE "'\n");
    else
        cp_buf_adds(&b, "ROW FORMAT SERDE '" CSV_SERDE "'\n"
                        "WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '\"', "
                        "'escapeChar' = '\\\\')\n");
    cp_buf_adds(&b, "STORED AS INPUTFORMAT '" TEXT_INPUT "'\nOUTPUTFORMAT '" TEXT_OUTPUT "'\n");
    char *loc = table_location(p, location);
    cp_buf_adds(&b, "LOCATION ");
    sql_quoted(&b, loc ? loc : "");
    free(loc);
    cp_buf_adds(&b, "\nTBLPROPERTIES (");
    struct ddl_props d = {&b, true};
    if (!spec->json) {
        ddl_prop(&d, "classification", "csv");
        ddl_prop(&d, "skip.header.line.count", "1");
    } else {
        ddl_prop(&d, "classification", "json");
    }
    projection(p, location, ddl_prop, &d);
    cp_buf_adds(&b, "\n);\n");
    return cp_buf_take(&b, NULL);
}

static void json_prop(void *ud, const char *name, const char *value)
{
    json_object_set_new(ud, name, json_string(value));
}

/* The input of `aws glue create-table --cli-input-json`. */
static char *glue_table(const struct table_spec *spec, const struct partitions *p,
                        const char *location, const char *database, const char *table)
{
    json_t *columns = json_array();
    for (size_t i = 0; i < sizeof spec->columns / sizeof spec->columns[0] && spec->columns[i].name;
         i++) {
        const struct column *c = &spec->columns[i];
        json_t *col = json_pack("{s:s, s:s}", "Name", c->name, "Type", c->type);
        if (c->comment)
            json_object_set_new(col, "Comment", json_string(c->comment));
        json_array_append_new(columns, col);
    }
    json_t *keys = json_array();
    for (int k = 0; k < N_PARTITION_KEYS; k++)
        json_array_append_new(keys,
                              json_pack("{s:s, s:s}", "Name", partition_keys[k], "Type", "string"));
    json_t *params = json_pack("{s:s}", "classification", spec->json ? "json" : "csv");
    if (!spec->json)
        json_object_set_new(params, "skip.header.line.count", json_string("1"));
    projection(p, location, json_prop, params);
    json_t *serde =
        spec->json
            ? json_pack("{s:s, s:{}}", "SerializationLibrary", JSON_SERDE, "Parameters")
            : json_pack("{s:s, s:{s:s, s:s, s:s}}", "SerializationLibrary", CSV_SERDE, "Parameters",
                        "separatorChar", ",", "quoteChar", "\"", "escapeChar", "\\");
    char *loc = table_location(p, location);
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s, s:s, s:o, s:o, s:{s:o, s:s, s:s, s:s, s:o}}}", "DatabaseName",
                  database, "TableInput", "Name", table, "Description", spec->comment, "TableType",
                  "EXTERNAL_TABLE", "Parameters", params, "PartitionKeys", keys,
                  "StorageDescriptor", "Columns", columns, "Location", loc ? loc : "",
                  "InputFormat", TEXT_INPUT, "OutputFormat", TEXT_OUTPUT, "SerdeInfo", serde);
    free(loc);
    if (!doc)
        return NULL;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

cp_status cp_catalog_export(PGconn *conn, enum cp_catalog_dialect dialect, const char *location,
                            const char *database, struct cp_catalog_table **tables, size_t *count,
                            struct cp_buf *warnings, char *err, size_t errlen)
{
    *tables = NULL;
    *count = 0;
    PGresult *res = NULL;
    char why[512];
    cp_status read = cp_catalog_partitions(conn, &res, why, sizeof why);
    if (read == CP_ERR_DB) {
        snprintf(err, errlen, "reading catalog.raw_object: %s", why);
        return CP_ERR_DB;
    }
    int n = res ? PQntuples(res) : 0;
    struct cp_catalog_table *out = cp_calloc((size_t)n + 1, sizeof *out);
    size_t made = 0;
    cp_status st = CP_OK;
    for (int r = 0; r < n && st == CP_OK; r++) {
        struct partitions p;
        p.format = PQgetvalue(res, r, 0);
        for (int k = 0; k < N_PARTITION_KEYS; k++)
            p.values[k] = PQgetvalue(res, r, 1 + k);
        p.dates_only = !strcmp(PQgetvalue(res, r, 5), "t");
        p.first_date = PQgetvalue(res, r, 6);
        p.last_date = PQgetvalue(res, r, 7);
        p.objects = strtoll(PQgetvalue(res, r, 8), NULL, 10);
        p.unparsed = strtoll(PQgetvalue(res, r, 9), NULL, 10);
        const struct table_spec *spec = spec_for(p.format);
        if (!spec) {
            if (warnings)
                cp_buf_addf(warnings,
                            "format '%s' (%lld objects) left out: the export knows no columns "
                            "for it\n",
                            p.format, p.objects);
            continue;
        }
        if (p.unparsed == p.objects) {
            if (warnings)
                cp_buf_addf(warnings,
                            "format '%s' left out: none of its %lld object keys has the "
                            "source=/chart=/region=/date= layout\n",
                            p.format, p.objects);
            continue;
        }
        if (p.unparsed && warnings)
            cp_buf_addf(warnings,
                        "format '%s': %lld of its %lld object keys lack the "
                        "source=/chart=/region=/date= layout and are outside the table\n",
                        p.format, p.unparsed, p.objects);
        struct cp_catalog_table *t = &out[made];
        table_name(p.format, t->name, sizeof t->name);
        t->text = dialect == CP_CATALOG_ATHENA ? athena_ddl(spec, &p, location, database, t->name)
                                               : glue_table(spec, &p, location, database, t->name);
        if (!t->text) {
            snprintf(err, errlen, "the definition of %s does not fit in memory", t->name);
            st = CP_ERR_TOO_LARGE;
            break;
        }
        made++;
    }
    /* Formats sharing a partition (both Kaggle sets land under source=kaggle/.../mixed/) put
     * each other's files in each other's tables: say so rather than let Athena mix them. */
    if (st == CP_OK && warnings && n > 1) {
        PGresult *shared = NULL;
        if (cp_catalog_shared_partitions(conn, &shared, why, sizeof why) == CP_OK) {
            for (int r = 0; r < PQntuples(shared); r++)
                cp_buf_addf(warnings,
                            "partition %s holds objects of several formats (%s): each of their "
                            "tables reads the others' files there too\n",
                            PQgetvalue(shared, r, 0), PQgetvalue(shared, r, 1));
            PQclear(shared);
        }
    }
    if (res)
        PQclear(res);
    if (st != CP_OK) {
        cp_catalog_tables_free(out, made);
        return st;
    }
    *tables = out;
    *count = made;
    return CP_OK;
}

void cp_catalog_tables_free(struct cp_catalog_table *tables, size_t count)
{
    for (size_t i = 0; tables && i < count; i++)
        free(tables[i].text);
    free(tables);
}

static void usage(FILE *out)
{
    fputs("usage: chartpulse catalog export --format glue|athena [--database NAME]\n"
          "                                 [--location URI] [--out DIR]\n"
          "\n"
          "Writes a table definition for every format in the raw-zone catalog, so Athena or\n"
          "Spark read the raw files without PostgreSQL: columns from the format's CSV header,\n"
          "partitions source/chart/region/date as the raw zone lays its keys out, with\n"
          "partition projection over the values the catalog holds now (export again after\n"
          "ingesting a new region or chart).\n"
          "\n"
          "  --format F       glue: `aws glue create-table --cli-input-json` documents (a JSON\n"
          "                   array on stdout); athena: CREATE EXTERNAL TABLE statements\n"
          "  --database NAME  Glue database / Athena schema (default chartpulse_raw)\n"
          "  --location URI   where the raw zone is read from (default CHARTPULSE_RAW_URI,\n"
          "                   e.g. s3://bucket/raw)\n"
          "  --out DIR        one file per table, DIR/<table>.json or .sql, instead of stdout\n",
          out);
}

static bool valid_identifier(const char *s)
{
    if (!*s || strlen(s) > 255)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int write_out(const char *cmd, enum cp_catalog_dialect dialect, const char *dir,
                     struct cp_catalog_table *tables, size_t count)
{
    if (!dir) {
        if (dialect == CP_CATALOG_GLUE) {
            fputs("[\n", stdout);
            for (size_t i = 0; i < count; i++)
                printf("%s%s", tables[i].text, i + 1 < count ? ",\n" : "\n");
            fputs("]\n", stdout);
        } else {
            for (size_t i = 0; i < count; i++)
                printf("%s%s", i ? "\n" : "", tables[i].text);
        }
        return fflush(stdout) ? cp_cli_fail(cmd, "writing stdout: %s", strerror(errno)) : 0;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cp_cli_fail(cmd, "--out %s: %s", dir, strerror(errno));
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.%s", dir, tables[i].name,
                 dialect == CP_CATALOG_GLUE ? "json" : "sql");
        FILE *f = fopen(path, "w");
        if (!f)
            return cp_cli_fail(cmd, "--out: cannot write %s: %s", path, strerror(errno));
        fputs(tables[i].text, f);
        if (dialect == CP_CATALOG_GLUE)
            fputc('\n', f);
        if (fclose(f) != 0)
            return cp_cli_fail(cmd, "--out: writing %s: %s", path, strerror(errno));
        printf("%s\n", path);
    }
    return 0;
}

int cp_catalog_main(int argc, char **argv)
{
    const char *cmd = "catalog export";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "export"))
        return cp_cli_fail("catalog", "unknown subcommand '%s' (see --help)", argv[1]);
    argc--;
    argv++;
    const char *format = NULL, *database = "chartpulse_raw", *location = NULL, *out = NULL;
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},   {"database", required_argument, NULL, 'd'},
        {"location", required_argument, NULL, 'l'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:d:l:o:h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'd':
            database = optarg;
            break;
        case 'l':
            location = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return cp_cli_fail(cmd, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!format)
        return cp_cli_fail(cmd, "--format is required: glue or athena (see --help)");
    enum cp_catalog_dialect dialect;
    if (!strcmp(format, "glue"))
        dialect = CP_CATALOG_GLUE;
    else if (!strcmp(format, "athena"))
        dialect = CP_CATALOG_ATHENA;
    else
        return cp_cli_fail(cmd, "--format: '%s' is neither glue nor athena", format);
    if (!valid_identifier(database))
        return cp_cli_fail(cmd,
                           "--database: '%s' is not a Glue database name (lower-case letters, "
                           "digits and _)",
                           database);
    if (location && strncmp(location, "s3://", 5) && strncmp(location, "file://", 7))
        return cp_cli_fail(cmd, "--location: '%s' is neither s3://bucket/prefix nor file:///path",
                           location);

    struct cp_config cfg;
    if (!cp_cli_setup("catalog", &cfg))
        return 1;
    if (!location)
        location = cfg.raw_uri;
    char err[1024];
    PGconn *conn = cp_db_connect(cfg.database_url, err, sizeof err);
    if (!conn) {
        int rc = cp_cli_fail(cmd, "cannot connect to DATABASE_URL: %s", err);
        cp_config_cleanup(&cfg);
        return rc;
    }
    struct cp_catalog_table *tables = NULL;
    size_t count = 0;
    struct cp_buf warnings;
    cp_buf_init(&warnings, 1u << 16);
    cp_status st = cp_catalog_export(conn, dialect, location, database, &tables, &count, &warnings,
                                     err, sizeof err);
    PQfinish(conn);
    int status;
    if (st != CP_OK) {
        status = cp_cli_fail(cmd, "%s", err);
    } else {
        for (const char *line = warnings.data; line && *line;) {
            const char *end = strchr(line, '\n');
            int len = end ? (int)(end - line) : (int)strlen(line);
            fprintf(stderr, "chartpulse %s: warning: %.*s\n", cmd, len, line);
            line += len + (end != NULL);
        }
        status = count ? write_out(cmd, dialect, out, tables, count)
                       : cp_cli_fail(cmd, "the catalog holds no objects to describe: ingest "
                                          "chart files first (chartpulse ingest)");
    }
    cp_buf_free(&warnings);
    cp_catalog_tables_free(tables, count);
    cp_config_cleanup(&cfg);
    return status;
}
