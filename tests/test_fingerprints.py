"""test_fingerprints.py — a fingerprint identifies a bug: two abort sites are
two, one cause reached from several binaries is one, and a clean run's JSON
report stays small (only the processes that matter to a finding, all of them
with --verbose)."""
import os
import subprocess

from harness import LogDir, analyze, analyzer, findings, run, test

# A library whose check aborts: the bug is where it is called from.
LIB_CHECK = r"""
#include <stdlib.h>
void fp_check(int ok) { if (!ok) abort(); }
"""

ABORT_SITES = r"""
#include <string.h>
void fp_check(int ok);
__attribute__((noinline)) void load_config(void) { fp_check(0); }
__attribute__((noinline)) void save_state(void) { fp_check(0); }
int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "save") == 0)
        save_state();
    else
        load_config();
    return 0;
}
"""

PLAIN_ABORT = r"""
#include <stdlib.h>
int main(void) { abort(); }
"""

# A library function that starts a helper and never waits for it (GLib's
# GTestDBus: g_test_dbus_up -> g_spawn_async): one bug, wherever it is
# called from.
LIB_SPAWN = r"""
#include <unistd.h>
__attribute__((noinline)) static pid_t fp_spawn_child(char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}
__attribute__((noinline)) int fp_helper_up(char *const *argv)
{
    return fp_spawn_child(argv) > 0 ? 0 : -1;
}
"""

SPAWN_USER = r"""
#include <unistd.h>
int fp_helper_up(char *const *argv);
__attribute__((noinline)) static void %(caller)s(char **argv) { fp_helper_up(argv); }
int main(int argc, char **argv)
{
    (void)argc;
    %(caller)s(argv + 1);   /* BUG (in the library): nobody waits for the helper */
    usleep(300 * 1000);
    return 0;
}
"""


def build(d, name, src, lib=None, shared=False):
    path = os.path.join(d, name + ".c")
    with open(path, "w") as fh:
        fh.write(src)
    out = os.path.join(d, ("lib%s.so" % name) if shared else name)
    argv = ["cc", "-g", "-O0", "-fno-omit-frame-pointer", "-o", out, path]
    if shared:
        argv += ["-fPIC", "-shared"]
    if lib:
        argv += ["-L", d, "-l" + lib, "-Wl,-rpath," + d]
    subprocess.run(argv, check=True)
    return out


@test
def two_abort_sites_are_two_fingerprints_and_one_site_folds():
    d = LogDir()
    build(d.path, "fpcheck", LIB_CHECK, shared=True)
    sites = build(d.path, "fp_sites", ABORT_SITES, lib="fpcheck")
    plain = build(d.path, "fp_plain", PLAIN_ABORT)
    logs = os.path.join(d.path, "logs")
    os.makedirs(logs)
    for arg in ("load", "save", "load"):
        r = run([sites, arg], log_dir=logs, options="verbosity=0")
        assert r.returncode == -6, (arg, r.returncode, r.stderr[-1000:])
    r = run([plain], log_dir=logs, options="verbosity=0")
    assert r.returncode == -6, r.returncode
    status, report, _ = analyze(logs)
    assert status == 1
    crashes = findings(report, "crash")
    assert len(crashes) == 3, [(f["count"], f["summary"]) for f in crashes]
    assert len({f["fingerprint"] for f in crashes}) == 3, [f["fingerprint"] for f in crashes]
    counts = sorted(f["count"] for f in crashes)
    assert counts == [1, 1, 2], counts
    # the same site in another run: the same fingerprint
    again = os.path.join(d.path, "again")
    os.makedirs(again)
    run([sites, "save"], log_dir=again, options="verbosity=0")
    _, rep2, _ = analyze(again)
    (f2,) = findings(rep2, "crash")
    assert f2["fingerprint"] in {f["fingerprint"] for f in crashes}
    d.cleanup()


@test
def one_spawn_cause_from_several_binaries_is_one_fingerprint():
    d = LogDir()
    build(d.path, "fpspawn", LIB_SPAWN, shared=True)
    bins = [build(d.path, "fp_user_%d" % i, SPAWN_USER % {"caller": "test_case_%d" % i}, lib="fpspawn")
            for i in range(4)]
    logs = os.path.join(d.path, "logs")
    os.makedirs(logs)
    prints = set()
    for b in bins:
        one = os.path.join(d.path, "one_" + os.path.basename(b))
        os.makedirs(one)
        for ld in (logs, one):
            r = run([b, "/bin/true"], log_dir=ld, options="verbosity=0")
            assert r.returncode == 0, r.stderr[-1000:]
        _, rep, _ = analyze(one)
        (f,) = findings(rep, "unreaped-child")
        prints.add(f["fingerprint"])
    assert len(prints) == 1, prints
    status, report, _ = analyze(logs)
    (f,) = findings(report, "unreaped-child")
    assert f["count"] == 4 and f["fingerprint"] in prints, (f["count"], f["fingerprint"], prints)
    # another command from the same place is another child: another finding
    other = os.path.join(d.path, "other")
    os.makedirs(other)
    run([bins[0], "/bin/true"], log_dir=other, options="verbosity=0")
    run([bins[0], "/bin/echo", "x"], log_dir=other, options="verbosity=0")
    _, report, _ = analyze(other)
    kids = findings(report, "unreaped-child")
    assert len(kids) == 2 and len({k["fingerprint"] for k in kids}) == 2, \
        [(k["child"], k["fingerprint"]) for k in kids]
    d.cleanup()


def loop_report(n, extra=()):
    d = LogDir()
    r = run(["bash", "-c", "for i in $(seq %d); do /bin/true; done" % n], log_dir=d.path,
            options="log_always=1:verbosity=0", timeout=300)
    assert r.returncode == 0, r.stderr[-1000:]
    status, report, _ = analyze(d.path, extra=extra)
    # the size as written (the non-ASan build: the same text, faster)
    size = len(subprocess.run([analyzer(False), "--format=json", *extra, d.path],
                              capture_output=True).stdout)
    d.cleanup()
    return status, report, size


@test
def a_clean_run_of_many_processes_has_a_small_json_report():
    status, report, size = loop_report(300)
    assert status == 0 and report["findings"] == []
    s = report["summary"]
    assert s["processes"] >= 301, s
    assert s["processes_omitted"] == s["processes"] - len(report["processes"]), s
    assert len(report["processes"]) == 0, len(report["processes"])
    assert size < 100 * 1024, size
    status, full, vsize = loop_report(300, extra=("--verbose",))
    assert len(full["processes"]) == full["summary"]["processes"] >= 301, full["summary"]
    assert full["summary"]["processes_omitted"] == 0
    status, report, size = loop_report(1000)
    assert status == 0 and report["summary"]["processes"] >= 1001 and size < 1024 * 1024, \
        (report["summary"], size)


@test
def processes_of_a_finding_and_their_ancestors_stay_in_the_json():
    d = LogDir()
    build(d.path, "fpspawn", LIB_SPAWN, shared=True)
    b = build(d.path, "fp_user", SPAWN_USER % {"caller": "test_case"}, lib="fpspawn")
    # a shell that runs quiet processes, then the program with the bug
    r = run(["bash", "-c", "for i in 1 2 3 4 5; do /bin/true; done; %s /bin/true; true" % b],
            log_dir=d.path, options="log_always=1:verbosity=0")
    assert r.returncode == 0, r.stderr[-1000:]
    status, report, _ = analyze(d.path)
    (f,) = findings(report, "unreaped-child")
    shown = {p["id"]: p for p in report["processes"]}
    assert f["child"]["process"] in shown, (f["child"], list(shown))
    for p in report["processes"]:
        assert p["parent"] is None or p["parent"] in shown, p
    names = sorted(os.path.basename(p["exe"] or "?") for p in report["processes"])
    assert "fp_user" in names and "true" in names and "bash" in names, names
    assert report["summary"]["processes_omitted"] >= 5, report["summary"]
    d.cleanup()
