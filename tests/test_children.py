"""test_children.py — child processes: unreaped-child, put-while-child-running,
fork-unsafe-call, the process tree, transparency of the spawn/wait hooks,
and real programs that spawn a lot running clean under the shim."""
import os
import subprocess
import time
import sys

from harness import run_and_analyze, LogDir, ROOT, analyze, assert_frame, findings, functions, prog, run, shim, source_line, test
from test_pool import repeat_runs


@test
def zombie_child_is_unreaped():
    r, status, report = run_and_analyze("child_zombie")
    assert r.returncode == 0
    (f,) = findings(report, "unreaped-child")
    assert "zombie" in f["summary"] and "exited with status 7" in f["summary"], f["summary"]
    src = "testprogs/child_zombie.c"
    assert_frame(f["stacks"]["spawn"], "start_helper", src, source_line(src, "pid_t pid = fork();"))
    assert len(report["findings"]) == 1


@test
def killed_but_not_waited_child_says_so():
    r, status, report = run_and_analyze("child_kill_nowait")
    (f,) = findings(report, "unreaped-child")
    assert "kill()" in f["summary"] and "sleep" in f["summary"], f["summary"]
    assert_frame(f["stacks"]["spawn"], "main", "testprogs/child_kill_nowait.c",
                 source_line("testprogs/child_kill_nowait.c", "posix_spawnp(&pid"))


@test
def every_way_of_reaping_is_clean():
    r, status, report = run_and_analyze("child_clean")
    assert r.returncode == 0 and "all children reaped" in r.stdout, r.stdout + r.stderr
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]


@test
def put_while_child_running_is_the_root_cause_of_pool_uar():
    r, status, report = run_and_analyze("pool_child_put")
    assert r.returncode == 0
    (f,) = findings(report, "put-while-child-running")
    src = "testprogs/pool_child_common.h"
    assert_frame(f["stacks"]["put"], "main", src, source_line(src, "BUG: the command may not be done"))
    assert_frame(f["stacks"]["get"], "main", src)
    assert_frame(f["stacks"]["spawn"], "main", src, source_line(src, "pid_t child = fork();"))
    r, status, report = run_and_analyze("pool_child_put_fixed")
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def fork_unsafe_nss_call_in_child_of_threaded_parent():
    r, status, report = run_and_analyze("fork_nss_child")
    assert r.returncode == 0
    (f,) = findings(report, "fork-unsafe-call")
    assert f["call"] == "getpwuid_r"
    assert_frame(f["stacks"]["call"], "main", "testprogs/fork_nss_common.h",
                 source_line("testprogs/fork_nss_common.h", "BUG: not async-signal-safe"))
    r, status, report = run_and_analyze("fork_nss_child_fixed")
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def child_checks_fire_20_of_20_and_twins_never():
    for name, kind in [("child_zombie", "unreaped-child"), ("child_kill_nowait", "unreaped-child"),
                       ("child_pidfd_kill_nowait", "unreaped-child"),
                       ("pool_child_put", "put-while-child-running"),
                       ("pool_system_thread", "put-while-child-running"),
                       ("fork_nss_child", "fork-unsafe-call")]:
        status, report = repeat_runs(name)
        fs = findings(report, kind)
        assert len(fs) == 1 and fs[0]["runs"] == 20, "%s: %s" % (name, [(f["kind"], f.get("runs")) for f in report["findings"]])
    for name in ["child_clean", "child_let_go", "pool_child_put_fixed", "pool_system_thread_fixed",
                 "fork_nss_child_fixed"]:
        status, report = repeat_runs(name)
        assert status == 0 and report["findings"] == [], "%s: %s" % (name, report["findings"])


@test
def programs_that_reap_or_let_go_in_every_way_are_not_flagged():
    # Each scenario of child_let_go is a way real programs reap a child
    # (raw system calls, pidfds, a SIGCHLD handler, signalfd, a reaper
    # thread, SIGCHLD ignored later, a bad status pointer, a subreaper, a
    # new image after exec) or let it go on purpose (setsid, a double
    # fork, a background job).  The kernel's view is asked at exit.
    r, status, report = run_and_analyze("child_let_go")
    assert r.returncode == 0 and "16 scenarios" in r.stdout, r.stdout + r.stderr
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]
    # A pthread_atfork handler that kills and reaps an earlier child inside
    # the fork: recorded, no finding.
    r, status, report = run_and_analyze("atfork_reaps")
    assert "reaped in the atfork handler" in r.stdout, r.stdout + r.stderr
    assert status == 0 and report["findings"] == [], [f["summary"] for f in report["findings"]]
    assert all(p.get("reap") for p in report["processes"] if p.get("spawn")), report["processes"]
    r, status, report = run_and_analyze("child_pidfd_kill_nowait")
    (f,) = findings(report, "unreaped-child")
    assert "signal 15" in f["summary"] and "zombie" in f["summary"], f["summary"]


@test
def a_vfork_child_waiting_on_its_parents_memory_changes_nothing_for_the_other_threads():
    # One thread vforks, another clones with CLONE_VM | CLONE_VFORK; both
    # children wait before they exec, and meanwhile main exits with 3.  The
    # children run on their parents' memory: the exit must still be the
    # parent's, recorded (it was "killed?" when the children's mark was
    # process-wide).
    d = LogDir()
    r = run([prog("vfork_threads")], log_dir=d.path)
    time.sleep(0.6)
    status, report, _ = analyze(d.path, extra=("--verbose",))
    d.cleanup()
    assert r.returncode == 3 and r.stdout == "exiting\n", (r.returncode, r.stdout, r.stderr)
    (p,) = [p for p in report["processes"] if p["exe"].endswith("vfork_threads")]
    assert p["ended"] == "exit" and p["exit_status"] == 3, p
    assert status == 0 and report["findings"] == [], report["findings"]


@test
def real_programs_that_let_children_go_are_not_flagged():
    # Shells' background jobs, setsid -f, a daemon that forks itself away,
    # a new session from Python, timeout killing a shell, make -j2 and
    # xargs -P4, under the wrapper: no finding.
    d = LogDir()
    logs = os.path.join(d.path, "logs")
    os.makedirs(logs)
    sock = os.path.join(d.path, "bus")
    cases = [
        ["sh", "-c", "sleep 0.3 & echo started"],
        ["bash", "-c", "sleep 0.3 & disown; echo started"],
        ["sh", "-c", "true & true & sleep 0.2; echo done"],
        ["setsid", "-f", "sleep", "0.3"],
        [sys.executable, "-c", "import subprocess, time\n"
         "subprocess.Popen(['true'], start_new_session=True)\ntime.sleep(0.3)"],
        ["timeout", "-s", "KILL", "0.3", "sh", "-c", "sleep 5"],
        ["sh", "-c", "printf '1\\n2\\n3\\n4\\n5\\n6\\n' | xargs -P4 -n1 sleep 0.0$1"],
        ["make", "-s", "-j2", "-f", os.path.join(d.path, "Makefile")],
        ["dbus-daemon", "--session", "--fork", "--print-pid", "--address=unix:path=" + sock],
    ]
    with open(os.path.join(d.path, "Makefile"), "w") as fh:
        fh.write("all: a b\na:\n\tsleep 0.1\nb:\n\tsleep 0.1\n")
    for argv in cases:
        r = run(argv, log_dir=logs, timeout=60)
        if argv[0] == "dbus-daemon":
            assert r.stdout.strip().isdigit(), r.stdout + r.stderr
            os.kill(int(r.stdout.strip()), 15)
    time.sleep(0.6)
    status, report, err = analyze(logs)
    d.cleanup()
    assert status == 0, [f["summary"] for f in report["findings"]]


@test
def thousand_forks_from_8_threads_no_deadlock_no_lost_child():
    d = LogDir()
    r = run([prog("fork_storm")], log_dir=d.path, timeout=120)
    assert r.returncode == 0 and "reaped 1000" in r.stdout, r.stdout + r.stderr
    status, report, _ = analyze(d.path, extra=("--verbose",))
    assert status == 0 and report["findings"] == [], report["findings"][:2]
    parent = [p for p in report["processes"] if p["ppid"] == os.getpid()]
    assert len(parent) == 1
    kids = [p for p in report["processes"] if p["ppid"] == parent[0]["pid"]]
    assert len(kids) == 1000, "every child is in the tree: %d" % len(kids)
    assert all(p.get("reap") for p in kids), "every child's reap was recorded"
    d.cleanup()


@test
def exit_statuses_and_signals_are_unchanged_under_the_shim():
    script = ("import os,signal,sys\n"
              "pid=os.fork()\n"
              "if pid==0: os._exit(42)\n"
              "_,st=os.waitpid(pid,0)\n"
              "assert os.WIFEXITED(st) and os.WEXITSTATUS(st)==42, st\n"
              "pid=os.fork()\n"
              "if pid==0:\n"
              "    os.kill(os.getpid(), signal.SIGTERM)\n"
              "_,st=os.waitpid(pid,0)\n"
              "assert os.WIFSIGNALED(st) and os.WTERMSIG(st)==signal.SIGTERM, st\n"
              "try:\n"
              "    os.waitpid(-1, 0)\n"
              "    raise SystemExit('no child left, must fail')\n"
              "except ChildProcessError as e:\n"
              "    assert e.errno == 10\n"
              "sys.exit(3)\n")
    d = LogDir()
    r = run([sys.executable, "-c", script], log_dir=d.path)
    assert r.returncode == 3, (r.returncode, r.stderr)
    r = run(["sh", "-c", "kill -USR1 $$"], log_dir=d.path)
    assert r.returncode == -10, r.returncode
    d.cleanup()


@test
def real_programs_that_spawn_a_lot_run_clean():
    d = LogDir()
    work = os.path.join(d.path, "proj")
    os.makedirs(work)
    with open(os.path.join(work, "Makefile"), "w") as fh:
        fh.write("all: a b c d\n"
                 "a b c d:\n\techo $@ > $@.out && cat $@.out | tr a-z A-Z > $@\n"
                 "clean:\n\trm -f a b c d *.out\n")
    logs = os.path.join(d.path, "logs")
    os.makedirs(logs)
    cases = [
        ["bash", "-c", "seq 1 2000 | grep 7 | sort -r | head -3 | wc -l"],
        ["make", "-s", "-j2", "-C", work],
        [sys.executable, "-c",
         "import subprocess\n"
         "out = subprocess.run(['sh','-c','echo hi; exit 4'], capture_output=True)\n"
         "assert out.returncode == 4 and out.stdout == b'hi\\n'\n"
         "p = subprocess.Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
         "assert p.communicate(b'x'*100000)[0] == b'x'*100000\n"
         "print(subprocess.check_output(['ls', '/']).count(b'\\n') > 3)\n"],
    ]
    for argv in cases:
        plain = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        subprocess.run(["make", "-s", "-C", work, "clean"], capture_output=True)
        guarded = run(argv, log_dir=logs, timeout=120)
        subprocess.run(["make", "-s", "-C", work, "clean"], capture_output=True)
        assert guarded.returncode == plain.returncode == 0, (argv, guarded.stderr)
        assert guarded.stdout == plain.stdout, (argv, guarded.stdout, plain.stdout)
        assert "libguard" not in guarded.stderr, guarded.stderr
    status, report, err = analyze(logs, extra=("--verbose",))
    assert status == 0, [f["summary"] for f in report["findings"]]
    assert len(report["processes"]) >= 15, "the shim followed the children: %d" % len(report["processes"])
    d.cleanup()


@test
def process_tree_in_json_and_text():
    d = LogDir()
    r = run([prog("pool_uar")], log_dir=d.path, options="verbosity=0")
    assert r.returncode == 0
    status, report, _ = analyze(d.path)
    procs = {p["pid"]: p for p in report["processes"]}
    (root,) = [p for p in procs.values() if p["ppid"] == os.getpid()]
    assert root["exe"].endswith("pool_uar")
    (child,) = [p for p in procs.values() if p["ppid"] == root["pid"]]
    assert child["exe"].endswith("gzip"), child["exe"]
    assert child["spawn"]["kind"] == "fork"
    assert_frame(child["spawn"]["stack"], "start_child", "testprogs/pool_uar_common.h")
    assert child["reap"] and child["reap"]["status"] == {"exited": 0}, child["reap"]
    assert child["pid"] in root["children"]
    status, text, _ = analyze(d.path, fmt="text")
    assert "Process tree" in text and "gzip" in text, text[-1500:]
    d.cleanup()


@test
def child_without_a_log_still_shown_from_the_parents_records():
    d = LogDir()
    static = prog("plain_static")  # a static child never loads the shim
    r = run([sys.executable, "-c", "import subprocess,sys; subprocess.run([sys.argv[1]])", static],
            log_dir=d.path)
    assert r.returncode == 0
    status, report, _ = analyze(d.path, extra=("--verbose",))
    kids = [p for p in report["processes"] if p.get("spawn") and p["exe"] and "plain_static" in (
        p["exe"] + " ".join(p.get("argv") or []))]
    assert kids, [(p["pid"], p["exe"]) for p in report["processes"]]
    d.cleanup()


@test
def a_fork_site_reused_with_other_callers_above_gives_each_child_its_own_stack():
    # The shim keeps a fork site's frames and reuses them while they are
    # still on the stack (preload/fork/site.c).  40 forks from one call, at
    # one stack pointer, through two callers (frame 2) from four lines of
    # main (frame 3), alternating: each child's spawn stack is its own.
    src = "testprogs/fork_site_reused.c"
    d = LogDir()
    r = run([prog("fork_site_reused")], log_dir=d.path)
    assert r.returncode == 0, r.stderr
    pids = [int(x) for x in r.stdout.split()]
    assert len(pids) == 40, r.stdout
    status, report, _ = analyze(d.path, extra=("--verbose",))
    procs = {p["pid"]: p for p in report["processes"]}
    callers = [("via_a", "CALL_FROM_A", "MAIN_A1"), ("via_b", "CALL_FROM_B", "MAIN_B1"),
               ("via_a", "CALL_FROM_A", "MAIN_A2"), ("via_b", "CALL_FROM_B", "MAIN_B2")]
    for n, pid in enumerate(pids):
        stack = procs[pid]["spawn"]["stack"]
        via, via_line, main_line = callers[n % 4]
        assert functions(stack)[:4] == ["do_fork", "spawn_child", via, "main"], (n, functions(stack))
        assert_frame(stack, "do_fork", src, source_line(src, "FORK_SITE"))
        assert_frame(stack, "spawn_child", src, source_line(src, "CALL_DO_FORK"))
        assert_frame(stack, via, src, source_line(src, via_line))
        assert_frame(stack, "main", src, source_line(src, main_line))
    d.cleanup()


@test
def a_forked_childs_exec_stack_is_where_it_called_exec():
    # Children that exec without a log tell their parent where they called
    # exec (CHILD_EXEC).  "direct" execs in the function that forked: the
    # shim builds its stack from the fork's, with no unwinder in the child;
    # "helper" execs one call deeper: the child unwinds.  Both must read as
    # the real call chain, line for line, every run.  "thread" is "direct"
    # off the main thread's stack, which the child copies with a system
    # call rather than a plain copy.
    src = "testprogs/exec_sites.c"
    for attempt in range(5):
        d = LogDir()
        r = run([prog("exec_sites")], log_dir=d.path)
        assert r.returncode == 0, r.stderr
        assert len(d.logs()) == 1, "only the parent writes a log: %s" % d.logs()
        status, report, _ = analyze(d.path, extra=("--verbose",))
        told = {p["argv"][-1]: p["exec_chain"][-1] for p in report["processes"]
                if p["exec_chain"] and p["exec_chain"][-1]["log"] is None}
        assert set(told) == {"direct", "helper", "again", "stale", "thread"}, report["processes"]
        direct = told["direct"]["stack"]
        assert functions(direct)[:2] == ["spawn_direct", "main"], functions(direct)
        assert_frame(direct, "spawn_direct", "exec_sites.c", source_line(src, "EXEC_DIRECT"))
        thread = told["thread"]["stack"]
        assert functions(thread)[:2] == ["spawn_from_thread", "spawning_thread"], functions(thread)
        assert_frame(thread, "spawn_from_thread", "exec_sites.c", source_line(src, "EXEC_FROM_THREAD"))
        assert_frame(thread, "spawning_thread", "exec_sites.c", source_line(src, "CALL_FROM_THREAD"))
        helper = told["helper"]["stack"]
        assert functions(helper)[:3] == ["exec_true_from_helper", "spawn_via_helper", "main"], \
            functions(helper)
        assert_frame(helper, "exec_true_from_helper", "exec_sites.c", source_line(src, "EXEC_IN_HELPER"))
        assert_frame(helper, "spawn_via_helper", "exec_sites.c", source_line(src, "CALL_HELPER"))
        again = told["again"]["stack"]
        assert functions(again)[:3] == ["fork_or_exec", "spawn_then_call_again", "main"], \
            functions(again)
        assert_frame(again, "fork_or_exec", "exec_sites.c", source_line(src, "EXEC_AGAIN"))
        assert_frame(again, "spawn_then_call_again", "exec_sites.c", source_line(src, "CALL_AGAIN"))
        stale = [p["exec_chain"][-1]["stack"] for p in report["processes"]
                 if p["argv"] and p["argv"][-1] == "stale"]
        assert len(stale) == 41, len(stale)
        for stack in stale:
            assert functions(stack)[:4] == ["exec_stale", "stale_helper", "spawn_over_stale_frames",
                                            "main"], functions(stack)
            assert_frame(stack, "stale_helper", "exec_sites.c", source_line(src, "CALL_STALE"))
            assert_frame(stack, "spawn_over_stale_frames", "exec_sites.c",
                         source_line(src, "CALL_STALE_HELPER"))
        d.cleanup()


@test
def exec_of_a_child_outliving_its_parent_or_in_a_new_pid_namespace_is_shown():
    # The exec board loses nothing: a child that execs after its parent
    # exited says it in its own log; a child in a new PID namespace (pid 1
    # there) is found under the key its parent gave the fork, not its pid.
    import time
    d = LogDir()
    r = run([prog("exec_told_late"), "orphan"], log_dir=d.path, options="verbosity=0")
    assert r.returncode == 0, r.stderr
    deadline = time.time() + 5
    while len(d.logs()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)  # the child's log is complete once /bin/true has run
    status, report, _ = analyze(d.path, extra=("--verbose",))
    (orphan,) = [p for p in report["processes"] if p["ppid"] != os.getpid()]
    assert orphan["exe"] == "/bin/true" and orphan["argv"] == ["true", "orphan"], orphan
    d.cleanup()

    d = LogDir()
    r = run([prog("exec_told_late"), "pidns"], log_dir=d.path, options="verbosity=0")
    if r.returncode == 77:
        print("     skipped the pidns half: needs CAP_SYS_ADMIN (%s)" % r.stderr.strip())
        d.cleanup()
        return
    assert r.returncode == 0, r.stderr
    assert len(d.logs()) == 1, d.logs()
    status, report, _ = analyze(d.path, extra=("--verbose",))
    (child,) = [p for p in report["processes"] if p["ppid"] != os.getpid()]
    assert child["exe"] == "/bin/true" and child["argv"] == ["true", "pidns"], child
    assert not child["has_log"] and child["exec_chain"][-1]["stack"], child
    d.cleanup()


@test
def exec_board_survives_forks_from_signal_handlers_and_a_full_board():
    # A crash reporter forks from its SIGSEGV handler after a stack
    # overflow: the fork hook must not touch the overflowed stack.
    d = LogDir()
    r = run([prog("fork_in_signal_handlers"), "crash"], log_dir=d.path, options="verbosity=0")
    assert r.returncode == 42, (r.returncode, r.stderr)
    d.cleanup()
    # Forks from a SIGALRM handler interleaved with the main loop's: each
    # exec is told as its own child's (the child names its pid in argv).
    for attempt in range(3):
        d = LogDir()
        r = run([prog("fork_in_signal_handlers"), "interleave", "300"], log_dir=d.path,
                options="verbosity=0")
        assert r.returncode == 0, r.stderr
        status, report, _ = analyze(d.path, extra=("--verbose",))
        kids = [p for p in report["processes"] if p["ppid"] != os.getpid()]
        assert len(kids) >= 300, len(kids)
        for p in kids:
            assert p["exe"] == "/bin/true" and p["argv"][:2] in (["true", "main"], ["true", "handler"]) \
                and p["argv"][2] == str(p["pid"]), (p["pid"], p["exe"], p["argv"])
        # A handler's fork that interrupted a hook passes through
        # unrecorded: the log counts it as dropped, so the 300 forks of
        # the loop and the handler's 100 are all accounted for.
        (parent,) = [p for p in report["processes"] if p["ppid"] == os.getpid()]
        spawned = sum(1 for p in kids if p.get("spawn"))
        assert spawned + parent["dropped_events"] == 400, (spawned, parent["dropped_events"])
        d.cleanup()
    # SIGCHLD ignored: the parent never reaps, its 256 board slots stay
    # taken, and the children after them say what they ran themselves.
    r, status, report = run_and_analyze("exec_told_late", options="verbosity=0", args=("ignored",),
                                        extra=("--verbose",))
    assert r.returncode == 0, r.stderr
    kids = [p for p in report["processes"] if p["ppid"] != os.getpid()]
    assert len(kids) == 300 and all(p["exe"] == "/bin/true" for p in kids), \
        sorted(set(str(p["exe"]) for p in kids))


@test
def clone_children_get_their_own_log_and_tell_their_exec():
    # clone() without CLONE_VM copies the parent like fork() but runs no
    # atfork handler: the shim must still give the child its own log (it
    # used to write into its parent's) and a key on the exec board.
    r, status, report = run_and_analyze("clone_children", options="verbosity=0", extra=("--verbose",))
    assert r.returncode == 0, r.stderr
    procs = {p["argv"][-1] if p["argv"] else None: p for p in report["processes"]}
    parent = [p for p in report["processes"] if p["ppid"] == os.getpid()][0]
    recording, quiet = procs.get("clone-recording"), procs.get("clone-quiet")
    assert recording and quiet, [(p["pid"], p["argv"]) for p in report["processes"]]
    for child in (recording, quiet):
        assert child["ppid"] == parent["pid"] and child["exe"] == "/bin/true", child
        assert child["spawn"]["kind"] == "clone", child["spawn"]
    assert recording["has_log"] and not quiet["has_log"], (recording["logs"], quiet["logs"])
    assert not any(p["corrupt"] for p in report["processes"])
    assert sum(len(p["logs"]) for p in report["processes"]) == 2, \
        [(p["pid"], p["logs"]) for p in report["processes"]]


@test
def a_child_of_a_raw_fork_system_call_leaves_its_parents_log_alone():
    # fork by syscall(SYS_fork): no atfork handler runs, so the shim in the
    # child still holds its parent's log.  It used to write into it at the
    # same offsets as the parent (a corrupt log) and end it at its _exit.
    def parent_log(args):
        d = LogDir()
        r = run([prog("raw_fork_child")] + args, log_dir=d.path, options="verbosity=0")
        assert r.returncode == 0, r.stderr
        logs = d.logs()
        status, report, _ = analyze(d.path, extra=("--verbose",))
        d.cleanup()
        parent = [p for p in report["processes"] if p["has_log"] and not p["forked_child"]]
        assert len(parent) == 1, report["processes"]
        return logs, parent[0], report

    _, hooked, _ = parent_log(["hooked"])
    for attempt in range(3):
        logs, raw, report = parent_log([])
        assert len(logs) == 1, "the raw child writes no log: %s" % logs
        assert not raw["corrupt"] and not report["notes"], report["notes"]
        assert raw["ended"] == "exit", raw["ended"]
        assert raw["short_pool_records"] == hooked["short_pool_records"], \
            (raw["short_pool_records"], hooked["short_pool_records"])


@test
def a_fork_loop_costs_its_parent_no_page_fault_of_ours():
    # After a fork every private page of the parent is copy-on-write: a
    # page the shim wrote on the fork path (its TLS, its data) would be one
    # more page fault and copy in the parent at every spawn.  At the
    # luckiest of 16 stack alignments the parent faults as often with the
    # shim as without, give or take the log's own pages (~0.2 per spawn).
    # This is what the fork subsystem's fast path is for: it is asked for
    # here whatever the suite runs with.
    def best(preload):
        d = LogDir()
        r = run([prog("fork_parent_faults"), "40"], preload=preload, log_dir=d.path,
                options="verbosity=0:fork_fast=1" if preload else "")
        d.cleanup()
        assert r.returncode == 0, r.stderr
        return float(r.stdout.split()[1])
    without, under = best(False), best(True)
    assert under <= without + 0.5, (under, without)


@test
def the_shim_keeps_full_relro_across_forks_and_its_state_survives():
    # A library preloaded into every process keeps their hardening: the
    # shim is linked with full RELRO (BIND_NOW, a read-only GOT), and its
    # RELRO pages stay read-only across the program's forks.  What the shim
    # recorded before the forks must still be there after them: a
    # double-put whose first put came before.
    dyn = subprocess.run(["readelf", "-dlW", shim()], capture_output=True, text=True).stdout
    assert "GNU_RELRO" in dyn and "BIND_NOW" in dyn, dyn
    src = "testprogs/relro_after_fork.c"
    for args in ((), ("threaded",)):
        d = LogDir()
        r = run([prog("relro_after_fork"), *args], log_dir=d.path)
        status, report, _ = analyze(d.path)
        d.cleanup()
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "relro writable before 0 after 0", (args, r.stdout)
        (f,) = findings(report, "double-put")
        assert_frame(f["stacks"]["put"], "main", src, source_line(src, "BUG: put back twice"))
        assert_frame(f["stacks"]["first_put"], "main", src, source_line(src, "first put: recorded before"))
        assert len(report["findings"]) == 1, report["findings"]
