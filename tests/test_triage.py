"""test_triage.py — field crashes and nightly runs: the crash flight
recorder, suppressions, baselines, SARIF and JUnit, and run-with-guard
--until-fail on a flaky program."""
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

from harness import (ASAN_ENV, LogDir, ROOT, analyze, analyzer, assert_frame, findings, prog, run,
                     source_line, test)

import harness


def sarif_validator():
    """Microsoft's SARIF multitool, installed by scripts/install-test-tools.sh:
    it checks a log against the official SARIF 2.1.0 schema (JSON1xxx
    errors) and the spec's rules (SARIF1xxx/2xxx)."""
    return os.path.join(harness.BUILD, "tools", "node_modules", ".bin", "sarif-multitool")


def crash_report(name, options="", fmt="json"):
    d = LogDir()
    r = run([prog(name)], log_dir=d.path, options=options)
    status, report, err = analyze(d.path, fmt=fmt)
    d.cleanup()
    return r, status, report


@test
def crash_in_one_of_8_threads_has_all_8_stacks_and_still_dies():
    r, status, report = crash_report("crash_threads")
    assert r.returncode == -11, "dies of its own SIGSEGV: %d" % r.returncode
    (f,) = findings(report, "crash")
    src = "testprogs/crash_threads.c"
    assert_frame(f["stacks"]["crash"], "crasher", src, source_line(src, "BUG: a null pointer"))
    threads = f.get("threads", [])
    assert len(threads) == 8, "8 threads' stacks: %d" % len(threads)
    waiters = [t for t in threads if any(fr.get("function") == "waiter" for fr in t["stack"])]
    assert len(waiters) == 6, [[fr.get("function") for fr in t["stack"]][:4] for t in threads]
    assert f.get("signal") == "SIGSEGV"
    assert "rip" in f.get("registers", {})
    r, status, text = crash_report("crash_threads", fmt="text")
    assert text.count("thread") >= 8 and "SIGSEGV" in text


@test
def crash_before_libunwind_is_loaded_is_unwound_by_the_analyzer():
    # crash_single never makes a call that loads libunwind into it: the
    # crash recorder writes the registers and the stack memory raw, and the
    # analyzer unwinds them (libdwfl) into the same report as ever.
    r, status, report = crash_report("crash_single")
    assert r.returncode == -11, "dies of its own SIGSEGV: %d" % r.returncode
    assert re.search(r"#0 0x[0-9a-f]+ in \w+", r.stderr), r.stderr  # named at once, too
    (f,) = findings(report, "crash")
    src = "testprogs/crash_single.c"
    frames = f["stacks"]["crash"]
    assert_frame(frames, "parse_header", src, source_line(src, "SIGSEGV here"))
    names = [fr.get("function") for fr in frames]
    order = [names.index(n) for n in ("parse_header", "load_config", "start_service", "main")]
    assert order == sorted(order), names
    assert not any("guard" in (fr.get("module") or "") for fr in frames), names


@test
def crash_after_an_unseen_use_after_return_is_linked_to_the_object():
    r, status, report = crash_report("crash_after_uar", options="pool_protect=0")
    assert r.returncode == -11, r.returncode
    (f,) = findings(report, "crash")
    links = " ".join(l if isinstance(l, str) else json.dumps(l) for l in f.get("links", []))
    assert re.search(r"a5a5a5a5a5a5a5a5|poison", links, re.I), links
    assert "buffer_put" in links or "put" in links, links
    assert_frame(f["stacks"]["crash"], "checksum", "testprogs/crash_after_uar.c")


@test
def abort_is_recorded_and_the_status_kept():
    d = LogDir()
    src = os.path.join(d.path, "a.c")
    exe = os.path.join(d.path, "a")
    open(src, "w").write("#include <stdlib.h>\nint main(void){ abort(); }\n")
    subprocess.run(["cc", "-g", "-o", exe, src], check=True)
    r = run([exe], log_dir=d.path)
    assert r.returncode == -6, r.returncode
    status, report, _ = analyze(d.path)
    (f,) = findings(report, "crash")
    assert f.get("signal") == "SIGABRT"
    d.cleanup()


@test
def a_program_that_recovers_from_its_own_segfaults_is_not_a_crash():
    r, status, report = crash_report("segv_handler_after")
    assert r.returncode == 0
    assert not findings(report, "crash"), report["findings"]


def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)
    return path


@test
def suppressions_in_the_analyzer_and_the_shim():
    d = LogDir()
    run([prog("pool_double_put")], log_dir=d.path, options="verbosity=0")
    run([prog("nss_threads")], log_dir=d.path, options="verbosity=0")
    rules = write(os.path.join(d.path, "supp.txt"),
                  "# known, tracked in BUG-1\ndouble-put:parse\nnss-nonreentrant-threads:nss_threads_common.h\n"
                  "use-after-return:never_matches_anything\n")
    status, report, err = analyze(d.path, extra=("--suppressions", rules, "--verbose"))
    assert status == 0 and report["findings"] == [], report["findings"]
    assert "unused suppression" in err and "never_matches_anything" in err, err
    bad = write(os.path.join(d.path, "bad.txt"), "no colon here\n")
    status, _, err = analyze(d.path, extra=("--suppressions", bad))
    assert status == 2 and "bad.txt:1" in err, err
    # the shim: a suppressed finding is neither printed nor halting
    shim_rules = write(os.path.join(d.path, "shim.txt"), "double-put:*/pool_double_put\n")
    logs = os.path.join(d.path, "shimlogs")
    os.makedirs(logs)
    r = run([prog("pool_double_put")], log_dir=logs, options="halt_on_error=1:suppressions=" + shim_rules)
    assert r.returncode == 0 and "ERROR: libguard" not in r.stderr, r.stderr
    status, report, _ = analyze(logs)
    assert status == 0, "the shim's suppression is honoured offline too"
    d.cleanup()


@test
def baseline_reports_only_new_findings_and_what_went_away():
    d = LogDir()
    old_logs, new_logs = os.path.join(d.path, "old"), os.path.join(d.path, "new")
    os.makedirs(old_logs)
    os.makedirs(new_logs)
    run([prog("pool_double_put")], log_dir=old_logs, options="verbosity=0")
    run([prog("child_zombie")], log_dir=old_logs, options="verbosity=0")
    status, old_report, _ = analyze(old_logs)
    for f in old_report["findings"]:
        assert re.fullmatch(r"[0-9a-f]{8,}", f["fingerprint"]), f.get("fingerprint")
    baseline = write(os.path.join(d.path, "baseline.json"), json.dumps(old_report))
    run([prog("pool_double_put")], log_dir=new_logs, options="verbosity=0")   # still there
    run([prog("nss_erange")], log_dir=new_logs, options="verbosity=0")        # new
    status, report, _ = analyze(new_logs, extra=("--baseline", baseline))
    assert status == 1
    assert [f["kind"] for f in report["findings"]] == ["nss-erange-not-retried"], report["findings"]
    gone = report.get("fixed", [])
    assert [g["kind"] for g in gone] == ["unreaped-child"], gone
    only_old = os.path.join(d.path, "same")
    os.makedirs(only_old)
    run([prog("pool_double_put")], log_dir=only_old, options="verbosity=0")
    status, report, _ = analyze(only_old, extra=("--baseline", baseline))
    assert status == 0 and report["findings"] == [], "nothing new: exit 0"
    status, _, err = analyze(only_old, extra=("--baseline", os.path.join(d.path, "missing.json")))
    assert status == 2 and "missing.json" in err
    d.cleanup()


@test
def fingerprint_survives_a_line_shift_and_a_rebuild():
    d = LogDir()
    src = open(os.path.join(ROOT, "testprogs", "pool_double_put.c")).read()
    shifted = os.path.join(d.path, "pool_double_put.c")
    write(shifted, "/* a comment that moves every line down */\n\n\n" + src)
    exe = os.path.join(d.path, "pool_double_put")
    subprocess.run(["cc", "-g", "-O1", "-I", os.path.join(ROOT, "include"), "-I",
                    os.path.join(ROOT, "testprogs"), "-pthread", "-o", exe, shifted], check=True)
    a, b = os.path.join(d.path, "a"), os.path.join(d.path, "b")
    os.makedirs(a)
    os.makedirs(b)
    run([prog("pool_double_put")], log_dir=a, options="verbosity=0")
    run([exe], log_dir=b, options="verbosity=0")
    _, ra, _ = analyze(a)
    _, rb, _ = analyze(b)
    (fa,), (fb,) = findings(ra, "double-put"), findings(rb, "double-put")
    assert fa["stacks"]["put"][1]["line"] != fb["stacks"]["put"][1]["line"], "the lines did move"
    assert fa["fingerprint"] == fb["fingerprint"]
    d.cleanup()


@test
def sarif_is_valid_and_points_at_our_code():
    d = LogDir()
    run([prog("pool_uar")], log_dir=d.path, options="verbosity=0")
    status, text, _ = analyze(d.path, fmt="sarif")
    assert status == 1
    sarif = json.loads(text)
    path = os.path.join(d.path, "report.sarif")
    write(path, text)
    out = os.path.join(d.path, "validation.sarif")
    v = subprocess.run([sarif_validator(), "validate", path, "--output", out, "--log", "ForceOverwrite"],
                       capture_output=True, text=True, timeout=300)
    assert v.returncode == 0, v.stdout + v.stderr
    problems = [(r.get("ruleId"), r.get("message", {})) for r in json.load(open(out))["runs"][0].get("results", [])
                if r.get("level") == "error"]
    assert not problems, "SARIF validator errors: %s\n%s" % (problems, v.stdout[-2000:])
    run0 = sarif["runs"][0]
    rule_ids = {r["id"] for r in run0["tool"]["driver"]["rules"]}
    assert {"use-after-return", "crash", "namespace-off-thread"} <= rule_ids
    uar = [r for r in run0["results"] if r["ruleId"] == "use-after-return"][0]
    loc = uar["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("pool_uar_common.h"), loc
    assert loc["region"]["startLine"] == source_line("testprogs/pool_uar_common.h", "io.Copy into")
    d.cleanup()


@test
def junit_has_a_case_per_kind_and_failures_with_the_report():
    d = LogDir()
    run([prog("pool_double_put")], log_dir=d.path, options="verbosity=0")
    status, text, _ = analyze(d.path, fmt="junit")
    assert status == 1
    root = ET.fromstring(text)
    cases = root.iter("testcase")
    by_name = {c.get("name"): c for c in cases}
    assert "double-put" in by_name and "use-after-return" in by_name, list(by_name)
    assert by_name["double-put"].find("failure") is not None
    assert by_name["use-after-return"].find("failure") is None
    assert "bufpool_put" in ET.tostring(by_name["double-put"], encoding="unicode")
    d.cleanup()


@test
def until_fail_finds_the_one_run_in_five():
    d = LogDir()
    r = subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir", d.path, "--until-fail",
                        "--repeat", "200", "--format", "json", "--output",
                        os.path.join(d.path, "r.json"), prog("flaky_one_in_five")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, r.stderr
    m = re.search(r"run (\d+) of at most 200 failed", r.stderr)
    assert m, r.stderr
    report = json.load(open(os.path.join(d.path, "r.json")))
    assert findings(report, "double-put")
    d.cleanup()


@test
def a_stack_overflow_is_recorded_as_one_on_any_thread():
    # Unbounded recursion on the main thread and on a second one: the
    # SIGSEGV comes with the stack exhausted, so it can only be handled on
    # an alternate signal stack, which the shim gives every thread the
    # program gave none.  Before: no crash record.  20 of 20 each.
    from test_pool import repeat_runs
    for name in ("crash_overflow_main", "crash_overflow_thread"):
        r, status, report = crash_report(name)
        assert r.returncode == -11, (name, r.returncode)
        (f,) = findings(report, "crash")
        assert "a stack overflow" in f["summary"], f["summary"]
        # the fault is at whichever instruction of descend touched the stack first
        src = "testprogs/crash_overflow_common.h"
        assert_frame(f["stacks"]["crash"], "descend", src)
        body = source_line(src, "BUG: no end to it")
        assert body - 3 <= f["stacks"]["crash"][0]["line"] <= body, f["stacks"]["crash"][0]
        status, report = repeat_runs(name)
        fs = findings(report, "crash")
        assert len(fs) == 1 and fs[0]["runs"] == 20, (name, [(x["kind"], x.get("runs")) for x in fs])


@test
def the_programs_view_of_alternate_signal_stacks_is_its_own():
    # The shim's alternate stack reads as none; the program's own, once
    # set, is the one used and reported; SS_DISABLE leaves none.  The same
    # output with and without the shim, on the main thread and another.
    native = run([prog("altstack_view")], preload=False)
    d = LogDir()
    shimmed = run([prog("altstack_view")], log_dir=d.path)
    d.cleanup()
    assert native.stdout.count("handler on it 1") == 2, native.stdout
    assert shimmed.stdout == native.stdout, (native.stdout, shimmed.stdout)


@test
def a_crash_in_a_fork_child_a_sigbus_and_an_assertion_on_a_worker_are_crashes():
    d = LogDir()
    src = os.path.join(d.path, "c.c")
    exe = os.path.join(d.path, "c")
    open(src, "w").write(
        "#define _GNU_SOURCE\n#include <assert.h>\n#include <fcntl.h>\n#include <pthread.h>\n"
        "#include <stdio.h>\n#include <string.h>\n#include <sys/mman.h>\n#include <sys/wait.h>\n"
        "#include <unistd.h>\n"
        "static void *worker(void *a) { assert(a != NULL); return NULL; }\n"
        "int main(int argc, char **argv) {\n"
        "  if (!strcmp(argv[1], \"child\")) { pid_t p = fork(); if (!p) *(volatile int *)0 = 1;\n"
        "    int st; waitpid(p, &st, 0); printf(\"%d\\n\", WTERMSIG(st)); return 0; }\n"
        "  if (!strcmp(argv[1], \"sigbus\")) { int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);\n"
        "    if (ftruncate(fd, 8192)) return 1;\n"
        "    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);\n"
        "    if (ftruncate(fd, 0)) return 1; m[4096] = 1; return 0; }\n"
        "  pthread_t t; pthread_create(&t, 0, worker, NULL); pthread_join(t, 0); return 0; }\n")
    subprocess.run(["cc", "-g", "-pthread", "-o", exe, src], check=True)
    for args, rc, sig in ((["child"], 0, "SIGSEGV"), (["sigbus", os.path.join(d.path, "f")], -7, "SIGBUS"),
                          (["assert"], -6, "SIGABRT")):
        logs = os.path.join(d.path, args[0])
        os.makedirs(logs)
        r = run([exe] + args, log_dir=logs)
        status, report, _ = analyze(logs)
        assert r.returncode == rc, (args, r.returncode, r.stderr)
        (f,) = findings(report, "crash")
        assert f.get("signal") == sig, (args, f.get("signal"))
    d.cleanup()
