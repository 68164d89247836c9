#!/usr/bin/env bash
# The fault suite: a real `chartpulse serve` against a PostgreSQL cluster and a Redis server
# of its own (under var/faults, on CHARTPULSE_PG_PORT+1 and CHARTPULSE_REDIS_PORT+1, so the
# shared test services are never stopped), which it stops, hangs with SIGSTOP and restarts.
# Each case checks that answers come within the budget (503 with Retry-After while the
# database is gone), that /readyz says so, that connection attempts stay bounded, and that
# the server recovers by itself with no 503 after recovery.
#   tests/faults/run.sh [path/to/chartpulse]     (default build-test/chartpulse)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/build-test/chartpulse}
[ -x "$BIN" ] || { echo "faults: no binary at $BIN (build first)" >&2; exit 1; }
export CHARTPULSE_VAR_DIR="$ROOT/var/faults"
export CHARTPULSE_PG_PORT=$((${CHARTPULSE_PG_PORT:-54320} + 1))
export CHARTPULSE_REDIS_PORT=$((${CHARTPULSE_REDIS_PORT:-63790} + 1))
WORK="$CHARTPULSE_VAR_DIR/run"
rm -rf "$WORK"
mkdir -p "$WORK"
LOG="$WORK/server.log"
FAILED=0
SERVER_PID=
LISTENER_PID=

say() { printf 'faults: %s\n' "$*"; }
fail() {
    printf 'faults: FAIL: %s\n' "$*"
    FAILED=$((FAILED + 1))
}
ok() { printf 'faults: ok: %s\n' "$*"; }

cleanup() {
    [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
    pg_cont
    redis_cont
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    "$ROOT/scripts/env.sh" down >/dev/null 2>&1
}
trap cleanup EXIT

"$ROOT/scripts/env.sh" up >"$WORK/env.log" 2>&1 || { cat "$WORK/env.log"; exit 1; }
"$ROOT/scripts/env.sh" createdb chartpulse_faults --fresh >>"$WORK/env.log" 2>&1 || { cat "$WORK/env.log"; exit 1; }
eval "$("$ROOT/scripts/env.sh" urls chartpulse_faults 0)"
export CHARTPULSE_LOG_FORMAT=text CHARTPULSE_RAW_URI="file://$WORK/raw"
unset DATABASE_READ_URL
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; exit 1; }

PG_DATA=$(readlink -f "$CHARTPULSE_VAR_DIR/pg")/data
postmaster_pid() { head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null; }
# the postmaster and every backend: a hung server, not one that refuses connections
pg_pids() {
    local pm
    pm=$(postmaster_pid) || return 0
    [ -n "$pm" ] || return 0
    echo "$pm"
    ps -o pid= --ppid "$pm"
}
PG_STOPPED=0
pg_stop_signal() { PG_STOPPED=1; for p in $(pg_pids); do kill -STOP "$p"; done; }
pg_cont() { [ "$PG_STOPPED" = 1 ] && for p in $(pg_pids); do kill -CONT "$p"; done; PG_STOPPED=0; }
REDIS_STOPPED=0
redis_pid() { cat "$CHARTPULSE_VAR_DIR/redis/redis.pid" 2>/dev/null; }
redis_cont() { [ "$REDIS_STOPPED" = 1 ] && kill -CONT "$(redis_pid)"; REDIS_STOPPED=0; }

BASE=
start_server() {
    "$BIN" serve --listen 127.0.0.1:0 >>"$LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        BASE=$(sed -n 's|.*listening on \(http://127.0.0.1:[0-9]*\)/.*|\1|p' "$LOG" | tail -n 1)
        [ -n "$BASE" ] && return 0
        sleep 0.1
    done
    cat "$LOG"
    exit 1
}

# "status seconds" of one GET
get() { curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\n' "$BASE$1"; }

# Sends n requests to path, c at a time; prints "status seconds" lines into file.
burst() {
    local path=$1 n=$2 c=$3 file=$4 i pids=()
    : >"$file"
    for ((i = 0; i < n; i++)); do
        get "${path//@/$((i + 1))}" >>"$file" &
        pids+=($!)
        if (((i + 1) % c == 0)); then wait "${pids[@]}"; pids=(); fi
    done
    [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
}

# Fails unless every answer in file has a status from the list and took at most max s.
check_answers() {
    local file=$1 statuses=$2 max=$3 what=$4 bad
    bad=$(awk -v s=" $statuses " -v m="$max" 'index(s, " " $1 " ") == 0 || $2 > m' "$file" | head -n 3)
    if [ -n "$bad" ] || [ ! -s "$file" ]; then
        fail "$what: expected status in {$statuses} within $max s, got: ${bad:-nothing}"
    else
        ok "$what ($(wc -l <"$file") answers, slowest $(sort -k2 -n "$file" | tail -n 1 | cut -d' ' -f2) s)"
    fi
}

# Waits up to limit s for /readyz to answer 200.
wait_ready() {
    local limit=$1 what=$2 start=$SECONDS
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        [ "$(get /readyz | cut -d' ' -f1)" = 200 ] && { ok "$what: ready again after $((SECONDS - start)) s"; return 0; }
        sleep 0.2
    done
    fail "$what: /readyz not 200 within $limit s"
    return 1
}

start_server
curl -s -D "$WORK/h" -o /dev/null "$BASE/readyz"
[ "$(get /readyz | cut -d' ' -f1)" = 200 ] || { fail "the server is not ready at start"; cat "$LOG"; exit 1; }

# ---- PostgreSQL stopped: fast 503s, bounded connection attempts, then recovery ----------
say "PostgreSQL stopped"
burst '/v1/catalog?limit=@' 8 4 "$WORK/warm" # the pool holds open connections now
"$ROOT/scripts/env.sh" pg-stop >>"$WORK/env.log" 2>&1
burst /readyz 30 6 "$WORK/down"
check_answers "$WORK/down" 503 1.5 "PostgreSQL stopped: /readyz"
curl -s -D "$WORK/h" -o "$WORK/body" "$BASE/readyz"
grep -qi '^retry-after:' "$WORK/h" && grep -q 'application/problem+json' "$WORK/h" &&
    ok "the 503 is problem+json with Retry-After" || fail "the 503 lacks Retry-After or problem+json"
# a listener on the database port counts the connection attempts (accepted, then closed)
python3 - "$CHARTPULSE_PG_PORT" "$WORK/attempts" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); s.settimeout(0.2)
n, end = 0, time.time() + 4
while time.time() < end:
    try:
        c, _ = s.accept(); n += 1; c.close()
    except socket.timeout:
        pass
open(sys.argv[2], "w").write(str(n))
PY
LISTENER_PID=$!
sleep 0.3
lines_before=$(grep -c 'database' "$LOG")
burst '/v1/catalog?limit=@' 120 8 "$WORK/down2"
wait "$LISTENER_PID"
LISTENER_PID=
attempts=$(cat "$WORK/attempts")
lines=$(($(grep -c 'database' "$LOG") - lines_before))
check_answers "$WORK/down2" 503 1.5 "PostgreSQL down: /v1/catalog"
if [ "$attempts" -le 12 ]; then ok "120 requests while down made $attempts connection attempts"; else fail "120 requests while down made $attempts connection attempts (backoff missing)"; fi
if [ "$lines" -le 6 ]; then ok "$lines database log lines for 120 failed requests"; else fail "$lines database log lines for 120 failed requests (not rate-limited)"; fi
"$ROOT/scripts/env.sh" up >>"$WORK/env.log" 2>&1
wait_ready 10 "PostgreSQL started again"
burst '/v1/catalog?limit=@' 20 4 "$WORK/after1"
check_answers "$WORK/after1" 200 2 "after recovery: no 503"
grep -q 'database reachable again' "$LOG" && ok "recovery logged" || fail "recovery not logged"

# ---- PostgreSQL restarted: dead pooled connections are replaced, no request fails -------
say "PostgreSQL restarted"
burst '/v1/catalog?limit=@' 8 4 "$WORK/warm"
"$ROOT/scripts/env.sh" pg-restart >>"$WORK/env.log" 2>&1
burst '/v1/catalog?limit=@' 12 4 "$WORK/restart"
check_answers "$WORK/restart" 200 2 "first requests on the pooled connections after a restart"

# ---- PostgreSQL hung (SIGSTOP): 503 within the deadline, then recovery ------------------
say "PostgreSQL hung"
burst '/v1/catalog?limit=@' 8 4 "$WORK/warm"
pg_stop_signal
burst '/v1/catalog?limit=@' 24 12 "$WORK/hung"
# a request holding a connection waits for the 5 s deadline; the rest for the 1 s budget
check_answers "$WORK/hung" 503 7 "PostgreSQL hung: /v1/catalog"
burst /readyz 10 5 "$WORK/hung2"
check_answers "$WORK/hung2" 503 7 "PostgreSQL hung: /readyz"
pg_cont
wait_ready 12 "PostgreSQL resumed"
burst '/v1/catalog?limit=@' 20 4 "$WORK/after2"
check_answers "$WORK/after2" 200 2 "after resuming: no 503"

# ---- Redis stopped and hung: answers keep coming (from PostgreSQL) ----------------------
say "Redis hung"
kill -STOP "$(redis_pid)"
REDIS_STOPPED=1
burst '/v1/search?q=hung@' 20 4 "$WORK/rhung"
check_answers "$WORK/rhung" 200 2 "Redis hung: uncached searches"
redis_cont
say "Redis stopped"
kill "$(redis_pid)"
sleep 0.3
burst '/v1/search?q=down@' 20 4 "$WORK/rdown"
check_answers "$WORK/rdown" 200 2 "Redis stopped: uncached searches"
"$ROOT/scripts/env.sh" up >>"$WORK/env.log" 2>&1

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "the server died"
fi
if [ "$FAILED" -gt 0 ]; then
    say "$FAILED failed; server log: $LOG"
    tail -n 30 "$LOG"
    exit 1
fi
say "all passed"
