/*
 * guard_kinds.h — the one table of finding kinds, shared by the shim and
 * the analyzer.  Everything that lists kinds is made from it: the enum and
 * guard_finding_kind_name() (guard_log.h), the kind names of the
 * analyzer's JSON, text and JUnit reports and of suppression rules, its
 * SARIF rules, the order of its report, and its text help
 * (`guard-analyze --list-kinds`, with --format=json the whole table).
 * docs/checks.md has one section per kind, README.md names every kind:
 * tests/test_kinds.py checks both against this table, and the names
 * against the contract's list (DESIGN.md section 7) where that is at hand.
 *
 * GUARD_FINDING_KINDS(X) calls X once per kind, in the order of
 * docs/checks.md, with
 *   ID      the enum constant (enum guard_finding_kind)
 *   VALUE   its number, written in the FINDING records of every log: never
 *           change or reuse one; a new kind takes the next free number
 *   NAME    the kind's name, a fixed contract (DESIGN.md 7): JSON "kind",
 *           the SARIF ruleId, the JUnit testcase, a suppression rule's KIND
 *   RULE    the SARIF rule's name (reportingDescriptor.name)
 *   LEVEL   its severity, the SARIF level: "error" (the bug itself: memory
 *           corrupted, the process dead, a call in the wrong namespace) or
 *           "warning" (a hazard, a leak, a misuse that fails elsewhere)
 *   ANCHOR  its section of docs/checks.md (the GitHub anchor of the heading)
 *   RANK    its place in the report, 0 first: what corrupts memory or kills
 *           the process first, hazards and leaks last
 *   ORIGIN  "runtime" (the shim as the program runs, or the analyzer from
 *           the logs) or "static" (guard-analyze inspect, no run)
 *   HELP    one line: what fires
 * The analyzer's longer explanation of each kind (analyzer/model/kinds.c)
 * is keyed by ID: a kind without one does not compile.
 */
#ifndef GUARD_KINDS_H
#define GUARD_KINDS_H

#define GUARD_FINDING_KINDS(X) \
    X(GUARD_FK_USE_AFTER_RETURN,         1, "use-after-return",         "UseAfterReturn",         "error",   "use-after-return",          0, "runtime", "An object was read or written after it was put back in its pool.") \
    X(GUARD_FK_DOUBLE_PUT,               2, "double-put",               "DoublePut",              "error",   "double-put",                1, "runtime", "An object was put back while already in its pool.") \
    X(GUARD_FK_PUT_WHILE_CHILD_RUNNING,  3, "put-while-child-running",  "PutWhileChildRunning",   "warning", "put-while-child-running",   3, "runtime", "An object was put back while a child started after its get had not been reaped.") \
    X(GUARD_FK_UNREAPED_CHILD,           4, "unreaped-child",           "UnreapedChild",          "warning", "unreaped-child",           10, "runtime", "A child exited and was never waited for while its parent went on, was killed and never waited for, or is a popen stream never pclosed.") \
    X(GUARD_FK_FORK_UNSAFE_CALL,         5, "fork-unsafe-call",         "ForkUnsafeCall",         "warning", "fork-unsafe-call",          6, "runtime", "A child of a multithreaded process called a non-async-signal-safe function before exec.") \
    X(GUARD_FK_NAMESPACE_OFF_THREAD,     6, "namespace-off-thread",     "NamespaceOffThread",     "error",   "namespace-off-thread",      4, "runtime", "A namespace-sensitive call ran on a thread whose namespace is not the one set up.") \
    X(GUARD_FK_PROC_SELF_NS_MISMATCH,    7, "proc-self-ns-mismatch",    "ProcSelfNsMismatch",     "warning", "proc-self-ns-mismatch",     5, "runtime", "A thread read /proc/self/ns/* while its own namespace differed from the main thread's.") \
    X(GUARD_FK_NSS_NONREENTRANT_THREADS, 8, "nss-nonreentrant-threads", "NssNonreentrantThreads", "warning", "nss-nonreentrant-threads",  7, "runtime", "An NSS function with a static result (getpwuid, gethostbyname, ...) was called from more than one thread.") \
    X(GUARD_FK_NSS_ERANGE_NOT_RETRIED,  12, "nss-erange-not-retried",   "NssErangeNotRetried",    "warning", "nss-erange-not-retried",    8, "runtime", "A *_r lookup's ERANGE was taken for \"not found\".") \
    X(GUARD_FK_NSS_STATIC_BINARY,        9, "nss-static-binary",        "NssStaticBinary",        "warning", "nss-static-binary",        11, "static",  "(inspect) A statically linked executable contains NSS lookups and threads.") \
    X(GUARD_FK_VDSO_LOW_STACK,          10, "vdso-low-stack",           "VdsoLowStack",           "warning", "vdso-low-stack",            9, "runtime", "A time call ran with less stack than a stack-probing vDSO needs.") \
    X(GUARD_FK_CRASH,                   11, "crash",                    "FatalSignal",            "error",   "crash",                     2, "runtime", "The process died of a fatal signal.")

#endif /* GUARD_KINDS_H */
