"""test_ns.py — namespaces per thread: namespace-off-thread (both rules),
proc-self-ns-mismatch, transparency of the namespace calls, and
util-linux unshare/nsenter running clean under the shim.  These need root
and working unshare; elsewhere they skip with a message (and count as
passed, saying so)."""
import os
import subprocess

from harness import LogDir, analyze, assert_frame, findings, prog, run, source_line, test


def namespaces_available():
    r = subprocess.run(["unshare", "-m", "-n", "true"], capture_output=True)
    return os.geteuid() == 0 and r.returncode == 0


def skip_unless_namespaces(fn):
    def wrapper():
        if not namespaces_available():
            print("     skipped %s: needs root and unshare(2) (CLONE_NEWNS/NEWNET)" % fn.__name__)
            return
        fn()
    wrapper.__name__ = fn.__name__
    return wrapper


def run_in_private_mount_ns(name, log_dir, **kw):
    """Inside `unshare -m`: a mount that lands in the wrong namespace goes
    away with the program."""
    job = LogDir()
    r = run(["unshare", "-m", "--propagation", "private", prog(name)], log_dir=log_dir,
            env_extra={"NS_JOB_DIR": job.path}, **kw)
    job.cleanup()
    return r


def analyze_ns(name):
    d = LogDir()
    r = run_in_private_mount_ns(name, d.path)
    status, report, _ = analyze(d.path)
    d.cleanup()
    return r, status, report


@test
@skip_unless_namespaces
def mount_on_another_worker_is_off_thread():
    r, status, report = analyze_ns("ns_offthread_pool")
    assert r.returncode == 0, r.stderr
    fs = findings(report, "namespace-off-thread")
    mounts = [f for f in fs if "mount" in f["stacks"]]
    assert len(mounts) == 1, [f["summary"] for f in fs]
    f = mounts[0]
    src = "testprogs/ns_job.h"
    assert_frame(f["stacks"]["unshare"], "step_unshare", src, source_line(src, "if (unshare(CLONE_NEWNS) != 0)"))
    assert_frame(f["stacks"]["mount"], "step_mount", src, source_line(src, "MS_BIND"))
    assert f["tid"] != f["other_tid"] and "hazard" not in f.get("flags", [])
    assert "mnt:[" in f["summary"]


@test
@skip_unless_namespaces
def dedicated_thread_is_clean():
    r, status, report = analyze_ns("ns_offthread_fixed")
    assert r.returncode == 0 and "the container's" in r.stdout, r.stdout + r.stderr
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]


@test
@skip_unless_namespaces
def namespace_checks_fire_20_of_20_and_twins_never():
    for name, kind in [("ns_offthread_pool", "namespace-off-thread"),
                       ("ns_procself", "proc-self-ns-mismatch"),
                       ("ns_setns_threads", "namespace-off-thread")]:
        for i in range(20):
            r, status, report = analyze_ns(name)
            assert findings(report, kind), "%s: run %d not flagged" % (name, i + 1)
    for name in ["ns_offthread_fixed", "ns_procself_fixed", "ns_setns_threads_fixed"]:
        for i in range(20):
            r, status, report = analyze_ns(name)
            assert report["findings"] == [], "%s run %d: %s" % (name, i + 1, report["findings"])


@test
@skip_unless_namespaces
def reading_proc_self_ns_from_a_moved_thread():
    r, status, report = analyze_ns("ns_procself")
    (f,) = findings(report, "proc-self-ns-mismatch")
    assert f["call"] == "readlink"
    src = "testprogs/ns_procself_common.h"
    assert_frame(f["stacks"]["call"], "isolated", src, source_line(src, "which namespace am I in?"))
    assert "/proc/thread-self/ns/net" in f["summary"]
    r, status, report = analyze_ns("ns_procself_fixed")
    assert status == 0 and report["findings"] == []


@test
@skip_unless_namespaces
def setns_on_one_thread_socket_on_another():
    r, status, report = analyze_ns("ns_setns_threads")
    assert r.returncode == 0, "setns(CLONE_NEWNS) in a threaded process still fails with EINVAL: " + r.stdout
    (f,) = findings(report, "namespace-off-thread")
    assert f["call"] == "socket" and "net:[" in f["summary"]
    assert_frame(f["stacks"]["unshare"], "joiner", "testprogs/ns_setns_common.h",
                 source_line("testprogs/ns_setns_common.h", "setns(fd, CLONE_NEWNET)"))
    r, status, report = analyze_ns("ns_setns_threads_fixed")
    assert r.returncode == 0 and status == 0 and report["findings"] == []


@test
@skip_unless_namespaces
def util_linux_unshare_and_nsenter_run_clean():
    d = LogDir()
    mnt = os.path.join(d.path, "mnt")
    os.makedirs(mnt)
    logs = os.path.join(d.path, "logs")
    os.makedirs(logs)
    script = ("set -e\n"
              "unshare -m sh -c 'mount -t tmpfs none %s && echo hi > %s/f && ls %s'\n"
              "unshare -n sh -c 'readlink /proc/self/ns/net >/dev/null'\n"
              "sleep 5 & pid=$!\n"
              "nsenter -t $pid -m -- cat /proc/self/comm >/dev/null\n"
              "kill $pid; wait $pid || true\n") % (mnt, mnt, mnt)
    plain = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    guarded = run(["sh", "-c", script], log_dir=logs)
    assert guarded.returncode == plain.returncode == 0, guarded.stderr
    assert guarded.stdout == plain.stdout == "f\n", (guarded.stdout, plain.stdout)
    status, report, _ = analyze(logs, extra=("--verbose",))
    assert status == 0, [f["summary"] for f in report["findings"]]
    assert len(report["processes"]) >= 5
    d.cleanup()


# ---- the rule: per-thread namespace state (docs/checks.md) ---------------

def in_private_namespaces(fn, *args):
    """fn(*args) in a child of this test process that has a mount and a UTS
    namespace of its own (mounts private): whatever the programs it runs
    mount or name goes away with it, however they go wrong.  Returns fn's
    result (JSON-able)."""
    import ctypes
    import json
    import traceback
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.c_ulong, ctypes.c_void_p]
            CLONE_NEWNS, CLONE_NEWUTS, MS_REC, MS_PRIVATE = 0x20000, 0x04000000, 1 << 14, 1 << 18
            if libc.unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0 or \
                    libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
                raise OSError(ctypes.get_errno(), "unshare/mount of the test's namespaces")
            data = json.dumps(fn(*args)).encode()
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and data, "the test's namespaced child failed (wait status %d)" % status
    return json.loads(data)


def _repeat_runs_with_job_dir(name, job_dir):
    from test_pool import repeat_runs
    os.environ["NS_JOB_DIR"] = job_dir
    return repeat_runs(name)


def repeat_runs_isolated(name):
    """test_pool.repeat_runs (20 runs through run-with-guard.sh, one merged
    JSON report) inside a mount and UTS namespace of the test's own."""
    job = LogDir()
    try:
        status, report = in_private_namespaces(_repeat_runs_with_job_dir, name, job.path)
    finally:
        job.cleanup()
    return status, report


# Buggy programs and the call each is flagged at, on every run.
NS_BUGGY = [("ns_offthread_pool", "mount"),      # the seed: unshare on one worker, mount on another
            ("ns_setns_threads", "socket"),      # a thread joins a netns and exits; main's socket
            ("ns_offthread_spawn", "posix_spawnp"),  # a worker unshares; main spawns the program
            ("ns_offthread_exec", "exec"),       # a worker unshares; main execs the program
            ("ns_pool_spawn", "fork")]           # unshare+mount on a pool worker, the spawn on another
# Correct twins: never flagged.
NS_TWINS = ["ns_offthread_fixed", "ns_setns_threads_fixed", "ns_offthread_spawn_fixed",
            "ns_two_containers", "ns_netns_excursion"]


@test
@skip_unless_namespaces
def namespace_rule_fires_20_of_20_and_twins_never():
    for name, call in NS_BUGGY:
        status, report = repeat_runs_isolated(name)
        fs = [f for f in findings(report, "namespace-off-thread") if f["call"] == call]
        assert len(fs) == 1 and fs[0]["runs"] == 20, "%s: %s" % (
            name, [(f["kind"], f["call"], f.get("runs")) for f in report["findings"]])
        assert status == 1, "%s: run-with-guard exit %d, want 1" % (name, status)
    for name in NS_TWINS:
        status, report = repeat_runs_isolated(name)
        assert status == 0 and report["findings"] == [], "%s: %s" % (
            name, [(f["call"], f.get("runs"), f["summary"]) for f in report["findings"]])


@test
@skip_unless_namespaces
def one_thread_per_container_each_mounting_in_its_own_namespace_is_clean():
    r, status, report = analyze_ns("ns_two_containers")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "container 0 sees: nameserver 10.0.1.53" in r.stdout, r.stdout
    assert "container 1 sees: nameserver 10.0.2.53" in r.stdout, r.stdout
    assert "the host sees: nameserver 192.0.2.1" in r.stdout, r.stdout
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]


@test
@skip_unless_namespaces
def a_visit_to_a_containers_netns_and_back_leaves_no_alarm():
    r, status, report = analyze_ns("ns_netns_excursion")
    assert r.returncode == 0 and "0 sockets in the wrong namespace" in r.stdout, r.stdout + r.stderr
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]


@test
@skip_unless_namespaces
def the_thread_left_behind_spawns_or_execs_the_containers_program():
    src = "testprogs/ns_handoff.h"
    for name, call, marker in [("ns_offthread_spawn", "posix_spawnp", "BUG: starts in"),
                               ("ns_offthread_exec", "exec", "BUG: the new program")]:
        r, status, report = analyze_ns(name)
        # the program really ran in the host's mount namespace
        assert r.returncode == 0 and "the host's" in r.stdout, r.stdout + r.stderr
        (f,) = findings(report, "namespace-off-thread")
        assert f["call"] == call and f["tid"] != f["other_tid"], f
        assert_frame(f["stacks"]["unshare"], "setup_namespace", src,
                     source_line(src, "if (unshare(CLONE_NEWNS) != 0)"))
        assert_frame(f["stacks"]["call"], "main", "testprogs/%s.c" % name,
                     source_line("testprogs/%s.c" % name, marker))
        assert "mnt:[" in f["summary"] and f["summary"].endswith("on a thread left behind"), f["summary"]
    r, status, report = analyze_ns("ns_offthread_spawn_fixed")
    assert r.returncode == 0 and r.stdout.index("the container's") < r.stdout.index("the host's"), \
        r.stdout + r.stderr
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]


@test
@skip_unless_namespaces
def a_pool_worker_that_never_entered_the_namespace_is_left_behind():
    # The worker that unshared also mounted (the job's first step, done
    # right); the job's next step landed on the other worker of the pool.
    r, status, report = analyze_ns("ns_pool_spawn")
    assert r.returncode == 0 and "the host's" in r.stdout, r.stdout + r.stderr
    (f,) = findings(report, "namespace-off-thread")
    src = "testprogs/ns_job.h"
    assert f["call"] == "fork" and "a thread of the same pool" in f["summary"], f["summary"]
    assert f["summary"].endswith("never entered it"), f["summary"]
    assert_frame(f["stacks"]["unshare"], "step_unshare", src, source_line(src, "if (unshare(CLONE_NEWNS) != 0)"))
    assert_frame(f["stacks"]["call"], "step_exec", src, source_line(src, "pid_t pid = fork();"))
