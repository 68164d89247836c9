#!/usr/bin/env bash
# JDBC smoke test: loads the fixture charts into a fresh database with the chartpulse
# binary under test, then runs BiSmoke.java with Debian's PostgreSQL JDBC driver as
# chartpulse_bi. Needs java, javac and /usr/share/java/postgresql.jar (scripts/env.sh
# installs them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${DATABASE_URL:=postgresql://chartpulse@127.0.0.1:54320/chartpulse_test}"
: "${CHARTPULSE_BINARY:?set CHARTPULSE_BINARY to the chartpulse binary}"
PORT=$(sed -E 's|.*:([0-9]+)/.*|\1|' <<<"$DATABASE_URL")
DB=chartpulse_test_jdbc
JAR=/usr/share/java/postgresql.jar
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
    -c "drop database if exists $DB with (force)" -c "create database $DB owner chartpulse"
export DATABASE_URL="postgresql://chartpulse@127.0.0.1:$PORT/$DB"
export CHARTPULSE_RAW_URI="file://$WORK/raw" CHARTPULSE_LOG_FORMAT=text
"$CHARTPULSE_BINARY" migrate 2>/dev/null
"$CHARTPULSE_BINARY" ingest "$ROOT"/tests/fixtures/pipeline/regional-global-daily-2030-*.csv 2>/dev/null
"$CHARTPULSE_BINARY" load 2>/dev/null

javac -d "$WORK" -cp "$JAR" "$HERE/BiSmoke.java"
java -cp "$WORK:$JAR" BiSmoke "jdbc:postgresql://127.0.0.1:$PORT/$DB"
