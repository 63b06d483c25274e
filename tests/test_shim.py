"""test_shim.py — the shim as a guest in other people's programs: options,
halt_on_error, the weak API without the shim, coexisting SIGSEGV handlers,
hooks called before our constructor, transparency of hooked calls, and
run-with-guard.sh."""
import glob
import json
import os
import re
import subprocess

from harness import LogDir, ROOT, analyze, findings, prog, run, shim, test

ALL_POOL_PROGRAMS = ["pool_uar", "pool_uar_fixed", "pool_late_write", "pool_late_write_fixed",
                     "pool_double_put", "pool_double_put_fixed", "pool_read_after_put",
                     "segv_handler_after", "transparency", "dlopen_uar"]


@test
def option_typos_warn_and_the_program_still_runs():
    d = LogDir()
    # (a program without children: each process that starts under the shim
    # parses the options, and warns, for itself)
    r = run([prog("pool_double_put_fixed")], log_dir=d.path,
            options="halt_on_eror=1:max_frames=zero:verbosity=9:pool_poison=maybe:novalue")
    assert r.returncode == 0, r.stderr
    for key in ["halt_on_eror", "max_frames", "verbosity", "pool_poison", "novalue"]:
        lines = [l for l in r.stderr.splitlines() if key in l and "warning" in l]
        assert len(lines) == 1, "one warning naming %s: %s" % (key, r.stderr)
    assert d.logs(), "a good key (log_dir) next to bad ones still applies"
    d.cleanup()


@test
def halt_on_error_aborts_at_the_first_finding():
    d = LogDir()
    r = run([prog("pool_double_put")], log_dir=d.path, options="halt_on_error=1")
    assert r.returncode == -6, "SIGABRT: %d" % r.returncode
    assert "parse returned" not in r.stdout, "the program stopped at the finding"
    status, report, _ = analyze(d.path)
    assert status == 1 and findings(report, "double-put")
    d.cleanup()


@test
def log_dir_option_and_default_current_directory():
    d = LogDir()
    r = subprocess.run([prog("pool_double_put_fixed")], cwd=d.path, capture_output=True,
                       env=dict(os.environ, LD_PRELOAD=shim()))
    assert r.returncode == 0
    assert glob.glob(os.path.join(d.path, "guard.pool_double_put_fixed.*.log")), os.listdir(d.path)
    d.cleanup()


@test
def annotated_programs_run_unchanged_without_the_shim():
    for name in ALL_POOL_PROGRAMS:
        d = LogDir()
        r = subprocess.run([prog(name)], cwd=d.path, capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        assert r.returncode == 0, "%s without the shim: %d %s" % (name, r.returncode, r.stderr)
        assert "libguard" not in r.stderr
        assert not os.listdir(d.path), "no shim, no log"
        d.cleanup()


@test
def programs_own_segv_handler_installed_after_ours_still_works():
    d = LogDir()
    r = run([prog("segv_handler_after")], log_dir=d.path)
    assert r.returncode == 0, "program's handler saw its own faults: %s %s" % (r.stdout, r.stderr)
    assert "own faults handled: 2" in r.stdout
    status, report, _ = analyze(d.path)
    (f,) = findings(report, "use-after-return")
    assert f["access"] == "read" and f["offset"] == 100
    d.cleanup()


@test
def unhandled_segfault_still_kills_with_sigsegv():
    # a plain crash must look the same under the shim: killed by SIGSEGV
    src = os.path.join(ROOT, "build", "crash_plain.c")
    exe = os.path.join(ROOT, "build", "crash_plain")
    open(src, "w").write("int main(void){ *(volatile int *)16 = 1; return 0; }\n")
    subprocess.run(["cc", "-o", exe, src], check=True)
    d = LogDir()
    r = run([exe], log_dir=d.path)
    assert r.returncode == -11, "SIGSEGV as without the shim: %d" % r.returncode
    d.cleanup()


@test
def short_lived_programs_pay_for_no_unwinder_and_no_log():
    # A program that makes no call the shim has to look at loads neither
    # libunwind nor liblzma, and leaves no log file behind.
    d = LogDir()
    r = run(["cat", "/proc/self/maps"], log_dir=d.path)
    assert r.returncode == 0 and "libguard.so" in r.stdout, r.stdout
    assert "libunwind" not in r.stdout and "liblzma" not in r.stdout, r.stdout
    assert d.logs() == [], d.logs()
    # A program that takes stacks (a pool put) has it loaded by then.
    r = run([prog("pool_uar_fixed")], log_dir=d.path)
    assert r.returncode == 0
    status, report, _ = analyze(d.path, extra=("--verbose",))
    assert status == 0 and report["processes"], report
    d.cleanup()


@test
def hooks_called_from_another_librarys_constructor():
    lib = os.path.join(ROOT, "build", "testprogs", "libearly.so")
    for order in ([shim(), lib], [lib, shim()]):
        d = LogDir()
        r = run([prog("early_ctor")], preload=" ".join(order), log_dir=d.path)
        assert r.returncode == 0 and "main ran" in r.stdout, r.stderr
        status, report, _ = analyze(d.path)
        (f,) = findings(report, "use-after-return")
        assert f["call"] == "write"
        assert f["stacks"]["access"][0]["function"] == "early_init", f["stacks"]["access"][0]
        d.cleanup()


@test
def hooked_calls_return_what_the_real_ones_return():
    d = LogDir()
    r = run([prog("transparency")], log_dir=d.path)
    assert r.returncode == 0 and "transparent" in r.stdout, r.stdout + r.stderr
    r = run([prog("transparency")], preload=False)
    assert r.returncode == 0, "and the same without the shim: " + r.stdout
    d.cleanup()


@test
def the_uar_is_reported_once_and_the_io_still_succeeds():
    # pool_uar under the shim: the child still gets all its input (the
    # write that hit the returned buffer is retried after the report)
    d = LogDir()
    r = run([prog("pool_uar")], log_dir=d.path)
    assert r.returncode == 0 and "job done" in r.stdout
    assert r.stderr.count("ERROR: libguard: use-after-return") == 1, r.stderr
    d.cleanup()


@test
def a_daemon_that_closes_every_fd_keeps_its_files_and_its_log():
    d = LogDir()
    own = os.path.join(d.path, "own.txt")
    logs = os.path.join(d.path, "logs")
    os.makedirs(logs)
    r = run([prog("daemon_closes_fds"), own], log_dir=logs)
    assert r.returncode == 0, r.stderr
    assert open(own).read() == "mine\n", "the shim never writes into the program's files"
    status, report, err = analyze(logs)
    assert status == 1 and findings(report, "double-put"), "logging went on after the close"
    assert "END" not in " ".join(report.get("notes", [])), report.get("notes")
    d.cleanup()


def run_with_guard(*args, env=None):
    return subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, **(env or {})))


@test
def run_with_guard_exit_status_and_formats():
    d = LogDir()
    r = run_with_guard("--log-dir", d.path, "--", prog("pool_double_put"))
    assert r.returncode == 1, "findings: analyzer's status 1, got %d" % r.returncode
    assert "double-put" in r.stderr and "double-put" not in r.stdout, "the report goes to stderr"
    r = run_with_guard("--log-dir", d.path + "/x", "--format=json", prog("pool_double_put_fixed"))
    assert r.returncode == 0, r.stderr
    r = run_with_guard("--log-dir", d.path + "/y", "sh", "-c", "exit 3")
    assert r.returncode == 3, "the command's failure wins: %d" % r.returncode
    r = run_with_guard("--bogus", "true")
    assert r.returncode == 2 and "--bogus" in r.stderr
    # LD_PRELOAD already set: appended, not replaced
    lib = os.path.join(ROOT, "build", "testprogs", "libearly.so")
    r = run_with_guard("--log-dir", d.path + "/z", "--format", "json", prog("early_ctor"),
                       env={"LD_PRELOAD": lib})
    assert r.returncode == 1 and "use-after-return" in r.stderr, r.stdout + r.stderr
    d.cleanup()


@test
def run_with_guard_keeps_stdout_the_commands_and_reports_this_run_only():
    # The command's stdout is the command's, byte for byte (an archive
    # written to stdout); a reused --log-dir reports this run's logs only,
    # earlier ones are moved aside and the user is told; the last stderr
    # line and --status-file say whose exit status it is.
    d = LogDir()
    data = os.urandom(200000)
    src = os.path.join(d.path, "data.bin")
    with open(src, "wb") as fh:
        fh.write(data)
    logs = os.path.join(d.path, "logs")
    r = subprocess.run([os.path.join(ROOT, "run-with-guard.sh"), "--log-dir", logs, "--",
                        "gzip", "-c", src], capture_output=True, timeout=120)
    import gzip
    assert r.returncode == 0 and gzip.decompress(r.stdout) == data, r.stderr[-2000:]
    r = run_with_guard("--log-dir", logs, "--", prog("pool_double_put"))
    assert r.returncode == 1 and "double-put" in r.stderr
    status = os.path.join(d.path, "status")
    r = run_with_guard("--log-dir", logs, "--status-file", status, "--", prog("pool_double_put_fixed"))
    assert r.returncode == 0, "last night's finding is not tonight's: " + r.stderr[-3000:]
    assert "earlier run's logs" in r.stderr and os.path.isdir(os.path.join(logs, "earlier.1")), r.stderr
    assert r.stderr.splitlines()[-1].startswith("run-with-guard: exit 0: "), r.stderr
    assert open(status).read() == "command=0 analyzer=0\n"
    r = run_with_guard("--log-dir", logs, "--status-file", status, "--", "sh", "-c", "exit 2")
    assert r.returncode == 2 and open(status).read() == "command=2 analyzer=0\n", r.stderr
    assert "the command's status" in r.stderr.splitlines()[-1], r.stderr
    d.cleanup()


@test
def run_with_guard_passes_formats_suppressions_and_baselines_to_the_analyzer():
    d = LogDir()
    out = os.path.join(d.path, "r.sarif")
    r = run_with_guard("--log-dir", d.path + "/a", "--format", "sarif", "--output", out, "--",
                       prog("pool_double_put"))
    assert r.returncode == 1 and json.load(open(out))["version"] == "2.1.0", r.stderr
    out = os.path.join(d.path, "r.xml")
    r = run_with_guard("--log-dir", d.path + "/b", "--format=junit", "--output", out, "--",
                       prog("pool_double_put"))
    assert r.returncode == 1 and "<testsuite" in open(out).read(), r.stderr
    rules = os.path.join(d.path, "rules with space.supp")
    with open(rules, "w") as fh:
        fh.write("double-put:*\n")
    r = run_with_guard("--log-dir", d.path + "/c", "--suppressions", rules, "--", prog("pool_double_put"))
    assert r.returncode == 0, r.stderr
    base = os.path.join(d.path, "base.json")
    r = run_with_guard("--log-dir", d.path + "/d", "--format", "json", "--output", base, "--",
                       prog("pool_double_put"))
    r = run_with_guard("--log-dir", d.path + "/e", "--baseline=" + base, "--", prog("pool_double_put"))
    assert r.returncode == 0, "only a new finding fails: " + r.stderr
    r = run_with_guard("--suppressions", os.path.join(d.path, "none"), "true")
    assert r.returncode == 2 and "cannot read" in r.stderr, r.stderr
    d.cleanup()


@test
def run_with_guard_until_fail_stops_at_the_first_failing_run():
    d = LogDir()
    r = run_with_guard("--log-dir", d.path, "--until-fail", "--repeat", "5", prog("pool_late_write"))
    assert r.returncode == 1
    assert "run 1 of at most 5 failed" in r.stderr, r.stderr
    assert sorted(os.listdir(d.path)) == ["run-1"], os.listdir(d.path)
    r = run_with_guard("--log-dir", d.path + "/ok", "--until-fail", "--repeat", "3",
                       prog("pool_late_write_fixed"))
    assert r.returncode == 0 and "3 runs, none failed" in r.stderr, r.stderr
    d.cleanup()


@test
def make_install_honours_prefix_and_destdir():
    d = LogDir()
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", "PREFIX=/opt/lg", "DESTDIR=" + d.path],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    root = d.path + "/opt/lg"
    for f in ["lib/libguard.so", "bin/guard-analyze", "bin/run-with-guard", "include/guard.h",
              "lib/pkgconfig/libguard.pc", "share/doc/libguard/README.md",
              "share/doc/libguard/checks.md", "share/doc/libguard/options.md"]:
        assert os.path.exists(os.path.join(root, f)), f
    for page in glob.glob(os.path.join(ROOT, "docs", "man", "*.[0-9]")):
        section = page.rsplit(".", 1)[1]
        f = os.path.join(root, "share/man/man" + section, os.path.basename(page))
        assert os.path.exists(f), f
    pc = open(os.path.join(root, "lib/pkgconfig/libguard.pc")).read()
    assert "prefix=/opt/lg" in pc
    assert "/opt/lg/lib/libguard.so" in open(os.path.join(root, "bin/run-with-guard")).read()
    d.cleanup()


def _hook_list():
    """The names preload/hook_list.h lists: the one source of the exports."""
    names = set()
    with open(os.path.join(ROOT, "preload", "hook_list.h")) as fh:
        for line in fh:
            m = re.match(r"GUARD_(?:API|HOOK)\((\w+)", line)
            if m:
                names.add(m.group(1))
    return names


@test
def the_shim_exports_exactly_its_hook_list_and_never_calls_its_own_hooks():
    # Only the API and the hooks leave libguard.so, and all of them come
    # from one list.  The shim's own file and process operations are
    # system calls of its own (preload/sys.h): a call through libc to a
    # function it hooks would bind to its own hook (a relocation against
    # that name), re-entering the shim from inside it.
    listed = _hook_list()
    assert {"guard_pool_get", "guard_pool_put", "fork", "open", "read"} <= listed, listed
    syms = subprocess.run(["readelf", "--dyn-syms", "-W", shim()], capture_output=True,
                          text=True).stdout
    exported = {f[7] for f in (line.split() for line in syms.splitlines())
                if len(f) >= 8 and f[6] != "UND" and f[4] in ("GLOBAL", "WEAK")
                and f[3] in ("FUNC", "IFUNC")}
    assert exported == listed, ("exported, not listed: %s; listed, not exported: %s"
                                % (sorted(exported - listed), sorted(listed - exported)))
    relocs = subprocess.run(["readelf", "-rW", shim()], capture_output=True, text=True).stdout
    referenced = {f[4].split("@")[0] for f in (line.split() for line in relocs.splitlines())
                  if len(f) >= 5 and f[0][:1].isalnum() and "R_X86_64" in f[2]}
    assert not (referenced & listed), "the shim calls its own hooks: %s" % sorted(referenced & listed)


@test
def a_plain_build_names_make_deps_and_installs_nothing():
    # `make` never runs apt-get or sudo: when a Debian package is missing it
    # says which and names `make deps`.  A fake dpkg-query says nothing is
    # installed; a fake apt-get and sudo record any call.
    d = LogDir()
    calls = os.path.join(d.path, "calls")
    for name, body in (("dpkg-query", "exit 1"),
                       ("apt-get", "echo apt-get >> %s" % calls),
                       ("sudo", "echo sudo >> %s" % calls)):
        path = os.path.join(d.path, name)
        with open(path, "w") as fh:
            fh.write("#!/bin/sh\n%s\n" % body)
        os.chmod(path, 0o755)
    env = dict(os.environ, PATH=d.path + ":" + os.environ["PATH"])
    r = subprocess.run(["make", "-s", "-C", ROOT, "BUILD=" + os.path.join(d.path, "b"), "all"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode != 0, r.stdout
    assert "make deps" in r.stderr and "libunwind-dev" in r.stderr, r.stderr
    assert not os.path.exists(calls), open(calls).read()
    d.cleanup()


@test
def versions_and_inspects_own_help():
    version = re.search(r"^VERSION := (\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M).group(1)
    r = subprocess.run([os.path.join(ROOT, "build", "guard-analyze"), "--version"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "guard-analyze (libguard) %s\n" % version, r.stdout
    r = run_with_guard("--version")
    assert r.returncode == 0 and r.stdout == "run-with-guard (libguard) %s\n" % version, r.stdout
    r = subprocess.run([os.path.join(ROOT, "build", "guard-analyze"), "inspect", "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: guard-analyze inspect"), r.stdout
    assert "--suppressions" not in r.stdout and "--host" in r.stdout, r.stdout


@test
def run_with_guard_tells_a_quiet_program_from_one_the_shim_cannot_reach():
    d = LogDir()
    r = run_with_guard("--log-dir", d.path + "/a", "--", "/bin/true")
    assert "the shim ran in /bin/true and had nothing to record" in r.stderr, r.stderr
    src, exe = os.path.join(d.path, "s.c"), os.path.join(d.path, "static_hello")
    with open(src, "w") as fh:
        fh.write("int main(void) { return 0; }\n")
    if subprocess.run(["cc", "-static", "-o", exe, src], capture_output=True).returncode == 0:
        r = run_with_guard("--log-dir", d.path + "/b", "--no-supervise", "--", exe)
        assert "the shim cannot reach" in r.stderr and "static" in r.stderr, r.stderr
    d.cleanup()
