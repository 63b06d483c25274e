"""test_trace.py — `guard-analyze --format=trace`: the Chrome trace-event JSON
format (Google's "Trace Event Format", JSON Object Format, which Perfetto
and chrome://tracing open), checked against that document's rules."""
import json
import os
import subprocess

from harness import LogDir, ROOT, analyze, prog, run, test
from test_ns import run_in_private_mount_ns, skip_unless_namespaces

# the phases the trace uses, and the fields the format requires of each
PHASES = {"X", "i", "s", "f", "M", "b", "e"}


def trace_of(paths, extra=()):
    status, out, err = analyze(paths, fmt="trace", extra=extra)
    try:
        doc = json.loads(out)
    except ValueError as e:
        raise AssertionError("trace does not parse: %s\n%s" % (e, out[:2000]))
    return status, doc


def check_format(doc):
    """The structure the Trace Event Format documents; returns the events."""
    assert isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list), doc.keys()
    assert doc.get("displayTimeUnit") in ("ms", "ns"), doc.get("displayTimeUnit")
    evs = doc["traceEvents"]
    named_pids, named_tids, used = set(), set(), set()
    for e in evs:
        assert e.get("ph") in PHASES, e
        assert isinstance(e.get("name"), str) and e["name"], e
        assert isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int), e
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index",
                                 "namespace_events_dropped", "pool_lifetimes_dropped"), e
            assert isinstance(e.get("args"), dict), e
            if e["name"] == "process_name":
                assert isinstance(e["args"].get("name"), str) and e["args"]["name"], e
                named_pids.add(e["pid"])
            if e["name"] == "thread_name":
                assert isinstance(e["args"].get("name"), str) and e["args"]["name"], e
                named_tids.add((e["pid"], e["tid"]))
            continue
        assert isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, e
        if e["ph"] == "i":
            assert e.get("s", "t") in ("g", "p", "t"), e
        if e["ph"] in ("s", "f", "b", "e"):
            assert "id" in e and isinstance(e.get("cat"), str), e
        if e["ph"] == "f":
            assert e.get("bp") in (None, "e"), e
        if "args" in e:
            assert isinstance(e["args"], dict), e
        used.add((e["pid"], e["tid"]))
    for pid, tid in used:
        assert pid in named_pids, "pid %d has no process_name" % pid
        assert (pid, tid) in named_tids, "thread %d/%d has no thread_name" % (pid, tid)
    return evs


def lifetimes(evs):
    return {e["pid"]: e for e in evs if e["ph"] == "X" and e.get("cat") == "process"}


@test
def trace_is_the_documented_format_with_processes_spawns_pools_and_findings():
    d = LogDir()
    for name in ("pool_uar", "child_zombie"):
        run([prog(name)], log_dir=d.path)
    status, doc = trace_of(d.path)
    assert status == 1, status
    evs = check_format(doc)
    procs = lifetimes(evs)
    # a process track for each program and each child, named
    names = {e["pid"]: e["args"]["name"] for e in evs if e.get("name") == "process_name"}
    assert any(n.startswith("pool_uar") for n in names.values()), names
    assert sum(n.startswith("child_zombie") for n in names.values()) == 2, names
    assert len(procs) == len(names) >= 4, (procs.keys(), names)
    # findings: instants named by kind, with fingerprint and stacks
    fnd = {e["name"]: e for e in evs if e.get("cat") == "finding"}
    for kind in ("use-after-return", "put-while-child-running", "unreaped-child"):
        assert kind in fnd, fnd.keys()
        e = fnd[kind]
        assert e["ph"] == "i" and e["s"] in ("p", "t"), e
        a = e["args"]
        assert len(a["fingerprint"]) == 32 and a["summary"], a
        assert isinstance(a["stacks"], dict) and a["stacks"], a
        for role, frames in a["stacks"].items():
            assert isinstance(frames, list) and all(isinstance(f, str) for f in frames), a
    assert any(f.startswith("start_helper ") and "child_zombie.c:" in f
               for f in fnd["unreaped-child"]["args"]["stacks"]["spawn"]), fnd["unreaped-child"]
    put = fnd["put-while-child-running"]["args"]["stacks"]
    assert {"put", "get", "spawn"} <= set(put), put.keys()
    # the same fingerprints as the JSON report
    _, report, _ = analyze(d.path)
    assert {f["fingerprint"] for f in report["findings"]} == \
        {e["args"]["fingerprint"] for e in fnd.values()}
    # spawns and reaps on the parent's track, a flow to the child
    spawns = [e for e in evs if e.get("cat") == "process" and e["ph"] == "i"
              and e["name"].startswith("spawn")]
    assert len(spawns) == 2, spawns
    assert any(e["name"] == "reap" for e in evs if e.get("cat") == "process"), evs
    starts = {e["id"]: e for e in evs if e["ph"] == "s"}
    ends = {e["id"]: e for e in evs if e["ph"] == "f"}
    assert len(starts) == 2 and set(starts) == set(ends), (starts, ends)
    for i, s in starts.items():
        f = ends[i]
        assert f["pid"] != s["pid"] and f["ts"] >= s["ts"], (s, f)
        assert f["pid"] in procs
    # a child's events fall within its parent's lifetime, or after its spawn
    parent_of = {p: e["args"].get("parent_pid") for p, e in procs.items()}
    for e in evs:
        if e["ph"] == "M" or not parent_of.get(e["pid"]):
            continue
        par = procs[parent_of[e["pid"]]]
        spawn = min(s["ts"] for s in starts.values() if ends[s["id"]]["pid"] == e["pid"])
        assert e["ts"] >= min(par["ts"], spawn) - 1, (e, par)
        assert e["ts"] >= spawn - 1000 or e["ts"] <= par["ts"] + par["dur"], (e, par)
    # each process's own events within its lifetime (to a microsecond)
    for e in evs:
        if e["ph"] in ("i", "b", "e") and e.get("cat") in ("finding", "pool") and e["pid"] in procs:
            p = procs[e["pid"]]
            assert p["ts"] - 1 <= e["ts"] <= p["ts"] + p["dur"] + 1, (e, p)
    # pool lifetimes: async slices from the get (on the getting thread) to the put
    begins = {e["id"]: e for e in evs if e.get("cat") == "pool" and e["ph"] == "b"}
    ends = {e["id"]: e for e in evs if e.get("cat") == "pool" and e["ph"] == "e"}
    assert begins and set(begins) == set(ends), (begins, ends)
    for i, b in begins.items():
        e = ends[i]
        assert b["name"] == e["name"] == "pool object" and b["pid"] == e["pid"], (b, e)
        assert b["ts"] <= e["ts"] and b["args"]["object"].startswith("0x"), (b, e)
        assert b["tid"] == b["args"]["get_tid"], b
    assert doc["otherData"]["pool_lifetimes"] == len(begins)
    # the object of the use-after-return was got by the main thread and put back
    # before the finding
    uar = fnd["use-after-return"]
    held = [b for b in begins.values() if b["pid"] == uar["pid"] and b["tid"] == uar["pid"]
            and ends[b["id"]]["ts"] <= uar["ts"]]
    assert held and all("put_tid" in b["args"] for b in held), held
    d.cleanup()


@test
def trace_of_a_clean_run_exits_0_and_a_bad_path_2():
    d = LogDir()
    run([prog("child_clean")], log_dir=d.path, options="log_always=1")
    status, doc = trace_of(d.path)
    assert status == 0, status
    evs = check_format(doc)
    assert not [e for e in evs if e.get("cat") == "finding"]
    status, doc = trace_of([os.path.join(d.path, "no-such-dir")])
    assert status == 2, status
    assert any("no-such-dir" in n for n in doc["otherData"]["notes"]), doc["otherData"]
    d.cleanup()


@test
def run_with_guard_writes_a_trace_to_output():
    d = LogDir()
    out = os.path.join(d.path, "f.json")
    r = subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir",
                        os.path.join(d.path, "logs"), "--format", "trace", "--output", out,
                        "--", prog("child_zombie")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "traceEvents" not in r.stdout + r.stderr, r.stdout  # the report is in the file
    doc = json.load(open(out))
    evs = check_format(doc)
    assert any(e.get("name") == "unreaped-child" for e in evs), evs
    d.cleanup()


@test
def trace_keeps_at_most_10000_pool_lifetimes_and_counts_the_rest():
    d = LogDir()
    run([prog("log_flood"), "50"], log_dir=d.path)
    status, doc = trace_of(d.path)
    evs = check_format(doc)
    begins = [e for e in evs if e.get("cat") == "pool" and e["ph"] == "b"]
    other = doc["otherData"]
    assert len(begins) == other["pool_lifetimes"] == 10000, (len(begins), other)
    assert other["pool_lifetimes_dropped"] > 0, other
    (m,) = [e for e in evs if e["ph"] == "M" and e["name"] == "pool_lifetimes_dropped"]
    assert m["args"]["count"] == other["pool_lifetimes_dropped"] and m["args"]["kept"] == 10000
    d.cleanup()


@test
@skip_unless_namespaces
def trace_shows_namespace_changes_on_their_threads():
    d = LogDir()
    run_in_private_mount_ns("ns_offthread_pool", d.path)
    status, doc = trace_of(d.path)
    evs = check_format(doc)
    ns = [e for e in evs if e.get("cat") == "namespace"]
    # unshare(1) itself (the same pid before its exec), then a worker of the program
    (unshare,) = [e for e in ns if e["name"] == "ns-change unshare" and e["tid"] != e["pid"]]
    assert "CLONE_NEWNS" in unshare["args"]["event"] and unshare["s"] == "t", unshare
    assert any(f.startswith("step_unshare ") for f in unshare["args"]["stack"]), unshare
    off = [e for e in ns if e["name"] == "ns-call mount" and "off_thread" in e["args"]]
    assert len(off) == 1 and off[0]["tid"] != unshare["tid"], ns
    assert off[0]["args"]["event"].startswith('mount("'), off[0]
    (f,) = [e for e in evs if e.get("name") == "namespace-off-thread" and "mount" in e["args"]["stacks"]]
    assert f["tid"] == off[0]["tid"] and f["ts"] >= unshare["ts"], (f, off[0])
    d.cleanup()
