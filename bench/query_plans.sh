#!/usr/bin/env bash
# Prints the plan and the time of every query the API and the BI views run, against a
# loaded database (by default the one `KEEP=1 bench/load_bench.sh` leaves behind), and
# checks the two latency goals: a year's artist leaderboard and a track's full history each
# under 50 ms without any cache. Runs as the cluster superuser so that auto_explain can show
# the plans inside the reporting functions.
#
#   bench/query_plans.sh [DATABASE]      default: chartpulse_bench
#
# Each query runs three times; the best time is reported (the first run warms the cache).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DB=${1:-chartpulse_bench}
PORT=${CHARTPULSE_PG_PORT:-54320}
# the roles' passwords (scripts/env.sh up writes them)
export PGPASSFILE=${PGPASSFILE:-$ROOT/var/pgpass}
OUT="$ROOT/var/bench/results/query-plans-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p "$(dirname "$OUT")"
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" "$@"; }

rows=$(psql_db -tAc "select count(*) from core.chart_entry")
[ "$rows" -gt 0 ] || { echo "query_plans: $DB holds no chart entries; run KEEP=1 bench/load_bench.sh first" >&2; exit 1; }
region=$(psql_db -tAc "select region from core.chart where chart_kind = 'regional' and period = 'daily' group by 1 order by count(*) desc, region = 'global' desc limit 1")
year=$(psql_db -tAc "select extract(year from max(chart_date))::int - 1 from core.chart where region = '$region'")
[ -n "$year" ] && [ "$year" -gt 1900 ] || year=$(psql_db -tAc "select extract(year from max(chart_date))::int from core.chart")
track=$(psql_db -tAc "select track_id from core.chart_run where region = '$region' and period = 'daily' order by periods desc limit 1")
date=$(psql_db -tAc "select max(chart_date) from core.chart where region = '$region' and period = 'daily'")

# name|sql: the API's queries with representative parameters
queries=(
"chart by date (GET /v1/charts)|select * from reporting.chart_entries where chart_kind = 'regional' and region = '$region' and period = 'daily' and chart_date = '$date' order by rank limit 100"
"track history, all of it (GET /v1/tracks/{id}/history)|select * from reporting.track_history('$track', '$region', 'daily')"
"track chart runs (GET /v1/tracks/{id})|select * from reporting.track_stats where track_id = '$track'"
"artist leaderboard, a year, by streams (GET /v1/artists/leaderboard)|select * from reporting.artist_leaderboard('$region', 'daily', '$year-01-01', '$year-12-31', 'streams', 'all', 100)"
"artist leaderboard, a year, by days, lead credits|select * from reporting.artist_leaderboard('$region', 'daily', '$year-01-01', '$year-12-31', 'days', 'lead', 100)"
"artist leaderboard, mid-month to mid-month|select * from reporting.artist_leaderboard('$region', 'daily', '$year-02-15', '$year-11-14', 'streams', 'all', 100)"
"movers on a date (GET /v1/trends/movers)|select * from reporting.movers where chart_kind = 'regional' and region = '$region' and period = 'daily' and chart_date = '$date' order by rank_change desc limit 20"
"daily totals over a year (GET /v1/trends/streams)|select * from reporting.daily_totals where chart_kind = 'regional' and region = '$region' and period = 'daily' and chart_date between '$year-01-01' and '$year-12-31'"
"coverage of every series (GET /v1/regions)|select * from reporting.series_coverage"
"missing ranges of every series (GET /v1/regions)|select * from reporting.series_gaps"
)

{
echo "query plans, database $DB ($rows chart entries), region $region, year $year, track $track, date $date"
echo "commit $(git -C "$ROOT" rev-parse --short HEAD), $(date -u)"
} | tee "$OUT"

declare -A best
for q in "${queries[@]}"; do
    name=${q%%|*}
    sql=${q#*|}
    t_best=""
    for _ in 1 2 3; do
        t=$(psql_db -tA -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
        if [ -z "$t_best" ] || awk "BEGIN{exit !($t < $t_best)}"; then t_best=$t; fi
    done
    best[$name]=$t_best
    {
        echo
        echo "=== $name: best of 3 = $t_best ms"
        echo "$sql"
        psql_db -c "load 'auto_explain'" -c "set auto_explain.log_min_duration = 0" \
            -c "set auto_explain.log_nested_statements = on" -c "set auto_explain.log_analyze = on" \
            -c "set auto_explain.log_buffers = on" -c "set auto_explain.log_level = notice" \
            -c "set client_min_messages = notice" -c "explain (analyze, buffers) $sql" 2>&1 |
            sed 's/^NOTICE:  //' | grep -v '^$'
    } >>"$OUT"
done

echo | tee -a "$OUT"
printf '%-62s %10s\n' "query" "best ms" | tee -a "$OUT"
for q in "${queries[@]}"; do
    name=${q%%|*}
    printf '%-62s %10s\n' "$name" "${best[$name]}" | tee -a "$OUT"
done
fail=0
for goal in "artist leaderboard, a year, by streams (GET /v1/artists/leaderboard)" "track history, all of it (GET /v1/tracks/{id}/history)"; do
    if awk "BEGIN{exit !(${best[$goal]} < 50)}"; then
        echo "goal met: $goal under 50 ms" | tee -a "$OUT"
    else
        echo "goal MISSED: $goal took ${best[$goal]} ms (goal 50)" | tee -a "$OUT"
        fail=1
    fi
done
echo "plans: $OUT"
exit $fail
