#!/usr/bin/env python3
"""spawn_phases.py — where the time of a fork+exec+wait goes, phase by
phase, from kernel tracepoints (perf), with and without a preloaded
library.

spawn_bench says how much slower a spawn is under the shim; this says in
which phase: each child's fork (sched_process_fork), its execve system
call (sys_enter_execve, sched_process_exec), its exit (sched_process_exit)
and the parent's wait4 returning give five phases per spawn:

  fork->execve    the child, from its fork to its execve call: our atfork
                  handler and exec hook, or (without the shim) the lazy
                  binding of execve
  execve          the exec itself: tearing down the copied address space
  true            /bin/true runs
  exit->waited    the parent wakes up and wait4 returns
  waited->fork    the parent: our wait hook, the loop, our fork hook and
                  the fork system call up to the child's creation (copying
                  the mappings: every mapping of ours is in this phase)

It prints the median of each phase over the spawns (microseconds; perf's
timestamps have microsecond resolution), one line per variant, and the
difference to the first.  Needs perf and the tracepoints (root).

  bench/spawn_phases.py [-n SPAWNS] [-r RUNS] none build/libguard.so ...
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from spawn_compare import stage_variants, variant_env

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "..", "build", "bench", "spawn_bench")
EVENTS = ("sched:sched_process_fork,syscalls:sys_enter_execve,sched:sched_process_exec,"
          "sched:sched_process_exit,syscalls:sys_exit_wait4")
PHASES = ("fork->execve", "execve", "true", "exit->waited", "waited->fork")
LINE = re.compile(r"\s*(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)")


def trace(library, spawns, logdir, workdir, like):
    env = variant_env(library, logdir, like)
    data = os.path.join(workdir, "perf.data")
    subprocess.run(["perf", "record", "-q", "-e", EVENTS, "-o", data, "--", WORKER, "--worker",
                    "fork-exec", str(spawns), "20", "1"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run(["perf", "script", "-i", data, "-F", "pid,time,event,trace"],
                         capture_output=True, text=True, check=True).stdout
    for f in os.listdir(logdir):
        os.unlink(os.path.join(logdir, f))
    return out


def phases(script):
    events = []
    for line in script.splitlines():
        m = LINE.match(line)
        if m:
            events.append((int(m.group(1)), float(m.group(2)) * 1e6, m.group(3), m.group(4)))
    if not events:
        return None
    worker = events[0][0]
    kids, order = {}, []
    for pid, t, event, detail in events:
        if event == "sched:sched_process_fork" and pid == worker:
            child = int(re.search(r"child_pid=(\d+)", detail).group(1))
            kids[child] = {"fork": t}
            order.append(child)
        elif pid in kids:
            k = kids[pid]
            if event == "syscalls:sys_enter_execve":
                k.setdefault("execve", t)
            elif event == "sched:sched_process_exec":
                k["exec"] = t
            elif event == "sched:sched_process_exit":
                k["exit"] = t
        elif pid == worker and event == "syscalls:sys_exit_wait4":
            for child in reversed(order):  # the one the parent was waiting for
                if "exit" in kids[child] and "waited" not in kids[child]:
                    kids[child]["waited"] = t
                    break
    got = {p: [] for p in PHASES}
    for i, child in enumerate(order[20:-1], 20):  # not the warm-up
        k = kids[child]
        if not all(x in k for x in ("execve", "exec", "exit", "waited")):
            continue
        got["fork->execve"].append(k["execve"] - k["fork"])
        got["execve"].append(k["exec"] - k["execve"])
        got["true"].append(k["exit"] - k["exec"])
        got["exit->waited"].append(k["waited"] - k["exit"])
        got["waited->fork"].append(kids[order[i + 1]]["fork"] - k["waited"])
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=400, help="spawns per run (default 400)")
    ap.add_argument("-r", type=int, default=3, help="runs per variant, alternating (default 3)")
    ap.add_argument("variants", nargs="+", help="'none' or a preloadable library")
    args = ap.parse_args()
    if not shutil.which("perf"):
        sys.exit("spawn_phases: needs perf (apt-get install linux-perf)")
    if not os.path.exists(WORKER):
        sys.exit("spawn_phases: build the bench first (make build/bench/spawn_bench)")
    work = tempfile.mkdtemp(prefix="spawn_phases.")
    logdir = os.path.join(work, "logs")
    os.mkdir(logdir)
    all_runs = {v: {p: [] for p in PHASES} for v in args.variants}
    try:
        staged = stage_variants(args.variants, work)
        like = next((p for p in staged.values() if p), None)
        for _ in range(args.r):
            for v in args.variants:
                got = phases(trace(staged[v], args.n, logdir, work, like))
                if not got or not got["execve"]:
                    sys.exit("spawn_phases: no tracepoint events (run as root, with perf "
                             "allowed to trace: kernel.perf_event_paranoid)")
                for p in PHASES:
                    all_runs[v][p].extend(got[p])
    except subprocess.CalledProcessError as e:
        sys.exit("spawn_phases: %s failed (%s)" % (e.cmd[0], e.returncode))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("fork+execve(/bin/true)+waitpid, %d spawns x %d runs: median us per phase "
          "(difference to the first variant)" % (args.n, args.r))
    print("  %-14s" % "" + "".join("%16s" % p for p in PHASES) + "%10s" % "sum")
    first = None
    for v in args.variants:
        med = [statistics.median(all_runs[v][p]) for p in PHASES]
        first = first or med
        cells = "".join("%8.1f (%+5.1f)" % (m, m - f) for m, f in zip(med, first))
        print("  %-14s%s%10.1f" % (os.path.basename(v)[:14], cells, sum(med)))


if __name__ == "__main__":
    main()
