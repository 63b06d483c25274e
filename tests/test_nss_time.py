"""test_nss_time.py — NSS lookups across threads, ERANGE never retried,
time calls on small stacks (vdso-low-stack), and `inspect` on static
binaries."""
import os
import subprocess

from harness import (run_and_analyze, ASAN_ENV, LogDir, analyze, analyzer, assert_frame, findings, prog, run, shim,
                     source_line, test)
from test_pool import repeat_runs


@test
def nonreentrant_nss_from_several_threads():
    r, status, report = run_and_analyze("nss_threads")
    assert r.returncode == 0
    (f,) = findings(report, "nss-nonreentrant-threads")
    src = "testprogs/nss_threads_common.h"
    line = source_line(src, "BUG: shared static buffer")
    assert_frame(f["stacks"]["call"], "lookup", src, line)
    assert_frame(f["stacks"]["other_call"], "lookup", src, line)
    assert f["tid"] != f["other_tid"], "two different threads"
    r, status, report = run_and_analyze("nss_threads_fixed")
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def erange_taken_for_not_found():
    r, status, report = run_and_analyze("nss_erange")
    assert "does not exist" in r.stdout  # the bug, visible
    (f,) = findings(report, "nss-erange-not-retried")
    assert f["call"] == "getpwnam_r"
    src = "testprogs/nss_erange.c"
    assert_frame(f["stacks"]["call"], "user_exists", src, source_line(src, "getpwnam_r(name"))
    r, status, report = run_and_analyze("nss_erange_fixed")
    assert "root exists" in r.stdout
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def time_call_on_small_sigaltstack():
    r, status, report = run_and_analyze("clock_sigaltstack")
    assert r.returncode == 0 and "handled at" in r.stdout
    (f,) = findings(report, "vdso-low-stack")
    assert f["call"] == "clock_gettime" and "sigaltstack" in f["summary"], f["summary"]
    src = "testprogs/clock_altstack_common.h"
    assert_frame(f["stacks"]["call"], "on_alarm", src, source_line(src, "runs on the alternate stack"))
    r, status, report = run_and_analyze("clock_sigaltstack_fixed")
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def time_call_on_small_coroutine_stack():
    r, status, report = run_and_analyze("clock_coroutine")
    assert r.returncode == 0 and "coroutine ran" in r.stdout
    (f,) = findings(report, "vdso-low-stack")
    assert "coroutine" in f["summary"], f["summary"]
    src = "testprogs/clock_coroutine_common.h"
    assert_frame(f["stacks"]["call"], "coroutine", src, source_line(src, "on the coroutine's small stack"))
    r, status, report = run_and_analyze("clock_coroutine_fixed")
    assert status == 0 and report["findings"] == [], report["findings"]


def _headroom(finding):
    import re
    m = re.search(r"called with (\d+) bytes of stack left on a (.*?) of (\d+) bytes", finding["summary"])
    assert m, finding["summary"]
    return int(m.group(1)), m.group(2), int(m.group(3))


def _unlimited_stack_allowed():
    import resource
    return resource.getrlimit(resource.RLIMIT_STACK)[1] == resource.RLIM_INFINITY


@test
def time_call_on_a_thread_stack_given_from_the_heap():
    # glibc's exact bounds of the thread's stack (pthread_attr_setstack),
    # not the heap mapping around it: 2.5 KiB left is flagged, 64 KiB is not.
    r, status, report = run_and_analyze("clock_thread_setstack")
    assert r.returncode == 0 and "read the clock" in r.stdout, r.stdout + r.stderr
    (f,) = findings(report, "vdso-low-stack")
    left, kind, size = _headroom(f)
    assert kind == "thread stack" and size == 96 * 1024 and 2048 <= left <= 2560 + 512, f["summary"]
    src = "testprogs/clock_thread_setstack_common.h"
    assert_frame(f["stacks"]["call"], "descend", src, source_line(src, "LEFT bytes of the thread's stack left"))
    r, status, report = run_and_analyze("clock_thread_setstack_fixed")
    assert r.returncode == 0 and status == 0 and report["findings"] == [], report["findings"]


@test
def main_thread_stack_has_the_headroom_its_limit_allows():
    # The main thread's stack grows up to RLIMIT_STACK: 2.5 KiB short of a
    # 256 KiB limit is flagged; 1 MiB deep under an unlimited one is not
    # (the mapping as it was then had a few hundred bytes below the call).
    r, status, report = run_and_analyze("clock_main_stack")
    assert r.returncode == 0 and "read the clock" in r.stdout, r.stdout + r.stderr
    (f,) = findings(report, "vdso-low-stack")
    left, kind, size = _headroom(f)
    assert kind == "main thread stack" and size == 256 * 1024 and 2048 <= left <= 2560 + 512, f["summary"]
    src = "testprogs/clock_main_stack_common.h"
    assert_frame(f["stacks"]["call"], "descend", src, source_line(src, "deep in the main thread's stack"))
    if not _unlimited_stack_allowed():
        print("    (the hard RLIMIT_STACK is not unlimited here: the unlimited twin is not run)")
        return
    r, status, report = run_and_analyze("clock_main_stack_fixed")
    assert r.returncode == 0 and status == 0 and report["findings"] == [], (r.returncode, report["findings"])


@test
def a_threads_stack_bounds_are_never_asked_for_in_a_signal_handler():
    # pthread_getattr_np allocates and locks: the shim asks for a thread's
    # bounds at its first time call outside a signal handler.  A spy
    # preloaded first counts where it was called.
    spy = os.path.join(os.path.dirname(prog("clock_thread_handler")), "libclock_getattr_spy.so")
    d = LogDir()
    r = run([prog("clock_thread_handler")], log_dir=d.path, preload=spy + ":" + shim())
    assert r.returncode == 0 and "handled 1" in r.stdout, r.stdout + r.stderr
    assert "pthread_getattr_np: 0 in a signal handler, 1 outside" in r.stdout, r.stdout
    status, report, _ = analyze(d.path)
    d.cleanup()
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def stack_bounds_checks_fire_20_of_20_and_twins_never():
    for name in ["clock_thread_setstack", "clock_main_stack"]:
        status, report = repeat_runs(name)
        fs = findings(report, "vdso-low-stack")
        assert len(fs) == 1 and fs[0]["runs"] == 20, "%s: %s" % (name, [(f["kind"], f.get("runs")) for f in report["findings"]])
    twins = ["clock_thread_setstack_fixed"] + (["clock_main_stack_fixed"] if _unlimited_stack_allowed() else [])
    for name in twins:
        status, report = repeat_runs(name)
        assert status == 0 and report["findings"] == [], "%s: %s" % (name, report["findings"])


@test
def nss_and_time_checks_fire_20_of_20_and_twins_never():
    for name, kind in [("nss_threads", "nss-nonreentrant-threads"),
                       ("nss_erange", "nss-erange-not-retried"),
                       ("clock_sigaltstack", "vdso-low-stack"), ("clock_coroutine", "vdso-low-stack")]:
        status, report = repeat_runs(name)
        fs = findings(report, kind)
        assert len(fs) == 1 and fs[0]["runs"] == 20, "%s: %s" % (name, [(f["kind"], f.get("runs")) for f in report["findings"]])
    for name in ["nss_threads_fixed", "nss_erange_fixed", "clock_sigaltstack_fixed", "clock_coroutine_fixed"]:
        status, report = repeat_runs(name)
        assert status == 0 and report["findings"] == [], "%s: %s" % (name, report["findings"])


@test
def time_hooks_return_what_the_real_calls_return():
    src = r'''
#include <errno.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
int main(void) {
    struct timespec a, b; struct timeval tv;
    if (clock_gettime(CLOCK_MONOTONIC, &a) != 0) return 1;
    errno = 0;
    if (clock_gettime((clockid_t)12345, &b) != -1 || errno != EINVAL) return 2;
    errno = 0;
    if (clock_getres((clockid_t)12345, &b) != -1 || errno != EINVAL) return 3;
    if (clock_getres(CLOCK_MONOTONIC, &b) != 0) return 4;
    if (gettimeofday(&tv, NULL) != 0) return 5;
    time_t t1 = time(NULL), t2;
    if (time(&t2) < t1 || t2 - tv.tv_sec > 2) return 6;
    struct timespec c; clock_gettime(CLOCK_MONOTONIC, &c);
    if (c.tv_sec < a.tv_sec) return 7;
    puts("ok");
    return 0;
}
'''
    d = LogDir()
    c = os.path.join(d.path, "t.c")
    exe = os.path.join(d.path, "t")
    open(c, "w").write(src)
    subprocess.run(["cc", "-o", exe, c], check=True)
    r = run([exe], log_dir=d.path)
    assert r.returncode == 0 and r.stdout == "ok\n", (r.returncode, r.stderr)
    d.cleanup()


def inspect(paths, fmt="json", extra=()):
    r = subprocess.run([analyzer(), "inspect", "--format=" + fmt, *extra, *paths], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, **ASAN_ENV))
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    import json
    return r.returncode, (json.loads(r.stdout) if fmt == "json" else r.stdout), r.stderr


@test
def inspect_flags_static_nss_binary_and_not_the_others():
    status, report, _ = inspect([prog("nss_static")])
    assert status == 1
    (f,) = findings(report, "nss-static-binary")
    assert "getpwuid_r" in " ".join(f.get("symbols", [])) or "getpwuid_r" in f["summary"], f
    status, report, _ = inspect([prog("plain_static"), "/bin/ls", prog("nss_threads")])
    assert status == 0 and report["findings"] == [], report["findings"]
    d = LogDir()
    stripped = os.path.join(d.path, "nss_static_stripped")
    subprocess.run(["strip", "-o", stripped, prog("nss_static")], check=True)
    status, report, _ = inspect([stripped])
    assert status == 1 and findings(report, "nss-static-binary"), "stripped binaries too"
    d.cleanup()


@test
def inspect_says_when_ld_preload_cannot_work():
    status, text, _ = inspect([prog("plain_static"), "/bin/ls"], fmt="text")
    assert "static" in text and "LD_PRELOAD" in text, text


@test
def inspect_host_measures_the_vdso():
    status, report, err = inspect([], extra=("--host",))
    assert status == 0, err
    assert "host" in report and report["host"], report


# ---- every door into NSS ---------------------------------------------------

def _documented_doors():
    """The NSS entry points docs/checks.md lists ("Every door into NSS"):
    (every one, those with a static result)."""
    import re
    text = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "docs", "checks.md")).read()
    section = text[text.index("### Every door into NSS"):]
    section = section[:section.index("\n## ")]
    every, static = set(), set()
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) != 5 or cells[1].strip() in ("database", "---"):
            continue
        names = lambda cell: set(re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)(?:\([^`]*\))?`", cell))
        static |= names(cells[2])
        every |= names(cells[2]) | names(cells[3])
    return every, static


def _hooked_doors():
    """The hooks of hook_list.h's NSS section."""
    import re
    text = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "preload", "hook_list.h")).read()
    section = text[text.index("/* every public door into NSS"):]
    section = section[section.index("\n"):]
    section = section[:section.index("\n/*")]
    return set(re.findall(r"^GUARD_HOOK\(([A-Za-z_0-9]+),", section, re.M))


@test
def every_door_into_nss_is_hooked_transparent_and_seen_by_both_checks():
    every, static = _documented_doors()
    assert "initgroups" in every and "gethostbyname" in static and "getaddrinfo" not in static
    hooked = _hooked_doors()
    assert every == hooked, "documented, not hooked: %s; hooked, not documented: %s" % (
        sorted(every - hooked), sorted(hooked - every))
    # Each door returns what it returns natively, with the same errno and h_errno.
    native = run([prog("nss_doors"), "print"], preload=False)
    d = LogDir()
    shimmed = run([prog("nss_doors"), "print"], log_dir=d.path)
    d.cleanup()
    assert native.returncode == 0 and shimmed.returncode == 0, shimmed.stderr
    called = {line.split()[0] for line in native.stdout.splitlines()}
    assert called == every, "nss_doors misses %s" % sorted(every - called)
    assert shimmed.stdout == native.stdout, "\n".join(
        "native %r / shim %r" % (a, b) for a, b in zip(native.stdout.splitlines(),
                                                       shimmed.stdout.splitlines()) if a != b)
    # A child of a multithreaded parent calling each one before exec: one
    # fork-unsafe-call per door.
    r, status, report = run_and_analyze("nss_doors", args=["fork"])
    assert r.returncode == 0 and "child status 0" in r.stdout, r.stdout + r.stderr
    flagged = {f["call"] for f in findings(report, "fork-unsafe-call")}
    assert flagged == every, "not flagged: %s; flagged, not a door: %s" % (
        sorted(every - flagged), sorted(flagged - every))
    assert all(f["kind"] == "fork-unsafe-call" for f in report["findings"])
    # Two threads calling each function with a static result: one
    # nss-nonreentrant-threads per function, none for the others.
    r, status, report = run_and_analyze("nss_doors", args=["threads"])
    assert r.returncode == 0, r.stderr
    fs = findings(report, "nss-nonreentrant-threads")
    assert {f["call"] for f in fs} == static, sorted({f["call"] for f in fs} ^ static)
    assert all(f["kind"] == "nss-nonreentrant-threads" for f in report["findings"])


@test
def initgroups_in_a_fork_child_and_gethostbyname_across_threads():
    r, status, report = run_and_analyze("nss_fork_initgroups")
    assert "children exited with 0" in r.stdout, r.stdout + r.stderr
    (f,) = findings(report, "fork-unsafe-call")
    assert f["call"] == "initgroups" and "2 threads" in f["summary"], f["summary"]
    src = "testprogs/nss_fork_initgroups_common.h"
    assert_frame(f["stacks"]["call"], "spawn_with_initgroups", src, source_line(src, "BUG in a threaded"))
    r, status, report = run_and_analyze("nss_hosts_threads")
    assert "resolved localhost" in r.stdout, r.stdout + r.stderr
    (f,) = findings(report, "nss-nonreentrant-threads")
    assert f["call"] == "gethostbyname" and f["tid"] != f["other_tid"], f
    src = "testprogs/nss_hosts_threads_common.h"
    line = source_line(src, "BUG: shared static buffer")
    assert_frame(f["stacks"]["call"], "resolve", src, line)
    assert_frame(f["stacks"]["other_call"], "resolve", src, line)
    for twin in ("nss_fork_initgroups_fixed", "nss_hosts_threads_fixed"):
        r, status, report = run_and_analyze(twin)
        assert r.returncode == 0 and status == 0 and report["findings"] == [], (twin, report["findings"])


@test
def nss_doors_fire_20_of_20_and_twins_never():
    for name, kind in [("nss_fork_initgroups", "fork-unsafe-call"),
                       ("nss_hosts_threads", "nss-nonreentrant-threads")]:
        status, report = repeat_runs(name)
        fs = findings(report, kind)
        assert len(fs) == 1 and fs[0]["runs"] == 20, "%s: %s" % (name, [(f["kind"], f.get("runs")) for f in report["findings"]])
    for name in ["nss_fork_initgroups_fixed", "nss_hosts_threads_fixed"]:
        status, report = repeat_runs(name)
        assert status == 0 and report["findings"] == [], "%s: %s" % (name, report["findings"])
