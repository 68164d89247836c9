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
command -v pg_prove >/dev/null 2>&1 ||
    { echo "sql/run.sh: pg_prove is missing (scripts/env.sh deps installs it)" >&2; exit 1; }
# shellcheck source=tests/test_database.sh
. "$HERE/../test_database.sh"
DB=chartpulse_test_sql
test_database "$DB"
admin() { psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres "$@"; }
DATABASE_URL="$TEST_DATABASE_URL" CHARTPULSE_LOG_FORMAT=text \
    "$CHARTPULSE_BINARY" migrate 2>/dev/null
admin -d "$DB" -c "create extension if not exists pgtap"
exec pg_prove --quiet --failures -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$HERE"/*.sql
