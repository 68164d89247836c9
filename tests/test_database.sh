# Sourced by tests/sql/run.sh and tests/jdbc/run.sh: test_database NAME drops and recreates
# database NAME (owner chartpulse) on the cluster DATABASE_URL names, and sets HOST, PORT
# and TEST_DATABASE_URL (the owner's URL of the new database); messages name the caller ($0).
test_database() {
    local name=$1 hostport
    [ -n "${DATABASE_URL:-}" ] || {
        echo "$0: DATABASE_URL is not set (make test sets it; by hand: eval \"\$(scripts/env.sh urls chartpulse_test)\")" >&2
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
    psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d postgres \
        -c "drop database if exists $name with (force)" -c "create database $name owner chartpulse"
    TEST_DATABASE_URL="postgresql://chartpulse@$HOST:$PORT/$name"
}
