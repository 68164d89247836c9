#!/usr/bin/env bash
# `make test`: every test, against the private PostgreSQL and Redis, in a build with
# -Werror and AddressSanitizer + UndefinedBehaviorSanitizer. Prints a summary line
# "N passed, N failed". Safe to run while the demo is up: tests use their own databases
# (chartpulse_test*), Redis database 15 and raw zone var/test-raw.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD="$ROOT/build-test"
PG_PORT=${CHARTPULSE_PG_PORT:-54320}
REDIS_PORT=${CHARTPULSE_REDIS_PORT:-63790}

scripts/env.sh up
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCHARTPULSE_WERROR=ON -DCHARTPULSE_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)"

# A fresh, migrated template database; integration suites clone it (tests/testutil.c).
scripts/env.sh createdb chartpulse_test --fresh
export DATABASE_URL="postgresql://chartpulse@127.0.0.1:$PG_PORT/chartpulse_test"
export API_DATABASE_URL="postgresql://chartpulse_api@127.0.0.1:$PG_PORT/chartpulse_test"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/15"
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
echo
echo "summary: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
rm -f "$LOG"
exit "$rc"
