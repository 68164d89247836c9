#!/usr/bin/env bash
# JDBC smoke test: loads the fixture charts into a fresh database with the chartpulse
# binary under test, then runs BiSmoke.java with Debian's PostgreSQL JDBC driver as
# chartpulse_bi, on the cluster DATABASE_URL names (scripts/test.sh exports it). Needs
# java, javac and /usr/share/java/postgresql.jar (scripts/env.sh installs them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ -n "${DATABASE_URL:-}" ] || {
    echo "jdbc/run.sh: DATABASE_URL is not set (make test sets it; by hand: eval \"\$(scripts/env.sh urls chartpulse_test)\")" >&2
    exit 1
}
: "${CHARTPULSE_BINARY:?set CHARTPULSE_BINARY to the chartpulse binary}"
# host and port of postgresql://user@host:port/db (port 5432 when the URL has none)
hostport=${DATABASE_URL#*://}
hostport=${hostport#*@}
hostport=${hostport%%[/?]*}
HOST=${hostport%:*}
PORT=${hostport##*:}
[ "$PORT" != "$hostport" ] || PORT=5432
DB=chartpulse_test_jdbc
JAR=/usr/share/java/postgresql.jar
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d postgres \
    -c "drop database if exists $DB with (force)" -c "create database $DB owner chartpulse"
export DATABASE_URL="postgresql://chartpulse@$HOST:$PORT/$DB"
export CHARTPULSE_RAW_URI="file://$WORK/raw" CHARTPULSE_LOG_FORMAT=text
"$CHARTPULSE_BINARY" migrate 2>/dev/null
"$CHARTPULSE_BINARY" ingest "$ROOT"/tests/fixtures/pipeline/regional-global-daily-2030-*.csv 2>/dev/null
"$CHARTPULSE_BINARY" load 2>/dev/null

javac -d "$WORK" -cp "$JAR" "$HERE/BiSmoke.java"
java -cp "$WORK:$JAR" BiSmoke "jdbc:postgresql://$HOST:$PORT/$DB"
