#!/usr/bin/env bash
# `make demo`: the whole system on this machine with demo data, served on CHARTPULSE_LISTEN.
# Loads the real chart files from ../shared/data/real when that folder is present, and
# generated charts otherwise. Safe to run again: it restarts the server, and content
# already ingested is skipped.
#   scripts/demo.sh        bring everything up
#   scripts/demo.sh stop   stop the demo server
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VAR="$ROOT/var"
PIDFILE="$VAR/run/chartpulse.pid"
LOG="$VAR/log/chartpulse.log"
BIN="$ROOT/build/chartpulse"
export CHARTPULSE_LISTEN=${CHARTPULSE_LISTEN:-127.0.0.1:8080}
export CHARTPULSE_RAW_URI=${CHARTPULSE_RAW_URI:-file://$VAR/raw}

say() { printf 'demo: %s\n' "$*" >&2; }

stop_server() {
    if [ -f "$PIDFILE" ]; then
        local pid
        pid=$(cat "$PIDFILE")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            say "stopped the server (pid $pid)"
        fi
        rm -f "$PIDFILE"
    fi
}

if [ "${1:-}" = "stop" ]; then
    stop_server
    exit 0
fi

scripts/env.sh up
make --no-print-directory build
mkdir -p "$VAR/run" "$VAR/log"

"$BIN" migrate

REAL="$ROOT/../shared/data/real"
if [ -d "$REAL" ]; then
    say "loading the real chart files from $REAL"
    # Files whose names carry region, period and date.
    "$BIN" ingest "$REAL/lycnda-charts-spotify-com" "$REAL/mattleesounds-charts-spotify-com" || true
    # Daily global spotifycharts.com exports named only by date.
    "$BIN" ingest --region global "$REAL/clayol-spotifycharts-daily-global" || true
    # Weekly US spotifycharts.com exports: the region and period are not in their names.
    "$BIN" ingest --region us --period weekly "$REAL/sonyal-spotifycharts-weekly-us" || true
else
    say "../shared/data/real is not present: generating demo charts"
    "$BIN" generate --out "$VAR/demo-data" --regions 4 --days 90 --seed 7
    "$BIN" ingest "$VAR/demo-data"
fi
# load, enrich (skipped without Spotify credentials) and refresh, recorded as a pipeline
# run that the dashboard's Data view lists
"$BIN" pipeline run

stop_server
nohup "$BIN" serve >>"$LOG" 2>&1 &
echo $! >"$PIDFILE"
HOSTPORT=$CHARTPULSE_LISTEN
for _ in $(seq 100); do
    if curl -fsS "http://$HOSTPORT/readyz" >/dev/null 2>&1; then
        say "the dashboard: http://$HOSTPORT/"
        say "chartpulse is serving http://$HOSTPORT/"
        say "try: curl http://$HOSTPORT/v1/charts/global/latest"
        say "logs: $LOG; stop everything with: make down"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        tail -n 20 "$LOG" >&2
        say "the server exited; see $LOG"
        exit 1
    fi
    sleep 0.2
done
say "the server did not become ready within 20 s; see $LOG"
exit 1
