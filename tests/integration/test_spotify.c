/* `chartpulse ingest spotify` and `chartpulse enrich` through the real binary against the
 * fake Spotify service (tests/fake_spotify) on loopback: a playlist snapshot and an
 * enrichment run surviving 429 with Retry-After, 5xx, dropped connections, tokens that
 * expire mid-run and batch routes that answer 403, with nothing lost and no request
 * repeated needlessly; clean stops past --max-wait or on QUOTA_EXCEEDED; the token cached
 * in Redis; and one clear line for bad credentials, an unknown playlist and an
 * unreachable host. */
#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/mem.h"
#include "pipeline/rawstore.h"
#include "tests/testutil.h"

#define CLIENT_ID     "test-client-id"
#define CLIENT_SECRET "test-client-secret"
#define N_ARTISTS     60
#define N_ALBUMS      25
#define N_TRACKS      100
#define CHART_TRACKS  60 /* tracks 0..59 are on the chart file enrichment starts from */

static char *catalog_path;
static char *db_url;
static char *raw_dir;
static PGconn *db;
static pid_t fake_pid;
static int fake_port;
static char *cli_env[12];

/* ---------------------------------------------------------------- the catalog */

static void make_id(const char *prefix, int n, char out[23])
{
    snprintf(out, 23, "%s%020d", prefix, n);
}

static char *track_id(int t)
{
    static char ids[4][23];
    static int slot;
    char *out = ids[slot++ % 4];
    make_id("TR", t, out);
    return out;
}

#define TYLER_ARTIST     "TYtylerTheCreator00001"
#define TYLER_TRACK      "TYearfquake00000000001"
#define UNKNOWN_TRACK    "UNknownToSpotify000001"
#define PLAYLIST         "PLchartpulseTest000001"
#define MISSING_PLAYLIST "PLdoesNotExist00000001"

/* Artists, albums and tracks with the variety the real API has: missing popularity,
 * followers, genres, labels, ISRCs; years, months, days and "0000" as release dates. */
static json_t *build_catalog(void)
{
    json_t *artists = json_array(), *albums = json_array(), *tracks = json_array();
    char id[23], other[23];
    for (int i = 0; i < N_ARTISTS; i++) {
        make_id("AR", i, id);
        char name[32];
        snprintf(name, sizeof name, "Artist %d", i);
        json_t *a = json_pack("{s:s,s:s}", "id", id, "name", name);
        if (i % 3 == 0)
            json_object_set_new(a, "genres", json_pack("[ss]", "pop", "dance pop"));
        else if (i % 3 == 1)
            json_object_set_new(a, "genres", json_array());
        if (i % 4)
            json_object_set_new(a, "popularity", json_integer(i));
        if (i % 5)
            json_object_set_new(a, "followers", json_integer(1000 * i));
        if (i % 2 == 0)
            json_object_set_new(a, "images",
                                json_pack("[{s:s,s:i,s:i}]", "url", "https://i.example/a.jpg",
                                          "width", 640, "height", 640));
        json_array_append_new(artists, a);
    }
    json_array_append_new(artists, json_pack("{s:s,s:s,s:[s],s:i,s:i}", "id", TYLER_ARTIST, "name",
                                             "Tyler, The Creator", "genres", "hip hop",
                                             "popularity", 85, "followers", 12345));
    static const char *const dates[][2] = {
        {"2019", "year"}, {"2019-05", "month"}, {"2019-05-17", "day"}, {"0000", "year"}};
    for (int j = 0; j < N_ALBUMS; j++) {
        make_id("AL", j, id);
        make_id("AR", j, other);
        char name[32], label[32];
        snprintf(name, sizeof name, "Album %d", j);
        snprintf(label, sizeof label, "Label %d", j);
        json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[s],s:i,s:[{s:s,s:i,s:i}]}", "id", id, "name",
                              name, "album_type", j % 3 ? "single" : "album", "release_date",
                              dates[j % 4][0], "release_date_precision", dates[j % 4][1], "artists",
                              other, "total_tracks", 10, "images", "url",
                              "https://i.example/cover.jpg", "width", 300, "height", 300);
        if (j % 5)
            json_object_set_new(a, "label", json_string(label));
        if (j % 2 == 0)
            json_object_set_new(a, "popularity", json_integer(50));
        json_array_append_new(albums, a);
    }
    for (int t = 0; t < N_TRACKS; t++) {
        char name[32], isrc[16], album[23];
        snprintf(name, sizeof name, "Track %d", t);
        snprintf(isrc, sizeof isrc, "USRC1%07d", t);
        make_id("AL", t % N_ALBUMS, album);
        make_id("AR", t % N_ARTISTS, id);
        json_t *credits = json_pack("[s]", id);
        if (t % 4 == 0) {
            make_id("AR", (t + 1) % N_ARTISTS, other);
            json_array_append_new(credits, json_string(other));
        }
        json_t *tr =
            json_pack("{s:s,s:s,s:s,s:o,s:i,s:b}", "id", track_id(t), "name", name, "album", album,
                      "artists", credits, "duration_ms", 180000 + t, "explicit", t % 2 == 0);
        if (t % 7)
            json_object_set_new(tr, "isrc", json_string(isrc));
        if (t % 6)
            json_object_set_new(tr, "popularity", json_integer(t % 101));
        json_array_append_new(tracks, tr);
    }
    make_id("AL", 0, other);
    json_array_append_new(
        tracks, json_pack("{s:s,s:s,s:s,s:[s],s:i,s:b,s:s,s:i}", "id", TYLER_TRACK, "name",
                          "EARFQUAKE", "album", other, "artists", TYLER_ARTIST, "duration_ms",
                          190066, "explicit", 1, "isrc", "USQX91900602", "popularity", 80));
    /* the playlist: tracks 0..99, a local file at position 5, an unavailable track, an
     * episode and a track listed twice: 105 items, 101 chart entries, 3 pages of 50 */
    json_t *items = json_array();
    for (int t = 0; t < N_TRACKS; t++) {
        if (t == 4)
            json_array_append_new(items, json_pack("{s:s}", "local", "demo tape.mp3"));
        json_array_append_new(items, json_string(track_id(t)));
    }
    json_array_append_new(items, json_string(TYLER_TRACK));
    json_array_append_new(items, json_null());
    json_array_append_new(items, json_pack("{s:s}", "episode", "A podcast"));
    json_array_append_new(items, json_string(track_id(3)));
    return json_pack("{s:o,s:o,s:o,s:[{s:s,s:s,s:o}]}", "artists", artists, "albums", albums,
                     "tracks", tracks, "playlists", "id", PLAYLIST, "name", "Test playlist",
                     "items", items);
}

static void write_catalog(void)
{
    catalog_path = cp_strdup("/tmp/chartpulse-fake-catalog-XXXXXX");
    /* runs before the suite, where ck_assert cannot report */
    int fd = mkstemp(catalog_path);
    json_t *catalog = build_catalog();
    if (fd < 0 || json_dump_file(catalog, catalog_path, JSON_COMPACT) != 0) {
        fprintf(stderr, "test_spotify: cannot write the fake's catalog to %s\n", catalog_path);
        exit(1);
    }
    close(fd);
    json_decref(catalog);
}

static void remove_catalog(void)
{
    unlink(catalog_path);
    free(catalog_path);
}

/* ---------------------------------------------------------------- the fake */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    return ntohs(addr.sin_port);
}

static char *fake_binary(void)
{
    const char *explicit_path = getenv("FAKE_SPOTIFY_BINARY");
    if (explicit_path)
        return cp_strdup(explicit_path);
    const char *cli = getenv("CHARTPULSE_BINARY");
    ck_assert_msg(cli != NULL, "CHARTPULSE_BINARY is not set (run the tests through ctest)");
    char *copy = cp_strdup(cli);
    char *path = cp_asprintf("%s/fake_spotify", dirname(copy));
    free(copy);
    return path;
}

/* Starts the fake with extra arguments (NULL-terminated) and waits for its port. */
static void start_fake(const char *const *extra)
{
    char *bin = fake_binary();
    ck_assert_msg(access(bin, X_OK) == 0, "%s is missing (build the fake_spotify target)", bin);
    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    pid_t parent = getpid();
    fake_pid = fork();
    ck_assert_int_ge(fake_pid, 0);
    if (fake_pid == 0) {
        /* never outlive the test process, even when a failed test skips its teardown */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        const char *argv[32];
        size_t n = 0;
        argv[n++] = bin;
        argv[n++] = "--catalog";
        argv[n++] = catalog_path;
        argv[n++] = "--client-id";
        argv[n++] = CLIENT_ID;
        argv[n++] = "--client-secret";
        argv[n++] = CLIENT_SECRET;
        for (size_t i = 0; extra && extra[i] && n < 31; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char line[64] = "";
    FILE *f = fdopen(out[0], "r");
    ck_assert_msg(fgets(line, sizeof line, f) != NULL, "the fake did not start");
    fclose(f);
    ck_assert_int_eq(sscanf(line, "port %d", &fake_port), 1);
    free(bin);
    free(cli_env[2]);
    free(cli_env[3]);
    cli_env[2] = cp_asprintf("SPOTIFY_API_URL=http://127.0.0.1:%d/v1", fake_port);
    cli_env[3] = cp_asprintf("SPOTIFY_ACCOUNTS_URL=http://127.0.0.1:%d", fake_port);
}

static void stop_fake(void)
{
    if (fake_pid <= 0)
        return;
    kill(fake_pid, SIGTERM);
    int status = 0;
    waitpid(fake_pid, &status, 0);
    fake_pid = 0;
    /* a sanitizer report (a leak, say) in the fake fails the test too */
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fake exited with %d", status);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    cp_buf_add(ud, data, size * n);
    return size * n;
}

/* Calls a control route of the fake; returns the parsed answer (caller decrefs). */
static json_t *fake_call(const char *method, const char *path, const char *body)
{
    CURL *c = curl_easy_init();
    char *url = cp_asprintf("http://127.0.0.1:%d%s", fake_port, path);
    struct cp_buf answer;
    cp_buf_init(&answer, TU_BODY_MAX);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_msg(status == 200, "%s %s: %ld %s", method, path, status,
                  answer.data ? answer.data : "");
    json_t *parsed = json_loadb(answer.data, answer.len, 0, NULL);
    ck_assert_ptr_nonnull(parsed);
    cp_buf_free(&answer);
    free(url);
    curl_easy_cleanup(c);
    return parsed;
}

static void add_faults(const char *rules)
{
    json_decref(fake_call("POST", "/_fake/faults", rules));
}

/* The requests the fake has answered so far. */
static json_t *fake_log(void)
{
    return fake_call("GET", "/_fake/requests", NULL);
}

static long count_where(const json_t *log, const char *route, long status)
{
    long n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(log, i, r)
    {
        if (route && strcmp(json_string_value(json_object_get(r, "route")), route))
            continue;
        if (status >= 0 && json_integer_value(json_object_get(r, "status")) != status)
            continue;
        n++;
    }
    return n;
}

/* Nothing was asked twice that had been answered already: every request the fake
 * answered with 2xx is distinct (method, path, query), the token POST aside. */
static void assert_no_needless_repeat(const json_t *log)
{
    size_t i, j;
    json_t *a, *b;
    json_array_foreach(log, i, a)
    {
        long status = (long)json_integer_value(json_object_get(a, "status"));
        if (status < 200 || status > 299 ||
            !strcmp(json_string_value(json_object_get(a, "route")), "token"))
            continue;
        json_array_foreach(log, j, b)
        {
            if (j <= i)
                continue;
            ck_assert_msg(
                !(json_integer_value(json_object_get(b, "status")) / 100 == 2 &&
                  json_equal(json_object_get(a, "method"), json_object_get(b, "method")) &&
                  json_equal(json_object_get(a, "path"), json_object_get(b, "path")) &&
                  json_equal(json_object_get(a, "query"), json_object_get(b, "query"))),
                "asked again after a 2xx answer: %s %s?%s",
                json_string_value(json_object_get(a, "method")),
                json_string_value(json_object_get(a, "path")),
                json_string_value(json_object_get(a, "query")));
        }
    }
}

/* Every 401 was followed by exactly one new token: tokens = 1 + 401s. */
static void assert_token_refreshes(const json_t *log, long want_401)
{
    long unauthorized = count_where(log, NULL, 401);
    ck_assert_int_eq(unauthorized, want_401);
    ck_assert_int_eq(count_where(log, "token", 200), 1 + unauthorized);
}

static long distinct_client_ports(const json_t *log)
{
    long ports[512];
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(log, i, r)
    {
        long port = (long)json_integer_value(json_object_get(r, "client_port"));
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = ports[k] == port;
        if (!seen && n < 512)
            ports[n++] = port;
    }
    return (long)n;
}

/* ---------------------------------------------------------------- fixtures */

static void setup(void)
{
    db_url = tu_fresh_database("chartpulse_test_spotify", NULL);
    raw_dir = cp_strdup("/tmp/chartpulse-raw-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(raw_dir));
    cli_env[0] = cp_asprintf("DATABASE_URL=%s", db_url);
    cli_env[1] = cp_asprintf("CHARTPULSE_RAW_URI=file://%s", raw_dir);
    cli_env[2] = cp_strdup("SPOTIFY_API_URL=http://127.0.0.1:1/v1");
    cli_env[3] = cp_strdup("SPOTIFY_ACCOUNTS_URL=http://127.0.0.1:1");
    cli_env[4] = cp_strdup("SPOTIFY_CLIENT_ID=" CLIENT_ID);
    cli_env[5] = cp_strdup("SPOTIFY_CLIENT_SECRET=" CLIENT_SECRET);
    /* the token cache is off unless a test turns it on: each fake issues its own tokens */
    cli_env[6] = cp_strdup("REDIS_URL=");
    cli_env[7] = cp_strdup("CHARTPULSE_LOG_FORMAT=text");
    cli_env[8] = NULL;
    db = PQconnectdb(db_url);
    ck_assert_msg(PQstatus(db) == CONNECTION_OK, "%s", PQerrorMessage(db));
    fake_pid = 0;
}

static void teardown(void)
{
    stop_fake();
    PQfinish(db);
    char *rm = cp_asprintf("rm -rf '%s'", raw_dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(raw_dir);
    free(db_url);
    for (int i = 0; cli_env[i]; i++) {
        free(cli_env[i]);
        cli_env[i] = NULL;
    }
}

static int run_cli(const char *const *args, char **stderr_text)
{
    return tu_run_cli(args, (const char *const *)cli_env, stderr_text);
}

static void set_env(int slot, char *entry)
{
    free(cli_env[slot]);
    cli_env[slot] = entry;
}

static char *scalar(const char *sql)
{
    return tu_query_value(db, sql);
}

static void assert_scalar(const char *sql, const char *expected)
{
    char *v = scalar(sql);
    ck_assert_msg(!strcmp(v, expected), "%s\n  got:      %s\n  expected: %s", sql, v, expected);
    free(v);
}

static int lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* A charts.spotify.com chart with tracks 0..59, EARFQUAKE and a track Spotify does not
 * know, ingested and loaded: provisional credits split from artist_names, track 7 with
 * an empty title and artist line for enrichment to fill. */
static void load_chart(void)
{
    char *path = cp_asprintf("%s/regional-global-daily-2030-01-01.csv", raw_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("\xef\xbb\xbfrank,uri,artist_names,track_name,source,peak_rank,previous_rank,"
          "days_on_chart,streams\n",
          f);
    int rank = 1;
    for (int t = 0; t < CHART_TRACKS; t++, rank++) {
        char artists[64], name[32];
        if (t % 4 == 0)
            snprintf(artists, sizeof artists, "Artist %d, Artist %d", t, (t + 1) % N_ARTISTS);
        else
            snprintf(artists, sizeof artists, "Artist %d", t);
        snprintf(name, sizeof name, "Track %d", t);
        fprintf(f, "%d,\"spotify:track:%s\",\"%s\",\"%s\",\"Label\",%d,-1,1,\"%d\"\n", rank,
                track_id(t), t == 7 ? "" : artists, t == 7 ? "" : name, rank, 1000000 - rank);
    }
    fprintf(f,
            "%d,\"spotify:track:%s\",\"Tyler, The Creator\",\"EARFQUAKE\",\"Columbia\",%d,-1,1,"
            "\"5000\"\n",
            rank, TYLER_TRACK, rank);
    rank++;
    fprintf(f, "%d,\"spotify:track:%s\",\"Nobody Known\",\"Gone\",\"X\",%d,-1,1,\"4000\"\n", rank,
            UNKNOWN_TRACK, rank);
    fclose(f);
    const char *ingest[] = {"ingest", path, NULL};
    char *out = NULL;
    ck_assert_int_eq(run_cli(ingest, &out), 0);
    free(out);
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 0);
    free(out);
    free(path);
    assert_scalar("select count(*) from core.chart_entry", "62");
    /* provisional credits, split wrongly where a name has a comma */
    assert_scalar("select string_agg(a.name, '|' order by c.position) from core.track_credit c"
                  " join core.artist a using (artist_id) where c.track_id = '" TYLER_TRACK "'",
                  "Tyler|The Creator");
}

/* ---------------------------------------------------------------- tests */

START_TEST(playlist_snapshot_survives_faults)
{
    /* tokens answer two calls; page 1 meets a 504, page 2 a 429 with Retry-After, and
     * page 3 finds the token expired */
    const char *args[] = {"--token-uses", "2", NULL};
    start_fake(args);
    add_faults("[{\"route\":\"playlist-items\",\"nth\":1,\"status\":504},"
               " {\"route\":\"playlist-items\",\"nth\":3,\"status\":429,\"retry_after\":1}]");
    const char *ingest[] = {
        "ingest",   "spotify", "--playlist", "https://open.spotify.com/playlist/" PLAYLIST "?si=x",
        "--region", "se",      "--max-wait", "5",
        NULL};
    char *out = NULL;
    int rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "101 entries from 3 pages") != NULL, "%s", out);
    free(out);

    json_t *log = fake_log();
    ck_assert_int_eq(count_where(log, "playlist-items", 200), 3);
    ck_assert_int_eq(count_where(log, "playlist-items", 504), 1);
    ck_assert_int_eq(count_where(log, "playlist-items", 429), 1);
    assert_token_refreshes(log, 1);
    assert_no_needless_repeat(log);
    ck_assert_int_eq(distinct_client_ports(log), 1); /* one keep-alive connection */
    ck_assert_int_eq(count_where(log, NULL, -1), 8); /* 2 tokens, 6 page requests */
    json_decref(log);

    /* the snapshot: rank = position, no streams, holes where no track is */
    assert_scalar("select chart_kind || '/' || region || '/' || period || '/' || entries ||"
                  " '/' || (chart_date = (now() at time zone 'utc')::date)"
                  " from core.chart",
                  "playlist/se/daily/101/true");
    assert_scalar("select count(*) || '/' || count(streams) || '/' || min(rank) || '/' || max(rank)"
                  " from core.chart_entry",
                  "101/0/1/102");
    assert_scalar("select count(*) from core.chart_entry where rank in (5, 103, 104, 105)", "0");
    assert_scalar("select rank from core.chart_entry where track_id = '" TYLER_TRACK "'", "102");
    assert_scalar("select rank from core.chart_entry where track_id = '"
                  "TR00000000000000000003"
                  "'",
                  "4");
    assert_scalar("select name || '|' || artist_names from core.track"
                  " where track_id = 'TR00000000000000000004'",
                  "Track 4|Artist 4, Artist 5");
    /* the pages, unchanged, in the raw zone and the catalog, all loaded */
    assert_scalar("select string_agg(object_key, ',' order by object_id) ~ "
                  "'^(source=spotify-web-api/chart=playlist-daily/region=se/date=[0-9-]{10}/"
                  "playlist-" PLAYLIST "-page-[123]\\.[0-9a-f]{12}\\.json,?){3}$'"
                  " from catalog.raw_object",
                  "t");
    assert_scalar("select string_agg(format || ':' || rows_loaded, ',' order by object_id)"
                  " from catalog.raw_object where loaded_at is not null",
                  "spotify-playlist:101,spotify-playlist:50,spotify-playlist:2");
    char *check = cp_asprintf("test $(find '%s' -name 'playlist-*.json' | wc -l) -eq 3", raw_dir);
    ck_assert_int_eq(system(check), 0);
    free(check);
    /* the items' track objects were stored: popularity where present */
    assert_scalar("select count(*) || '/' || count(popularity) || '/' || count(isrc)"
                  " from core.track where enriched_at is not null",
                  "101/84/86");
    assert_scalar("select string_agg(a.name, '|' order by c.position) from core.track_credit c"
                  " join core.artist a using (artist_id) where c.track_id = '" TYLER_TRACK "'",
                  "Tyler, The Creator");

    /* the same snapshot again the same day changes nothing */
    char *before = tu_pipeline_checksum(db);
    /* a page is JSON, not a chart file: `load --object` says so and changes nothing */
    char *first_page = scalar("select min(object_id) from catalog.raw_object");
    const char *reload[] = {"load", "--object", first_page, NULL};
    ck_assert_int_eq(run_cli(reload, &out), 1);
    ck_assert_msg(strstr(out, "playlist page") && strstr(out, "ingest spotify --playlist"), "%s",
                  out);
    free(out);
    free(first_page);
    char *after_reload = tu_pipeline_checksum(db);
    ck_assert_str_eq(before, after_reload);
    free(after_reload);
    ck_assert_int_eq(run_cli(ingest, &out), 0);
    ck_assert_msg(strstr(out, "unchanged") != NULL, "%s", out);
    free(out);
    char *after = tu_pipeline_checksum(db);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    /* the pages are no work for `chartpulse load` */
    const char *load[] = {"load", NULL};
    ck_assert_int_eq(run_cli(load, &out), 0);
    ck_assert_msg(strstr(out, "0 objects loaded") != NULL, "%s", out);
    free(out);

    /* enrich asks only for what the playlist did not tell: albums and artists */
    json_decref(fake_call("POST", "/_fake/reset", NULL));
    const char *enrich[] = {"enrich", NULL};
    rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    log = fake_log();
    ck_assert_int_eq(count_where(log, "tracks-batch", -1) + count_where(log, "track", -1), 0);
    ck_assert_int_eq(count_where(log, "albums-batch", 200), 2);  /* 25 albums */
    ck_assert_int_eq(count_where(log, "artists-batch", 200), 2); /* 61 artists */
    json_decref(log);
    assert_scalar("select count(*) from core.album where enriched_at is null", "0");
    assert_scalar("select count(*) from core.artist where enriched_at is null", "0");
}
END_TEST

START_TEST(enrichment_survives_faults)
{
    load_chart();
    /* development mode: no batch route for tracks, no popularity or followers; a 429, a
     * 503, a dropped connection, a 500 and tokens that expire every 25 calls */
    const char *args[] = {"--token-uses", "25", "--omit", "popularity,followers", NULL};
    start_fake(args);
    add_faults("[{\"route\":\"tracks-batch\",\"status\":403,\"times\":0},"
               " {\"route\":\"track\",\"nth\":3,\"status\":429,\"retry_after\":1},"
               " {\"route\":\"track\",\"nth\":10,\"status\":503},"
               " {\"route\":\"track\",\"nth\":20,\"status\":0},"
               " {\"route\":\"albums-batch\",\"nth\":1,\"status\":500},"
               " {\"route\":\"artists-batch\",\"nth\":2,\"status\":429,\"retry_after\":\"1\"}]");
    const char *enrich[] = {"enrich", "--max-wait", "5", NULL};
    char *out = NULL;
    int rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "61 tracks, 25 albums, 61 artists enriched, 1 id unknown") != NULL,
                  "%s", out);
    free(out);

    json_t *log = fake_log();
    /* the batch route was tried once, then one request per track */
    ck_assert_int_eq(count_where(log, "tracks-batch", -1), 1);
    ck_assert_int_eq(count_where(log, "tracks-batch", 403), 1);
    ck_assert_int_eq(count_where(log, "track", 200), 61);
    ck_assert_int_eq(count_where(log, "track", 404), 1);
    ck_assert_int_eq(count_where(log, "albums-batch", 200), 2);
    ck_assert_int_eq(count_where(log, "artists-batch", 200), 2);
    long unauthorized = count_where(log, NULL, 401);
    ck_assert_msg(unauthorized >= 2, "tokens should have expired mid-run (%ld 401s)", unauthorized);
    assert_token_refreshes(log, unauthorized);
    assert_no_needless_repeat(log);
    ck_assert_int_le(distinct_client_ports(log), 2); /* kept alive, one dropped */
    long requests = count_where(log, NULL, -1);
    json_decref(log);

    /* tracks */
    assert_scalar("select count(*) from core.track where enriched_at is null", "1");
    assert_scalar("select spotify_id || ':' || http_status from etl.enrich_missing",
                  UNKNOWN_TRACK ":404");
    assert_scalar("select duration_ms || '/' || explicit || '/' || coalesce(isrc, '-') || '/' ||"
                  " album_id || '/' || coalesce(popularity::text, 'null')"
                  " from core.track where track_id = 'TR00000000000000000002'",
                  "180002/true/USRC10000002/AL00000000000000000002/null");
    assert_scalar("select coalesce(isrc, 'null') from core.track"
                  " where track_id = 'TR00000000000000000007'",
                  "null");
    /* an empty title and artist line are filled in */
    assert_scalar("select name || '|' || artist_names from core.track"
                  " where track_id = 'TR00000000000000000007'",
                  "Track 7|Artist 7");
    /* real credits replace the provisional split */
    assert_scalar("select string_agg(a.name || '/' || c.role || '/' || a.provisional, '|'"
                  " order by c.position) from core.track_credit c join core.artist a"
                  " using (artist_id) where c.track_id = '" TYLER_TRACK "'",
                  "Tyler, The Creator/lead/false");
    assert_scalar("select string_agg(a.spotify_id || '/' || c.role, '|' order by c.position)"
                  " from core.track_credit c join core.artist a using (artist_id)"
                  " where c.track_id = 'TR00000000000000000008'",
                  "AR00000000000000000008/lead|AR00000000000000000009/featured");
    assert_scalar("select string_agg(name, '|') from core.artist where provisional",
                  "Nobody Known");
    assert_scalar("select count(*) from core.artist where name in ('Tyler', 'The Creator')", "0");
    /* albums: release date precision, the impossible "0000", labels where given */
    assert_scalar("select string_agg(album_id || '=' || coalesce(release_date::text, 'null') || '/'"
                  " || coalesce(release_date_precision, 'null'), ',' order by album_id)"
                  " from core.album where album_id <= 'AL00000000000000000003'",
                  "AL00000000000000000000=2019-01-01/year,AL00000000000000000001=2019-05-01/month,"
                  "AL00000000000000000002=2019-05-17/day,AL00000000000000000003=null/null");
    assert_scalar("select count(*) || '/' || count(label) || '/' || count(popularity) || '/' ||"
                  " count(images) from core.album where enriched_at is not null",
                  "25/20/0/25");
    assert_scalar("select label from core.album where album_id = 'AL00000000000000000001'",
                  "Label 1");
    /* artists: genres NULL when absent, {} when none; no popularity/followers (omitted) */
    assert_scalar("select coalesce(genres::text, 'null') from core.artist"
                  " where spotify_id = 'AR00000000000000000003'",
                  "{pop,\"dance pop\"}");
    assert_scalar("select coalesce(genres::text, 'null') from core.artist"
                  " where spotify_id = 'AR00000000000000000004'",
                  "{}");
    assert_scalar("select coalesce(genres::text, 'null') from core.artist"
                  " where spotify_id = 'AR00000000000000000005'",
                  "null");
    assert_scalar("select count(*) || '/' || count(popularity) || '/' || count(followers)"
                  " from core.artist where enriched_at is not null",
                  "61/0/0");

    /* a second run has nothing to do and asks nothing */
    rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "0 tracks, 0 albums, 0 artists enriched") != NULL, "%s", out);
    free(out);
    log = fake_log();
    ck_assert_int_eq(count_where(log, NULL, -1), requests);
    json_decref(log);
}
END_TEST

START_TEST(enrichment_with_batch_routes_and_popularity)
{
    load_chart();
    start_fake(NULL);
    const char *enrich[] = {"enrich", NULL};
    char *out = NULL;
    int rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    json_t *log = fake_log();
    /* 62 tracks in 2 calls, 25 albums in 2, 61 artists in 2; one token */
    ck_assert_int_eq(count_where(log, "tracks-batch", 200), 2);
    ck_assert_int_eq(count_where(log, "track", -1), 0);
    ck_assert_int_eq(count_where(log, "albums-batch", 200), 2);
    ck_assert_int_eq(count_where(log, "artists-batch", 200), 2);
    ck_assert_int_eq(count_where(log, NULL, -1), 7);
    json_decref(log);
    /* the unknown id came back as null in its batch */
    assert_scalar("select spotify_id || ':' || coalesce(http_status::text, 'null') || ':' || reason"
                  " from etl.enrich_missing",
                  UNKNOWN_TRACK ":null:null in the batch answer");
    assert_scalar("select popularity from core.track where track_id = 'TR00000000000000000005'",
                  "5");
    assert_scalar("select coalesce(popularity::text, 'null') from core.track"
                  " where track_id = 'TR00000000000000000006'",
                  "null");
    assert_scalar("select popularity || '/' || followers from core.artist"
                  " where spotify_id = 'AR00000000000000000003'",
                  "3/3000");
    assert_scalar("select coalesce(popularity::text, 'null') || '/' ||"
                  " coalesce(followers::text, 'null') from core.artist"
                  " where spotify_id = 'AR00000000000000000020'",
                  "null/null");
    assert_scalar("select popularity from core.album where album_id = 'AL00000000000000000002'",
                  "50");
}
END_TEST

START_TEST(stops_past_max_wait_and_resumes)
{
    load_chart();
    start_fake(NULL);
    add_faults("[{\"route\":\"artists-batch\",\"nth\":2,\"status\":429,\"retry_after\":30}]");
    const char *enrich[] = {"enrich", "--max-wait", "2", NULL};
    char *out = NULL;
    int rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 75, "exit %d: %s", rc, out);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "chartpulse enrich: stopped: Spotify asked to wait 30 s") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "left for the next run: 0 tracks, 0 albums, 11 artists") != NULL,
                  "%s", out);
    free(out);
    /* what was done is kept */
    assert_scalar("select count(*) from core.track where enriched_at is not null", "61");
    assert_scalar("select count(*) from core.artist where enriched_at is not null", "50");

    rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "0 tracks, 0 albums, 11 artists enriched") != NULL, "%s", out);
    free(out);
    json_t *log = fake_log();
    assert_no_needless_repeat(log);
    ck_assert_int_eq(count_where(log, "artists-batch", 200), 2);
    json_decref(log);
    assert_scalar(
        "select count(*) from core.artist where enriched_at is null and spotify_id is not null",
        "0");
}
END_TEST

START_TEST(stops_on_quota_exceeded)
{
    load_chart();
    start_fake(NULL);
    add_faults("[{\"route\":\"tracks-batch\",\"nth\":2,\"status\":429,\"retry_after\":1,"
               "  \"reason\":\"QUOTA_EXCEEDED\"}]");
    const char *enrich[] = {"enrich", NULL};
    char *out = NULL;
    int rc = run_cli(enrich, &out);
    ck_assert_msg(rc == 75, "exit %d: %s", rc, out);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "quota exceeded") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "left for the next run: 12 tracks") != NULL, "%s", out);
    free(out);
    assert_scalar("select count(*) from core.track where enriched_at is not null", "50");
    json_t *log = fake_log();
    ck_assert_int_eq(count_where(log, "tracks-batch", 429), 1);
    ck_assert_int_eq(count_where(log, NULL, -1), 3); /* token, batch 1, the quota answer */
    json_decref(log);
}
END_TEST

START_TEST(snapshot_stops_whole)
{
    start_fake(NULL);
    add_faults("[{\"route\":\"playlist-items\",\"nth\":2,\"status\":429,\"retry_after\":3600}]");
    const char *ingest[] = {"ingest", "spotify", "--playlist", PLAYLIST, "--max-wait", "1", NULL};
    char *out = NULL;
    int rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 75, "exit %d: %s", rc, out);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "Spotify asked to wait 3600 s") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "nothing landed") != NULL, "%s", out);
    free(out);
    assert_scalar("select count(*) from catalog.raw_object", "0");
    assert_scalar("select count(*) from core.chart", "0");
    /* a 503 whose Retry-After is past the cap stops the same way (page 1 is request 3) */
    add_faults("[{\"route\":\"playlist-items\",\"nth\":3,\"status\":503,\"retry_after\":600}]");
    rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 75, "exit %d: %s", rc, out);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "wait 600 s (503 Retry-After)") != NULL, "%s", out);
    free(out);
    /* the next run takes the whole snapshot */
    rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    assert_scalar("select count(*) from core.chart_entry", "101");
}
END_TEST

START_TEST(refreshes_token_before_expiry)
{
    /* a token with 61 s of life is replaced after 1 s (60 s early); the 2 s wait makes
     * the next call need a new one, fetched before the call instead of after a 401 */
    const char *args[] = {"--expires-in", "61", NULL};
    start_fake(args);
    add_faults("[{\"route\":\"playlist-items\",\"nth\":2,\"status\":429,\"retry_after\":2}]");
    const char *ingest[] = {"ingest", "spotify", "--playlist", PLAYLIST, NULL};
    char *out = NULL;
    int rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    json_t *log = fake_log();
    ck_assert_int_eq(count_where(log, NULL, 401), 0);
    ck_assert_int_ge(count_where(log, "token", 200), 2);
    assert_no_needless_repeat(log);
    json_decref(log);
}
END_TEST

START_TEST(token_cached_in_redis)
{
    const char *redis_url = getenv("REDIS_URL");
    if (!redis_url || !*redis_url) {
        fprintf(stderr, "token_cached_in_redis: REDIS_URL not set, skipped\n");
        return;
    }
    /* a client id of its own, so no other test run shares the cache entry */
    char client_id[64];
    snprintf(client_id, sizeof client_id, "redis-client-%d", (int)getpid());
    const char *args[] = {"--client-id", client_id, NULL};
    start_fake(args);
    set_env(4, cp_asprintf("SPOTIFY_CLIENT_ID=%s", client_id));
    set_env(6, cp_asprintf("REDIS_URL=%s", redis_url));

    /* the key: a hash of the accounts service and the client id, never the id itself */
    char *identity = cp_asprintf("http://127.0.0.1:%d\n%s", fake_port, client_id);
    char sha[65];
    cp_sha256_hex(identity, strlen(identity), sha);
    free(identity);
    char key[64];
    snprintf(key, sizeof key, "chartpulse:spotify:token:%.16s", sha);
    char host[64] = "127.0.0.1";
    int port = 6379, dbnum = 0;
    const char *hp = redis_url + strlen("redis://");
    sscanf(hp, "%63[^:/]:%d/%d", host, &port, &dbnum);
    redisContext *redis = redisConnect(host, port);
    ck_assert_msg(redis && !redis->err, "cannot connect to %s", redis_url);
    freeReplyObject(redisCommand(redis, "SELECT %d", dbnum));
    freeReplyObject(redisCommand(redis, "DEL %s", key));

    const char *ingest[] = {"ingest", "spotify", "--playlist", PLAYLIST, NULL};
    char *out = NULL;
    for (int run = 0; run < 2; run++) {
        int rc = run_cli(ingest, &out);
        ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
        free(out);
    }
    json_t *log = fake_log();
    ck_assert_int_eq(count_where(log, "token", -1), 1); /* the second run used the cache */
    json_decref(log);
    redisReply *ttl = redisCommand(redis, "TTL %s", key);
    ck_assert_int_eq(ttl->type, REDIS_REPLY_INTEGER);
    ck_assert_msg(ttl->integer > 3400 && ttl->integer <= 3540, "TTL %lld", ttl->integer);
    freeReplyObject(ttl);
    redisReply *cached = redisCommand(redis, "GET %s", key);
    ck_assert_int_eq(cached->type, REDIS_REPLY_STRING);
    char *old_token = cp_strdup(cached->str);
    freeReplyObject(cached);

    /* the cached token is revoked: the next run gets a 401, a new token, and caches it */
    json_decref(fake_call("POST", "/_fake/expire-tokens", NULL));
    int rc = run_cli(ingest, &out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    log = fake_log();
    ck_assert_int_eq(count_where(log, "token", -1), 2);
    ck_assert_int_eq(count_where(log, NULL, 401), 1);
    json_decref(log);
    cached = redisCommand(redis, "GET %s", key);
    ck_assert_int_eq(cached->type, REDIS_REPLY_STRING);
    ck_assert_str_ne(cached->str, old_token);
    freeReplyObject(cached);
    free(old_token);
    freeReplyObject(redisCommand(redis, "DEL %s", key));
    redisFree(redis);
}
END_TEST

START_TEST(failures_are_one_clear_line)
{
    start_fake(NULL);
    char *out = NULL;
    /* an unknown playlist */
    const char *missing[] = {"ingest", "spotify", "--playlist",
                             "spotify:playlist:" MISSING_PLAYLIST, NULL};
    ck_assert_int_eq(run_cli(missing, &out), 1);
    ck_assert_str_eq(out,
                     "chartpulse ingest spotify: playlist " MISSING_PLAYLIST " not found (404)\n");
    free(out);

    /* bad credentials */
    set_env(5, cp_strdup("SPOTIFY_CLIENT_SECRET=wrong"));
    const char *ingest[] = {"ingest", "spotify", "--playlist", PLAYLIST, NULL};
    ck_assert_int_eq(run_cli(ingest, &out), 1);
    ck_assert_str_eq(out, "chartpulse ingest spotify: Spotify rejected the client credentials "
                          "(invalid_client)\n");
    ck_assert(strstr(out, "wrong") == NULL); /* the secret is never printed */
    free(out);
    load_chart();
    const char *enrich[] = {"enrich", NULL};
    ck_assert_int_eq(run_cli(enrich, &out), 1);
    ck_assert_str_eq(out, "chartpulse enrich: Spotify rejected the client credentials "
                          "(invalid_client)\n");
    free(out);
    set_env(5, cp_strdup("SPOTIFY_CLIENT_SECRET=" CLIENT_SECRET));

    /* an unreachable host, named */
    int dead = free_port();
    set_env(2, cp_asprintf("SPOTIFY_API_URL=http://127.0.0.1:%d/v1", dead));
    set_env(3, cp_asprintf("SPOTIFY_ACCOUNTS_URL=http://127.0.0.1:%d", dead));
    char *host = cp_asprintf("cannot reach 127.0.0.1:%d", dead);
    ck_assert_int_eq(run_cli(ingest, &out), 1);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, host) != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(run_cli(enrich, &out), 1);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, host) != NULL, "%s", out);
    free(out);
    free(host);

    /* no credentials, a bad playlist argument */
    set_env(4, cp_strdup("SPOTIFY_CLIENT_ID="));
    ck_assert_int_eq(run_cli(ingest, &out), 1);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "SPOTIFY_CLIENT_ID") != NULL, "%s", out);
    free(out);
    const char *bad_id[] = {"ingest", "spotify", "--playlist", "spotify:album:" PLAYLIST, NULL};
    ck_assert_int_eq(run_cli(bad_id, &out), 1);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "--playlist") != NULL, "%s", out);
    free(out);
    const char *bad_region[] = {"ingest",   "spotify", "--playlist", PLAYLIST,
                                "--region", "xx",      NULL};
    ck_assert_int_eq(run_cli(bad_region, &out), 1);
    ck_assert_msg(strstr(out, "--region") != NULL, "%s", out);
    free(out);
}
END_TEST

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    write_catalog();
    Suite *s = suite_create("spotify");
    TCase *tc = tcase_create("spotify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, playlist_snapshot_survives_faults);
    tcase_add_test(tc, enrichment_survives_faults);
    tcase_add_test(tc, enrichment_with_batch_routes_and_popularity);
    tcase_add_test(tc, stops_past_max_wait_and_resumes);
    tcase_add_test(tc, stops_on_quota_exceeded);
    tcase_add_test(tc, snapshot_stops_whole);
    tcase_add_test(tc, refreshes_token_before_expiry);
    tcase_add_test(tc, token_cached_in_redis);
    tcase_add_test(tc, failures_are_one_clear_line);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    remove_catalog();
    curl_global_cleanup();
    return rc;
}
