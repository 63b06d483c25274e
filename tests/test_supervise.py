"""test_supervise.py — the supervised mode (guard-supervise, seccomp user
notification; docs/supervised.md): Go programs the shim cannot see, each
bug with its twin (20 of 20 and 0 of 20), the namespace timeline and the
process tree from the supervisor's logs, a supervisor that dies, a watched
call interrupted by a signal, no descriptor of the supervisor's in the
program, and run-with-guard.sh choosing the mode by itself.  The namespace
programs need root and unshare(2) and run in a private mount namespace;
elsewhere those tests skip and say so."""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

from harness import BUILD, ROOT, LogDir, analyze, findings, prog
from harness import test as harness_test
from test_log import read_log
from test_ns import skip_unless_namespaces

RUNS = 20
_AVAILABLE = None


def supervision_available():
    """seccomp user notification (Linux 5.5) allowed here: a container's
    own seccomp profile may refuse it."""
    global _AVAILABLE
    if _AVAILABLE is None:
        r = subprocess.run([os.path.join(BUILD, "guard-supervise"), "--log-dir", "/nonexistent",
                            "--", "true"], capture_output=True, text=True, timeout=60)
        _AVAILABLE = r.returncode == 0
        if not _AVAILABLE:
            print("     guard-supervise cannot run here: %s" % r.stderr.strip())
    return _AVAILABLE


def test(fn):
    """harness.test, skipping (and saying so) where supervision is not
    available."""
    def wrapper():
        if not supervision_available():
            print("     skipped %s: no seccomp user notification here" % fn.__name__)
            return
        fn()
    wrapper.__name__ = fn.__name__
    return harness_test(wrapper)


def supervisor():
    return os.path.join(BUILD, "guard-supervise")


def goprog(name):
    return os.path.join(BUILD, "testprogs", "go", name)


def _clean_env(**extra):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("GUARD_OPTIONS", None)
    env.update(extra)
    return env


def supervise(argv, log_dir, private_mnt=False, timeout=60, options=(), **kw):
    """Run argv under guard-supervise (with its own options, in a private
    mount namespace when asked), with a clean environment: no shim."""
    cmd = [supervisor(), *options, "--log-dir", log_dir, "--", *argv]
    if private_mnt:
        cmd = ["unshare", "-m", "--propagation", "private", *cmd]
    return subprocess.run(cmd, env=_clean_env(), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def supervised_report(argv, private_mnt=False, asan=False, extra=()):
    d = LogDir()
    r = supervise(argv, d.path, private_mnt)
    status, report, _ = analyze(d.path, asan=asan, extra=extra)
    logs = d.logs()
    d.cleanup()
    return r, status, report, logs


def repeat_kind(argv, kind, private_mnt=False):
    """How many of RUNS supervised runs report `kind`; the first and the
    last report go through the sanitizer build of the analyzer."""
    hits = 0
    for i in range(RUNS):
        r, status, report, logs = supervised_report(argv, private_mnt,
                                                    asan=i in (0, RUNS - 1))
        assert r.returncode == 0, "run %d: %s exited %d\n%s" % (i, argv[0], r.returncode, r.stderr)
        assert logs, "run %d: the supervisor wrote no log" % i
        hits += bool(findings(report, kind))
    return hits


# ---- namespace-off-thread in Go ----------------------------------------------------------


@test
@skip_unless_namespaces
def go_unshare_then_mount_without_lockosthread_is_flagged_in_every_run():
    hits = repeat_kind([goprog("ns_unshare_mount")], "namespace-off-thread", private_mnt=True)
    assert hits == RUNS, "flagged in %d of %d runs" % (hits, RUNS)
    _, _, report, _ = supervised_report([goprog("ns_unshare_mount")], True, asan=True)
    (f,) = findings(report, "namespace-off-thread")
    # the goroutine made the call, and its two stacks are Go's, unwound offline
    assert re.search(r"mount\(\) by goroutine \d+ on T\d+ runs in mnt:\[\d+\]", f["summary"]), f
    assert "runtime.LockOSThread" in f["summary"], f["summary"]
    assert f["flags"] in ([], ["hazard"]), f["flags"]  # an error when the race was lost
    unshare = [fr.get("function") for fr in f["stacks"]["unshare"]]
    mount = [fr.get("function") for fr in f["stacks"]["mount"]]
    assert "syscall.Unshare" in unshare and "main.work" in unshare, unshare
    assert "syscall.Mount" in mount and "main.work" in mount, mount


@test
@skip_unless_namespaces
def go_lockosthread_twin_is_never_flagged():
    hits = repeat_kind([goprog("ns_unshare_mount_locked")], "namespace-off-thread",
                       private_mnt=True)
    assert hits == 0, "the LockOSThread twin was flagged in %d of %d runs" % (hits, RUNS)


@test
@skip_unless_namespaces
def a_go_goroutine_that_lost_its_thread_mounts_in_the_namespace_it_left():
    """ns_unshare_migrate makes the race go the bad way in many runs (a
    blocking read while another goroutine holds the only P): the mount runs
    on another thread, in the namespace the goroutine left: an error, not a
    hazard, and the timeline marks the mount.  Flagged every run either way;
    its LockOSThread twin never."""
    # The race is the program's, and how often it goes the bad way depends
    # on the machine's load (more than half the runs when quiet, 3 of 20
    # under make check's): every run is judged either way, and runs go on
    # (up to three times RUNS) until the bad way, whose mark is the point,
    # has been seen at least twice.
    errors = runs = 0
    while runs < RUNS or (errors < 2 and runs < 3 * RUNS):
        _, _, report, _ = supervised_report([goprog("ns_unshare_migrate")], True,
                                            asan=runs == 0, extra=("--verbose",))
        runs += 1
        (f,) = findings(report, "namespace-off-thread")
        (p,) = [p for p in report["processes"] if p["exe"].endswith("ns_unshare_migrate")]
        (m,) = [e for e in p["namespaces"] if e["call"] == "mount"]
        if "hazard" in f["flags"]:
            assert "where unshare() on" in f["summary"] and not m["mark"], (f["summary"], m)
            continue
        errors += 1
        assert "which the goroutine left with unshare()" in f["summary"], f["summary"]
        assert m["mark"] and m["mark"]["kind"] == "off-thread", m
    assert errors >= 2, "the race went the bad way in only %d of %d runs" % (errors, runs)
    hits = repeat_kind([goprog("ns_unshare_migrate"), "locked"], "namespace-off-thread",
                       private_mnt=True)
    assert hits == 0, "the locked twin was flagged in %d of %d runs" % (hits, RUNS)


@test
@skip_unless_namespaces
def a_go_binary_without_symbols_or_dwarf_is_still_judged_by_goroutine():
    """-s -w: no DWARF for runtime.g's layout; Go 1.19's is known.  Its
    stacks are still named (Go's line table, frame pointers), and the bug
    keeps the fingerprint of the build with symbols; another Go program's
    namespace bug has another one (Go's runtime and syscall frames are
    skipped like libc's)."""
    for _ in range(3):
        _, _, report, _ = supervised_report([goprog("ns_unshare_mount_stripped")], True)
        (f,) = findings(report, "namespace-off-thread")
        assert "by goroutine" in f["summary"], f["summary"]
        mount = [(fr.get("function"), fr.get("line")) for fr in f["stacks"]["mount"]]
        assert ("syscall.Mount", None) != mount[0] and "main.work" in [m[0] for m in mount], mount
    _, _, full, _ = supervised_report([goprog("ns_unshare_mount")], True)
    (g,) = findings(full, "namespace-off-thread")
    assert g["fingerprint"] == f["fingerprint"], (g["fingerprint"], f["fingerprint"])
    _, _, other, _ = supervised_report([goprog("ns_unshare_migrate")], True)
    (h,) = findings(other, "namespace-off-thread")
    assert h["fingerprint"] != f["fingerprint"], "two Go programs' bugs share a fingerprint"


@test
@skip_unless_namespaces
def the_namespace_timeline_comes_from_the_supervisors_events():
    _, _, report, _ = supervised_report([goprog("ns_unshare_mount_locked")], True,
                                        asan=True, extra=("--verbose",))
    (p,) = report["processes"]
    unshares = [e for e in p["namespaces"] if e["call"] == "unshare"]
    mounts = [e for e in p["namespaces"] if e["call"] == "mount"]
    assert len(unshares) == 4 and len(mounts) == 4, p["namespaces"]
    for u in unshares:
        (c,) = [c for c in u["changes"] if c["kind"] == "mnt"]
        assert c["before"] != c["after"], u
        (m,) = [m for m in mounts if m["tid"] == u["tid"]]
        assert m["mnt"] == c["after"], (u, m)  # each mount in its thread's new namespace
        assert m["target"].endswith("/dst%s" % m["target"][-1]) and m["mark"] is None, m
        assert "syscall.Mount" in [fr.get("function") for fr in m["stack"]], m["stack"]


# ---- unreaped-child and the process tree in Go ----------------------------------------------


@test
def go_children_started_and_never_waited_for_are_flagged_in_every_run():
    hits = repeat_kind([goprog("child_nowait")], "unreaped-child")
    assert hits == RUNS, "flagged in %d of %d runs" % (hits, RUNS)


@test
def go_children_waited_for_are_never_flagged():
    hits = repeat_kind([goprog("child_wait")], "unreaped-child")
    assert hits == 0, "the Wait twin was flagged in %d of %d runs" % (hits, RUNS)


@test
def the_process_tree_of_a_go_program_has_its_children_and_their_execs():
    _, status, report, logs = supervised_report([goprog("child_nowait")], asan=True,
                                                extra=("--verbose",))
    assert status == 1 and len(logs) == 1, (status, logs)
    (f,) = findings(report, "unreaped-child")
    assert f["count"] == 3, f
    assert "exited and was never waited for" in f["summary"], f["summary"]
    spawn = [fr.get("function") for fr in f["stacks"]["spawn"]]
    assert "os/exec.(*Cmd).Start" in spawn and "main.main" in spawn, spawn
    top = [p for p in report["processes"] if p["exe"].endswith("child_nowait") and not p.get("spawn")]
    assert len(top) == 1, report["processes"]
    kids = [p for p in report["processes"] if p.get("spawn")]
    assert len(kids) == 3, report["processes"]
    for k in kids:
        assert k["ppid"] == top[0]["pid"] and k["exe"] == "/bin/true", k
        assert k["spawn"]["kind"] == "vfork", k["spawn"]
    _, status, report, _ = supervised_report([goprog("child_wait")], extra=("--verbose",))
    kids = [p for p in report["processes"] if p.get("spawn")]
    assert status == 0 and len(kids) == 3, report["processes"]
    assert all(k["reap"] for k in kids), kids


# ---- the supervisor's own guarantees -----------------------------------------------------------


def _kernel_at_least(major, minor):
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (major, minor)


def _zrun_stacks(data):
    """(offset, record size) of each GUARD_STACK_RAW_ZRUNS stack record."""
    out, off = [], 64
    while off + 8 <= len(data):
        sync, rtype, size = struct.unpack_from("<HHI", data, off)
        if sync != 0xA11C or size < 8:
            break
        if rtype == 4 and struct.unpack_from("<I", data, off + 20)[0] & 4:
            out.append((off, size))
        off += size
    return out


@test
def a_shells_children_have_their_status_and_their_exec_or_an_unconfirmed_one():
    """bash reaps with a blocking wait4(-1), which takes a child's zombie
    the moment it exists, before the supervisor can read it.  The wait
    status still comes (from the pidfd, Linux 6.15), and an exec the child
    made is told, marked unconfirmed when the child was gone before it was
    seen to work; an exec that failed (127) is never told as confirmed."""
    script = ("/bin/echo $(seq 100) >/dev/null; /bin/echo a b >/dev/null; (exit 3); "
              "/nonexistent/x 2>/dev/null; /bin/true x")
    for i in range(5):
        d = LogDir()
        r = supervise(["bash", "-c", script], d.path)
        assert r.returncode == 0, r.stderr
        status, report, _ = analyze(d.path, extra=("--verbose",))
        kids = [p for p in report["processes"] if p.get("spawn")]
        assert status == 0 and len(kids) == 5, (i, status, kids)
        if _kernel_at_least(6, 15):  # PIDFD_INFO_EXIT
            assert [k["exit_status"] for k in kids] == [0, 0, 0, 3, 127], (i, kids)
        for k, prog in zip(kids[:3], ("/usr/bin/seq", "/bin/echo", "/bin/echo")):
            assert [e["exe"] for e in k["exec_chain"]] == [prog], (i, k)
        assert kids[3]["exec_chain"] == [], (i, kids[3])
        assert all(not e["confirmed"] for e in kids[4]["exec_chain"]), (i, kids[4])
        d.cleanup()


ENDS_WITH_PARENT = r"""
import os, sys, time
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    if sys.argv[1] == "pipe":
        os.read(r, 1)  # ends when its parent does: the pipe's last writer goes
    os._exit(0)
os.close(r)
time.sleep(0.3)
"""


@test
def a_child_that_ends_because_its_parent_ends_is_not_an_unreaped_child():
    """A child blocked on a pipe whose writer is its parent ends when the
    parent exits, and is a zombie by the time the supervisor sees the
    parent's end: the shim, judging at exit(), sees it running, and so
    must the supervisor (not flagged, 0 of 20; the previous build flagged
    4 of 10).  Its twin, a child that exits at once while the parent goes
    on for 300 ms, is flagged 20 of 20."""
    for mode, want in (("pipe", 0), ("now", RUNS)):
        flagged = 0
        for _ in range(RUNS):
            d = LogDir()
            r = supervise([sys.executable, "-c", ENDS_WITH_PARENT, mode], d.path)
            assert r.returncode == 0, r.stderr
            status, report, _ = analyze(d.path)
            flagged += bool(findings(report, "unreaped-child"))
            d.cleanup()
        assert flagged == want, (mode, flagged, want)


@test
def a_low_descriptor_limit_stays_the_programs_and_hides_no_child():
    """The supervisor holds a pidfd per live process: under a soft limit of
    256 descriptors, a shell with 400 children at once is seen whole (the
    supervisor raises its own limit after the fork; a spawn's child is
    found among all of its parent's children, the newest listed last), and
    the program still has the limit it was given."""
    import resource

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    d = LogDir()
    r = supervise(["bash", "-c", "ulimit -n; for i in $(seq 400); do sleep 0.5 & done; wait"], d.path,
                  preexec_fn=low)
    assert r.returncode == 0 and r.stdout.split() == ["256"], (r.returncode, r.stdout, r.stderr)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    kids = [p for p in report["processes"] if p.get("spawn")]
    sleeps = [k for k in kids if k["exe"] == "/usr/bin/sleep"]
    assert status == 0 and len(kids) == 401 and len(sleeps) == 400, (status, len(kids), len(sleeps))
    assert all(k["reap"] for k in kids), [k for k in kids if not k["reap"]][:2]
    d.cleanup()


@test
@skip_unless_namespaces
def a_full_log_disk_is_said_once_and_the_program_runs_as_before():
    """The log directory on a full file system (a 64 KiB tmpfs, filled, in a
    private mount namespace): the program's output and status are the plain
    run's, and guard-supervise says once that records are lost."""
    script = ("mount -t tmpfs -o size=64k tmpfs /mnt && "
              "dd if=/dev/zero of=/mnt/fill bs=4k count=%d 2>/dev/null; "
              "exec \"$@\"")
    argv = [goprog("spawn_many"), "30"]
    for fill in (16, 12):  # nothing fits; the header and some records fit
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script % fill,
                            "sh", supervisor(), "--log-dir", "/mnt", "--", *argv],
                           env=_clean_env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout == "", (fill, r.returncode, r.stdout, r.stderr)
        lines = r.stderr.splitlines()
        said = [l for l in lines if "No space left on device; records from now on may be lost" in l]
        assert len(said) == 1 and len(lines) == 1, (fill, r.stderr)


@test
def a_stack_written_as_zero_runs_unwinds_and_a_damaged_one_is_only_named():
    """The supervisor writes its 16 KiB stack copies as runs of zeros and
    bytes (docs/log-format.md, STACK): a Go stack copy is mostly zeros.
    They unwind as before; a record whose runs tell more bytes than the
    copy holds, run past the record, or claim a gigabyte is named damaged,
    and the rest of the log is still read (the ASan build)."""
    d = LogDir()
    r = supervise([goprog("spawn_many"), "3"], d.path)
    assert r.returncode == 0, r.stderr
    (log,) = d.logs()
    data = open(log, "rb").read()
    stacks = _zrun_stacks(data)
    assert len(stacks) == 6, stacks  # each child's spawn and exec
    assert all(size < 4096 for _, size in stacks), stacks
    status, report, _ = analyze(d.path, extra=("--verbose",))
    kids = [p for p in report["processes"] if p.get("spawn")]
    assert status == 0 and len(kids) == 3, (status, report["processes"])
    for k in kids:
        names = [f["function"] for f in k["spawn"]["stack"]]
        assert "os/exec.(*Cmd).Start" in names and "main.main" in names, names
    off, size = stacks[0]
    runs = off + 24 + 17 * 8 + 24  # the record and struct guard_stack_raw headers
    zeros, lit = struct.unpack_from("<HH", data, runs)
    damage = {
        "more zeros than the copy": struct.pack("<HH", 0xFFFF, lit),
        "bytes past the record": struct.pack("<HH", zeros, 0xFFF0),
        "nothing told": struct.pack("<HH", 0, 0),
    }
    for what, patch in list(damage.items()) + [("a gigabyte", None)]:
        bad = bytearray(data)
        if patch is None:
            struct.pack_into("<I", bad, runs - 4, 1 << 30)
        else:
            bad[runs:runs + 4] = patch
        work = LogDir()
        with open(os.path.join(work.path, os.path.basename(log)), "wb") as fh:
            fh.write(bad)
        status, report, err = analyze(work.path, extra=("--verbose",))
        note = "raw STACK record at offset %d is damaged" % off
        assert note in err or note in json.dumps(report), (what, err[-2000:])
        kids = [p for p in report["processes"] if p.get("spawn")]
        assert len(kids) == 3 and all(k["exec_chain"] for k in kids), (what, report["processes"])
        work.cleanup()
    d.cleanup()


@test
def a_long_run_holds_records_only_for_its_live_processes():
    """A program that starts children for as long as it lives (a daemon, a
    test runner) must not grow its supervisor: a process's record is let
    go once the process has ended and been reaped.  1500 children one
    after the other are all in the process tree, reaped, and the
    supervisor never held more than a few records at once."""
    d = LogDir()
    r = supervise([goprog("spawn_many"), "1500"], d.path, timeout=120, options=["-v"])
    m = re.search(r"(\d+) processes supervised, at most (\d+) records held", r.stderr)
    assert r.returncode == 0 and m, (r.returncode, r.stderr)
    assert int(m.group(1)) == 1501 and int(m.group(2)) <= 32, m.group(0)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    d.cleanup()
    kids = [p for p in report["processes"] if p.get("spawn")]
    assert status == 0 and len(kids) == 1500, (status, len(kids))
    assert all(k["reap"] and k["exe"] == "/bin/true" for k in kids), [k for k in kids if not k["reap"]][:3]


@test
def a_dead_supervisor_neither_hangs_nor_silently_continues_its_program():
    d = LogDir()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    sup = subprocess.Popen([supervisor(), "--log-dir", d.path, "--", "sh", "-c",
                            "sleep 30 & sleep 30; echo CONTINUED"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                           start_new_session=True)
    deadline = time.time() + 10
    sleeps = []
    while len(sleeps) < 2 and time.time() < deadline:
        time.sleep(0.05)
        sleeps = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid_chain_has(int(p), sup.pid)
                  and _comm(int(p)) == "sleep"]
    assert len(sleeps) == 2, "the program did not start: %s" % sleeps
    sup.kill()
    out, err = sup.communicate(timeout=10)
    deadline = time.time() + 5
    while time.time() < deadline and any(_alive(p) for p in sleeps):
        time.sleep(0.05)
    assert not any(_alive(p) for p in sleeps), "the program outlived its supervisor"
    assert "CONTINUED" not in out, out
    assert "the supervisor (pid %d) died" % sup.pid in err, err
    d.cleanup()


@test
def a_dead_supervisor_leaves_no_go_program_waiting_on_a_watched_call():
    """Killed while the program makes watched calls one after the other
    (spawn_many: clone, execve, waitid, wait4 per child): whatever call was
    waiting for it, the program ends."""
    d = LogDir()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    sup = subprocess.Popen([supervisor(), "--log-dir", d.path, "--", goprog("spawn_many"), "100000"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                           start_new_session=True)
    time.sleep(0.5)
    progs = [int(p) for p in os.listdir("/proc") if p.isdigit() and _comm(int(p)) == "spawn_many"
             and _ppid_chain_has(int(p), sup.pid, depth=1)]  # not a child between vfork and exec
    assert len(progs) == 1, progs
    sup.kill()
    _, err = sup.communicate(timeout=10)
    deadline = time.time() + 5
    while time.time() < deadline and _alive(progs[0]):
        time.sleep(0.05)
    assert not _alive(progs[0]), "spawn_many outlived its supervisor"
    assert "died" in err, err
    d.cleanup()


def _comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return None


def _ppid_chain_has(pid, ancestor, depth=8):
    for _ in range(depth):
        try:
            stat = open("/proc/%d/stat" % pid).read()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def _alive(pid):
    """Running (a zombie waiting for its new parent is dead)."""
    try:
        stat = open("/proc/%d/stat" % pid).read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def events_of(path, kind):
    out = []
    for rtype, body, _ in read_log(path)["records"]:
        if rtype == "event" and struct.unpack_from("<H", body, 20)[0] == kind:
            out.append(body)
    return out


@test
def a_watched_call_interrupted_by_a_signal_is_recorded_once():
    d = LogDir()
    r = supervise([prog("supervise_sigstorm")], d.path)
    m = re.search(r"(\d+) kill calls, (\d+) signals handled during them", r.stdout)
    assert r.returncode == 0 and m, r.stdout + r.stderr
    calls, during = int(m.group(1)), int(m.group(2))
    # the signals landed while kill() waited for the supervisor
    assert during >= 100, "only %d signals during the calls: the test proves nothing" % during
    (log,) = [p for p in d.logs() if "supervise_sigstorm" in p]
    kills = [e for e in events_of(log, 13)  # GUARD_EV_KILL: args pid, signal
             if struct.unpack_from("<Q", e, 40)[0] == signal.SIGCONT]
    assert len(kills) == calls, "%d KILL events for %d kill(SIGCONT) calls" % (len(kills), calls)
    d.cleanup()


@test
def the_program_holds_no_descriptor_of_the_supervisor():
    d = LogDir()
    r = supervise(["sh", "-c", "ls /proc/$$/fd"], d.path)
    fds = sorted(int(x) for x in r.stdout.split())
    assert fds == [0, 1, 2], "the program's descriptors: %s" % fds
    d.cleanup()


@test
def the_supervisor_exits_with_its_programs_status():
    d = LogDir()
    assert supervise(["sh", "-c", "exit 7"], d.path).returncode == 7
    assert supervise(["sh", "-c", "kill -TERM $$"], d.path).returncode == 128 + signal.SIGTERM
    assert supervise(["/nonexistent/program"], d.path).returncode == 127
    # traced from its first watched call (the fork): its end, even by SIGKILL
    for script, status in (("/bin/true & wait; exit 5", 5), ("/bin/true & wait; kill -KILL $$", 137),
                           ("/bin/true & wait; kill -SEGV $$", 139)):
        r = supervise(["bash", "-c", script], d.path)
        assert r.returncode == status, (script, r.returncode, r.stderr)
    d.cleanup()


# ---- run-with-guard.sh chooses the mode ------------------------------------------------------


def run_with_guard(*args):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("GUARD_OPTIONS", None)
    return subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), *args], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


# the wrapper's line when it runs a command supervised (other lines, such as
# inspect's verdict on a program that gets no log, may name the mode too)
RUNNING_SUPERVISED = "supervised (guard-supervise: seccomp user notification)"


@test
def run_with_guard_supervises_go_and_static_programs_by_itself():
    d = LogDir()
    r = run_with_guard("--log-dir", d.path + "/go", "--format", "json", "--", goprog("child_nowait"))
    assert RUNNING_SUPERVISED in r.stderr and r.returncode == 1, r.stderr
    assert '"unreaped-child"' in r.stderr, r.stderr
    r = run_with_guard("--log-dir", d.path + "/c", "--", prog("child_zombie"))
    assert RUNNING_SUPERVISED not in r.stderr and r.returncode == 1, r.stderr
    # forced either way
    r = run_with_guard("--log-dir", d.path + "/no", "--no-supervise", "--", goprog("child_nowait"))
    assert RUNNING_SUPERVISED not in r.stderr and r.returncode == 0, r.stderr
    r = run_with_guard("--log-dir", d.path + "/yes", "--supervise", "--", prog("child_zombie"))
    assert RUNNING_SUPERVISED in r.stderr and r.returncode == 1, r.stderr
    assert not [f for f in os.listdir(d.path + "/yes") if f.endswith(".log")
                and not f.startswith("guard.child_zombie.")], os.listdir(d.path + "/yes")
    d.cleanup()


@test
def a_dynamic_go_program_with_cgo_gets_the_shim_and_the_supervisor():
    d = LogDir()
    r = run_with_guard("--log-dir", d.path, "--format", "json", "--", goprog("cgo_child_nowait"))
    assert "with the shim and supervised" in r.stderr and r.returncode == 1, r.stderr
    assert '"unreaped-child"' in r.stderr, r.stderr  # the Go runtime's clone: the supervisor's
    # the shim's log too, and the exit it did not see (Go's raw exit_group) is in it
    logs = [f for f in os.listdir(d.path) if f.startswith("guard.cgo_child_nowait.")]
    assert len(logs) == 2, logs
    assert "process killed?" not in r.stderr, r.stderr
    for f in logs:
        types = [rtype for rtype, _, _ in read_log(os.path.join(d.path, f))["records"]]
        assert types[-1] == "end", (f, types[-5:])
    d.cleanup()


@test
def a_static_programs_crash_is_recorded_with_every_threads_stack():
    _, status, report, logs = supervised_report([prog("supervise_crash_static")], asan=True)
    assert len(logs) == 1 and status == 1, (status, logs)
    (f,) = findings(report, "crash")
    assert "died of SIGSEGV" in f["summary"] and "fault address 0x0" in f["summary"], f["summary"]
    crashed = [fr.get("function") for fr in f["stacks"]["crash"]]
    assert crashed[:2] == ["crash_here", "worker"], crashed
    assert any("main" in [fr.get("function") for fr in t["stack"]] for t in f["threads"]), f["threads"]
    d = LogDir()
    r = supervise([prog("supervise_crash_static")], d.path)
    assert r.returncode == 128 + signal.SIGSEGV, r.returncode  # it still dies of its signal
    d.cleanup()
    # a static Go program is traced too: its goroutine capture then only interrupts
    # its threads (go_unshare_... above), and a clean one stays clean
    r, status, report, _ = supervised_report([goprog("child_wait")])
    assert r.returncode == 0 and status == 0, (r.stderr, report["findings"])


# NSS for the static getpwuid_r programs: a lookup that /etc/passwd cannot
# answer goes on to a module the static libc dlopens (compat ships with libc6)
NSS_CONF = "passwd: files compat\ngroup: files\nhosts: files\n"


def with_nss_module(argv, conf_dir):
    """argv in a private mount namespace whose /etc/nsswitch.conf names an
    NSS module after `files`, so that the result does not depend on the
    host's configuration."""
    conf = os.path.join(conf_dir, "nsswitch.conf")
    with open(conf, "w") as f:
        f.write(NSS_CONF)
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /etc/nsswitch.conf && exec "$@"', conf, *argv]


def static_getpwuid_run(name, asan=False):
    d, conf = LogDir(), LogDir()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("GUARD_OPTIONS", None)
    r = subprocess.run(with_nss_module([supervisor(), "--log-dir", d.path, "--", goprog(name)],
                                       conf.path),
                       env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    status, report, _ = analyze(d.path, asan=asan)
    d.cleanup()
    conf.cleanup()
    return r, status, report


@test
@skip_unless_namespaces
def a_static_cgo_go_programs_getpwuid_r_crash_is_recorded_in_every_run():
    """The story of the static binary: glibc's getpwuid_r in a cgo program
    linked static loads an NSS module, and a second libc with it, and
    crashes there; Go's runtime ends the process with status 2 and prints
    only its Go frames.  The supervisor records the crash with the C
    frames, 20 runs of 20."""
    for i in range(RUNS):
        r, status, report = static_getpwuid_run("cgo_static_getpwuid", asan=i == 0)
        assert r.returncode == 2 and "fatal error: unexpected signal" in r.stderr, \
            (i, r.returncode, r.stderr[-600:])
        assert status == 1, (i, status)
        (f,) = findings(report, "crash")
        assert "Go runtime ends the process for a signal in C code" in f["summary"] and \
            "SIGSEGV" in f["summary"], f["summary"]
        names = [fr.get("function") or "" for fr in f["stacks"]["crash"]]
        at = [k for k, n in enumerate(names) if n == "lookup_uid"]
        assert at and any("getpwuid_r" in n for n in names[:at[0]]), names
        # it ends where Go switched to the system stack: nothing read from the old one
        assert names[-1] == "runtime.asmcgocall", names
        assert f["threads"], "the other threads' stacks"
    # through the wrapper, with no flag: supervised because the binary is static
    d, conf = LogDir(), LogDir()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("GUARD_OPTIONS", None)
    r = subprocess.run(with_nss_module([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir", d.path,
                                        "--", goprog("cgo_static_getpwuid")], conf.path),
                       env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert RUNNING_SUPERVISED in r.stderr and "ERROR: libguard: crash" in r.stderr, r.stderr[-2000:]
    assert re.search(r"#\d+ 0x[0-9a-f]+ in lookup_uid ", r.stderr), r.stderr[-2000:]
    d.cleanup()
    conf.cleanup()


@test
@skip_unless_namespaces
def its_twin_that_recovers_from_a_nil_dereference_in_go_is_never_recorded():
    """The same static cgo shape looking up root (the static libc's own
    files lookup, no module) and recovering from a Go nil dereference in
    each goroutine: SIGSEGVs in Go code are Go panics, not crashes."""
    for i in range(RUNS):
        r, status, report = static_getpwuid_run("cgo_static_recover", asan=i == 0)
        assert r.returncode == 0 and "recovered 40" in r.stdout, (i, r.returncode, r.stderr[-600:])
        assert status == 0 and not report["findings"], (i, report["findings"])


@test
def a_static_go_program_without_c_is_never_stopped_for_its_crash():
    """The crash recorder traces a static Go program only when it links C
    (cgo): a pure-Go program has no code whose fault Go cannot explain, and
    traced it would stop at every signal it gets (SIGURG, SIGCHLD).
    spawn_many, running, has no tracer; the cgo twins above are traced
    (their crash is recorded)."""
    d = LogDir()
    sup = subprocess.Popen([supervisor(), "--log-dir", d.path, "--", goprog("spawn_many"), "100000"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_clean_env(),
                           start_new_session=True)
    try:
        deadline, tracer = time.time() + 10, None
        while time.time() < deadline and tracer is None:
            for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
                if _comm(pid) == "spawn_many" and _ppid_chain_has(pid, sup.pid, depth=1):
                    try:
                        status = open("/proc/%d/status" % pid).read()
                    except OSError:
                        continue
                    tracer = int(re.search(r"TracerPid:\s+(\d+)", status).group(1))
            time.sleep(0.05)
        assert tracer == 0, tracer
    finally:
        os.killpg(sup.pid, signal.SIGKILL)
        sup.wait()
        d.cleanup()


@test
def spawns_through_glibcs_clone3_have_their_callers_stack():
    """posix_spawn, popen and system call glibc's __clone3, which has no call
    frame information at its system call: the stack starts at its caller."""
    _, _, report, _ = supervised_report([prog("child_clean")], extra=("--verbose",))
    stacks = [[fr.get("function") for fr in p["spawn"]["stack"] or []]
              for p in report["processes"] if p.get("spawn") and p["spawn"]["kind"] == "vfork"]
    assert len(stacks) >= 3, report["processes"]
    for s in stacks:
        assert "__spawni" in s and ("main" in s or "popen" in s), s


@test
def real_static_go_tools_supervised_build_the_same_binary_and_report_nothing():
    """Real static Go programs, many threads each: `go build -a -toolexec
    guard-supervise` runs every compile, asm and link of a build
    supervised (pure Go: not traced for a crash).  The binary is byte for
    byte the one built without it, and there is no finding."""
    d, work = LogDir(), LogDir()
    src = os.path.join(ROOT, "testprogs", "go", "child_wait.go")
    outs = []
    for name, toolexec in (("plain", None), ("supervised", supervisor() + " --log-dir " + d.path + " --")):
        env = _clean_env(GO111MODULE="off", GOFLAGS="", GOPROXY="off", GOTOOLCHAIN="local",
                         CGO_ENABLED="0", GOCACHE=os.path.join(work.path, "cache-" + name),
                         GOPATH=os.path.join(work.path, "gopath"))
        out = os.path.join(work.path, name)
        argv = ["go", "build", "-a", "-o", out] + (["-toolexec", toolexec] if toolexec else []) + [src]
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (name, r.stderr[-2000:])
        outs.append(open(out, "rb").read())
    assert outs[0] == outs[1], "the supervised build made another binary"
    logs = d.logs()
    assert len(logs) >= 20, len(logs)  # one per tool run (compile per package, link)
    status, report, _ = analyze(d.path)
    assert status == 0 and not report["findings"], report["findings"][:3]
    d.cleanup()
    work.cleanup()


BUSYBOX_SCRIPT = r"""
sleep 5 &
p=$!
kill -STOP $p; sleep 0.1; grep State /proc/$p/status
kill -CONT $p; sleep 0.1; grep State /proc/$p/status | sed 's/sleeping/S/'
kill -TERM $p; wait $p; echo "wait: $?"
( trap 'echo got USR1' USR1; kill -USR1 $(exec sh -c 'echo $PPID'); sleep 0.1; echo sub done )
for i in 1 2 3; do echo $i | tr 1 x; done
sh -c 'kill -SEGV $$'; echo "after: $?"
exit 3
"""


@test
def a_static_busybox_shell_runs_the_same_supervised_and_reports_nothing():
    """A real static C program traced for its crash: busybox's shell stops,
    continues and kills its jobs, traps a signal, and has a child die of
    SIGSEGV.  Its output and status are those of the plain run (every
    signal the shell gets passes through the tracer), and there is no
    finding: the shell itself did not crash."""
    busybox = "/bin/busybox"
    assert os.path.exists(busybox), "busybox-static is a test dependency (make deps)"
    plain = subprocess.run([busybox, "sh", "-c", BUSYBOX_SCRIPT], capture_output=True, text=True,
                           timeout=60, env=_clean_env(), stdin=subprocess.DEVNULL)
    d = LogDir()
    r = supervise([busybox, "sh", "-c", BUSYBOX_SCRIPT], d.path)
    assert (r.returncode, r.stdout) == (plain.returncode, plain.stdout), (r.returncode, r.stdout,
                                                                         plain.stdout)
    assert plain.returncode == 3 and "after: 139" in plain.stdout, plain.stdout
    status, report, _ = analyze(d.path)
    assert status == 0 and not report["findings"], report["findings"][:3]
    d.cleanup()


@test
def a_signal_during_a_watched_fork_never_makes_it_fail():
    """A static program forks 300 times while a thread keeps signalling it,
    its handler installed without SA_RESTART: natively no fork fails.  A
    signal that comes before the supervisor has taken the fork interrupts
    the notification; the supervisor, which traces the program, has the
    call made again as the kernel's own fork would, so none fails under it
    either.  Under --no-crash it is traced all the same, from its first
    watched call; under --no-ptrace, which traces nothing, forks fail (3
    to 58 of 300 in a run here)."""
    native = subprocess.run([prog("supervise_fork_signals")], capture_output=True, text=True,
                            timeout=60, env=_clean_env())
    assert native.stdout.strip() == "forks 300 failed 0", native.stdout
    for i in range(5):
        d = LogDir()
        r = supervise([prog("supervise_fork_signals")], d.path)
        assert r.returncode == 0 and r.stdout.strip() == "forks 300 failed 0", (i, r.stdout, r.stderr)
        d.cleanup()
    # not traced for its crash: traced from its first watched call
    for i in range(3):
        d = LogDir()
        r = supervise([prog("supervise_fork_signals")], d.path, options=["--no-crash"])
        assert r.returncode == 0 and r.stdout.strip() == "forks 300 failed 0", (i, r.stdout, r.stderr)
        d.cleanup()
    # the window is real: traced by nothing, forks fail
    failed = []
    for i in range(3):
        d = LogDir()
        r = supervise([prog("supervise_fork_signals")], d.path, options=["--no-ptrace"])
        d.cleanup()
        failed.append(int(r.stdout.split()[-1]))
        if failed[-1]:
            break
    assert any(failed), "--no-ptrace: no fork failed in %d runs of 300" % len(failed)


BUSY_FORKS = r"""
i=0
while [ $i -lt 150 ]; do /bin/true & i=$((i+1)); done
wait
echo done
"""

STOPPED_CHILD = r"""
import os, signal, time
signal.signal(signal.SIGUSR1, lambda *a: None)  # a handler without SA_RESTART
pid = os.fork()
if pid == 0:
    os.kill(os.getpid(), signal.SIGSTOP)
    os._exit(3)
time.sleep(0.3)
state = open("/proc/%d/stat" % pid).read().split(") ")[1].split()[0]
w = os.waitpid(pid, os.WUNTRACED)
print("stopped child", state, os.WIFSTOPPED(w[1]))
os.kill(pid, signal.SIGCONT)
print("exit", os.WEXITSTATUS(os.waitpid(pid, 0)[1]))
"""


@test
def a_process_with_a_handler_without_sa_restart_never_fails_to_fork():
    """Processes the supervisor does not trace for a crash, traced from
    their first watched call: a shell run by a supervised program, and
    Python (whose handlers have no SA_RESTART).
    busybox's shell, started by bash, runs 150 background jobs; the
    SIGCHLD of one that ends can come while the shell's next fork waits
    for the supervisor, and its handler lacks SA_RESTART: without the
    tracing, "can't fork: Interrupted system call" in every run.  With it,
    three runs of three say "done".  Traced, a process still reads as
    natively when stopped ("T", not "t (tracing stop)"), its parent sees
    it stop and exit, and strace or gdb that it starts still trace their
    own child."""
    busybox = "/bin/busybox"
    assert os.path.exists(busybox), "busybox-static is a test dependency (make deps)"
    for i in range(3):
        d = LogDir()
        r = supervise(["/bin/bash", "-c", '%s sh -c "$1"; exit $?' % busybox, "sh", BUSY_FORKS],
                      d.path)
        assert r.returncode == 0 and r.stdout == "done\n", (i, r.returncode, r.stdout, r.stderr)
        status, report, _ = analyze(d.path)
        assert status == 0 and not report["findings"], report["findings"][:3]
        d.cleanup()
    plain = subprocess.run([sys.executable, "-c", STOPPED_CHILD], capture_output=True, text=True,
                           timeout=60, env=_clean_env())
    d = LogDir()
    r = supervise([sys.executable, "-c", STOPPED_CHILD], d.path)
    d.cleanup()
    assert plain.stdout == "stopped child T True\nexit 3\n", plain.stdout
    assert (r.returncode, r.stdout) == (0, plain.stdout), (r.returncode, r.stdout, r.stderr)
    # a debugger the traced program starts still traces its own child
    debug = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"
    for tool in (["strace", "-f", "-qq", "-o", "/dev/null", "/bin/true"],
                 ["gdb", "-q", "-batch", "-ex", "run", "--args", "/bin/true"]):
        if not shutil.which(tool[0]):
            print("     (no %s here: not tried)" % tool[0])
            continue
        d = LogDir()
        r = supervise([sys.executable, "-c", debug, *tool], d.path)
        d.cleanup()
        assert r.returncode == 0, (tool[0], r.returncode, r.stdout[-300:], r.stderr[-300:])
