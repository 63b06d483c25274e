"""test_field.py — the field profile (GUARD_OPTIONS=profile=field, docs/field.md).

The preset and its overrides, the bounded event ring (log size and resident
memory over a long pool-heavy run), a crash after a million events still
reported with every thread's last events, keep_logs, and the late write
that the poison check must find in every run whatever the sampling.
"""
import os
import re
import signal
import subprocess
import time

import harness
from harness import LogDir, ROOT, analyze, findings, prog, run, test

MiB = 1 << 20


def _help(options):
    """The help=1 listing under `options`: {key: 'now' value}, the preset
    line, and stderr whole."""
    d = LogDir()
    r = run([prog("field_late_write_fixed")], options=options + ":help=1", log_dir=d.path)
    d.cleanup()
    now = {}
    for m in re.finditer(r"^  (\w+): .*?now '?([^':]*)'?: ", r.stderr, re.M):
        now[m.group(1)] = m.group(2)
    preset = re.search(r"^  profile: .*; field = (\S+)$", r.stderr, re.M)
    return now, preset.group(1) if preset else None, r.stderr


@test
def field_profile_is_a_preset_that_keys_override_in_either_order():
    base, _, _ = _help("")
    assert base["profile"] == "test" and base["log_ring_kb"] == "0" and base["keep_logs"] == "0", base
    field, _, err = _help("profile=field")
    assert field["profile"] == "field", field
    assert field["log_ring_kb"] != "0" and field["keep_logs"] != "0" and field["log_max_mb"] != "0", field
    assert "unknown key" not in err and "warning" not in err, err
    for opts in ("profile=field:pool_protect=0:log_ring_kb=128:keep_logs=3",
                 "pool_protect=0:log_ring_kb=128:keep_logs=3:profile=field"):
        now, _, err = _help(opts)
        assert now["profile"] == "field", (opts, now)
        assert (now["pool_protect"], now["log_ring_kb"], now["keep_logs"]) == ("0", "128", "3"), \
            (opts, now)
        assert now["log_max_mb"] == field["log_max_mb"], (opts, now)  # the rest of the preset
        assert "warning" not in err, err
    _, _, err = _help("profile=fast")
    assert "bad value 'fast' for profile" in err, err


@test
def every_key_of_the_field_preset_is_a_key_of_the_shim():
    now, preset, _ = _help("profile=field")
    assert preset, "help=1 does not show the field preset"
    items = [kv.split("=", 1) for kv in preset.split(":")]
    assert all(len(kv) == 2 and kv[1] for kv in items), preset
    missing = [k for k, _ in items if k not in now]
    assert not missing, "preset keys the shim does not have: %s" % missing
    for k, v in items:
        assert now[k] == v, "profile=field: %s is %s, the preset says %s" % (k, now[k], v)


def _cycles(cycles, d, options="profile=field:pool_protect=0", threads=4, extra=()):
    """Run field_pool_cycles; returns (rss growth in KiB as the program saw
    it, total bytes of its logs, completed process)."""
    r = run([prog("field_pool_cycles"), str(cycles), str(threads), *extra], log_dir=d.path,
            options=options, timeout=300)
    m = re.search(r"rss_kb start (\d+) end (\d+)", r.stdout)
    assert r.returncode == 0 and m, (r.returncode, r.stdout, r.stderr[-2000:])
    size = sum(os.path.getsize(p) for p in d.logs())
    return int(m.group(2)) - int(m.group(1)), size, r


@test
def field_log_size_and_resident_memory_stay_bounded_over_a_long_run():
    # The ring's bound holds whatever the run length: a run five times as
    # long has a log of the same size and no more resident memory.  (With
    # every event kept, the long run's log is ~55 MB.)
    short_dir, long_dir = LogDir(), LogDir()
    rss_short, log_short, _ = _cycles(200000, short_dir)
    rss_long, log_long, _ = _cycles(1000000, long_dir)
    assert log_long <= 8 * MiB, "log of %d bytes after 1M cycles" % log_long
    assert log_long <= log_short + 512 * 1024, (log_short, log_long)
    assert rss_long <= 16 * 1024, "resident set grew by %d KiB" % rss_long
    assert rss_long <= rss_short + 2048, (rss_short, rss_long)
    status, report, _ = analyze(long_dir.path, extra=("--verbose",))
    assert status == 0 and report["findings"] == [], report["findings"]
    assert any("kept in a ring" in str(n)
               for n in report["notes"]), report["notes"]
    short_dir.cleanup()
    long_dir.cleanup()


def _churn(n, options, late=False):
    d = LogDir()
    argv = [prog("field_object_churn"), str(n)] + (["late"] if late else [])
    r = run(argv, log_dir=d.path, options=options + ":verbosity=0", timeout=300)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    rss = int(re.search(r"rss_kb (\d+)", r.stdout).group(1))
    return rss, d


@test
def field_object_table_stays_bounded_however_many_objects_come_and_go():
    """A pool whose objects come and go (each put once, taken once, then
    dropped): the field profile remembers at most pool_max_objects of those
    out of their pools, so a run through ten times as many objects is no
    bigger; without the bound each object costs the shim its entry.  A late
    write is still found once the table is full."""
    native = subprocess.run([prog("field_object_churn"), "2000000"], capture_output=True,
                            text=True, timeout=300)
    native_rss = int(re.search(r"rss_kb (\d+)", native.stdout).group(1))
    short_rss, d = _churn(200000, "profile=field")
    d.cleanup()
    long_rss, d = _churn(2000000, "profile=field", late=True)
    assert long_rss <= short_rss + 2048, (short_rss, long_rss)
    assert long_rss - native_rss <= 16 * 1024, (native_rss, long_rss)
    status, report, _ = analyze(d.path)
    (f,) = findings(report, "use-after-return")
    d.cleanup()
    unbounded_rss, d = _churn(1000000, "profile=field:pool_max_objects=0")
    d.cleanup()
    assert unbounded_rss >= long_rss + 64 * 1024, (long_rss, unbounded_rss)


@test
def field_crash_after_a_million_events_has_its_modules_and_every_threads_last_events():
    d = LogDir()
    r = run([prog("field_pool_cycles"), "1000000", "4", "4096", "crash"], log_dir=d.path,
            options="profile=field:pool_protect=0:verbosity=0", timeout=300)
    assert r.returncode == -signal.SIGSEGV, (r.returncode, r.stderr[-2000:])
    (log,) = d.logs()
    assert os.path.getsize(log) <= 8 * MiB, os.path.getsize(log)
    status, report, _ = analyze(d.path)
    (f,) = findings(report, "crash")
    src = "testprogs/field_pool_cycles.c"
    harness.assert_frame(f["stacks"]["crash"], "worker", src,
                         harness.source_line(src, "the crash the field report must explain"))
    workers = [t for t in f["threads"]
               if "worker" in harness.functions(t.get("stack") or [])]
    assert len(workers) == 4, [t["tid"] for t in f["threads"]]
    for t in workers:
        evs = t.get("events") or []
        assert evs and t.get("events_total", 0) >= len(evs), t["tid"]
        kinds = {e["kind"] for e in evs}
        assert kinds <= {"pool-get", "pool-put"} and kinds, kinds
        for e in evs:  # resolved: pool and size known, stack symbolized
            assert int(e["args"][2], 16) == 4096, e
            assert "pool_get" in harness.functions(e["stack"]) or \
                "pool_put" in harness.functions(e["stack"]), harness.functions(e["stack"])
    # the module map: frames in the program and in libc resolve to both
    mods = {fr["module"] for fr in f["stacks"]["crash"] if fr.get("module")}
    assert any(m.endswith("field_pool_cycles") for m in mods) and \
        any("libc.so" in m for m in mods), mods
    d.cleanup()


def _wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


@test
def field_keep_logs_removes_only_older_logs_of_the_same_program():
    d = LogDir()
    opts = "profile=field:pool_protect=0:keep_logs=2"
    # a live process of the same program, with its log already made
    env = dict(os.environ, LD_PRELOAD=harness.shim(),
               GUARD_OPTIONS="log_dir=%s:%s" % (d.path, opts))
    live = subprocess.Popen([prog("field_pool_cycles"), "4000000000", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        live_log = os.path.join(d.path, "guard.field_pool_cycles.%d.log" % live.pid)
        assert _wait_for(lambda: os.path.exists(live_log) and os.path.getsize(live_log) > 64)
        # another program's log, and a file with our name that is no log
        run([prog("field_late_write")], log_dir=d.path, options="profile=field:verbosity=0")
        other = [p for p in d.logs() if "field_late_write" in p]
        junk = os.path.join(d.path, "guard.field_pool_cycles.1.log")
        with open(junk, "wb") as fh:
            fh.write(b"\0" * 64)
        ended = []
        for i in range(5):
            before = set(d.logs())
            _cycles(1000, d, options=opts, threads=1)
            new = set(d.logs()) - before
            ended += sorted(new)
            time.sleep(0.02)  # distinct modification times
        logs = set(d.logs())
        mine = [p for p in ended if p in logs]
        # the two newest ended runs and the last one (it ended after its prune)
        assert mine == ended[-3:], (ended, sorted(logs))
        assert live_log in logs, "a live process's log was removed"
        assert other and set(other) <= logs, "another program's log was removed"
        assert junk in logs, "a file that is not a readable log was removed"
    finally:
        live.kill()
        live.wait()
    d.cleanup()


def _repeat(name, options, runs=20):
    """Run a program `runs` times in one log directory; the merged report."""
    d = LogDir()
    for _ in range(runs):
        run([prog(name)], log_dir=d.path, options=options + ":verbosity=0")
    status, report, _ = analyze(d.path)
    d.cleanup()
    return status, report


@test
def field_late_write_is_found_20_of_20_runs():
    # (keep_logs=0: the twenty logs are all kept for the merged report)
    status, report = _repeat("field_late_write", "profile=field:keep_logs=0")
    fs = findings(report, "use-after-return")
    assert status == 1 and len(fs) == 1, [(f["kind"], f["count"]) for f in report["findings"]]
    assert fs[0]["count"] == 20, "flagged %d of 20 runs" % fs[0]["count"]
    status, report = _repeat("field_late_write_fixed", "profile=field:keep_logs=0")
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def field_log_max_mb_bounds_the_log_and_says_so():
    # Without a ring, events stop at three quarters of the bound (a note
    # says so); with one, its slots stop there too.  Either way the file
    # stays within the bound and the END record still fits.
    for opts, note in (("pool_protect=0:log_ring_kb=0:log_max_mb=2", "three quarters of log_max_mb=2"),
                       ("pool_protect=0:log_ring_kb=8192:log_max_mb=2", "kept in a ring")):
        d = LogDir()
        _, size, _ = _cycles(300000, d, options=opts)
        assert size <= 2 * MiB, (opts, size)
        status, report, _ = analyze(d.path, extra=("--verbose",))
        assert status == 0, report["notes"]
        assert any(note in n for n in report["notes"]), (opts, report["notes"])
        (proc,) = report["processes"]
        assert proc["end_record"], (opts, report["notes"])
        d.cleanup()


@test
def field_ring_survives_sigkill():
    # Killed while four threads fill the ring: every slot reads back (a
    # slot being refilled has seq 0 and is skipped), no damage is reported.
    d = LogDir()
    env = dict(os.environ, LD_PRELOAD=harness.shim(),
               GUARD_OPTIONS="log_dir=%s:profile=field:pool_protect=0" % d.path)
    p = subprocess.Popen([prog("field_pool_cycles"), "4000000000", "4"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: d.logs() and os.path.getsize(d.logs()[0]) > 4 * MiB)
        time.sleep(0.3)  # the ring has wrapped: slots are being refilled
    finally:
        p.kill()
        p.wait()
    status, report, _ = analyze(d.path, extra=("--verbose",))
    assert status == 0, report["notes"]
    assert not any("corrupt" in n or "damaged" in n for n in report["notes"]), report["notes"]
    assert any("kept in a ring" in n for n in report["notes"]), report["notes"]
    (proc,) = report["processes"]
    assert proc["events"] > 50000, proc["events"]
    d.cleanup()


def _ring_slots(data):
    """(offset, size, seq) of each RING record of a log, walking the stream
    by record sizes (an independent reader, from docs/log-format.md)."""
    import struct
    off, out = 64, []
    while off + 8 <= len(data):
        sync, typ, size = struct.unpack_from("<HHI", data, off)
        if sync != 0xA11C or size < 8 or size % 8:
            break
        if typ == 14:
            out.append((off, size, struct.unpack_from("<Q", data, off + 8)[0]))
        off += size
    return out


@test
def field_damaged_ring_slots_are_noted_and_the_rest_is_read():
    import struct
    d = LogDir()
    _cycles(300000, d)
    (log,) = d.logs()
    data = bytearray(open(log, "rb").read())
    slots = [s for s in _ring_slots(data) if s[2]]
    assert len(slots) >= 8, slots
    a, b, c = slots[1], slots[2], slots[3]
    struct.pack_into("<HHI", data, a[0] + 32, 0xA11C, 5, 0x7ffffff8)  # a record past the slot
    struct.pack_into("<HHI", data, b[0] + 32, 0xA11C, 6, 64)          # not an event: a FINDING
    data[c[0] + 32:c[0] + c[1]] = os.urandom(c[1] - 32)               # noise
    struct.pack_into("<I", data, slots[4][0] + 4, 1 << 30)            # the slot's own size
    open(log, "wb").write(bytes(data))
    status, report, _ = analyze(d.path, extra=("--verbose",))
    notes = report["notes"]
    for s in (a, b):
        assert any("inside the event ring's slot at offset %d" % s[0] in n for n in notes), \
            (s, notes)
    (proc,) = report["processes"]
    assert proc["events"] > 10000, proc["events"]
    assert report["findings"] == [], report["findings"]
    d.cleanup()


@test
def field_log_cut_inside_a_ring_slot_is_read_up_to_the_cut():
    # A log copied while it was written, or cut by a full disk's copy: the
    # last record is a slot of the ring; its records up to the cut are
    # events, not corruption to resynchronise in.
    d = LogDir()
    _cycles(300000, d)
    (log,) = d.logs()
    data = open(log, "rb").read()
    slots = [s for s in _ring_slots(data) if s[2]]
    off, size, _ = slots[len(slots) // 2]
    for cut in (off + 40, off + size // 2 + 3, off + size - 8):
        path = os.path.join(d.path, "guard.cut.%d.log" % cut)
        with open(path, "wb") as fh:
            fh.write(data[:cut])
        status, report, err = analyze(path, extra=("--verbose",))
        assert status == 0, "cut at %d: status %d: %s" % (cut, status, err)
        assert any("an event ring slot" in n for n in report["notes"]), report["notes"]
        os.unlink(path)
    d.cleanup()


@test
def field_ring_reuses_the_slots_of_threads_that_ended():
    # A thread per request: 2000 threads come and go, four at a time.  A
    # slot is never taken from a live thread, but an ended thread's is
    # reused: the ring stays at its size (128 KiB: 8 slots).
    d = LogDir()
    r = run([prog("field_thread_churn"), "2000", "100"], log_dir=d.path,
            options="profile=field:pool_protect=0:log_ring_kb=128", timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    (log,) = d.logs()
    slots = _ring_slots(open(log, "rb").read())
    assert len(slots) == 8, "%d ring slots for 2000 threads" % len(slots)
    assert os.path.getsize(log) <= 1 * MiB, os.path.getsize(log)
    status, report, _ = analyze(d.path)
    assert status == 0 and report["findings"] == [], (report["findings"], report["notes"])
    d.cleanup()


@test
def field_keep_logs_with_many_processes_of_one_program_starting_at_once():
    # Ten ended runs, then eight processes start together, each pruning as
    # it creates its log: the two newest ended logs and all eight live
    # ones remain.
    d = LogDir()
    opts = "profile=field:pool_protect=0:keep_logs=2"
    for _ in range(10):
        _cycles(1000, d, options="profile=field:pool_protect=0:keep_logs=0", threads=1)
        time.sleep(0.01)
    ended = sorted(d.logs(), key=lambda p: (os.stat(p).st_mtime_ns, p))
    assert len(ended) == 10, ended
    env = dict(os.environ, LD_PRELOAD=harness.shim(),
               GUARD_OPTIONS="log_dir=%s:%s" % (d.path, opts))
    procs = [subprocess.Popen([prog("field_pool_cycles"), "4000000000", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(8)]
    try:
        live = [os.path.join(d.path, "guard.field_pool_cycles.%d.log" % p.pid) for p in procs]
        assert _wait_for(lambda: all(os.path.exists(p) for p in live))
        time.sleep(0.2)
        logs = set(d.logs())
        assert set(live) <= logs, "a live process's log was removed"
        assert logs - set(live) == set(ended[-2:]), (sorted(logs - set(live)), ended[-2:])
    finally:
        for p in procs:
            p.kill()
            p.wait()
    d.cleanup()
