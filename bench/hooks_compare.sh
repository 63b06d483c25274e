#!/bin/sh
# bench/hooks_compare.sh [-r ROUNDS] BUILD LIB... — the hook benchmarks
# (time calls, open/readlink, getpwuid_r, pool put+get with poisoning,
# one event with a 16-frame stack) under
# several builds of the shim, side by side: each round runs every bench
# under every LIB in turn (the order flips each round, so drift hits all
# alike) and prints the line with which each bench judges its target
# against libc's own functions in the same process.  BUILD has the
# benches (make bench).  Compare builds of two commits:
#   git worktree add /tmp/before <commit> && make -C /tmp/before build/libguard.so
#   bench/hooks_compare.sh -r 3 build /tmp/before/build/libguard.so build/libguard.so
# Run it on a quiet machine: the judged differences are a few ns.
set -u
ROUNDS=3
if [ "${1:-}" = "-r" ]; then
    ROUNDS=$2
    shift 2
fi
BUILD=${1:?usage: hooks_compare.sh [-r ROUNDS] BUILD LIB...}
shift
unset LD_PRELOAD GUARD_OPTIONS
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/guard-hooks.XXXXXX") || exit 2
trap 'rm -rf "$LOGDIR"' EXIT
one() { # LIB OPTIONS BENCH ARGS...: the bench's judged line
    lib=$1
    options=$2
    shift 2
    LD_PRELOAD=$lib GUARD_OPTIONS="log_dir=$LOGDIR$options" "$@" 2>&1 |
        sed -n 's/^.*\(measured \)/\1/p' | head -n 1
    rm -rf "${LOGDIR:?}"/* 2>/dev/null
}
r=1
while [ "$r" -le "$ROUNDS" ]; do
    libs=$*
    if [ $((r % 2)) -eq 0 ]; then
        libs=$(for l in "$@"; do echo "$l"; done | tac | tr '\n' ' ')
    fi
    for lib in $libs; do
        echo "round $r  $lib"
        echo "  clock_bench  $(one "$lib" "" "$BUILD/bench/clock_bench" -t 100 -r 7)"
        echo "  open_bench   $(one "$lib" "" "$BUILD/bench/open_bench" -t 20 -r 21)"
        echo "  nss_bench    $(one "$lib" "" "$BUILD/bench/nss_bench" -t 50 -r 21)"
        echo "  pool_bench   $(one "$lib" ":pool_protect=0" "$BUILD/bench/pool_bench" -t 100 -r 7)"
        echo "  event_bench  $(one "$lib" ":pool_poison=0:pool_protect=0:max_frames=16" \
            "$BUILD/bench/event_bench" -t 100 -r 7 16)"
    done
    r=$((r + 1))
done
