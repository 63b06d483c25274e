#!/bin/sh
# run-with-guard.sh — run a command under libguard, then analyze that run.
#
#   run-with-guard.sh [options] [--] CMD [ARGS...]
#
#   --log-dir DIR     where the logs go (default: a new directory under
#                     ${TMPDIR:-/tmp}); with --repeat/--until-fail each run
#                     gets DIR/run-N
#   --format FMT      report format: text (default) or json
#   --repeat N        run N times; the report merges all runs and says how
#                     many runs hit each finding
#   --until-fail      run again and again (at most --repeat N times, default
#                     100) until a run has a finding or the command crashes
#   --options OPTS    extra GUARD_OPTIONS (key=value:key=value)
#   --output FILE     write the report to FILE instead of standard output
#                     (keeps it apart from the command's own output)
#   -h, --help        this text
#
# The command's own stderr stays its own: the shim prints no immediate
# report (report_stderr=0; --options report_stderr=1 brings it back), the
# wrapper reports at the end.  The log directories the wrapper makes are
# mode 1777, like /tmp: a child that drops its privileges can still write
# its log there.
#
# Exit status: the command's when it failed (the last run's), otherwise the
# analyzer's (0 no findings, 1 findings, 2 input error).
set -u

here=$(cd "$(dirname "$0")" && pwd)
LIBGUARD=${LIBGUARD:-@LIBGUARD@}
ANALYZER=${GUARD_ANALYZER:-@ANALYZER@}
case $LIBGUARD in @*) LIBGUARD=$here/build/libguard.so ;; esac
case $ANALYZER in @*) ANALYZER=$here/build/guard-analyze ;; esac

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "run-with-guard: $*" >&2; exit 2; }

log_dir="" format=text repeat=1 until_fail=0 extra_options="" output=""
while [ $# -gt 0 ]; do
    case $1 in
        --log-dir) [ $# -ge 2 ] || die "--log-dir needs a directory"; log_dir=$2; shift 2 ;;
        --log-dir=*) log_dir=${1#*=}; shift ;;
        --format) [ $# -ge 2 ] || die "--format needs text or json"; format=$2; shift 2 ;;
        --format=*) format=${1#*=}; shift ;;
        --repeat) [ $# -ge 2 ] || die "--repeat needs a number"; repeat=$2; shift 2 ;;
        --repeat=*) repeat=${1#*=}; shift ;;
        --until-fail) until_fail=1; shift ;;
        --options) [ $# -ge 2 ] || die "--options needs key=value[:...]"; extra_options=$2; shift 2 ;;
        --options=*) extra_options=${1#*=}; shift ;;
        --output) [ $# -ge 2 ] || die "--output needs a file"; output=$2; shift 2 ;;
        --output=*) output=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { usage >&2; exit 2; }
case $repeat in ''|*[!0-9]*|0) die "--repeat takes a positive number, not '$repeat'" ;; esac
case $format in text|json) ;; *) die "--format is text or json, not '$format'" ;; esac
[ -r "$LIBGUARD" ] || die "cannot find libguard.so at $LIBGUARD (run make first)"
[ -x "$ANALYZER" ] || die "cannot find guard-analyze at $ANALYZER (run make first)"
if [ "$until_fail" = 1 ] && [ "$repeat" = 1 ]; then repeat=100; fi

if [ -z "$log_dir" ]; then
    log_dir=$(mktemp -d "${TMPDIR:-/tmp}/guard-run.XXXXXX") || die "cannot create a log directory"
    chmod 1777 "$log_dir"
elif [ ! -d "$log_dir" ]; then
    mkdir -p "$log_dir" || die "cannot create $log_dir"
    chmod 1777 "$log_dir"
fi
log_dir=$(cd "$log_dir" && pwd)

preload=$LIBGUARD
[ -n "${LD_PRELOAD:-}" ] && preload="$LD_PRELOAD:$LIBGUARD"

run_once() { # $1: the run's log directory; the rest: the command
    run_dir=$1
    shift
    if [ ! -d "$run_dir" ]; then
        mkdir -p "$run_dir" && chmod 1777 "$run_dir"
    fi
    opts=report_stderr=0
    [ -n "${GUARD_OPTIONS:-}" ] && opts="$opts:$GUARD_OPTIONS"
    opts="$opts:log_dir=$run_dir"
    [ -n "$extra_options" ] && opts="$opts:$extra_options"
    GUARD_OPTIONS=$opts LD_PRELOAD=$preload "$@"
}

cmd_status=0
dirs=all report_dir=$log_dir
if [ "$repeat" = 1 ]; then
    run_once "$log_dir" "$@"
    cmd_status=$?
    dirs=single
else
    i=1
    while [ "$i" -le "$repeat" ]; do
        run_dir=$log_dir/run-$i
        run_once "$run_dir" "$@"
        cmd_status=$?
        if [ "$until_fail" = 1 ]; then
            "$ANALYZER" "$run_dir" >/dev/null 2>&1
            found=$?
            if [ "$found" = 1 ] || [ "$cmd_status" -gt 128 ]; then
                echo "run-with-guard: run $i of at most $repeat failed" \
                     "($( [ "$found" = 1 ] && echo findings || echo "crashed, status $cmd_status"))" >&2
                dirs=single report_dir=$run_dir
                break
            fi
            [ "$i" = "$repeat" ] && echo "run-with-guard: $repeat runs, none failed" >&2
        fi
        i=$((i + 1))
    done
fi

echo "run-with-guard: logs in $log_dir" >&2
if [ -n "$output" ]; then
    exec 3>"$output" || die "cannot write $output"
else
    exec 3>&1
fi
if [ "$dirs" = single ]; then
    "$ANALYZER" --format="$format" "$report_dir" >&3
else # every run directory is one run: the analyzer counts runs per finding
    "$ANALYZER" --format="$format" "$log_dir"/run-* >&3
fi
analyzer_status=$?
exec 3>&-
[ "$cmd_status" != 0 ] && exit "$cmd_status"
exit "$analyzer_status"
