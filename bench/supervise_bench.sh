#!/bin/sh
# bench/supervise_bench.sh [BUILD] — the supervised mode's cost
# (docs/performance.md, "Supervised mode"): per watched and unwatched
# system call (bench/supervise_bench.c), and a Go program that runs 200
# children one after the other (testprogs/go/spawn_many.go), each plain,
# under the floor (bench/supervise_floor.c: the same filter, every call
# answered at once, nothing else) and under guard-supervise.  Needs
# `make all bench` first.
set -u
BUILD=${1:-build}
SUP=$BUILD/guard-supervise
FLOOR=$BUILD/bench/supervise_floor
unset LD_PRELOAD GUARD_OPTIONS
logs=$(mktemp -d "${TMPDIR:-/tmp}/guard-supbench.XXXXXX")
trap 'rm -rf "$logs"' EXIT
echo "== per call: plain"
"$BUILD/bench/supervise_bench"
echo "== per call: under the floor"
"$FLOOR" "$BUILD/bench/supervise_bench"
echo "== per call: under guard-supervise"
"$SUP" --log-dir "$logs" -- "$BUILD/bench/supervise_bench"
rm -f "$logs"/guard.*
# spawn_many 200, 11 times each, alternating: the median wall time and the
# median CPU time (user + system of the whole tree, the supervisor's
# included), the latter less sensitive to other load on the machine
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
timed() { # prints "wall_ms cpu_ms"
    /usr/bin/time -f "%e %U %S" -o "$logs/time" "$@" >/dev/null
    awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$logs/time"
}
pw="" pc="" fw="" fc="" sw="" sc=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    set -- $(timed "$BUILD/testprogs/go/spawn_many" 200); pw="$pw $1"; pc="$pc $2"
    set -- $(timed "$FLOOR" "$BUILD/testprogs/go/spawn_many" 200); fw="$fw $1"; fc="$fc $2"
    set -- $(timed "$SUP" --log-dir "$logs" -- "$BUILD/testprogs/go/spawn_many" 200); sw="$sw $1"; sc="$sc $2"
    rm -f "$logs"/guard.*
done
echo "== spawn_many 200, 15 runs each (ms)"
echo "wall: plain$pw; floor$fw; supervised$sw"
echo "cpu:  plain$pc; floor$fc; supervised$sc"
a=$(echo $pw | median) f=$(echo $fw | median) b=$(echo $sw | median)
c=$(echo $pc | median) g=$(echo $fc | median) d=$(echo $sc | median)
echo "median wall: plain $a, floor $f ($(( (f - a) * 100 / a )) %), supervised $b ($(( (b - a) * 100 / a )) %)"
echo "median cpu:  plain $c, floor $g ($(( (g - c) * 100 / c )) %), supervised $d ($(( (d - c) * 100 / c )) %)"
