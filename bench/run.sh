#!/bin/sh
# shellcheck disable=SC2086  # BENCH_OPTS is split into words on purpose
# bench/run.sh [BUILD] — run the benchmarks of libguard (numbers and how to
# read them: docs/performance.md).  Builds nothing: `make bench` has built
# BUILD/libguard.so and BUILD/bench/* already.
#
# Each bench runs without the shim (the weak API is a null test) and under
# LD_PRELOAD=BUILD/libguard.so in the modes the targets are stated for.  The
# exact command of every run is printed before its output.  The logs go to a
# temporary directory that is emptied after every run (a pool_bench run
# writes ~300 MB of log; spawn_bench ~9000 small logs, ~90 MB on disk, which
# it deletes itself at its end) and removed at the end.
#
# bench/analyzer_bench.sh (the analyzer on ~1 GB of generated logs) is not
# run from here; run it by hand.  It takes only ~15 s, but it needs 1.1 GB
# free in TMPDIR and /usr/bin/time, and the 1200 files it writes and then
# deletes would slow file creation on this ext4 /tmp for minutes (see
# spawn_bench below).
#
# Environment: BENCH_OPTS (default "-t 100 -r 7": ~100 ms per repetition,
# 7 repetitions per row, median reported) for pool_bench, event_bench and
# clock_bench; NSS_OPTS (default "-t 50 -r 21": a lookup reads a file, so
# more and shorter repetitions) for nss_bench; OPEN_OPTS (default
# "-t 20 -r 21": a few ns judged on system calls, so many short
# repetitions) for open_bench; SPAWN_OPTS (default
# "-n 300 -r 7": spawns per repetition, rounds of each context mode; the
# judged pair runs 40 rounds, -j) for spawn_bench.  Exit status: 0 when every bench ran and checked its own
# mode, non-zero otherwise.  A missed target is reported, not treated as a
# failure: benchmarks are not timed tests.
set -u

BUILD=${1:-build}
BENCH_OPTS=${BENCH_OPTS:--t 100 -r 7}
NSS_OPTS=${NSS_OPTS:--t 50 -r 21}
OPEN_OPTS=${OPEN_OPTS:--t 20 -r 21}
SPAWN_OPTS=${SPAWN_OPTS:--n 300 -r 7}
unset LD_PRELOAD GUARD_OPTIONS

for f in "$BUILD/libguard.so" "$BUILD/bench/pool_bench" "$BUILD/bench/event_bench" \
         "$BUILD/bench/page_bench" "$BUILD/bench/clock_bench" "$BUILD/bench/nss_bench" \
         "$BUILD/bench/open_bench" "$BUILD/bench/spawn_bench"; do
    if [ ! -f "$f" ]; then
        echo "bench/run.sh: $f is missing: run 'make bench' (or make $f) first" >&2
        exit 2
    fi
done
SHIM=$(cd "$BUILD" && pwd)/libguard.so
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/guard-bench.XXXXXX") || exit 2
trap 'rm -rf "$LOGDIR"' EXIT
trap 'exit 130' INT TERM

failed=0
summary=""

# run DESCRIPTION [VAR=VALUE...] PROGRAM ARGS...: print the command, run it,
# note the size of the log it wrote, empty the log directory.
run() {
    desc=$1
    shift
    echo
    echo "==== $desc"
    echo "\$ $*"
    out=$(env "$@" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    size=$(du -sk "$LOGDIR" | cut -f1)
    if [ "$size" -gt 4 ]; then
        echo "  (log written by this run: $((size / 1024)) MiB on disk, deleted)"
    fi
    rm -rf "${LOGDIR:?}"/* 2>/dev/null
    if [ $rc -ne 0 ]; then
        echo "bench/run.sh: FAILED (exit $rc): $*" >&2
        failed=1
    fi
    t=$(echo "$out" | grep -A1 '^  target' | grep -v '^--$' | sed -n 's/^ *//p')
    if [ -n "$t" ]; then
        summary="$summary
[$desc]
$t"
    fi
}

echo "libguard benchmarks: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"
echo "shim: $SHIM"
echo "logs: $LOGDIR (GUARD_OPTIONS log_dir)"
start=$(date +%s)

run "pool put+get pairs, no shim" \
    "$BUILD/bench/pool_bench" $BENCH_OPTS
run "pool put+get pairs, shim, poisoning only (pool_protect=0)" \
    LD_PRELOAD="$SHIM" GUARD_OPTIONS="log_dir=$LOGDIR:pool_protect=0" "$BUILD/bench/pool_bench" $BENCH_OPTS
run "pool put+get pairs, shim, poisoning + protection of every put (pool_protect_sample=1)" \
    LD_PRELOAD="$SHIM" GUARD_OPTIONS="log_dir=$LOGDIR:pool_protect_sample=1" "$BUILD/bench/pool_bench" $BENCH_OPTS

# The issue-23 program: four threads cycling 4 KiB objects through a locked
# pool, natively, under the shim's profiles, ASan and TSan, beside the floor
# of memset + two mprotect calls (its own runner; POOL_THREADS_OPTS).
run "pool_threads: a pool-heavy multithreaded program, side by side" \
    "$BUILD/bench/pool_threads" --compare ${POOL_THREADS_OPTS:--r 5} "$SHIM" \
    "$BUILD/bench/pool_threads-asan" "$BUILD/bench/pool_threads-tsan"

run "event cost, no shim" \
    "$BUILD/bench/event_bench" $BENCH_OPTS 16
for frames in 4 16 32; do
    run "event cost, shim, $frames-frame stacks (pool_poison=0, pool_protect=0)" \
        LD_PRELOAD="$SHIM" GUARD_OPTIONS="log_dir=$LOGDIR:pool_poison=0:pool_protect=0:max_frames=$frames" \
        "$BUILD/bench/event_bench" $BENCH_OPTS $frames
done

# Where a log record's cost goes: the kernel's price for a page of a
# MAP_SHARED log file (no shim involved), in LOGDIR and, when there is one,
# on tmpfs.
shmdir=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shmdir=/dev/shm
fi
run "log page cost (no shim): 64-byte records through mmap'd files" \
    "$BUILD/bench/page_bench" -r 5 "$LOGDIR" $shmdir

# The time calls, the NSS lookup and the path calls: each bench times the
# call as a program makes it (under the shim: the hook) against libc's own
# definition (dlsym), in alternating repetitions of one process, so the
# "native" cost is measured beside the hooked one.  Without the shim the
# two are the same call, which shows what the method's own noise is.
run "time calls, no shim" \
    "$BUILD/bench/clock_bench" $BENCH_OPTS
run "time calls, shim" \
    LD_PRELOAD="$SHIM" GUARD_OPTIONS="log_dir=$LOGDIR" "$BUILD/bench/clock_bench" $BENCH_OPTS
run "getpwuid_r, no shim" \
    "$BUILD/bench/nss_bench" $NSS_OPTS
run "getpwuid_r, shim" \
    LD_PRELOAD="$SHIM" GUARD_OPTIONS="log_dir=$LOGDIR" "$BUILD/bench/nss_bench" $NSS_OPTS
run "open/openat/readlink of an ordinary path, no shim" \
    "$BUILD/bench/open_bench" $OPEN_OPTS
run "open/openat/readlink of an ordinary path, shim" \
    LD_PRELOAD="$SHIM" GUARD_OPTIONS="log_dir=$LOGDIR" "$BUILD/bench/open_bench" $OPEN_OPTS

# Child processes: spawn_bench is a driver that runs its workers without
# the shim, under it, and under it with follow_exec=0, in rounds, and
# prints each worker's command and the judged ratio with its 95 % interval.  Last, because it creates and then deletes
# thousands of log files: on ext4 without a journal (this VM's /tmp), file
# creations stay slower for minutes after many deletions.
run "child processes: fork+exec+wait and posix_spawn+wait of /bin/true" \
    "$BUILD/bench/spawn_bench" $SPAWN_OPTS "$SHIM" "$LOGDIR"

echo
echo "==== summary ($(($(date +%s) - start)) s)"
printf '%s\n' "${summary#?}"
[ -n "$summary" ] || echo "(no target was evaluated)"
if [ $failed -ne 0 ]; then
    echo "bench/run.sh: some runs FAILED (see above)" >&2
    exit 1
fi
exit 0
