#!/bin/sh
# make demo: a use-after-return through a child process, in C.  A writer thread feeds a child process from a
# pooled 64 KiB buffer; the job is cancelled and the buffer goes back to the
# pool before the writer is done.  libguard catches the writer's next write
# from the returned buffer and the analyzer names both lines.
set -eu
build=${1:-build}
logs=$(mktemp -d "${TMPDIR:-/tmp}/guard-demo.XXXXXX")
echo "\$ LD_PRELOAD=$build/libguard.so GUARD_OPTIONS=log_dir=$logs $build/testprogs/pool_uar"
GUARD_OPTIONS="log_dir=$logs" LD_PRELOAD="$PWD/$build/libguard.so" "$build/testprogs/pool_uar" || true
echo
echo "\$ $build/guard-analyze $logs"
status=0
"$build/guard-analyze" "$logs" || status=$?
echo
echo "(analyzer exit status $status: 1 means findings; logs kept in $logs)"
