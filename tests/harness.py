"""harness.py — the small test framework of libguard's suite.

Each test is a function registered with @test; it runs programs under the
shim, reads the analyzer's JSON and asserts on what a user relies on.  The
runner prints one line per test and closes with 'N passed, N failed'.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
TESTS = []
# Options put in front of every GUARD_OPTIONS the suite sets (--shim-options):
# `make check` runs the whole suite once more with fork_fast=0.
SHIM_OPTIONS = ""


def fork_fast():
    """Is the fork subsystem's fast path on in this run of the suite?"""
    return "fork_fast=0" not in SHIM_OPTIONS.split(":")


def test(fn):
    TESTS.append(fn)
    return fn


def configure(build):
    global BUILD
    BUILD = os.path.abspath(build)


def shim():
    return os.path.join(BUILD, "libguard.so")


def prog(name):
    return os.path.join(BUILD, "testprogs", name)


def analyzer(asan=True):
    """The suite analyzes every log with the ASan+UBSan build: the analyzer
    reads untrusted input and must stay clean on all of it."""
    return os.path.join(BUILD, "guard-analyze-asan" if asan else "guard-analyze")


class LogDir:
    """A fresh log directory, removed after the test unless it failed."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="guard-test.")

    def logs(self):
        return sorted(os.path.join(self.path, f) for f in os.listdir(self.path)
                      if f.startswith("guard.") and f.endswith(".log"))

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def run(argv, env_extra=None, preload=True, options="", log_dir=None, timeout=60, stdin=None):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("GUARD_OPTIONS", None)
    if preload:
        env["LD_PRELOAD"] = shim() if preload is True else preload
    opts = [SHIM_OPTIONS] if SHIM_OPTIONS and preload else []
    if log_dir:
        opts.append("log_dir=" + log_dir)
    if options:
        opts.append(options)
    if opts:
        env["GUARD_OPTIONS"] = ":".join(opts)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL)


ASAN_ENV = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=99"}


def analyze(paths, fmt="json", asan=True, extra=()):
    """Run the analyzer; returns (exit status, parsed JSON or text, stderr).
    A sanitizer report in the analyzer is a test failure, always."""
    if isinstance(paths, str):
        paths = [paths]
    argv = [analyzer(asan), "--format=" + fmt, *extra, *paths]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **ASAN_ENV))
    assert "ERROR: AddressSanitizer" not in r.stderr and "runtime error:" not in r.stderr \
        and "LeakSanitizer" not in r.stderr, "analyzer sanitizer report:\n" + r.stderr[-3000:]
    assert r.returncode in (0, 1, 2), "analyzer died: status %d\n%s" % (r.returncode, r.stderr[-2000:])
    out = r.stdout
    if fmt == "json":
        try:
            out = json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError("analyzer JSON does not parse: %s\n%s" % (e, r.stdout[:2000]))
    return r.returncode, out, r.stderr


def run_and_analyze(name, options="", args=(), extra=()):
    """Run a test program (or an argv list) under the shim in a fresh log
    directory and analyze it: (completed process, analyzer status, report).
    extra: analyzer arguments (--verbose: every process in "processes")."""
    d = LogDir()
    argv = name if isinstance(name, list) else [prog(name), *args]
    r = run(argv, log_dir=d.path, options=options)
    status, report, _ = analyze(d.path, extra=extra)
    d.cleanup()
    return r, status, report


def findings(report, kind=None):
    return [f for f in report["findings"] if kind is None or f["kind"] == kind]


def functions(frames):
    return [f.get("function") for f in frames]


def frame_of(frames, function):
    for f in frames:
        if f.get("function") == function:
            return f
    return None


def source_line(relpath, marker):
    """The 1-based line of the first line of a source file containing marker:
    tests name lines by content so that editing a program does not break
    them."""
    with open(os.path.join(ROOT, relpath)) as fh:
        for i, line in enumerate(fh, 1):
            if marker in line:
                return i
    raise AssertionError("marker %r not in %s" % (marker, relpath))


def assert_frame(frames, function, file_suffix=None, line=None):
    f = frame_of(frames, function)
    assert f is not None, "no frame in %s among %s" % (function, functions(frames))
    if file_suffix:
        assert f.get("file") and f["file"].endswith(file_suffix), \
            "frame %s: file %r, want ...%s" % (function, f.get("file"), file_suffix)
    if line:
        assert f.get("line") == line, "frame %s: line %r, want %d" % (function, f.get("line"), line)
    return f


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("--shim-options", default="",
                    help="GUARD_OPTIONS put in front of every test's own (e.g. fork_fast=0)")
    args = ap.parse_args(argv)
    configure(args.build)
    global SHIM_OPTIONS
    SHIM_OPTIONS = args.shim_options
    if SHIM_OPTIONS:
        print("libguard test suite with GUARD_OPTIONS=%s in front of every test's" % SHIM_OPTIONS)
    passed = failed = 0
    for fn in TESTS:
        if args.pattern and not re.search(args.pattern, fn.__name__):
            continue
        try:
            fn()
        except Exception:  # a test failure of any kind
            failed += 1
            print("FAIL %s" % fn.__name__)
            print("     " + traceback.format_exc().replace("\n", "\n     ").rstrip())
        else:
            passed += 1
            print("ok   %s" % fn.__name__)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0
