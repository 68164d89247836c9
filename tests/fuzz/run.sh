#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: every input of its corpus first (the committed
# seeds and past crashes in tests/fuzz/corpus/<target>/, plus a sample of the real chart
# files of ../shared/data/real when present, their first CHARTPULSE_FUZZ_MAX_LEN bytes
# (default 8192, libFuzzer's -max_len), then new inputs until
# CHARTPULSE_FUZZ_SECONDS (default 12) are up. Fails on any crash, sanitizer report, leak,
# broken property or slow input; the input that did it is kept in var/fuzz/<target>/.
# Prints one summary line: executions, coverage, corpus.
#
#     tests/fuzz/run.sh router              # the test's run
#     CHARTPULSE_FUZZ_SECONDS=3600 tests/fuzz/run.sh router   # a longer campaign
set -euo pipefail

target=${1:?usage: run.sh TARGET}
ROOT=${CHARTPULSE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FUZZ_DIR=${CHARTPULSE_FUZZ_DIR:-$ROOT/build-fuzz}
seconds=${CHARTPULSE_FUZZ_SECONDS:-12}
max_len=${CHARTPULSE_FUZZ_MAX_LEN:-8192}
bin=$FUZZ_DIR/tests/fuzz/fuzz_$target
seeds=$ROOT/tests/fuzz/corpus/$target

if [ ! -x "$bin" ]; then
    echo "fuzz_$target: $bin is not built. Build the fuzz configuration (scripts/test.sh does):" >&2
    echo "  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCHARTPULSE_FUZZ=ON" >&2
    echo "  cmake --build build-fuzz --target fuzzers -j2" >&2
    exit 1
fi
[ -d "$seeds" ] || { echo "fuzz_$target: no seed corpus at $seeds" >&2; exit 1; }

# New inputs go to var/ (git-ignored), never into the repository; each run starts afresh
# from the seeds, so the test always reads the same corpus.
work=$ROOT/var/fuzz/$target
rm -rf "$work/corpus" "$work/real" "$work/summary.txt" "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
mkdir -p "$work/corpus" "$work/real"

# The real files a target reads: a fixed sample, linked, never copied into the repository.
REAL=${CHARTPULSE_REAL_DATA:-$ROOT/../shared/data/real}
real_dirs=""
case $target in
chart_spotify) real_dirs="lycnda-charts-spotify-com mattleesounds-charts-spotify-com" ;;
chart_legacy) real_dirs="clayol-spotifycharts-daily-global groovydata-spotifycharts-daily-global sonyal-spotifycharts-weekly-us" ;;
chart_kaggle) real_dirs="spandana-kaggle-charts-sample" ;;
chart_kaggle2017) real_dirs="kamolruts-kaggle2017-daily" ;;
chart_detect) real_dirs="lycnda-charts-spotify-com clayol-spotifycharts-daily-global spandana-kaggle-charts-sample kamolruts-kaggle2017-daily" ;;
esac
real_count=0
if [ -n "$real_dirs" ]; then
    if [ -d "$REAL" ]; then
        for d in $real_dirs; do
            # the first 8 files of each folder in name order, the same every run
            while IFS= read -r f; do
                ln -s "$f" "$work/real/$(basename "$(dirname "$f")")--$(basename "$f")"
                real_count=$((real_count + 1))
            done < <(find "$REAL/$d" -name '*.csv' -type f | LC_ALL=C sort | head -n 8)
        done
    else
        echo "fuzz_$target: ../shared/data/real is not present: seeds only"
    fi
fi
seed_count=$(find "$seeds" -type f | wc -l)

log=$work/log.txt
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
set +e
"$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" "$seeds" "$work/real" >"$log" 2>&1
rc=$?
set -e

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
summary="fuzz_$target: ${runs:-?} execs in ${seconds}s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} (seeds $seed_count, real files $real_count), exit $rc"
# kept for scripts/test.sh, which prints every target's line (ctest hides a passing test's)
echo "$summary" | tee "$work/summary.txt"
if [ "$rc" -ne 0 ]; then
    # the report, and where the input landed (crash-*, leak-*, timeout-*, oom-*)
    tail -n 60 "$log"
    ls -1 "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
    echo "fuzz_$target: FAILED; reproduce with: $bin <input>" >&2
fi
exit "$rc"
