#!/usr/bin/env python3
"""spawn_compare.py — what different preloaded libraries cost the spawning
process of a fork+exec (or posix_spawn) loop, measured side by side.

spawn_bench judges the shim as built; this is for deciding where its cost
comes from: build variants of libguard.so (a change reverted, a piece left
out), copy each somewhere, and compare them with each other, with no
preload ('none') and with an empty library (build/bench/libempty_preload.so).

Each round runs `spawn_bench --worker LOOP N 20 1` once per variant, in an
order that flips every round (drift hits all alike); the worker's children
exec /bin/true without the preload (the '1': follow_exec=0's view).  It
reports, per variant, the median over rounds of the wall time per spawn
(the worker's own clock) and of the CPU time per spawn of the worker and
all its children (wait4's rusage), each against the first variant.

  bench/spawn_compare.py [-r ROUNDS] [-n SPAWNS] [--loop fork-exec|posix-spawn] \\
      none build/bench/libempty_preload.so /tmp/variant-a.so build/libguard.so \\
      build/libguard.so+fork_fast=0

A variant LIB+OPTIONS runs LIB with OPTIONS added to its GUARD_OPTIONS (the
fork subsystem's plain path above).

Logs go to a fresh temporary directory on /dev/shm when it exists, or in
the directory given with --log-parent (to see what the log's file system
adds: an ext4 page costs a journalled page_mkwrite that tmpfs does not).
"""
import argparse
import glob
import os
import shutil
import statistics
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "..", "build", "bench", "spawn_bench")


def stage_variants(variants, workdir):
    """Copies of the libraries under names of one length (workdir/v00.so,
    v01.so, ...): the length of LD_PRELOAD moves the worker's stack, and
    with it where a page boundary falls under the fork hook's frames: one
    page fault more or less per spawn, whatever the library does (two
    builds under /tmp/var/cur.so and /tmp/var/cons_norelro.so read 1.039
    and 1.060; renamed A.so and B.so, 1.039 and 1.022).  Returns
    {variant: path to preload, or None for 'none'}."""
    staged = {}
    for i, v in enumerate(variants):
        if v == "none":
            staged[v] = None
        elif v not in staged:
            staged[v] = os.path.join(workdir, "v%02d.so" % i)
            shutil.copy(split_variant(v)[0], staged[v])
    return staged


def split_variant(v):
    """'LIB+OPTIONS' -> (LIB, OPTIONS); 'LIB' -> (LIB, '')."""
    lib, _, options = v.partition("+")
    return lib, options


def variant_env(library, logdir, like=None, extra=""):
    """The worker's environment: library preloaded (None: nothing), logs in
    logdir, its children exec'd without it (follow_exec=0).  Without a
    library the environment gets two variables as long as LD_PRELOAD=like
    and GUARD_OPTIONS would be, so that the stack starts where it does
    under the others (see stage_variants)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("GUARD_OPTIONS", None)
    options = "log_dir=%s:follow_exec=0" % logdir + (":" + extra if extra else "")
    if library is not None:
        env["LD_PRELOAD"] = os.path.abspath(library)
        env["GUARD_OPTIONS"] = options
    elif like is not None:
        for name, real_name, value in (("SPAWN_PAD_P", "LD_PRELOAD", os.path.abspath(like)),
                                       ("SPAWN_PAD_OPTIONS", "GUARD_OPTIONS", options)):
            env[name] = "x" * (len(real_name) + len(value) - len(name))
    return env


def one_run(library, loop, spawns, logdir, like, extra=""):
    for f in glob.glob(os.path.join(logdir, "*")):
        os.unlink(f)
    env = variant_env(library, logdir, like, extra)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(wfd, 1)
        os.execve(WORKER, [WORKER, "--worker", loop, str(spawns), "20", "1"], env)
    os.close(wfd)
    out = b""
    while True:
        chunk = os.read(rfd, 4096)
        if not chunk:
            break
        out += chunk
    os.close(rfd)
    _, status, usage = os.wait4(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not out.split():
        raise SystemExit("spawn_compare: the worker failed for %s" % library)
    wall_us = int(out.split()[0]) / spawns / 1000.0
    cpu_us = (usage.ru_utime + usage.ru_stime) / (spawns + 20) * 1e6
    return wall_us, cpu_us


def median_interval(samples):
    """The median and a 95 % interval for it that assumes no distribution
    (the k-th smallest and largest, P(Binomial(n, 1/2) < k) <= 2.5 %), as
    spawn_bench gives it; (median, None, None) with fewer than 6 samples."""
    xs = sorted(samples)
    n = len(xs)
    p, below, k = 0.5 ** n, 0.0, 0
    while k < n // 2 and below + p <= 0.025:
        below += p
        p = p * (n - k) / (k + 1)
        k += 1
    med = statistics.median(xs)
    return (med, xs[k - 1], xs[n - k]) if k else (med, None, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--rounds", type=int, default=12)
    ap.add_argument("-n", "--spawns", type=int, default=300)
    ap.add_argument("--loop", default="fork-exec", choices=["fork-exec", "posix-spawn"])
    ap.add_argument("--log-parent", default=None,
                    help="make the log directory in this directory (default /dev/shm, a tmpfs)")
    ap.add_argument("variants", nargs="+", help="'none' or a preloadable library")
    args = ap.parse_args()
    if not os.access(WORKER, os.X_OK):
        raise SystemExit("spawn_compare: %s missing: run `make bench` first" % WORKER)
    for v in args.variants:
        if v != "none" and not os.path.exists(split_variant(v)[0]):
            raise SystemExit("spawn_compare: no such library: %s" % v)
    logdir = tempfile.mkdtemp(prefix="spawn_compare.", dir=args.log_parent or ("/dev/shm" if os.path.isdir("/dev/shm") else None))
    libdir = tempfile.mkdtemp(prefix="spawn_compare.libs.")
    wall = {v: [] for v in args.variants}
    cpu = {v: [] for v in args.variants}
    try:
        staged = stage_variants(args.variants, libdir)
        like = next((p for p in staged.values() if p), None)
        for r in range(args.rounds):
            order = args.variants if r % 2 == 0 else args.variants[::-1]
            for v in order:
                w, c = one_run(staged[v], args.loop, args.spawns, logdir, like, split_variant(v)[1])
                wall[v].append(w)
                cpu[v].append(c)
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
        shutil.rmtree(libdir, ignore_errors=True)
    base_w = statistics.median(wall[args.variants[0]])
    base_c = statistics.median(cpu[args.variants[0]])
    first = args.variants[0]
    print("%s, %d spawns x %d rounds; medians, us per spawn; 'per round': the median of the"
          " per-round wall-time ratios to %s [95 %% interval]" % (args.loop, args.spawns, args.rounds, first))
    for v in args.variants:
        w = statistics.median(wall[v])
        c = statistics.median(cpu[v])
        med, lo, hi = median_interval([a / b for a, b in zip(wall[v], wall[first])])
        interval = "[%.3f..%.3f]" % (lo, hi) if lo is not None else "[too few rounds]"
        print("  wall %7.1f (%5.3fx, best %7.1f)   per round %5.3fx %s   cpu %7.1f (%5.3fx)   %s"
              % (w, w / base_w, min(wall[v]), med, interval, c, c / base_c, v))


if __name__ == "__main__":
    main()
