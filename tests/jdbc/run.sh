#!/usr/bin/env bash
# JDBC smoke test: loads the fixture charts into a fresh database with the chartpulse
# binary under test, then runs BiSmoke.java with Debian's PostgreSQL JDBC driver as
# chartpulse_bi, on the cluster DATABASE_URL names (scripts/test.sh exports it). Needs
# java, javac and /usr/share/java/postgresql.jar (scripts/env.sh installs them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/test_database.sh
. "$HERE/../test_database.sh"
DB=chartpulse_test_jdbc
test_database "$DB"
JAR=/usr/share/java/postgresql.jar
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

export DATABASE_URL="$TEST_DATABASE_URL"
export CHARTPULSE_RAW_URI="file://$WORK/raw" CHARTPULSE_LOG_FORMAT=text
"$CHARTPULSE_BINARY" migrate 2>/dev/null
"$CHARTPULSE_BINARY" ingest "$ROOT"/tests/fixtures/pipeline/regional-global-daily-2030-*.csv 2>/dev/null
"$CHARTPULSE_BINARY" load 2>/dev/null

javac -d "$WORK" -cp "$JAR" "$HERE/BiSmoke.java"
# pgjdbc does not read libpq's passfile: the password goes in by the environment (not argv)
CHARTPULSE_BI_PASSWORD=$(awk -F: '$4 == "chartpulse_bi" { print $5; exit }' "${PGPASSFILE:-/dev/null}")
export CHARTPULSE_BI_PASSWORD
java -cp "$WORK:$JAR" BiSmoke "jdbc:postgresql://$HOST:$PORT/$DB"
