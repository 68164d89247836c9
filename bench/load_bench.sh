#!/usr/bin/env bash
# Load benchmark: `chartpulse ingest` + `chartpulse load` of a generated Kaggle-format chart
# set, against plain `psql \copy` of the same files into an equivalent table, in one run on
# the private PostgreSQL (127.0.0.1 only). See bench/README.md for what is measured.
#
#   bench/load_bench.sh            full scale: 70 regions x 1826 days x 200 ranks (25.6M rows)
#   bench/load_bench.sh --small    5 regions x 60 days (60k rows), a quick end-to-end check
#
# Options: --regions N, --days N, --seed S override the scale; --keep (or KEEP=1) keeps
# the generated files, the raw zone and the chartpulse_bench database; SCALE=small|full
# picks the scale from the environment. Safe to re-run: every run starts from a fresh
# database, raw zone and data folder under var/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH="$ROOT/var/bench"
DATA="$BENCH/data"     # generated Kaggle files
SAMPLE="$BENCH/sample" # the same charts in the charts.spotify.com format, for the check
RAW="$BENCH/raw"       # the raw zone of the benchmark
RESULTS="$BENCH/results"
BUILD="$ROOT/build-bench"
BIN="$BUILD/chartpulse"
DB=chartpulse_bench
PG_PORT=${CHARTPULSE_PG_PORT:-54320}
# the roles' passwords (scripts/env.sh up writes them)
export PGPASSFILE=${PGPASSFILE:-$ROOT/var/pgpass}
SCALE=${SCALE:-full}
SCALE_LABEL=
KEEP=${KEEP:-0}
SEED=${SEED:-1}
REGIONS=
DAYS=
CHART_SIZE=200
# Disk per row: CSV twice (data folder and raw zone, ~150 bytes each), core.chart_entry
# with its indexes, chart_run and the \copy table: 835 measured at 365k rows, rounded up.
BYTES_PER_ROW=900
DISK_SLACK=$((4 << 30)) # max_wal_size of the private cluster

STARTED=$(date +%s.%N)
say() { printf 'bench [%6.1fs]: %s\n' "$(awk -v a="$STARTED" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*" >&2; }
die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case $1 in
    --small) SCALE=small ;;
    --full) SCALE=full ;;
    --keep) KEEP=1 ;;
    --regions | --days | --seed)
        [ $# -ge 2 ] || die "$1: missing value"
        case $1 in
        --regions) REGIONS=$2 ;;
        --days) DAYS=$2 ;;
        --seed) SEED=$2 ;;
        esac
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
# a size given by flags is a custom scale, and the results file says so
[ -z "$REGIONS$DAYS" ] || SCALE_LABEL=custom
case $SCALE in
full) : "${REGIONS:=70}" "${DAYS:=1826}" ;;
small) : "${REGIONS:=5}" "${DAYS:=60}" ;;
*) die "SCALE: '$SCALE' is not small or full" ;;
esac
if ! [[ $REGIONS =~ ^[0-9]+$ ]] || [ "$REGIONS" -lt 1 ] || [ "$REGIONS" -gt 75 ]; then
    die "--regions: expected 1 to 75, got '$REGIONS'"
fi
if ! [[ $DAYS =~ ^[0-9]+$ ]] || [ "$DAYS" -lt 1 ] || [ "$DAYS" -gt 36525 ]; then
    die "--days: expected 1 to 36525, got '$DAYS'"
fi
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed: expected a non-negative integer, got '$SEED'"
# psql's \copy takes the paths inside single quotes
case $ROOT in *"'"*) die "the checkout's path contains a quote: $ROOT" ;; esac

EXPECTED_ROWS=$((REGIONS * DAYS * CHART_SIZE))
# Fixed now, so that the sample generated for the check has the same dates even if the run
# crosses midnight.
END_DATE=$(date -u -d yesterday +%F)

# ---- disk ----------------------------------------------------------------------------------
mkdir -p "$BENCH" "$RESULTS"
need=$((EXPECTED_ROWS * BYTES_PER_ROW + DISK_SLACK))
# what an earlier kept run occupies is freed below before anything is written
kept=$({ du -sb "$DATA" "$RAW" "$SAMPLE" 2>/dev/null || true; } | awk '{ s += $1 } END { print s + 0 }')
avail=$(($(df -B1 --output=avail "$BENCH" | tail -n 1) + kept))
if [ "$avail" -lt "$need" ]; then
    die "not enough disk space for $EXPECTED_ROWS rows: need about $((need >> 30)) GB free on the filesystem of $BENCH (data files, raw zone and database), have $((avail >> 30)) GB; try --small"
fi
say "$REGIONS regions x $DAYS days x $CHART_SIZE ranks = $EXPECTED_ROWS rows, seed $SEED, ending $END_DATE; disk: $((avail >> 30)) GB free, about $((need >> 30)) GB needed"

# ---- environment, build ------------------------------------------------------------------
export DATABASE_URL="postgresql://chartpulse@127.0.0.1:$PG_PORT/$DB"
export CHARTPULSE_RAW_URI="file://$RAW"
export REDIS_URL= # the load does not use the cache
export CHARTPULSE_LOG_FORMAT=text
unset API_DATABASE_URL DATABASE_READ_URL

psql_bench() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U chartpulse -d "$DB" "$@"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" "$@"; }
# Each timed step starts with the dirty pages of the one before written out.
checkpoint() { psql_admin -c checkpoint; }

cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ]; then
        say "kept (KEEP=1): $DATA, $RAW, database $DB"
    else
        rm -rf "$DATA" "$RAW" "$SAMPLE" "$BENCH/copy.psql"
        psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
            -c "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
        say "removed the generated files, the raw zone and database $DB (KEEP=1 keeps them)"
    fi
    exit "$rc"
}
trap cleanup EXIT

say "starting PostgreSQL (scripts/env.sh up)"
scripts/env.sh up
say "building $BIN (Release)"
build_log="$BENCH/build.log"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" --target chartpulse; } >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    die "the Release build failed (full output in $build_log)"
fi

# ---- data ------------------------------------------------------------------------------------
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }

rm -rf "$DATA" "$RAW" "$SAMPLE"
say "generating the Kaggle-format set in $DATA"
t0=$(now)
summary=$("$BIN" generate --format kaggle --out "$DATA" --regions "$REGIONS" --days "$DAYS" \
    --seed "$SEED" --end-date "$END_DATE" --chart-size "$CHART_SIZE")
t_generate=$(seconds "$t0" "$(now)")
rows=$(sed -n 's/^generated [0-9]* files, \([0-9]*\) rows.*/\1/p' <<<"$summary")
files=$(find "$DATA" -name '*.csv' | wc -l)
bytes=$(du -sb "$DATA" | awk '{ print $1 }')
[ "$rows" = "$EXPECTED_ROWS" ] || die "the generator wrote '$rows' rows, expected $EXPECTED_ROWS"
say "generated $files files, $rows rows, $((bytes >> 20)) MB in ${t_generate}s"

say "creating database $DB and migrating"
scripts/env.sh createdb "$DB" --fresh
"$BIN" migrate

# ---- chartpulse ingest + load -------------------------------------------------------------
checkpoint
say "timing: chartpulse ingest $DATA"
t0=$(now)
"$BIN" ingest "$DATA" || die "chartpulse ingest failed"
t_ingest=$(seconds "$t0" "$(now)")
say "ingest took ${t_ingest}s"

checkpoint
say "timing: chartpulse load"
t0=$(now)
"$BIN" load || die "chartpulse load failed"
t_load=$(seconds "$t0" "$(now)")
say "load took ${t_load}s"

# ---- correctness (not timed) ------------------------------------------------------------
say "checking the load against the generator"
psql_bench -f bench/copy_baseline.sql
sample_regions=$((REGIONS < 2 ? REGIONS : 2)) # global, us
"$BIN" generate --format spotify --no-weekly --out "$SAMPLE" --regions "$sample_regions" \
    --days "$DAYS" --seed "$SEED" --end-date "$END_DATE" --chart-size "$CHART_SIZE" >/dev/null
{
    # eight charts per sampled region, spread evenly over the days, first and last included
    for i in 0 1 2 3 4 5 6 7; do
        back=$((DAYS - 1 - i * (DAYS - 1) / 7))
        date -u -d "$END_DATE - $back days" +%F
    done | sort -u | while read -r day; do
        for f in "$SAMPLE"/regional-*-daily-"$day".csv; do
            region=$(basename "$f" | sed 's/^regional-\([a-z]*\)-daily-.*/\1/')
            printf "\\\\copy bench.expect_entry (rank, uri, artist_names, track_name, source, peak_rank, previous_rank, days_on_chart, streams) from '%s' with (format csv, header true)\n" "$f"
            printf "update bench.expect_entry set region = '%s', chart_date = '%s' where region is null;\n" "$region" "$day"
        done
    done
} | psql_bench
check=$(psql_bench -f bench/verify.sql | tr '\n' ' ')
value() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$check"; }
problems=()
[ "$(value entries)" = "$rows" ] || problems+=("core.chart_entry holds $(value entries) rows, expected $rows")
[ "$(value charts)" = "$((REGIONS * DAYS))" ] || problems+=("core.chart holds $(value charts) charts, expected $((REGIONS * DAYS))")
for name in objects_pending objects_failed rejects rows_rejected missing wrong_track wrong_streams \
    wrong_previous_rank wrong_movement wrong_peak_rank wrong_days_on_chart; do
    [ "$(value "$name")" = 0 ] || problems+=("$name=$(value "$name")")
done
sampled=$(value sampled)
[ "${sampled:-0}" -gt 0 ] || problems+=("no sampled rows")
say "check: $check"

# ---- psql \copy of the same files ---------------------------------------------------------
checkpoint
say "timing: psql \\copy of the same $files files into bench.copy_entry"
copy_script="$BENCH/copy.psql"
find "$DATA" -name '*.csv' | sort |
    sed "s|.*|\\\\copy bench.copy_entry from '&' with (format csv, header true)|" >"$copy_script"
t0=$(now)
psql_bench -f "$copy_script"
t_copy=$(seconds "$t0" "$(now)")
copied=$(psql_bench -tAc 'select count(*) from bench.copy_entry')
[ "$copied" = "$rows" ] || problems+=("\\copy loaded $copied rows, expected $rows")
say "\\copy took ${t_copy}s"

# ---- results ---------------------------------------------------------------------------------
t_total=$(awk -v a="$t_ingest" -v b="$t_load" 'BEGIN { printf "%.2f", a + b }')
r_ingest=$(rate "$rows" "$t_ingest")
r_load=$(rate "$rows" "$t_load")
r_total=$(rate "$rows" "$t_total")
r_copy=$(rate "$rows" "$t_copy")
ratio=$(awk -v a="$r_total" -v b="$r_copy" 'BEGIN { printf "%.2f", a / b }')
ratio_load=$(awk -v a="$r_load" -v b="$r_copy" 'BEGIN { printf "%.2f", a / b }')
stamp=$(date -u +%Y%m%dT%H%M%SZ)
report="$RESULTS/$stamp-${SCALE_LABEL:-$SCALE}-${REGIONS}x$DAYS.txt"
{
    echo "chartpulse load benchmark, $stamp, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "set: $REGIONS regions x $DAYS days x $CHART_SIZE ranks, seed $SEED, $files Kaggle files, $((bytes >> 20)) MB"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), PostgreSQL $(psql_bench -tAc 'show server_version' | cut -d' ' -f1), $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
    echo
    printf '%-28s %12s %10s %12s\n' step rows seconds rows/s
    printf '%-28s %12s %10s %12s\n' "chartpulse ingest" "$rows" "$t_ingest" "$r_ingest"
    printf '%-28s %12s %10s %12s\n' "chartpulse load" "$rows" "$t_load" "$r_load"
    printf '%-28s %12s %10s %12s\n' "ingest + load (end to end)" "$rows" "$t_total" "$r_total"
    printf '%-28s %12s %10s %12s\n' "psql \\copy (baseline)" "$rows" "$t_copy" "$r_copy"
    echo
    echo "end to end / \\copy: $ratio (goal: at least 0.50); load alone / \\copy: $ratio_load"
    if [ ${#problems[@]} -eq 0 ]; then
        echo "correctness: OK ($(value entries) entries, 0 rejects, $(value sampled) sampled rows agree with the generator)"
    else
        echo "correctness: FAILED: ${problems[*]}"
    fi
} | tee "$report"
say "results saved in $report"
[ ${#problems[@]} -eq 0 ] || die "the correctness check failed"
