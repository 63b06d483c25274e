"""test_ns_timeline.py — the namespace timeline of each process: JSON
`namespaces` (calls, threads, namespaces before -> after, the mount's
namespace, off-thread marks) checked against the findings and against what
the programs themselves saw, and the text report's "Namespace timeline"
section.  The real programs need root and unshare(2) (they skip with a
message elsewhere, like test_ns.py); the bound on kept events is checked
with a log written here."""
import os
import re
import struct

from harness import LogDir, analyze, findings, functions, test
from test_ns import run_in_private_mount_ns, skip_unless_namespaces


def timeline_run(name):
    """Run a namespace test program in a private mount namespace; analyze
    its logs as JSON and as text: (completed process, JSON, text)."""
    d = LogDir()
    r = run_in_private_mount_ns(name, d.path)
    _, report, _ = analyze(d.path, extra=("--verbose",))
    _, text, _ = analyze(d.path, fmt="text")
    d.cleanup()
    return r, report, text


def process(report, pid):
    (p,) = [p for p in report["processes"] if p["pid"] == pid]
    return p


def entries(p, call, tid=None):
    return [e for e in p["namespaces"] if e["call"] == call and (tid is None or e["tid"] == tid)]


def change_of(entry, kind):
    (c,) = [c for c in entry["changes"] if c["kind"] == kind]
    return c


def timeline_section(text, pid):
    m = re.search(r"^Namespace timeline of %d .*?\n(.*?)(?:\n\n|\Z)" % pid, text, re.S | re.M)
    assert m, "no namespace timeline of %d in the text report:\n%s" % (pid, text[-3000:])
    return m.group(1)


def assert_log_order(p):
    times = [e["time_ns"] for e in p["namespaces"] if e["log_index"] == p["namespaces"][-1]["log_index"]]
    assert times == sorted(times), times


@test
@skip_unless_namespaces
def timeline_shows_the_mount_in_the_namespace_another_thread_left():
    r, report, text = timeline_run("ns_offthread_pool")
    assert r.returncode == 0, r.stderr
    (f,) = [f for f in findings(report, "namespace-off-thread") if "mount" in f["stacks"]]
    p = process(report, f["pid"])
    assert_log_order(p)
    # the unshare on the thread the finding names as the other one
    (un,) = entries(p, "unshare", f["other_tid"])
    assert un["flags"] == ["CLONE_NEWNS"] and un["result"] == 0 and un["errno"] is None
    mnt = change_of(un, "mnt")
    assert mnt["before"] != mnt["after"] and mnt["after"].startswith("mnt:["), mnt
    assert "step_unshare" in functions(un["stack"])
    # the bind mount on the finding's thread, in the namespace it had before
    (mo,) = [e for e in entries(p, "mount", f["tid"]) if (e["target"] or "").endswith("/resolv.conf")]
    assert mo["result"] == 0 and mo["changes"] == [] and mo["flags"] == []
    assert mo["mnt"] == mnt["before"] != mnt["after"], (mo["mnt"], mnt)
    assert mo["mnt"] in f["summary"] and mnt["after"] in f["summary"]
    assert mo["mark"] == {"kind": "off-thread", "changed_by": f["other_tid"],
                          "changed_with": "unshare", "expected": mnt["after"]}, mo["mark"]
    assert mo["time_ns"] > un["time_ns"]
    assert "step_mount" in functions(mo["stack"])
    # both workers were started by the main thread, which the timeline names
    creators = {t["tid"]: t["creator"] for t in p["namespace_threads"]}
    assert creators.get(f["tid"]) == creators.get(f["other_tid"]) == p["main_tid"], creators
    assert p["namespaces_dropped"] == 0
    # the forked cat did nothing with namespaces: an empty list, never absent
    for q in report["processes"]:
        assert isinstance(q["namespaces"], list) and "namespace_threads" in q
        if q["pid"] != p["pid"]:
            assert q["namespaces"] == [], q["namespaces"]
    # text: the same story next to the finding
    sec = timeline_section(text, p["pid"])
    assert re.search(r"T%d unshare\(CLONE_NEWNS\) +%s -> %s" % (
        f["other_tid"], re.escape(mnt["before"]), re.escape(mnt["after"])), sec), sec
    (line,) = [ln for ln in sec.splitlines() if "T%d mount(" % f["tid"] in ln]
    assert "resolv.conf" in line and "in " + mo["mnt"] in line and "OFF-THREAD" in line, line
    assert "T%d started by T%d" % (f["tid"], p["main_tid"]) in sec, sec
    assert text.index("ERROR: libguard: namespace-off-thread") < text.index("Namespace timeline")


@test
@skip_unless_namespaces
def dedicated_thread_timeline_has_no_marks():
    r, report, text = timeline_run("ns_offthread_fixed")
    assert r.returncode == 0 and report["findings"] == [], r.stdout + r.stderr
    (p,) = [p for p in report["processes"] if entries(p, "mount")
            and any((e["target"] or "").endswith("/resolv.conf") for e in entries(p, "mount"))]
    (mo,) = [e for e in entries(p, "mount") if e["target"].endswith("/resolv.conf")]
    (un,) = [e for e in entries(p, "unshare", mo["tid"]) if e["log_index"] == mo["log_index"]]
    assert mo["mnt"] == change_of(un, "mnt")["after"]
    assert all(e["mark"] is None for e in p["namespaces"]), p["namespaces"]
    # no findings, and still the timeline
    sec = timeline_section(text, p["pid"])
    assert "unshare(CLONE_NEWNS)" in sec and "OFF-THREAD" not in sec, sec


@test
@skip_unless_namespaces
def proc_self_reader_is_the_thread_that_unshared():
    r, report, text = timeline_run("ns_procself")
    (f,) = findings(report, "proc-self-ns-mismatch")
    p = process(report, f["pid"])
    (un,) = entries(p, "unshare", f["tid"])
    assert un["flags"] == ["CLONE_NEWNET"]
    net = change_of(un, "net")
    # what the program read from /proc/self/ns/net is the main thread's
    # namespace: the one the thread left
    m = re.search(r"-> (net:\[\d+\])", r.stdout)
    assert m and m.group(1) == net["before"] != net["after"], (r.stdout, net)
    sec = timeline_section(text, p["pid"])
    assert "T%d unshare(CLONE_NEWNET)" % f["tid"] in sec and net["after"] in sec, sec


@test
@skip_unless_namespaces
def setns_joiner_and_failed_setns_in_the_timeline():
    r, report, text = timeline_run("ns_setns_threads")
    (f,) = findings(report, "namespace-off-thread")
    p = process(report, f["pid"])
    (join,) = entries(p, "setns", f["other_tid"])
    assert join["flags"] == ["CLONE_NEWNET"] and join["result"] == 0
    net = change_of(join, "net")
    # it joined the helper child's new namespace
    (helper,) = [q for q in report["processes"] if q["parent"] == p["id"] and entries(q, "unshare")]
    assert change_of(entries(helper, "unshare")[0], "net")["after"] == net["after"]
    # setns(CLONE_NEWNS) of a multithreaded process: refused, and said so
    (mnt_join,) = [e for e in entries(p, "setns") if e["flags"] == ["CLONE_NEWNS"]]
    assert mnt_join["result"] == -1 and mnt_join["errno"] == 22 and mnt_join["changes"] == []
    sec = timeline_section(text, p["pid"])
    assert "T%d setns(CLONE_NEWNET)" % f["other_tid"] in sec and "= -1 EINVAL" in sec, sec
    hsec = timeline_section(text, helper["pid"])
    assert "started it with fork" in hsec and "unshare(CLONE_NEWNET)" in hsec, hsec


# ---- the bound, on a log written here ----------------------------------

def rec(rtype, body):
    size = (8 + len(body) + 7) // 8 * 8
    return struct.pack("<HHI", 0xA11C, rtype, size) + body + b"\0" * (size - 8 - len(body))


def event(t, tid, kind, args, payload=b""):
    return rec(5, struct.pack("<QIHHII4Q", t, tid, kind, len(payload), 0, 0, *args) + payload)


def write_log(path, pid, events):
    hdr = struct.pack("<QIIIIQQII2Q", 0x474f4c4452415547, 1, 64, pid, 1, 0, 1000, 0, 4096, 0, 0)
    exe = b"/bin/synthetic"
    proc = rec(2, struct.pack("<6I", 1, len(exe), len(exe) + 1, 0, pid, 0) + exe + exe + b"\0")
    end = rec(8, struct.pack("<QiI", 10 ** 9, 0, 0))
    with open(path, "wb") as fh:
        fh.write(hdr + proc + b"".join(events) + end)


@test
def timeline_is_bounded_and_counts_what_it_left_out():
    pid, worker, other = 4242, 4243, 4244
    ns = lambda before, after: struct.pack("<16Q", *before, *after)
    root = [4026531840 + k for k in range(8)]
    new = list(root)
    new[0] = 4026532999
    evs = [event(2000, worker, 17, (pid, 0, 0, 0)), event(2001, other, 17, (pid, 0, 0, 0)),
           event(3000, worker, 15, (1, 0x20000, 0, 0), ns(root, new)),
           # a torn payload: no namespaces, no crash
           event(3001, worker, 15, (1, 0x20000, 0, 0), b"\1\2\3"),
           event(3002, worker, 15, (2, 0x40000000, 2 ** 64 - 1, 1), ns(root, root))]
    n_mounts = 300
    for i in range(n_mounts):
        evs.append(event(4000 + i, other, 16, (4, 0, 0, root[0]), b"/mnt/%d" % i))
    d = LogDir()
    write_log(os.path.join(d.path, "guard.synthetic.%d.log" % pid), pid, evs)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    _, text, _ = analyze(d.path, fmt="text")
    d.cleanup()
    (p,) = report["processes"]
    tl = p["namespaces"]
    assert len(tl) == 256 and p["namespaces_dropped"] == 3 + n_mounts - 256, (len(tl), p["namespaces_dropped"])
    assert [e["call"] for e in tl[:3]] == ["unshare", "unshare", "setns"]
    assert change_of(tl[0], "mnt") == {"kind": "mnt", "before": "mnt:[4026531840]",
                                       "after": "mnt:[4026532999]"}
    assert tl[1]["changes"] == [] and tl[2]["changes"] == [] and tl[2]["result"] == -1 and tl[2]["errno"] == 1
    assert tl[3]["target"] == "/mnt/0" and tl[3]["mnt"] == "mnt:[4026531840]"
    assert all(e["mark"]["kind"] == "off-thread" and e["mark"]["changed_by"] == worker for e in tl[3:])
    assert {t["tid"]: t["creator"] for t in p["namespace_threads"]} == {worker: pid, other: pid}
    sec = timeline_section(text, pid)
    assert "47 more namespace events not kept (47 of them OFF-THREAD)" in sec, sec
    assert "(namespaces not recorded)" in sec and "setns(CLONE_NEWNET) = -1 EPERM" in sec, sec


@test
@skip_unless_namespaces
def one_thread_per_container_each_mount_in_its_own_namespace():
    r, report, text = timeline_run("ns_two_containers")
    assert r.returncode == 0 and report["findings"] == [], r.stdout + r.stderr
    (p,) = [p for p in report["processes"] if entries(p, "unshare")]
    last = p["namespaces"][-1]["log_index"]  # the program's image (unshare(1) exec'd it)
    unshares = [e for e in entries(p, "unshare") if e["log_index"] == last]
    assert len(unshares) == 2, unshares
    news = set()
    for un in unshares:
        mnt = change_of(un, "mnt")
        (mo,) = [e for e in entries(p, "mount", un["tid"]) if (e["target"] or "").endswith("/resolv.conf")]
        # the bind mount ran in the namespace its own thread had just made
        assert mo["mnt"] == mnt["after"] != mnt["before"] and mo["mark"] is None, (mo, mnt)
        news.add(mnt["after"])
    assert len(news) == 2, news
    assert all(e["mark"] is None for e in p["namespaces"]), p["namespaces"]
    assert "OFF-THREAD" not in timeline_section(text, p["pid"])


@test
@skip_unless_namespaces
def a_visit_to_a_netns_and_back_in_the_timeline():
    r, report, text = timeline_run("ns_netns_excursion")
    assert r.returncode == 0 and report["findings"] == [], r.stdout + r.stderr
    (p,) = [p for p in report["processes"] if entries(p, "setns")]
    visits = entries(p, "setns")
    assert len(visits) == 6 and len({e["tid"] for e in visits}) == 1, visits
    host = change_of(visits[0], "net")["before"]
    for i, e in enumerate(visits):
        net = change_of(e, "net")
        assert e["result"] == 0 and net["before"] != net["after"], e
        assert (net["after"] == host) == (i % 2 == 1), (i, net, host)  # there, and back


# ---- the analyzer's judgement, on logs written here ---------------------

MS_BIND, MS_REC, MS_PRIVATE = 4096, 1 << 14, 1 << 18


def mount_event(t, tid, ino, target, flags=None, verdict=None):
    """An NS_CALL mount; with flags, the shim's tail after the target
    (verdict: (tid, ino) of the move the shim found it left behind by)."""
    payload = target
    if flags is not None:
        by_tid, by_ino = verdict or (0, 0)
        payload += b"\0" + struct.pack("<QQII", flags, by_ino, by_tid, 1 if by_tid else 0)
    return event(t, tid, 16, (4, 0, 0, ino), payload)


@test
def timeline_marks_follow_the_shims_verdict_or_else_the_rule():
    pid, worker, other, helper = 5252, 5253, 5254, 5255
    ns = lambda before, after: struct.pack("<16Q", *before, *after)
    root = [4026531840 + k for k in range(8)]
    new = list(root)
    new[0] = 4026532999
    evs = [event(2000, worker, 17, (pid, 0, 0, 0)), event(2001, other, 17, (pid, 0, 0, 0)),
           event(3000, worker, 15, (1, 0x20000, 0, 0), ns(root, new)),
           # making the new tree private sets it up: the move is still pending
           mount_event(3001, worker, new[0], b"/", MS_REC | MS_PRIVATE),
           mount_event(3002, other, root[0], b"/a"),                         # 3: off-thread
           event(3003, helper, 17, (worker, 0, 0, 0)),
           mount_event(3004, helper, new[0], b"/b"),                         # 5: inherited
           mount_event(3005, worker, new[0], b"/c", MS_BIND),                # the job's first step
           mount_event(3006, other, root[0], b"/d"),                         # 7: after it: none
           # the shim's verdict wins over the order of the log
           mount_event(3007, other, root[0], b"/e", 0, (worker, new[0])),    # 8: off-thread
           event(3008, other, 15, (2, 0x20000, 0, 0), ns(root, new)),         # other joins too
           event(3009, other, 15, (2, 0x20000, 0, 0), ns(new, root)),         # and goes back
           mount_event(3010, other, root[0], b"/f", 0)]                      # 11: verdict: none
    d = LogDir()
    write_log(os.path.join(d.path, "guard.synthetic.%d.log" % pid), pid, evs)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    _, text, _ = analyze(d.path, fmt="text")
    d.cleanup()
    (p,) = report["processes"]
    tl = p["namespaces"]
    marks = {e["target"]: e["mark"] for e in tl if e["call"] == "mount"}
    off = {"kind": "off-thread", "changed_by": worker, "changed_with": "unshare",
           "expected": "mnt:[4026532999]"}
    assert marks["/"] is None and marks["/c"] is None, marks
    assert marks["/a"] == off and marks["/e"] == off, marks
    assert marks["/b"] == dict(off, kind="other-thread"), marks
    assert marks["/d"] is None and marks["/f"] is None, marks
    # the flags after the target are not part of it
    assert [e["target"] for e in tl if e["call"] == "mount"] == ["/", "/a", "/b", "/c", "/d", "/e", "/f"]
    sec = timeline_section(text, pid)
    assert sec.count("OFF-THREAD") == 2, sec
