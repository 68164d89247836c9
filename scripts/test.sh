#!/usr/bin/env bash
# `make test`: every test, against the private PostgreSQL and Redis, in a build with
# -Werror and AddressSanitizer + UndefinedBehaviorSanitizer. Prints a summary line
# "summary: N passed, N failed, N skipped" (after a "time: XmYYs" line). Safe to run while the demo is up:
# tests use their own databases (chartpulse_test*), Redis database 15 and raw zone
# var/test-raw. The services' ports follow CHARTPULSE_PG_PORT and CHARTPULSE_REDIS_PORT
# (scripts/env.sh turns them into the URLs).
set -euo pipefail

STARTED=$SECONDS
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD="$ROOT/build-test"

scripts/env.sh up
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCHARTPULSE_WERROR=ON -DCHARTPULSE_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)"
# The fuzz targets (tests/fuzz), which the fuzz_* tests run: clang, a configuration of its own.
cmake -S . -B "$ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DCHARTPULSE_FUZZ=ON >/dev/null
cmake --build "$ROOT/build-fuzz" --target fuzzers -j "$(nproc 2>/dev/null || echo 2)"

# A fresh, migrated template database; integration suites clone it (tests/testutil.c).
scripts/env.sh createdb chartpulse_test --fresh
# DATABASE_URL, API_DATABASE_URL and REDIS_URL (database 15) on the private services
urls=$(scripts/env.sh urls chartpulse_test 15)
eval "$urls"
export CHARTPULSE_RAW_URI="file://$ROOT/var/test-raw"
export CHARTPULSE_LOG_FORMAT=text
rm -rf "$ROOT/var/test-raw"
"$BUILD/chartpulse" migrate

# Any sanitizer report fails the test that produced it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CK_DEFAULT_TIMEOUT=120

LOG="$ROOT/var/log/test-ctest.$$.log"
mkdir -p "$ROOT/var/log"
set +e
(cd "$BUILD" && ctest --output-on-failure -j 2) 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
failed=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$LOG" | tail -n 1)
skipped=$(grep -c '(Skipped)$' "$LOG" || true)
total=${total:-0}
failed=${failed:-0}
rm -f "$LOG"
# one line per fuzz target: executions, coverage, corpus (tests/fuzz/run.sh)
cat "$ROOT"/var/fuzz/*/summary.txt 2>/dev/null || true

# 52s, 2m52s, 1h02m52s
elapsed=$((SECONDS - STARTED))
if [ "$elapsed" -ge 3600 ]; then
    took=$(printf '%dh%02dm%02ds' $((elapsed / 3600)) $((elapsed % 3600 / 60)) $((elapsed % 60)))
elif [ "$elapsed" -ge 60 ]; then
    took=$(printf '%dm%02ds' $((elapsed / 60)) $((elapsed % 60)))
else
    took="${elapsed}s"
fi
echo
echo "time: $took"
echo "summary: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$rc"
