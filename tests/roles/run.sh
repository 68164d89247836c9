#!/usr/bin/env bash
# The database roles' defences, from outside: the private cluster admits no TCP login
# without the right password and trusts nobody over TCP; and a statement of chartpulse_bi
# that lifted its own statement_timeout is cancelled by `chartpulse serve`'s guard
# (server/guard.c) within a bounded time. On the cluster DATABASE_URL names, with the
# passwords of PGPASSFILE (scripts/test.sh exports both: `eval "$(scripts/env.sh urls ...)"`).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/test_database.sh
. "$HERE/../test_database.sh"
: "${PGPASSFILE:?PGPASSFILE is not set (eval \"\$(scripts/env.sh urls chartpulse_test)\")}"
DB=chartpulse_test_roles
test_database "$DB"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -z "$SERVER_PID" ] || { kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
pass() { echo "ok - $*"; }
fail() {
    echo "not ok - $*"
    failures=$((failures + 1))
}
admin() { psql -X -q -w -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$@"; }

DATABASE_URL="$TEST_DATABASE_URL" CHARTPULSE_LOG_FORMAT=text "$CHARTPULSE_BINARY" migrate 2>/dev/null

# ---- who may log in ------------------------------------------------------------------------
trusting=$(admin -tAc "select count(*) from pg_hba_file_rules
                       where auth_method = 'trust' or (type like 'host%' and auth_method <> 'scram-sha-256')")
if [ "$trusting" = 0 ]; then pass "pg_hba.conf: every TCP line asks for scram-sha-256, no trust"; else
    fail "pg_hba.conf has $trusting line(s) with trust or without scram-sha-256"
fi
for role in postgres chartpulse chartpulse_api chartpulse_bi; do
    if out=$(PGPASSFILE=/dev/null psql -X -w -h "$HOST" -p "$PORT" -U "$role" -d "$DB" -c 'select 1' 2>&1); then
        fail "$role logs in over TCP without a password"
    elif grep -q 'no password supplied' <<<"$out"; then pass "$role without a password is refused"; else
        fail "$role without a password: unexpected answer: $out"
    fi
    if out=$(PGPASSFILE=/dev/null PGPASSWORD=not-the-password psql -X -w -h "$HOST" -p "$PORT" -U "$role" -d "$DB" -c 'select 1' 2>&1); then
        fail "$role logs in over TCP with a wrong password"
    elif grep -q 'password authentication failed' <<<"$out"; then pass "$role with a wrong password is refused"; else
        fail "$role with a wrong password: unexpected answer: $out"
    fi
done
if [ "$(psql -X -w -h "$HOST" -p "$PORT" -U chartpulse_bi -d "$DB" -tAc 'select current_user')" = chartpulse_bi ]; then
    pass "chartpulse_bi logs in with the password of PGPASSFILE"
else fail "chartpulse_bi cannot log in with the password of PGPASSFILE"; fi

# ---- a lifted statement_timeout does not hold --------------------------------------------
# The role's limit in this database only (2 s instead of 60 s), so the test is quick and
# the other suites' sessions keep theirs.
admin -c "alter role chartpulse_bi in database $DB set statement_timeout = '2s'"
listen_log="$WORK/serve.log"
DATABASE_URL="$TEST_DATABASE_URL" API_DATABASE_URL="postgresql://chartpulse_api@$HOST:$PORT/$DB" \
    REDIS_URL='' CHARTPULSE_RAW_URI="file://$WORK/raw" CHARTPULSE_LOG_FORMAT=text \
    "$CHARTPULSE_BINARY" serve --listen 127.0.0.1:0 >"$listen_log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$listen_log" && break
    sleep 0.1
done
grep -q 'listening on' "$listen_log" || { cat "$listen_log"; fail "chartpulse serve did not start"; }
started=$SECONDS
out=$(timeout 40 psql -X -w -h "$HOST" -p "$PORT" -U chartpulse_bi -d "$DB" \
    -c 'set statement_timeout = 0' -c 'select pg_sleep(30)' 2>&1) || true
took=$((SECONDS - started))
# the guard passes every 2 s: cancelled by 2 s + 2 s, with room for a slow machine
if grep -q 'canceling statement due to user request' <<<"$out" && [ "$took" -le 12 ]; then
    pass "chartpulse_bi's statement with statement_timeout = 0 is cancelled after ${took}s (limit 2s)"
else
    fail "chartpulse_bi's statement with statement_timeout = 0 ran ${took}s: $out"
fi
# the guard writes its line after the cancel returns, which may be after psql has gone
for _ in $(seq 50); do
    grep -q 'guard: cancelled the statement of chartpulse_bi' "$listen_log" && break
    sleep 0.1
done
grep -q 'guard: cancelled the statement of chartpulse_bi' "$listen_log" &&
    pass "the guard logs what it cancelled" || fail "the guard logged no cancellation: $(cat "$listen_log")"
# A guard guards its own database: a statement in another database of the cluster, past the
# limit that database sets, is not this server's to cancel (its own servers' guards are).
OTHER="${DB}_other"
admin -c "drop database if exists $OTHER" -c "create database $OTHER owner chartpulse"
admin -c "alter role chartpulse_bi in database $OTHER set statement_timeout = '2s'"
started=$SECONDS
out=$(timeout 40 psql -X -w -h "$HOST" -p "$PORT" -U chartpulse_bi -d "$OTHER" \
    -c 'set statement_timeout = 0' -c 'select pg_sleep(6)' 2>&1) || true
if ! grep -q 'canceling statement' <<<"$out"; then
    pass "a statement in another database ran its $((SECONDS - started))s: not this guard's"
else
    fail "the guard cancelled a statement in a database it does not serve: $out"
fi
admin -c "drop database if exists $OTHER with (force)"
admin -c "alter role chartpulse_bi in database $DB reset statement_timeout"

[ "$failures" -eq 0 ] || { echo "roles: $failures check(s) failed" >&2; exit 1; }
echo "roles: all checks passed"
