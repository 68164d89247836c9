#!/usr/bin/env bash
# The README's promise, checked: a clone of the current commit runs `.ci/run` (`make test`)
# as root on a bare Debian 12, in a chroot under var/fresh-machine. Needs root on a Debian
# host; the first run builds the bare root with debootstrap (a few minutes) and keeps it as
# var/fresh-machine/bookworm-minbase.tar, and every run unpacks a new root from it.
#
#   scripts/check-fresh-machine.sh [--rebuild] [--no-shared] [--pg-port N] [--redis-port N]
#
#   --rebuild        throw the cached bare root away and debootstrap it again
#   --no-shared      do not show ../shared to the clone (as /root/shared, read-only)
#   --pg-port N      CHARTPULSE_PG_PORT inside (54420) and
#   --redis-port N   CHARTPULSE_REDIS_PORT inside (63890): not the defaults, since the
#                    chroot shares this machine's network (and its demo's services)
#
# Only committed work is tested (HEAD; uncommitted changes get a warning). The output goes
# to var/fresh-machine/last-run.log; the exit status is .ci/run's. Whatever ran inside is
# stopped and everything mounted is unmounted on the way out; the used root stays in
# var/fresh-machine/root for a look until the next run replaces it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
CACHE="$ROOT/var/fresh-machine"
PRISTINE="$CACHE/bookworm-minbase.tar"
MACHINE="$CACHE/root"
LOG="$CACHE/last-run.log"
MIRROR=http://deb.debian.org/debian
SUITE=bookworm
CLONE=/root/chartpulse
PG_PORT=54420
REDIS_PORT=63890
REBUILD=0
SHARED="$(dirname "$ROOT")/shared"
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf 'check-fresh-machine: %s\n' "$*" >&2; }
die() {
    printf 'check-fresh-machine: error: %s\n' "$*" >&2
    exit 1
}
usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --rebuild) REBUILD=1 ;;
    --no-shared) SHARED= ;;
    --pg-port) PG_PORT=${2:?--pg-port needs a port} && shift ;;
    --redis-port) REDIS_PORT=${2:?--redis-port needs a port} && shift ;;
    -h | --help) usage ;;
    *)
        say "unknown option '$1'"
        usage
        ;;
    esac
    shift
done

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
[[ $CACHE =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "the checkout's path has characters this script does not handle: $CACHE"
[[ $PG_PORT =~ ^[0-9]+$ && $REDIS_PORT =~ ^[0-9]+$ ]] || die "ports must be numbers"
[ -n "$SHARED" ] && [ ! -d "$SHARED" ] && SHARED=
umask 022

# --- what is mounted and running in a root -------------------------------------------

# Mount points at or below $1, deepest first (a mount sorts after the one it sits on).
mounts_under() {
    awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# Processes whose root directory is $1 or below it: everything started in the chroot.
pids_in() {
    local p link
    for p in /proc/[0-9]*; do
        link=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$link" = "$1" ] || [[ $link == "$1"/* ]] && echo "${p#/proc/}"
    done
    return 0
}

stop_pids_in() {
    local pids
    mapfile -t pids < <(pids_in "$1")
    [ ${#pids[@]} -gt 0 ] || return 0
    say "stopping what still runs inside: ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
        [ -n "$(pids_in "$1")" ] || return 0
        sleep 0.2
    done
    mapfile -t pids < <(pids_in "$1")
    [ ${#pids[@]} -eq 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 0.5
}

unmount_all_under() {
    local m
    for m in $(mounts_under "$1"); do
        umount "$m" 2>/dev/null || umount -l "$m" || say "cannot unmount $m"
    done
    [ -z "$(mounts_under "$1")" ]
}

# rm -rf only a folder of ours with nothing mounted anywhere below it: an rm across a mount
# of /dev or ../shared would delete the host's files. --one-file-system is the second guard.
remove_tree() {
    [[ $1 == "$CACHE"/* ]] || die "refusing to remove $1: not under $CACHE"
    [ -e "$1" ] || return 0
    if [ -n "$(mounts_under "$1")" ]; then
        die "refusing to remove $1: still mounted there: $(mounts_under "$1" | tr '\n' ' ')"
    fi
    rm -rf --one-file-system -- "$1"
}

# A root left by a run that was killed: stop what it left running, unmount, remove.
discard_root() {
    [ -e "$1" ] || return 0
    stop_pids_in "$1"
    unmount_all_under "$1" || die "$1 still has mounts; unmount them by hand"
    remove_tree "$1"
}

# --- the cached bare root ------------------------------------------------------------

build_pristine() {
    local build="$CACHE/build"
    discard_root "$build"
    command -v debootstrap >/dev/null 2>&1 || {
        say "installing debootstrap"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
            die "apt-get install debootstrap failed"
    }
    say "debootstrap --variant=minbase $SUITE from $MIRROR (a few minutes)"
    local started=$SECONDS
    debootstrap --variant=minbase --include=git,make,ca-certificates "$SUITE" "$build" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || {
        tail -n 20 "$CACHE/debootstrap.log" >&2
        discard_root "$build"
        die "debootstrap failed: see $CACHE/debootstrap.log"
    }
    # Debian 12's own apt sources (with updates and security, as an installed machine has).
    rm -f "$build/etc/apt/sources.list"
    cat >"$build/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # As on the Debian images these machines run: packages do not start their services
    # (here they would take this machine's ports 5432 and 6379, outside any cleanup).
    printf '#!/bin/sh\n# Packages do not start services on this machine.\nexit 101\n' >"$build/usr/sbin/policy-rc.d"
    chmod 755 "$build/usr/sbin/policy-rc.d"
    rm -rf "$build/var/cache/apt/archives/"*.deb "$build/var/lib/apt/lists/"*
    [ -z "$(mounts_under "$build")" ] || unmount_all_under "$build" || die "debootstrap left mounts in $build"
    tar --numeric-owner --xattrs -C "$build" -cf "$PRISTINE.tmp" .
    mv "$PRISTINE.tmp" "$PRISTINE"
    remove_tree "$build"
    say "bare root cached in $PRISTINE ($(du -h "$PRISTINE" | cut -f1), $((SECONDS - started))s)"
}

# --- one run -------------------------------------------------------------------------

MOUNTED=()
STAGE=setup
RUN_RC=

mount_in() { # mount_in TARGET MOUNT-ARGS...: mount and remember it for the way out
    local target=$1
    shift
    mkdir -p "$target"
    mount "$@" "$target"
    MOUNTED+=("$target")
}

# /dev is a tmpfs of its own with the usual device nodes, not a bind of the host's: what
# runs inside (or an rm -rf of the root) can then delete nothing of this machine's /dev.
mount_dev() {
    local dev="$MACHINE/dev"
    mount_in "$dev" -t tmpfs -o mode=755,nosuid tmpfs
    mknod -m 666 "$dev/null" c 1 3
    mknod -m 666 "$dev/zero" c 1 5
    mknod -m 666 "$dev/full" c 1 7
    mknod -m 666 "$dev/random" c 1 8
    mknod -m 666 "$dev/urandom" c 1 9
    mknod -m 666 "$dev/tty" c 5 0
    ln -s /proc/self/fd "$dev/fd"
    ln -s /proc/self/fd/0 "$dev/stdin"
    ln -s /proc/self/fd/1 "$dev/stdout"
    ln -s /proc/self/fd/2 "$dev/stderr"
    ln -s pts/ptmx "$dev/ptmx"
    mount_in "$dev/pts" -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts
    mount_in "$dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
}

# The clean environment of a root login, plus this machine's certificate-authority
# variables: the registries are reached through a CA of the machine's own (npm fails with
# SELF_SIGNED_CERT_IN_CHAIN without NODE_EXTRA_CA_CERTS).
CA_VARS=(NODE_EXTRA_CA_CERTS SSL_CERT_FILE GIT_SSL_CAINFO CURL_CA_BUNDLE)
MACHINE_ENV=(HOME=/root PATH="$CHROOT_PATH" TERM=dumb LANG=C.UTF-8
    CHARTPULSE_PG_PORT="$PG_PORT" CHARTPULSE_REDIS_PORT="$REDIS_PORT")
for v in "${CA_VARS[@]}"; do
    [ -z "${!v:-}" ] || MACHINE_ENV+=("$v=${!v}")
done

# in_machine [PREFIX...] -- COMMAND: run a bash command line as root in the machine, from a
# clean environment (PREFIX, e.g. `timeout 120`, runs on this side of the chroot).
in_machine() {
    local prefix=()
    while [ "$1" != -- ]; do prefix+=("$1") && shift; done
    shift
    "${prefix[@]}" env -i "${MACHINE_ENV[@]}" chroot "$MACHINE" /bin/bash -c "$1" </dev/null 9>&-
}

copy_ca_certificates() {
    local f v
    if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
        cp -a /usr/local/share/ca-certificates/. "$MACHINE/usr/local/share/ca-certificates/"
        in_machine -- 'update-ca-certificates >/dev/null 2>&1' ||
            cp /etc/ssl/certs/ca-certificates.crt "$MACHINE/etc/ssl/certs/ca-certificates.crt"
    fi
    for v in "${CA_VARS[@]}"; do
        f=${!v:-}
        if [ -n "$f" ] && [ -f "$f" ] && [ ! -e "$MACHINE$f" ]; then
            mkdir -p "$MACHINE$(dirname "$f")"
            cp "$f" "$MACHINE$f"
        fi
    done
}

# On every way out: stop the services (make down), then anything else still running in the
# root, then unmount in reverse order; the root itself stays for a look.
# shellcheck disable=SC2317 # called by the trap
on_exit() {
    local rc=$? i clean=1
    set +e
    trap - EXIT INT TERM
    if [ ${#MOUNTED[@]} -gt 0 ]; then
        if [ -f "$MACHINE$CLONE/Makefile" ] && [ -n "$(pids_in "$MACHINE")" ]; then
            say "make down inside"
            in_machine timeout 120 -- "cd $CLONE && make down" 2>&1 | tee -a "$LOG" >&2
        fi
        stop_pids_in "$MACHINE"
        for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
            umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" || say "cannot unmount ${MOUNTED[i]}"
        done
        MOUNTED=()
    fi
    if [ -d "$MACHINE" ]; then
        [ -n "$(pids_in "$MACHINE")" ] && clean=0 && say "still running inside: $(pids_in "$MACHINE" | tr '\n' ' ')"
        unmount_all_under "$MACHINE" || {
            clean=0
            say "still mounted: $(mounts_under "$MACHINE" | tr '\n' ' ')"
        }
    fi
    local commit=${COMMIT:0:7} took
    took=$(printf '%dm%02ds' $((SECONDS / 60)) $((SECONDS % 60)))
    if [ -n "$RUN_RC" ] && [ "$RUN_RC" -eq 0 ]; then
        echo "check-fresh-machine: PASSED (commit $commit, $took)"
    elif [ -n "$RUN_RC" ]; then
        echo "check-fresh-machine: FAILED (commit $commit, .ci/run exit $RUN_RC, $took); see $LOG"
        rc=$RUN_RC
    else
        echo "check-fresh-machine: FAILED during $STAGE (commit ${commit:-?}, $took)"
        [ "$rc" -ne 0 ] || rc=1
    fi
    if [ "$clean" -eq 0 ]; then
        say "cleanup incomplete: check /proc/mounts and ps before removing $MACHINE"
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -n 9 || die "another check-fresh-machine run holds $CACHE/lock"

COMMIT=$(git -C "$ROOT" rev-parse HEAD)
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for port in "$PG_PORT" "$REDIS_PORT"; do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port $port is already taken on this machine (the chroot shares its network); choose another with --pg-port/--redis-port"
    fi
done

if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
    say "warning: the working tree has uncommitted changes; they are NOT tested, only commit ${COMMIT:0:7}"
fi

STAGE="building the bare root"
if [ "$REBUILD" -eq 1 ]; then
    rm -f "$PRISTINE"
fi
[ -f "$PRISTINE" ] || build_pristine

STAGE="unpacking a new root"
discard_root "$MACHINE"
mkdir "$MACHINE"
tar --numeric-owner --xattrs -C "$MACHINE" -xpf "$PRISTINE"
chmod 0700 "$MACHINE/root"

STAGE="cloning ${COMMIT:0:7}"
say "cloning commit $COMMIT ($(git -C "$ROOT" log -1 --format=%s "$COMMIT" | cut -c1-60)) to $CLONE"
git clone --quiet --no-local --no-checkout "$ROOT" "$MACHINE$CLONE"
git -C "$MACHINE$CLONE" checkout --quiet --detach "$COMMIT"

STAGE="mounting"
mount_in "$MACHINE/proc" -t proc -o nosuid,nodev,noexec proc
mount_in "$MACHINE/sys" -t sysfs -o ro,nosuid,nodev,noexec sysfs
mount_dev
if [ -n "$SHARED" ]; then
    mount_in "$MACHINE/root/shared" --bind "$SHARED"
    mount -o remount,bind,ro "$MACHINE/root/shared"
    if touch "$MACHINE/root/shared/.write-test" 2>/dev/null; then
        rm -f "$MACHINE/root/shared/.write-test"
        die "$MACHINE/root/shared is writable; refusing to run on a writable ../shared"
    fi
    say "../shared is /root/shared (read-only)"
fi
cp -L /etc/resolv.conf "$MACHINE/etc/resolv.conf"
STAGE="installing the certificate authorities"
copy_ca_certificates

STAGE="running .ci/run"
{
    echo "# check-fresh-machine: commit $COMMIT, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "# chroot $MACHINE, $CLONE, CHARTPULSE_PG_PORT=$PG_PORT CHARTPULSE_REDIS_PORT=$REDIS_PORT"
} >"$LOG"
say "running .ci/run as root in the bare root (output in $LOG)"
# In the background, so that a TERM or INT is handled (by on_exit) at once, not after it.
rm -f "$CACHE/run.rc"
set +e
{
    in_machine -- "cd $CLONE && exec .ci/run"
    echo $? >"$CACHE/run.rc"
} 2>&1 | tee -a "$LOG" &
wait $!
set -e
RUN_RC=$(cat "$CACHE/run.rc" 2>/dev/null) || die ".ci/run left no exit status"
exit "$RUN_RC"
