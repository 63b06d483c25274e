"""test_reliability.py — the host is never harmed: a hooked call given what
the kernel rejects returns exactly what it returns natively, and the
program does not crash.  Each program runs natively and under the shim and
the two outputs are compared byte for byte.  Probes that name mount points
or host names run in a private mount and UTS namespace when they can."""
import os
import shutil
import subprocess

from harness import ROOT, LogDir, analyze, assert_frame, findings, prog, run, shim, source_line, test


def _private_ns_prefix():
    """`unshare -m -u` when root and unshare work, else nothing: the
    probes then run with pointers the kernel rejects before any change."""
    r = subprocess.run(["unshare", "-m", "-u", "true"], capture_output=True)
    return ["unshare", "-m", "-u"] if os.geteuid() == 0 and r.returncode == 0 else []


@test
def calls_given_pointers_the_kernel_rejects_return_what_they_return_natively():
    # open/readlink with a bad path, mount/umount/chroot/pivot_root with a
    # bad target, readv/writev/preadv/pwritev with a bad iovec array,
    # sendmsg/recvmsg with a bad msghdr or iovec, the exec family with a
    # bad path, argv, argv element, envp or envp element, and a posix_spawn
    # that fails (its pid untouched): -1 and the same errno, no crash.
    argv = _private_ns_prefix() + [prog("bad_pointers")]
    native = run(argv, preload=False)
    d = LogDir()
    shimmed = run(argv, log_dir=d.path)
    d.cleanup()
    assert native.returncode == 0, native.stderr
    assert "EFAULT" in native.stdout and "pid=untouched" in native.stdout, native.stdout
    assert shimmed.returncode == 0, "under the shim: status %d\n%s" % (shimmed.returncode,
                                                                       shimmed.stderr[-3000:])
    assert shimmed.stdout == native.stdout, "native:\n%s\nshim:\n%s" % (native.stdout,
                                                                       shimmed.stdout)


@test
def the_log_is_readable_by_its_owner_whatever_the_umask():
    # Under umask 0777 a file is created with mode 0000: its owner could
    # not read the log.  The shim's log is 0600 always.
    d = LogDir()
    r = run(["sh", "-c", "umask 0777; exec %s" % prog("pool_double_put")], log_dir=d.path)
    assert r.returncode == 0, r.stderr
    logs = d.logs()
    assert len(logs) == 1, logs
    assert os.stat(logs[0]).st_mode & 0o777 == 0o600, oct(os.stat(logs[0]).st_mode)
    status, report, _ = analyze(d.path)
    assert status == 1 and findings(report, "double-put"), report
    d.cleanup()


@test
def names_planted_in_the_log_directory_do_not_stop_the_log():
    # Anyone who can write to log_dir could take every name the shim would
    # try for a pid; the names after the first are not guessable.
    d = LogDir()
    name = "pool_double_put"
    p = subprocess.Popen(["sh", "-c", "echo $$; read go; exec %s" % prog(name)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, LD_PRELOAD=shim(),
                                  GUARD_OPTIONS="log_dir=%s:verbosity=0" % d.path))
    pid = int(p.stdout.readline())
    planted = ["guard.%s.%d.log" % (name, pid)] + \
              ["guard.%s.%d.%d.log" % (name, pid, n) for n in range(1, 101)]
    for f in planted:
        open(os.path.join(d.path, f), "w").close()
    p.communicate("go\n", timeout=60)
    assert p.returncode == 0
    ours = [f for f in d.logs() if os.path.basename(f) not in planted]
    assert len(ours) == 1, ours
    status, report, _ = analyze(ours[0])
    assert status == 1 and findings(report, "double-put"), report
    d.cleanup()


def _crash_report(argv):
    d = LogDir()
    r = run(argv, log_dir=d.path)
    status, report, _ = analyze(d.path)
    d.cleanup()
    return r, status, report


@test
def a_crash_on_a_small_alternate_signal_stack_is_recorded():
    # The fatal signal's handler runs on the program's alternate signal
    # stack; Rust gives every thread one of 8 KiB, too small for an unwind
    # and a report: the recorder runs on a stack of its own.  The program
    # still dies of its own signal.
    src = "testprogs/crash_small_altstack.c"
    for args in ([], ["thread"]):
        r, status, report = _crash_report([prog("crash_small_altstack"), *args])
        assert r.returncode == -11, (args, r.returncode, r.stderr[-2000:])
        (f,) = findings(report, "crash")
        assert_frame(f["stacks"]["crash"], "write_through_null", src,
                     source_line(src, "BUG: null write"))


@test
def a_rust_programs_null_write_is_recorded():
    rustc = shutil.which("rustc")
    if not rustc:
        print("     skipped: no rustc on this machine")
        return
    work = LogDir()
    src = os.path.join(work.path, "nullw.rs")
    with open(src, "w") as fh:
        fh.write("fn main() { unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u32>(), 1); } }\n")
    exe = os.path.join(work.path, "nullw")
    c = subprocess.run([rustc, "-O", "-o", exe, src], capture_output=True, text=True, timeout=300)
    assert c.returncode == 0, c.stderr
    r, status, report = _crash_report([exe])
    work.cleanup()
    assert r.returncode == -11, (r.returncode, r.stderr[-2000:])
    assert len(findings(report, "crash")) == 1, report["findings"]


@test
def a_wait_whose_status_pointer_is_bad_still_counts_as_a_reap():
    # waitpid(pid, BAD, 0), wait4 with a bad rusage pointer, waitid with a
    # bad siginfo: the kernel reaps and returns EFAULT.  Same results under
    # the shim, and no unreaped-child for those children.
    native = run([prog("wait_bad_status")], preload=False)
    d = LogDir()
    shimmed = run([prog("wait_bad_status")], log_dir=d.path)
    status, report, _ = analyze(d.path)
    d.cleanup()
    assert native.returncode == 0 and "EFAULT" in native.stdout, native.stdout
    assert shimmed.stdout == native.stdout, (native.stdout, shimmed.stdout)
    assert not findings(report, "unreaped-child"), report["findings"]
    assert status == 0, report["findings"]


@test
def under_the_wrapper_the_commands_stderr_is_its_own():
    # Programs (and test suites) read their children's stderr: under
    # run-with-guard.sh the shim prints nothing there, the wrapper reports
    # at the end (here into --output).
    d = LogDir()
    out = os.path.join(d.path, "report.txt")
    r = subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir", d.path + "/logs",
                        "--output", out, "--", prog("pool_double_put")],
                       capture_output=True, text=True, timeout=120,
                       env={k: v for k, v in os.environ.items() if k != "GUARD_OPTIONS"})
    native = run([prog("pool_double_put")], preload=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    own = "\n".join(l for l in r.stderr.splitlines() if not l.startswith("run-with-guard:"))
    assert own.strip() == native.stderr.strip(), (own, native.stderr)
    assert "double-put" in open(out).read()
    d.cleanup()


@test
def report_path_sends_the_immediate_report_to_a_file():
    d = LogDir()
    path = os.path.join(d.path, "reports.txt")
    r = run([prog("pool_double_put")], log_dir=d.path, options="report_path=" + path)
    native = run([prog("pool_double_put")], preload=False)
    assert r.stderr == native.stderr, r.stderr
    text = open(path).read()
    assert "ERROR: libguard: double-put" in text, text
    assert os.stat(path).st_mode & 0o777 == 0o600
    d.cleanup()


@test
def a_child_that_drops_its_privileges_keeps_its_log_under_the_wrapper():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("     skipped: needs root and setpriv")
        return
    d = LogDir()
    os.chmod(d.path, 0o755)  # the test's own directory (mkdtemp: 0700) lets others in
    logs = os.path.join(d.path, "logs")
    r = subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir", logs, "--format", "json",
                        "--output", os.path.join(d.path, "r.json"), "--",
                        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        prog("pool_double_put")],
                       capture_output=True, text=True, timeout=120)
    import json
    report = json.load(open(os.path.join(d.path, "r.json")))
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert findings(report, "double-put"), report["findings"]
    d.cleanup()


def _in_small_tmpfs(shell_cmd, size="2m"):
    """Runs shell_cmd (with $D a fresh tmpfs of `size`) in a private mount
    namespace; None when root and unshare are not available."""
    if not _private_ns_prefix():
        return None
    return subprocess.run(["unshare", "-m", "sh", "-c",
                           "D=$(mktemp -d) && mount -t tmpfs -o size=%s none $D && %s"
                           % (size, shell_cmd)],
                          capture_output=True, text=True, timeout=120)


@test
def a_full_file_system_without_fallocate_never_kills_the_program():
    # Where fallocate is not supported the log's space used to be made with
    # ftruncate: a sparse file, and the first store into a page the full
    # disk could not back was SIGBUS in the program.  Four threads log as
    # fast as they can into a 2 MiB tmpfs whose fallocate fails.
    nofalloc = os.path.join(os.path.dirname(shim()), "testprogs", "libnofallocate.so")
    r = _in_small_tmpfs("LD_PRELOAD=%s:%s GUARD_OPTIONS=log_dir=$D:pool_protect=0:verbosity=0 %s 300"
                        % (nofalloc, shim(), prog("log_flood")))
    if r is None:
        print("     skipped: needs root and unshare(2)")
        return
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])


@test
def the_shims_memory_does_not_grow_with_its_log():
    # The log is a shared file mapping: every page written stayed resident
    # (a pool-heavy run: hundreds of MB).  Pages behind the tail are given
    # back.  log_flood writes ~100 MB of log in a second.
    d = LogDir()
    r = run([prog("log_flood"), "1000", "rss"], log_dir=d.path, options="pool_protect=0")
    size = sum(os.path.getsize(f) for f in d.logs())
    d.cleanup()
    assert r.returncode == 0, r.stderr
    rss_kb = int(r.stdout.split()[1])
    assert size > 24 << 20, "the run wrote only %d bytes of log" % size
    assert rss_kb < 16 << 10, "resident %d KiB after %d MB of log" % (rss_kb, size >> 20)


def _thread_memory(argv):
    """bench/thread_memory natively and under the shim: the rounds of
    each, [(rss_kb, heap_kb), ...]."""
    work = LogDir()
    exe = os.path.join(work.path, "thread_memory")
    c = subprocess.run(["cc", "-std=gnu11", "-O2", "-I" + os.path.join(ROOT, "include"), "-pthread",
                        "-o", exe, os.path.join(ROOT, "bench", "thread_memory.c")],
                       capture_output=True, text=True)
    assert c.returncode == 0, c.stderr
    results = []
    for preload in (False, True):
        r = run([exe, *argv], preload=preload, log_dir=work.path, options="pool_protect=0")
        assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
        rounds = [line.split() for line in r.stdout.splitlines() if line.startswith("round ")]
        assert rounds, r.stdout
        results.append([(int(f[f.index("rss_kb") + 1]), int(f[f.index("heap_kb") + 1])) for f in rounds])
    logs = work.logs()
    work.cleanup()
    assert logs, "the shim wrote no log: the test proves nothing"
    return results


@test
def a_thousand_threads_taking_stacks_cost_the_shim_bounded_memory():
    # libunwind's unw_backtrace keeps a 256 KiB trace cache for each thread
    # that calls it, until the thread exits: 1,000 threads that took a
    # stack each were 280 MB resident against 10 MB natively.  At most 16
    # live threads use it now; the others walk with libgcc.  1,000 threads
    # put and get an object (10 times: enough for every thread to ask for
    # the fast path, so all 16 places are taken), twice over with new
    # threads.  What the shim may add: its own few MiB and the places' 4
    # MiB (FIXED), and per thread a page of the thread's own stack that the
    # shim's frames reach and the pool's record of its object (PER_THREAD).
    # The heap (mallinfo2) grows only by what the fast threads' dynamic TLS
    # in libunwind takes (a malloc arena each, at most).
    threads, FIXED, PER_THREAD = 1000, 8 << 10, 12
    native, shimmed = _thread_memory([str(threads), "2", "10"])
    bound = FIXED + threads * PER_THREAD
    for (rss, heap), (rss0, heap0) in zip(shimmed, native):
        assert rss - rss0 < bound, "%d threads: %d KiB resident under the shim, %d KiB natively " \
            "(at most %d KiB more)" % (threads, rss, rss0, bound)
        assert heap - heap0 < 4 << 10, "heap %d KiB under the shim, %d KiB natively" % (heap, heap0)
    # what a generation of threads took, its exit gave back
    assert shimmed[-1][0] - shimmed[0][0] < 2 << 10, shimmed


@test
def the_fast_stack_path_passes_to_new_threads_when_its_threads_exit():
    # Three generations of 32 threads that each take 20 stacks: in each,
    # 16 threads (the main thread among them) hold a place on the fast
    # path and its 256 KiB trace cache, ~4 MiB in all.  If an exiting
    # thread's place did not come back, the second generation would find
    # none, walk slowly, and hold no cache (it was 3.5 MiB less).
    native, shimmed = _thread_memory(["32", "3", "10"])
    extra = [rss - rss0 for (rss, _), (rss0, _) in zip(shimmed, native)]
    assert all(e > 3 << 10 for e in extra), "KiB above native by generation: %s" % extra


CPYTHON_TESTS = ["test_subprocess", "test_multiprocessing_fork",
                 "-m", "test_pass_fds_redirected",
                 "-m", "test_global_named_resource_spawn",
                 "-m", "test_shared_memory_SharedMemoryManager_reuses_resource_tracker"]


@test
def cpythons_tests_of_its_childrens_descriptors_and_stderr_pass_under_the_wrapper():
    # test_pass_fds_redirected lists a child's open descriptors (the shim
    # held its log's); the two multiprocessing tests assert that a child's
    # stderr is empty (the shim printed its reports there).  Debian's
    # libpython3.11-testsuite, installed by `make deps`.
    if not os.path.exists("/usr/lib/python3.11/test/test_subprocess.py"):
        print("     skipped: no libpython3.11-testsuite (make deps installs it)")
        return
    d = LogDir()
    r = subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir", d.path + "/logs",
                        "--output", os.path.join(d.path, "report.txt"), "--",
                        "/usr/bin/python3.11", "-m", "test", "-v", *CPYTHON_TESTS],
                       capture_output=True, text=True, timeout=600,
                       env={k: v for k, v in os.environ.items() if k != "GUARD_OPTIONS"})
    d.cleanup()
    out = r.stdout + r.stderr
    assert "Tests result: SUCCESS" in out, out[-4000:]
    for name in CPYTHON_TESTS[3::2]:
        assert name in out, name
    assert "Regression test for https://bugs.python.org/issue32270. ... ok" in out, out[-4000:]


@test
def the_program_sees_no_descriptor_of_the_shims():
    # bash starts ls (a spawn: the shim's log exists by then) to list
    # bash's own descriptors; the list is the same as without the shim.
    # python looks a user up (NSS: the shim loads libunwind, whose memory
    # checks would otherwise hold a pipe) and lists its own descriptors.
    lister = ("import os, pwd; pwd.getpwuid(0); "
              "print(sorted(os.listdir('/proc/self/fd'))); "
              "print('libunwind' in open('/proc/self/maps').read())")
    for argv, unwinder in ((["bash", "-c", "ls /proc/$$/fd; true"], None),
                           (["python3", "-c", lister], "True")):
        native = run(argv, preload=False)
        d = LogDir()
        shimmed = run(argv, log_dir=d.path)
        logs = d.logs()
        d.cleanup()
        assert logs, "the shim wrote no log: the test proves nothing"
        if unwinder:
            assert shimmed.stdout.split()[-1] == unwinder, shimmed.stdout
            shimmed.stdout = shimmed.stdout.rsplit("\n", 2)[0] + "\n"
            native.stdout = native.stdout.rsplit("\n", 2)[0] + "\n"
        assert shimmed.stdout == native.stdout, (native.stdout, shimmed.stdout)


@test
def vfork_keeps_vforks_semantics_and_is_recorded():
    # A vfork child runs on its parent's memory: its writes (an exec's
    # errno reported through a variable) reach the parent.  Under the shim
    # too, and each child is recorded as a vfork from its call site.
    src = "testprogs/vfork_semantics.c"
    native = run([prog("vfork_semantics")], preload=False)
    d = LogDir()
    shimmed = run([prog("vfork_semantics")], log_dir=d.path)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    d.cleanup()
    assert "written 42" in native.stdout and "ENOENT" in native.stdout, native.stdout
    assert shimmed.stdout == native.stdout, (native.stdout, shimmed.stdout)
    assert status == 0, report["findings"]
    kids = [p for p in report["processes"] if p.get("spawn")]
    assert len(kids) == 3, report["processes"]
    for k in kids:
        assert k["spawn"]["kind"] == "vfork", k["spawn"]
        assert_frame(k["spawn"]["stack"], "start_child", src, source_line(src, "VFORK_SITE"))
    # what the children exec'd, told by the child through the shared memory:
    # only the exec that succeeded
    assert [k["exe"] for k in kids].count("/bin/true") == 1, [k["exe"] for k in kids]
    assert not any("nonexistent" in (k["exe"] or "") for k in kids), kids
