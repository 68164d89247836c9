#!/usr/bin/env bash
# docker-compose.yml, checked without a Docker engine (`docker-compose config`, which
# interpolates and validates the file): it is valid once its secrets are set, and it
# refuses to start with any one of the three database passwords unset, naming it, so no
# deployment falls back to a well-known password.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FILE="$ROOT/docker-compose.yml"
command -v docker-compose >/dev/null 2>&1 || {
    echo "compose: docker-compose is missing (scripts/env.sh deps installs it)" >&2
    exit 1
}

SECRETS=(POSTGRES_PASSWORD API_PASSWORD BI_PASSWORD)
failed=0
compose() { (cd "$ROOT" && env -u POSTGRES_PASSWORD -u API_PASSWORD -u BI_PASSWORD "$@" docker-compose -f "$FILE" config -q 2>&1); }

if out=$(compose POSTGRES_PASSWORD=p1 API_PASSWORD=p2 BI_PASSWORD=p3); then
    echo "ok - valid with every secret set"
else
    echo "not ok - invalid with every secret set: $out"
    failed=1
fi
for missing in "${SECRETS[@]}"; do
    set_others=()
    for s in "${SECRETS[@]}"; do [ "$s" = "$missing" ] || set_others+=("$s=secret"); done
    if out=$(compose "${set_others[@]}"); then
        echo "not ok - accepted with $missing unset"
        failed=1
    elif ! grep -q "set $missing" <<<"$out"; then
        echo "not ok - refused with $missing unset, but the message does not name it: $out"
        failed=1
    else
        echo "ok - refused with $missing unset, naming it"
    fi
done
exit "$failed"
