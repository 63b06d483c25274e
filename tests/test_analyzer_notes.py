"""test_analyzer_notes.py — the analyzer says what happened, nothing else:
nothing derived against a parent that was itself killed; how a process
without an END record ended, from its parent's wait status; an exec
without a following log noted only for a real gap (a static or setuid
program); a reap whose status was lost said so; a popen child named by its
command; the summary's count of processes that of the tree; a child in a
pid namespace listed once; no long tree for a clean run; and the input
errors of a log directory documented as the reader treats them."""
import os
import re
import shutil
import stat

from harness import ROOT, LogDir, analyze, findings, prog, run, test
from test_ns import skip_unless_namespaces


def analyzed(argv, options="", **kw):
    """Run argv under the shim in a fresh log directory: (completed
    process, JSON report, text report, verbose text report)."""
    d = LogDir()
    r = run(argv, log_dir=d.path, options=options, **kw)
    _, report, _ = analyze(d.path, extra=("--verbose",))
    _, text, _ = analyze(d.path, fmt="text")
    _, verbose, _ = analyze(d.path, fmt="text", extra=("--verbose",))
    d.cleanup()
    return r, report, text, verbose


def notes_about(report, what):
    return [n for n in report["notes"] if what in n]


def tree_section(text):
    """The lines of the text report's "Process tree:" section ([] if none)."""
    lines = text.splitlines()
    if "Process tree:" not in lines:
        return []
    out = []
    for line in lines[lines.index("Process tree:") + 1:]:
        if not line.strip():
            break
        out.append(line)
    return out


def summary_count(text):
    m = re.search(r"in (\d+) process(?:es)?", text.splitlines()[-1])
    assert m, text.splitlines()[-1]
    return int(m.group(1))


# ---- 1. nothing derived against a killed parent ---------------------------

@test
def a_killed_parent_gets_no_derived_unreaped_child():
    # The parent is SIGKILLed after its child exited and before it could
    # wait: it could not reap, so no unreaped-child is made up for it.
    r, report, text, _ = analyzed([prog("notes_raw_exit"), "orphan"])
    assert r.returncode == -9, r.returncode
    assert findings(report, "unreaped-child") == [], [f["summary"] for f in report["findings"]]
    assert not any(f.get("derived") for f in report["findings"]), report["findings"]
    assert not notes_about(report, "derived"), report["notes"]
    assert "derived by the analyzer" not in text, text[-2000:]
    # the shim's own finding stays: a parent that went on and exited
    r, report, _, _ = analyzed([prog("child_zombie")])
    (f,) = findings(report, "unreaped-child")
    assert "zombie" in f["summary"], f["summary"]


# ---- 2. how a process without an END record ended -------------------------

def child_process(report):
    kids = [p for p in report["processes"] if p["spawn"]]
    assert len(kids) == 1, [(p["pid"], p["argv"]) for p in report["processes"]]
    return kids[0]


@test
def a_raw_exit_group_seen_by_the_parent_is_an_exit_not_a_kill():
    r, report, _, verbose = analyzed([prog("notes_raw_exit"), "raw"])
    assert r.returncode == 0 and r.stdout.strip() == "child exited 3", (r.stdout, r.stderr)
    child = child_process(report)
    assert child["has_log"] and child["end_record"] is False, child
    assert child["ended"] == "exit" and child["exit_status"] == 3, child
    assert child["exit_status_from"] == "wait", child
    assert not notes_about(report, "END record"), report["notes"]
    assert "exited with status 3 without the shim seeing it (a raw exit_group?)" in verbose, \
        "\n".join(tree_section(verbose))


@test
def a_child_killed_by_a_signal_is_said_so_from_its_parents_wait_status():
    r, report, _, _ = analyzed([prog("notes_raw_exit"), "signal"])
    assert r.returncode == 0 and r.stdout.strip() == "child killed 9", (r.stdout, r.stderr)
    child = child_process(report)
    assert child["ended"] == "killed", child
    (note,) = notes_about(report, "END record")
    assert child["log"] in note and "killed by signal 9 (SIGKILL)" in note, note
    assert "killed?" not in note, note


@test
def without_evidence_a_log_without_end_is_still_killed_maybe():
    # Its parent (this suite) has no log: nothing says how it ended.
    r, report, _, _ = analyzed([prog("notes_raw_exit"), "self"])
    assert r.returncode == 3, r.returncode
    (p,) = report["processes"]
    assert p["ended"] == "killed?", p
    (note,) = notes_about(report, "END record")
    assert "(process killed?)" in note, note


# ---- 3. an exec with no log after it ----------------------------------------

def exec_notes(report):
    return notes_about(report, "no log of the exec'd program follows")


@test
def a_quiet_dynamic_program_after_exec_gets_no_note():
    # sh logs (it spawned /bin/true), then execs /bin/true, which records
    # nothing and so writes no log: it was quiet, nothing is missing.
    r, report, _, _ = analyzed(["/bin/sh", "-c", "/bin/true; exec /bin/true"])
    assert r.returncode == 0, r.stderr
    (sh,) = [p for p in report["processes"] if p["ended"] == "exec"]
    assert sh["exec_chain"][-1]["exe"] == "/bin/true", sh["exec_chain"]
    assert exec_notes(report) == [], report["notes"]


@test
def an_exec_of_a_static_or_setuid_program_is_noted_as_a_gap():
    static = prog("plain_static")
    r, report, _, _ = analyzed(["/bin/sh", "-c", "/bin/true; exec %s" % static])
    assert r.returncode == 0 and r.stdout.strip() == "42", (r.stdout, r.stderr)
    (note,) = exec_notes(report)
    assert static in note and "a static executable" in note, note
    d = LogDir()
    try:
        setuid = os.path.join(d.path, "setuid_true")
        shutil.copy("/bin/true", setuid)
        os.chmod(setuid, 0o755 | stat.S_ISUID)
        r, report, _, _ = analyzed(["/bin/sh", "-c", "/bin/true; exec %s" % setuid])
        assert r.returncode == 0, r.stderr
        (note,) = exec_notes(report)
        assert setuid in note and "set-user-ID" in note, note
    finally:
        d.cleanup()


# ---- 4. a reap whose status was lost ----------------------------------------

@test
def a_reap_with_a_lost_status_says_status_unknown():
    # waitpid, wait4(-1) and waitid with a status pointer the kernel cannot
    # write: the kernel reaps, the status is lost.  The quiet children
    # write no log: the parent's REAP is all there is.
    r, report, _, verbose = analyzed([prog("wait_bad_status")])
    assert r.returncode == 0, r.stderr
    kids = [p for p in report["processes"] if p["spawn"]]
    assert len(kids) == 3, report["processes"]
    calls = set()
    for k in kids:
        reap = k["reap"]
        assert reap and reap["status"] is None and reap["status_unknown"] is True, reap
        assert k["exit_status"] is None, k
        calls.add((reap["call"], reap["asked_for_pid"]))
    assert calls == {("waitpid", True), ("wait4", False), ("waitid", True)}, calls
    tree = "\n".join(tree_section(verbose))
    assert tree.count("(status unknown)") == 3 and "exited 0" not in tree, tree


# ---- 5. names, counts, pid namespaces, the tree of a clean run --------------

@test
def a_popen_child_is_named_by_its_command():
    r, report, text, _ = analyzed([prog("notes_popen")])
    assert r.stdout.strip() == "from-popen", (r.stdout, r.stderr)
    (f,) = findings(report, "unreaped-child")
    assert f["child"] and f["child"]["command"] == "echo from-popen; sleep 0.05", f["child"]
    assert 'child "echo from-popen; sleep 0.05"' in text, text[:1500]
    assert "child 0" not in text and "pid unknown" not in text, text[:1500]
    # a crash while the stream is open: the crash's link names it too
    r, report, text, _ = analyzed([prog("notes_popen"), "crash"])
    assert r.returncode == -11, r.returncode
    (f,) = findings(report, "crash")
    (link,) = [l for l in f["links"] if l["kind"] == "child"]
    assert link["text"].startswith('child "echo from-popen; sleep 0.05" was started with popen()'), link
    assert "pid unknown" not in text, text[-3000:]


@test
def the_summary_counts_the_processes_of_the_tree():
    # the popen's sh has a log, the sleep it starts has none: both count
    _, report, text, verbose = analyzed([prog("notes_popen")])
    n = len(report["processes"])
    assert n == 3, [(p["pid"], p["argv"]) for p in report["processes"]]
    assert report["summary"]["processes"] == n, report["summary"]
    assert summary_count(text) == n, text.splitlines()[-1]
    assert len(tree_section(verbose)) == n, tree_section(verbose)


@test
def a_clean_run_prints_no_process_tree_unless_asked():
    _, report, text, verbose = analyzed(["/bin/sh", "-c", "/bin/true; /bin/true; /bin/true"])
    assert report["findings"] == [] and len(report["processes"]) == 4, report["processes"]
    assert "Process tree:" not in text, text
    assert summary_count(text) == 4, text
    assert len(tree_section(verbose)) == 4, verbose


@test
def with_findings_the_tree_shows_the_processes_that_matter():
    script = "/bin/true; /bin/true; %s" % prog("child_zombie")
    _, report, text, verbose = analyzed(["/bin/sh", "-c", script])
    assert len(findings(report, "unreaped-child")) == 1, report["findings"]
    tree = tree_section(text)
    assert any("child_zombie" in line for line in tree), tree
    assert not any("→ true" in line for line in tree), tree
    assert "2 more processes" in tree[-1] and "--verbose" in tree[-1], tree
    assert len(tree_section(verbose)) == len(report["processes"]), tree_section(verbose)


@test
@skip_unless_namespaces
def a_child_in_a_pid_namespace_is_listed_once():
    # unshare -p -f: the child is pid 1 in its namespace, its parent knows
    # it by another pid.  Quiet (its exec told to the parent) or with a
    # log of its own (log_always=1), it is one process.
    cmd = "/bin/true; echo $$"
    for options in ("", "log_always=1"):
        r, report, text, _ = analyzed(["unshare", "-p", "-f", "/bin/sh", "-c", cmd],
                                      options=options)
        assert r.returncode == 0 and r.stdout.strip() == "1", (r.stdout, r.stderr)
        shells = [p for p in report["processes"]
                  if any(c["argv"] == ["/bin/sh", "-c", cmd] for c in p["exec_chain"])]
        assert len(shells) == 1, (options, [(p["pid"], p["exec_chain"]) for p in report["processes"]])
        (sh,) = shells
        (unshare,) = [p for p in report["processes"] if p["id"] == sh["parent"]]
        assert sh["pid"] in unshare["children"] and sh["ns_pid"] == 1, (options, sh)
        assert summary_count(text) == len(report["processes"]), text.splitlines()[-1]


# ---- 6. the documentation of the reader's input errors ----------------------

@test
def the_docs_say_how_the_analyzer_reads_logs_defensively():
    with open(os.path.join(ROOT, "docs", "log-format.md")) as fh:
        fmt = fh.read()
    section = fmt[fmt.index("## Reading a log defensively"):]
    for words in ("zeroed", "offset 0", "SEEK_DATA", "hole", "truncated", "symlink loop",
                  "dangling symlink", "FIFO", "directory", "device", "never opened"):
        assert words in section, "log-format.md does not say %r" % words
    assert "status unknown" in fmt.lower() or "STATUS_UNKNOWN" in fmt, "REAP's lost status"
    with open(os.path.join(ROOT, "docs", "man", "guard-analyze.1")) as fh:
        man = fh.read().replace("\\-", "-")
    for words in ("symlink loop", "dangling symlink", "FIFO", "device", "--verbose"):
        assert words in man, "guard-analyze.1 does not say %r" % words
    assert "whole process tree" in man, "guard-analyze.1: which processes the text tree shows"

