#!/bin/sh
# run-with-guard.sh — run a command under libguard, then analyze that run.
#
#   run-with-guard.sh [options] [--] CMD [ARGS...]
#
#   --log-dir DIR     where the logs go (default: a new directory under
#                     ${TMPDIR:-/tmp}); with --repeat/--until-fail each run
#                     gets DIR/run-N.  Logs an earlier run left in DIR are
#                     moved to DIR/earlier.N first (the last 5 are kept), so
#                     the report is this run's only
#   --format FMT      report format: text (default), json, sarif, junit or trace
#   --repeat N        run N times; the report merges all runs and says how
#                     many runs hit each finding
#   --until-fail      run again and again (at most --repeat N times, default
#                     100) until a run has a finding or the command crashes
#   --options OPTS    extra GUARD_OPTIONS (key=value:key=value)
#   --output FILE     write the report to FILE (default: standard error)
#   --suppressions FILE, --baseline OLD.json
#                     passed to guard-analyze (see guard-analyze --help)
#   --supervise       run CMD under guard-supervise (seccomp user
#                     notification) instead of LD_PRELOAD; --no-supervise:
#                     LD_PRELOAD only.  Without either the wrapper asks
#                     `guard-analyze inspect --mode CMD`: static and Go
#                     programs run supervised, a dynamic Go program with cgo
#                     gets both (docs/supervised.md)
#   --version         the version of libguard
#   -h, --help        this text
#
# The command's stdout and stderr stay its own: the shim prints no
# immediate report (report_stderr=0; --options report_stderr=1 brings it
# back), and the wrapper writes the report after the command, to its own
# stderr or to --output.  The log directories the wrapper makes are mode
# 1777, like /tmp: a child that drops its privileges can still write its
# log there.
#
# Exit status: the command's when it failed (the last run's), otherwise the
# analyzer's (0 no findings, 1 findings, 2 input error); the wrapper's own
# usage errors are 2 before the command runs.  The last line on stderr
# says whose status it is ("run-with-guard: exit N: ..."), and
# --status-file FILE writes "command=N analyzer=M" there for scripts.
set -u

here=$(cd "$(dirname "$0")" && pwd)
LIBGUARD=${LIBGUARD:-@LIBGUARD@}
ANALYZER=${GUARD_ANALYZER:-@ANALYZER@}
case $LIBGUARD in @*) LIBGUARD=$here/build/libguard.so ;; esac
case $ANALYZER in @*) ANALYZER=$here/build/guard-analyze ;; esac
SUPERVISOR=${GUARD_SUPERVISOR:-$(dirname "$ANALYZER")/guard-supervise}

VERSION=@VERSION@
case $VERSION in @*) VERSION=$(sed -n 's/^VERSION *:*= *//p' "$here/Makefile" 2>/dev/null | head -1) ;; esac
# A word quoted for the shell, to keep file names intact through eval.
quote() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "run-with-guard: $*" >&2; exit 2; }

log_dir="" format=text repeat=1 until_fail=0 extra_options="" output="" status_file=""
supervise=auto
analyzer_args=""
while [ $# -gt 0 ]; do
    case $1 in
        --log-dir) [ $# -ge 2 ] || die "--log-dir needs a directory"; log_dir=$2; shift 2 ;;
        --log-dir=*) log_dir=${1#*=}; shift ;;
        --format) [ $# -ge 2 ] || die "--format needs text, json, sarif, junit or trace"; format=$2; shift 2 ;;
        --format=*) format=${1#*=}; shift ;;
        --repeat) [ $# -ge 2 ] || die "--repeat needs a number"; repeat=$2; shift 2 ;;
        --repeat=*) repeat=${1#*=}; shift ;;
        --until-fail) until_fail=1; shift ;;
        --options) [ $# -ge 2 ] || die "--options needs key=value[:...]"; extra_options=$2; shift 2 ;;
        --options=*) extra_options=${1#*=}; shift ;;
        --output) [ $# -ge 2 ] || die "--output needs a file"; output=$2; shift 2 ;;
        --output=*) output=${1#*=}; shift ;;
        --status-file) [ $# -ge 2 ] || die "--status-file needs a file"; status_file=$2; shift 2 ;;
        --status-file=*) status_file=${1#*=}; shift ;;
        --suppressions|--baseline)
            [ $# -ge 2 ] || die "$1 needs a file"
            [ -r "$2" ] || die "$1: cannot read $2"
            analyzer_args="$analyzer_args $1 $(quote "$2")"; shift 2 ;;
        --suppressions=*|--baseline=*)
            [ -r "${1#*=}" ] || die "${1%%=*}: cannot read ${1#*=}"
            analyzer_args="$analyzer_args ${1%%=*} $(quote "${1#*=}")"; shift ;;
        --supervise) supervise=yes; shift ;;
        --no-supervise) supervise=no; shift ;;
        --version) echo "run-with-guard (libguard) $VERSION"; exit 0 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { usage >&2; exit 2; }
case $repeat in ''|*[!0-9]*|0) die "--repeat takes a positive number, not '$repeat'" ;; esac
case $format in text|json|sarif|junit|trace) ;; *) die "--format is text, json, sarif, junit or trace, not '$format'" ;; esac
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

# An earlier run's logs (guard.*.log, run-N directories) move to
# earlier.1, the one before to earlier.2, ...; the oldest beyond 5 go.
rotate_earlier() {
    set -- "$log_dir"/guard.*.log "$log_dir"/run-*
    found=0
    for f in "$@"; do [ -e "$f" ] && found=1 && break; done
    [ "$found" = 1 ] || return 0
    rm -rf "$log_dir/earlier.5"
    for n in 4 3 2 1; do
        [ -e "$log_dir/earlier.$n" ] && mv "$log_dir/earlier.$n" "$log_dir/earlier.$((n + 1))"
    done
    mkdir "$log_dir/earlier.1" || die "cannot create $log_dir/earlier.1"
    moved=0
    for f in "$@"; do
        [ -e "$f" ] || continue
        mv "$f" "$log_dir/earlier.1/" || die "cannot move $f to $log_dir/earlier.1"
        moved=$((moved + 1))
    done
    echo "run-with-guard: $log_dir held an earlier run's logs: $moved moved to $log_dir/earlier.1" >&2
}
rotate_earlier

preload=$LIBGUARD
[ -n "${LD_PRELOAD:-}" ] && preload="$LD_PRELOAD:$LIBGUARD"

# How libguard sees CMD: preload (LD_PRELOAD), supervise (guard-supervise)
# or both.  inspect --mode answers in one word; an analyzer without it is
# asked whether the program is static.
mode=preload
case $supervise in
    yes) mode=supervise ;;
    no) mode=preload ;;
    auto)
        exe=$(command -v "$1" 2>/dev/null || true)
        if [ -n "$exe" ] && [ -f "$exe" ]; then
            word=$("$ANALYZER" inspect --mode "$exe" 2>/dev/null)
            case $word in
                preload|supervise|both) mode=$word ;;
                none) mode=preload ;;
                *) # an analyzer without --mode: static, else Go (its build info) and dynamic
                    if "$ANALYZER" inspect --format=json "$exe" 2>/dev/null |
                           grep -q '"static": *true'; then
                        mode=supervise
                    elif grep -q -a '\.go\.buildinfo' "$exe" 2>/dev/null; then
                        mode=both
                    fi ;;
            esac
        fi ;;
esac
if [ "$mode" != preload ] && [ ! -x "$SUPERVISOR" ]; then
    [ "$supervise" = yes ] && die "cannot find guard-supervise at $SUPERVISOR (run make first)"
    echo "run-with-guard: $1 needs the supervised mode, but guard-supervise is not at" \
         "$SUPERVISOR: running it with LD_PRELOAD only" >&2
    mode=preload
fi
case $mode in
    supervise) echo "run-with-guard: running $1 supervised (guard-supervise: seccomp user notification)" >&2 ;;
    both) echo "run-with-guard: running $1 with the shim and supervised (guard-supervise)" >&2 ;;
esac

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
    case $mode in
        preload) GUARD_OPTIONS=$opts LD_PRELOAD=$preload "$@" ;;
        supervise) GUARD_OPTIONS=$opts "$SUPERVISOR" --log-dir "$run_dir" -- "$@" ;;
        both) GUARD_OPTIONS=$opts "$SUPERVISOR" --preload "$preload" --log-dir "$run_dir" -- "$@" ;;
    esac
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
# No log at all: say whether the shim could not reach the command (static,
# setuid: guard-analyze inspect tells) or reached it and had nothing to
# record (logs are made at the first record).
if [ -z "$(find "$log_dir" -name 'guard.*.log' -print 2>/dev/null | head -1)" ]; then
    exe=$(command -v "$1" 2>/dev/null || true)
    how=""
    [ -n "$exe" ] && [ -f "$exe" ] && how=$("$ANALYZER" inspect "$exe" 2>/dev/null | head -1)
    case $how in
        *"LD_PRELOAD works"*)
            echo "run-with-guard: no log: the shim ran in $1 and had nothing to record" \
                 "(--options log_always=1 makes a log anyway)" >&2 ;;
        "") ;;
        *) echo "run-with-guard: no log: the shim cannot reach $how" >&2 ;;
    esac
fi
if [ -n "$output" ]; then
    exec 3>"$output" || die "cannot write $output"
else
    exec 3>&2
fi
if [ "$dirs" = single ]; then
    eval '"$ANALYZER" --format="$format"' "$analyzer_args" '"$report_dir"' >&3
else # every run directory is one run: the analyzer counts runs per finding
    eval '"$ANALYZER" --format="$format"' "$analyzer_args" '"$log_dir"/run-*' >&3
fi
analyzer_status=$?
exec 3>&-
[ -n "$status_file" ] && echo "command=$cmd_status analyzer=$analyzer_status" >"$status_file"
if [ "$cmd_status" != 0 ]; then
    echo "run-with-guard: exit $cmd_status: the command's status (the analyzer's was $analyzer_status)" >&2
    exit "$cmd_status"
fi
case $analyzer_status in
    0) why="the command succeeded and there is no finding" ;;
    1) why="the command succeeded; the analyzer reports findings" ;;
    *) why="the command succeeded; the analyzer could not read every log (input error)" ;;
esac
echo "run-with-guard: exit $analyzer_status: $why" >&2
exit "$analyzer_status"
