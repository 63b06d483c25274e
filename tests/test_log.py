"""test_log.py — the event log: format round trip (read by an independent
reader written from docs/log-format.md), a SIGKILLed process's log, and
truncated or corrupted logs in the analyzer."""
import os
import re
import shutil
import struct
import subprocess

from harness import LogDir, analyze, findings, prog, run, shim, test

MAGIC = 0x474F4C4452415547
SYNC = 0xA11C
REC = {1: "pad", 2: "process", 3: "module", 4: "stack", 5: "event", 6: "finding", 7: "note", 8: "end"}


def read_log(path):
    """An independent reader of the format: header, then records; zeros end it."""
    data = open(path, "rb").read()
    magic, version, hsize, pid, ppid = struct.unpack_from("<QIIII", data, 0)
    assert magic == MAGIC, "bad magic %x" % magic
    assert version == 1 and hsize == 64
    recs = []
    off = hsize
    while off + 8 <= len(data):
        sync, rtype, size = struct.unpack_from("<HHI", data, off)
        if sync != SYNC:
            assert data[off:].strip(b"\0") == b"", "non-zero bytes after the last record at %d" % off
            break
        assert size >= 8 and size % 8 == 0 and off + size <= len(data)
        recs.append((REC.get(rtype, rtype), data[off:off + size], off))
        off += size
    (start_monotonic,) = struct.unpack_from("<Q", data, 32)
    return {"pid": pid, "ppid": ppid, "start_monotonic": start_monotonic, "records": recs}


def process_record(body):
    argc, exe_len, args_len, opt_len = struct.unpack_from("<IIII", body, 8)
    p = 32
    exe = body[p:p + exe_len].decode()
    args = body[p + exe_len:p + exe_len + args_len].split(b"\0")[:argc]
    return exe, [a.decode() for a in args]


def elf_build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


@test
def log_round_trip_header_process_modules_stacks_events():
    d = LogDir()
    r = run([prog("pool_double_put"), "an-arg"], log_dir=d.path)
    assert r.returncode == 0
    (path,) = d.logs()
    assert re.search(r"/guard\.pool_double_put\.\d+\.log$", path), path
    assert oct(os.stat(path).st_mode & 0o777) == "0o600", "logs are private"
    log = read_log(path)
    kinds = [k for k, _, _ in log["records"]]
    assert kinds[0] == "process", kinds[:3]
    exe, argv = process_record(log["records"][0][1])
    assert exe == prog("pool_double_put") and argv == [prog("pool_double_put"), "an-arg"], (exe, argv)
    assert log["ppid"] == os.getpid()
    modules = [b for k, b, _ in log["records"] if k == "module"]
    main = [b for b in modules if struct.unpack_from("<I", b, 28)[0] & 1]
    assert main, "the main executable is in the module map"
    base, gen, path_len, bid_len, nsegs = struct.unpack_from("<QIIHH", main[0], 8)
    segs_end = 32 + nsegs * 24
    build_id = main[0][segs_end:segs_end + bid_len].hex()
    assert build_id == elf_build_id(prog("pool_double_put")), "module build-id matches the file"
    assert main[0][segs_end + bid_len:segs_end + bid_len + path_len].decode() == prog("pool_double_put")
    events = [b for k, b, _ in log["records"] if k == "event"]
    ev_kinds = [struct.unpack_from("<H", b, 20)[0] for b in events]
    assert ev_kinds.count(1) == 2 and ev_kinds.count(2) == 1, "two puts, one get: %s" % ev_kinds
    stack_ids = {struct.unpack_from("<I", b, 8)[0] for k, b, _ in log["records"] if k == "stack"}
    for b in events:
        sid = struct.unpack_from("<I", b, 24)[0]
        assert sid in stack_ids, "event refers to stack %d that is in the log" % sid
    assert kinds.count("finding") == 1 and kinds[-1] == "end", kinds
    d.cleanup()


@test
def sigkilled_process_log_is_complete_up_to_the_kill():
    d = LogDir()
    r = run([prog("many_double_puts_then_kill"), "300"], log_dir=d.path, options="verbosity=0")
    assert r.returncode == -9, "killed by SIGKILL: %d" % r.returncode
    assert r.stdout.strip() == "recorded 300"
    (path,) = d.logs()
    log = read_log(path)
    kinds = [k for k, _, _ in log["records"]]
    assert kinds.count("finding") == 300, "every finding before the kill: %d" % kinds.count("finding")
    assert kinds.count("event") == 900, "every event before the kill: %d" % kinds.count("event")
    assert "end" not in kinds
    status, report, err = analyze(d.path)
    assert status == 1
    (f,) = findings(report, "double-put")
    assert f["count"] == 300, f["count"]
    text = " ".join(report.get("notes", [])) + err
    assert "END" in text or "killed" in text, "the report says the process did not end normally"
    d.cleanup()


@test
def a_log_longer_than_a_mapping_window_is_whole_and_forks_on_both_sides_keep_their_own():
    # The writer maps the log 16 MiB at a time (preload/log.c, WINDOW_BYTES);
    # 300,000 get/put cycles are ~19 MiB of records.
    d = LogDir()
    r = run([prog("log_past_a_window"), "300000"], log_dir=d.path,
            options="verbosity=0:pool_poison=0:pool_protect=0")
    assert r.returncode == 0 and r.stdout.split()[0] == "300000", (r.returncode, r.stdout, r.stderr[-500:])
    # ~19 MiB: two mappings of 16 MiB, not one per 256 KiB chunk (~76): a
    # fork copies or skips each of them, and that cost grew with the log
    assert int(r.stdout.split()[1]) <= 2, "mappings of the log: %s" % r.stdout.split()[1]
    logs = d.logs()
    assert len(logs) == 3, "the parent's log and one per child: %s" % logs
    parent = [p for p in logs if read_log(p)["ppid"] == os.getpid()]
    assert len(parent) == 1, logs
    log = read_log(parent[0])
    kinds = [k for k, _, _ in log["records"]]
    pool = kinds.count(9) + kinds.count(10) + kinds.count("event")  # short puts (9), gets (10)
    assert pool >= 600000, "every get and put: %d pool records" % pool
    assert kinds[-1] == "end", "the log ends with its END record, past the first window"
    (finding_at,) = [off for k, _, off in log["records"] if k == "finding"]
    assert finding_at > 16 << 20, "the parent's finding is in a later window: offset %d" % finding_at
    status, report, _ = analyze(d.path)
    assert status == 1
    found = findings(report, "double-put")
    assert len(found) == 3, "one double-put in each process: %s" % [f.get("pid") for f in found]
    assert len({f.get("pid") for f in found}) == 3, [f.get("pid") for f in found]
    d.cleanup()


def copy_log(src, dst_dir, name):
    dst = os.path.join(dst_dir, name)
    shutil.copy(src, dst)
    return dst


@test
def truncated_logs_never_crash_the_analyzer():
    d = LogDir()
    run([prog("pool_late_write")], log_dir=d.path, options="verbosity=0")
    (path,) = d.logs()
    data = open(path, "rb").read().rstrip(b"\0")
    work = LogDir()
    cuts = sorted(set([0, 1, 7, 8, 63, 64, 65, 100] + list(range(64, len(data), max(1, len(data) // 40)))
                      + [len(data) - 1, len(data) - 5]))
    for cut in cuts:
        p = os.path.join(work.path, "guard.cut.%d.log" % cut)
        open(p, "wb").write(data[:cut])
        status, report, err = analyze(p)
        if cut == 0:  # a process killed between creating its log and sizing it
            assert status == 0 and any("empty log" in n for n in report["notes"]), (status, err)
        elif cut < 64:
            assert status == 2 and p in err, "a file shorter than the header is an input error (%d)" % cut
        else:
            assert status in (0, 1), "cut at %d: status %d: %s" % (cut, status, err)
        os.unlink(p)
    # cut inside the finding record: the note names the offset, earlier records stay
    log = read_log(path)
    fin_off = [off for k, _, off in log["records"] if k == "finding"][0]
    p = os.path.join(work.path, "guard.torn.1.log")
    open(p, "wb").write(data[:fin_off + 20])
    status, report, err = analyze(p)
    assert status == 0, "the torn finding is skipped, not invented"
    assert str(fin_off) in err + " ".join(report.get("notes", [])), (err, report.get("notes"))
    d.cleanup()
    work.cleanup()


@test
def corrupt_log_named_with_offset_and_other_logs_still_reported():
    d = LogDir()
    run([prog("pool_double_put")], log_dir=d.path, options="verbosity=0")
    (good,) = d.logs()
    bad_dir = LogDir()
    bad = copy_log(good, bad_dir.path, "guard.bad.1.log")
    log = read_log(bad)
    stack_off = [off for k, _, off in log["records"] if k == "stack"][0]
    blob = bytearray(open(bad, "rb").read())
    blob[stack_off:stack_off + 16] = b"\xff" * 16
    open(bad, "wb").write(bytes(blob))
    status, report, err = analyze([bad, good])
    assert status == 2, "a corrupt log is an input error: %d" % status
    assert "guard.bad.1.log" in err and str(stack_off) in err, err
    assert findings(report, "double-put"), "the good log is still reported"
    # not a log at all
    junk = os.path.join(bad_dir.path, "guard.junk.1.log")
    open(junk, "wb").write(b"hello, world\n" * 10)
    status, _, err = analyze(junk)
    assert status == 2 and "junk" in err
    # random corruption, many times: never a crash
    import random
    rnd = random.Random(42)
    for i in range(60):
        b = bytearray(open(good, "rb").read())
        for _ in range(rnd.randint(1, 20)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        p = os.path.join(bad_dir.path, "guard.fuzz.%d.log" % i)
        open(p, "wb").write(bytes(b))
        analyze(p)
        os.unlink(p)
    d.cleanup()
    bad_dir.cleanup()


@test
def forked_child_writes_its_own_log_naming_its_parent():
    # A forked child with something to record (fork_nss_child's child calls
    # getpwuid_r before exec) writes its own log, naming its parent.
    d = LogDir()
    r = run([prog("fork_nss_child")], log_dir=d.path, options="verbosity=0")
    assert r.returncode == 0, r.stderr
    logs = {p: read_log(p) for p in d.logs()}
    (parent,) = [h for h in logs.values() if h["ppid"] == os.getpid()]
    children = [p for p, h in logs.items() if h["ppid"] == parent["pid"]]
    assert len(children) == 1, logs
    # Its start is when its parent called fork (the fork hook's stamp; the
    # child reads no clock before its first record): after the parent's
    # start, before the parent recorded the spawn, before its own events.
    child = logs[children[0]]
    spawns = [struct.unpack_from("<Q", b, 8)[0] for k, b, _ in parent["records"]
              if k == "event" and struct.unpack_from("<H", b, 20)[0] == 9]
    child_events = [struct.unpack_from("<Q", b, 8)[0] for k, b, _ in child["records"] if k == "event"]
    assert spawns and child_events, (spawns, child_events)
    assert parent["start_monotonic"] < child["start_monotonic"] <= min(spawns), (parent, child)
    assert child["start_monotonic"] <= min(child_events)
    d.cleanup()


@test
def quiet_processes_leave_no_log_unless_log_always():
    # pool_uar_fixed forks a child that execs gzip and records nothing: by
    # default only the parent writes a log, and it says what the child
    # exec'd (the child told it through the exec board).  With log_always=1
    # the forked child and nothing else changes: it has a log naming its parent.
    d = LogDir()
    r = run([prog("pool_uar_fixed")], log_dir=d.path)
    assert r.returncode == 0
    logs = d.logs()
    assert len(logs) == 1 and "pool_uar_fixed" in logs[0], logs
    status, report, _ = analyze(d.path, extra=("--verbose",))
    (child,) = [p for p in report["processes"] if p["ppid"] != os.getpid()]
    assert not child["has_log"] and child["exe"].endswith("gzip"), child
    assert child["argv"] == ["gzip", "-c"], child["argv"]
    assert child["exec_chain"][-1]["exe"].endswith("gzip"), child["exec_chain"]
    d.cleanup()

    d = LogDir()
    r = run([prog("pool_uar_fixed")], log_dir=d.path, options="log_always=1")
    assert r.returncode == 0
    logs = {p: read_log(p) for p in d.logs()}
    (parent,) = [h for h in logs.values() if h["ppid"] == os.getpid()]
    children = [p for p, h in logs.items() if h["ppid"] == parent["pid"]]
    assert len(children) >= 1, "the forked child (gzip) has a log of its own: %s" % logs
    d.cleanup()

    # A forked child that records nothing and never execs: a log of its own
    # only with log_always=1.
    for always, want in ((0, 1), (1, 2)):
        d = LogDir()
        r = run([prog("child_zombie")], log_dir=d.path, options="log_always=%d:verbosity=0" % always)
        assert r.returncode == 0
        assert len(d.logs()) == want, (always, d.logs())
        d.cleanup()

    # A program that records nothing at all leaves no file by default.
    d = LogDir()
    r = run(["/bin/true"], log_dir=d.path)
    assert r.returncode == 0 and d.logs() == [], d.logs()
    r = run(["/bin/true"], log_dir=d.path, options="log_always=1")
    assert r.returncode == 0 and len(d.logs()) == 1, d.logs()
    d.cleanup()


@test
def missing_and_unreadable_paths_are_input_errors():
    status, _, err = analyze("/nonexistent/guard.x.1.log")
    assert status == 2 and "/nonexistent" in err
    d = LogDir()
    status, report, err = analyze(d.path)
    assert status == 0 and report["findings"] == []
    d.cleanup()


def _private_mounts():
    """Can this test mount in a mount namespace of its own (root, unshare)?"""
    if os.geteuid() == 0 and not subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        return True
    print("     skipped: needs root and unshare(2)")
    return False


@test
def a_full_file_system_stops_the_log_says_so_and_leaves_no_empty_files():
    # In a private mount namespace, on a 2 MiB tmpfs: a process that fills
    # it has its log's header marked (GUARD_FILE_NO_SPACE), for the
    # analyzer to know its log is cut, not its life; then, with the file
    # system full, a new process leaves no file and says so once.
    if not _private_mounts():
        return
    d = LogDir()
    script = ("D=$(mktemp -d) && mount -t tmpfs -o size=2m none $D && "
              "LD_PRELOAD={shim} GUARD_OPTIONS=log_dir=$D:pool_protect=0:verbosity=0 {flood} 300 && "
              "cp $D/guard.* {out}/ && rm -f $D/guard.* && "
              "(dd if=/dev/zero of=$D/filler bs=64k 2>/dev/null; true) && "
              "LD_PRELOAD={shim} GUARD_OPTIONS=log_dir=$D {zombie}; "
              "echo status=$?; ls $D").format(shim=shim(), flood=prog("log_flood"), out=d.path,
                                              zombie=prog("child_zombie"))
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       timeout=120)
    (log,) = d.logs()
    with open(log, "rb") as fh:
        header = fh.read(64)
    flags = struct.unpack_from("<I", header, 40)[0]
    status, report, _ = analyze(d.path)
    d.cleanup()
    assert any("log cut short" in n for n in report["notes"]), report["notes"]
    assert not any("killed?" in n for n in report["notes"]), report["notes"]
    (p,) = report["processes"]
    assert p["ended"] == "log cut", p["ended"]
    assert "status=0" in r.stdout, (r.stdout, r.stderr)
    assert flags & 2, "the stopped log's header is not marked: flags %#x" % flags
    assert r.stdout.split()[-1] == "filler", "a file was left on the full file system: " + r.stdout
    assert r.stderr.count("libguard: no space for the log") == 1, r.stderr


@test
def a_log_goes_on_when_its_directory_is_mounted_over():
    # The program enters a mount namespace of its own and mounts a tmpfs
    # over its log's directory, then logs 400k events: the log is still
    # the file the shim created, and is complete (it stopped at the first
    # growth when it was opened again by its path).
    if not _private_mounts():
        return
    d = LogDir()
    env = dict(os.environ, LD_PRELOAD=shim(), GUARD_OPTIONS="log_dir=%s:pool_protect=0" % d.path)
    r = subprocess.run(["unshare", "-m", prog("log_dir_mounted_over"), d.path], env=env,
                       capture_output=True, text=True, timeout=120)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    d.cleanup()
    assert r.returncode == 0 and r.stdout == "done\n", (r.returncode, r.stdout, r.stderr)
    (p,) = report["processes"]
    assert p["ended"] == "exit" and p["events"] > 400000 and p["dropped_events"] == 0, \
        (p["ended"], p["events"], p["dropped_events"])
