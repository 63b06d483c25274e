"""test_immediate_report.py — the report on stderr at the moment of a
finding: frames named with function and file:line by an external
`guard-analyze symbolize`, invisibly to the program, with a fallback to
dladdr's names when the symbolizer cannot run."""
import os
import re
import subprocess
import time

from harness import ASAN_ENV, LogDir, analyzer, prog, run, source_line, test


def frame_line(stderr, function, src, marker):
    """The immediate report's frame in function at src's marked line."""
    want = r"^\s+#\d+ 0x[0-9a-f]+ in %s \S*/testprogs/%s:%d \(" % (
        re.escape(function), re.escape(src), source_line("testprogs/" + src, marker))
    lines = [l for l in stderr.splitlines() if re.match(want, l)]
    assert lines, "no frame /%s/ in the report:\n%s" % (want, stderr)
    return lines[0]


@test
def the_immediate_report_names_function_file_and_line():
    d = LogDir()
    r = run([prog("pool_read_after_put")], log_dir=d.path)
    assert "ERROR: libguard: use-after-return" in r.stderr, r.stderr
    line = frame_line(r.stderr, "checksum", "pool_read_after_put.c", "sum += p[i]")
    assert "(%s+0x" % prog("pool_read_after_put") in line, line  # the module, absolute
    frame_line(r.stderr, "reader", "pool_read_after_put.c", "BUG: the buffer was put back")
    assert "adds file:line" not in r.stderr, r.stderr
    # symbolize=0: dladdr's names only, as before
    r = run([prog("pool_read_after_put")], log_dir=d.path, options="symbolize=0")
    assert "pool_read_after_put.c:" not in r.stderr, r.stderr
    assert re.search(r"#0 0x[0-9a-f]+ \(%s\+0x[0-9a-f]+\)" % re.escape(prog("pool_read_after_put")),
                     r.stderr), r.stderr
    assert "adds file:line" in r.stderr, r.stderr
    d.cleanup()


@test
def a_crash_before_any_unwinder_prints_its_frames_at_once():
    # crash_single never loads libunwind: its stack is copied raw, and the
    # symbolizer unwinds it from the log while the process is dying.
    d = LogDir()
    r = run([prog("crash_single")], log_dir=d.path)
    assert r.returncode == -11, r.returncode
    names = re.findall(r"#\d+ 0x[0-9a-f]+ in (\w+)", r.stderr)
    want = ["parse_header", "load_config", "start_service", "main"]
    assert [n for n in names if n in want] == want, r.stderr
    frame_line(r.stderr, "parse_header", "crash_single.c", "SIGSEGV here")
    d.cleanup()


@test
def the_program_sees_no_child_signal_or_descriptor_of_the_symbolizer():
    # two reports, each running the symbolizer: the program's SIGCHLD
    # handler, wait(-1) and /proc/self/fd see what they see natively
    native = subprocess.run([prog("report_quiet_child")], capture_output=True, text=True)
    d = LogDir()
    r = run([prog("report_quiet_child")], log_dir=d.path)
    assert r.stderr.count("ERROR: libguard: use-after-return") == 2, r.stderr
    frame_line(r.stderr, "touch", "report_quiet_child.c", "BUG: read after put")
    assert r.stdout == native.stdout, (r.stdout, native.stdout)
    assert "sigchld=0 wait=ECHILD" in r.stdout, r.stdout
    logs = d.logs()
    assert len(logs) == 1, "the symbolizer runs without the shim: %s" % logs
    d.cleanup()


@test
def a_symbolizer_that_hangs_or_is_missing_costs_the_report_its_names_only():
    d = LogDir()
    hang = os.path.join(d.path, "hang.sh")
    with open(hang, "w") as fh:
        fh.write("#!/bin/sh\nexec sleep 30\n")
    os.chmod(hang, 0o755)
    t0 = time.monotonic()
    r = run([prog("report_quiet_child")], log_dir=d.path,
            options="symbolizer=%s:symbolize_timeout_ms=300" % hang)
    took = time.monotonic() - t0
    assert r.returncode == 0 and "sigchld=0 wait=ECHILD" in r.stdout, (r.returncode, r.stdout)
    assert r.stderr.count("ERROR: libguard: use-after-return") == 2, r.stderr
    assert "adds file:line" in r.stderr and took < 5, (took, r.stderr)
    ps = subprocess.run(["pgrep", "-f", hang], capture_output=True, text=True)
    assert ps.stdout.strip() == "", "the hung symbolizer was killed: " + ps.stdout
    r = run([prog("report_quiet_child")], log_dir=d.path, options="symbolizer=/nonexistent/x")
    assert r.returncode == 0 and r.stderr.count("ERROR: libguard") == 2, r.stderr
    assert "adds file:line" in r.stderr, r.stderr
    d.cleanup()


@test
def guard_analyze_symbolize_answers_every_request_in_order():
    exe = prog("pool_read_after_put")
    nm = subprocess.run(["nm", exe], capture_output=True, text=True).stdout
    (addr,) = [int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" main")]
    reqs = "%s 0x%x\nnot a request\n/nonexistent 0x10\nSTACK /nonexistent 1\n%s zz\n%s 0x%x\n" % (
        exe, addr, exe, exe, addr)
    r = subprocess.run([analyzer(), "symbolize"], input=reqs, capture_output=True, text=True,
                       env=dict(os.environ, **ASAN_ENV), timeout=60)
    assert r.returncode == 0 and "Sanitizer" not in r.stderr, r.stderr
    answers, cur = [], []
    for line in r.stdout.split("\n")[:-1]:
        if line:
            cur.append(line)
        else:
            answers.append(cur)
            cur = []
    assert cur == [], "the output ends with an answer's empty line: %r" % r.stdout
    assert len(answers) == 6, answers
    assert answers[0][0].startswith("main\t") and "pool_read_after_put.c" in answers[0][0], answers[0]
    assert answers[1] == answers[2] == answers[4] == ["??\t??\t0"], answers
    assert answers[3] == [], "a STACK request for no log: no frame line"
    assert answers[5] == answers[0], answers
    bad = subprocess.run([analyzer(), "symbolize", "x"], capture_output=True, text=True,
                         env=dict(os.environ, **ASAN_ENV))
    assert bad.returncode == 2 and "no arguments" in bad.stderr, bad.stderr
