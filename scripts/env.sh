#!/usr/bin/env bash
# The private local environment: Debian packages, a PostgreSQL 15 cluster and a Redis
# server under ./var, both on loopback. Every verb is idempotent.
#
#   scripts/env.sh deps     install missing Debian and npm packages
#   scripts/env.sh up       deps + start PostgreSQL (127.0.0.1:$CHARTPULSE_PG_PORT) and Redis
#   scripts/env.sh down     stop both (data is kept under var/)
#   scripts/env.sh status   say what is running
#   scripts/env.sh createdb NAME [--fresh]   create (or drop and recreate) a database
#
# Ports: CHARTPULSE_PG_PORT (54320), CHARTPULSE_REDIS_PORT (63790).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR="$ROOT/var"
PG_PORT=${CHARTPULSE_PG_PORT:-54320}
REDIS_PORT=${CHARTPULSE_REDIS_PORT:-63790}
PG_DATA="$VAR/pg/data"
PG_SOCK="$VAR/pg/run"
PG_LOG="$VAR/log/postgresql.log"
REDIS_DIR="$VAR/redis"
PG_BIN=/usr/lib/postgresql/15/bin

# Debian packages the build, the services and the tests need.
DEB_PACKAGES=(
    build-essential cmake pkg-config clang libclang-rt-14-dev
    libmicrohttpd-dev libpq-dev libjansson-dev libcurl4-openssl-dev libhiredis-dev
    libcsv-dev libssl-dev zlib1g-dev check
    postgresql-15 postgresql-client-15 postgresql-15-pgtap redis-server redis-tools
    curl ca-certificates prometheus libpostgresql-jdbc-java openjdk-17-jdk-headless
)

say() { printf 'env: %s\n' "$*" >&2; }
die() {
    printf 'env: error: %s\n' "$*" >&2
    exit 1
}

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
# older than the lock file.
npm_deps() {
    if ! command -v npm >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || die "npm is missing; install nodejs and npm"
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

as_pg() {
    local u
    u=$(pg_user)
    if [ "$(id -un)" = "$u" ]; then "$@"; else runuser -u "$u" -- "$@"; fi
}

pg_running() {
    [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_up() {
    local u
    u=$(pg_user)
    mkdir -p "$VAR/pg" "$PG_SOCK" "$VAR/log"
    chown "$u" "$VAR/pg" "$PG_SOCK"
    touch "$PG_LOG" && chown "$u" "$PG_LOG"
    # The service user must be able to reach var/ through the checkout's parents.
    as_pg test -x "$VAR/pg" || die "user $u cannot enter $VAR/pg (check the permissions of its parent folders)"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        say "creating PostgreSQL cluster in $PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$VAR/log/initdb.log" 2>&1 || die "initdb failed: see $VAR/log/initdb.log"
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
    # The owner role the ETL connects as (DATABASE_URL's default) and the demo database.
    psql_admin -d postgres -tAc "select 1 from pg_roles where rolname='chartpulse'" | grep -q 1 ||
        psql_admin -d postgres -qc "create role chartpulse login createrole createdb"
    createdb_if_missing chartpulse
}

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

createdb_if_missing() {
    psql_admin -d postgres -tAc "select 1 from pg_database where datname='$1'" | grep -q 1 ||
        psql_admin -d postgres -qc "create database \"$1\" owner chartpulse"
}

createdb_cmd() {
    local name=$1 fresh=${2:-}
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name '$name'"
    if [ "$fresh" = "--fresh" ]; then
        psql_admin -d postgres -qc "drop database if exists \"$name\" with (force)"
    fi
    createdb_if_missing "$name"
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
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
        --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$VAR/log/redis.log" \
        --maxmemory 256mb --maxmemory-policy allkeys-lru >/dev/null
    for _ in $(seq 50); do
        redis_running && break
        sleep 0.1
    done
    redis_running || die "Redis did not start: see $VAR/log/redis.log"
    say "Redis on 127.0.0.1:$REDIS_PORT"
}

down() {
    if pg_running; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && say "PostgreSQL stopped"
    fi
    if [ -f "$REDIS_DIR/redis.pid" ] && kill -0 "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null; then
        kill "$(cat "$REDIS_DIR/redis.pid")" && say "Redis stopped"
        rm -f "$REDIS_DIR/redis.pid"
    fi
}

status() {
    if pg_running; then echo "postgresql: running on 127.0.0.1:$PG_PORT"; else echo "postgresql: stopped"; fi
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
status) status ;;
createdb)
    [ $# -ge 2 ] || die "usage: env.sh createdb NAME [--fresh]"
    createdb_cmd "$2" "${3:-}"
    ;;
*)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
