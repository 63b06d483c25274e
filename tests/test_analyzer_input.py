"""test_analyzer_input.py — the analyzer on what the field hands it: a log
whose file header was zeroed over intact records, a crash with hundreds of
thousands of threads, a sparse 32 GiB log, and directory entries named like
logs that are not log files.  The exit status stays the contract: 0 no
findings, 1 findings, 2 input error (the damage named, everything else
still reported)."""
import json
import os
import resource
import shutil
import struct
import tempfile
import time

from harness import ASAN_ENV, LogDir, analyze, analyzer, findings, prog, run, test

MAGIC = 0x474F4C4452415547


def measure(argv, timeout=30, rss_limit_kb=None, preexec_fn=None):
    """Run the analyzer alone; (exit status, seconds, peak resident set in
    KiB, stdout, stderr).  Its own rusage (wait4), not that of every child
    this suite ever waited for; killed at the timeout or as soon as its
    resident set passes rss_limit_kb (then the status is 'timeout' or
    'rss')."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    env = dict(os.environ, **ASAN_ENV)
    pid = os.fork()
    if pid == 0:  # the child: no Python object of the parent is used after this
        try:
            if preexec_fn:
                preexec_fn()
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    start = time.monotonic()
    verdict = None
    while True:
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            break
        if verdict is None:
            if time.monotonic() - start > timeout:
                verdict = "timeout"
            elif rss_limit_kb:
                try:
                    with open("/proc/%d/status" % pid) as fh:
                        rss = [int(line.split()[1]) for line in fh if line.startswith("VmRSS:")]
                    if rss and rss[0] > rss_limit_kb:
                        verdict = "rss"
                except OSError:
                    pass
            if verdict:
                os.kill(pid, 9)
        time.sleep(0.01)
    elapsed = time.monotonic() - start
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    out.close()
    err.close()
    assert "ERROR: AddressSanitizer" not in stderr and "runtime error:" not in stderr \
        and "LeakSanitizer" not in stderr, "analyzer sanitizer report:\n" + stderr[-3000:]
    code = verdict or os.waitstatus_to_exitcode(status)
    return code, elapsed, ru.ru_maxrss, stdout, stderr


def double_put_log():
    """A real log with one double-put: (LogDir, path, pid)."""
    d = LogDir()
    r = run([prog("pool_double_put")], log_dir=d.path, options="verbosity=0")
    assert r.returncode == 0, r.stderr
    (path,) = d.logs()
    return d, path, int(path.rsplit(".", 2)[-2])


def summary(report):
    """What must not change when only the file around the records does."""
    return sorted((f["kind"], f["fingerprint"], f["count"], f["pid"]) for f in report["findings"])


# ---- 1. a zeroed file header ----------------------------------------------

@test
def zeroed_file_header_over_intact_records_is_damage_and_its_findings_still_count():
    d, good, pid = double_put_log()
    status, want, _ = analyze(good)
    assert status == 1 and findings(want, "double-put"), status
    blob = open(good, "rb").read()
    work = LogDir()
    bad = os.path.join(work.path, os.path.basename(good))

    # the 64-byte header zeroed (a disk error, a machine crash): the records
    # are read, the damage is named with its offset (exit 2: like any
    # damage, with everything else still reported)
    open(bad, "wb").write(bytes(64) + blob[64:])
    status, report, err = analyze(bad)
    assert status == 2, "a damaged header is an input error: %d\n%s" % (status, err)
    assert bad in err and "offset 0" in err and "header" in err, err
    assert summary(report) == summary(want), (summary(report), summary(want))
    (p,) = report["processes"]
    assert p["pid"] == pid, p
    status, text, _ = analyze(bad, fmt="text")
    assert status == 2 and "double-put" in text, text[-2000:]

    # the first block gone (header and PROCESS record zeroed): the pid comes
    # from the file name, the gap is noted with its offset
    (size,) = struct.unpack_from("<I", blob, 64 + 4)
    open(bad, "wb").write(bytes(64 + size) + blob[64 + size:])
    status, report, err = analyze(bad)
    assert status == 2 and "offset 0" in err, (status, err)
    assert [(k, fp, c) for k, fp, c, _ in summary(report)] == \
        [(k, fp, c) for k, fp, c, _ in summary(want)], summary(report)
    assert findings(report, "double-put")[0]["pid"] == pid, findings(report)
    assert any("offset 64" in n for n in report["notes"]), report["notes"]

    # garbage in the header before a valid PROCESS record: the same damage
    open(bad, "wb").write(b"\xde\xad" * 32 + blob[64:])
    status, report, err = analyze(bad)
    assert status == 2 and "offset 0" in err and summary(report) == summary(want), (status, err)

    # all zeros is still the log of a process killed before it wrote its
    # header: a note, no error
    open(bad, "wb").write(bytes(len(blob)))
    status, report, err = analyze(bad)
    assert status == 0 and report["findings"] == [], (status, err)
    assert any("empty log" in n for n in report["notes"]), report["notes"]
    # 0 bytes: a process killed between creating its log and sizing it
    # (one kill in hundreds lands there in a nightly run): a note, no error
    open(bad, "wb").close()
    status, report, err = analyze(bad)
    assert status == 0 and report["findings"] == [], (status, err)
    assert any("empty log" in n for n in report["notes"]), report["notes"]
    # zeros in the header and garbage that is no record after it: an error
    open(bad, "wb").write(bytes(64) + b"\x01" * 200)
    status, report, err = analyze(bad)
    assert status == 2 and bad in err, (status, err)
    d.cleanup()
    work.cleanup()


# ---- 2. a crash with 200k threads -------------------------------------------

def rec(rtype, body):
    size = (8 + len(body) + 7) // 8 * 8
    return struct.pack("<HHI", 0xA11C, rtype, size) + body + b"\0" * (size - 8 - len(body))


def crash_log(path, pid, nthreads, twice=()):
    """A log of a crash with nthreads other threads that answered (tids
    pid+1...), each with one THREAD_START event before the crash; the tids
    in `twice` answer a second time (stack 63: the first answer counts)."""
    hdr = struct.pack("<QIIIIQQII2Q", MAGIC, 1, 64, pid, 1, 0, 1000, 0, 4096, 0, 0)
    exe = b"/bin/synthetic"
    parts = [hdr, rec(2, struct.pack("<6I", 1, len(exe), len(exe) + 1, 0, pid, 0) + exe + exe + b"\0")]
    parts += [rec(4, struct.pack("<IIII2Q", k, 2, 0, 0, 0x401000 + 16 * k, 0x402000 + k))
              for k in range(1, 65)]
    parts += [rec(5, struct.pack("<QIHHII4Q", 2000 + i, pid + 1 + i, 17, 0, 1 + i % 64, 0, pid, 0, 0, 0))
              for i in range(nthreads)]
    parts.append(rec(12, struct.pack("<QIiiIQII", 10 ** 6, pid, 11, 1, 1, 0x10, nthreads, 23)
                     + struct.pack("<23Q", *range(23))))
    summ = b"SIGSEGV in the main thread"
    parts.append(rec(6, struct.pack("<QIHHQQQQqIIIHHII", 10 ** 6, pid, 11, 0, 0, 0, 0, 0x10, 0, 0,
                                    nthreads, 0, 1, 0, len(summ), 0)
                     + struct.pack("<4I", 10, 1, pid, 0) + summ))
    parts += [rec(13, struct.pack("<QII", 10 ** 6 + i, pid + 1 + i, 1 + i % 64)) for i in range(nthreads)]
    parts += [rec(13, struct.pack("<QII", 2 * 10 ** 6, tid, 63)) for tid in twice]
    with open(path, "wb") as fh:
        fh.write(b"".join(parts))


@test
def a_crash_with_200k_thread_stacks_is_analyzed_in_linear_time():
    pid = 4242
    d = LogDir()
    path = os.path.join(d.path, "guard.synthetic.%d.log" % pid)
    # what the report says, on a small one, under ASan: every thread once,
    # with its stack and its event; a thread that answered twice, its first
    crash_log(path, pid, 300, twice=(pid + 2, pid + 300))
    status, report, err = analyze(d.path)
    assert status == 1, (status, err)
    (f,) = findings(report, "crash")
    tids = [t["tid"] for t in f["threads"]]
    assert tids[0] == pid and sorted(tids[1:]) == list(range(pid + 1, pid + 301)), tids[:5]
    assert f["threads_answered"] == 300 and f["other_threads"] == [], f["threads_answered"]
    by_tid = {t["tid"]: t for t in f["threads"]}
    assert by_tid[pid + 2]["stack"][0]["pc"] == hex(0x401000 + 16 * 2), by_tid[pid + 2]["stack"]
    assert all(len(by_tid[t]["events"]) == 1 for t in tids[1:]), "each thread's event"

    # 200k threads, the optimized build: seconds, not minutes (it was
    # quadratic: 80k threads took 3 s, 1M minutes)
    n = 200000
    crash_log(path, pid, n)
    status, elapsed, rss, out, err = measure([analyzer(asan=False), "--format=text", d.path], timeout=30)
    assert status == 1, "status %s after %.1f s: %s" % (status, elapsed, err[-2000:])
    assert elapsed < 6, "%d thread stacks took %.1f s" % (n, elapsed)
    assert ("thread %d:" % (pid + n)) in out and "thread %d (crashed):" % pid in out, out[:2000]
    d.cleanup()


# ---- 3. a sparse 32 GiB log -------------------------------------------------

@test
def a_sparse_32_gib_log_costs_its_data_not_its_apparent_size():
    d, small, _ = double_put_log()
    status, want, _ = analyze(small)
    assert status == 1
    big_dir = LogDir()
    big = shutil.copy(small, os.path.join(big_dir.path, os.path.basename(small)))
    os.truncate(big, 32 << 30)

    def same(report, what):
        assert summary(report) == summary(want), (what, summary(report), summary(want))
        assert [n.replace(big, small) for n in report["notes"]] == want["notes"], (what, report["notes"])

    # the optimized build: time and resident set (it took 213 s and 22 GB)
    status, elapsed, rss, out, err = measure([analyzer(asan=False), "--format=json", big],
                                             timeout=20, rss_limit_kb=512 << 10)
    assert status == 1, "status %s after %.1f s, %d KiB resident: %s" % (status, elapsed, rss, err[-2000:])
    assert elapsed < 5 and rss < 128 << 10, "%.1f s, %d KiB resident" % (elapsed, rss)
    same(json.loads(out), "mapped")

    # where the file cannot be mapped (here: an address-space limit), it is
    # read in memory that follows its data, never its apparent size
    def small_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    status, elapsed, rss, out, err = measure([analyzer(asan=False), "--format=json", big],
                                             timeout=20, rss_limit_kb=512 << 10,
                                             preexec_fn=small_address_space)
    assert status == 1, "status %s after %.1f s: %s" % (status, elapsed, err[-2000:])
    assert elapsed < 5 and rss < 128 << 10, "%.1f s, %d KiB resident" % (elapsed, rss)
    same(json.loads(out), "read")

    # the sanitizer build: no crash, no hang, the same report
    status, report, err = analyze(big)
    assert status == 1, (status, err)
    same(report, "asan")
    d.cleanup()
    big_dir.cleanup()


# ---- 4. entries named like logs that are not log files ------------------------

def make_loop(path):
    other = path + ".other.log"
    os.symlink(os.path.basename(other), path)
    os.symlink(os.path.basename(path), other)
    return [path, other]


def make_fifo(path):
    os.mkfifo(path)
    return [path]


def make_dir(path):
    os.mkdir(path)
    return [path]


def make_dangling(path):
    os.symlink("/nonexistent/guard.gone.1.log", path)
    return [path]


BAD_ENTRIES = {"loop": make_loop, "fifo": make_fifo, "dir": make_dir, "dangling": make_dangling}


def analyze_quick(paths, asan=True):
    """analyze(), killed after 20 s: a FIFO must never block the analyzer."""
    status, elapsed, _, out, err = measure([analyzer(asan), "--format=json", *paths], timeout=20)
    assert status in (0, 1, 2), "analyzer %s after %.1f s: %s" % (status, elapsed, err[-2000:])
    return status, json.loads(out), err


@test
def directory_entries_named_like_logs_that_are_not_log_files_are_input_errors():
    d, good, _ = double_put_log()
    # a directory of good logs: as before
    status, want, err = analyze_quick([d.path])
    assert status == 1 and findings(want, "double-put"), (status, err)
    clean = LogDir()
    assert run(["/bin/true"], log_dir=clean.path, options="log_always=1").returncode == 0
    assert len(clean.logs()) == 1
    status, report, err = analyze_quick([clean.path])
    assert status == 0 and report["findings"] == [], (status, err)
    # a symlink to a good log is a good log
    os.symlink(clean.logs()[0], os.path.join(d.path, "guard.link.1.log"))
    status, report, err = analyze_quick([d.path])
    assert status == 1, (status, err)
    os.unlink(os.path.join(d.path, "guard.link.1.log"))

    # each kind alone, beside a good log and beside a clean one: named, exit
    # 2, the good log still reported
    for kind, make in BAD_ENTRIES.items():
        for base, kind_of_log in ((good, "double-put"), (clean.logs()[0], None)):
            work = LogDir()
            shutil.copy(base, work.path)
            named = make(os.path.join(work.path, "guard.%s.1.log" % kind))
            status, report, err = analyze_quick([work.path])
            assert status == 2, "%s: status %d\n%s" % (kind, status, err)
            for p in named:
                assert p in err, "%s: %s not named:\n%s" % (kind, p, err)
            if kind_of_log:
                assert findings(report, kind_of_log), (kind, report["findings"])
            else:
                assert report["findings"] == [], (kind, report["findings"])
            work.cleanup()

    # all of them at once, and a FIFO given as a PATH: no hang, each named
    work = LogDir()
    shutil.copy(good, work.path)
    named = []
    for kind, make in BAD_ENTRIES.items():
        named += make(os.path.join(work.path, "guard.%s.1.log" % kind))
    fifo = os.path.join(work.path, "guard.fifo.1.log")
    status, report, err = analyze_quick([work.path, fifo])
    assert status == 2 and findings(report, "double-put"), (status, err)
    assert all(p in err for p in named), err
    d.cleanup()
    clean.cleanup()
    work.cleanup()
