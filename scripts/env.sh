#!/usr/bin/env bash
# The private local environment: Debian packages, a PostgreSQL 15 cluster and a Redis
# server under ./var, both on loopback. Every verb is idempotent.
#
#   scripts/env.sh deps     install missing Debian and npm packages
#   scripts/env.sh up       deps + start PostgreSQL (127.0.0.1:$CHARTPULSE_PG_PORT) and Redis
#   scripts/env.sh down     stop both (data is kept under var/)
#   scripts/env.sh pg-stop | pg-restart   stop or restart PostgreSQL alone (tests/faults)
#   scripts/env.sh status   say what is running and where PostgreSQL keeps its data
#   scripts/env.sh createdb NAME [--fresh]   create (or drop and recreate) a database
#   scripts/env.sh urls [DBNAME [REDIS_DB]]  print `export DATABASE_URL=...` lines for the
#                           private services (default: database chartpulse, Redis db 0)
#                           and PGPASSFILE (var/pgpass: the roles' generated passwords)
#
# Ports: CHARTPULSE_PG_PORT (54320), CHARTPULSE_REDIS_PORT (63790).
# TCP logins need a password (scram-sha-256): env.sh generates one per role into the
# libpq passfile var/pgpass (0600); the Unix socket admits only the cluster's OS owner
# (peer). A cluster made by an older env.sh with `trust` is converted by `up`.
# As root the cluster runs as user postgres. When postgres cannot enter the checkout (a
# clone under root's 0700 home), its data, socket and log are kept in
# /var/lib/chartpulse/<hash of the checkout's path>/ instead, linked as var/pg.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# CHARTPULSE_VAR_DIR: a second private environment elsewhere (tests/faults/run.sh keeps one
# it may stop and hang under var/faults); default var/.
VAR="${CHARTPULSE_VAR_DIR:-$ROOT/var}"
PG_PORT=${CHARTPULSE_PG_PORT:-54320}
REDIS_PORT=${CHARTPULSE_REDIS_PORT:-63790}
REDIS_DIR="$VAR/redis"
PG_BIN=/usr/lib/postgresql/15/bin
# Where a root-run cluster goes when user postgres cannot reach var/ (see pg_place).
PG_OUTSIDE_BASE=/var/lib/chartpulse

# Debian packages the build, the services and the tests need (node and npm: npm_deps).
DEB_PACKAGES=(
    build-essential cmake pkg-config clang libclang-rt-14-dev
    libmicrohttpd-dev libpq-dev libjansson-dev libcurl4-openssl-dev libhiredis-dev
    libcsv-dev libssl-dev zlib1g-dev check
    postgresql-15 postgresql-client-15 postgresql-15-pgtap redis-server redis-tools
    curl ca-certificates prometheus libpostgresql-jdbc-java openjdk-17-jdk-headless
    # pg_prove (tests/sql/run.sh): only a Recommends of postgresql-15-pgtap
    libtap-parser-sourcehandler-pgtap-perl
    # the dashboard's browser tests (tests/browser): headless Chromium and a font to render with
    chromium fonts-dejavu-core
    # tests/deploy/compose.sh checks docker-compose.yml (config only: no engine runs here)
    docker-compose
    # useradd (pg_user), runuser (as_pg), lscpu (bench/load_bench.sh); git (bench/)
    passwd util-linux git
)

say() { printf 'env: %s\n' "$*" >&2; }
die() {
    printf 'env: error: %s\n' "$*" >&2
    exit 1
}

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
valid_port "$PG_PORT" || die "CHARTPULSE_PG_PORT: '$PG_PORT' is not a port number"
valid_port "$REDIS_PORT" || die "CHARTPULSE_REDIS_PORT: '$REDIS_PORT' is not a port number"

# The cluster's folder: var/pg, or the folder var/pg links to when it was placed outside
# the checkout. Data, socket and (when outside) the server's logs are below it.
pg_paths() {
    if [ -L "$VAR/pg" ]; then
        PG_DIR=$(readlink "$VAR/pg")
        PG_LOGDIR="$PG_DIR/log"
    else
        PG_DIR="$VAR/pg"
        PG_LOGDIR="$VAR/log"
    fi
    PG_DATA="$PG_DIR/data"
    PG_SOCK="$PG_DIR/run"
    PG_LOG="$PG_LOGDIR/postgresql.log"
    PG_INITDB_LOG="$PG_LOGDIR/initdb.log"
}
pg_paths

deps() {
    local missing=() p
    for p in "${DEB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them with apt-get"
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
            die "apt-get install ${missing[*]} failed"
    fi
    npm_deps
}

# Test tools from npm (package.json): installed into ./node_modules when it is missing or
# older than the lock file. node and npm come from Debian unless some other node (with
# its own npm) is installed already: Debian's npm package conflicts with those.
npm_deps() {
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || die "node or npm is missing; install nodejs and npm"
        say "installing nodejs npm"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
            die "apt-get install nodejs npm failed"
    fi
    if [ ! -f "$ROOT/node_modules/.package-lock.json" ] ||
        [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
        say "installing npm packages (package-lock.json)"
        (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
    fi
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
pg_user() {
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/sh postgres
        echo postgres
    else
        id -un
    fi
}

# Runs a command as the cluster's owner. From / : the caller's folder may be closed to it.
as_pg() {
    local u
    u=$(pg_user)
    if [ "$(id -un)" = "$u" ]; then "$@"; else (cd / && runuser -u "$u" -- "$@"); fi
}

pg_running() {
    [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

# As root, the server runs as postgres and must reach its data, socket and log files. When
# a parent folder of the checkout is closed to postgres (a clone in root's 0700 home), those
# go to a folder postgres owns outside the checkout, one per checkout path, and var/pg links
# to it. The parents' permissions are left alone. A cluster already placed stays put.
pg_place() {
    local u=$1 key dir
    mkdir -p "$VAR"
    [ -L "$VAR/pg" ] && return 0
    [ "$(id -u)" -eq 0 ] || return 0
    as_pg test -x "$VAR" && return 0
    if [ -e "$VAR/pg/data/PG_VERSION" ]; then
        die "user $u cannot enter $VAR, where the cluster $VAR/pg/data is: move that folder to $PG_OUTSIDE_BASE/<name>/data and link var/pg to $PG_OUTSIDE_BASE/<name>, or remove it"
    fi
    # no cluster in var/pg (at most the empty folders of an earlier failed start)
    rm -rf "$VAR/pg"
    key=$(printf '%s' "$ROOT${CHARTPULSE_VAR_DIR:+:$VAR}" | sha256sum | cut -c1-12)
    dir="$PG_OUTSIDE_BASE/$key"
    mkdir -p "$PG_OUTSIDE_BASE" "$dir"
    chmod 0755 "$PG_OUTSIDE_BASE"
    chown "$u" "$dir"
    chmod 0700 "$dir"
    printf '%s\n' "$ROOT" >"$dir/checkout" # which clone it belongs to, for humans
    ln -sfn "$dir" "$VAR/pg"
    pg_paths
    say "user $u cannot enter $VAR (a parent folder is closed to it): the PostgreSQL data, socket and log are kept in $dir (var/pg links to it)"
}

pg_up() {
    local u
    u=$(pg_user)
    pg_place "$u"
    mkdir -p "$PG_DIR" "$PG_SOCK" "$PG_LOGDIR"
    chown "$u" "$PG_DIR" "$PG_SOCK"
    [ -L "$VAR/pg" ] && chown "$u" "$PG_LOGDIR"
    touch "$PG_LOG" && chown "$u" "$PG_LOG"
    # The service user must be able to reach its folder (var/ through the checkout's parents).
    as_pg test -w "$PG_DIR" -a -x "$PG_DIR" -a -w "$PG_LOG" ||
        die "user $u cannot write in $PG_DIR or $PG_LOG (check the permissions of their parent folders)"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        say "creating PostgreSQL cluster in $PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=peer \
            --auth-host=scram-sha-256 --encoding=UTF8 \
            --locale=C.UTF-8 >"$PG_INITDB_LOG" 2>&1 || die "initdb failed: see $PG_INITDB_LOG"
        cat >>"$PG_DATA/postgresql.conf" <<EOF
# chartpulse private cluster: loopback only, sized for a 2-core development machine
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
fsync = off
synchronous_commit = off
full_page_writes = off
jit = off
EOF
        pg_hba_write
    fi
    if pg_running; then
        say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
    else
        if (echo >"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
            die "port $PG_PORT is taken by another server; stop it or set CHARTPULSE_PG_PORT"
        fi
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $PG_PORT" -w -t 60 start >/dev/null ||
            die "PostgreSQL did not start: see $PG_LOG"
        say "PostgreSQL on 127.0.0.1:$PG_PORT"
    fi
    pg_roles_up
    createdb_if_missing chartpulse
}

# Who may log in: the cluster's OS owner as postgres over the socket (peer; the set-up's
# own way in, which needs no password), everyone else over TCP with a password.
PG_ROLES=(postgres chartpulse chartpulse_api chartpulse_bi)
PASSFILE="$VAR/pgpass"
pg_hba_text() {
    printf '%s\n' "# written by scripts/env.sh: no trust, passwords over TCP" \
        "local all postgres peer map=owner" \
        "host all all 127.0.0.1/32 scram-sha-256"
}
pg_hba_write() {
    pg_hba_text | as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null
    printf 'owner %s postgres\n' "$(pg_user)" | as_pg tee "$PG_DATA/pg_ident.conf" >/dev/null
}

# A password per role, kept across runs in the passfile (0600, libpq's format) and set on
# every `up`, so a lost or new passfile and a cluster made with `trust` both end up agreeing.
# The roles the migrations create are created here first, so they have their password.
pg_roles_up() {
    local r pw old_umask lines=""
    old_umask=$(umask)
    umask 077
    for r in "${PG_ROLES[@]}"; do
        pw=""
        [ -f "$PASSFILE" ] && pw=$(awk -F: -v r="$r" '$4 == r { print $5; exit }' "$PASSFILE")
        [ -n "$pw" ] || pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        lines+="127.0.0.1:$PG_PORT:*:$r:$pw"$'\n'
    done
    printf '%s' "$lines" >"$PASSFILE.new"
    chmod 0600 "$PASSFILE.new"
    mv "$PASSFILE.new" "$PASSFILE"
    umask "$old_umask"
    {
        echo "select 'create role chartpulse login createrole createdb' where not exists (select from pg_roles where rolname = 'chartpulse') \\gexec"
        for r in chartpulse_api chartpulse_bi; do
            echo "select 'create role $r login' where not exists (select from pg_roles where rolname = '$r') \\gexec"
        done
        # lets the migrations give the roles a temp_file_limit (a SUSET parameter)
        echo "grant set on parameter temp_file_limit to chartpulse;"
        awk -F: '{ printf "alter role %s password '\''%s'\'';\n", $4, $5 }' "$PASSFILE"
    } | psql_socket -d postgres >/dev/null
    if ! pg_hba_text | as_pg cmp -s - "$PG_DATA/pg_hba.conf"; then
        grep -Eq '^[[:space:]]*[^#[:space:]].*[[:space:]]trust([[:space:]]|$)' "$PG_DATA/pg_hba.conf" &&
            say "converting the cluster from trust to passwords (scram-sha-256; passwords in $PASSFILE)"
        pg_hba_write
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null || die "PostgreSQL did not reload pg_hba.conf"
    fi
}

# As the cluster's owner over the Unix socket: works for a cluster that trusts (before its
# conversion) and for one that does not, with or without the passfile.
psql_socket() {
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"
}

psql_admin() {
    PGPASSFILE="$PASSFILE" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

createdb_if_missing() {
    psql_admin -d postgres -tAc "select 1 from pg_database where datname='$1'" | grep -q 1 ||
        psql_admin -d postgres -qc "create database \"$1\" owner chartpulse"
}

valid_dbname() { [[ $1 =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name '$1'"; }

createdb_cmd() {
    local name=$1 fresh=${2:-}
    valid_dbname "$name"
    if [ "$fresh" = "--fresh" ]; then
        psql_admin -d postgres -qc "drop database if exists \"$name\" with (force)"
    fi
    createdb_if_missing "$name"
}

# The connection URLs of the private services, as shell lines for eval: the one place in
# the scripts that turns the ports into URLs.
urls() {
    local db=${1:-chartpulse} redis_db=${2:-0}
    valid_dbname "$db"
    [[ $redis_db =~ ^[0-9]+$ ]] || die "bad Redis database number '$redis_db'"
    printf 'export DATABASE_URL=%q\n' "postgresql://chartpulse@127.0.0.1:$PG_PORT/$db"
    printf 'export API_DATABASE_URL=%q\n' "postgresql://chartpulse_api@127.0.0.1:$PG_PORT/$db"
    printf 'export REDIS_URL=%q\n' "redis://127.0.0.1:$REDIS_PORT/$redis_db"
    printf 'export PGPASSFILE=%q\n' "$PASSFILE"
}

redis_running() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

redis_up() {
    mkdir -p "$REDIS_DIR" "$VAR/log"
    if redis_running; then
        say "Redis already running on 127.0.0.1:$REDIS_PORT"
        return
    fi
    # 32 databases: each integration suite has its own (CMakeLists.txt numbers them 16..31)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
        --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$VAR/log/redis.log" \
        --maxmemory 256mb --maxmemory-policy allkeys-lru --databases 32 >/dev/null
    for _ in $(seq 50); do
        redis_running && break
        sleep 0.1
    done
    redis_running || die "Redis did not start: see $VAR/log/redis.log"
    say "Redis on 127.0.0.1:$REDIS_PORT"
}

pg_stop() {
    if pg_running; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && say "PostgreSQL stopped"
    fi
}

# With the same log and port as pg_up: the log may live outside the checkout (pg_place).
pg_restart() {
    pg_running || die "PostgreSQL is not running on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $PG_PORT" -m fast -w -t 60 restart \
        >/dev/null || die "PostgreSQL did not restart: see $PG_LOG"
    say "PostgreSQL restarted on 127.0.0.1:$PG_PORT"
}

down() {
    pg_stop
    local pid
    if [ -f "$REDIS_DIR/redis.pid" ] && pid=$(cat "$REDIS_DIR/redis.pid") && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        say "Redis stopped"
        rm -f "$REDIS_DIR/redis.pid"
    fi
}

status() {
    local where=""
    [ -L "$VAR/pg" ] && where=" (data in $PG_DATA, log $PG_LOG)"
    if pg_running; then
        echo "postgresql: running on 127.0.0.1:$PG_PORT$where"
    else
        echo "postgresql: stopped$where"
    fi
    if redis_running; then echo "redis: running on 127.0.0.1:$REDIS_PORT"; else echo "redis: stopped"; fi
}

case "${1:-}" in
deps) deps ;;
up)
    deps
    pg_up
    redis_up
    ;;
down) down ;;
pg-stop) pg_stop ;;
pg-restart) pg_restart ;;
status) status ;;
createdb)
    [ $# -ge 2 ] || die "usage: env.sh createdb NAME [--fresh]"
    createdb_cmd "$2" "${3:-}"
    ;;
urls) urls "${2:-}" "${3:-}" ;;
*)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
