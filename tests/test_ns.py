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
    status, report, _ = analyze(logs)
    assert status == 0, [f["summary"] for f in report["findings"]]
    assert len(report["processes"]) >= 5
    d.cleanup()
