#!/usr/bin/env bash
# Runs the pgTAP suites in this folder with pg_prove against a new database migrated by
# the chartpulse binary under test (CHARTPULSE_BINARY), on the cluster DATABASE_URL names
# (scripts/test.sh exports it: `eval "$(scripts/env.sh urls chartpulse_test)"`).
# It is migrated rather than copied from a template because database-level privileges
# (the migrations revoke TEMPORARY from PUBLIC) are not copied with a template. Each suite
# runs in a transaction it rolls back. pgTAP is created as the cluster's superuser (it is
# not a trusted extension); the suites switch to the application roles themselves.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ -n "${DATABASE_URL:-}" ] || {
    echo "sql/run.sh: DATABASE_URL is not set (make test sets it; by hand: eval \"\$(scripts/env.sh urls chartpulse_test)\")" >&2
    exit 1
}
: "${CHARTPULSE_BINARY:?set CHARTPULSE_BINARY to the chartpulse binary}"
command -v pg_prove >/dev/null 2>&1 ||
    { echo "sql/run.sh: pg_prove is missing (scripts/env.sh deps installs it)" >&2; exit 1; }
# host and port of postgresql://user@host:port/db (port 5432 when the URL has none)
hostport=${DATABASE_URL#*://}
hostport=${hostport#*@}
hostport=${hostport%%[/?]*}
HOST=${hostport%:*}
PORT=${hostport##*:}
[ "$PORT" != "$hostport" ] || PORT=5432
DB=chartpulse_test_sql
admin() { psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres "$@"; }
admin -d postgres -c "drop database if exists $DB with (force)" -c "create database $DB owner chartpulse"
DATABASE_URL="postgresql://chartpulse@$HOST:$PORT/$DB" CHARTPULSE_LOG_FORMAT=text \
    "$CHARTPULSE_BINARY" migrate 2>/dev/null
admin -d "$DB" -c "create extension if not exists pgtap"
exec pg_prove --quiet --failures -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$HERE"/*.sql
